"""The scheduler's pages: queue, finder, booking with a confirm step, appointment actions,
day calendar and a provider's day."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from scheduling.forms.booking import FROM_DATE_IN_PAST
from scheduling.models import Appointment
from scheduling.services import booking
from tests.factories import PatientFactory, ProcedureOrderFactory, ProviderFactory, ReferralFactory, RoomFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def book_params(world, when, **extra) -> dict:
    return {"procedure_type": world.consult.pk, "location": world.location.pk, "provider": world.provider.pk,
            "starts_at": when.isoformat(), "referral": world.referral.pk, **extra}  # fmt: skip


def test_queue_lists_accepted_referrals_urgent_first_with_a_finder_link(client, scheduler, world):
    urgent = ReferralFactory(status="accepted", urgency="urgent", first_visit=world.consult)
    ReferralFactory(status="under_review")
    client.force_login(scheduler)
    content = client.get(reverse("scheduling:queue")).content.decode()
    assert content.index(urgent.reference) < content.index(world.referral.reference)
    assert f"?referral={world.referral.pk}" in content
    assert content.count("Find a slot<span") == 2


def test_finder_opened_from_a_referral_offers_slots_by_day(client, scheduler, world):
    client.force_login(scheduler)
    response = client.get(
        reverse("scheduling:find"), {"referral": world.referral.pk, "procedure_type": world.consult.pk}
    )
    content = response.content.decode()
    assert "Find a slot for Jordan Reyes" in content
    assert 'id="day-1">Tuesday 24 November 2026</th>' in content
    assert 'aria-label="8:30 AM CST, Tuesday 24 November 2026, Dr. Priya Patel, Exam 1, Russellville"' in content


def test_finder_shows_slots_on_the_locations_own_clock(client, scheduler, world):
    """A location in another zone than the clinic default: its 08:30 is shown as 8:30 MST,
    not converted to Central time by the template filters."""
    world.location.time_zone = "America/Denver"
    world.location.save()
    client.force_login(scheduler)
    response = client.get(
        reverse("scheduling:find"), {"referral": world.referral.pk, "procedure_type": world.consult.pk}
    )
    content = response.content.decode()
    assert 'aria-label="8:30 AM MST, Tuesday 24 November 2026, Dr. Priya Patel, Exam 1, Russellville"' in content
    assert "9:30 AM CST" not in content


def test_booking_takes_a_confirm_step_then_books(client, scheduler, world):
    client.force_login(scheduler)
    when = local(world.location, 2026, 12, 1, 9)
    confirm = client.get(reverse("scheduling:book"), book_params(world, when))
    assert "Tuesday 1 December 2026, 9:00 AM CST" in confirm.content.decode()
    assert not Appointment.objects.exists()
    response = client.post(reverse("scheduling:book"), book_params(world, when), follow=True)
    appointment = Appointment.objects.get()
    assert response.redirect_chain[-1][0] == appointment.get_absolute_url()
    assert "Booked: New-patient consultation with Dr. Priya Patel" in response.content.decode()
    world.referral.refresh_from_db()
    assert world.referral.status == "scheduled"


def test_a_slot_taken_meanwhile_answers_just_taken_with_alternatives(client, scheduler, world):
    client.force_login(scheduler)
    when = local(world.location, 2026, 12, 1, 9)
    offered_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    other = PatientFactory()
    Appointment.objects.create(patient=other, procedure_type=world.consult, provider=world.provider, room=world.exam,
                               location=world.location, starts_at=when, ends_at=when + dt.timedelta(minutes=45),
                               blocks_until=when + dt.timedelta(minutes=45))  # fmt: skip
    response = client.post(reverse("scheduling:book"), book_params(world, when, offered_at=offered_at.isoformat()))
    assert response.status_code == 409
    content = response.content.decode()
    assert booking.JUST_TAKEN in content
    assert "Next free times" in content
    assert Appointment.objects.count() == 1


def test_a_refused_booking_shows_the_rule_and_saves_nothing(client, scheduler, world):
    client.force_login(scheduler)
    response = client.post(reverse("scheduling:book"), book_params(world, local(world.location, 2026, 12, 1, 18)))
    assert response.status_code == 400
    assert "outside Russellville&#x27;s hours on Tuesday" in response.content.decode()
    assert not Appointment.objects.exists()


def test_finder_says_when_the_repeat_policy_pushes_the_earliest_date_out(client, scheduler, world):
    booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.epidural, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 9), referral=world.referral,
    )  # fmt: skip
    client.force_login(scheduler)
    response = client.get(
        reverse("scheduling:find"),
        {"order": ProcedureOrderFactory(patient=world.patient, procedure_type=world.epidural).pk},
    )
    content = response.content.decode()
    assert (
        "Coverage rule: Epidural steroid injection spacing: one on 1 Dec 2026 (at least 21 days apart, Clinic policy); "
        "the first date it allows is 22 Dec 2026."
    ) in content
    days = re.findall(r'<th scope="rowgroup" rowspan="\d+" class="slot-day" id="day-\d+">([^<]+)</th>', content)
    assert days[0] == "Tuesday 22 December 2026"
    first_slots = content[content.index("Tuesday 22 December 2026</th>") :]
    first_time = re.search(r'class="btn [^"]*slot-chip"[^>]*>(\d+:\d+ [AP]M)</a>', first_slots).group(1)
    # Policy days are calendar days: the whole 21st day is open, from the first grid time.
    assert first_time == "8:30 AM"


def test_repeat_policy_dates_are_calendar_days_where_the_clinic_is_not_utc(client, scheduler, world):
    """A 2 PM Hawaii appointment is already the next day in UTC; the message must not say so."""
    world.location.time_zone = "Pacific/Honolulu"
    world.location.save()
    booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.epidural, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 14), referral=world.referral,
    )  # fmt: skip
    client.force_login(scheduler)
    response = client.get(
        reverse("scheduling:find"),
        {"order": ProcedureOrderFactory(patient=world.patient, procedure_type=world.epidural).pk},
    )
    assert "one on 1 Dec 2026 (at least 21 days apart, Clinic policy); the first date it allows is 22 Dec 2026." in (
        response.content.decode()
    )


def test_finder_refuses_a_from_date_in_the_past(client, scheduler, world):
    client.force_login(scheduler)
    response = client.get(reverse("scheduling:find"), {"procedure_type": world.consult.pk, "from_date": "2026-11-20",
                                                       "referral": world.referral.pk})  # fmt: skip
    assert FROM_DATE_IN_PAST in response.content.decode()
    assert "No free slots" not in response.content.decode()


def test_nothing_is_offered_or_booked_beyond_the_booking_horizon(client, scheduler, world):
    client.force_login(scheduler)
    # Russellville books 120 days ahead: to 23 March 2027.
    response = client.get(reverse("scheduling:find"), {"procedure_type": world.consult.pk, "from_date": "2027-03-29",
                                                       "referral": world.referral.pk})  # fmt: skip
    assert "No free slots in the booking window." in response.content.decode()
    response = client.post(reverse("scheduling:book"), book_params(world, local(world.location, 2027, 3, 30, 9)))
    assert response.status_code == 400
    assert "beyond Russellville&#x27;s booking horizon of 120 days" in response.content.decode()
    assert not Appointment.objects.exists()


def test_cancel_needs_a_reason_and_status_changes_follow_the_table(client, scheduler, world):
    appointment = booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 9), referral=world.referral,
    )  # fmt: skip
    client.force_login(scheduler)
    url = appointment.get_absolute_url()
    response = client.post(reverse("scheduling:cancel", args=[appointment.pk]), {"reason": ""}, follow=True)
    assert "Give a reason for cancelling." in response.content.decode()
    response = client.post(reverse("scheduling:status", args=[appointment.pk]), {"status": "completed"}, follow=True)
    assert "Select a valid choice" in response.content.decode()
    client.post(reverse("scheduling:status", args=[appointment.pk]), {"status": "confirmed"})
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"
    client.post(reverse("scheduling:cancel", args=[appointment.pk]), {"reason": "Patient unwell"})
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == ("cancelled", "Patient unwell")
    assert "Patient unwell" in client.get(url).content.decode()


def _book_many(world, scheduler, n, first=0):
    for i in range(first, first + n):
        patient = PatientFactory()
        start = local(world.location, 2026, 12, 1, 8, 30) + dt.timedelta(minutes=15 * i)
        end = start + dt.timedelta(minutes=15)
        Appointment.objects.create(
            patient=patient, procedure_type=world.epidural, provider=world.provider, room=world.fluoro,
            location=world.location, starts_at=start, ends_at=end, blocks_until=end,
        )  # fmt: skip


def test_day_calendar_shows_a_column_per_provider_or_room(client, scheduler, world):
    _book_many(world, scheduler, 2)
    client.force_login(scheduler)
    params = {"location": world.location.pk, "date": "2026-12-01"}
    content = client.get(reverse("scheduling:day"), params).content.decode()
    assert "Russellville: Tuesday 1 December 2026" in content
    assert content.count('href="/scheduling/appointments/') == 2
    assert "Epidural steroid injection" in content
    assert "8:30 AM" in content
    assert "Dr. Priya Patel" in content
    rooms = client.get(reverse("scheduling:day"), {**params, "view": "rooms"}).content.decode()
    assert "Fluoro suite" in rooms
    assert "Exam 1" in rooms


def test_day_calendar_marks_by_appointment_days(client, scheduler, world):
    client.force_login(scheduler)
    content = client.get(
        reverse("scheduling:day"), {"location": world.location.pk, "date": "2026-12-04"}
    ).content.decode()
    assert "By appointment only" in content


def test_day_calendar_query_count_is_constant(client, scheduler, world, django_assert_num_queries):
    client.force_login(scheduler)
    params = {"location": world.location.pk, "date": "2026-12-01"}
    _book_many(world, scheduler, 2)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 locations, 7 appointments with patient,
    # procedure, provider, room, location and referral joined, 8 providers of the location,
    # 9 closures, 10 weekday modes with opening ranges, 11 providers' extra availability,
    # 12-14 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(15):
        client.get(reverse("scheduling:day"), params)
    _book_many(world, scheduler, 12, first=2)
    with django_assert_num_queries(15):
        response = client.get(reverse("scheduling:day"), params)
    assert response.content.decode().count('href="/scheduling/appointments/') == 14


def test_my_day_lists_the_providers_own_appointments(client, provider_user, world, scheduler):
    world.provider.user = provider_user
    world.provider.save()
    booking.appointment_book(actor=scheduler, patient=world.patient, procedure_type=world.consult,
                              location=world.location, provider=world.provider,
                              starts_at=local(world.location, 2026, 12, 1, 9), referral=world.referral)  # fmt: skip
    client.force_login(provider_user)
    content = client.get(reverse("scheduling:my_day"), {"date": "2026-12-01"}).content.decode()
    assert "9:00 AM" in content
    assert "Jordan Reyes" in content


def test_my_day_shows_times_on_the_locations_clock(client, provider_user, world):
    # Denver is an hour behind the clinic's default zone (Chicago): 9:00 there is 10:00 here.
    world.location.time_zone = "America/Denver"
    world.location.save(update_fields=["time_zone"])
    world.provider.user = provider_user
    world.provider.save(update_fields=["user"])
    start = local(world.location, 2026, 12, 1, 9)
    end = start + dt.timedelta(minutes=45)
    Appointment.objects.create(patient=world.patient, procedure_type=world.consult, provider=world.provider,
                               room=world.exam, location=world.location, starts_at=start, ends_at=end,
                               blocks_until=end)  # fmt: skip
    client.force_login(provider_user)
    content = client.get(reverse("scheduling:my_day"), {"date": "2026-12-01"}).content.decode()
    assert "9:00 AM" in content
    assert "10:00 AM" not in content


def test_my_day_without_a_linked_provider_says_so(client, provider_user):
    client.force_login(provider_user)
    assert "Your account is not linked to a provider." in client.get(reverse("scheduling:my_day")).content.decode()


def _book_many_for_patients(world, n, first=0):
    """n appointments of the world's provider on 1 December, each in its own room and patient."""
    for i in range(first, first + n):
        room = RoomFactory(location=world.location, name=f"Room {i}")
        start = local(world.location, 2026, 12, 1, 8, 30) + dt.timedelta(minutes=15 * i)
        end = start + dt.timedelta(minutes=15)
        Appointment.objects.create(
            patient=PatientFactory(), procedure_type=world.epidural, provider=world.provider, room=room,
            location=world.location, starts_at=start, ends_at=end, blocks_until=end,
        )  # fmt: skip


def test_my_day_query_count_is_constant(client, provider_user, world, django_assert_num_queries):
    world.provider.user = provider_user
    world.provider.save(update_fields=["user"])
    client.force_login(provider_user)
    params = {"date": "2026-12-01"}
    _book_many_for_patients(world, 2)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 the user's provider, 7 its locations (prefetch),
    # 8 appointments with patient, procedure, provider, room, location and referral joined,
    # 9-11 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(12):
        client.get(reverse("scheduling:my_day"), params)
    _book_many_for_patients(world, 10, first=2)
    with django_assert_num_queries(12):
        response = client.get(reverse("scheduling:my_day"), params)
    assert response.content.decode().count('href="/scheduling/appointments/') == 12


def test_queue_query_count_is_constant(client, scheduler, world, django_assert_num_queries):
    client.force_login(scheduler)
    ProcedureOrderFactory(procedure_type=world.epidural)  # an empty page of orders skips its query
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 accepted referrals with patient, first visit,
    # preferred provider and referring physician's practice joined,
    # 7 open orders counted, 8 the page of orders (patient, procedure, who ordered joined),
    # 9-11 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(12):
        client.get(reverse("scheduling:queue"))
    for urgency in ("urgent", "routine") * 5:
        ReferralFactory(status="accepted", urgency=urgency, first_visit=world.epidural,
                        preferred_provider=ProviderFactory(locations=[world.location]))  # fmt: skip
        ProcedureOrderFactory(procedure_type=world.epidural, urgency=urgency)
    with django_assert_num_queries(12):
        response = client.get(reverse("scheduling:queue"))
    assert response.content.decode().count("Find a slot<span") == 11
    assert response.content.decode().count("?order=") == 11


def test_referrers_and_intake_cannot_reach_scheduling(client, referrer, intake, world):
    for user in (referrer, intake):
        client.force_login(user)
        for name in ("scheduling:find", "scheduling:day", "scheduling:week", "scheduling:queue", "scheduling:my_day"):
            assert client.get(reverse(name)).status_code == 404
