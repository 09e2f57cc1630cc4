"""Review deadlines: urgent 1, routine 3 clinic open days after the day received."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from clinic.models import WeekdayHours
from referrals.models import ReviewTarget
from referrals.services import review_due_at
from tests.factories import ClosureFactory, LocationFactory, set_weekday_hours

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def clinic_hours(db):
    """Open Monday to Thursday, Friday by appointment, weekend closed."""
    location = LocationFactory(slug="main")
    for weekday in range(4):
        set_weekday_hours(location, weekday, WeekdayHours.Mode.OPEN, (dt.time(8, 30), dt.time(16, 30)))
    set_weekday_hours(location, 4, WeekdayHours.Mode.BY_APPOINTMENT)
    return location


def due(day: dt.date, urgency: str, hour: int = 10) -> dt.datetime:
    return review_due_at(received_at=dt.datetime.combine(day, dt.time(hour), tzinfo=CHICAGO), urgency=urgency)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=CHICAGO)


def test_routine_counts_three_open_days(clinic_hours):
    assert due(dt.date(2026, 11, 16), "routine") == end_of(dt.date(2026, 11, 19))  # Mon -> Thu


def test_urgent_counts_one_open_day_skipping_by_appointment_friday_and_the_weekend(clinic_hours):
    assert due(dt.date(2026, 11, 19), "urgent") == end_of(dt.date(2026, 11, 23))  # Thu -> Mon


def test_holidays_for_all_locations_are_skipped(clinic_hours):
    ClosureFactory(location=None, start_date=dt.date(2026, 11, 26), reason="Thanksgiving Day", kind="holiday")
    # Received Tuesday 24 November: Wed 25, (Thu 26 closed, Fri by appointment), Mon 30, Tue 1.
    assert due(dt.date(2026, 11, 24), "routine") == end_of(dt.date(2026, 12, 1))


def test_a_closure_of_one_location_does_not_stop_the_clinic_when_another_is_open(clinic_hours):
    other = LocationFactory(slug="other")
    set_weekday_hours(other, 3, WeekdayHours.Mode.OPEN, (dt.time(9), dt.time(12)))
    ClosureFactory(location=clinic_hours, start_date=dt.date(2026, 11, 19), reason="Training")
    assert due(dt.date(2026, 11, 18), "urgent") == end_of(dt.date(2026, 11, 19))  # the other site is open
    ClosureFactory(location=other, start_date=dt.date(2026, 11, 19), reason="Training")
    assert due(dt.date(2026, 11, 18), "urgent") == end_of(dt.date(2026, 11, 23))


def test_the_admin_editable_target_is_honoured(clinic_hours):
    ReviewTarget.objects.create(urgency="routine", open_days=5)
    # Tue 17, Wed 18, Thu 19, (Fri by appointment, weekend), Mon 23, Tue 24.
    assert due(dt.date(2026, 11, 16), "routine") == end_of(dt.date(2026, 11, 24))


def test_a_late_evening_referral_counts_from_its_local_day(clinic_hours):
    # 23:30 Monday in Chicago is already Tuesday in UTC; the local day decides.
    assert due(dt.date(2026, 11, 16), "urgent", hour=23) == end_of(dt.date(2026, 11, 17))
