"""Repeat injections: a daily sweep puts patients whose relief has worn off in the
scheduler's "repeat due" queue, with the earliest date the repeat policy allows, and invites
them to call.

1. ``repeats_find_due`` (daily, ``scheduling.tasks.find_repeats_due``):
   a. puts back in the queue an item whose repeat was booked and then cancelled;
   b. ``scheduling.selectors.repeat_candidates``: each patient's last completed appointment of a procedure type
      with a repeat policy, with nothing of that type booked after it, not already in the
      queue, whose latest answered follow-up shows relief worn off;
   c. for each, the earliest date the coverage rules allow at the last session's site
      (``scheduling.care.coverage.coverage_earliest_date``, the rules booking enforces),
      an open ``RepeatDue`` and an invitation e-mail.
   Running it twice creates nothing more: one item per last appointment (one-to-one), at
   most one open per patient and procedure type (a constraint), and the e-mail's key.
2. ``appointment_book`` calls ``repeat_due_mark_booked``: booking that procedure for the
   patient takes the item off the queue.
3. Schedulers dismiss an item with a note (``repeat_due_dismiss``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from clinic import localtime
from clinic.audit import audit_write
from clinic.models import AuditEvent, User
from clinic.outbox import message_queue, messages_cancel_topic
from scheduling import selectors
from scheduling.care.coverage import CoverageLimit, coverage_earliest_date
from scheduling.models import Appointment, FollowUp, RepeatDue

logger = logging.getLogger(__name__)

INVITATION = "repeat_due"
TEMPLATE = "repeat_due"

R = RepeatDue.Status
RELIEF_THRESHOLD = selectors.RELIEF_THRESHOLD

DISMISS_NEEDS_NOTE = "Write why no repeat is needed now (for example, the patient declined) before dismissing."
ALREADY_CLOSED = "This patient was already booked or dismissed."


def topic_of(item: RepeatDue) -> str:
    return f"repeat-due:{item.pk}"


def repeat_earliest_date(*, appointment: Appointment, now: dt.datetime) -> tuple[dt.date, CoverageLimit | None]:
    """The first day the coverage rules let this patient have the procedure again at the
    same site (today at the soonest), and the limit that set it. A limit that waiting does
    not lift (e.g. a repeat needs more relief) leaves today: the scheduler sees the reason."""
    today = localtime.today(appointment.location.zone, now=now)
    earliest, limit = coverage_earliest_date(
        patient=appointment.patient,
        procedure_type=appointment.procedure_type,
        site=appointment.site_values() if appointment.site_region else None,
        location=appointment.location,
        now=now,
    )
    return earliest or today, limit


# --- Writes --------------------------------------------------------------------------------


def repeats_find_due(*, now: dt.datetime | None = None) -> list[RepeatDue]:
    """The daily sweep: reopen items whose repeat was called off, then queue new ones."""
    now = now or timezone.now()
    reopened = (
        RepeatDue.objects.filter(status=R.BOOKED)
        .exclude(Exists(selectors.later_of_same_type("last_appointment__")))
        .exclude(
            Exists(
                RepeatDue.objects.filter(
                    patient=OuterRef("patient"), procedure_type=OuterRef("procedure_type"), status=R.OPEN
                )
            )
        )
        .update(status=R.OPEN, closed_at=None, closed_by=None, closed_note="")
    )
    if reopened:
        logger.info("Put %s repeat-due item(s) back in the queue: their repeat was called off", reopened)
    created = []
    for appointment in selectors.repeat_candidates():
        earliest, limit = repeat_earliest_date(appointment=appointment, now=now)
        try:
            # A savepoint per item: a sweep running at the same moment elsewhere makes the
            # second insert break a constraint, which only means "already queued".
            with transaction.atomic():
                item = RepeatDue.objects.create(
                    patient=appointment.patient,
                    procedure_type=appointment.procedure_type,
                    last_appointment=appointment,
                    earliest_date=earliest,
                    reason=_reason(appointment, limit),
                    created_at=now,
                )
                if appointment.patient.can_be_emailed:
                    _queue_invitation(item, appointment, now=now)
        except IntegrityError:
            continue
        created.append(item)
    return created


def _reason(appointment: Appointment, limit: CoverageLimit | None) -> str:
    """Why, in the scheduler's words: what the patient answered, and the policy's limit."""
    said = []
    if appointment.relief is not None:
        below = f" (below {RELIEF_THRESHOLD}%)" if appointment.relief < RELIEF_THRESHOLD else ""
        said.append(f"{appointment.relief}% relief{below}")
    if appointment.lasted == FollowUp.ReliefLasted.NONE:
        said.append("no lasting relief")
    elif appointment.lasted:
        said.append(f"relief lasted {FollowUp.ReliefLasted(appointment.lasted).label.lower()}")
    answered = localtime.local_date(appointment.answered_at, appointment.location.zone)
    reason = f"Follow-up answered {answered:{localtime.SHORT_DATE_FORMAT}}: {', '.join(said)}."
    if limit is not None:
        reason += f" Coverage: {limit.rule.name}."
    return reason[:300]


def _queue_invitation(item: RepeatDue, appointment: Appointment, *, now: dt.datetime) -> None:
    """Ask the patient to call to book: no procedure and no diagnosis, the location's phone."""
    location = appointment.location
    today = localtime.today(location.zone, now=now)
    message_queue(
        key=f"repeat-due:{item.pk}:invitation",
        kind=INVITATION,
        to_email=appointment.patient.email,
        template=TEMPLATE,
        context={
            "first_name": appointment.patient.first_name,
            "location": location,
            "address_lines": location.address_lines,
            "earliest": item.earliest_date if item.earliest_date > today else None,
        },
        due_at=now,
        topic=topic_of(item),
    )


def repeat_due_mark_booked(*, appointment: Appointment, actor: User | None, now: dt.datetime | None = None) -> int:
    """A new booking of the procedure for the patient takes their item off the queue."""
    now = now or timezone.now()
    item = RepeatDue.objects.filter(
        patient_id=appointment.patient_id, procedure_type_id=appointment.procedure_type_id, status=R.OPEN
    ).first()
    if item is None:
        return 0
    local = appointment.local_starts_at
    RepeatDue.objects.filter(pk=item.pk, status=R.OPEN).update(
        status=R.BOOKED, closed_at=now, closed_by=actor, closed_note=f"Booked for {local:{localtime.DATE_FORMAT}}."
    )
    messages_cancel_topic(topic=topic_of(item))
    return 1


@transaction.atomic
def repeat_due_dismiss(*, item: RepeatDue, actor: User, note: str, now: dt.datetime | None = None) -> None:
    """Take an item off the queue without a booking, saying why."""
    now = now or timezone.now()
    if not note.strip():
        raise ValidationError({"note": DISMISS_NEEDS_NOTE}, code="dismiss_note")
    dismissed = RepeatDue.objects.filter(pk=item.pk, status=R.OPEN).update(
        status=R.DISMISSED, closed_at=now, closed_by=actor, closed_note=note.strip()[:300]
    )
    if not dismissed:
        raise ValidationError(ALREADY_CLOSED, code="repeat_due_closed")
    messages_cancel_topic(topic=topic_of(item))
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=item, summary="dismissed")
