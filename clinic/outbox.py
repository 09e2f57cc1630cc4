"""The outgoing-mail ledger: owe a message in the same transaction as its cause, deliver it
later, exactly once.

1. ``message_queue`` renders the e-mail now (what was true when it was owed) and stores it
   under a unique key; queuing the same key again is a no-op.
2. A beat sweep (``clinic.tasks.sweep_outgoing_messages``, every minute) finds due rows and
   hands their ids to workers.
3. ``message_deliver`` claims a row with a conditional UPDATE (queued -> sending); only the
   worker whose update touched the row sends it. SMTP failures put it back in the queue
   with a growing delay, up to a limit, then mark it failed for staff to look at.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Mapping

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.models import OutgoingMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Attempt n waits RETRY_DELAYS[n-1] before the next: 1, 5, 15, 60 minutes, then 4 hours.
RETRY_DELAYS = [dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 240)]
# A row left "sending" this long belongs to a worker that died mid-send.
STALE_CLAIM = dt.timedelta(minutes=15)

Status = OutgoingMessage.Status


def render_email(template: str, context: Mapping) -> tuple[str, str, str]:
    """Subject, text and HTML from ``emails/<template>_subject.txt``, ``.txt`` and ``.html``."""
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return subject, text, html


def message_queue(
    *,
    key: str,
    kind: str,
    to_email: str,
    template: str,
    context: Mapping,
    due_at: dt.datetime | None = None,
) -> OutgoingMessage:
    """Owe one e-mail. The same key twice is owed once (the first one wins)."""
    subject, text, html = render_email(template, context)
    message, _created = OutgoingMessage.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "to_email": to_email,
            "subject": subject,
            "body_text": text,
            "body_html": html,
            "due_at": due_at or timezone.now(),
        },
    )
    return message


def message_cancel(*, key: str) -> bool:
    """Withdraw a message not yet sent; False if it was already on its way or sent."""
    return bool(OutgoingMessage.objects.filter(key=key, status=Status.QUEUED).update(status=Status.CANCELLED))


def message_claim(*, message_id: int, now: dt.datetime) -> bool:
    """Take a due message for sending; exactly one caller can win a given row."""
    return bool(
        OutgoingMessage.objects.filter(pk=message_id, status=Status.QUEUED, due_at__lte=now).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def message_deliver(*, message_id: int, now: dt.datetime | None = None) -> str:
    """Send one message if this caller wins its claim; returns the row's status after."""
    now = now or timezone.now()
    if not message_claim(message_id=message_id, now=now):
        return "not-claimed"
    message = OutgoingMessage.objects.get(pk=message_id)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={"X-Clinic-Message": message.key[:200]},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as exc:
        return _after_failure(message, exc, now)
    OutgoingMessage.objects.filter(pk=message.pk).update(status=Status.SENT, sent_at=timezone.now(), last_error="")
    return Status.SENT


def _after_failure(message: OutgoingMessage, exc: Exception, now: dt.datetime) -> str:
    error = f"{exc.__class__.__name__}: {exc}"[:1000]
    if message.attempts >= MAX_ATTEMPTS:
        status, due_at = Status.FAILED, message.due_at
        logger.error("Giving up on message %s after %s attempts: %s", message.pk, message.attempts, error)
    else:
        status = Status.QUEUED
        due_at = now + RETRY_DELAYS[min(message.attempts, len(RETRY_DELAYS)) - 1]
    OutgoingMessage.objects.filter(pk=message.pk).update(status=status, due_at=due_at, last_error=error)
    return status


def message_resend(*, message_id: int, now: dt.datetime | None = None) -> bool:
    """Put a failed message back in the queue, due now, with its attempts reset."""
    return bool(
        OutgoingMessage.objects.filter(pk=message_id, status=Status.FAILED).update(
            status=Status.QUEUED, due_at=now or timezone.now(), attempts=0
        )
    )


def messages_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of messages due now, after releasing claims abandoned by dead workers."""
    now = now or timezone.now()
    with transaction.atomic():
        OutgoingMessage.objects.filter(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
            status=Status.QUEUED
        )
    return list(
        OutgoingMessage.objects.filter(status=Status.QUEUED, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def messages_deliver_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send every due message in this process (tests, and a fallback without workers)."""
    counts: dict[str, int] = {}
    for message_id in messages_due(now=now):
        status = message_deliver(message_id=message_id, now=now)
        counts[status] = counts.get(status, 0) + 1
    return counts
