"""Observed holiday dates and the yearly roll-forward."""

import datetime as dt

import pytest

from clinic.models import Closure, HolidayRule
from clinic.services import closure_roll_holidays_forward, observed_holiday_dates
from clinic.tasks import roll_holidays_forward

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


def test_weekend_holidays_move_to_their_observed_weekday():
    dates = observed_holiday_dates(
        names=["Independence Day", "Christmas Day", "New Year's Day"], years=range(2026, 2028)
    )
    assert dt.date(2026, 7, 3) in dates["Independence Day"]  # Saturday 4 July -> Friday
    assert dt.date(2027, 7, 5) in dates["Independence Day"]  # Sunday 4 July -> Monday
    assert dt.date(2027, 12, 24) in dates["Christmas Day"]  # Saturday 25 December -> Friday
    assert dt.date(2027, 12, 31) in dates["New Year's Day"]  # New Year 2028 observed the year before
    assert dt.date(2026, 7, 4) not in dates["Independence Day"]


def test_roll_forward_creates_three_years_once():
    HolidayRule.objects.create(name="Thanksgiving Day")
    created = closure_roll_holidays_forward(now=NOW)
    assert sorted(c.start_date for c in created) == [
        dt.date(2026, 11, 26),
        dt.date(2027, 11, 25),
        dt.date(2028, 11, 23),
    ]
    assert closure_roll_holidays_forward(now=NOW) == []
    assert Closure.objects.count() == 3


def test_a_removed_holiday_is_not_brought_back_and_can_be_restored():
    HolidayRule.objects.create(name="Labor Day")
    closure_roll_holidays_forward(now=NOW)
    Closure.objects.filter(start_date=dt.date(2027, 9, 6)).update(is_active=False)
    closure_roll_holidays_forward(now=NOW)
    removed = Closure.objects.get(start_date=dt.date(2027, 9, 6))
    assert removed.is_active is False
    assert Closure.objects.filter(reason="Labor Day").count() == 3


def test_an_inactive_rule_creates_nothing():
    HolidayRule.objects.create(name="Memorial Day", is_active=False)
    assert closure_roll_holidays_forward(now=NOW) == []


def test_the_yearly_task_rolls_forward_from_today():
    HolidayRule.objects.create(name="Christmas Day")
    assert roll_holidays_forward() == 3
    assert roll_holidays_forward() == 0
