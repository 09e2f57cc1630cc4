"""What a patient asks through their appointment's signed link: reschedule or cancel. A
request waits in the scheduler's queue until staff mark it handled; moving or cancelling the
appointment marks it handled by itself (``close_open_requests``, called by the e-mail
services inside the same transaction)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.audit import audit_write
from clinic.models import AuditEvent, User
from scheduling import lifecycle
from scheduling.models import Appointment, PatientRequest

REQUEST_NEEDS_KIND = "Choose whether you would like to reschedule or cancel."
CANCEL_NEEDS_REASON = "Please tell us why you would like to cancel."
REQUEST_NOT_OPEN = "This appointment can no longer be changed online."
HANDLED_BY_RESCHEDULE = "Appointment rescheduled."
HANDLED_BY_CANCEL = "Appointment cancelled."


@transaction.atomic
def patient_request_submit(
    *, appointment: Appointment, kind: str, reason: str = "", now: dt.datetime | None = None
) -> PatientRequest:
    """The patient asks to reschedule or cancel; a second ask updates the one open request."""
    now = now or timezone.now()
    reason = reason.strip()
    if kind not in PatientRequest.Kind.values:
        raise ValidationError({"kind": REQUEST_NEEDS_KIND}, code="request_kind")
    if kind == PatientRequest.Kind.CANCEL and not reason:
        raise ValidationError({"reason": CANCEL_NEEDS_REASON}, code="cancel_reason")
    # Locking the appointment serialises two submits of the same form, so the second finds
    # the first's request instead of tripping the one-open-request constraint.
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if not lifecycle.appointment_open_to_patient(locked, now=now):
        raise ValidationError(REQUEST_NOT_OPEN, code="not_open")
    request = PatientRequest.objects.filter(appointment=locked, handled_at__isnull=True).first()
    if request is not None and (request.kind, request.reason) == (kind, reason):
        return request
    if request is None:
        request = PatientRequest.objects.create(appointment=locked, kind=kind, reason=reason, created_at=now)
    else:
        request.kind, request.reason = kind, reason
        request.save(update_fields=["kind", "reason"])
    lifecycle.event_record(
        appointment_id=locked.pk,
        action=f"patient_asked_{kind}",
        actor=None,
        at=now,
        after={"request": request.pk, "kind": kind, "reason": reason},  # in full: the note may be cut
        note=f"Patient asked to {kind}: {reason}" if reason else f"Patient asked to {kind}.",
    )
    audit_write(actor=None, action=AuditEvent.Action.CREATE, obj=request, summary=f"patient asked to {kind}")
    return request


@transaction.atomic
def patient_request_mark_handled(
    *, request: PatientRequest, actor: User | None, note: str = "", now: dt.datetime | None = None
) -> bool:
    """Take a request off the scheduler's queue; False if someone already had."""
    now = now or timezone.now()
    done = PatientRequest.objects.filter(pk=request.pk, handled_at__isnull=True).update(
        handled_at=now, handled_by=actor, handled_note=note.strip()[:300]
    )
    if done:
        lifecycle.event_record(
            appointment_id=request.appointment_id,
            action="patient_request_handled",
            actor=actor,
            at=now,
            after={"request": request.pk},
            note=note.strip(),
        )
        audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=request, summary="handled")
    return bool(done)


def close_open_requests(appointment: Appointment, *, actor: User | None, note: str, now: dt.datetime) -> None:
    """Moving or cancelling the appointment answers whatever the patient asked."""
    for request in PatientRequest.objects.filter(appointment=appointment, handled_at__isnull=True):
        patient_request_mark_handled(request=request, actor=actor, note=note, now=now)
