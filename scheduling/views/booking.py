"""Scheduling pages: the queue, the slot finder and booking, and an appointment's page."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clinic.models import Location
from clinic.roles import Role, role_required
from referrals.models import Referral
from scheduling import selectors
from scheduling.forms.booking import BookForm, CancelForm, SlotSearchForm, StatusForm
from scheduling.models import Appointment
from scheduling.services import booking as services
from scheduling.services.status import appointment_set_status
from scheduling.views.shared import SCHEDULING_ROLES, int_param

BOOKED = "Booked: %(summary)s"
MOVED = "Moved: %(summary)s"
CANCELLED = "Appointment cancelled; the time is free again."
STATUS_CHANGED = "Appointment is now %(status)s."


@never_cache
@role_required(Role.SCHEDULER)
def queue(request: HttpRequest) -> HttpResponse:
    referrals = selectors.referrals_to_schedule()
    return render(request, "scheduling/queue.html", {"referrals": referrals})


@never_cache
@role_required(*SCHEDULING_ROLES)
def find(request: HttpRequest) -> HttpResponse:
    """Search free slots; a referral or an appointment being moved fills in the rest."""
    # Opened from the queue (?referral=) the search runs at once with the referral's
    # first visit and provider filled in.
    data = request.GET.copy()
    for name, value in _finder_initial(request).items():
        if value is not None:
            data.setdefault(name, value)
    form = SlotSearchForm(data or None)
    search, context = None, {"form": form, "offered_at": timezone.now()}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        patient, referral, appointment = _subject(data)
        start = None
        if data["from_date"]:
            zone = (data["location"] or data["procedure_type"].locations.first() or Location()).zone
            start = max(timezone.now(), dt.datetime.combine(data["from_date"], dt.time(0), tzinfo=zone))
        search = selectors.find_slots(
            procedure_type=data["procedure_type"], location=data["location"], provider=data["provider"],
            patient=patient, start=start, limit=60, exclude_appointment_id=appointment.pk if appointment else None,
        )  # fmt: skip
        context.update(search=search, patient=patient, referral=referral, appointment=appointment)
    return render(request, "scheduling/find.html", context)


def _finder_initial(request: HttpRequest) -> dict:
    referral_id = int_param(request, "referral")
    if referral_id and not request.GET.get("procedure_type"):
        referral = Referral.objects.filter(pk=referral_id).first()
        if referral:
            return {"procedure_type": referral.first_visit_id, "provider": referral.preferred_provider_id,
                    "referral": referral.pk}  # fmt: skip
    return {}


def _subject(data: dict):
    """The patient a search is for, from the referral or the appointment being moved."""
    referral = Referral.objects.select_related("patient").filter(pk=data.get("referral") or 0).first()
    appointment = Appointment.objects.select_related("patient").filter(pk=data.get("appointment") or 0).first()
    patient = appointment.patient if appointment else referral.patient if referral else None
    return patient, referral, appointment


@never_cache
@role_required(*SCHEDULING_ROLES)
def book(request: HttpRequest) -> HttpResponse:
    """Confirm (GET) then book or move (POST) the slot the finder offered."""
    form = BookForm(request.POST or request.GET or None)
    if not form.is_valid():
        messages.error(request, "That slot could not be read; please search again.")
        return redirect("scheduling:find")
    data = form.cleaned_data
    patient, referral, appointment = _subject(data)
    context = {"form": form, "data": data, "patient": patient, "referral": referral, "appointment": appointment}
    if request.method != "POST":
        return render(request, "scheduling/book.html", context)
    try:
        result = _book_or_move(request, data, patient, referral, appointment)
    except services.SlotTaken as exc:
        context.update(alternatives=exc.alternatives, error=str(exc))
        return render(request, "scheduling/book.html", context, status=409)
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return render(request, "scheduling/book.html", context, status=400)
    messages.success(request, (MOVED if appointment else BOOKED) % {"summary": services.describe(result)})
    return redirect(result)


def _book_or_move(request, data, patient, referral, appointment) -> Appointment:
    common = {"actor": request.user, "starts_at": data["starts_at"], "offered_at": data["offered_at"],
              "repeat_override_reason": data["repeat_override_reason"]}  # fmt: skip
    if appointment is not None:
        return services.appointment_reschedule(
            appointment=appointment, provider=data["provider"], location=data["location"], **common
        )
    if patient is None:
        raise ValidationError(services.REFERRAL_REQUIRED)
    return services.appointment_book(
        patient=patient, procedure_type=data["procedure_type"], location=data["location"],
        provider=data["provider"], referral=referral if referral and referral.status == "accepted" else None,
        **common,
    )  # fmt: skip


@never_cache
@role_required(*SCHEDULING_ROLES)
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.get_appointment(pk)
    context = {
        "appointment": appointment,
        "events": appointment.events.select_related("actor"),
        "cancel_form": CancelForm(),
        "status_form": StatusForm(appointment=appointment),
    }
    return render(request, "scheduling/appointment.html", context)


@require_POST
@role_required(*SCHEDULING_ROLES)
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.get_appointment(pk)
    form = CancelForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(services.CANCEL_NEEDS_REASON)
        services.appointment_cancel(appointment=appointment, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, CANCELLED)
    return redirect(appointment)


@require_POST
@role_required(*SCHEDULING_ROLES)
def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.get_appointment(pk)
    form = StatusForm(request.POST, appointment=appointment)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("status", ["Choose a status."]))
        changed = appointment_set_status(
            appointment=appointment, status=form.cleaned_data["status"], actor=request.user,
            outcome_summary=form.cleaned_data["outcome_summary"],
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, STATUS_CHANGED % {"status": changed.get_status_display().lower()})
    return redirect(appointment)
