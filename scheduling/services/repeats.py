"""Repeats: a daily sweep puts in the scheduler's "repeat due" queue exactly the repeats the
courses' pathway rules suggest (an RFA after lasting relief that wore off, another epidural
while rehabilitating), with the earliest date the rule and the payer limits allow, and
invites the patient to call. A negative block stops its path, so it never makes a repeat.

1. ``repeats_find_due`` (daily, ``scheduling.tasks.find_repeats_due``):
   a. puts back in the queue an item whose repeat was booked and then cancelled;
   b. for each active course (``scheduling.care.pathways``) whose suggestion is a procedure
      step the course already had, its last session of that procedure, with nothing of that
      type booked after it and not already in the queue;
   c. for each, the earliest date: the later of the rule's ``not_before`` and the first day
      the payer limits allow; an open ``RepeatDue`` (with its course and step) and an
      invitation e-mail.
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
from scheduling.care import pathways
from scheduling.care.coverage import coverage_earliest_date
from scheduling.models import Appointment, Course, RepeatDue

logger = logging.getLogger(__name__)

INVITATION = "repeat_due"
TEMPLATE = "repeat_due"

R = RepeatDue.Status

DISMISS_NEEDS_NOTE = "Write why no repeat is needed now (for example, the patient declined) before dismissing."
ALREADY_CLOSED = "This patient was already booked or dismissed."


def topic_of(item: RepeatDue) -> str:
    return f"repeat-due:{item.pk}"


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
    for state, appointment, earliest, reason in _course_repeats(now=now):
        try:
            # A savepoint per item: a sweep running at the same moment elsewhere makes the
            # second insert break a constraint, which only means "already queued".
            with transaction.atomic():
                item = RepeatDue.objects.create(
                    patient=appointment.patient,
                    procedure_type=appointment.procedure_type,
                    last_appointment=appointment,
                    course=state.course,
                    step=state.suggestion.step,
                    earliest_date=earliest,
                    reason=reason,
                    created_at=now,
                )
                if appointment.patient.can_be_emailed:
                    _queue_invitation(item, appointment, now=now)
        except IntegrityError:
            continue
        created.append(item)
    return created


def _course_repeats(*, now: dt.datetime):
    """Active courses whose rules suggest a procedure the course has already had (a repeat),
    with the session it repeats, the earliest date and the reason in words.

    Nothing else is a repeat: a negative block stops its path, so it never comes here.
    """
    active = pathways.course_prefetch(Course.objects.filter(status=Course.Status.ACTIVE))
    suggested = []
    for state in pathways.course_states(active, now=now):
        suggestion = state.suggestion
        step = suggestion.step
        if suggestion.state != pathways.State.SUGGEST or step is None or not step.is_procedure:
            continue
        done = state.done_of(step.procedure_type_id)
        if done:
            suggested.append((state, done[-1].appointment))
    # In one query: those not queued already whose repeat is not booked or done yet.
    still_due = set(
        Appointment.objects.filter(pk__in=[a.pk for _state, a in suggested])
        .exclude(Exists(RepeatDue.objects.filter(last_appointment=OuterRef("pk"))))
        .exclude(Exists(selectors.later_of_same_type()))
        .values_list("pk", flat=True)
    )
    for state, appointment in suggested:
        if appointment.pk not in still_due:
            continue
        suggestion = state.suggestion
        allowed, policy = _first_allowed(appointment, now=now)
        if allowed is None:
            # The payer would never allow it by waiting (e.g. too little relief for a repeat):
            # not a queue item; the course page shows the suggestion for the provider.
            logger.info("Course %s: repeat suggested but %s never allows it", state.course.pk, policy)
            continue
        earliest = max(allowed, suggestion.not_before) if suggestion.not_before else allowed
        reason = f"{suggestion.text}." + (f" Coverage: {policy}." if policy else "")
        yield state, appointment, earliest, reason[:300]


def _first_allowed(appointment: Appointment, *, now: dt.datetime) -> tuple[dt.date | None, str]:
    """The first day the payer limits allow the procedure again at the session's site (the
    rules booking enforces), and the limit in words; None when waiting will not help."""
    allowed, limit = coverage_earliest_date(
        patient=appointment.patient,
        procedure_type=appointment.procedure_type,
        site=appointment.site_values(),
        location=appointment.location,
        now=now,
    )
    return allowed, (limit.rule.name if limit is not None else "")


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
