"""The referring physicians' portal: their practice's referrals, new referrals, answers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clinic.audit import audit_record_many, not_phi, phi_list, phi_page
from clinic.client_ip import client_ip
from clinic.models import AuditEvent
from clinic.roles import Role, role_required
from referrals import selectors, services
from referrals.forms import AnswerInformationForm, PortalAccessRequestForm, ReferralForm
from referrals.models import Referral, ReferringPhysician
from referrals.portal_services import AccessRequestThrottled, access_request_submit
from referrals.views import params, referral_form

ALREADY_SUBMITTED = "This referral was already submitted; nothing was sent twice."
SUBMITTED = "Referral %(reference)s was sent to the clinic. You will be e-mailed at every step."
ANSWER_SENT = "Your answer was sent; the referral is back under review."
NOT_WAITING_FOR_ANSWER = "This referral is not waiting for information from you."
ACCESS_REQUESTED = "Thank you. The clinic will review your request and e-mail you."


def _own_physician(user) -> ReferringPhysician | None:
    return selectors.portal_physician_of(user)


@phi_list
@role_required(Role.REFERRER)
def portal(request: HttpRequest) -> HttpResponse:
    physician = _own_physician(request.user)
    if physician is None:
        return render(request, "referrals/not_linked.html", status=200)
    search = status = ""
    filter_error = None
    try:
        search = params.search_text(request)
        status = params.choice(request, "status", Referral.Status.values, label="status")
    except params.BadParameter as exc:
        filter_error = str(exc)
        search = params.as_typed(request)  # shown again beside the message, nothing lost
        referrals = Referral.objects.none()
    else:
        referrals = selectors.referral_list_for_portal(request.user, search=search, status=status)
    page = Paginator(referrals, 25).get_page(request.GET.get("page"))
    audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=list(page), summary="portal")
    context = {"page": page, "physician": physician, "q": search, "status": status, "statuses": Referral.Status.choices,
               "filter_error": filter_error}  # fmt: skip
    return render(request, "referrals/portal.html", context, status=400 if filter_error else 200)


@not_phi("the new-referral form: shows only what its sender typed")
@role_required(Role.REFERRER)
def portal_new(request: HttpRequest) -> HttpResponse:
    physician = _own_physician(request.user)
    if physician is None:
        return render(request, "referrals/not_linked.html")
    physicians = ReferringPhysician.objects.filter(practice=physician.practice, is_active=True)
    form, staged = referral_form.bind(request, ReferralForm, physicians=physicians,
                                      initial={"referring_physician": physician.pk})  # fmt: skip
    if request.method == "POST" and form.is_valid() and not referral_form.removing(request):
        try:
            referral, created = services.referral_create(
                actor=request.user, physician=form.cleaned_data["referring_physician"], source=Referral.Source.PORTAL,
                fields=form.referral_fields(), patient_fields=form.patient_fields(),
                diagnosis_codes=form.cleaned_data["diagnosis_codes"], files=referral_form.all_files(form, staged),
                submission_token=form.cleaned_data["submission_token"],
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            referral_form.discard(request)
            if created:
                messages.success(request, SUBMITTED % {"reference": referral.reference})
            else:
                messages.info(request, ALREADY_SUBMITTED)
            return redirect(referral)
    if request.method == "POST":
        staged = referral_form.keep_new_files(request, form, staged)
    return render(request, "referrals/portal_new.html", {"form": form, "staged_uploads": staged})


@phi_page
@role_required(Role.REFERRER)
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    referral = selectors.get_referral_for_user(request.user, pk)
    if referral.status != Referral.Status.NEEDS_INFORMATION:
        messages.info(request, NOT_WAITING_FOR_ANSWER)
        return redirect(referral)
    form = AnswerInformationForm(
        request.POST or None, request.FILES or None, existing_file_count=referral.attachments.count()
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_answer_information(
                referral=referral, actor=request.user, answer_text=form.cleaned_data["answer_text"],
                files=form.cleaned_data["new_files"],
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, ANSWER_SENT)
            return redirect(referral)
    request_event = referral.events.filter(kind="request").order_by("-at").first()
    return render(
        request, "referrals/respond.html", {"referral": referral, "form": form, "request_event": request_event}
    )


@not_phi("the public access-request form")
def request_access(request: HttpRequest) -> HttpResponse:
    """Public: a physician asks for a portal account; an admin approves it."""
    form = PortalAccessRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access_request_submit(client_ip=client_ip(request), **form.cleaned_data)
        except AccessRequestThrottled as exc:
            form.add_error(None, str(exc))
            return render(request, "referrals/request_access.html", {"form": form}, status=429)
        messages.success(request, ACCESS_REQUESTED)
        return redirect("login")
    return render(request, "referrals/request_access.html", {"form": form})
