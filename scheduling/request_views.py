"""The scheduler's queue of what patients asked through their e-mail links: reschedule or
cancel. Staff act through the usual finder and cancel form, then mark the request handled
(moving or cancelling the appointment marks it handled by itself)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clinic.audit import audit_record
from clinic.models import AuditEvent
from clinic.roles import Role, role_required
from scheduling import messaging
from scheduling.models import PatientRequest

# The roles that may also reschedule and cancel, which is what handling a request means.
REQUEST_ROLES = (Role.SCHEDULER, Role.CLINIC_ADMIN)
MARKED_HANDLED = "Request marked handled."
ALREADY_HANDLED = "That request was already handled."


def open_patient_requests():
    """Open requests, oldest first, with what the queue shows preloaded."""
    return (
        PatientRequest.objects.filter(handled_at__isnull=True)
        .select_related(
            "appointment__patient", "appointment__location", "appointment__procedure_type", "appointment__provider"
        )
        .order_by("created_at", "pk")
    )


@never_cache
@role_required(*REQUEST_ROLES)
def patient_requests(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/patient_requests.html", {"requests": open_patient_requests()})


@require_POST
@role_required(*REQUEST_ROLES)
def patient_request_handled(request: HttpRequest, pk: int) -> HttpResponse:
    patient_request = get_object_or_404(PatientRequest, pk=pk)
    note = request.POST.get("note", "")
    if messaging.patient_request_mark_handled(request=patient_request, actor=request.user, note=note):
        audit_record(request=request, action=AuditEvent.Action.UPDATE, obj=patient_request, summary="handled")
        messages.success(request, MARKED_HANDLED)
    else:
        messages.info(request, ALREADY_HANDLED)
    return redirect("scheduling:patient_requests")
