"""The scheduler's pages: queue, finder, booking with a confirm step, appointment actions,
day calendar and a provider's day."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from scheduling import services
from scheduling.models import Appointment
from tests.factories import PatientFactory, ReferralFactory
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
    assert "Tuesday 24 November 2026" in content
    assert "8:30 AM · Dr. Priya Patel · Exam 1 · Russellville" in content


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
    assert services.JUST_TAKEN in content
    assert "Next free times" in content
    assert Appointment.objects.count() == 1


def test_a_refused_booking_shows_the_rule_and_saves_nothing(client, scheduler, world):
    client.force_login(scheduler)
    response = client.post(reverse("scheduling:book"), book_params(world, local(world.location, 2026, 12, 1, 18)))
    assert response.status_code == 400
    assert "outside Russellville&#x27;s hours on Tuesday" in response.content.decode()
    assert not Appointment.objects.exists()


def test_cancel_needs_a_reason_and_status_changes_follow_the_table(client, scheduler, world):
    appointment = services.appointment_book(
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
    assert content.count("Epidural steroid injection") == 2
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
    # 1 session, 2 user, 3-4 permissions, 5 locations, 6 appointments with patient,
    # procedure, provider, room, location and referral joined, 7 providers of the location,
    # 8 closures, 9 weekday mode, 10-12 savepoint, session save, release
    with django_assert_num_queries(12):
        client.get(reverse("scheduling:day"), params)
    _book_many(world, scheduler, 12, first=2)
    with django_assert_num_queries(12):
        client.get(reverse("scheduling:day"), params)


def test_my_day_lists_the_providers_own_appointments(client, provider_user, world, scheduler):
    world.provider.user = provider_user
    world.provider.save()
    services.appointment_book(actor=scheduler, patient=world.patient, procedure_type=world.consult,
                              location=world.location, provider=world.provider,
                              starts_at=local(world.location, 2026, 12, 1, 9), referral=world.referral)  # fmt: skip
    client.force_login(provider_user)
    content = client.get(reverse("scheduling:my_day"), {"date": "2026-12-01"}).content.decode()
    assert "9:00 AM" in content
    assert "Jordan Reyes" in content


def test_referrers_and_intake_cannot_reach_scheduling(client, referrer, intake, world):
    for user in (referrer, intake):
        client.force_login(user)
        for name in ("scheduling:find", "scheduling:day", "scheduling:queue"):
            assert client.get(reverse(name)).status_code == 404
