"""Intake and triage for clinic staff: the queue, fax and phone entry, and the actions on
a referral (one POST endpoint dispatching to the lifecycle services)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic import localtime, query_params
from clinic.audit import audit_record_many, not_phi, phi_list, phi_write
from clinic.models import AuditEvent
from clinic.roles import Role, has_role, role_required
from referrals import forms, lifecycle, selectors, services
from referrals.models import Patient, Referral, ReferringPhysician, ReferringPractice
from referrals.views import params, referral_form

S = Referral.Status
# Triage is intake's work; a clinic admin who also triages holds the intake role too.
TRIAGE_ROLES = (Role.INTAKE,)
STAFF_ROLES = (Role.INTAKE, Role.SCHEDULER, Role.PROVIDER, Role.CLINIC_ADMIN)
CHOOSE_PATIENT = "This patient may already be on file: choose an existing record or create a new one."
ENTERED = "Referral %(reference)s was entered."
DUPLICATES = "possible duplicates"
DONE = {
    "start_review": "Review started.",
    "request_information": "The request was sent to the referring physician.",
    "accept": "Referral accepted: it is now in the scheduler's queue.",
    "decline": "Referral declined; the referring physician was told why.",
    "close": "Referral closed.",
    "note": "Note added.",
    "link_patient": "Linked to the existing patient record.",
}


# --- The queue ----------------------------------------------------------------------


@phi_list
@role_required(*TRIAGE_ROLES)
def triage(request: HttpRequest) -> HttpResponse:
    filters = {"status": "", "urgency": "", "practice": "", "q": "", "overdue": request.GET.get("overdue") == "1"}
    filter_error = None
    try:
        filters.update(
            status=params.choice(request, "status", S.values, label="status"),
            urgency=params.choice(request, "urgency", Referral.Urgency.values, label="urgency"),
            q=params.search_text(request),
        )
        practice_id = params.object_id(request, "practice", label="practice")
        filters["practice"] = str(practice_id or "")
    except params.BadParameter as exc:
        filter_error = str(exc)
        filters["q"] = params.as_typed(request)  # shown again beside the message, nothing lost
        referrals = Referral.objects.none()
    else:
        referrals = selectors.triage_queue(
            statuses=[filters["status"]] if filters["status"] else None,
            urgency=filters["urgency"],
            practice_id=practice_id,
            overdue_only=filters["overdue"],
            search=filters["q"],
        )
    page = Paginator(referrals, 25).get_page(request.GET.get("page"))
    audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=list(page), summary="triage")
    context = {
        "page": page,
        "filters": filters,
        "filter_error": filter_error,
        "statuses": S.choices,
        "urgencies": Referral.Urgency.choices,
        "practices": ReferringPractice.objects.filter(is_active=True).only("pk", "name"),
    }
    return render(request, "referrals/triage.html", context, status=400 if filter_error else 200)


# --- Fax and phone entry ------------------------------------------------------------


@not_phi("the intake form; the possible duplicates it lists after a POST are recorded")
@role_required(*TRIAGE_ROLES)
def intake_new(request: HttpRequest) -> HttpResponse:
    physicians = ReferringPhysician.objects.filter(is_active=True).select_related("practice")
    form, staged = referral_form.bind(request, forms.IntakeReferralForm, physicians=physicians)
    duplicates = Patient.objects.none()
    if request.method == "POST" and form.is_valid() and not referral_form.removing(request):
        duplicates = _possible_duplicates(form)
        choice = request.POST.get("patient_choice", "")
        if duplicates and choice not in {"new", *(str(p.pk) for p in duplicates)}:
            messages.warning(request, CHOOSE_PATIENT)
        else:
            # Compared as text: "²".isdigit() is true but no primary key is "²".
            existing = next((patient for patient in duplicates if str(patient.pk) == choice), None)
            referral = _create_from_intake(request, form, existing, staged)
            if referral is not None:
                referral_form.discard(request)
                return redirect(referral)
    if request.method == "POST":
        staged = referral_form.keep_new_files(request, form, staged)
    if duplicates:
        audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=list(duplicates), summary=DUPLICATES)
    context = {"form": form, "duplicates": duplicates, "staged_uploads": staged}
    return render(request, "referrals/intake_new.html", context)


def _possible_duplicates(form: forms.IntakeReferralForm):
    data = form.cleaned_data
    return selectors.patient_possible_duplicates(
        first_name=data["first_name"], last_name=data["last_name"], date_of_birth=data["date_of_birth"],
        email=data["email"], phone=str(data["phone"] or ""),
    )  # fmt: skip


def _create_from_intake(request, form, existing: Patient | None, staged) -> Referral | None:
    try:
        referral, created = services.referral_create(
            actor=request.user, physician=form.cleaned_data["referring_physician"], source=form.cleaned_data["source"],
            received_at=form.cleaned_data["received_at"], fields=form.referral_fields(), patient=existing,
            patient_fields=None if existing else form.patient_fields(),
            diagnosis_codes=form.cleaned_data["diagnosis_codes"], files=referral_form.all_files(form, staged),
            submission_token=form.cleaned_data["submission_token"],
        )  # fmt: skip
    except ValidationError as exc:
        form.add_error(None, exc)
        return None
    if created:
        messages.success(request, ENTERED % {"reference": referral.reference})
        recent = selectors.referral_recent_same_procedure(
            patient=referral.patient, procedure_id=referral.requested_procedure_id, exclude_pk=referral.pk
        )
        for other in recent:
            messages.warning(request, _recent_warning(other))
    return referral


def _recent_warning(other: Referral) -> str:
    return (
        f"This patient already has referral {other.reference} for {other.requested_procedure} "
        f"from {localtime.clinic_date(other.received_at):{localtime.DATE_FORMAT}} "
        "(within 30 days)."
    )


# --- Actions on one referral --------------------------------------------------------


@dataclass(frozen=True)
class Action:
    form: type[django_forms.Form] | None
    run: Callable  # (referral, actor, cleaned_data) -> None
    target: str | None  # the status it moves to, if any (shown only when the lifecycle allows)
    roles: tuple[Role, ...] = TRIAGE_ROLES


def _link_patient(referral, actor, data):
    patient = selectors.patient_possible_duplicates(
        first_name=referral.patient.first_name, last_name=referral.patient.last_name,
        date_of_birth=referral.patient.date_of_birth, email=referral.patient.email,
        phone=str(referral.patient.phone or ""), exclude_pk=referral.patient_id,
    ).filter(pk=data["patient"]).first()  # fmt: skip
    if patient is None:
        raise ValidationError("Choose one of the possible duplicates shown.")
    services.referral_link_patient(referral=referral, patient=patient, actor=actor)


class LinkPatientForm(django_forms.Form):
    patient = django_forms.IntegerField(widget=django_forms.HiddenInput, min_value=1, max_value=query_params.MAX_ID)


ACTIONS: dict[str, Action] = {
    "start_review": Action(None, lambda r, a, d: services.referral_start_review(referral=r, actor=a), S.UNDER_REVIEW),
    "request_information": Action(
        forms.RequestInformationForm,
        lambda r, a, d: services.referral_request_information(referral=r, actor=a, request_text=d["request_text"]),
        S.NEEDS_INFORMATION,
    ),
    "accept": Action(
        forms.AcceptForm,
        lambda r, a, d: services.referral_accept(
            referral=r,
            actor=a,
            first_visit=d["first_visit"],
            preferred_provider=d["preferred_provider"],
            note=d["note"],
        ),
        S.ACCEPTED,
    ),
    "decline": Action(
        forms.DeclineForm,
        lambda r, a, d: services.referral_decline(
            referral=r, actor=a, reason=d["decline_reason"], detail=d["decline_detail"]
        ),
        S.DECLINED,
    ),
    "close": Action(None, lambda r, a, d: services.referral_close(referral=r, actor=a), S.CLOSED),
    "note": Action(
        forms.NoteForm,
        lambda r, a, d: services.referral_add_note(
            referral=r, actor=a, text=d["text"], visible_to_referrer=d["visible_to_referrer"]
        ),
        None,
        STAFF_ROLES,
    ),
    "link_patient": Action(LinkPatientForm, _link_patient, None),
}


def action_forms(referral: Referral, user=None, bound: dict | None = None) -> dict:
    """The action forms the staff panel shows: only those the lifecycle and role allow."""
    allowed = lifecycle.allowed_targets(referral.status)
    shown = {}
    for name, action in ACTIONS.items():
        if action.target is not None and action.target not in allowed:
            continue
        if user is not None and not has_role(user, *action.roles):
            continue
        if action.form is not None and name != "link_patient":
            shown[name] = (bound or {}).get(name) or action.form(prefix=name)
        else:
            shown[name] = None
    return {"actions": shown}


@phi_write
@role_required(*STAFF_ROLES)
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    referral = selectors.get_referral_for_user(request.user, pk)
    spec = ACTIONS.get(action)
    if spec is None or not has_role(request.user, *spec.roles):
        raise Http404
    form = spec.form(request.POST, prefix=None if action == "link_patient" else action) if spec.form else None
    if form is not None and not form.is_valid():
        from referrals.views.shared import render_detail

        return render_detail(request, referral, bound={action: form}, status=400)
    try:
        spec.run(referral, request.user, form.cleaned_data if form else {})
    except (lifecycle.IllegalTransition, ValidationError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        return redirect(referral)
    messages.success(request, DONE[action])
    return redirect(referral)
