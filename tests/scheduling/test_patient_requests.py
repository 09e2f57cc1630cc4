"""The scheduler's "Patient requests" queue: what patients asked through their links, with
the way to act on it, and a request leaves the queue once handled."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from clinic.models import AuditEvent
from scheduling.models import Appointment, AppointmentEvent, PatientRequest
from scheduling.services import booking, patient_requests
from tests.factories import PatientFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def appointment_for(world, i: int, **patient) -> Appointment:
    start = local(world.location, 2026, 12, 1, 8, 30) + dt.timedelta(minutes=30 * i)
    end = start + dt.timedelta(minutes=30)
    return Appointment.objects.create(
        patient=PatientFactory(**patient), procedure_type=world.epidural, provider=world.provider, room=world.fluoro,
        location=world.location, starts_at=start, ends_at=end, blocks_until=end,
    )  # fmt: skip


def ask(appointment, kind="reschedule", reason="Working that morning", at=NOW) -> PatientRequest:
    return patient_requests.patient_request_submit(appointment=appointment, kind=kind, reason=reason, now=at)


def test_the_queue_lists_open_requests_with_the_way_to_act(client, scheduler, world, frozen):
    appointment = appointment_for(world, 0, first_name="Avery", last_name="Stone")
    ask(appointment, kind="cancel", reason="Moving away", at=NOW - dt.timedelta(hours=3))
    client.force_login(scheduler)
    content = client.get(reverse("scheduling:patient_requests")).content.decode()
    assert "Stone, Avery" in content
    assert "Tue 1 Dec 2026, 8:30 AM CST" in content
    assert "Cancel</span>" in content
    assert "Moving away" in content
    assert "3\xa0hours ago" in content
    find = f"{reverse('scheduling:find')}?procedure_type={world.epidural.pk}&amp;appointment={appointment.pk}"
    assert find in content
    assert f'href="{appointment.get_absolute_url()}"' in content
    assert reverse("scheduling:patient_request_handled", args=[appointment.patient_requests.get().pk]) in content


def test_marking_handled_takes_it_off_the_queue_and_records_who(client, scheduler, world):
    request = ask(appointment_for(world, 0, last_name="Stone"))
    client.force_login(scheduler)
    handled = reverse("scheduling:patient_request_handled", args=[request.pk])
    response = client.post(handled, {"note": "Called, moved to next week"}, follow=True)
    assert "Request marked handled." in response.content.decode()
    assert "Stone" not in response.content.decode()
    request.refresh_from_db()
    assert (request.handled_at, request.handled_by, request.handled_note) == (
        NOW,
        scheduler,
        "Called, moved to next week",
    )
    assert AppointmentEvent.objects.filter(action="patient_request_handled", actor=scheduler).count() == 1
    assert AuditEvent.objects.filter(object_type="scheduling.PatientRequest", object_id=str(request.pk)).exists()
    again = client.post(handled, follow=True)
    assert "That request was already handled." in again.content.decode()


def test_moving_or_cancelling_the_appointment_handles_its_request(world, scheduler):
    moved, cancelled = appointment_for(world, 0), appointment_for(world, 1)
    ask(moved)
    ask(cancelled, kind="cancel", reason="Feeling better")
    booking.appointment_reschedule(
        appointment=moved, actor=scheduler, starts_at=local(world.location, 2026, 12, 3, 10, 0), now=NOW
    )
    booking.appointment_cancel(appointment=cancelled, actor=scheduler, reason="Patient asked", now=NOW)
    notes = dict(PatientRequest.objects.values_list("appointment_id", "handled_note"))
    assert notes == {moved.pk: patient_requests.HANDLED_BY_RESCHEDULE, cancelled.pk: patient_requests.HANDLED_BY_CANCEL}
    assert set(PatientRequest.objects.values_list("handled_by", flat=True)) == {scheduler.pk}


def test_a_new_ask_after_a_handled_one_opens_a_new_request(world, scheduler):
    appointment = appointment_for(world, 0)
    first = ask(appointment)
    patient_requests.patient_request_mark_handled(request=first, actor=scheduler, now=NOW)
    second = ask(appointment, kind="cancel", reason="Feeling better")
    assert second.pk != first.pk
    assert list(PatientRequest.objects.filter(handled_at__isnull=True)) == [second]


def test_clinic_admins_see_the_queue_too(client, clinic_admin):
    """Admins can act on what they see: the reschedule and cancel pages admit them too."""
    client.force_login(clinic_admin)
    assert client.get(reverse("scheduling:patient_requests")).status_code == 200


@pytest.mark.parametrize("role", ["referrer", "provider_user", "intake"])
def test_other_roles_get_404(client, request, world, role):
    patient_request = ask(appointment_for(world, 0))
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("scheduling:patient_requests")).status_code == 404
    assert client.post(reverse("scheduling:patient_request_handled", args=[patient_request.pk])).status_code == 404
    patient_request.refresh_from_db()
    assert patient_request.handled_at is None


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("scheduling:patient_requests"))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_queue_query_count_is_constant(client, scheduler, world, django_assert_num_queries):
    for i in range(2):
        ask(appointment_for(world, i))
    client.force_login(scheduler)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions (user, groups), 6 open requests with appointment,
    # patient, location, procedure and provider joined, 7-9 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(10):
        assert client.get(reverse("scheduling:patient_requests")).content.decode().count("Mark handled") == 2
    for i in range(2, 8):
        ask(appointment_for(world, i))
    with django_assert_num_queries(10):
        assert client.get(reverse("scheduling:patient_requests")).content.decode().count("Mark handled") == 8


def test_a_long_reason_is_kept_in_full_and_the_history_note_is_visibly_cut(world):
    """The patient may write 1,000 characters; the appointment history's note column holds
    300. Before, the note was cut silently and the rest lost from the history."""
    reason = ("I have to travel for a family funeral and cannot drive after the injection. " * 12).strip()
    assert 300 < len(reason) <= 1000
    request = ask(appointment_for(world, 0), kind="cancel", reason=reason)
    assert PatientRequest.objects.get(pk=request.pk).reason == reason
    event = AppointmentEvent.objects.get(action="patient_asked_cancel")
    assert event.after["reason"] == reason
    assert len(event.note) == 300
    assert event.note.endswith("…")
    assert event.note.startswith("Patient asked to cancel: I have to travel")
