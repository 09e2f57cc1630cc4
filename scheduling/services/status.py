"""Writes on an appointment's status: confirm, check in, complete, no-show; and the
patient's confirmation through their e-mail link. Which status may follow which is
``scheduling.lifecycle``'s."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.audit import audit_write
from clinic.models import AuditEvent, User
from referrals.models import Referral
from referrals.services import referral_mark_completed
from scheduling import lifecycle
from scheduling.models import Appointment
from scheduling.services import follow_ups, orders
from scheduling.services.booking import appointment_cancel

A = Appointment.Status

CONFIRMED_BY_PATIENT = "Confirmed by the patient (e-mail link)."
RELIEF_RANGE = "Relief is a percent between 0 and 100."
PAIN_RANGE = "Pain is a score between 0 and 10."
OUTCOME_NOTE_TOO_LONG = "Keep the outcome note to 300 characters."
OUTCOME_ONLY_AT_COMPLETION = "An outcome is recorded when the procedure is completed."


def outcome_check(outcome: dict) -> dict:
    """The outcome's fields as stored (relief %, baseline pain, note); raises ValidationError
    by field with a specific message for a value out of range."""
    errors, stored = {}, {}
    for name, top, message in (("block_relief_percent", 100, RELIEF_RANGE), ("baseline_pain", 10, PAIN_RANGE)):
        value = outcome.get(name)
        if value in (None, ""):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            errors[name] = message
            continue
        if not 0 <= number <= top:
            errors[name] = message
        else:
            stored[name] = number
    note = (outcome.get("outcome_note") or "").strip()
    if len(note) > 300:
        errors["outcome_note"] = OUTCOME_NOTE_TOO_LONG
    elif note:
        stored["outcome_note"] = note
    if errors:
        raise ValidationError(errors)
    return stored


@transaction.atomic
def appointment_set_status(
    *,
    appointment: Appointment,
    status: str,
    actor: User | None,  # None: the patient, through a signed link
    note: str = "",
    outcome_summary: str = "",
    outcome: dict | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Confirm, check in, complete or mark a no-show. Completing records what the procedure
    showed (``outcome``: block_relief_percent, baseline_pain, outcome_note; checked before
    anything is written) on the appointment and in its event. Completing the referral's visit
    completes the referral (with the outcome summary for the referrer)."""
    if status == A.CANCELLED:
        return appointment_cancel(appointment=appointment, actor=actor, reason=note, now=now)
    stored = outcome_check(outcome or {})
    if stored and status != A.COMPLETED:
        raise ValidationError(OUTCOME_ONLY_AT_COMPLETION, code="outcome_not_completed")
    appointment = lifecycle.status_change(appointment, status, actor=actor, now=now, note=note, extra=stored or None)
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=appointment, summary=f"status {status}")
    if status == A.COMPLETED:
        follow_ups.follow_ups_plan(appointment=appointment, now=now)
        orders.order_fulfil(appointment=appointment, now=now)
    referral = appointment.referral
    if status == A.COMPLETED and referral is not None and referral.status == Referral.Status.SCHEDULED:
        referral_mark_completed(
            referral=referral,
            actor=actor,
            outcome_summary=outcome_summary or f"{appointment.procedure_type.name} completed.",
            now=now,
        )
    return appointment


class AppointmentMoved(Exception):
    """The patient's link was made before the appointment was moved: it confirms nothing."""


@transaction.atomic
def appointment_confirm_by_patient(*, appointment: Appointment, version: int, now: dt.datetime | None = None) -> None:
    """The patient confirms through their link, made at ``version``; confirming again is fine.

    The version is compared under the row lock: a reschedule between the page's read and
    this write would otherwise let a link for the earlier time confirm the new one."""
    locked = Appointment.objects.select_for_update(of=("self",)).only("version", "status").get(pk=appointment.pk)
    if locked.version != version:
        raise AppointmentMoved
    if locked.status == A.CONFIRMED:
        return
    appointment_set_status(appointment=appointment, status=A.CONFIRMED, actor=None, note=CONFIRMED_BY_PATIENT, now=now)
