"""Repeat intervals count the location's calendar days, not 24-hour blocks: for every date
around the boundary, across both 2027 daylight-saving changes and in two zones, the finder
offers the date iff booking accepts it iff the refusal's earliest date is on or before it."""

import datetime as dt
import re

import pytest

from clinic import localtime
from scheduling.care.coverage import coverage_earliest_date
from scheduling.models import Appointment
from scheduling.selectors import find_slots
from scheduling.services import booking
from scheduling.services.booking import SlotUnavailable
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
GAP = 21  # the world's epidural: at least 21 days apart

# (zone, the last epidural's local date and time): its 21st day falls just after the zone's
# 2027 daylight-saving change. Afternoon in Chicago: already the next day in UTC after 18:00
# in winter; a Sydney morning is the day before in UTC and in Chicago (settings.TIME_ZONE).
CASES = [
    ("America/Chicago", dt.datetime(2027, 3, 1, 16, 0)),  # spring forward 14 March
    ("America/Chicago", dt.datetime(2027, 10, 18, 16, 0)),  # fall back 7 November
    ("Australia/Sydney", dt.datetime(2027, 3, 22, 9, 0)),  # clocks back 4 April
    ("Australia/Sydney", dt.datetime(2027, 9, 20, 9, 0)),  # clocks forward 3 October
]


def last_epidural(world, zone_name: str, wall: dt.datetime) -> Appointment:
    world.location.time_zone = zone_name
    world.location.save(update_fields=["time_zone"])
    starts = wall.replace(tzinfo=world.location.zone)
    return Appointment.objects.create(
        patient=world.patient, procedure_type=world.epidural, provider=world.provider, room=world.fluoro,
        location=world.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30),
        blocks_until=starts + dt.timedelta(minutes=45), status="completed",
    )  # fmt: skip


def booking_accepts(world, starts_at: dt.datetime, now: dt.datetime) -> tuple[bool, str]:
    try:
        booking.check_slot(
            procedure_type=world.epidural, location=world.location, provider=world.provider, room=None,
            starts_at=starts_at, patient=world.patient, minutes=30, now=now,
        )  # fmt: skip
    except SlotUnavailable as exc:
        return False, " ".join(exc.messages)
    return True, ""


def finder_offers(world, day: dt.date, now: dt.datetime) -> bool:
    start, end = localtime.day_bounds(day, world.location.zone)
    search = find_slots(procedure_type=world.epidural, location=world.location, patient=world.patient,
                        start=start, end=end, now=now)  # fmt: skip
    return any(slot.local.date() == day for slot in search.slots)


def earliest_in(message: str) -> dt.date:
    named = re.search(r"the first date it allows is (.+)\.$", message).group(1)
    return dt.datetime.strptime(named, "%d %b %Y").date()


@pytest.mark.parametrize(("zone_name", "wall"), CASES)
def test_finder_booking_and_message_agree_day_by_day_across_daylight_saving(world, zone_name, wall):
    last = last_epidural(world, zone_name, wall)
    now = (wall - dt.timedelta(days=1)).replace(tzinfo=world.location.zone)
    earliest_named = None
    checked = []
    for offset in range(GAP - 7, GAP + 4):
        day = wall.date() + dt.timedelta(days=offset)
        if day.weekday() >= 4:  # the world is open Monday to Thursday
            continue
        # The first time of the day: 08:30, earlier on the clock than the last one's time.
        accepted, message = booking_accepts(world, local(world.location, day.year, day.month, day.day, 8, 30), now)
        if not accepted:
            assert "(at least 21 days apart, Clinic policy)" in message, message
            earliest_named = earliest_in(message)
        offered = finder_offers(world, day, now)
        assert offered == accepted, (day, offered, accepted)
        assert accepted == (offset >= GAP), (day, message)
        checked.append((day, accepted))
    assert earliest_named == wall.date() + dt.timedelta(days=GAP)
    assert [accepted for _, accepted in checked] == [earliest_named <= day for day, _ in checked]
    # The repeat queue's earliest date is the same day.
    first_allowed, _limit = coverage_earliest_date(
        patient=last.patient,
        procedure_type=last.procedure_type,
        site=last.site_values(),
        location=last.location,
        now=now,
    )
    assert first_allowed == earliest_named


def test_eight_thirty_on_day_21_after_a_nine_oclock_appointment_is_accepted(world):
    last_epidural(world, "America/Chicago", dt.datetime(2026, 12, 1, 9, 0))  # a Tuesday
    now = local(world.location, 2026, 11, 30, 9)
    accepted, message = booking_accepts(world, local(world.location, 2026, 12, 22, 8, 30), now)
    assert accepted, message
    refused, message = booking_accepts(world, local(world.location, 2026, 12, 21, 14, 0), now)
    assert not refused
    assert message.endswith(
        "one on 1 Dec 2026 (at least 21 days apart, Clinic policy); the first date it allows is 22 Dec 2026."
    )
