"""Follow-up checks after a completed procedure: plan them, e-mail the patient a signed link
to a short form, store the answer for the provider, and put the silent ones in the
scheduler's "no response: call the patient" queue.

1. ``follow_ups_plan`` runs inside ``appointment_set_status`` when an appointment is
   completed: one ``FollowUp`` per ``FollowUpCheck`` of the procedure type, and (if the
   patient can be e-mailed) its e-mail due then plus one reminder ``REMINDER_AFTER_DAYS``
   later, both owed to the ledger in the same transaction.
2. The patient answers through the link (``scheduling.views.patient``);
   ``follow_up_answer`` keeps the first answer and withdraws the reminder.
3. ``scheduling.selectors.follow_ups_no_response`` lists the checks nobody answered ``CALL_AFTER_REMINDER_DAYS``
   after the reminder (at once when the patient cannot be e-mailed) until answered or
   closed by staff (``follow_up_close``).

Hour offsets are real elapsed hours (a 6-hour pain diary is 6 hours, whatever the clock
does); day offsets, the reminder and the call-back are planned on the location's wall clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.audit import audit_write
from clinic.localtime import DAY_FORMAT, local_days_after
from clinic.models import AuditEvent, FollowUpCheck, User
from clinic.outbox import message_queue, messages_cancel_topic
from scheduling import links
from scheduling.models import Appointment, FollowUp

INVITATION = "follow_up"
REMINDER = "follow_up_reminder"
KINDS = (INVITATION, REMINDER)
TEMPLATE = "follow_up"

# No answer this many days after the check: one reminder; as many days after that: a call.
REMINDER_AFTER_DAYS = 3
CALL_AFTER_REMINDER_DAYS = 3

CLOSE_NEEDS_NOTE = "Write what happened (for example, who called the patient and what they said) before closing."
ALREADY_DONE = "This follow-up was already answered or closed."
NO_ANSWER = "No answer to the e-mail or the reminder"
NOT_EMAILED = "Cannot be e-mailed (no address or no consent)"
ANSWERED_BY_PATIENT = "answered through the patient's e-mail link"


def topic_of(follow_up: FollowUp) -> str:
    return f"follow-up:{follow_up.pk}"


def follow_up_due_at(*, check: FollowUpCheck, completed_at: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """When a check is due: elapsed hours, or calendar days on the location's clock."""
    if check.unit == FollowUpCheck.Unit.HOURS:
        return completed_at.astimezone(dt.UTC) + check.offset
    return local_days_after(completed_at, check.after, zone)


def follow_up_reminder_at(follow_up: FollowUp) -> dt.datetime:
    return local_days_after(follow_up.due_at, REMINDER_AFTER_DAYS, follow_up.appointment.location.zone)


def follow_up_call_from(follow_up: FollowUp) -> dt.datetime:
    """From when staff should call: at once if the patient cannot be e-mailed, else when the
    reminder went unanswered too."""
    if not follow_up.appointment.patient.can_be_emailed:
        return follow_up.due_at
    zone = follow_up.appointment.location.zone
    return local_days_after(follow_up_reminder_at(follow_up), CALL_AFTER_REMINDER_DAYS, zone)


# --- Writes --------------------------------------------------------------------------------


def follow_ups_plan(*, appointment: Appointment, now: dt.datetime | None = None) -> list[FollowUp]:
    """Create the follow-up checks of a just-completed appointment and owe their e-mails.

    Idempotent: (appointment, due_at) is unique and the messages' keys are the follow-up's.
    """
    now = now or timezone.now()
    zone = appointment.location.zone
    planned = []
    for check in appointment.procedure_type.follow_up_checks.all():
        follow_up, created = FollowUp.objects.get_or_create(
            appointment=appointment,
            due_at=follow_up_due_at(check=check, completed_at=now, zone=zone),
            defaults={"follow_up_check": check},
        )
        if created and appointment.patient.can_be_emailed:
            _queue_messages(follow_up)
        planned.append(follow_up)
    return planned


def _queue_messages(follow_up: FollowUp) -> None:
    appointment = follow_up.appointment
    # One link for both e-mails, good from when the check is due (not from completion,
    # possibly weeks earlier, when it is written).
    link = links.patient_link(
        appointment_id=appointment.pk, purpose=links.FOLLOW_UP, follow_up_id=follow_up.pk, valid_from=follow_up.due_at
    )
    for kind, due_at in ((INVITATION, follow_up.due_at), (REMINDER, follow_up_reminder_at(follow_up))):
        message_queue(
            key=f"follow-up:{follow_up.pk}:{kind}",
            kind=kind,
            to_email=appointment.patient.email,
            template=TEMPLATE,
            context=_message_context(follow_up, link=link, reminder=kind == REMINDER),
            due_at=due_at,
            topic=topic_of(follow_up),
        )


def _message_context(follow_up: FollowUp, *, link: str, reminder: bool) -> dict:
    """First name, the visit's date and place, the link: no procedure and no diagnosis."""
    appointment = follow_up.appointment
    local = appointment.local_starts_at
    return {
        "first_name": appointment.patient.first_name,
        "location": appointment.location,
        "address_lines": appointment.location.address_lines,
        "visit_date": f"{local:{DAY_FORMAT}}",
        "link": link,
        "reminder": reminder,
    }


@transaction.atomic
def follow_up_answer(
    *,
    follow_up: FollowUp,
    pain_now: int,
    percent_relief: int,
    relief_lasted: str,
    comments: str = "",
    relief_weeks: int | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Store the patient's answer and withdraw the reminder; False (and nothing changed)
    when an answer is already stored: the first answer stands, as the provider saw it."""
    now = now or timezone.now()
    # Conditional update: two submits racing each other store exactly one answer.
    stored = FollowUp.objects.filter(pk=follow_up.pk, answered_at__isnull=True).update(
        answered_at=now,
        pain_now=pain_now,
        percent_relief=percent_relief,
        relief_lasted=relief_lasted,
        relief_weeks=relief_weeks,
        comments=comments.strip(),
    )
    if stored:
        messages_cancel_topic(topic=topic_of(follow_up), kinds=KINDS)
        follow_up.refresh_from_db()
        audit_write(actor=None, action=AuditEvent.Action.UPDATE, obj=follow_up, summary=ANSWERED_BY_PATIENT)
    return bool(stored)


@transaction.atomic
def follow_up_close(*, follow_up: FollowUp, actor: User, note: str, now: dt.datetime | None = None) -> None:
    """Staff take an unanswered check off the "no response" queue, saying what happened."""
    now = now or timezone.now()
    if not note.strip():
        raise ValidationError({"note": CLOSE_NEEDS_NOTE}, code="close_note")
    closed = FollowUp.objects.filter(pk=follow_up.pk, answered_at__isnull=True, closed_at__isnull=True).update(
        closed_at=now, closed_by=actor, closed_note=note.strip()[:300]
    )
    if not closed:
        raise ValidationError(ALREADY_DONE, code="follow_up_done")
    messages_cancel_topic(topic=topic_of(follow_up), kinds=KINDS)
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=follow_up, summary="closed")
