"""Courses of care: the course page (steps done with outcomes, orders, the suggested next
step with the rule behind it, and the provider's decision), enrolling a patient from the
chart, and the providers' worklist "Next steps to decide". Providers decide and enrol;
other staff read."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic.audit import audit_record_many, phi_list, phi_page, phi_write
from clinic.models import AuditEvent
from clinic.roles import Role, has_role, role_required
from referrals.selectors import STAFF_ROLES, get_patient_for_user
from scheduling import selectors
from scheduling.care import pathways
from scheduling.forms.courses import CourseCloseForm, CourseDecisionForm, CourseEnrolForm
from scheduling.services import courses

COURSES_PER_PAGE = 25
ENROLLED = "Enrolled in %(pathway)s."
DECIDED = "Decision recorded: %(what)s."
CLOSED = "Course closed."


def _render_course(request, state, *, form=None, close_form=None, status: int = 200) -> HttpResponse:
    can_decide = has_role(request.user, Role.PROVIDER)
    context = {
        "state": state,
        "course": state.course,
        "suggestion": state.suggestion,
        "can_decide": can_decide and state.course.status == "active",
        "form": form or CourseDecisionForm(course=state.course),
        "close_form": close_form or CourseCloseForm(),
    }
    return render(request, "scheduling/courses/course.html", context, status=status)


@phi_page
@role_required(*STAFF_ROLES)
def course(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_course(request, selectors.get_course_state(pk, user=request.user))


@phi_write
@role_required(Role.PROVIDER)
@require_POST
def course_decide(request: HttpRequest, pk: int) -> HttpResponse:
    state = selectors.get_course_state(pk, user=request.user)
    form = CourseDecisionForm(request.POST, course=state.course)
    if not form.is_valid():
        return _render_course(request, state, form=form, status=400)
    try:
        decision = courses.course_decide(
            actor=request.user, course=state.course, accept=form.accepts, chosen_step=form.chosen(),
            reason=form.cleaned_data["reason"], note=form.cleaned_data["note"], urgency=form.cleaned_data["urgency"],
        )  # fmt: skip
    except ValidationError as exc:
        _add_errors(form, exc)
        return _render_course(request, state, form=form, status=400)
    step = pathways.taken_step(decision)
    messages.success(request, DECIDED % {"what": step.label if step else "stop this path"})
    return redirect("scheduling:course", pk=pk)


def _add_errors(form, exc: ValidationError) -> None:
    """A service's refusal beside the field it concerns (or above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@phi_write
@role_required(Role.PROVIDER)
@require_POST
def course_close(request: HttpRequest, pk: int) -> HttpResponse:
    state = selectors.get_course_state(pk, user=request.user)
    close_form = CourseCloseForm(request.POST)
    if close_form.is_valid():
        try:
            courses.course_close(actor=request.user, course=state.course, reason=close_form.cleaned_data["reason"])
        except ValidationError as exc:
            _add_errors(close_form, exc)
        else:
            messages.success(request, CLOSED)
            return redirect("scheduling:course", pk=pk)
    return _render_course(request, state, close_form=close_form, status=400)


@phi_page
@role_required(Role.PROVIDER)
def course_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk)
    suggested = pathways.suggest_pathways(patient)
    data = request.POST if request.method == "POST" else None
    form = CourseEnrolForm(data, patient=patient, suggested=suggested)
    if data is not None and form.is_valid():
        try:
            new = courses.course_enrol(
                actor=request.user, patient=patient, pathway=form.cleaned_data["pathway"], site=form.site(),
                referral=form.cleaned_data["referral"],
            )  # fmt: skip
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, ENROLLED % {"pathway": new.pathway.name})
            return redirect("scheduling:course", pk=new.pk)
    context = {"patient": patient, "form": form, "suggested": suggested}
    return render(request, "scheduling/courses/enrol.html", context, status=400 if data is not None else 200)


@phi_list
@role_required(Role.PROVIDER)
def courses_to_decide(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.courses_to_decide(), COURSES_PER_PAGE).get_page(request.GET.get("page"))
    audit_record_many(
        request=request, action=AuditEvent.Action.VIEW, objs=[s.course for s in page], summary="next steps to decide"
    )
    return render(request, "scheduling/courses/to_decide.html", {"page": page})
