"""The clinic admin's calendar pages: hours, closures and holidays, provider hours and
time off, and the appointments a new closure or time off would hit."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from clinic.models import Closure
from scheduling.forms.admin import DATE_IN_THE_PAST, END_BEFORE_START, RANGE_BACKWARDS, RANGES_FORMAT, RANGES_OVERLAP
from scheduling.models import Appointment, AvailabilityTemplate, ExtraAvailability, TimeOff
from scheduling.selectors import find_slots
from scheduling.services import booking
from tests.factories import PatientFactory, ProviderFactory, ReferralFactory
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


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def book(world, scheduler, hour: int, *, day: int = 1) -> Appointment:
    """An appointment on `day` December 2026 at `hour` for a fresh referred patient."""
    referral = ReferralFactory(status="accepted", first_visit=world.consult)
    return booking.appointment_book(
        actor=scheduler, patient=referral.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, day, hour), referral=referral, now=NOW,
    )  # fmt: skip


ICE_STORM = {"location": "", "start_date": "2026-12-01", "end_date": "2026-12-01", "reason": "Ice storm",
             "kind": "closure"}  # fmt: skip


def test_a_closure_over_booked_appointments_lists_them(client, clinic_admin, scheduler, world, frozen):
    appointment = book(world, scheduler, 9)
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:admin_closures"), ICE_STORM, follow=True)
    content = response.content.decode()
    closure = Closure.objects.get(reason="Ice storm")
    assert response.redirect_chain == [(f"{reverse('scheduling:admin_closures')}?closure={closure.pk}", 302)]
    assert "1 booked appointment falls in this time" in content
    assert f"appointment={appointment.pk}" in content
    assert "Tue 1 Dec 2026, 9:00 AM CST" in content


def test_each_hit_appointment_offers_reschedule_and_cancel_that_work_for_the_admin(
    client, clinic_admin, scheduler, world, frozen
):
    first, second = book(world, scheduler, 9), book(world, scheduler, 11)
    book(world, scheduler, 9, day=2)  # the next day: not hit
    client.force_login(clinic_admin)
    url = client.post(reverse("scheduling:admin_closures"), ICE_STORM).url
    content = client.get(url).content.decode()
    assert "2 booked appointments fall in this time" in content
    for appointment in (first, second):
        reschedule = (f"/scheduling/find/?procedure_type={world.consult.pk}&amp;appointment={appointment.pk}"
                      f"&amp;location={world.location.pk}")  # fmt: skip
        assert (
            f'href="{reschedule}">Reschedule<span class="visually-hidden"> {appointment.patient.full_name}' in content
        )
        assert f'href="{appointment.get_absolute_url()}">Cancel<span class="visually-hidden"> ' in content
    assert content.count(">Reschedule<") == 2

    # Reschedule: the finder opens for the admin and offers other days, then the move is booked.
    finder = client.get(reverse("scheduling:find"), {"procedure_type": world.consult.pk, "appointment": first.pk,
                                                     "location": world.location.pk})  # fmt: skip
    assert finder.status_code == 200
    assert "Moving New-patient consultation" in finder.content.decode()
    moved_to = local(world.location, 2026, 12, 3, 9)
    client.post(reverse("scheduling:book"), {
        "procedure_type": world.consult.pk, "location": world.location.pk, "provider": world.provider.pk,
        "starts_at": moved_to.isoformat(), "appointment": first.pk,
    })  # fmt: skip
    first.refresh_from_db()
    assert first.starts_at == moved_to
    content = client.get(url).content.decode()
    assert "1 booked appointment falls in this time" in content
    assert f"appointment={first.pk}" not in content

    # Cancel: the appointment page carries the cancel form, and cancelling empties the list.
    assert "Cancel appointment" in client.get(second.get_absolute_url()).content.decode()
    client.post(reverse("scheduling:cancel", args=[second.pk]), {"reason": "Ice storm closure"})
    second.refresh_from_db()
    assert second.status == "cancelled"
    assert "No booked appointments fall in this time." in client.get(url).content.decode()


def test_restoring_a_holiday_lists_what_was_booked_while_it_was_off(client, clinic_admin, scheduler, world, frozen):
    holiday = Closure.objects.create(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 1),
                                     reason="Founders Day", kind="holiday", is_active=False)  # fmt: skip
    appointment = book(world, scheduler, 9)
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:admin_closure_toggle", args=[holiday.pk]), {"active": "1"}, follow=True)
    content = response.content.decode()
    assert "Founders Day restored." in content
    assert "1 booked appointment falls in this time" in content
    assert f"appointment={appointment.pk}" in content


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


def test_provider_hours_and_time_off_with_collisions(client, clinic_admin, scheduler, world, frozen):
    appointment = book(world, scheduler, 9)
    client.force_login(clinic_admin)
    url = reverse("scheduling:admin_provider", args=[world.provider.pk])
    client.post(url, {"template": "1", "location": world.location.pk, "weekday": 4, "starts": "09:00",
                      "ends": "12:00", "effective_from": "2026-12-01"})  # fmt: skip
    assert AvailabilityTemplate.objects.filter(provider=world.provider, weekday=4).exists()
    response = client.post(url, {"time_off": "1", "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-01T12:00",
                                 "reason": "Conference"}, follow=True)  # fmt: skip
    time_off = TimeOff.objects.get(provider=world.provider)
    assert response.redirect_chain == [(f"{url}?time_off={time_off.pk}", 302)]
    content = response.content.decode()
    assert "1 booked appointment falls in this time" in content
    assert f'appointment={appointment.pk}&amp;location={world.location.pk}">Reschedule' in content
    assert f'href="{appointment.get_absolute_url()}">Cancel' in content
    response = client.post(url, {"time_off": "1", "starts_at": "2026-12-02T12:00", "ends_at": "2026-12-02T08:00"})
    assert "The end must be after the start." in response.content.decode()
    assert TimeOff.objects.count() == 1


def test_time_off_of_another_provider_lists_nothing_here(client, clinic_admin, scheduler, world, frozen):
    book(world, scheduler, 9)
    other = ProviderFactory(locations=[world.location])
    time_off = TimeOff.objects.create(provider=other, starts_at=local(world.location, 2026, 12, 1, 8),
                                      ends_at=local(world.location, 2026, 12, 1, 12))  # fmt: skip
    client.force_login(clinic_admin)
    # The id of someone else's time off on this provider's page shows nothing of theirs.
    content = client.get(reverse("scheduling:admin_provider", args=[world.provider.pk]),
                         {"time_off": time_off.pk}).content.decode()  # fmt: skip
    assert "booked appointment" not in content
    content = client.get(reverse("scheduling:admin_provider", args=[other.pk]), {"time_off": time_off.pk})
    assert "No booked appointments fall in this time." in content.content.decode()


def test_a_provider_opens_a_by_appointment_friday_and_it_gets_slots(client, clinic_admin, world, frozen):
    client.force_login(clinic_admin)
    url = reverse("scheduling:admin_provider", args=[world.provider.pk])
    friday = {"location": world.location.pk, "date": "2026-12-04", "starts": "09:00", "ends": "12:00",
              "note": "Extra epidural list"}  # fmt: skip
    response = client.post(url, {"extra": "1", **friday}, follow=True)
    assert "Extra hours added for that date." in response.content.decode()
    assert "Fri 4 Dec 2026 09:00–12:00 at Russellville (Extra epidural list)" in response.content.decode()
    slots = find_slots(procedure_type=world.consult, start=local(world.location, 2026, 12, 4, 0),
                       end=local(world.location, 2026, 12, 5, 0), now=NOW).slots  # fmt: skip
    assert [s.local.strftime("%H:%M") for s in slots][:2] == ["09:00", "09:15"]
    assert slots[-1].local.strftime("%H:%M") == "11:15"
    week = client.get(reverse("scheduling:week"), {"location": world.location.pk, "date": "2026-12-04"})
    assert "Opened by Dr. Priya Patel, 9:00 AM–12:00 PM" in week.content.decode()

    extra = ExtraAvailability.objects.get()
    client.post(reverse("scheduling:admin_extra_delete", args=[extra.pk]))
    assert not ExtraAvailability.objects.exists()


@pytest.mark.parametrize(("change", "message"), [
    ({"date": "2026-11-20"}, DATE_IN_THE_PAST),
    ({"starts": "12:00", "ends": "09:00"}, END_BEFORE_START),
])  # fmt: skip
def test_bad_extra_hours_are_refused_and_nothing_is_saved(client, clinic_admin, world, frozen, change, message):
    client.force_login(clinic_admin)
    data = {"extra": "1", "location": world.location.pk, "date": "2026-12-04", "starts": "09:00", "ends": "12:00",
            **change}  # fmt: skip
    response = client.post(reverse("scheduling:admin_provider", args=[world.provider.pk]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ExtraAvailability.objects.exists()


def test_admin_calendar_pages_query_counts_are_constant(client, clinic_admin, scheduler, world, frozen,
                                                        django_assert_num_queries):  # fmt: skip
    book(world, scheduler, 9)
    closure = Closure.objects.create(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 1), reason="Ice")
    client.force_login(clinic_admin)
    url = reverse("scheduling:admin_closures")
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 the closure asked about, 7 locations (a closure of
    # all), 8 the appointments it hits with patient, procedure, provider and location joined,
    # 9 upcoming closures with their location, 10 the form's location choices,
    # 11-13 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(14):
        client.get(url, {"closure": closure.pk})
    for hour in (10, 11, 13, 14):  # booked before the closure, so straight into the table
        start = local(world.location, 2026, 12, 1, hour)
        end = start + dt.timedelta(minutes=45)
        Appointment.objects.create(patient=PatientFactory(), procedure_type=world.consult, provider=world.provider,
                                   room=world.exam, location=world.location, starts_at=start, ends_at=end,
                                   blocks_until=end)  # fmt: skip
    with django_assert_num_queries(14):
        response = client.get(url, {"closure": closure.pk})
    assert "5 booked appointments fall in this time" in response.content.decode()


def test_only_clinic_admins_reach_the_calendar_admin(client, scheduler, world):
    client.force_login(scheduler)
    assert client.get(reverse("scheduling:admin_closures")).status_code == 404
    assert client.get(reverse("scheduling:admin_hours", args=[world.location.pk])).status_code == 404
    assert client.get(reverse("scheduling:admin_provider", args=[world.provider.pk])).status_code == 404
