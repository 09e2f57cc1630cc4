"""Courses of care: a provider enrols a patient in a pathway for a site, decides each next
step after the pathway rules' suggestion (``scheduling.care.pathways``), and closes the
course. Accepting a procedure step orders it (``orders.order_create``); an action step is
recorded done with its note; a referral out is recorded and owes the referrer a letter;
stopping closes the course.

A decision is made once per session: the course row is locked while the suggestion is read
again, and a unique constraint per session (``CourseDecision``) backs it up.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic import localtime
from clinic.audit import audit_write
from clinic.models import AuditEvent, User
from clinic.outbox import message_queue
from clinic.roles import Role, has_role
from conditions.models import Pathway, PathwayRule, PathwayStep
from conditions.sites import site_dict
from referrals.models import Patient, Referral
from scheduling.care import pathways
from scheduling.models import Course, CourseDecision, ProcedureOrder, ReferralOut
from scheduling.services import orders

ONLY_PROVIDERS = "Only a provider can enrol a patient or decide a course's next step."
PATHWAY_INACTIVE = "The pathway {pathway} is no longer in use: choose another."
ALREADY_ENROLLED = "{patient} is already on {pathway} for this site: open that course instead."
REFERRAL_OTHER_PATIENT = "That referral is for another patient."
COURSE_CLOSED = "This course is closed."
NOTHING_TO_DECIDE = "There is nothing to decide now: {text}"
DECIDED_MEANWHILE = "This step was decided meanwhile: see the course."
CANNOT_ACCEPT = "The suggestion cannot be accepted as it stands: choose a step and give a reason."
OTHER_NEEDS_REASON = "Say why you chose otherwise (for example, the patient prefers to wait)."
OTHER_NEEDS_STEP = "Choose the step to take instead, or stop the path."
STEP_OTHER_PATHWAY = "That step belongs to another pathway."
CLOSE_NEEDS_REASON = "Say why the course is closed."
STOP = "stop"  # chosen_step value for "stop this path" when choosing otherwise

REFERRAL_OUT_KIND = "referral_out"
REFERRAL_OUT_TEMPLATE = "referral_out"


def _require_provider(actor: User) -> None:
    if not has_role(actor, Role.PROVIDER):
        raise ValidationError(ONLY_PROVIDERS, code="not_provider")


def _first_procedure_step(pathway: Pathway) -> PathwayStep | None:
    return pathway.steps.filter(kind=PathwayStep.Kind.PROCEDURE).select_related("procedure_type").first()


@transaction.atomic
def course_enrol(
    *,
    actor: User,
    patient: Patient,
    pathway: Pathway,
    site: dict[str, str],
    referral: Referral | None = None,
    now: dt.datetime | None = None,
) -> Course:
    """Put the patient on ``pathway`` for ``site``; raises ValidationError by field."""
    now = now or timezone.now()
    _require_provider(actor)
    errors: dict[str, str] = {}
    if not pathway.is_active:
        errors["pathway"] = PATHWAY_INACTIVE.format(pathway=pathway)
    stored = site_dict(site)
    first = _first_procedure_step(pathway)
    if first is not None:
        site_errors, stored = orders.site_errors(procedure_type=first.procedure_type, site=site)
        errors.update(site_errors)
    if referral is not None and referral.patient_id != patient.pk:
        errors["referral"] = REFERRAL_OTHER_PATIENT
    if errors:
        raise ValidationError(errors)
    if Course.objects.filter(patient=patient, pathway=pathway, status=Course.Status.ACTIVE, **stored).exists():
        raise ValidationError({"pathway": ALREADY_ENROLLED.format(patient=patient.full_name, pathway=pathway)})
    try:
        with transaction.atomic():
            course = Course.objects.create(
                patient=patient, pathway=pathway, referral=referral, enrolled_by=actor, enrolled_at=now, **stored
            )
    except IntegrityError:  # enrolled at the same moment elsewhere
        raise ValidationError(
            {"pathway": ALREADY_ENROLLED.format(patient=patient.full_name, pathway=pathway)}
        ) from None
    audit_write(actor=actor, action=AuditEvent.Action.CREATE, obj=course, summary=f"enrolled in {pathway.name}")
    return course


def _load_state(course_pk: int) -> pathways.CourseState:
    course = pathways.course_prefetch(Course.objects.filter(pk=course_pk)).get()
    return pathways.course_state(course)


@transaction.atomic
def course_decide(
    *,
    actor: User,
    course: Course,
    accept: bool,
    chosen_step: PathwayStep | str | None = None,
    reason: str = "",
    note: str = "",
    urgency: str = ProcedureOrder.Urgency.ROUTINE,
    now: dt.datetime | None = None,
) -> CourseDecision:
    """Record the provider's decision on the course's current suggestion and carry it out.

    ``chosen_step`` is a step of the pathway, or ``STOP``, when choosing otherwise.
    """
    now = now or timezone.now()
    _require_provider(actor)
    Course.objects.select_for_update().filter(pk=course.pk).first()  # one decision at a time
    state = _load_state(course.pk)
    course = state.course
    suggestion = state.suggestion
    if course.status != Course.Status.ACTIVE:
        raise ValidationError(COURSE_CLOSED, code="course_closed")
    if suggestion.state == pathways.State.DECIDED:
        raise ValidationError(DECIDED_MEANWHILE, code="decided")
    if suggestion.state not in (*pathways.TO_DECIDE, pathways.State.START):
        raise ValidationError(NOTHING_TO_DECIDE.format(text=suggestion.text), code="nothing_to_decide")
    reason, note = reason.strip()[:300], note.strip()[:300]
    if accept:
        if not suggestion.acceptable:
            raise ValidationError(CANNOT_ACCEPT, code="cannot_accept")
        step, stop = suggestion.step, suggestion.then == PathwayRule.Then.STOP
    else:
        errors = {}
        if not reason:
            errors["reason"] = OTHER_NEEDS_REASON
        stop = chosen_step == STOP
        step = None if stop else chosen_step
        if not stop and not isinstance(step, PathwayStep):
            errors["chosen_step"] = OTHER_NEEDS_STEP
        elif step is not None and step.pathway_id != course.pathway_id:
            errors["chosen_step"] = STEP_OTHER_PATHWAY
        if errors:
            raise ValidationError(errors)
    session = suggestion.after
    decision = CourseDecision(
        course=course,
        after_appointment=session.appointment if session else None,
        after_decision=session.decision if session else None,
        after_step=session.step if session else None,
        rule=suggestion.rule,
        suggested_step=suggestion.step,
        suggestion=suggestion.text[:300],
        choice=CourseDecision.Choice.ACCEPTED if accept else CourseDecision.Choice.OTHER,
        chosen_step=None if accept else step,
        reason=reason,
        note=note,
        decided_by=actor,
        decided_at=now,
    )
    try:
        with transaction.atomic():
            decision.save()
    except IntegrityError:
        raise ValidationError(DECIDED_MEANWHILE, code="decided") from None
    if stop:
        _close(course, actor=actor, reason=suggestion.text if accept else f"Stopped: {reason}", now=now)
    elif step.is_procedure:
        decision.order = orders.order_create(
            actor=actor,
            patient=course.patient,
            procedure_type=step.procedure_type,
            site=course.site_values(),
            urgency=urgency,
            note=note,
            course=course,
            step=step,
            from_appointment=session.appointment if session else None,
            not_before=suggestion.not_before if accept else None,
            now=now,
        )
        decision.save(update_fields=["order"])
    elif step.action == PathwayStep.Action.REFER_OUT:
        _refer_out(course, step=step, actor=actor, reason=note or suggestion.text, now=now)
    summary = f"{'accepted' if accept else 'chose otherwise'}: {step.label if step else 'stop'}"
    audit_write(actor=actor, action=AuditEvent.Action.CREATE, obj=course, summary=f"decision {decision.pk}: {summary}")
    return decision


def _refer_out(course: Course, *, step: PathwayStep, actor: User, reason: str, now: dt.datetime) -> ReferralOut:
    """Record the referral out and owe the patient's latest referrer a letter."""
    referral = (
        course.referral
        or course.patient.referrals.select_related("referring_physician").order_by("-received_at", "-pk").first()
    )
    referral_out = ReferralOut.objects.create(
        patient=course.patient,
        course=course,
        referral=referral,
        specialty=step.specialty or step.label,
        reason=reason[:2000],
        created_by=actor,
        created_at=now,
    )
    audit_write(actor=actor, action=AuditEvent.Action.CREATE, obj=referral_out, summary=f"referred to {step.specialty}")
    physician = referral.referring_physician if referral else None
    if physician is not None and physician.email:
        patient = course.patient
        message_queue(
            key=f"referral-out:{referral_out.pk}:letter",
            kind=REFERRAL_OUT_KIND,
            to_email=physician.email,
            template=REFERRAL_OUT_TEMPLATE,
            context={
                "physician": str(physician),
                "patient_name": patient.full_name,
                "birth_date": patient.date_of_birth,
                "reference": referral.reference,
                "specialty": referral_out.specialty,
                "pathway": course.pathway.name,
                "site": course.site_label,
                "reason": referral_out.reason,
                "provider": str(actor),
                "date": localtime.clinic_date(now),
                "portal_url": f"{settings.SITE_URL}{referral.get_absolute_url()}",
            },
            due_at=now,
            topic=f"referral-out:{referral_out.pk}",
        )
    return referral_out


def _close(course: Course, *, actor: User, reason: str, now: dt.datetime) -> None:
    Course.objects.filter(pk=course.pk).update(
        status=Course.Status.CLOSED, closed_at=now, closed_by=actor, closed_reason=reason[:300]
    )
    course.refresh_from_db()


@transaction.atomic
def course_close(*, actor: User, course: Course, reason: str, now: dt.datetime | None = None) -> Course:
    """Close an active course, saying why."""
    now = now or timezone.now()
    _require_provider(actor)
    if not reason.strip():
        raise ValidationError({"reason": CLOSE_NEEDS_REASON}, code="close_reason")
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.status != Course.Status.ACTIVE:
        raise ValidationError(COURSE_CLOSED, code="course_closed")
    _close(course, actor=actor, reason=reason.strip(), now=now)
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=course, summary="closed")
    return course
