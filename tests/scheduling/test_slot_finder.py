"""The slot finder: hours, grid, closures, by-appointment days, rooms, overlaps, repeat policy."""

import datetime as dt

import pytest
import time_machine

from clinic.models import Closure, HolidayRule
from clinic.services import closure_roll_holidays_forward
from scheduling.models import ExtraAvailability, TimeOff
from scheduling.selectors import find_slots
from tests.factories import ClosureFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville


def day_slots(world, day: dt.date, procedure=None, **kwargs):
    start = dt.datetime.combine(day, dt.time(0), tzinfo=world.location.zone)
    result = find_slots(
        procedure_type=procedure or world.epidural, start=start, end=start + dt.timedelta(days=1), now=NOW, **kwargs
    )
    return [slot.local.strftime("%H:%M") for slot in result.slots]


def test_slots_fall_on_the_grid_inside_hours_with_the_whole_procedure_inside(world):
    times = day_slots(world, dt.date(2026, 12, 1))
    assert times[0] == "08:30"
    assert times[1] == "08:45"
    # 30 minutes of procedure plus 15 of turnover must fit the provider's day ending 16:30.
    assert times[-1] == "15:45"
    assert len(times) == 30


def test_minimum_notice_hides_tomorrow_morning(world):
    # Now is Monday 08:00; 24 hours of notice opens Tuesday from 08:00, so 08:30 is fine.
    assert day_slots(world, dt.date(2026, 11, 24))[0] == "08:30"
    late_now = NOW + dt.timedelta(hours=3)  # 11:00 Monday
    start = dt.datetime(2026, 11, 24, tzinfo=world.location.zone)
    result = find_slots(procedure_type=world.epidural, start=start, end=start + dt.timedelta(days=1), now=late_now)
    assert result.slots[0].local.strftime("%H:%M") == "11:00"


def test_no_slots_on_weekends_or_by_appointment_fridays_without_availability(world):
    assert day_slots(world, dt.date(2026, 12, 4)) == []  # Friday, by appointment
    assert day_slots(world, dt.date(2026, 12, 5)) == []  # Saturday


def test_a_provider_opening_a_by_appointment_friday_makes_slots(world):
    ExtraAvailability.objects.create(
        provider=world.provider, location=world.location, date=dt.date(2026, 12, 4),
        starts=dt.time(9), ends=dt.time(11),
    )  # fmt: skip
    assert day_slots(world, dt.date(2026, 12, 4)) == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15"]


@time_machine.travel(NOW, tick=False)
def test_no_slots_on_thanksgiving_and_observed_independence_day_until_the_holiday_is_removed(world):
    HolidayRule.objects.create(name="Thanksgiving Day")
    HolidayRule.objects.create(name="Independence Day")
    closure_roll_holidays_forward()
    assert day_slots(world, dt.date(2026, 11, 26)) == []
    # 4 July 2027 is a Sunday: observed Monday 5 July.
    assert day_slots(world, dt.date(2027, 7, 5), procedure=world.epidural) == []
    Closure.objects.filter(reason="Thanksgiving Day", start_date=dt.date(2026, 11, 26)).update(is_active=False)
    assert day_slots(world, dt.date(2026, 11, 26))[0] == "08:30"


def test_a_closure_for_another_location_does_not_close_this_one(world):
    from tests.scheduling.conftest import make_location

    other = make_location(slug="other", name="Other site")
    ClosureFactory(location=other, start_date=dt.date(2026, 12, 1), reason="Flooding")
    assert day_slots(world, dt.date(2026, 12, 1))[0] == "08:30"
    ClosureFactory(location=None, start_date=dt.date(2026, 12, 1), reason="Ice storm")
    assert day_slots(world, dt.date(2026, 12, 1)) == []


def test_time_off_and_existing_bookings_remove_overlapping_slots_turnover_included(world):
    from scheduling.models import Appointment

    TimeOff.objects.create(
        provider=world.provider,
        starts_at=local(world.location, 2026, 12, 1, 12),
        ends_at=local(world.location, 2026, 12, 1, 13),
    )  # fmt: skip
    start = local(world.location, 2026, 12, 1, 9)
    Appointment.objects.create(
        patient=world.patient, procedure_type=world.epidural, provider=world.provider, room=world.fluoro,
        location=world.location, starts_at=start, ends_at=start + dt.timedelta(minutes=30),
        blocks_until=start + dt.timedelta(minutes=45),
    )  # fmt: skip
    times = day_slots(world, dt.date(2026, 12, 1))
    assert "08:30" not in times  # would run into the 09:00 booking (30 + 15 turnover)
    assert "08:15" not in times
    assert {"09:00", "09:15", "09:30"}.isdisjoint(times)
    assert "09:45" in times  # free again after 09:30 + 15 minutes turnover
    assert "11:15" in times
    assert "11:30" not in times  # 11:30 + 45 runs into the 12:00 time off
    assert "13:00" in times


def test_slot_names_provider_and_first_free_room_deterministically(world):
    from tests.factories import RoomFactory

    second = RoomFactory(
        location=world.location, name="Another fluoro", capabilities=list(world.fluoro.capabilities.all())
    )
    slots = find_slots(
        procedure_type=world.epidural,
        start=local(world.location, 2026, 12, 1, 8),
        end=local(world.location, 2026, 12, 1, 9),
        now=NOW,
    ).slots  # fmt: skip
    assert [(s.local.strftime("%H:%M"), s.provider, s.room) for s in slots] == [
        ("08:30", world.provider, second),
        ("08:45", world.provider, second),
    ]


def test_procedure_not_hosted_anywhere_has_no_slots(world):
    world.epidural.locations.clear()
    assert day_slots(world, dt.date(2026, 12, 1)) == []


def test_room_without_the_needed_capability_is_never_offered(world):
    world.fluoro.capabilities.clear()
    assert day_slots(world, dt.date(2026, 12, 1)) == []
    assert day_slots(world, dt.date(2026, 12, 1), procedure=world.consult)[0] == "08:30"
