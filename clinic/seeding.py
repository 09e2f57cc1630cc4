"""The clinic's starting data, from shared/DOMAIN.md: the Russellville location and its
hours, room capabilities, the major holidays and the procedure types with their suggested
defaults.

Seeding only ever creates: a row that exists (found by its natural key) is left exactly as
an admin left it, so a second run changes nothing and never undoes an edit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from clinic.models import (
    FollowUpCheck,
    HolidayRule,
    Location,
    OpeningRange,
    ProcedureType,
    ReminderOffset,
    RoomCapability,
    WeekdayHours,
)
from clinic.services import closure_roll_holidays_forward

RUSSELLVILLE = {
    "slug": "russellville",
    "name": "Institute of Interventional Pain Management",
    "street": "2405 West Main Street",
    "suite": "Suite H",
    "city": "Russellville",
    "state": "AR",
    "postal_code": "72801",
    "phone": "479-967-7770",
    "fax": "479-967-7772",
    "time_zone": "America/Chicago",
}
# Monday to Thursday 08:30-16:30, Friday by appointment, weekends closed.
RUSSELLVILLE_HOURS = {
    0: ("open", [(dt.time(8, 30), dt.time(16, 30))]),
    1: ("open", [(dt.time(8, 30), dt.time(16, 30))]),
    2: ("open", [(dt.time(8, 30), dt.time(16, 30))]),
    3: ("open", [(dt.time(8, 30), dt.time(16, 30))]),
    4: ("by_appointment", []),
    5: ("closed", []),
    6: ("closed", []),
}

CAPABILITIES = {
    "exam-room": "Exam room",
    "procedure-room": "Procedure room",
    "fluoroscopy": "Fluoroscopy",
    "sedation-suite": "Sedation suite",
}

MAJOR_HOLIDAYS = [
    "New Year's Day",
    "Memorial Day",
    "Independence Day",
    "Labor Day",
    "Thanksgiving Day",
    "Christmas Day",
]

BRING = "Bring a photo ID, your insurance card and any imaging (CDs or reports) not already sent to us."
DRIVER = "You must have an adult driver take you home; you may not drive for the rest of the day."
DRIVER_IF_SEDATED = "If you choose sedation, an adult must drive you home."
BLOOD_THINNERS = (
    "If you take a blood thinner (for example warfarin, apixaban, rivaroxaban, clopidogrel), tell us: "
    "we will agree a plan with the doctor who prescribes it. Do not stop it on your own."
)
FASTING_8 = "Nothing to eat or drink for 8 hours before your procedure."
LIGHT_MEAL = "You may eat a light meal up to 2 hours before."


def _prep(*parts: str) -> str:
    return "\n".join(parts)


@dataclass(frozen=True)
class ProcedureDefault:
    slug: str
    name: str
    kind: str
    minutes: int
    turnover: int
    capabilities: tuple[str, ...]
    sedation: str = "none"
    driver: str = "not_needed"
    fasting_hours: int | None = None
    preparation: str = ""
    follow_ups: tuple[tuple[int, str, str], ...] = ()  # (after, unit, purpose)
    requires_imaging: bool = False
    requires_prior_authorization: bool = False
    color: str = "#0d6efd"
    extra: dict = field(default_factory=dict)


FLUORO = ("fluoroscopy",)
SURGICAL = ("fluoroscopy", "sedation-suite")

# Turnover: 10 minutes after an exam-room visit or office injection, 15 after a fluoroscopy
# procedure, 30 after a procedure in the sedation suite.
PROCEDURES: list[ProcedureDefault] = [
    ProcedureDefault(
        "new-patient-consultation",
        "New-patient consultation",
        "visit",
        45,
        10,
        ("exam-room",),
        preparation=_prep("Please arrive 15 minutes early to complete forms.", BRING),
        color="#6c757d",
    ),
    ProcedureDefault(
        "follow-up-visit", "Follow-up visit", "visit", 20, 10, ("exam-room",), preparation=BRING, color="#adb5bd"
    ),
    ProcedureDefault(
        "trigger-point-injections",
        "Trigger point injections",
        "therapeutic",
        15,
        10,
        ("procedure-room",),
        preparation=_prep(BLOOD_THINNERS, BRING),
        follow_ups=((14, "days", "relief check"),),
        color="#20c997",
    ),
    ProcedureDefault(
        "epidural-steroid-injection",
        "Epidural steroid injection",
        "therapeutic",
        30,
        15,
        FLUORO,
        sedation="optional",
        driver="if_sedated",
        preparation=_prep(DRIVER_IF_SEDATED, BLOOD_THINNERS, LIGHT_MEAL, BRING),
        follow_ups=((14, "days", "relief check"),),
        requires_imaging=True,
        requires_prior_authorization=True,
        color="#0d6efd",
    ),
    ProcedureDefault(
        "medial-branch-block",
        "Medial branch block",
        "diagnostic",
        30,
        15,
        FLUORO,
        preparation=_prep(
            "No sedation: it would spoil the test. Keep a pain diary for the 6 hours "
            "after the block; we will ask you for it.",
            BLOOD_THINNERS,
            BRING,
        ),
        follow_ups=((6, "hours", "pain diary"),),
        requires_imaging=True,
        color="#6610f2",
    ),
    ProcedureDefault(
        "facet-joint-injection",
        "Facet joint injection",
        "diagnostic_therapeutic",
        30,
        15,
        FLUORO,
        sedation="optional",
        driver="if_sedated",
        preparation=_prep(DRIVER_IF_SEDATED, BLOOD_THINNERS, BRING),
        follow_ups=((14, "days", "relief check"),),
        requires_imaging=True,
        color="#6f42c1",
    ),
    ProcedureDefault(
        "radiofrequency-ablation",
        "Radiofrequency ablation",
        "therapeutic",
        60,
        15,
        FLUORO,
        sedation="required",
        driver="required",
        preparation=_prep("Light sedation is used.", DRIVER, BLOOD_THINNERS, LIGHT_MEAL, BRING),
        follow_ups=((28, "days", "relief check"),),
        requires_imaging=True,
        requires_prior_authorization=True,
        color="#d63384",
    ),
    ProcedureDefault(
        "sacroiliac-joint-injection",
        "Sacroiliac joint injection",
        "diagnostic_therapeutic",
        30,
        15,
        FLUORO,
        sedation="optional",
        driver="if_sedated",
        preparation=_prep(DRIVER_IF_SEDATED, BLOOD_THINNERS, BRING),
        follow_ups=((14, "days", "relief check"),),
        color="#dc3545",
    ),
    ProcedureDefault(
        "joint-and-bursa-injection",
        "Joint and bursa injection",
        "therapeutic",
        15,
        10,
        ("procedure-room",),
        preparation=_prep(BLOOD_THINNERS, BRING),
        follow_ups=((14, "days", "relief check"),),
        color="#fd7e14",
    ),
    ProcedureDefault(
        "nerve-block",
        "Nerve block",
        "diagnostic_therapeutic",
        30,
        15,
        FLUORO,
        sedation="optional",
        driver="if_sedated",
        preparation=_prep(DRIVER_IF_SEDATED, BLOOD_THINNERS, BRING),
        follow_ups=((14, "days", "relief check"),),
        color="#ffc107",
    ),
    ProcedureDefault(
        "sympathetic-plexus-block",
        "Sympathetic plexus block",
        "diagnostic_therapeutic",
        45,
        15,
        FLUORO,
        sedation="optional",
        driver="if_sedated",
        preparation=_prep(DRIVER_IF_SEDATED, BLOOD_THINNERS, BRING),
        follow_ups=((14, "days", "relief check"),),
        color="#198754",
    ),
]

_SURGICAL_PREP = _prep("Sedation is used.", DRIVER, FASTING_8, BLOOD_THINNERS, BRING)


def _surgical(slug: str, name: str, minutes: int, follow_ups, color: str) -> ProcedureDefault:
    return ProcedureDefault(
        slug,
        name,
        "surgical",
        minutes,
        30,
        SURGICAL,
        sedation="required",
        driver="required",
        fasting_hours=8,
        preparation=_SURGICAL_PREP,
        follow_ups=follow_ups,
        requires_imaging=True,
        requires_prior_authorization=True,
        color=color,
    )


PROCEDURES += [
    # Kyphoplasty and vertebroplasty are booked differently (balloon or not): one type each.
    _surgical("kyphoplasty", "Kyphoplasty", 90, ((7, "days", "wound and pain check"), (28, "days", "outcome")), "#0dcaf0"),
    _surgical("vertebroplasty", "Vertebroplasty", 90, ((7, "days", "wound and pain check"), (28, "days", "outcome")),
              "#31d2f2"),
    # Stimulator trials: one type each for spinal cord and peripheral nerve, trial end at 7 days.
    _surgical("spinal-cord-stimulator-trial", "Spinal cord stimulator trial", 60, ((7, "days", "trial end"),), "#146c43"),
    _surgical("peripheral-nerve-stimulator-trial", "Peripheral nerve stimulator trial", 60, ((7, "days", "trial end"),),
              "#479f76"),
    _surgical("sacroiliac-joint-fusion", "Sacroiliac joint fusion", 120, ((14, "days", "wound check"), (90, "days", "outcome")), "#842029"),
    _surgical("mild-procedure", "MILD procedure", 90, ((14, "days", "wound check"), (90, "days", "outcome")), "#997404"),
    _surgical("superion-vertiflex", "Superion (Vertiflex)", 90, ((14, "days", "wound check"), (90, "days", "outcome")), "#664d03"),
    _surgical("stabilink-mis-implant", "StabiLink MIS implant", 120, ((14, "days", "wound check"), (90, "days", "outcome")), "#3d0a91"),
    _surgical("percutaneous-discectomy", "Percutaneous discectomy", 60, ((14, "days", "wound check"), (90, "days", "outcome")), "#520dc2"),
    _surgical("pirft", "PIRFT", 60, ((14, "days", "wound check"), (90, "days", "outcome")), "#a52834"),
    _surgical("sinuvertebral-nerve-ablation", "Sinuvertebral nerve ablation", 60, ((14, "days", "wound check"), (90, "days", "outcome")), "#ab296a"),
]  # fmt: skip


def _epidural(slug: str, name: str, color: str) -> ProcedureDefault:
    """An epidural by approach: the same preparation, checks and needs; levels differ (SITES)."""
    return ProcedureDefault(
        slug,
        name,
        "therapeutic",
        30,
        15,
        FLUORO,
        sedation="optional",
        driver="if_sedated",
        preparation=_prep(DRIVER_IF_SEDATED, BLOOD_THINNERS, LIGHT_MEAL, BRING),
        follow_ups=((14, "days", "relief check"), (90, "days", "how long relief lasted")),
        requires_imaging=True,
        requires_prior_authorization=True,
        color=color,
    )


PROCEDURES += [
    _epidural("interlaminar-epidural-steroid-injection", "Interlaminar epidural steroid injection", "#3d8bfd"),
    _epidural("transforaminal-epidural-steroid-injection", "Transforaminal epidural steroid injection", "#0a58ca"),
    ProcedureDefault(
        "sacroiliac-joint-diagnostic-injection",
        "Diagnostic sacroiliac joint injection",
        "diagnostic",
        30,
        15,
        FLUORO,
        preparation=_prep(
            "No sedation: it would spoil the test. Note how much your pain eases in the hours after.",
            BLOOD_THINNERS,
            BRING,
        ),
        follow_ups=((6, "hours", "pain diary"),),
        requires_imaging=True,
        color="#b02a37",
    ),
    _surgical("spinal-cord-stimulator-implant", "Spinal cord stimulator implant", 120,
              ((14, "days", "wound check"), (90, "days", "outcome")), "#0f5132"),
]  # fmt: skip

# Where on the body each procedure is done (``ProcedureType.site_required``), and how many
# spinal levels one session may cover (``max_levels``; None: no limit). Defaults from the
# coverage rules (shared/DOMAIN.md): transforaminal ESI at most 2 levels, interlaminar 1,
# facet / MBB / RFA 1-2 levels per region.
SITES: dict[str, int | None] = {
    "epidural-steroid-injection": 2,
    "interlaminar-epidural-steroid-injection": 1,
    "transforaminal-epidural-steroid-injection": 2,
    "medial-branch-block": 2,
    "facet-joint-injection": 2,
    "radiofrequency-ablation": 2,
    "sacroiliac-joint-injection": None,
    "sacroiliac-joint-diagnostic-injection": None,
    "sacroiliac-joint-fusion": None,
    "joint-and-bursa-injection": None,
    "nerve-block": None,
    "sympathetic-plexus-block": None,
    "kyphoplasty": 3,
    "vertebroplasty": 3,
    "spinal-cord-stimulator-trial": None,
    "spinal-cord-stimulator-implant": None,
    "peripheral-nerve-stimulator-trial": None,
    "mild-procedure": 2,
    "superion-vertiflex": 2,
    "stabilink-mis-implant": 2,
    "percutaneous-discectomy": 1,
    "pirft": None,
    "sinuvertebral-nerve-ablation": 2,
}


# Reminder e-mails before every appointment (default): 3 days before with the preparation
# (driver, fasting, blood-thinner plan, what to bring), and 1 day before.
DEFAULT_REMINDERS = ((3, True), (1, False))


def seed_clinic_reference_data() -> dict[str, int]:
    """Create what is missing of the clinic's starting data; returns counts created."""
    created = {"locations": 0, "weekday hours": 0, "capabilities": 0, "holiday rules": 0, "procedure types": 0}
    location, made = Location.objects.get_or_create(slug=RUSSELLVILLE["slug"], defaults=RUSSELLVILLE)
    created["locations"] += made
    created["weekday hours"] += seed_weekday_hours(location, RUSSELLVILLE_HOURS)
    capabilities = {}
    for slug, name in CAPABILITIES.items():
        capabilities[slug], made = RoomCapability.objects.get_or_create(slug=slug, defaults={"name": name})
        created["capabilities"] += made
    for name in MAJOR_HOLIDAYS:
        created["holiday rules"] += HolidayRule.objects.get_or_create(name=name)[1]
    for default in PROCEDURES:
        created["procedure types"] += seed_procedure_type(default, capabilities, [location])
    created["holiday closures"] = len(closure_roll_holidays_forward())
    return created


def seed_weekday_hours(location: Location, plan: dict[int, tuple[str, list]]) -> int:
    """Create hours for weekdays the location has none for; never touch existing ones."""
    existing = set(location.weekday_hours.values_list("weekday", flat=True))
    made = 0
    for weekday, (mode, ranges) in plan.items():
        if weekday in existing:
            continue
        day = WeekdayHours.objects.create(location=location, weekday=weekday, mode=mode)
        OpeningRange.objects.bulk_create(OpeningRange(day=day, opens=o, closes=c) for o, c in ranges)
        made += 1
    return made


def seed_procedure_type(default: ProcedureDefault, capabilities: dict, locations: list[Location]) -> bool:
    if ProcedureType.objects.filter(slug=default.slug).exists():
        return False
    procedure = ProcedureType.objects.create(
        slug=default.slug,
        name=default.name,
        kind=default.kind,
        duration_minutes=default.minutes,
        turnover_minutes=default.turnover,
        sedation=default.sedation,
        driver=default.driver,
        fasting_hours=default.fasting_hours,
        preparation=default.preparation,
        requires_imaging=default.requires_imaging,
        requires_prior_authorization=default.requires_prior_authorization,
        color=default.color,
        site_required=default.slug in SITES,
        max_levels=SITES.get(default.slug),
    )
    procedure.required_capabilities.set([capabilities[slug] for slug in default.capabilities])
    procedure.locations.set(locations)
    FollowUpCheck.objects.bulk_create(
        FollowUpCheck(procedure_type=procedure, after=after, unit=unit, purpose=purpose)
        for after, unit, purpose in default.follow_ups
    )
    ReminderOffset.objects.bulk_create(
        ReminderOffset(procedure_type=procedure, days_before=days, include_preparation=prep)
        for days, prep in DEFAULT_REMINDERS
    )
    return True
