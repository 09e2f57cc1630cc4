"""seed_clinic loads DOMAIN.md's clinic, is idempotent, and never undoes an admin's edit."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.forms.models import model_to_dict

from clinic.models import (
    Closure,
    FollowUpCheck,
    HolidayRule,
    Location,
    OpeningRange,
    ProcedureType,
    RoomCapability,
    WeekdayHours,
)
from conditions.models import Condition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today_is_monday_23_november_2026():
    with time_machine.travel("2026-11-23 09:00 -0600", tick=False):
        yield


SEEDED = [
    Location,
    WeekdayHours,
    OpeningRange,
    RoomCapability,
    HolidayRule,
    Closure,
    ProcedureType,
    FollowUpCheck,
    Condition,
]


def snapshot() -> dict:
    """Every seeded row's values (many-to-many included), by model."""
    return {
        model.__name__: sorted(repr(sorted(model_to_dict(obj).items(), key=str)) for obj in model.objects.all())
        for model in SEEDED
    }


def seed() -> None:
    call_command("seed_clinic", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_seed_clinic_loads_russellville_with_its_hours():
    seed()
    location = Location.objects.get(slug="russellville")
    assert (location.street, location.suite, location.city, location.state, location.postal_code) == (
        "2405 West Main Street", "Suite H", "Russellville", "AR", "72801",
    )  # fmt: skip
    assert (location.phone, location.fax, location.time_zone) == ("479-967-7770", "479-967-7772", "America/Chicago")
    hours = {day.weekday: day.summary for day in location.weekday_hours.all()}
    assert hours == {
        0: "08:30-16:30", 1: "08:30-16:30", 2: "08:30-16:30", 3: "08:30-16:30",
        4: "By appointment", 5: "Closed", 6: "Closed",
    }  # fmt: skip


def test_seed_clinic_loads_conditions_procedures_and_holidays():
    seed()
    assert Condition.objects.count() == 19
    esi = ProcedureType.objects.get(slug="epidural-steroid-injection")
    assert esi.duration_minutes == 30
    assert {(r.topic, r.min_days, r.max_count) for r in esi.coverage_rules.all()} >= {
        ("esi-max", None, 4), ("clinic-epidural-steroid-injection-interval", 21, None),
    }  # fmt: skip
    assert [c.slug for c in esi.required_capabilities.all()] == ["fluoroscopy"]
    mbb = ProcedureType.objects.get(slug="medial-branch-block")
    assert [(f.after, f.unit) for f in mbb.follow_up_checks.all()] == [(6, "hours")]
    assert mbb.sedation == "none"
    assert (mbb.site_required, mbb.max_levels) == (True, 2)
    assert ProcedureType.objects.get(slug="interlaminar-epidural-steroid-injection").max_levels == 1
    kypho = ProcedureType.objects.get(slug="kyphoplasty")
    assert {c.slug for c in kypho.required_capabilities.all()} == {"fluoroscopy", "sedation-suite"}
    assert kypho.fasting_hours == 8
    assert sorted(HolidayRule.objects.values_list("name", flat=True)) == sorted(
        ["New Year's Day", "Memorial Day", "Independence Day", "Labor Day", "Thanksgiving Day", "Christmas Day"]
    )
    holiday_days = set(Closure.objects.filter(kind="holiday").values_list("start_date", flat=True))
    assert dt.date(2026, 11, 26) in holiday_days  # Thanksgiving
    assert dt.date(2026, 7, 3) in holiday_days  # Independence Day observed (4 July is a Saturday)
    assert dt.date(2026, 7, 4) not in holiday_days
    assert dt.date(2028, 12, 25) in holiday_days  # this year and the next two
    assert not any(day.year == 2029 for day in holiday_days)


def test_a_second_run_changes_nothing():
    seed()
    before = snapshot()
    seed()
    assert snapshot() == before


def test_admin_edits_survive_a_rerun():
    seed()
    location = Location.objects.get(slug="russellville")
    monday = location.weekday_hours.get(weekday=0)
    monday.ranges.update(opens=dt.time(9), closes=dt.time(15))
    location.weekday_hours.filter(weekday=4).update(mode="closed")
    ProcedureType.objects.filter(slug="epidural-steroid-injection").update(duration_minutes=40)
    HolidayRule.objects.filter(name="Labor Day").update(is_active=False)
    Closure.objects.filter(reason="Thanksgiving Day", start_date=dt.date(2026, 11, 26)).update(is_active=False)
    Closure.objects.filter(reason="Labor Day").delete()
    seed()
    assert location.weekday_hours.get(weekday=0).summary == "09:00-15:00"
    assert location.weekday_hours.get(weekday=4).mode == "closed"
    assert ProcedureType.objects.get(slug="epidural-steroid-injection").duration_minutes == 40
    assert not Closure.objects.filter(reason="Labor Day").exists()  # its rule is off: not recreated
    thanksgiving = Closure.objects.get(reason="Thanksgiving Day", start_date=dt.date(2026, 11, 26))
    assert thanksgiving.is_active is False
