"""A believable demo world for `make run`: more locations and rooms, providers with weekly
hours, referring practices, a few referrals in flight, and one login per role.

It lives in scheduling, the top layer, because it touches every app. Idempotent: rows are
found by natural keys and only created when missing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clinic.models import Location, ProcedureType, Provider, Room, RoomCapability, User
from clinic.roles import Role
from clinic.seeding import seed_weekday_hours
from clinic.services import user_grant_role
from clinic.validators import luhn_check_digit
from conditions.models import Condition
from referrals.models import Referral, ReferringPhysician, ReferringPractice
from referrals.services import referral_accept, referral_create, referral_request_information, referral_start_review
from scheduling.models import AvailabilityTemplate

# Documented in README.md: keep the two in step.
DEMO_LOGINS = [
    (Role.CLINIC_ADMIN, "admin@clinic.example", "Admin-demo-2026!", "Ada", "Admin"),
    (Role.INTAKE, "intake@clinic.example", "Intake-demo-2026!", "Ivy", "Intake"),
    (Role.SCHEDULER, "scheduler@clinic.example", "Scheduler-demo-2026!", "Sam", "Scheduler"),
    (Role.PROVIDER, "dr.patel@clinic.example", "Provider-demo-2026!", "Priya", "Patel"),
    (Role.REFERRER, "dr.nguyen@riverbend.example", "Referrer-demo-2026!", "Lan", "Nguyen"),
]

SURGERY_CENTER = {
    "slug": "river-valley-surgery-center", "name": "River Valley Surgery Center", "street": "3100 West Main Street",
    "city": "Russellville", "state": "AR", "postal_code": "72801", "phone": "479-967-7800",
    "time_zone": "America/Chicago",
}  # fmt: skip
HOSPITAL_SUITE = {
    "slug": "st-marys-outpatient", "name": "St. Mary's Outpatient Procedure Suite", "street": "1808 West Main Street",
    "suite": "Level 2", "city": "Russellville", "state": "AR", "postal_code": "72801", "phone": "479-968-2841",
    "time_zone": "America/Chicago",
}  # fmt: skip

WEEKDAYS_0700_1500 = {d: ("open", [(dt.time(7), dt.time(15))]) for d in range(5)} | {
    5: ("closed", []),
    6: ("closed", []),
}
TUE_THU_MORNINGS = {d: ("closed", []) for d in range(7)} | {
    1: ("open", [(dt.time(8), dt.time(12))]),
    3: ("open", [(dt.time(8), dt.time(12))]),
}

ROOMS = {
    "russellville": [
        ("Exam 1", ["exam-room"]),
        ("Exam 2", ["exam-room"]),
        ("Procedure room", ["procedure-room"]),
        ("Fluoroscopy suite", ["fluoroscopy"]),
    ],
    "river-valley-surgery-center": [("OR 1", ["fluoroscopy", "sedation-suite"]), ("Fluoro 2", ["fluoroscopy"])],
    "st-marys-outpatient": [("Fluoro suite", ["fluoroscopy"])],
}

# (display name, credentials, NPI serial, login e-mail or None, [(location slug, weekdays, starts, ends)])
PROVIDERS = [
    ("Dr. Priya Patel", "MD", 1, "dr.patel@clinic.example",
     [("russellville", range(4), dt.time(8, 30), dt.time(16, 30))]),
    ("Dr. Marcus Hale", "DO", 2, None,
     [("russellville", (0, 2), dt.time(8, 30), dt.time(16, 30)), ("st-marys-outpatient", (1, 3), dt.time(8), dt.time(12))]),
    ("Dr. Elena Ruiz", "MD", 3, None,
     [("river-valley-surgery-center", range(5), dt.time(7), dt.time(15)),
      ("russellville", (1,), dt.time(8, 30), dt.time(16, 30))]),
]  # fmt: skip

PRACTICES = [
    ("Riverbend Family Medicine", "Dardanelle", "+14792291000", [("Lan", "Nguyen", 11, "dr.nguyen@riverbend.example")]),
    ("Hillside Orthopedics", "Clarksville", "+14797545000", [("Chidi", "Okafor", 12, "okafor@hillside.example")]),
]


def npi(serial: int) -> str:
    base = f"1{serial:08d}"
    return base + str(luhn_check_digit("80840" + base))


class Command(BaseCommand):
    help = "Add a demo world (locations, rooms, providers, practices, referrals, one login per role). Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        call_command("seed_clinic", stdout=self.stdout)
        users = self.seed_users()
        locations = self.seed_locations()
        self.seed_providers(locations)
        physicians = self.seed_practices(users)
        self.seed_referrals(physicians, users)
        self.print_logins()

    def seed_users(self) -> dict[str, User]:
        users = {}
        for role, email, password, first, last in DEMO_LOGINS:
            user, created = User.objects.get_or_create(email=email, defaults={"first_name": first, "last_name": last})
            if created:
                user.set_password(password)
                user.save()
                user_grant_role(user=user, role=role)
            users[email] = user
        return users

    def seed_locations(self) -> dict[str, Location]:
        surgery, _ = Location.objects.get_or_create(slug=SURGERY_CENTER["slug"], defaults=SURGERY_CENTER)
        hospital, _ = Location.objects.get_or_create(slug=HOSPITAL_SUITE["slug"], defaults=HOSPITAL_SUITE)
        seed_weekday_hours(surgery, WEEKDAYS_0700_1500)
        seed_weekday_hours(hospital, TUE_THU_MORNINGS)
        locations = {loc.slug: loc for loc in Location.objects.filter(slug__in=ROOMS)}
        capabilities = {c.slug: c for c in RoomCapability.objects.all()}
        for slug, rooms in ROOMS.items():
            for name, needs in rooms:
                room, created = Room.objects.get_or_create(location=locations[slug], name=name)
                if created:
                    room.capabilities.set([capabilities[n] for n in needs])
        # The surgery centre hosts the surgical procedures; the hospital suite the fluoroscopy ones.
        for procedure in ProcedureType.objects.filter(kind=ProcedureType.Kind.SURGICAL):
            procedure.locations.add(surgery)
        for procedure in ProcedureType.objects.filter(required_capabilities__slug="fluoroscopy").exclude(
            kind=ProcedureType.Kind.SURGICAL
        ):
            procedure.locations.add(hospital)
        return locations

    def seed_providers(self, locations: dict[str, Location]) -> None:
        for name, credentials, serial, email, hours in PROVIDERS:
            provider, created = Provider.objects.get_or_create(
                npi=npi(serial), defaults={"display_name": name, "credentials": credentials}
            )
            if not created:
                continue
            if email:
                provider.user = User.objects.get(email=email)
                provider.save(update_fields=["user"])
            provider.locations.set([locations[slug] for slug, *_ in hours])
            for slug, weekdays, starts, ends in hours:
                for weekday in weekdays:
                    AvailabilityTemplate.objects.create(
                        provider=provider, location=locations[slug], weekday=weekday, starts=starts, ends=ends,
                        effective_from=timezone.localdate().replace(month=1, day=1),
                    )  # fmt: skip

    def seed_practices(self, users: dict[str, User]) -> list[ReferringPhysician]:
        physicians = []
        for practice_name, city, phone, doctors in PRACTICES:
            practice, _ = ReferringPractice.objects.get_or_create(
                name=practice_name, defaults={"city": city, "state": "AR", "phone": phone}
            )
            for first, last, serial, email in doctors:
                physician, _ = ReferringPhysician.objects.get_or_create(
                    npi=npi(serial),
                    defaults={"practice": practice, "first_name": first, "last_name": last, "credentials": "MD",
                              "email": email, "specialty": "Family medicine", "user": users.get(email)},
                )  # fmt: skip
                physicians.append(physician)
        return physicians

    def seed_referrals(self, physicians: list[ReferringPhysician], users: dict[str, User]) -> None:
        if Referral.objects.filter(referring_physician__in=physicians).exists():
            return
        intake = users["intake@clinic.example"]
        mid_back = Condition.objects.filter(slug="mid-back-pain").first()
        fracture = Condition.objects.filter(slug="compression-fractures").first()
        esi = ProcedureType.objects.filter(slug="epidural-steroid-injection").first()
        kypho = ProcedureType.objects.filter(slug="kyphoplasty").first()
        consult = ProcedureType.objects.filter(slug="new-patient-consultation").first()
        cases = [
            ("Margaret", "Holloway", dt.date(1948, 3, 2), "female", "urgent", fracture, kypho, ["M80.08XA"],
             "Sudden mid-back pain after lifting; T12 compression fracture on X-ray.", "submitted"),
            ("Daniel", "Price", dt.date(1966, 9, 14), "male", "routine", mid_back, esi, ["M54.6", "M51.24"],
             "Band-like thoracic pain for 4 months, worse with coughing; MRI shows T8-9 disc.", "accepted"),
            ("Rosa", "Delgado", dt.date(1971, 1, 30), "female", "routine", mid_back, None, ["M47.814"],
             "Deep gnawing mid-back pain, worst turning the head; thoracic X-ray shows facet arthropathy.",
             "needs_information"),
        ]  # fmt: skip
        for first, last, dob, sex, urgency, condition, procedure, codes, reason, target in cases:
            physician = physicians[0]
            referral, _ = referral_create(
                actor=physician.user or intake, physician=physician, source="portal",
                fields={"reason": reason, "urgency": urgency, "suspected_condition": condition,
                        "requested_procedure": procedure, "anticoagulant": "none"},
                patient_fields={"first_name": first, "last_name": last, "date_of_birth": dob, "sex": sex,
                                "phone": "+14795550123", "email": f"{first.lower()}.{last.lower()}@mail.example",
                                "email_consent": True, "preferred_contact": "email", "insurance_payer": "Medicare"},
                diagnosis_codes=codes,
            )  # fmt: skip
            if target in ("accepted", "needs_information"):
                referral_start_review(referral=referral, actor=intake)
            if target == "accepted":
                referral_accept(referral=referral, actor=intake, first_visit=consult)
            if target == "needs_information":
                referral_request_information(
                    referral=referral, actor=intake, request_text="Please send the thoracic X-ray report."
                )

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins (also in README.md):"))
        for role, email, password, *_ in DEMO_LOGINS:
            self.stdout.write(f"  {role.spec.group:<20} {email:<30} {password}")
        self.stdout.write(f"Mail is written to {settings.EMAIL_FILE_PATH if not settings.EMAIL_HOST else 'SMTP'}.")
