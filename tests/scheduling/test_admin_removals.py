"""The clinic admin's calendar: dates within the clinic's bounds, and closures, time off and
extra hours removed from the app, each after a page listing the appointments booked in it,
and recorded with who removed it."""

import datetime as dt

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.urls import reverse

from clinic.models import Closure
from clinic.validators import CLINIC_DATE_TOO_EARLY, CLINIC_DATE_TOO_LATE, clinic_date_bounds, validate_clinic_date
from scheduling.models import AvailabilityTemplate, ExtraAvailability, TimeOff
from scheduling.services import booking
from tests.factories import ReferralFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
TOO_EARLY = CLINIC_DATE_TOO_EARLY % {"earliest": "23 November 2025"}
TOO_LATE = CLINIC_DATE_TOO_LATE % {"latest": "23 November 2029"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def book(world, scheduler, day: int, hour: int):
    referral = ReferralFactory(status="accepted", first_visit=world.consult)
    return booking.appointment_book(
        actor=scheduler, patient=referral.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, day, hour), referral=referral, now=NOW,
    )  # fmt: skip


def test_clinic_dates_reach_one_year_back_and_three_ahead():
    assert clinic_date_bounds(dt.date(2026, 11, 23)) == (dt.date(2025, 11, 23), dt.date(2029, 11, 23))
    assert clinic_date_bounds(dt.date(2028, 2, 29)) == (dt.date(2027, 2, 28), dt.date(2031, 2, 28))
    validate_clinic_date(dt.date(2025, 11, 23))
    validate_clinic_date(dt.datetime(2029, 11, 23, 23, 59))


def _html(text: str) -> str:
    return text.replace("'", "&#x27;")


CLOSURE = {"location": "", "start_date": "2026-12-01", "end_date": "2026-12-01", "reason": "Ice storm",
           "kind": "closure"}  # fmt: skip


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"start_date": "0001-01-01"}, "start_date", TOO_EARLY),
    ({"start_date": "2025-11-22"}, "start_date", TOO_EARLY),
    ({"end_date": "9999-12-31"}, "end_date", TOO_LATE),
    ({"end_date": "2029-11-24"}, "end_date", TOO_LATE),
])  # fmt: skip
def test_a_closure_outside_the_clinic_dates_is_refused_next_to_the_field(client, clinic_admin, change, field, message):
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:admin_closures"), {**CLOSURE, **change})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert _html(message) in response.content.decode()
    assert 'value="Ice storm"' in response.content.decode()  # what was typed is kept
    assert not Closure.objects.exists()


@pytest.mark.parametrize(("kind", "data", "field", "message"), [
    ("time_off", {"starts_at": "2026-12-01T08:00", "ends_at": "9999-12-31T23:59", "reason": "Away"},
     "ends_at", TOO_LATE),
    ("time_off", {"starts_at": "0001-01-01T08:00", "ends_at": "2026-12-01T08:00", "reason": "Away"},
     "starts_at", TOO_EARLY),
    ("extra", {"date": "9999-12-31", "starts": "09:00", "ends": "12:00"}, "date", TOO_LATE),
    ("template", {"weekday": 4, "starts": "09:00", "ends": "12:00", "effective_from": "2026-12-01",
                  "effective_to": "9999-12-31"}, "effective_to", TOO_LATE),
    ("template", {"weekday": 4, "starts": "09:00", "ends": "12:00", "effective_from": "0001-01-01"},
     "effective_from", TOO_EARLY),
])  # fmt: skip
def test_provider_calendar_dates_outside_the_clinic_dates_are_refused(client, clinic_admin, world, kind, data,
                                                                      field, message):  # fmt: skip
    client.force_login(clinic_admin)
    url = reverse("scheduling:admin_provider", args=[world.provider.pk])
    response = client.post(url, {kind: "1", "location": world.location.pk, **data})
    assert response.status_code == 200
    assert response.context[f"{kind}_form"].errors[field] == [message]
    assert not TimeOff.objects.exists()
    assert not ExtraAvailability.objects.exists()
    assert AvailabilityTemplate.objects.filter(weekday=4).count() == 0
    # The page still opens afterwards (a time off in year 9999 used to break it for good).
    assert client.get(url).status_code == 200


def test_removing_a_closure_lists_what_it_affected_then_records_who(client, clinic_admin, scheduler, world):
    appointment = book(world, scheduler, 1, 9)
    book(world, scheduler, 2, 9)  # the next day: not in the closure
    closure = Closure.objects.create(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 1),
                                     reason="Ice storm")  # fmt: skip
    client.force_login(clinic_admin)
    listing = client.get(reverse("scheduling:admin_closures")).content.decode()
    remove_url = reverse("scheduling:admin_closure_remove", args=[closure.pk])
    assert f'href="{remove_url}">Remove' in listing

    confirm = client.get(remove_url).content.decode()
    assert "Remove Ice storm (all locations, 1 Dec 2026)?" in confirm
    assert "1 booked appointment falls in it." in confirm
    assert "Tue 1 Dec 2026, 9:00 AM CST" in confirm
    assert f'href="{appointment.get_absolute_url()}">Open' in confirm
    closure.refresh_from_db()
    assert closure.is_active  # looking removes nothing

    response = client.post(reverse("scheduling:admin_closure_toggle", args=[closure.pk]), {"active": "0"},
                           follow=True)  # fmt: skip
    assert "Ice storm removed: open on those days. The 1 appointment booked in it stays booked." in (
        response.content.decode()
    )
    closure.refresh_from_db()
    assert not closure.is_active
    entry = LogEntry.objects.get(object_id=str(closure.pk), content_type__model="closure")
    assert (entry.user, entry.action_flag) == (clinic_admin, CHANGE)
    assert entry.change_message == "Removed: open on those days."
    assert client.get(remove_url).status_code == 404  # already removed


def test_removing_time_off_lists_the_appointments_in_it_then_records_who(client, clinic_admin, scheduler, world):
    appointment = book(world, scheduler, 1, 9)
    time_off = TimeOff.objects.create(provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 8),
                                      ends_at=local(world.location, 2026, 12, 1, 12), reason="Conference")  # fmt: skip
    client.force_login(clinic_admin)
    page = client.get(reverse("scheduling:admin_provider", args=[world.provider.pk])).content.decode()
    remove_url = reverse("scheduling:admin_time_off_remove", args=[time_off.pk])
    assert f'href="{remove_url}">Remove' in page

    confirm = client.get(remove_url).content.decode()
    assert _html(f"Remove {world.provider}'s time off, Tue 1 Dec 2026 8:00 AM to Tue 1 Dec 2026 12:00 PM?") in confirm
    assert "1 booked appointment falls in it." in confirm
    assert f'href="{appointment.get_absolute_url()}">Open' in confirm
    assert TimeOff.objects.exists()

    response = client.post(remove_url, follow=True)
    assert f"Time off removed: {world.provider} is available then again." in response.content.decode()
    assert not TimeOff.objects.exists()
    entry = LogEntry.objects.get(content_type__model="timeoff")
    assert (entry.user, entry.action_flag, entry.object_id) == (clinic_admin, DELETION, str(time_off.pk))


def test_removing_extra_hours_lists_the_appointments_booked_in_them(client, clinic_admin, scheduler, world):
    extra = ExtraAvailability.objects.create(
        provider=world.provider, location=world.location, date=dt.date(2026, 12, 4), starts=dt.time(9), ends=dt.time(12)
    )
    appointment = book(world, scheduler, 4, 9)  # a by-appointment Friday, open only through the extra hours
    client.force_login(clinic_admin)
    remove_url = reverse("scheduling:admin_extra_delete", args=[extra.pk])
    confirm = client.get(remove_url).content.decode()
    assert _html(f"Remove {world.provider}'s extra hours on Fri 4 Dec 2026, 09:00-12:00 at Russellville?") in confirm
    assert "fall outside the provider&#x27;s hours, so reschedule or cancel each." in confirm
    assert f'href="{appointment.get_absolute_url()}">Open' in confirm

    response = client.post(remove_url, follow=True)
    assert "Extra hours on 4 Dec 2026 removed. The 1 appointment booked in it stays booked." in (
        response.content.decode()
    )
    assert not ExtraAvailability.objects.exists()
    assert LogEntry.objects.get(content_type__model="extraavailability").user == clinic_admin


def test_only_clinic_admins_reach_the_removal_pages(client, scheduler, world):
    closure = Closure.objects.create(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 1), reason="Ice")
    time_off = TimeOff.objects.create(provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 8),
                                      ends_at=local(world.location, 2026, 12, 1, 12))  # fmt: skip
    client.force_login(scheduler)
    assert client.get(reverse("scheduling:admin_closure_remove", args=[closure.pk])).status_code == 404
    assert client.post(reverse("scheduling:admin_time_off_remove", args=[time_off.pk])).status_code == 404
    assert TimeOff.objects.exists()


def test_the_removal_page_query_count_does_not_grow_with_the_appointments(client, clinic_admin, scheduler, world,
                                                                          django_assert_num_queries):  # fmt: skip
    book(world, scheduler, 1, 9)
    closure = Closure.objects.create(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 1), reason="Ice")
    client.force_login(clinic_admin)
    url = reverse("scheduling:admin_closure_remove", args=[closure.pk])
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 the closure with its location, 7 locations (a
    # closure of all), 8 the appointments in it with patient, procedure, provider and
    # location joined, 9-11 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(12):
        client.get(url)
    for day in (2, 3, 7):
        book(world, scheduler, day, 9)
    closure.end_date = dt.date(2026, 12, 7)
    closure.save()
    with django_assert_num_queries(12):
        response = client.get(url)
    assert "4 booked appointments fall in it." in response.content.decode()
