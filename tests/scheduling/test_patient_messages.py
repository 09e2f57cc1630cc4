"""A patient's appointment e-mails: owed in the ledger when the appointment is booked, moved
or cancelled, delivered at their moment and never for a withdrawn one; reminders on the
location's wall clock across daylight saving; an .ics that calendars read."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from clinic.models import OutgoingMessage, ReminderOffset
from clinic.outbox import messages_deliver_due
from referrals.models import ReferralDiagnosis
from scheduling.services import booking, patient_mail
from scheduling.views.patient import LINK_EXPIRED
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 CST
PREPARATION = (
    "If you take a blood thinner, tell us: we will agree a plan with the doctor who prescribes it.\n"
    "Bring a photo ID, your insurance card and any imaging not already sent to us."
)
Q = OutgoingMessage.Status


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(world):
    """The epidural with the default reminders (3 days with preparation, 1 day) and its
    preparation; the referral carries a diagnosis that must never reach the patient's mail."""
    pt = world.epidural
    pt.driver, pt.fasting_hours, pt.preparation = "if_sedated", 6, PREPARATION
    pt.save()
    ReminderOffset.objects.create(procedure_type=pt, days_before=3, include_preparation=True)
    ReminderOffset.objects.create(procedure_type=pt, days_before=1, include_preparation=False)
    ReferralDiagnosis.objects.create(referral=world.referral, code="M54.6")
    world.patient.email = "jordan.reyes@mail.example"
    world.patient.save()
    return world


def book(world, actor, when, *, now=NOW):
    return booking.appointment_book(
        actor=actor, patient=world.patient, procedure_type=world.epidural, location=world.location,
        provider=world.provider, starts_at=when, referral=world.referral, now=now,
    )  # fmt: skip


def ledger(appointment) -> list[tuple[str, dt.datetime, str]]:
    rows = OutgoingMessage.objects.filter(topic=f"appointment:{appointment.pk}").order_by("due_at", "id")
    return [(row.kind, row.due_at, row.status) for row in rows]


def deliver_at(traveller, moment: dt.datetime) -> list:
    """Move the clock, run delivery, return the patient's new e-mails."""
    traveller.move_to(moment)
    before = len(mail.outbox)
    messages_deliver_due(now=moment)
    return [m for m in mail.outbox[before:] if m.to == ["jordan.reyes@mail.example"]]


def html_of(message) -> str:
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return html


def ics_of(message) -> icalendar.Calendar:
    (attachment,) = message.attachments
    assert attachment.filename == "appointment.ics"
    assert attachment.mimetype.startswith("text/calendar")
    return icalendar.Calendar.from_ical(attachment.content)


def event_of(message):
    return ics_of(message).walk("VEVENT")[0]


# --- Planning --------------------------------------------------------------------------------


def test_booking_owes_a_confirmation_now_and_reminders_3_and_1_days_before(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))  # Tuesday 09:00 CST
    assert ledger(appointment) == [
        (patient_mail.CONFIRMATION, NOW, Q.QUEUED),
        (patient_mail.REMINDER, utc(2026, 12, 5, 15, 0), Q.QUEUED),  # Saturday 09:00 CST
        (patient_mail.REMINDER, utc(2026, 12, 7, 15, 0), Q.QUEUED),  # Monday 09:00 CST
    ]
    keys = set(OutgoingMessage.objects.filter(topic=f"appointment:{appointment.pk}").values_list("key", flat=True))
    assert keys == {
        f"appt:{appointment.pk}:v1:confirmation",
        f"appt:{appointment.pk}:v1:reminder:2026-12-05T15:00Z",
        f"appt:{appointment.pk}:v1:reminder:2026-12-07T15:00Z",
    }


def test_planning_twice_owes_each_message_once(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))
    patient_mail.appointment_messages_booked(appointment=appointment, now=NOW)
    assert len(ledger(appointment)) == 3


def test_messages_go_out_at_their_moments_and_only_then(world, scheduler, frozen):
    book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))

    (confirmation,) = deliver_at(frozen, NOW)
    assert confirmation.subject == "Your appointment at Russellville on Tuesday 8 December 2026"
    for body in (confirmation.body, html_of(confirmation)):
        assert "Dear Jordan," in body
        assert "Tuesday 8 December 2026 at 9:00 AM (CST)" in body
        assert "2405 West Main Street, Suite H" in body
        assert "479-967-7770" in body
        assert "Confirm you will come" in body
        assert "Ask to reschedule or cancel" in body
        assert "/p/confirm/" in body
        assert "/p/change/" in body
    assert "Getting ready" not in html_of(confirmation)  # the 3-day reminder carries it
    assert event_of(confirmation).decoded("dtstart") == dt.datetime(2026, 12, 8, 9, 0, tzinfo=CHICAGO)

    assert deliver_at(frozen, utc(2026, 12, 5, 14, 59)) == []
    (three_days,) = deliver_at(frozen, utc(2026, 12, 5, 15, 0))
    assert three_days.subject == "Reminder: your appointment at Russellville on Tuesday 8 December 2026"
    for body in (three_days.body, html_of(three_days)):
        assert "in 3 days" in body
        assert "If you have sedation, an adult must drive you home afterwards." in body
        assert "Nothing to eat or drink after 3:00 AM on Tuesday 8 December (6 hours before)." in body
        assert "blood thinner" in body
        assert "photo ID, your insurance card and any imaging" in body
        assert "Confirm you will come" in body
    assert three_days.attachments == []

    assert deliver_at(frozen, utc(2026, 12, 7, 14, 59)) == []
    (one_day,) = deliver_at(frozen, utc(2026, 12, 7, 15, 0))
    assert "tomorrow" in one_day.body
    assert "tomorrow" in html_of(one_day)
    assert "Getting ready" not in html_of(one_day)
    assert "GETTING READY" not in one_day.body
    assert deliver_at(frozen, utc(2026, 12, 9, 0, 0)) == []


def test_a_reschedule_withdraws_the_old_reminders_and_plans_new_ones(world, scheduler, frozen):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))
    deliver_at(frozen, NOW)
    later = utc(2026, 11, 24, 15, 0)
    frozen.move_to(later)
    moved = booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 10, 10, 0), now=later
    )
    assert moved.version == 2
    assert ledger(appointment) == [
        (patient_mail.CONFIRMATION, NOW, Q.SENT),
        (patient_mail.RESCHEDULED, later, Q.QUEUED),
        (patient_mail.REMINDER, utc(2026, 12, 5, 15, 0), Q.CANCELLED),
        (patient_mail.REMINDER, utc(2026, 12, 7, 15, 0), Q.CANCELLED),
        (patient_mail.REMINDER, utc(2026, 12, 7, 16, 0), Q.QUEUED),  # Monday 10:00 CST, 3 days before
        (patient_mail.REMINDER, utc(2026, 12, 9, 16, 0), Q.QUEUED),
    ]
    assert OutgoingMessage.objects.filter(key=f"appt:{appointment.pk}:v2:reminder:2026-12-09T16:00Z").exists()

    (notice,) = deliver_at(frozen, later)
    assert notice.subject == "Your appointment at Russellville has moved to Thursday 10 December 2026"
    for body in (notice.body, html_of(notice)):
        assert "Thursday 10 December 2026 at 10:00 AM (CST)" in body
        assert "Confirm you will come" in body
    assert event_of(notice).decoded("dtstart") == dt.datetime(2026, 12, 10, 10, 0, tzinfo=CHICAGO)

    sent = []
    for moment in (utc(2026, 12, 5, 15, 0), utc(2026, 12, 7, 15, 0), utc(2026, 12, 7, 16, 0), utc(2026, 12, 9, 16, 0)):
        sent.append([m.subject for m in deliver_at(frozen, moment)])
    reminder = "Reminder: your appointment at Russellville on Thursday 10 December 2026"
    assert sent == [[], [], [reminder], [reminder]]


def test_a_cancel_withdraws_the_reminders_and_sends_a_cancelling_ics(world, scheduler, frozen):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))
    deliver_at(frozen, NOW)
    assert len(deliver_at(frozen, utc(2026, 12, 5, 15, 0))) == 1
    cancelled_at = utc(2026, 12, 6, 16, 0)
    frozen.move_to(cancelled_at)
    booking.appointment_cancel(appointment=appointment, actor=scheduler, reason="Patient unwell", now=cancelled_at)
    assert ledger(appointment)[-2:] == [
        (patient_mail.CANCELLED, cancelled_at, Q.QUEUED),
        (patient_mail.REMINDER, utc(2026, 12, 7, 15, 0), Q.CANCELLED),
    ]

    (notice,) = deliver_at(frozen, cancelled_at)
    assert notice.subject == "Cancelled: your appointment at Russellville on Tuesday 8 December 2026"
    for body in (notice.body, html_of(notice)):
        assert "has been cancelled" in body
        assert "479-967-7770" in body
        assert "/p/confirm/" not in body
    calendar = ics_of(notice)
    assert calendar["method"] == "CANCEL"
    assert calendar.walk("VEVENT")[0]["status"] == "CANCELLED"
    # Nothing more for the cancelled appointment, ever.
    assert deliver_at(frozen, utc(2026, 12, 7, 15, 0)) == []
    assert deliver_at(frozen, utc(2026, 12, 9, 0, 0)) == []


def test_a_late_booking_skips_past_reminders_and_the_confirmation_carries_the_preparation(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 11, 25, 9, 0))  # Wednesday, 2 days ahead
    assert ledger(appointment) == [
        (patient_mail.CONFIRMATION, NOW, Q.QUEUED),
        (patient_mail.REMINDER, utc(2026, 11, 24, 15, 0), Q.QUEUED),
    ]
    confirmation = OutgoingMessage.objects.get(kind=patient_mail.CONFIRMATION)
    assert "If you have sedation, an adult must drive you home afterwards." in confirmation.body_text
    assert "photo ID" in confirmation.body_html


def test_no_health_details_beyond_the_procedure_name_and_none_in_subjects(world, scheduler, frozen):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))
    booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 10, 10, 0), now=NOW
    )
    booking.appointment_cancel(appointment=appointment, actor=scheduler, reason="Patient unwell", now=NOW)
    rows = OutgoingMessage.objects.filter(topic=f"appointment:{appointment.pk}")
    assert {row.kind for row in rows} == set(patient_mail.KINDS)
    for row in rows:
        for text in (row.subject, row.body_text, row.body_html, *(a["content"] for a in row.attachments)):
            assert "M54" not in text
            assert "thoracic" not in text.lower()
            assert world.patient.last_name not in text
            assert "1961" not in text  # date of birth
        assert "Epidural" not in row.subject
        assert "injection" not in row.subject.lower()
        assert "Jordan" not in row.subject


# --- Daylight saving -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monday", "one_day_utc", "three_days_utc"),
    [
        # 14 March 2027, 02:00 CST -> 03:00 CDT: Monday 08:30 CDT is 13:30 UTC; Sunday 08:30
        # is already CDT; the Friday before is still CST (14:30 UTC).
        (dt.date(2027, 3, 15), utc(2027, 3, 14, 13, 30), utc(2027, 3, 12, 14, 30)),
        # 7 November 2027, 02:00 CDT -> 01:00 CST: Monday and Sunday 08:30 are CST (14:30
        # UTC); the Friday before is still CDT (13:30 UTC).
        (dt.date(2027, 11, 8), utc(2027, 11, 7, 14, 30), utc(2027, 11, 5, 13, 30)),
    ],
)
def test_reminders_across_a_clock_change_go_out_at_0830_local(
    world, scheduler, frozen, monday, one_day_utc, three_days_utc
):
    world.location.booking_horizon_days = 400
    world.location.save()
    appointment = book(world, scheduler, dt.datetime.combine(monday, dt.time(8, 30), tzinfo=CHICAGO))
    reminders = [due for kind, due, _status in ledger(appointment) if kind == patient_mail.REMINDER]
    assert reminders == [three_days_utc, one_day_utc]
    for due, days in ((three_days_utc, 3), (one_day_utc, 1)):
        wall = due.astimezone(CHICAGO)
        assert (wall.date(), wall.time()) == (monday - dt.timedelta(days=days), dt.time(8, 30))

    deliver_at(frozen, NOW)
    assert deliver_at(frozen, three_days_utc - dt.timedelta(minutes=1)) == []
    assert len(deliver_at(frozen, three_days_utc)) == 1
    assert deliver_at(frozen, one_day_utc - dt.timedelta(minutes=1)) == []
    (one_day,) = deliver_at(frozen, one_day_utc)
    assert "tomorrow" in one_day.body
    assert f"Monday {monday.day} " in one_day.subject


# --- The calendar file ---------------------------------------------------------------------


def test_the_ics_starts_at_the_local_time_with_its_zone_and_keeps_its_uid(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))
    row = OutgoingMessage.objects.get(kind=patient_mail.CONFIRMATION)
    calendar = icalendar.Calendar.from_ical(row.attachments[0]["content"])
    assert calendar["method"] == "REQUEST"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]
    event = calendar.walk("VEVENT")[0]
    assert event["dtstart"].params["TZID"] == "America/Chicago"
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 8, 9, 0, tzinfo=CHICAGO)
    assert event.decoded("dtend") == dt.datetime(2026, 12, 8, 9, 30, tzinfo=CHICAGO)
    assert str(event["uid"]) == f"appointment-{appointment.pk}@localhost"
    assert event["sequence"] == 1
    assert "Russellville" in str(event["location"])

    booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 10, 10, 0), now=NOW
    )
    moved = icalendar.Calendar.from_ical(
        OutgoingMessage.objects.get(kind=patient_mail.RESCHEDULED).attachments[0]["content"]
    ).walk("VEVENT")[0]
    assert str(moved["uid"]) == str(event["uid"])
    assert moved["sequence"] == 2
    assert moved.decoded("dtstart") == dt.datetime(2026, 12, 10, 10, 0, tzinfo=CHICAGO)

    booking.appointment_cancel(appointment=appointment, actor=scheduler, reason="Patient unwell", now=NOW)
    gone = icalendar.Calendar.from_ical(
        OutgoingMessage.objects.get(kind=patient_mail.CANCELLED).attachments[0]["content"]
    )
    assert gone["method"] == "CANCEL"
    assert str(gone.walk("VEVENT")[0]["uid"]) == str(event["uid"])
    assert gone.walk("VEVENT")[0]["sequence"] == 3


# --- Patients the clinic may not e-mail -----------------------------------------------------


@pytest.mark.parametrize("change", [{"email_consent": False}, {"email": ""}])
def test_without_consent_or_address_nothing_is_queued_and_staff_see_call_the_patient(world, scheduler, client, change):
    for name, value in change.items():
        setattr(world.patient, name, value)
    world.patient.save()
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))
    booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 10, 10, 0), now=NOW
    )
    assert ledger(appointment) == []

    client.force_login(scheduler)
    detail = client.get(reverse("scheduling:appointment", args=[appointment.pk])).content.decode()
    assert "Call the patient" in detail
    day = client.get(reverse("scheduling:day"), {"location": world.location.pk, "date": "2026-12-10"})
    assert "Call the patient" in day.content.decode()

    booking.appointment_cancel(appointment=appointment, actor=scheduler, reason="Patient unwell", now=NOW)
    assert ledger(appointment) == []


def test_a_patient_who_may_be_emailed_is_not_marked_call_the_patient(world, scheduler, client):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))
    client.force_login(scheduler)
    assert "Call the patient" not in client.get(appointment.get_absolute_url()).content.decode()
    day = client.get(reverse("scheduling:day"), {"location": world.location.pk, "date": "2026-12-08"})
    assert "Call the patient" not in day.content.decode()


# --- The referrer ------------------------------------------------------------------------------


def test_the_referrer_is_told_date_time_and_place_once_through_a_reschedule_and_cancel(world, scheduler, frozen):
    physician = world.referral.referring_physician
    appointment = book(world, scheduler, local(world.location, 2026, 12, 8, 9, 0))
    row = OutgoingMessage.objects.get(kind="referral_scheduled")
    assert row.to_email == physician.email
    assert row.status == Q.QUEUED
    booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 10, 10, 0), now=NOW
    )
    messages_deliver_due(now=NOW)
    (letter,) = [m for m in mail.outbox if m.to == [physician.email]]
    assert letter.subject == f"Referral {world.referral.reference}: scheduled"
    for body in (letter.body, html_of(letter)):
        assert "Tuesday 8 December 2026 at 9:00 AM (CST)" in body
        assert "Russellville, 2405 West Main Street, Suite H, Russellville, AR 72801" in body
    assert "M54" not in letter.subject

    booking.appointment_cancel(appointment=appointment, actor=scheduler, reason="Patient unwell", now=NOW)
    messages_deliver_due(now=NOW)
    assert OutgoingMessage.objects.filter(kind="referral_scheduled").count() == 1
    world.referral.refresh_from_db()
    assert world.referral.status == "accepted"  # back in the queue to be booked again


def test_a_reminder_written_at_booking_carries_links_good_when_it_arrives(world, scheduler, frozen, client):
    """E-mails are rendered when owed: a reminder for an appointment 60 days out must not
    arrive with links that expired (the link lifetime is 30 days) before it was sent."""
    world.location.booking_horizon_days = 120
    world.location.save()
    book(world, scheduler, local(world.location, 2027, 1, 26, 9, 0))  # Tuesday, 64 days on

    (one_day,) = [m for m in deliver_at(frozen, utc(2027, 1, 25, 15, 0)) if "tomorrow" in m.body]
    confirm_path = re.search(r"http://localhost:8000(/p/confirm/\S+/)", one_day.body).group(1)
    assert client.get(confirm_path).status_code == 200
    (confirmation,) = [m for m in mail.outbox if m.subject.startswith("Your appointment at")]
    booking_day_path = re.search(r"http://localhost:8000(/p/confirm/\S+/)", confirmation.body).group(1)
    refused = client.get(booking_day_path)  # the confirmation's own link: 30 days from booking
    assert refused.status_code == 410
    assert LINK_EXPIRED in refused.content.decode()
