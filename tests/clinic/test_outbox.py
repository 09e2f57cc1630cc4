"""The outgoing-message ledger in one process: owing, withdrawing, the sweep's hand-off,
claims, retries, stale claims, attachments and headers. Mail goes to Django's locmem outbox
or to a backend below that fails on purpose (the outside world, mocked at the SMTP edge)."""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from clinic import outbox
from clinic.models import OutgoingMessage

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
Status = OutgoingMessage.Status
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def owe(key: str = "appt:1:v1:confirmation", *, due_at: dt.datetime = NOW, **extra) -> OutgoingMessage:
    return outbox.message_queue(
        key=key, kind=extra.pop("kind", "appointment_confirmation"), to_email=extra.pop("to_email", "jo@example.org"),
        template="portal_invitation", context={"physician": "Jo Reyes", "link": "https://clinic.example/x"},
        due_at=due_at, **extra,
    )  # fmt: skip


def reload(message: OutgoingMessage) -> OutgoingMessage:
    return OutgoingMessage.objects.get(pk=message.pk)


class Handoffs:
    """Collects what the sweep hands to the broker (one list per batch)."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail = fail

    def __call__(self, ids: list[int]) -> None:
        if self.fail:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.batches.append(ids)


# --- the SMTP edge, failing on purpose ----------------------------------------------------------

OPENED: list[int] = []
REFUSALS: list[Exception] = []
REFUSED_IDS: list[str] = []  # Message-ID of each refused e-mail


class ScriptedBackend(LocmemBackend):
    """locmem, but counts connections opened and raises the queued refusals first."""

    def open(self):
        OPENED.append(1)
        return True

    def send_messages(self, messages):
        if REFUSALS:
            REFUSED_IDS.extend(str(email.message()["Message-ID"]) for email in messages)
            raise REFUSALS.pop(0)
        return super().send_messages(messages)


@pytest.fixture
def scripted_smtp(settings):
    settings.EMAIL_BACKEND = "tests.clinic.test_outbox.ScriptedBackend"
    OPENED.clear()
    REFUSALS.clear()
    REFUSED_IDS.clear()
    yield REFUSALS
    REFUSALS.clear()


def greylisted() -> smtplib.SMTPDataError:
    return smtplib.SMTPDataError(451, b"4.7.1 Greylisted, try again later")


# --- owing and withdrawing -------------------------------------------------------------------------


def test_a_message_is_stored_with_its_topic_and_attachments():
    message = owe(
        topic="appointment:1", attachments=[{"filename": "a.ics", "mimetype": "text/calendar", "content": ICS}]
    )
    stored = reload(message)
    assert stored.topic == "appointment:1"
    assert stored.attachments == [{"filename": "a.ics", "mimetype": "text/calendar", "content": ICS}]
    assert stored.status == Status.QUEUED
    assert stored.due_at == NOW


def test_the_same_key_twice_is_owed_once_and_the_first_wins():
    first = owe(to_email="first@example.org")
    second = owe(to_email="second@example.org", due_at=NOW + dt.timedelta(days=1))
    assert second.pk == first.pk
    assert OutgoingMessage.objects.get().to_email == "first@example.org"


@pytest.mark.parametrize(
    "attachment",
    [
        {"filename": "a.pdf", "mimetype": "application/pdf", "content": b"%PDF"},
        {"filename": "", "mimetype": "text/calendar", "content": ICS},
        {"filename": "a.ics", "mimetype": "calendar", "content": ICS},
        {"filename": "a.ics", "content": ICS},
    ],
)
def test_an_attachment_must_be_named_typed_text(attachment):
    with pytest.raises(ValueError, match="filename, a mimetype and text content"):
        owe(attachments=[attachment])
    assert not OutgoingMessage.objects.exists()


def test_cancelling_a_topic_withdraws_only_its_queued_messages_of_the_given_kinds():
    reminder = owe("appt:1:reminder", topic="appointment:1", kind="appointment_reminder")
    confirmation = owe("appt:1:confirmation", topic="appointment:1", kind="appointment_confirmation")
    already_sent = owe("appt:1:old-reminder", topic="appointment:1", kind="appointment_reminder")
    OutgoingMessage.objects.filter(pk=already_sent.pk).update(status=Status.SENT)
    other_topic = owe("appt:2:reminder", topic="appointment:2", kind="appointment_reminder")

    assert outbox.messages_cancel_topic(topic="appointment:1", kinds=["appointment_reminder"]) == 1
    assert reload(reminder).status == Status.CANCELLED
    assert reload(confirmation).status == Status.QUEUED
    assert reload(already_sent).status == Status.SENT
    assert reload(other_topic).status == Status.QUEUED
    assert outbox.messages_cancel_topic(topic="appointment:1") == 1
    assert reload(confirmation).status == Status.CANCELLED


def test_a_cancelled_message_is_never_sent():
    message = owe(topic="appointment:1")
    outbox.messages_cancel_topic(topic="appointment:1")
    assert outbox.messages_deliver(message_ids=[message.pk], now=NOW) == {message.pk: outbox.NOT_CLAIMED}
    assert mail.outbox == []


def test_cancelling_needs_a_topic():
    owe(topic="")
    with pytest.raises(ValueError, match="topic"):
        outbox.messages_cancel_topic(topic="")
    assert OutgoingMessage.objects.get().status == Status.QUEUED


def test_owing_a_message_never_talks_to_the_broker(monkeypatch):
    from kombu.messaging import Producer

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(Producer, "publish", broker_down)
    message = owe()
    assert reload(message).status == Status.QUEUED


# --- delivery ------------------------------------------------------------------------------------


def test_delivery_sends_text_html_and_attachments_with_stable_headers():
    message = owe(attachments=[{"filename": "appointment.ics", "mimetype": "text/calendar", "content": ICS}])
    assert outbox.message_deliver(message_id=message.pk, now=NOW) == Status.SENT
    (email,) = mail.outbox
    assert email.to == ["jo@example.org"]
    assert email.subject == "Your referral portal account at the Institute of Interventional Pain Management"
    assert "Dear Jo Reyes" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "Dear Jo Reyes" in html
    assert email.attachments[0][0] == "appointment.ics"
    assert email.attachments[0][2] == "text/calendar"
    sent = email.message()
    assert sent["X-Clinic-Message"] == message.key
    assert sent["Message-ID"] == outbox.message_id_header(message)
    assert sent["Message-ID"].endswith(f".{message.pk}@clinic.localhost>")
    stored = reload(message)
    assert (stored.status, stored.attempts, stored.sent_at is not None) == (Status.SENT, 1, True)


def test_the_message_id_is_the_same_on_every_attempt(scripted_smtp):
    message = owe()
    scripted_smtp.append(greylisted())
    outbox.message_deliver(message_id=message.pk, now=NOW)
    outbox.message_deliver(message_id=message.pk, now=NOW + dt.timedelta(minutes=5))
    refused_first, sent_next = *REFUSED_IDS, mail.outbox[0].message()["Message-ID"]
    assert refused_first == sent_next
    other = owe("appt:2:v1:confirmation")
    assert outbox.message_id_header(other) != outbox.message_id_header(message)


def test_a_batch_uses_one_connection_and_a_fresh_one_after_a_failure(scripted_smtp):
    messages = [owe(f"batch:{i}") for i in range(5)]
    results = outbox.messages_deliver(message_ids=[m.pk for m in messages], now=NOW)
    assert set(results.values()) == {Status.SENT}
    assert len(OPENED) == 1
    assert len(mail.outbox) == 5

    OPENED.clear()
    more = [owe(f"batch-b:{i}") for i in range(3)]
    scripted_smtp.append(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    results = outbox.messages_deliver(message_ids=[m.pk for m in more], now=NOW)
    assert list(results.values()) == [Status.QUEUED, Status.SENT, Status.SENT]
    assert len(OPENED) == 2


def test_a_batch_delivered_three_times_sends_each_message_once():
    ids = [owe(f"thrice:{i}").pk for i in range(4)]
    for _ in range(3):
        outbox.messages_deliver(message_ids=ids, now=NOW)
    assert sorted(email.extra_headers["X-Clinic-Message"] for email in mail.outbox) == [f"thrice:{i}" for i in range(4)]


def test_only_one_claim_of_a_row_wins_and_a_withdrawn_row_cannot_be_claimed():
    # Two workers that both read the row as queued race here: the conditional update lets
    # exactly one through (the integration tests race real processes).
    message = owe()
    assert outbox.message_claim(message_id=message.pk, now=NOW)
    assert not outbox.message_claim(message_id=message.pk, now=NOW)
    assert reload(message).attempts == 1
    withdrawn = owe("withdrawn", topic="appointment:9")
    outbox.messages_cancel_topic(topic="appointment:9")
    assert not outbox.message_claim(message_id=withdrawn.pk, now=NOW)


def test_a_message_not_yet_due_is_not_sent():
    message = owe(due_at=NOW + dt.timedelta(hours=1))
    assert outbox.message_deliver(message_id=message.pk, now=NOW) == outbox.NOT_CLAIMED
    assert mail.outbox == []


def test_smtp_failures_retry_with_growing_delays_then_fail(scripted_smtp, settings):
    settings.OUTBOX_RETRY_DELAYS_SECONDS = [60, 300, 900]
    message = owe()
    now = NOW
    waits = []
    for _ in range(3):
        scripted_smtp.append(greylisted())
        assert outbox.message_deliver(message_id=message.pk, now=now) == Status.QUEUED
        stored = reload(message)
        waits.append((stored.due_at - now).total_seconds())
        assert "451" in stored.last_error
        assert stored.dispatched_at is None  # handed over again as soon as it is due
        now = stored.due_at
    assert waits == [60, 300, 900]
    scripted_smtp.append(greylisted())
    assert outbox.message_deliver(message_id=message.pk, now=now) == Status.FAILED
    failed = reload(message)
    assert (failed.status, failed.attempts) == (Status.FAILED, 4)
    assert mail.outbox == []


def test_a_recipient_refused_for_good_fails_at_once(scripted_smtp):
    message = owe()
    scripted_smtp.append(smtplib.SMTPRecipientsRefused({"jo@example.org": (550, b"5.1.1 No such user")}))
    assert outbox.message_deliver(message_id=message.pk, now=NOW) == Status.FAILED
    assert "550" in reload(message).last_error


def test_a_failed_message_can_be_resent_once():
    message = owe()
    OutgoingMessage.objects.filter(pk=message.pk).update(status=Status.FAILED, attempts=6, dispatched_at=NOW)
    later = NOW + dt.timedelta(days=1)
    assert outbox.message_resend(message_id=message.pk, now=later)
    assert not outbox.message_resend(message_id=message.pk, now=later)
    stored = reload(message)
    assert (stored.status, stored.attempts, stored.due_at, stored.dispatched_at) == (Status.QUEUED, 0, later, None)
    assert outbox.message_deliver(message_id=message.pk, now=later) == Status.SENT


def test_deliver_due_sends_what_is_due_now():
    due = owe("due")
    owe("later", due_at=timezone.now() + dt.timedelta(days=1))
    assert outbox.messages_deliver_due() == {Status.SENT: 1}
    assert [email.extra_headers["X-Clinic-Message"] for email in mail.outbox] == [due.key]


# --- the sweep -----------------------------------------------------------------------------------


def test_the_sweep_hands_due_messages_over_in_batches_once(settings):
    settings.OUTBOX_REDISPATCH_SECONDS = 600
    ids = [owe(f"sweep:{i}").pk for i in range(5)]
    owe("not-yet", due_at=NOW + dt.timedelta(minutes=1))
    handoffs = Handoffs()
    assert outbox.messages_dispatch(hand_off=handoffs, now=NOW, batch_size=2) == ids
    assert handoffs.batches == [ids[:2], ids[2:4], ids[4:]]
    assert set(OutgoingMessage.objects.filter(pk__in=ids).values_list("dispatched_at", flat=True)) == {NOW}

    # A minute later the same rows are not handed over again (a backlog is not re-queued).
    assert outbox.messages_dispatch(hand_off=handoffs, now=NOW + dt.timedelta(minutes=1)) == [
        OutgoingMessage.objects.get(key="not-yet").pk
    ]


def test_a_lost_hand_off_is_repeated_after_the_redispatch_interval(settings):
    settings.OUTBOX_REDISPATCH_SECONDS = 600
    message = owe()
    handoffs = Handoffs()
    outbox.messages_dispatch(hand_off=handoffs, now=NOW)
    assert outbox.messages_dispatch(hand_off=handoffs, now=NOW + dt.timedelta(seconds=599)) == []
    assert outbox.messages_dispatch(hand_off=handoffs, now=NOW + dt.timedelta(seconds=601)) == [message.pk]
    assert handoffs.batches == [[message.pk], [message.pk]]


def test_when_the_broker_is_down_the_rows_stay_queued_and_the_next_sweep_retries():
    message = owe()
    assert outbox.messages_dispatch(hand_off=Handoffs(fail=True), now=NOW) == []
    stored = reload(message)
    assert (stored.status, stored.dispatched_at) == (Status.QUEUED, None)
    assert outbox.messages_dispatch(hand_off=Handoffs(), now=NOW + dt.timedelta(seconds=1)) == [message.pk]


def test_a_stale_claim_of_a_dead_worker_is_released_and_handed_over_again(settings):
    settings.OUTBOX_STALE_CLAIM_SECONDS = 900
    message = owe()
    outbox.messages_dispatch(hand_off=Handoffs(), now=NOW)
    assert outbox.message_claim(message_id=message.pk, now=NOW)  # then the worker dies
    assert outbox.messages_dispatch(hand_off=Handoffs(), now=NOW + dt.timedelta(seconds=899)) == []
    assert reload(message).status == Status.SENDING
    handoffs = Handoffs()
    assert outbox.messages_dispatch(hand_off=handoffs, now=NOW + dt.timedelta(seconds=901)) == [message.pk]
    stored = reload(message)
    assert stored.status == Status.QUEUED
    assert "outcome unknown" in stored.last_error
    assert outbox.message_deliver(message_id=message.pk, now=NOW + dt.timedelta(seconds=902)) == Status.SENT
    assert reload(message).attempts == 2


def test_a_message_that_kills_its_worker_every_time_fails_in_the_end(settings):
    settings.OUTBOX_RETRY_DELAYS_SECONDS = [60]
    message = owe()
    OutgoingMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, claimed_at=NOW, attempts=2)
    assert outbox.messages_release_stale(now=NOW + dt.timedelta(days=1)) == 0
    stored = reload(message)
    assert stored.status == Status.FAILED
    assert stored.last_error == outbox.STALE_CLAIM_GAVE_UP


def test_the_sweep_task_hands_batches_to_the_named_queue(monkeypatch):
    from clinic import tasks

    sent = []
    monkeypatch.setattr(tasks.send_messages, "apply_async", lambda args, **options: sent.append((args, options)))
    message = owe(due_at=timezone.now())
    assert tasks.sweep_outgoing_messages(queue="private") == 1
    assert sent == [([[message.pk]], {"queue": "private"})]


def test_the_send_task_reports_how_many_it_sent():
    from clinic import tasks

    ids = [owe(f"task:{i}", due_at=timezone.now()).pk for i in range(3)]
    assert tasks.send_messages(ids + ids) == 3
    assert tasks.send_messages(ids) == 0


# --- settings -------------------------------------------------------------------------------------


def test_settings_refuse_a_stale_claim_interval_close_to_the_smtp_timeout(tmp_path):
    env = {**os.environ, "DJANGO_DEBUG": "1", "VAR_DIR": str(tmp_path), "OUTBOX_STALE_CLAIM_SECONDS": "60",
           "EMAIL_TIMEOUT": "30"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**env, "DJANGO_SETTINGS_MODULE": "clinic.settings"},
    )  # fmt: skip
    assert result.returncode != 0
    assert "OUTBOX_STALE_CLAIM_SECONDS (60) must be at least ten times EMAIL_TIMEOUT (30)" in result.stderr
