"""Procedure orders: a provider orders the next procedure (type, site, urgency, note), the
order waits in the scheduler's "to schedule" queue (``scheduling.selectors.orders_to_schedule``)
until booked, and is fulfilled when its appointment is completed or cancelled with a reason.

Every procedure after the first consultation comes from an order; booking copies the
order's patient, procedure and site into the appointment.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.audit import audit_write
from clinic.models import AuditEvent, ProcedureType, User
from clinic.roles import Role, has_role
from conditions.models import PathwayStep
from conditions.sites import check_site
from referrals.models import Patient
from scheduling.models import Appointment, Course, CourseDecision, ProcedureOrder

OS = ProcedureOrder.Status

ONLY_PROVIDERS_ORDER = "Only a provider can order a procedure."
CANCEL_NEEDS_REASON = "Give a reason for cancelling the order."
ORDER_CLOSED = "This order is already {status}."
ORDER_BOOKED = "This order is booked ({appointment}): cancel that appointment first."
COURSE_OTHER_PATIENT = "That course belongs to another patient."
TYPE_IS_VISIT = "{procedure} is a visit, not a procedure: book it directly."


def site_errors(*, procedure_type: ProcedureType, site: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The site's problems by field, and the site as stored (levels normalised)."""
    checked = check_site(
        procedure_type=procedure_type,
        region=site.get("site_region", ""),
        side=site.get("site_side", ""),
        levels=site.get("site_levels", ""),
        target=site.get("site_target", ""),
    )
    return checked.errors, checked.stored()


@transaction.atomic
def order_create(
    *,
    actor: User,
    patient: Patient,
    procedure_type: ProcedureType,
    site: dict[str, str],
    urgency: str = ProcedureOrder.Urgency.ROUTINE,
    note: str = "",
    course: Course | None = None,
    step: PathwayStep | None = None,
    from_appointment: Appointment | None = None,
    not_before: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ProcedureOrder:
    """Order a procedure; raises ValidationError by field (site fields included) and saves
    nothing when anything is wrong."""
    now = now or timezone.now()
    if not has_role(actor, Role.PROVIDER):
        raise ValidationError(ONLY_PROVIDERS_ORDER, code="not_provider")
    errors, stored = site_errors(procedure_type=procedure_type, site=site)
    if procedure_type.kind == ProcedureType.Kind.VISIT:
        errors["procedure_type"] = TYPE_IS_VISIT.format(procedure=procedure_type.name)
    if course is not None and course.patient_id != patient.pk:
        errors["course"] = COURSE_OTHER_PATIENT
    if errors:
        raise ValidationError(errors)
    order = ProcedureOrder.objects.create(
        patient=patient,
        procedure_type=procedure_type,
        course=course,
        step=step,
        urgency=urgency,
        note=note.strip(),
        not_before=not_before,
        from_appointment=from_appointment,
        ordered_by=actor,
        ordered_at=now,
        **stored,
    )
    audit_write(actor=actor, action=AuditEvent.Action.CREATE, obj=order, summary=f"ordered {procedure_type.name}")
    return order


@transaction.atomic
def order_cancel(*, actor: User, order: ProcedureOrder, reason: str, now: dt.datetime | None = None) -> None:
    """Cancel an open order that is not booked, saying why."""
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": CANCEL_NEEDS_REASON}, code="cancel_reason")
    order = ProcedureOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != OS.OPEN:
        raise ValidationError(ORDER_CLOSED.format(status=order.get_status_display().lower()), code="order_closed")
    booked = order.appointments.active().first()
    if booked is not None:
        local = booked.local_starts_at
        raise ValidationError(ORDER_BOOKED.format(appointment=f"{local:%a %d %b %Y %H:%M}"), code="order_booked")
    ProcedureOrder.objects.filter(pk=order.pk).update(
        status=OS.CANCELLED, cancelled_at=now, cancelled_by=actor, cancel_reason=reason.strip()[:300]
    )
    # A course decision that made this order no longer stands: the course offers its
    # suggestion again, so the provider can decide anew.
    CourseDecision.objects.filter(order=order, withdrawn_at__isnull=True).update(withdrawn_at=now)
    order.refresh_from_db()
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=order, summary="cancelled")


def order_fulfil(*, appointment: Appointment, now: dt.datetime | None = None) -> bool:
    """Completing an order's appointment fulfils the order (called by ``appointment_set_status``)."""
    if appointment.order_id is None:
        return False
    return bool(
        ProcedureOrder.objects.filter(pk=appointment.order_id, status=OS.OPEN).update(
            status=OS.FULFILLED, fulfilled_at=now or timezone.now()
        )
    )
