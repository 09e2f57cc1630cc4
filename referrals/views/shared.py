"""Pages both referring physicians and clinic staff open; the access helpers decide who
sees what, and outsiders get 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clinic.audit import phi_page
from referrals import selectors
from referrals.views.staff import action_forms


@phi_page
@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = selectors.get_referral_for_user(request.user, pk)
    return render_detail(request, referral)


def render_detail(request: HttpRequest, referral, *, bound: dict | None = None, status: int = 200) -> HttpResponse:
    """The referral page; ``bound`` holds a staff action form that failed validation, so
    its errors and what was typed show in place."""
    is_staff = selectors.is_clinic_staff(request.user)
    context = {
        "referral": referral,
        "is_staff": is_staff,
        "events": selectors.referral_timeline(referral, for_referrer=not is_staff),
    }
    if is_staff:
        context.update(
            duplicates=selectors.patient_possible_duplicates(
                first_name=referral.patient.first_name,
                last_name=referral.patient.last_name,
                date_of_birth=referral.patient.date_of_birth,
                email=referral.patient.email,
                phone=str(referral.patient.phone or ""),
                exclude_pk=referral.patient_id,
            ),
            recent_same_procedure=selectors.referral_recent_same_procedure(
                patient=referral.patient, procedure_id=referral.requested_procedure_id, exclude_pk=referral.pk
            ).select_related("requested_procedure"),
            **action_forms(referral, request.user, bound),
        )
    return render(request, "referrals/detail.html", context, status=status)


@phi_page
@login_required
def attachment(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    """Stream a record as a download, to those who may see its referral only."""
    record = selectors.get_attachment_for_user(request.user, pk, file_pk)
    response = FileResponse(
        record.file.open("rb"), as_attachment=True, filename=record.original_name, content_type=record.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@phi_page
@login_required
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if selectors.is_clinic_staff(request.user):
        # Staff have the whole chart (scheduling's page, reached by URL name: referrals
        # does not import scheduling); it checks access and writes the audit row.
        return redirect("scheduling:patient", pk=pk)
    patient = selectors.get_patient_for_user(request.user, pk)
    referrals = (
        selectors.referrals_visible_to(request.user)
        .filter(patient=patient)
        .select_related("referring_physician__practice", "requested_procedure")
    )
    return render(request, "referrals/patient.html", {"patient": patient, "referrals": referrals})
