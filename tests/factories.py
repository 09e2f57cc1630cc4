"""factory_boy factories for the clinic's object graph. Tests pass explicit values for the
fields under test; the defaults only make a valid row."""

from __future__ import annotations

import datetime as dt

import factory

from clinic.models import (
    Closure,
    Location,
    OpeningRange,
    ProcedureType,
    Provider,
    Room,
    RoomCapability,
    User,
    WeekdayHours,
)
from clinic.roles import Role
from clinic.services import user_grant_role
from clinic.validators import luhn_check_digit


def make_npi(n: int) -> str:
    """A valid NPI built from a serial number (check digit included)."""
    base = f"1{n:08d}"
    return base + str(luhn_check_digit("80840" + base))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@clinic.example")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def role(user, create, extracted: Role | None, **kwargs):
        if create and extracted is not None:
            user_grant_role(user=user, role=extracted)
        if create:
            user.save()


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Location {n}")
    slug = factory.Sequence(lambda n: f"location-{n}")
    street = "2405 West Main Street"
    suite = "Suite H"
    city = "Russellville"
    state = "AR"
    postal_code = "72801"
    phone = "479-967-7770"
    fax = "479-967-7772"
    time_zone = "America/Chicago"


def set_weekday_hours(location: Location, weekday: int, mode: str, *ranges: tuple[dt.time, dt.time]) -> WeekdayHours:
    """Give a location's weekday a mode and (for open days) its ranges."""
    day, _ = WeekdayHours.objects.update_or_create(location=location, weekday=weekday, defaults={"mode": mode})
    day.ranges.all().delete()
    for opens, closes in ranges:
        OpeningRange.objects.create(day=day, opens=opens, closes=closes)
    return day


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    display_name = factory.Sequence(lambda n: f"Dr. Provider {n}")
    credentials = "MD"
    npi = factory.Sequence(make_npi)

    @factory.post_generation
    def locations(provider, create, extracted, **kwargs):
        if create and extracted:
            provider.locations.set(extracted)


class RoomCapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomCapability
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Capability {n}")
    slug = factory.Sequence(lambda n: f"capability-{n}")


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        skip_postgeneration_save = True

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Room {n}")

    @factory.post_generation
    def capabilities(room, create, extracted, **kwargs):
        if create and extracted:
            room.capabilities.set(extracted)


class ProcedureTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcedureType
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Procedure {n}")
    slug = factory.Sequence(lambda n: f"procedure-{n}")
    kind = ProcedureType.Kind.THERAPEUTIC
    duration_minutes = 30
    turnover_minutes = 0

    @factory.post_generation
    def locations(procedure_type, create, extracted, **kwargs):
        if create and extracted:
            procedure_type.locations.set(extracted)

    @factory.post_generation
    def required_capabilities(procedure_type, create, extracted, **kwargs):
        if create and extracted:
            procedure_type.required_capabilities.set(extracted)


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    start_date = dt.date(2026, 12, 1)
    end_date = factory.SelfAttribute("start_date")
    reason = "Staff training"
    kind = Closure.Kind.CLOSURE


# --- Referrals -------------------------------------------------------------------------


class ReferringPracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referrals.ReferringPractice"

    name = factory.Sequence(lambda n: f"Practice {n} Family Medicine")
    city = "Dardanelle"
    state = "AR"
    phone = "+14792290000"


class ReferringPhysicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referrals.ReferringPhysician"

    practice = factory.SubFactory(ReferringPracticeFactory)
    first_name = "Morgan"
    last_name = factory.Sequence(lambda n: f"Referrer{n}")
    credentials = "MD"
    npi = factory.Sequence(lambda n: make_npi(50_000_000 + n))
    specialty = "Family medicine"
    email = factory.Sequence(lambda n: f"referrer{n}@practice.example")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referrals.Patient"

    record_number = factory.Sequence(lambda n: f"P{n + 1000000:07d}")
    first_name = "Jordan"
    last_name = factory.Sequence(lambda n: f"Patient{n}")
    date_of_birth = dt.date(1961, 4, 12)
    sex = "female"
    phone = "+14795550100"
    email = factory.Sequence(lambda n: f"patient{n}@mail.example")
    email_consent = True


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referrals.Referral"

    patient = factory.SubFactory(PatientFactory)
    referring_physician = factory.SubFactory(ReferringPhysicianFactory)
    received_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC))
    review_due_at = factory.LazyAttribute(lambda o: o.received_at + dt.timedelta(days=3))
    source = "portal"
    reason = "Mid-back pain for 6 months, worse when turning."
    urgency = "routine"


def clinic_repeat_rules(procedure_type, *, min_days: int | None = None, max_count: int | None = None) -> list:
    """Coverage rules like the migrated clinic policy (what a type's repeat fields were):
    at least ``min_days`` calendar days apart, at most ``max_count`` in 12 months, each region
    on its own."""
    from conditions.models import CoverageRule

    made = []
    NAMES = {"interval": "spacing", "yearly": "yearly maximum"}  # noqa: N806
    for suffix, kind, fields in (
        ("interval", CoverageRule.Kind.MIN_INTERVAL, {"min_days": min_days}),
        ("yearly", CoverageRule.Kind.MAX_SESSIONS, {"max_count": max_count}),
    ):
        if not next(iter(fields.values())):
            continue
        what = f"at least {min_days} days apart" if suffix == "interval" else f"at most {max_count} in 12 months"
        rule = CoverageRule.objects.create(
            topic=f"clinic-{procedure_type.slug}-{suffix}", name=f"{procedure_type.name} {NAMES[suffix]}", kind=kind,
            region_grouping="each", text=f"Clinic policy (was the procedure type's repeat policy): {what}.", **fields,
        )  # fmt: skip
        rule.procedure_types.add(procedure_type)
        made.append(rule)
    return made


class ProcedureOrderFactory(factory.django.DjangoModelFactory):
    """An open order, as a provider's ``order_create`` leaves it (site fields as stored)."""

    class Meta:
        model = "scheduling.ProcedureOrder"

    patient = factory.SubFactory(PatientFactory)
    procedure_type = factory.SubFactory(ProcedureTypeFactory)
    ordered_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC))
    status = "open"
