"""The pages behind a patient's e-mailed links: confirm, ask to reschedule or cancel; no
login, no more than first name, date, time and place; any unusable link gets a clear page
with the phone number to call."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.outbox import messages_deliver_due
from referrals.models import ReferralDiagnosis
from scheduling import links
from scheduling.models import Appointment, AppointmentEvent, PatientRequest
from scheduling.services import booking
from scheduling.services.status import AppointmentMoved, appointment_confirm_by_patient
from tests.factories import LocationFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
RUSSELLVILLE_PHONE = "479-967-7770"
CONWAY_PHONE = "501-555-0100"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def appointment(world, scheduler) -> Appointment:
    """Tuesday 8 December 2026 at 09:00 in Russellville; another active location, Conway,
    comes first in the list, so a page that cannot know the place shows Conway's number."""
    LocationFactory(name="Conway", slug="conway", phone=CONWAY_PHONE)
    ReferralDiagnosis.objects.create(referral=world.referral, code="M54.6")
    return booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 8, 9, 0), referral=world.referral, now=NOW,
    )  # fmt: skip


def url(appointment, purpose: str) -> str:
    """A link as the e-mails make it: for the appointment's current version."""
    link = links.patient_link(appointment_id=appointment.pk, purpose=purpose, version=appointment.version)
    return link.removeprefix("http://localhost:8000")


def assert_no_more_than_first_name(content: str, appointment) -> None:
    patient = appointment.patient
    assert patient.first_name in content
    assert patient.last_name not in content
    assert "1961" not in content
    assert "04/12" not in content
    assert "M54" not in content
    assert appointment.procedure_type.name not in content


# --- Confirm -----------------------------------------------------------------------------------


def test_confirm_page_shows_date_time_and_place_with_the_first_name_only(client, appointment):
    response = client.get(url(appointment, links.CONFIRM))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Tuesday 8 December 2026" in content
    assert "9:00 AM (CST)" in content
    assert "Russellville" in content
    assert "2405 West Main Street, Suite H" in content
    assert RUSSELLVILLE_PHONE in content
    assert "Confirm I will come" in content
    assert_no_more_than_first_name(content, appointment)


def test_patient_pages_stand_alone_on_a_phone(client, appointment):
    content = client.get(url(appointment, links.CONFIRM)).content.decode()
    assert 'name="viewport"' in content
    assert "Log out" not in content
    assert "navbar" not in content
    assert "Scheduling" not in content


def test_confirming_records_it_without_a_user_and_twice_is_fine(client, appointment):
    confirm_url = url(appointment, links.CONFIRM)
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert response.url == confirm_url
    assert client.post(confirm_url).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    (event,) = AppointmentEvent.objects.filter(appointment=appointment, action="confirmed")
    assert event.actor is None
    content = client.get(confirm_url).content.decode()
    assert "you have confirmed you will come" in content
    assert "Confirm I will come" not in content


def test_a_moved_appointment_needs_confirming_again_from_the_new_link(client, appointment, world, scheduler):
    client.post(url(appointment, links.CONFIRM))
    moved = booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 10, 10, 0), now=NOW
    )
    confirm_url = url(moved, links.CONFIRM)
    content = client.get(confirm_url).content.decode()
    assert "Thursday 10 December 2026" in content
    assert "Confirm I will come" in content
    client.post(confirm_url)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.version) == (Appointment.Status.CONFIRMED, 2)


def test_the_links_in_the_confirmation_email_work(client, appointment):
    messages_deliver_due(now=NOW)
    (confirmation,) = [m for m in mail.outbox if m.to == [appointment.patient.email]]
    confirm_url, change_url = re.findall(r"http://localhost:8000(/p/\S+/)", confirmation.body)
    assert client.get(confirm_url).status_code == 200
    assert client.get(change_url).status_code == 200
    assert "/p/change/" in change_url


def test_csrf_is_required(appointment):
    client = Client(enforce_csrf_checks=True)
    confirm_url = url(appointment, links.CONFIRM)
    assert client.post(confirm_url).status_code == 403
    client.get(confirm_url)
    token = client.cookies["csrftoken"].value
    assert client.post(confirm_url, {"csrfmiddlewaretoken": token}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED


# --- Ask to reschedule or cancel ------------------------------------------------------------------


def test_asking_to_reschedule_lands_one_request_in_the_queue(client, appointment, scheduler):
    change_url = url(appointment, links.CHANGE)
    form = client.get(change_url).content.decode()
    assert "Reschedule" in form
    assert "Cancel" in form
    assert_no_more_than_first_name(form, appointment)

    response = client.post(change_url, {"kind": "reschedule", "reason": "Working that morning"})
    assert response.status_code == 302
    assert client.post(change_url, {"kind": "reschedule", "reason": "Working that morning"}).status_code == 302
    (request,) = PatientRequest.objects.filter(appointment=appointment)
    assert (request.kind, request.reason, request.handled_at) == ("reschedule", "Working that morning", None)
    assert "We have your request to reschedule" in client.get(change_url).content.decode()
    (event,) = AppointmentEvent.objects.filter(appointment=appointment, action="patient_asked_reschedule")
    assert event.actor is None
    assert "Working that morning" in event.note
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED  # a request, not a change

    staff = Client()
    staff.force_login(scheduler)
    queue = staff.get(reverse("scheduling:patient_requests")).content.decode()
    assert "Working that morning" in queue


def test_a_second_ask_updates_the_open_request(client, appointment):
    change_url = url(appointment, links.CHANGE)
    client.post(change_url, {"kind": "reschedule", "reason": ""})
    client.post(change_url, {"kind": "cancel", "reason": "Feeling better"})
    (request,) = PatientRequest.objects.filter(appointment=appointment)
    assert (request.kind, request.reason) == ("cancel", "Feeling better")
    actions = list(AppointmentEvent.objects.filter(appointment=appointment).values_list("action", flat=True))
    assert actions == ["booked", "patient_asked_reschedule", "patient_asked_cancel"]


def test_asking_to_cancel_needs_a_reason(client, appointment):
    response = client.post(url(appointment, links.CHANGE), {"kind": "cancel", "reason": "  "})
    assert response.status_code == 400
    assert "Please tell us why you would like to cancel." in response.content.decode()
    assert not PatientRequest.objects.exists()


def test_asking_without_choosing_is_refused_with_a_message(client, appointment):
    response = client.post(url(appointment, links.CHANGE), {"reason": "?"})
    assert response.status_code == 400
    assert "Choose whether you would like to reschedule or cancel." in response.content.decode()
    assert not PatientRequest.objects.exists()


# --- Links that cannot be used ------------------------------------------------------------------


def tampered(token_url: str) -> str:
    signature = token_url.split("/")[3].split(":")[-1]
    return token_url.replace(signature, signature[::-1])


@pytest.mark.parametrize(
    "make_url",
    [
        pytest.param(lambda a: tampered(url(a, links.CONFIRM)), id="tampered"),
        pytest.param(lambda a: url(a, links.CONFIRM).replace("/p/confirm/", "/p/change/"), id="wrong-purpose"),
        pytest.param(lambda a: url(a, links.CHANGE).replace("/p/change/", "/p/confirm/"), id="wrong-purpose-back"),
        pytest.param(lambda a: "/p/confirm/not-a-token/", id="garbage"),
        pytest.param(lambda a: url(a, links.CONFIRM)[:-12] + "/", id="cut-short"),
    ],
)
def test_a_link_that_is_not_genuine_is_refused_with_the_clinic_phone(client, appointment, make_url):
    for method in (client.get, client.post):
        response = method(make_url(appointment))
        assert response.status_code == 400
        content = response.content.decode()
        assert "This link is not valid." in content
        assert CONWAY_PHONE in content  # the place is not known: the first active location's
        assert appointment.patient.first_name not in content
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert not PatientRequest.objects.exists()


@pytest.mark.parametrize("purpose", [links.CONFIRM, links.CHANGE])
def test_an_expired_link_is_refused_with_the_locations_phone(client, world, scheduler, frozen, purpose):
    LocationFactory(name="Conway", slug="conway", phone=CONWAY_PHONE)
    later = booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2027, 1, 12, 9, 0), referral=world.referral, now=NOW,
    )  # fmt: skip
    link = url(later, purpose)
    frozen.move_to(NOW + dt.timedelta(days=31))
    response = client.post(link, {"kind": "reschedule"})
    assert response.status_code == 410
    content = response.content.decode()
    assert "This link has expired." in content
    assert RUSSELLVILLE_PHONE in content
    assert CONWAY_PHONE not in content
    later.refresh_from_db()
    assert later.status == Appointment.Status.BOOKED
    assert not PatientRequest.objects.exists()


@pytest.mark.parametrize("purpose", [links.CONFIRM, links.CHANGE])
def test_a_link_to_a_cancelled_appointment_is_refused(client, appointment, scheduler, purpose):
    booking.appointment_cancel(appointment=appointment, actor=scheduler, reason="Clinic closed", now=NOW)
    response = client.post(url(appointment, purpose), {"kind": "reschedule"})
    assert response.status_code == 410
    assert "This appointment was cancelled." in response.content.decode()
    assert RUSSELLVILLE_PHONE in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


@pytest.mark.parametrize("purpose", [links.CONFIRM, links.CHANGE])
def test_a_link_to_a_past_appointment_is_refused(client, appointment, frozen, purpose):
    link = url(appointment, purpose)
    frozen.move_to(dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC))
    response = client.post(link, {"kind": "cancel", "reason": "Too late"})
    assert response.status_code == 410
    assert "This appointment has already taken place." in response.content.decode()
    assert RUSSELLVILLE_PHONE in response.content.decode()
    assert not PatientRequest.objects.exists()


# --- Links made before a move, and links made from links -----------------------------------------


def emailed_links(appointment) -> tuple[str, str]:
    """The confirm and change links of the newest e-mail the patient was sent."""
    messages_deliver_due(now=timezone.now())
    latest = [m for m in mail.outbox if m.to == [appointment.patient.email]][-1]
    confirm_url, change_url = re.findall(r"http://localhost:8000(/p/\S+/)", latest.body)
    return confirm_url, change_url


def move(appointment, world, scheduler) -> Appointment:
    return booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 10, 10, 0), now=NOW
    )


def test_a_confirm_link_from_before_a_move_shows_the_new_time_and_confirms_nothing(
    client, appointment, world, scheduler
):
    old_confirm, _ = emailed_links(appointment)
    move(appointment, world, scheduler)
    for method in (client.get, client.post):
        response = method(old_confirm)
        assert response.status_code == 410
        content = response.content.decode()
        assert "This link was for an earlier time." in content
        assert "Thursday 10 December 2026" in content  # where the appointment is now
        assert "10:00 AM (CST)" in content
        assert "Confirm I will come" not in content
        assert RUSSELLVILLE_PHONE in content
        assert_no_more_than_first_name(content, appointment)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert not AppointmentEvent.objects.filter(appointment=appointment, action="confirmed").exists()


def test_the_reschedule_notice_links_confirm_the_new_time(client, appointment, world, scheduler):
    emailed_links(appointment)
    move(appointment, world, scheduler)
    new_confirm, new_change = emailed_links(appointment)
    assert client.get(new_change).status_code == 200
    assert client.post(new_confirm).status_code == 302
    appointment.refresh_from_db()
    assert (appointment.status, appointment.version) == (Appointment.Status.CONFIRMED, 2)


def test_a_change_link_from_before_a_move_asks_for_nothing(client, appointment, world, scheduler):
    _, old_change = emailed_links(appointment)
    move(appointment, world, scheduler)
    response = client.post(old_change, {"kind": "cancel", "reason": "Feeling better"})
    assert response.status_code == 410
    assert "This link was for an earlier time." in response.content.decode()
    assert not PatientRequest.objects.exists()


def test_a_move_between_the_page_and_the_click_confirms_nothing(appointment, world, scheduler):
    """The version is compared under the row lock, not only when the page was read."""
    version_seen = appointment.version
    move(appointment, world, scheduler)
    with pytest.raises(AppointmentMoved):
        appointment_confirm_by_patient(appointment=appointment, version=version_seen)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_the_change_link_on_the_confirm_page_expires_with_the_confirm_link(client, world, scheduler, frozen):
    later = booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2027, 1, 12, 9, 0), referral=world.referral, now=NOW,
    )  # fmt: skip
    confirm_url, _ = emailed_links(later)  # good for 30 days from now
    frozen.move_to(NOW + dt.timedelta(days=29))
    page = client.get(confirm_url).content.decode()
    (change_url,) = re.findall(r'href="http://localhost:8000(/p/change/[^"]+/)"', page)
    parent = links.read_token(confirm_url.split("/")[3], purpose=links.CONFIRM)
    child = links.read_token(change_url.split("/")[3], purpose=links.CHANGE)
    assert child.expires_at == parent.expires_at == NOW + dt.timedelta(days=30)
    assert client.get(change_url).status_code == 200
    frozen.move_to(NOW + dt.timedelta(days=30, seconds=1))
    response = client.post(change_url, {"kind": "reschedule"})
    assert response.status_code == 410
    assert "This link has expired." in response.content.decode()
    assert not PatientRequest.objects.exists()


def legacy_token(appointment, purpose: str) -> str:
    """A token as signed before links carried the appointment's version."""
    expires = int((NOW + dt.timedelta(days=30)).timestamp())
    return signing.dumps({"a": appointment.pk, "p": purpose, "x": expires}, salt=links.SALT, compress=True)


def test_a_link_signed_before_versions_works_until_the_appointment_moves(client, appointment, world, scheduler):
    legacy = reverse("patient:confirm", args=[legacy_token(appointment, links.CONFIRM)])
    assert client.get(legacy).status_code == 200
    move(appointment, world, scheduler)
    assert client.post(legacy).status_code == 410
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_a_confirm_or_change_link_cannot_be_made_without_the_version():
    for purpose in (links.CONFIRM, links.CHANGE):
        with pytest.raises(ValueError, match="version"):
            links.make_token(appointment_id=1, purpose=purpose)
