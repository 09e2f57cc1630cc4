"""The clinic admin's calendar pages: hours, closures and holidays, provider hours and
time off, and the appointments a new closure or time off would hit."""

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import Closure
from scheduling import services
from scheduling.admin_forms import RANGE_BACKWARDS, RANGES_FORMAT, RANGES_OVERLAP
from scheduling.models import AvailabilityTemplate, TimeOff
from scheduling.selectors import find_slots
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)


def hours_post(modes_and_ranges):
    data = {"form-TOTAL_FORMS": "7", "form-INITIAL_FORMS": "7", "form-MIN_NUM_FORMS": "7", "form-MAX_NUM_FORMS": "7"}
    for weekday, (mode, ranges) in enumerate(modes_and_ranges):
        data |= {f"form-{weekday}-weekday": weekday, f"form-{weekday}-mode": mode, f"form-{weekday}-ranges": ranges}
    return data


WEEK = [("open", "08:30-12:00, 13:00-16:30")] * 4 + [("by_appointment", ""), ("closed", ""), ("closed", "")]


def test_admin_sets_weekday_hours_with_split_ranges(client, clinic_admin, world):
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:admin_hours", args=[world.location.pk]), hours_post(WEEK))
    assert response.status_code == 302
    monday = world.location.weekday_hours.get(weekday=0)
    assert monday.summary == "08:30-12:00, 13:00-16:30"
    slots = find_slots(procedure_type=world.consult, start=local(world.location, 2026, 12, 1, 0),
                       end=local(world.location, 2026, 12, 2, 0), now=NOW).slots  # fmt: skip
    times = [s.local.strftime("%H:%M") for s in slots]
    assert "11:15" in times
    assert "11:30" not in times  # 45 minutes would run past noon
    assert "13:00" in times


@pytest.mark.parametrize(("ranges", "message"), [
    ("8:30 to 12", RANGES_FORMAT), ("12:00-08:00", RANGE_BACKWARDS % {"range": "12:00-08:00"}),
    ("08:00-12:00, 11:00-14:00", RANGES_OVERLAP), ("", "An open day needs at least one range."),
])  # fmt: skip
def test_bad_hours_are_refused_with_a_message_and_nothing_changes(client, clinic_admin, world, ranges, message):
    client.force_login(clinic_admin)
    week = [("open", ranges)] + WEEK[1:]
    response = client.post(reverse("scheduling:admin_hours", args=[world.location.pk]), hours_post(week))
    assert response.status_code == 200
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert world.location.weekday_hours.get(weekday=0).summary == "08:30-16:30"


def test_a_closure_over_booked_appointments_lists_them(client, clinic_admin, scheduler, world):
    appointment = services.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 9), referral=world.referral, now=NOW,
    )  # fmt: skip
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:admin_closures"), {
        "location": "", "start_date": "2026-12-01", "end_date": "2026-12-01", "reason": "Ice storm", "kind": "closure",
    })  # fmt: skip
    content = response.content.decode()
    assert "1 booked appointment falls in this time" in content
    assert f"appointment={appointment.pk}" in content
    assert Closure.objects.filter(reason="Ice storm").exists()


def test_a_closure_with_the_last_day_first_is_refused(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:admin_closures"), {
        "location": "", "start_date": "2026-12-02", "end_date": "2026-12-01", "reason": "Training", "kind": "closure",
    })  # fmt: skip
    assert "The last day must be on or after the first day." in response.content.decode()
    assert not Closure.objects.exists()


def test_removing_and_restoring_a_holiday(client, clinic_admin, world):
    holiday = Closure.objects.create(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 1),
                                     reason="Founders Day", kind="holiday")  # fmt: skip
    client.force_login(clinic_admin)
    client.post(reverse("scheduling:admin_closure_toggle", args=[holiday.pk]), {"active": "0"})
    holiday.refresh_from_db()
    assert holiday.is_active is False
    client.post(reverse("scheduling:admin_closure_toggle", args=[holiday.pk]), {"active": "1"})
    holiday.refresh_from_db()
    assert holiday.is_active is True


def test_provider_hours_and_time_off_with_collisions(client, clinic_admin, scheduler, world):
    services.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 9), referral=world.referral, now=NOW,
    )  # fmt: skip
    client.force_login(clinic_admin)
    url = reverse("scheduling:admin_provider", args=[world.provider.pk])
    client.post(url, {"template": "1", "location": world.location.pk, "weekday": 4, "starts": "09:00",
                      "ends": "12:00", "effective_from": "2026-12-01"})  # fmt: skip
    assert AvailabilityTemplate.objects.filter(provider=world.provider, weekday=4).exists()
    response = client.post(url, {"time_off": "1", "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-01T12:00",
                                 "reason": "Conference"})  # fmt: skip
    assert "1 booked appointment falls in this time" in response.content.decode()
    assert TimeOff.objects.filter(provider=world.provider).count() == 1
    response = client.post(url, {"time_off": "1", "starts_at": "2026-12-02T12:00", "ends_at": "2026-12-02T08:00"})
    assert "The end must be after the start." in response.content.decode()
    assert TimeOff.objects.count() == 1


def test_only_clinic_admins_reach_the_calendar_admin(client, scheduler, world):
    client.force_login(scheduler)
    assert client.get(reverse("scheduling:admin_closures")).status_code == 404
    assert client.get(reverse("scheduling:admin_hours", args=[world.location.pk])).status_code == 404
