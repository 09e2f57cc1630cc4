"""Clinic admins decide portal access requests: approve into a practice they choose (an
existing one, seen with its address and physicians, or a new one), or reject."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic.audit import not_phi
from clinic.roles import Role, role_required
from referrals import portal_services, selectors
from referrals.forms import AccessRequestApproveForm
from referrals.models import PortalAccessRequest

APPROVED_JOINED = "Approved: %(physician)s joined %(practice)s and was e-mailed an invitation."
APPROVED_CREATED = "Approved: %(physician)s is in the new practice %(practice)s and was e-mailed an invitation."
REJECTED = "Rejected the request of %(email)s."
ALREADY_DECIDED = "This request was already decided."


def _get_request(pk: int) -> PortalAccessRequest:
    found = PortalAccessRequest.objects.select_related("decided_by", "physician__practice").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@not_phi("a physician's request for a portal account: no patient record")
@role_required(Role.CLINIC_ADMIN)
def access_requests(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.access_request_list(), 25).get_page(request.GET.get("page"))
    return render(request, "referrals/access_requests.html", {"page": page})


@not_phi("a physician's request for a portal account: no patient record")
@role_required(Role.CLINIC_ADMIN)
def access_request(request: HttpRequest, pk: int) -> HttpResponse:
    access_request = _get_request(pk)
    pending = access_request.status == PortalAccessRequest.Status.PENDING
    form = AccessRequestApproveForm(request.POST or None, initial={"new_practice_name": access_request.practice_name})
    if request.method == "POST" and pending and form.is_valid():
        try:
            physician = portal_services.access_request_approve(
                access_request=access_request, actor=request.user, practice=form.chosen_practice(),
                new_practice_name=form.cleaned_data["new_practice_name"],
            )  # fmt: skip
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            done = APPROVED_JOINED if form.chosen_practice() else APPROVED_CREATED
            messages.success(request, done % {"physician": physician, "practice": physician.practice})
            return redirect("referrals:access_requests")
    elif request.method == "POST" and not pending:
        messages.info(request, ALREADY_DECIDED)
        return redirect("referrals:access_request", pk=pk)
    context = {"access_request": access_request, "form": form, "pending": pending,
               "similar": selectors.practices_like(access_request) if pending else []}  # fmt: skip
    return render(request, "referrals/access_request.html", context, status=400 if form.errors else 200)


@not_phi("POST only: rejects a portal access request; its service writes the audit row")
@role_required(Role.CLINIC_ADMIN)
@require_POST
def access_request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    access_request = _get_request(pk)
    portal_services.access_request_reject(access_request=access_request, actor=request.user)  # fmt: skip
    messages.success(request, REJECTED % {"email": access_request.email})
    return redirect("referrals:access_requests")
