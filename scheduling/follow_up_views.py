"""The patient's follow-up form, reached from an e-mail's signed link without logging in. It
shows the first name and the visit's date and place only: whoever holds the link may not be
the patient."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.audit import audit_record
from clinic.models import AuditEvent, Location
from scheduling import follow_ups, links
from scheduling.follow_up_forms import FollowUpAnswerForm
from scheduling.models import FollowUp

LINK_INVALID = "This link is not valid. It may have been cut short when it was copied."
LINK_EXPIRED = "This link has expired."
ANSWERED_BY_PATIENT = "answered through the patient's e-mail link"


def _refusal(request: HttpRequest, message: str, *, status: int, follow_up: FollowUp | None = None) -> HttpResponse:
    location = follow_up.appointment.location if follow_up else Location.objects.filter(is_active=True).first()
    return render(request, "scheduling/patient/refused.html", {"message": message, "location": location}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the four questions (or the stored answer's receipt); POST stores the first
    answer. A second answer changes nothing: the provider may already have read the first."""
    try:
        claim = links.read_token(token, purpose=links.FOLLOW_UP)
    except links.LinkExpired:
        # Genuine but expired: read only to show that location's phone number, never to act.
        expired = links.read_token(token, purpose=links.FOLLOW_UP, allow_expired=True)
        return _refusal(request, LINK_EXPIRED, status=410, follow_up=follow_ups.follow_up_for_link(claim=expired))
    except links.LinkInvalid:
        return _refusal(request, LINK_INVALID, status=400)
    check = follow_ups.follow_up_for_link(claim=claim)
    if check is None:
        return _refusal(request, LINK_INVALID, status=400)
    form = FollowUpAnswerForm(request.POST if request.method == "POST" and not check.is_answered else None)
    if form.is_bound and form.is_valid():
        if follow_ups.follow_up_answer(follow_up=check, **form.cleaned_data):
            audit_record(request=request, action=AuditEvent.Action.UPDATE, obj=check, summary=ANSWERED_BY_PATIENT)
        return redirect("patient:follow-up", token=token)
    return render(
        request, "scheduling/patient/follow_up.html", _context(check, form), status=400 if form.errors else 200
    )


def _context(check: FollowUp, form: FollowUpAnswerForm) -> dict:
    appointment = check.appointment
    local = appointment.local_starts_at
    return {
        "follow_up": check,
        "form": form,
        "first_name": appointment.patient.first_name,
        "location": appointment.location,
        "visit_date": f"{local:%A %-d %B %Y}",
        "answered_on": check.answered_at.astimezone(appointment.location.zone) if check.answered_at else None,
    }
