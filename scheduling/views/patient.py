"""The pages a patient reaches from an e-mail (``/p/...``): no login, a signed link scoped to
one appointment and one purpose: confirm, ask for a change, answer a follow-up check. They
show the first name, date, time and place only: whoever holds the link may not be the
patient."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic import localtime
from clinic.audit import audit_refused, audit_view, phi_page
from clinic.models import Location
from scheduling import lifecycle, links, selectors
from scheduling.forms.patient import ChangeRequestForm, FollowUpAnswerForm
from scheduling.models import Appointment, FollowUp
from scheduling.services import follow_ups
from scheduling.services.patient_requests import patient_request_submit
from scheduling.services.status import AppointmentMoved, appointment_confirm_by_patient

LINK_INVALID = "This link is not valid. It may have been cut short when it was copied."
LINK_EXPIRED = "This link has expired."
APPOINTMENT_CANCELLED = "This appointment was cancelled."
APPOINTMENT_OVER = "This appointment has already taken place."
LINK_FOR_EARLIER_TIME = "This link was for an earlier time."
ANSWERED_BY_PATIENT = "answered through the patient's e-mail link"
# The refused attempt's row: what was asked for (the link's purpose), never the token.
LINK_OBJECT = "patient link"


def _refusal(request: HttpRequest, message: str, *, status: int, appointment: Appointment | None = None):
    purpose = request.resolver_match.url_name if request.resolver_match else ""
    audit_refused(user=request.user, object_type=LINK_OBJECT, object_id=purpose, summary=message)
    location = appointment.location if appointment else Location.objects.filter(is_active=True).first()
    return render(request, "scheduling/patient/refused.html", {"message": message, "location": location}, status=status)


def _moved(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """A link made before the appointment was moved: the time it is at now, and nothing done."""
    context = _context(appointment, message=LINK_FOR_EARLIER_TIME)
    return render(request, "scheduling/patient/moved.html", context, status=410)


def _appointment_for(
    request: HttpRequest, token: str, *, purpose: str
) -> tuple[Appointment | None, links.LinkClaim | None, HttpResponse | None]:
    """The link's appointment and claim if the link may still be used, else the page that says why."""
    try:
        claim = links.read_token(token, purpose=purpose)
    except links.LinkExpired:
        known = _identify(token, purpose)
        return None, None, _refusal(request, LINK_EXPIRED, status=410, appointment=known)
    except links.LinkInvalid:
        return None, None, _refusal(request, LINK_INVALID, status=400)
    appointment = Appointment.objects.select_related("patient", "location").filter(pk=claim.appointment_id).first()
    if appointment is None or not lifecycle.is_active(appointment.status):
        return None, None, _refusal(request, APPOINTMENT_CANCELLED, status=410, appointment=appointment)
    if not lifecycle.appointment_open_to_patient(appointment):
        return None, None, _refusal(request, APPOINTMENT_OVER, status=410, appointment=appointment)
    if claim.is_for_earlier_time(appointment):
        # The page shows the appointment's new time and place: a view of it, like any other.
        audit_view(user=request.user, obj=appointment, summary=f"patient link: {purpose}, for an earlier time")
        return None, None, _moved(request, appointment)
    audit_view(user=request.user, obj=appointment, summary=f"patient link: {purpose}")
    return appointment, claim, None


def _identify(token: str, purpose: str) -> Appointment | None:
    try:
        claim = links.read_token(token, purpose=purpose, allow_expired=True)
    except links.LinkInvalid:
        return None
    return Appointment.objects.select_related("location").filter(pk=claim.appointment_id).first()


@phi_page
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the appointment and a button; POST confirms (again is fine)."""
    appointment, claim, refusal = _appointment_for(request, token, purpose=links.CONFIRM)
    if refusal:
        return refusal
    if request.method == "POST":
        try:
            appointment_confirm_by_patient(appointment=appointment, version=claim.version)
        except AppointmentMoved:  # moved between this page's read and the write
            appointment.refresh_from_db()
            return _moved(request, appointment)
        return redirect("patient:confirm", token=token)
    # Derived from this link, so it expires with it: a link never outlives the one it came from.
    change_url = links.patient_link(
        appointment_id=appointment.pk, purpose=links.CHANGE, version=claim.version, expires_at=claim.expires_at
    )
    return render(request, "scheduling/patient/confirm.html", _context(appointment, change_url=change_url))


@phi_page
@require_http_methods(["GET", "POST"])
def change(request: HttpRequest, token: str) -> HttpResponse:
    """Ask to reschedule or cancel: a request in the scheduler's queue, not a change yet."""
    appointment, _claim, refusal = _appointment_for(request, token, purpose=links.CHANGE)
    if refusal:
        return refusal
    open_request = appointment.patient_requests.filter(handled_at__isnull=True).first()
    initial = {"kind": open_request.kind, "reason": open_request.reason} if open_request else None
    form = ChangeRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            patient_request_submit(
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
        "date": f"{local:{localtime.DAY_FORMAT}}",
        "time": f"{local:%-I:%M %p}",
        "zone": f"{local:%Z}",
        **extra,
    }


@phi_page
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the four questions (or the stored answer's receipt); POST stores the first
    answer. A second answer changes nothing: the provider may already have read the first."""
    try:
        claim = links.read_token(token, purpose=links.FOLLOW_UP)
    except links.LinkExpired:
        # Genuine but expired: read only to show that location's phone number, never to act.
        expired = links.read_token(token, purpose=links.FOLLOW_UP, allow_expired=True)
        return _refusal(
            request, LINK_EXPIRED, status=410, appointment=_appointment_of(selectors.follow_up_for_link(claim=expired))
        )
    except links.LinkInvalid:
        return _refusal(request, LINK_INVALID, status=400)
    check = selectors.follow_up_for_link(claim=claim)
    if check is None:
        return _refusal(request, LINK_INVALID, status=400)
    audit_view(user=request.user, obj=check, summary="patient link: follow-up")
    form = FollowUpAnswerForm(request.POST if request.method == "POST" and not check.is_answered else None)
    if form.is_bound and form.is_valid():
        follow_ups.follow_up_answer(follow_up=check, **form.cleaned_data)
        return redirect("patient:follow-up", token=token)
    return render(
        request,
        "scheduling/patient/follow_up.html",
        _follow_up_context(check, form),
        status=400 if form.errors else 200,
    )


def _follow_up_context(check: FollowUp, form: FollowUpAnswerForm) -> dict:
    appointment = check.appointment
    local = appointment.local_starts_at
    return {
        "follow_up": check,
        "form": form,
        "first_name": appointment.patient.first_name,
        "location": appointment.location,
        "visit_date": f"{local:{localtime.DAY_FORMAT}}",
        "answered_on": check.answered_at.astimezone(appointment.location.zone) if check.answered_at else None,
    }


def _appointment_of(follow_up: FollowUp | None) -> Appointment | None:
    return follow_up.appointment if follow_up else None
