"""The pages a patient reaches from an e-mail: no login, a signed link scoped to one
appointment and one purpose. They show the first name, date, time and place only: whoever
holds the link may not be the patient."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.models import Location
from scheduling import links, messaging, services
from scheduling.models import Appointment, PatientRequest

A = Appointment.Status

LINK_INVALID = "This link is not valid. It may have been cut short when it was copied."
LINK_EXPIRED = "This link has expired."
APPOINTMENT_CANCELLED = "This appointment was cancelled."
APPOINTMENT_OVER = "This appointment has already taken place."
CONFIRMED_BY_PATIENT = "Confirmed by the patient (e-mail link)."


class ChangeRequestForm(forms.Form):
    kind = forms.ChoiceField(
        choices=PatientRequest.Kind.choices,
        widget=forms.RadioSelect,
        label="What would you like to do?",
        error_messages={"required": messaging.REQUEST_NEEDS_KIND},
    )
    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Reason (required to cancel)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") == PatientRequest.Kind.CANCEL and not data.get("reason", "").strip():
            self.add_error("reason", messaging.CANCEL_NEEDS_REASON)
        return data


def _refusal(request: HttpRequest, message: str, *, status: int, appointment: Appointment | None = None):
    location = appointment.location if appointment else Location.objects.filter(is_active=True).first()
    return render(request, "scheduling/patient/refused.html", {"message": message, "location": location}, status=status)


def _appointment_for(
    request: HttpRequest, token: str, *, purpose: str
) -> tuple[Appointment | None, HttpResponse | None]:
    """The link's appointment if the link may still be used, else the page that says why."""
    try:
        claim = links.read_token(token, purpose=purpose)
    except links.LinkExpired:
        known = _identify(token, purpose)
        return None, _refusal(request, LINK_EXPIRED, status=410, appointment=known)
    except links.LinkInvalid:
        return None, _refusal(request, LINK_INVALID, status=400)
    appointment = Appointment.objects.select_related("patient", "location").filter(pk=claim.appointment_id).first()
    if appointment is None or appointment.status == A.CANCELLED:
        return None, _refusal(request, APPOINTMENT_CANCELLED, status=410, appointment=appointment)
    if not messaging.appointment_open_to_patient(appointment):
        return None, _refusal(request, APPOINTMENT_OVER, status=410, appointment=appointment)
    return appointment, None


def _identify(token: str, purpose: str) -> Appointment | None:
    try:
        claim = links.read_token(token, purpose=purpose, allow_expired=True)
    except links.LinkInvalid:
        return None
    return Appointment.objects.select_related("location").filter(pk=claim.appointment_id).first()


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the appointment and a button; POST confirms (again is fine)."""
    appointment, refusal = _appointment_for(request, token, purpose=links.CONFIRM)
    if refusal:
        return refusal
    if request.method == "POST":
        _confirm(appointment)
        return redirect("patient:confirm", token=token)
    change_url = links.patient_link(appointment_id=appointment.pk, purpose=links.CHANGE)
    return render(request, "scheduling/patient/confirm.html", _context(appointment, change_url=change_url))


def _confirm(appointment: Appointment) -> None:
    if appointment.status == A.CONFIRMED:
        return
    try:
        services.appointment_set_status(
            appointment=appointment, status=A.CONFIRMED, actor=None, note=CONFIRMED_BY_PATIENT
        )
    except ValidationError:
        # Another click confirmed it between our read and the locked re-read: done either way.
        appointment.refresh_from_db(fields=["status"])
        if appointment.status != A.CONFIRMED:
            raise


@never_cache
@require_http_methods(["GET", "POST"])
def change(request: HttpRequest, token: str) -> HttpResponse:
    """Ask to reschedule or cancel: a request in the scheduler's queue, not a change yet."""
    appointment, refusal = _appointment_for(request, token, purpose=links.CHANGE)
    if refusal:
        return refusal
    open_request = appointment.patient_requests.filter(handled_at__isnull=True).first()
    initial = {"kind": open_request.kind, "reason": open_request.reason} if open_request else None
    form = ChangeRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            messaging.patient_request_submit(
                appointment=appointment, kind=form.cleaned_data["kind"], reason=form.cleaned_data["reason"]
            )
        except IntegrityError:
            pass  # a simultaneous submit of the same form won the insert: the request is there
        except ValidationError as exc:
            return _refusal(request, " ".join(exc.messages), status=410, appointment=appointment)
        return redirect("patient:change", token=token)
    context = _context(appointment, form=form, open_request=open_request)
    return render(request, "scheduling/patient/change.html", context, status=400 if form.errors else 200)


def _context(appointment: Appointment, **extra) -> dict:
    local = appointment.local_starts_at
    return {
        "appointment": appointment,
        "first_name": appointment.patient.first_name,
        "location": appointment.location,
        "date": f"{local:%A %-d %B %Y}",
        "time": f"{local:%-I:%M %p}",
        "zone": f"{local:%Z}",
        **extra,
    }
