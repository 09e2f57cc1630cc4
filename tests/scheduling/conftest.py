"""A small, explicit calendar world for scheduling tests: Russellville open Mon-Thu
08:30-16:30 and by appointment on Fridays, one fluoroscopy suite and one exam room, one
provider working Mon-Thu, an epidural and a consultation, a referred patient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from clinic.models import Location, ProcedureType, Provider, Room, WeekdayHours
from referrals.models import Patient, Referral
from scheduling.models import AvailabilityTemplate
from tests.factories import (
    LocationFactory,
    PatientFactory,
    ProcedureTypeFactory,
    ProviderFactory,
    ReferralFactory,
    RoomCapabilityFactory,
    RoomFactory,
    clinic_repeat_rules,
    set_weekday_hours,
)

OPENS, CLOSES = dt.time(8, 30), dt.time(16, 30)


@dataclass
class World:
    location: Location
    fluoro: Room
    exam: Room
    provider: Provider
    epidural: ProcedureType
    consult: ProcedureType
    patient: Patient
    referral: Referral


def make_location(slug: str = "russellville", name: str = "Russellville") -> Location:
    location = LocationFactory(name=name, slug=slug, minimum_notice_hours=24, booking_horizon_days=120)
    for weekday in range(4):
        set_weekday_hours(location, weekday, WeekdayHours.Mode.OPEN, (OPENS, CLOSES))
    set_weekday_hours(location, 4, WeekdayHours.Mode.BY_APPOINTMENT)
    set_weekday_hours(location, 5, WeekdayHours.Mode.CLOSED)
    set_weekday_hours(location, 6, WeekdayHours.Mode.CLOSED)
    return location


def give_template(provider: Provider, location: Location, weekdays=range(4), starts=OPENS, ends=CLOSES) -> None:
    for weekday in weekdays:
        AvailabilityTemplate.objects.create(
            provider=provider, location=location, weekday=weekday, starts=starts, ends=ends,
            effective_from=dt.date(2026, 1, 1),
        )  # fmt: skip


@pytest.fixture
def world(db) -> World:
    location = make_location()
    fluoroscopy = RoomCapabilityFactory(name="Fluoroscopy", slug="fluoroscopy")
    exam_room = RoomCapabilityFactory(name="Exam room", slug="exam-room")
    fluoro = RoomFactory(location=location, name="Fluoro suite", capabilities=[fluoroscopy])
    exam = RoomFactory(location=location, name="Exam 1", capabilities=[exam_room])
    provider = ProviderFactory(display_name="Dr. Priya Patel", locations=[location])
    give_template(provider, location)
    epidural = ProcedureTypeFactory(
        name="Epidural steroid injection", slug="epidural", duration_minutes=30, turnover_minutes=15,
        locations=[location], required_capabilities=[fluoroscopy],
    )  # fmt: skip
    clinic_repeat_rules(epidural, min_days=21, max_count=4)
    consult = ProcedureTypeFactory(
        name="New-patient consultation", slug="consult", kind="visit", duration_minutes=45,
        locations=[location], required_capabilities=[exam_room],
    )  # fmt: skip
    patient = PatientFactory(first_name="Jordan", last_name="Reyes")
    referral = ReferralFactory(patient=patient, status="accepted", first_visit=consult)
    return World(location, fluoro, exam, provider, epidural, consult, patient, referral)


def local(location: Location, *args) -> dt.datetime:
    """An aware datetime on the location's wall clock."""
    return dt.datetime(*args, tzinfo=location.zone)
