"""Follow-up checks: planned when a procedure is completed, e-mailed with a signed link to a
short form, answered by the patient, shown to the provider, and the silent ones queued for a
call after one reminder."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from clinic import outbox
from clinic.models import AuditEvent, FollowUpCheck, OutgoingMessage
from scheduling import links, selectors
from scheduling.forms import patient as patient_forms
from scheduling.models import Appointment, FollowUp
from scheduling.services import booking, follow_ups
from scheduling.services.status import appointment_set_status
from tests.factories import PatientFactory, ProcedureTypeFactory, RoomCapabilityFactory, clinic_repeat_rules

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
BOOKED_AT = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville
# The procedure is on Tuesday 1 December 2026 at 09:00 and completed at 10:00 local time.
STARTS = dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO)
COMPLETED = dt.datetime(2026, 12, 1, 10, 0, tzinfo=CHICAGO)


@pytest.fixture
def procedures(world) -> dict:
    """The seeded defaults: medial branch block 6 hours, epidural 14 days, ablation 28 days."""
    fluoroscopy = RoomCapabilityFactory(slug="fluoroscopy")
    mbb = ProcedureTypeFactory(name="Medial branch block", slug="mbb", duration_minutes=30,
                               locations=[world.location], required_capabilities=[fluoroscopy])  # fmt: skip
    rfa = ProcedureTypeFactory(name="Radiofrequency ablation", slug="rfa", duration_minutes=60,
                               locations=[world.location], required_capabilities=[fluoroscopy])  # fmt: skip
    clinic_repeat_rules(mbb, min_days=7)
    clinic_repeat_rules(rfa, min_days=180)
    FollowUpCheck.objects.create(procedure_type=mbb, after=6, unit="hours", purpose="pain diary")
    FollowUpCheck.objects.create(procedure_type=world.epidural, after=14, unit="days", purpose="relief check")
    FollowUpCheck.objects.create(procedure_type=rfa, after=28, unit="days", purpose="relief check")
    return {"mbb": mbb, "esi": world.epidural, "rfa": rfa}


def complete(world, actor, procedure_type, *, patient=None, starts=STARTS, completed=COMPLETED) -> Appointment:
    """Book (from the referral), check in and complete one procedure, each at its own moment."""
    patient = patient or world.patient
    referral = world.referral if patient == world.patient else None
    with time_machine.travel(BOOKED_AT, tick=False):
        appointment = booking.appointment_book(
            actor=actor, patient=patient, procedure_type=procedure_type, location=world.location,
            provider=world.provider, starts_at=starts, referral=referral,
        )  # fmt: skip
    with time_machine.travel(starts, tick=False):
        appointment_set_status(appointment=appointment, status="checked_in", actor=actor)
    with time_machine.travel(completed, tick=False):
        return appointment_set_status(appointment=appointment, status="completed", actor=actor)


def follow_up_mail(subject_start: str) -> list:
    return [m for m in mail.outbox if m.subject.startswith(subject_start)]


def deliver(at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False):
        outbox.messages_deliver_due(now=at)


def link_in(text: str) -> str:
    match = re.search(r"https?://\S+/p/follow-up/[^/\s\"]+/", text)
    assert match, text
    return match.group(0)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def answer(client, url: str, **data):
    values = {"pain_now": "3", "percent_relief": "60", "relief_lasted": "weeks", "comments": ""}
    values.update(data)
    return client.post(path_of(url), values)


# --- Planning --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "due_local"),
    [
        ("mbb", dt.datetime(2026, 12, 1, 16, 0, tzinfo=CHICAGO)),  # 6 hours after completion
        ("esi", dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHICAGO)),  # 14 days
        ("rfa", dt.datetime(2026, 12, 29, 10, 0, tzinfo=CHICAGO)),  # 28 days
    ],
)
def test_completion_plans_the_follow_up_and_its_emails_at_the_procedure_types_offset(
    world, scheduler, procedures, slug, due_local
):
    appointment = complete(world, scheduler, procedures[slug])
    follow_up = FollowUp.objects.get(appointment=appointment)
    assert follow_up.due_at == due_local
    assert follow_up.follow_up_check.procedure_type == procedures[slug]
    owed = OutgoingMessage.objects.filter(topic=f"follow-up:{follow_up.pk}").order_by("due_at")
    assert [(m.kind, m.due_at, m.to_email) for m in owed] == [
        ("follow_up", due_local, world.patient.email),
        ("follow_up_reminder", due_local + dt.timedelta(days=3), world.patient.email),
    ]


def test_a_procedure_without_follow_up_checks_plans_none(world, scheduler, procedures):
    appointment = complete(world, scheduler, world.consult)
    assert not appointment.follow_ups.exists()
    assert not OutgoingMessage.objects.filter(kind__startswith="follow_up").exists()


def test_day_offsets_keep_the_wall_clock_across_the_end_of_daylight_saving():
    check = FollowUpCheck(after=14, unit="days")
    completed = dt.datetime(2026, 10, 27, 10, 0, tzinfo=CHICAGO)  # CDT, UTC-5
    due = follow_ups.follow_up_due_at(check=check, completed_at=completed, zone=CHICAGO)
    assert due.astimezone(CHICAGO).replace(tzinfo=None) == dt.datetime(2026, 11, 10, 10, 0)  # CST, UTC-6
    assert due - completed == dt.timedelta(days=14, hours=1)


def test_hour_offsets_are_real_elapsed_hours_across_the_end_of_daylight_saving():
    check = FollowUpCheck(after=6, unit="hours")
    completed = dt.datetime(2026, 10, 31, 22, 0, tzinfo=CHICAGO)  # clocks fall back at 02:00
    due = follow_ups.follow_up_due_at(check=check, completed_at=completed, zone=CHICAGO)
    assert due - completed == dt.timedelta(hours=6)
    assert due.astimezone(CHICAGO).replace(tzinfo=None) == dt.datetime(2026, 11, 1, 3, 0)


def test_a_patient_who_cannot_be_emailed_gets_no_follow_up_email(world, scheduler, procedures):
    world.patient.email_consent = False
    world.patient.save()
    appointment = complete(world, scheduler, procedures["esi"])
    assert appointment.follow_ups.count() == 1
    assert not OutgoingMessage.objects.filter(kind__startswith="follow_up").exists()


# --- The e-mail and the form -------------------------------------------------------------


def test_the_email_is_sent_when_due_with_a_working_signed_link_in_both_parts(client, world, scheduler, procedures):
    complete(world, scheduler, procedures["esi"])
    due = dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHICAGO)
    deliver(due - dt.timedelta(minutes=1))
    assert follow_up_mail("How are you feeling") == []
    deliver(due)
    [message] = follow_up_mail("How are you feeling")
    assert message.to == [world.patient.email]
    assert message.subject == "How are you feeling since your visit to Russellville?"
    assert "Epidural" not in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    url = link_in(message.body)
    assert url.replace("&", "&amp;") in html or url in html
    assert "Tuesday 1 December 2026" in message.body
    assert "479-967-7770" in message.body
    assert "479-967-7770" in html
    with time_machine.travel(due + dt.timedelta(hours=2), tick=False):
        page = client.get(path_of(url))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Hello Jordan" in content
    assert 'name="pain_now"' in content
    assert 'name="relief_lasted"' in content


def test_the_answer_is_stored_withdraws_the_reminder_and_is_shown_to_the_provider(
    client, world, scheduler, provider_user, procedures
):
    appointment = complete(world, scheduler, procedures["esi"])
    due = dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHICAGO)
    deliver(due)
    url = link_in(follow_up_mail("How are you feeling")[0].body)
    with time_machine.travel(due + dt.timedelta(hours=5), tick=False):
        response = answer(client, url, pain_now="2", percent_relief="70", relief_lasted="ongoing",
                          comments="Walking my dog again.")  # fmt: skip
        assert response.status_code == 302
        thanks = client.get(path_of(url)).content.decode()
    assert "we have your answers" in thanks
    follow_up = appointment.follow_ups.get()
    assert (follow_up.pain_now, follow_up.percent_relief, follow_up.relief_lasted, follow_up.comments) == (
        2, 70, "ongoing", "Walking my dog again.",
    )  # fmt: skip
    assert follow_up.answered_at == due + dt.timedelta(hours=5)
    assert OutgoingMessage.objects.get(kind="follow_up_reminder").status == OutgoingMessage.Status.CANCELLED
    deliver(due + dt.timedelta(days=4))
    assert follow_up_mail("Reminder: how") == []
    # One row per page: the answer (its view upgraded to the change), then the receipt's view.
    rows = AuditEvent.objects.filter(object_type="scheduling.FollowUp", object_id=str(follow_up.pk))
    assert list(rows.order_by("id").values_list("action", flat=True)) == ["update", "view"]

    client.force_login(provider_user)
    page = client.get(reverse("scheduling:appointment", args=[appointment.pk])).content.decode()
    assert "Follow-up checks" in page
    assert "Pain now 2/10 · 70% relief · lasted still going on" in page
    assert "Walking my dog again." in page


def test_bad_input_gets_a_specific_message_and_keeps_what_was_typed(client, world, scheduler, procedures):
    appointment = complete(world, scheduler, procedures["esi"])
    due = dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHICAGO)
    deliver(due)
    url = link_in(follow_up_mail("How are you feeling")[0].body)
    with time_machine.travel(due, tick=False):
        response = answer(client, url, pain_now="11", percent_relief="lots", relief_lasted="forever",
                          comments="Sore on the left side.")  # fmt: skip
        assert response.status_code == 400
        content = response.content.decode()
        assert patient_forms.PAIN_NEEDED in content
        assert patient_forms.RELIEF_NEEDED in content
        assert patient_forms.LASTED_NEEDED in content
        assert 'value="11"' in content
        assert "Sore on the left side." in content
        missing = answer(client, url, pain_now="", percent_relief="-5", relief_lasted="")
        assert missing.status_code == 400
        assert patient_forms.PAIN_NEEDED in missing.content.decode()
        assert patient_forms.RELIEF_NEEDED in missing.content.decode()
    assert appointment.follow_ups.get().answered_at is None


def test_answering_twice_keeps_the_first_answer(client, world, scheduler, procedures):
    appointment = complete(world, scheduler, procedures["esi"])
    due = dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHICAGO)
    deliver(due)
    url = link_in(follow_up_mail("How are you feeling")[0].body)
    with time_machine.travel(due, tick=False):
        assert answer(client, url, pain_now="4", percent_relief="40").status_code == 302
    with time_machine.travel(due + dt.timedelta(days=1), tick=False):
        again = answer(client, url, pain_now="9", percent_relief="0", relief_lasted="none")
        assert again.status_code in (200, 302)
        page = client.get(path_of(url))
    assert page.status_code == 200
    assert "this form keeps your first answers" in page.content.decode()
    follow_up = appointment.follow_ups.get()
    assert (follow_up.pain_now, follow_up.percent_relief, follow_up.answered_at) == (4, 40, due)


# --- Links refused ---------------------------------------------------------------------------


def test_a_tampered_link_is_refused_with_the_clinic_phone(client, world, scheduler, procedures):
    appointment = complete(world, scheduler, procedures["esi"])
    follow_up = appointment.follow_ups.get()
    token = links.make_token(appointment_id=appointment.pk, purpose=links.FOLLOW_UP, follow_up_id=follow_up.pk)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    confirm_token = links.make_token(appointment_id=appointment.pk, purpose=links.CONFIRM, version=1)
    for bad in (tampered, confirm_token, "not-a-token"):
        response = client.get(reverse("patient:follow-up", args=[bad]))
        assert response.status_code == 400, bad
        assert "This link is not valid" in response.content.decode()
        assert "479-967-7770" in response.content.decode()
    assert client.post(reverse("patient:follow-up", args=[tampered]), {"pain_now": "1"}).status_code == 400
    assert FollowUp.objects.get(pk=follow_up.pk).answered_at is None


def test_a_link_naming_another_appointments_follow_up_is_refused(client, world, scheduler, procedures):
    appointment = complete(world, scheduler, procedures["esi"])
    follow_up = appointment.follow_ups.get()
    token = links.make_token(appointment_id=appointment.pk + 1, purpose=links.FOLLOW_UP, follow_up_id=follow_up.pk)
    assert client.get(reverse("patient:follow-up", args=[token])).status_code == 400


def test_a_link_expires_thirty_days_after_the_check_was_due(client, world, scheduler, procedures):
    complete(world, scheduler, procedures["rfa"])  # signed at completion, 28 days before it is due
    due = dt.datetime(2026, 12, 29, 10, 0, tzinfo=CHICAGO)
    deliver(due)
    path = path_of(link_in(follow_up_mail("How are you feeling")[0].body))
    with time_machine.travel(due + dt.timedelta(days=30) - dt.timedelta(minutes=1), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(due + dt.timedelta(days=30, minutes=1), tick=False):
        response = client.get(path)
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
        assert "479-967-7770" in response.content.decode()
        assert client.post(path, {"pain_now": "1", "percent_relief": "1", "relief_lasted": "none"}).status_code == 410


# --- Reminder and the "no response" queue ----------------------------------------------------


def test_one_reminder_after_three_days_then_the_no_response_queue(client, world, scheduler, procedures):
    appointment = complete(world, scheduler, procedures["esi"])
    due = dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHICAGO)
    deliver(due)
    deliver(due + dt.timedelta(days=3) - dt.timedelta(minutes=1))
    assert follow_up_mail("Reminder: how") == []
    deliver(due + dt.timedelta(days=3))
    [reminder] = follow_up_mail("Reminder: how")
    assert "We have not heard from you yet" in reminder.body
    assert link_in(reminder.body) == link_in(follow_up_mail("How are you feeling")[0].body)
    deliver(due + dt.timedelta(days=30))
    assert len(follow_up_mail("Reminder: how")) == 1  # one reminder, never a second

    with time_machine.travel(due + dt.timedelta(days=6) - dt.timedelta(minutes=1), tick=False):
        client.force_login(scheduler)  # sessions idle out after an hour: log in at each moment
        before = client.get(reverse("scheduling:no_response")).content.decode()
        assert "Nobody to call." in before
        assert "Reyes" not in before
    with time_machine.travel(due + dt.timedelta(days=6), tick=False):
        client.force_login(scheduler)
        page = client.get(reverse("scheduling:no_response")).content.decode()
    assert "Reyes, Jordan" in page
    assert follow_ups.NO_ANSWER in page
    assert reverse("scheduling:follow_up_close", args=[appointment.follow_ups.get().pk]) in page


def test_a_late_answer_takes_the_check_off_the_queue(client, world, scheduler, procedures):
    appointment = complete(world, scheduler, procedures["esi"])
    due = dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHICAGO)
    deliver(due)
    url = link_in(follow_up_mail("How are you feeling")[0].body)
    late = due + dt.timedelta(days=8)
    with time_machine.travel(late, tick=False):
        assert [f.pk for f in selectors.follow_ups_no_response()] == [appointment.follow_ups.get().pk]
        assert answer(client, url).status_code == 302
        assert selectors.follow_ups_no_response() == []


def test_a_patient_who_cannot_be_emailed_is_listed_as_soon_as_the_check_is_due(world, scheduler, procedures):
    world.patient.email = ""
    world.patient.save()
    appointment = complete(world, scheduler, procedures["esi"])
    due = dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHICAGO)
    assert selectors.follow_ups_no_response(now=due - dt.timedelta(minutes=1)) == []
    [listed] = selectors.follow_ups_no_response(now=due)
    assert listed.appointment == appointment
    assert listed.why == follow_ups.NOT_EMAILED


def test_staff_close_an_unanswered_check_with_a_note(client, world, scheduler, procedures):
    appointment = complete(world, scheduler, procedures["esi"])
    follow_up = appointment.follow_ups.get()
    later = dt.datetime(2026, 12, 22, 10, 0, tzinfo=CHICAGO)
    close_url = reverse("scheduling:follow_up_close", args=[follow_up.pk])
    with time_machine.travel(later, tick=False):
        client.force_login(scheduler)
        refused = client.post(close_url, {"note": "  "}, follow=True).content.decode()
        assert follow_ups.CLOSE_NEEDS_NOTE in refused
        assert "Reyes, Jordan" in refused
        done = client.post(close_url, {"note": "Called: 50% better, will call back."}, follow=True)
        page = done.content.decode()
        assert "Follow-up closed: Jordan Reyes." in page
        assert "Nobody to call." in page
        again = client.post(close_url, {"note": "Twice"}, follow=True).content.decode()
        assert follow_ups.ALREADY_DONE in again
    follow_up.refresh_from_db()
    assert (follow_up.closed_at, follow_up.closed_by, follow_up.closed_note) == (
        later, scheduler, "Called: 50% better, will call back.",
    )  # fmt: skip


def test_only_schedulers_reach_the_no_response_queue(client, referrer, provider_user):
    url = reverse("scheduling:no_response")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (referrer, provider_user):
        client.force_login(user)
        assert client.get(url).status_code == 404


def _unanswered(world, count: int, *, first: int = 0) -> None:
    """Completed appointments with an unanswered check, for patients we cannot e-mail."""
    for n in range(first, first + count):
        patient = PatientFactory(first_name=f"Pat{n}", email="")
        starts = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC) + dt.timedelta(hours=n)
        appointment = Appointment.objects.create(
            patient=patient, procedure_type=world.epidural, provider=world.provider, room=world.fluoro,
            location=world.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30),
            blocks_until=starts + dt.timedelta(minutes=45), status=Appointment.Status.COMPLETED,
        )  # fmt: skip
        FollowUp.objects.create(appointment=appointment, due_at=starts + dt.timedelta(days=14))


def test_no_response_queue_query_count_is_constant(client, world, scheduler, django_assert_num_queries):
    _unanswered(world, 2)
    url = reverse("scheduling:no_response")
    with time_machine.travel(dt.datetime(2026, 12, 20, 15, 0, tzinfo=dt.UTC), tick=False):
        client.force_login(scheduler)
        # 1 session, 2 user, 3 the session's second-factor device (django-otp),
        # 4-5 permissions (user, groups), 6 follow-ups with appointment,
        # patient, procedure, location and provider joined, 7-9 savepoint, session save, release
        # and one more: the audit rows of the records shown (one insert)
        with django_assert_num_queries(10):
            assert client.get(url).content.decode().count("Close<span") == 2
        _unanswered(world, 8, first=2)
        with django_assert_num_queries(10):
            assert client.get(url).content.decode().count("Close<span") == 10


def test_a_too_long_close_note_is_refused_beside_the_field_with_the_text_kept(client, world, scheduler, procedures):
    """Before, any refused note redirected with "write what happened" and lost the text."""
    from scheduling.forms.queues import NOTE_TOO_LONG

    follow_up = complete(world, scheduler, procedures["esi"]).follow_ups.get()
    note = "Called the patient. " * 16 + "Done."  # 325 characters
    with time_machine.travel(dt.datetime(2026, 12, 22, 10, 0, tzinfo=CHICAGO), tick=False):
        client.force_login(scheduler)
        response = client.post(reverse("scheduling:follow_up_close", args=[follow_up.pk]), {"note": note})
    assert response.status_code == 400
    page = response.content.decode()
    assert NOTE_TOO_LONG % {"limit_value": 300, "show_value": 325} in page
    assert f'value="{note}"' in page
    assert follow_ups.CLOSE_NEEDS_NOTE not in page
    follow_up.refresh_from_db()
    assert follow_up.closed_at is None
