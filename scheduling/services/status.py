"""Writes on an appointment's status: confirm, check in, complete, no-show; and the
patient's confirmation through their e-mail link. Which status may follow which is
``scheduling.lifecycle``'s."""

from __future__ import annotations

import datetime as dt

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


@transaction.atomic
def appointment_set_status(
    *,
    appointment: Appointment,
    status: str,
    actor: User | None,  # None: the patient, through a signed link
    note: str = "",
    outcome_summary: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Confirm, check in, complete or mark a no-show. Completing the referral's visit
    completes the referral (with the outcome summary for the referrer)."""
    if status == A.CANCELLED:
        return appointment_cancel(appointment=appointment, actor=actor, reason=note, now=now)
    appointment = lifecycle.status_change(appointment, status, actor=actor, now=now, note=note)
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
