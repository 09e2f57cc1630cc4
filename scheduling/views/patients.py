"""Staff pages about one patient: search, the chart, and correcting demographics."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clinic import selectors as clinic_selectors
from clinic.audit import audit_record_many, phi_list, phi_page
from clinic.models import AuditEvent
from clinic.roles import Role, has_role, role_required
from referrals.selectors import STAFF_ROLES, get_patient_for_user, patients_search
from referrals.services import PatientChangedMeanwhile, patient_update
from scheduling import selectors
from scheduling.forms.patients import PatientDemographicsForm, PatientSearchForm
from scheduling.views.shared import SCHEDULING_ROLES

# Front-desk work: intake registers patients, schedulers talk to them. Providers and clinic
# admins may read the chart but not change who the patient is.
DEMOGRAPHICS_EDITORS = (Role.INTAKE, Role.SCHEDULER)
PATIENTS_PER_PAGE = 25
# "Who saw this patient" on the chart: the latest accesses; the audit page has the rest.
ACCESSES_SHOWN = 10
SAVED = "Saved: %(fields)s."
NOTHING_CHANGED = "Nothing was changed."


@phi_list
@role_required(*STAFF_ROLES)
def patients(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(patients_search(query), PATIENTS_PER_PAGE).get_page(request.GET.get("page")) if query else None
    if page is not None:
        audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=list(page), summary="patient search")
    return render(request, "scheduling/patients.html", {"form": form, "page": page, "query": query})


@phi_page
@role_required(*STAFF_ROLES)
def patient_chart(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk)
    chart = selectors.patient_chart(patient)
    context = {
        "patient": patient,
        "chart": chart,
        "appointment_groups": [("Upcoming appointments", chart.upcoming), ("Past appointments", chart.past)],
        "courses": selectors.patient_courses(patient),
        "can_enrol": has_role(request.user, Role.PROVIDER),
        "can_edit": has_role(request.user, *DEMOGRAPHICS_EDITORS),
        # Intake cannot open the slot finder.
        "can_book": has_role(request.user, *SCHEDULING_ROLES),
        "can_order": has_role(request.user, Role.PROVIDER),
        # The access log is the clinic admins' (they also hold the audit page it links to).
        "accesses": clinic_selectors.audit_events_of_patient(patient.pk, limit=ACCESSES_SHOWN)
        if has_role(request.user, Role.CLINIC_ADMIN)
        else None,
    }
    return render(request, "scheduling/patient_chart.html", context)


@phi_page
@role_required(*DEMOGRAPHICS_EDITORS)
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a patient's demographics; a failed save shows each message beside its field
    with everything typed kept, and nothing is written."""
    patient = get_patient_for_user(request.user, pk)
    if request.method != "POST":
        return _render_edit(request, patient, PatientDemographicsForm.for_patient(patient))
    form = PatientDemographicsForm(request.POST)
    if not form.is_valid():
        return _render_edit(request, patient, form, status=400)
    try:
        change = patient_update(
            patient=patient, actor=request.user, changes=form.changes(),
            expected_version=form.cleaned_data["version"],
        )  # fmt: skip
    except PatientChangedMeanwhile as exc:
        return _render_edit_after_conflict(request, patient, form, exc)
    if change is None:
        messages.info(request, NOTHING_CHANGED)
    else:
        messages.success(request, SAVED % {"fields": ", ".join(change.field_labels)})
    return redirect("scheduling:patient", pk=patient.pk)


def _render_edit_after_conflict(request, patient, form, exc: PatientChangedMeanwhile) -> HttpResponse:
    """Keep what this editor typed, say who saved in between and what they changed, and
    take the new version so that saving again is a decision made knowingly."""
    patient.refresh_from_db()
    data = request.POST.copy()
    data["version"] = str(patient.version)
    form = PatientDemographicsForm(data)
    form.is_valid()
    form.add_error(None, str(exc))
    return _render_edit(request, patient, form, status=409, meanwhile=exc.latest)


def _render_edit(request, patient, form, *, status: int = 200, meanwhile=None) -> HttpResponse:
    context = {"patient": patient, "form": form, "meanwhile": meanwhile}
    return render(request, "scheduling/patient_edit.html", context, status=status)
