"""The outgoing-mail ledger: owe a message in the same transaction as its cause, deliver it
later, exactly once.

1. ``message_queue`` renders the e-mail now (what was true when it was owed) and stores it,
   with its attachments, under a unique key; queuing the same key again is a no-op. Nothing
   talks to the broker here, so a Redis outage cannot fail the request that owes a message.
2. The beat sweep (``clinic.tasks.sweep_outgoing_messages``, every minute) calls
   ``messages_dispatch``: it puts back claims abandoned by dead workers, then marks due rows
   as handed over (``dispatched_at``, under ``select_for_update(skip_locked=True)``) and hands
   their ids to workers in batches. A row is handed over again only when its last hand-off is
   older than ``OUTBOX_REDISPATCH_SECONDS`` (the broker message was lost), so a backlog is not
   queued anew every minute, and two sweeps at once hand each row over once.
3. ``messages_deliver`` (the worker) claims each row with a conditional UPDATE
   (queued -> sending) just before sending it: only the caller whose update touched the row
   sends, so a hand-off delivered three times sends once. One SMTP connection serves the
   whole batch. SMTP failures put the row back in the queue with a growing delay
   (``OUTBOX_RETRY_DELAYS_SECONDS``), then mark it failed for staff to resend.

Exactly once has one window no ledger can close: the SMTP server accepted a message and the
worker died before recording it. The stale claim is then released and the message sent again;
it carries the same Message-ID (derived from the row), so mail clients and servers can
recognise the repeat.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
from collections.abc import Callable, Iterable, Mapping
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.audit import audit_write
from clinic.models import AuditEvent, OutgoingMessage

logger = logging.getLogger(__name__)

Status = OutgoingMessage.Status

# Ids per worker task: large enough that one SMTP connection carries many messages, small
# enough that a worker killed mid-batch leaves few rows waiting for the re-dispatch.
BATCH_SIZE = 100
# Rows one sweep hands over at most; the next sweep, a minute later, takes the rest.
SWEEP_LIMIT = 20_000

NOT_CLAIMED = "not-claimed"
ATTACHMENT_NOT_TEXT = "An attachment needs a filename, a mimetype and text content."
STALE_CLAIM_RELEASED = (
    "The worker stopped while sending (outcome unknown); queued again. If the SMTP server had accepted it, "
    "the recipient gets a repeat with the same Message-ID."
)
STALE_CLAIM_GAVE_UP = "Workers stopped while sending this message on every attempt; gave up."
NOTHING_SENT = "The mail backend sent nothing."


# --- owing and withdrawing -------------------------------------------------------------------


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
    topic: str = "",
    attachments: Iterable[Mapping[str, str]] | None = None,
) -> OutgoingMessage:
    """Owe one e-mail. The same key twice is owed once (the first one wins).

    ``topic`` groups the messages of one thing (``"appointment:42"``) so they can be withdrawn
    together; ``attachments`` are ``{"filename", "mimetype", "content"}`` with text content.
    """
    subject, text, html = render_email(template, context)
    message, _created = OutgoingMessage.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "topic": topic,
            "to_email": to_email,
            "subject": subject,
            "body_text": text,
            "body_html": html,
            "attachments": _clean_attachments(attachments),
            "due_at": due_at or timezone.now(),
        },
    )
    return message


def _clean_attachments(attachments: Iterable[Mapping[str, str]] | None) -> list[dict[str, str]]:
    cleaned = []
    for item in attachments or ():
        values = [item.get(name) for name in ("filename", "mimetype", "content")]
        if not all(isinstance(value, str) for value in values) or not values[0] or "/" not in values[1]:
            raise ValueError(ATTACHMENT_NOT_TEXT)
        cleaned.append(dict(zip(("filename", "mimetype", "content"), values, strict=True)))
    return cleaned


def message_cancel(*, key: str) -> bool:
    """Withdraw a message not yet sent; False if it was already on its way or sent."""
    return bool(OutgoingMessage.objects.filter(key=key, status=Status.QUEUED).update(status=Status.CANCELLED))


def messages_cancel_topic(*, topic: str, kinds: Iterable[str] | None = None) -> int:
    """Withdraw every still-queued message of a topic (optionally only some kinds).

    The same conditional update as a worker's claim, so a message is either withdrawn or on
    its way, never both; one already ``sending`` cannot be called back.
    """
    if not topic:
        raise ValueError("A topic is required.")
    queued = OutgoingMessage.objects.filter(topic=topic, status=Status.QUEUED)
    if kinds is not None:
        queued = queued.filter(kind__in=list(kinds))
    return queued.update(status=Status.CANCELLED)


def message_resend(*, message_id: int, actor=None, now: dt.datetime | None = None) -> bool:
    """Put a failed message back in the queue, due now, with its attempts reset; recorded
    in the audit log (the message names a patient's address)."""
    resent = OutgoingMessage.objects.filter(pk=message_id, status=Status.FAILED).update(
        status=Status.QUEUED, due_at=now or timezone.now(), attempts=0, dispatched_at=None
    )
    if resent:
        message = OutgoingMessage.objects.only("pk", "kind").get(pk=message_id)
        audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=message, summary=f"resend {message.kind}")
    return bool(resent)


# --- the sweep -----------------------------------------------------------------------------------


def stale_claim_interval() -> dt.timedelta:
    return dt.timedelta(seconds=settings.OUTBOX_STALE_CLAIM_SECONDS)


def retry_delays() -> list[dt.timedelta]:
    return [dt.timedelta(seconds=seconds) for seconds in settings.OUTBOX_RETRY_DELAYS_SECONDS]


def max_attempts() -> int:
    """Attempts before a message is failed: one per retry delay, plus the first."""
    return len(settings.OUTBOX_RETRY_DELAYS_SECONDS) + 1


def messages_release_stale(*, now: dt.datetime | None = None) -> int:
    """Put back in the queue the messages a dead worker left ``sending``; returns how many.

    A worker that is alive holds a claim for one send, bounded by EMAIL_TIMEOUT per SMTP
    exchange, and settings insist the stale interval is ten of those: a claim this old
    belongs to a worker that died. A message that killed its worker on every attempt fails.
    """
    now = now or timezone.now()
    stale = OutgoingMessage.objects.filter(status=Status.SENDING, claimed_at__lt=now - stale_claim_interval())
    gave_up = stale.filter(attempts__gte=max_attempts()).update(status=Status.FAILED, last_error=STALE_CLAIM_GAVE_UP)
    released = stale.update(status=Status.QUEUED, dispatched_at=None, last_error=STALE_CLAIM_RELEASED)
    if gave_up or released:
        logger.warning("Released %s stale message claim(s); %s failed after too many attempts", released, gave_up)
    return released


def _due(now: dt.datetime) -> QuerySet[OutgoingMessage]:
    return OutgoingMessage.objects.filter(status=Status.QUEUED, due_at__lte=now)


def _dispatchable(now: dt.datetime) -> QuerySet[OutgoingMessage]:
    """Due rows never handed over, or whose hand-off is old enough to have been lost."""
    lost_before = now - dt.timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS)
    return _due(now).filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=lost_before))


def messages_dispatch(
    *,
    hand_off: Callable[[list[int]], object],
    now: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    limit: int = SWEEP_LIMIT,
) -> list[int]:
    """The sweep: hand each due message to a worker once; returns the ids handed over.

    1. Release stale claims (dead workers).
    2. Read the ids of dispatchable rows, oldest due first (one index scan).
    3. Per batch, in a short transaction: lock those rows still dispatchable, skipping rows a
       concurrent sweep holds, and stamp ``dispatched_at``; after the commit, ``hand_off``
       the ids (publish a task). A concurrent sweep's later re-check no longer matches them.
    4. If the hand-off fails (broker down), clear the stamp so the next sweep retries at
       once, and stop: the rows wait in the ledger, nothing is lost.
    """
    now = now or timezone.now()
    messages_release_stale(now=now)
    candidates = list(_dispatchable(now).order_by("due_at", "id").values_list("pk", flat=True)[:limit])
    dispatched: list[int] = []
    for start in range(0, len(candidates), batch_size):
        with transaction.atomic():
            ids = list(
                _dispatchable(now)
                .filter(pk__in=candidates[start : start + batch_size])
                .select_for_update(skip_locked=True)
                .order_by("due_at", "id")
                .values_list("pk", flat=True)
            )
            if ids:
                OutgoingMessage.objects.filter(pk__in=ids).update(dispatched_at=now)
        if not ids:
            continue
        try:
            hand_off(ids)
        except Exception:
            OutgoingMessage.objects.filter(pk__in=ids, dispatched_at=now).update(dispatched_at=None)
            logger.exception("Could not hand %s message(s) to the broker; they stay queued", len(ids))
            break
        dispatched.extend(ids)
    return dispatched


def messages_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of messages due now (handed over or not), after releasing stale claims."""
    now = now or timezone.now()
    messages_release_stale(now=now)
    return list(_due(now).order_by("due_at", "id").values_list("pk", flat=True)[:limit])


def messages_deliver_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send every due message in this process (tests, and a fallback without workers)."""
    counts: dict[str, int] = {}
    for status in messages_deliver(message_ids=messages_due(now=now), now=now).values():
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- delivery (the worker) --------------------------------------------------------------------


def message_claim(*, message_id: int, now: dt.datetime) -> bool:
    """Take a due message for sending; exactly one caller can win a given row."""
    return bool(
        OutgoingMessage.objects.filter(pk=message_id, status=Status.QUEUED, due_at__lte=now).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def message_deliver(*, message_id: int, now: dt.datetime | None = None) -> str:
    """Send one message if this caller wins its claim; returns the row's status after."""
    return messages_deliver(message_ids=[message_id], now=now)[message_id]


def messages_deliver(*, message_ids: Iterable[int], now: dt.datetime | None = None) -> dict[int, str]:
    """Send a batch over one SMTP connection; returns each id's status after (or "not-claimed").

    Each row is claimed just before its own send, not the batch at once: a claim then lasts
    one send, which is what the stale-claim interval is measured against, and a worker
    killed mid-batch leaves only its in-flight row claimed.
    """
    message_ids = list(dict.fromkeys(message_ids))
    results = dict.fromkeys(message_ids, NOT_CLAIMED)
    # Read the batch once; the claim below re-checks each row, so a row cancelled or sent
    # since this read is skipped, and what is sent (rendered when owed) never changes.
    rows = list(_due(now or timezone.now()).filter(pk__in=message_ids).order_by("due_at", "id"))
    if not rows:
        return results
    connection = get_connection()
    opened = False
    try:
        for message in rows:
            claim_time = now or timezone.now()
            if not message_claim(message_id=message.pk, now=claim_time):
                continue
            attempt = message.attempts + 1
            try:
                email = build_email(message)
            except (ValueError, TypeError, KeyError) as exc:  # a bad header or attachment never gets better
                results[message.pk] = _after_failure(message, attempt, exc, claim_time, permanent=True)
                continue
            try:
                if not opened:
                    connection.open()
                    opened = True
                if not connection.send_messages([email]):
                    raise smtplib.SMTPException(NOTHING_SENT)
            except (smtplib.SMTPException, OSError) as exc:
                results[message.pk] = _after_failure(message, attempt, exc, claim_time)
                # The session may be broken (a dropped connection, a half-sent DATA): start
                # the next message on a fresh one.
                _close_quietly(connection)
                opened = False
                continue
            OutgoingMessage.objects.filter(pk=message.pk).update(
                status=Status.SENT, sent_at=timezone.now(), last_error=""
            )
            results[message.pk] = Status.SENT
    finally:
        if opened:
            _close_quietly(connection)
    return results


def build_email(message: OutgoingMessage, *, connection=None) -> EmailMultiAlternatives:
    """The e-mail of one ledger row: text, HTML alternative, attachments, stable headers."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={"Message-ID": message_id_header(message), "X-Clinic-Message": message.key[:200]},
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return email


def message_id_header(message: OutgoingMessage) -> str:
    """A Message-ID that depends only on the row, so a resend after an unknown outcome (see
    the module docstring) is the same message to the recipient's server and mail client.
    Not ``make_msgid``: it adds the time and a random part, which is what must not change."""
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "clinic.localhost"
    return f"<{digest}.{message.pk}@{domain}>"


def _after_failure(
    message: OutgoingMessage, attempt: int, exc: Exception, now: dt.datetime, *, permanent: bool = False
) -> str:
    error = f"{exc.__class__.__name__}: {exc}"[:1000]
    delays = retry_delays()
    if permanent or attempt > len(delays) or _is_permanent(exc):
        status, due_at = Status.FAILED, message.due_at
        logger.error("Giving up on message %s after %s attempt(s): %s", message.pk, attempt, error)
    else:
        status, due_at = Status.QUEUED, now + delays[attempt - 1]
    # dispatched_at cleared: the retry is handed over when due, not after the re-dispatch wait.
    OutgoingMessage.objects.filter(pk=message.pk).update(
        status=status, due_at=due_at, last_error=error, dispatched_at=None
    )
    return status


def _is_permanent(exc: Exception) -> bool:
    """The recipient's address was refused for good (5xx): retrying cannot help.

    Other 5xx answers (a refused sender, failed authentication) are the clinic's own
    configuration, fixed once for every message, so those are retried like 4xx answers.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return all(code >= 500 for code, _reply in exc.recipients.values())
    return False


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):
        logger.debug("Ignored an error closing the SMTP connection", exc_info=True)


# --- what staff see ------------------------------------------------------------------------------


def messages_for_staff(
    *,
    status: str = "",
    kind: str = "",
    recipient: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[OutgoingMessage]:
    """Ledger rows for the staff page, newest due first, without the bodies and files."""
    messages = OutgoingMessage.objects.defer("body_text", "body_html", "attachments")
    if status:
        messages = messages.filter(status=status)
    if kind:
        messages = messages.filter(kind=kind)
    if recipient:
        messages = messages.filter(to_email__icontains=recipient.strip())
    if since:
        messages = messages.filter(due_at__date__gte=since)
    if until:
        messages = messages.filter(due_at__date__lte=until)
    return messages.order_by("-due_at", "-id")


def mail_goes_to_files() -> bool:
    """No EMAIL_HOST: e-mails are written to VAR_DIR/mail (the embedded default, a demo), where
    staff read them on the "Sent e-mails" pages instead of in a mailbox."""
    return not settings.EMAIL_HOST


def messages_sent() -> QuerySet[OutgoingMessage]:
    """Sent rows for the "Sent e-mails" page, last sent first, without the bodies and files."""
    return (
        OutgoingMessage.objects.filter(status=Status.SENT)
        .only("pk", "kind", "to_email", "subject", "sent_at")
        .order_by("-sent_at", "-id")
    )
