"""The scheduler's queues: follow-up checks nobody answered ("no response: call the
patient"), patients whose relief has worn off ("repeat due"), and what patients asked
through their e-mail links (reschedule or cancel). Staff act on a patient's request through
the usual finder and cancel form, then mark it handled (moving or cancelling the appointment
marks it handled by itself)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic import localtime
from clinic.audit import audit_record_many, phi_list, phi_write
from clinic.models import AuditEvent
from clinic.roles import Role, role_required
from scheduling import selectors
from scheduling.forms.queues import QueueNoteForm
from scheduling.services import follow_ups, repeats
from scheduling.services import patient_requests as patient_request_services

FOLLOW_UP_CLOSED = "Follow-up closed: %(patient)s."
REPEAT_DISMISSED = "Removed from the repeat-due queue: %(patient)s."
# The roles that may also reschedule and cancel, which is what handling a request means.
REQUEST_ROLES = (Role.SCHEDULER, Role.CLINIC_ADMIN)
MARKED_HANDLED = "Request marked handled."
ALREADY_HANDLED = "That request was already handled."


@phi_list
@role_required(Role.SCHEDULER)
def no_response(request: HttpRequest, *, failed=None, status: int = 200) -> HttpResponse:
    follow_ups_shown = selectors.follow_ups_no_response()
    _audit_shown(request, [check.appointment.patient for check in follow_ups_shown], "no response")
    context = {"follow_ups": follow_ups_shown, "failed": failed}
    return render(request, "scheduling/no_response.html", context, status=status)


def _audit_shown(request: HttpRequest, patients: list, page: str) -> None:
    audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=patients, summary=page)


@phi_write
@role_required(Role.SCHEDULER)
@require_POST
def follow_up_close(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = selectors.get_follow_up(pk, user=request.user)
    form = QueueNoteForm(request.POST, needs_note=follow_ups.CLOSE_NEEDS_NOTE)
    if not form.is_valid():
        return no_response(request, failed=_failed(follow_up.pk, form), status=400)
    _close_with_note(
        request,
        close=lambda: follow_ups.follow_up_close(
            follow_up=follow_up, actor=request.user, note=form.cleaned_data["note"]
        ),
        done=FOLLOW_UP_CLOSED % {"patient": follow_up.appointment.patient.full_name},
    )
    return redirect("scheduling:no_response")


def _failed(pk: int, form: QueueNoteForm) -> dict:
    """The one row whose note was refused: its text as typed and why, for the queue page."""
    return {"pk": pk, "note": form.data.get("note", ""), "errors": form.errors.get("note", [])}


def _close_with_note(request: HttpRequest, *, close, done: str) -> None:
    """Take a queue item off with the staff member's note; say what happened either way."""
    try:
        close()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)


@phi_list
@role_required(Role.SCHEDULER)
def repeat_due(request: HttpRequest, *, failed=None, status: int = 200) -> HttpResponse:
    items = list(selectors.repeats_due_open())
    _audit_shown(request, [item.patient for item in items], "repeat due")
    context = {"items": items, "today": localtime.clinic_today(), "failed": failed}
    return render(request, "scheduling/repeat_due.html", context, status=status)


@phi_write
@role_required(Role.SCHEDULER)
@require_POST
def repeat_due_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.get_repeat_due(pk, user=request.user)
    form = QueueNoteForm(request.POST, needs_note=repeats.DISMISS_NEEDS_NOTE)
    if not form.is_valid():
        return repeat_due(request, failed=_failed(item.pk, form), status=400)
    _close_with_note(
        request,
        close=lambda: repeats.repeat_due_dismiss(item=item, actor=request.user, note=form.cleaned_data["note"]),
        done=REPEAT_DISMISSED % {"patient": item.patient.full_name},
    )
    return redirect("scheduling:repeat_due")


@phi_list
@role_required(*REQUEST_ROLES)
def patient_requests(request: HttpRequest) -> HttpResponse:
    requests = list(selectors.open_patient_requests())
    _audit_shown(request, [patient_request.appointment.patient for patient_request in requests], "patient requests")
    return render(request, "scheduling/patient_requests.html", {"requests": requests})


@phi_write
@role_required(*REQUEST_ROLES)
@require_POST
def patient_request_handled(request: HttpRequest, pk: int) -> HttpResponse:
    patient_request = selectors.get_patient_request(pk, user=request.user)
    note = request.POST.get("note", "")
    if patient_request_services.patient_request_mark_handled(request=patient_request, actor=request.user, note=note):
        messages.success(request, MARKED_HANDLED)
    else:
        messages.info(request, ALREADY_HANDLED)
    return redirect("scheduling:patient_requests")
