"""Slots across the days the clocks change in America/Chicago: on the wall-clock grid, with
durations in real minutes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from clinic.models import WeekdayHours
from scheduling.models import AvailabilityTemplate
from scheduling.selectors import find_slots
from scheduling.services import booking
from tests.factories import set_weekday_hours

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
SPRING_FORWARD = dt.date(2027, 3, 14)  # 02:00 CST -> 03:00 CDT
FALL_BACK = dt.date(2027, 11, 7)  # 02:00 CDT -> 01:00 CST
MONDAY_AFTER_SPRING = dt.date(2027, 3, 15)


@pytest.fixture
def sunday_world(world):
    """Open and staffed on Sundays and Mondays, far enough ahead to reach both changes."""
    world.location.booking_horizon_days = 400
    world.location.save()
    for weekday in (6, 0):
        set_weekday_hours(world.location, weekday, WeekdayHours.Mode.OPEN, (dt.time(0), dt.time(23)))
        AvailabilityTemplate.objects.create(
            provider=world.provider, location=world.location, weekday=weekday, starts=dt.time(0), ends=dt.time(23),
            effective_from=dt.date(2026, 1, 1),
        )  # fmt: skip
    return world


def slots_on(world, day):
    start = dt.datetime.combine(day, dt.time(0), tzinfo=CHICAGO)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=CHICAGO)
    return find_slots(procedure_type=world.consult, start=start, end=end, now=NOW).slots


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK, MONDAY_AFTER_SPRING])
def test_every_slot_is_on_the_local_quarter_hour(sunday_world, day):
    slots = slots_on(sunday_world, day)
    assert slots
    assert all(slot.local.minute % 15 == 0 and slot.local.second == 0 for slot in slots)
    assert all(slot.local.date() == day for slot in slots)


def test_spring_forward_skips_the_missing_hour_and_keeps_0830(sunday_world):
    slots = slots_on(sunday_world, SPRING_FORWARD)
    wall = [slot.local.strftime("%H:%M") for slot in slots]
    assert "01:45" in wall
    assert not any(time.startswith("02:") for time in wall)  # 02:00-02:59 does not exist
    assert "03:00" in wall
    at_0830 = next(slot for slot in slots if slot.local.strftime("%H:%M") == "08:30")
    assert at_0830.starts_at.astimezone(dt.UTC).strftime("%H:%M") == "13:30"  # CDT, UTC-5


def test_fall_back_offers_0830_at_the_standard_time_offset(sunday_world):
    slots = slots_on(sunday_world, FALL_BACK)
    at_0830 = next(slot for slot in slots if slot.local.strftime("%H:%M") == "08:30")
    assert at_0830.starts_at.astimezone(dt.UTC).strftime("%H:%M") == "14:30"  # CST, UTC-6
    # The repeated 01:00-01:59 hour is offered once per wall-clock time, not twice.
    wall = [slot.local.strftime("%H:%M") for slot in slots]
    assert wall.count("01:15") == 1


def test_a_booking_across_the_spring_change_lasts_its_real_minutes(sunday_world, scheduler):
    start = dt.datetime(2027, 3, 14, 1, 30, tzinfo=CHICAGO)
    appointment = booking.appointment_book(
        actor=scheduler, patient=sunday_world.patient, procedure_type=sunday_world.consult,
        location=sunday_world.location, provider=sunday_world.provider, starts_at=start,
        referral=sunday_world.referral, now=NOW,
    )  # fmt: skip
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=45)
    assert appointment.ends_at.astimezone(CHICAGO).strftime("%H:%M") == "03:15"  # 01:30 CST + 45 min
