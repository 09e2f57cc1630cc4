"""Reads on referrals, and the access helpers every referral page goes through."""

from __future__ import annotations

import datetime as dt

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clinic.query_params import parse_id
from clinic.roles import Role, has_role
from referrals.models import Attachment, Patient, Referral, ReferralEvent, ReferringPhysician

STAFF_ROLES = (Role.INTAKE, Role.SCHEDULER, Role.PROVIDER, Role.CLINIC_ADMIN)


def is_clinic_staff(user) -> bool:
    return has_role(user, *STAFF_ROLES)


def practice_id_of(user) -> int | None:
    """The practice a referring physician's account belongs to, if any."""
    if not user.is_authenticated or not has_role(user, Role.REFERRER):
        return None
    physician = ReferringPhysician.objects.filter(user=user, is_active=True).only("practice_id").first()
    return physician.practice_id if physician else None


def referrals_visible_to(user) -> QuerySet[Referral]:
    """Every referral this user may see: all for clinic staff, their practice's for a
    referring physician, none for anyone else."""
    if is_clinic_staff(user):
        return Referral.objects.all()
    practice_id = practice_id_of(user)
    if practice_id is None:
        return Referral.objects.none()
    return Referral.objects.visible_to_practice(practice_id)


def get_referral_for_user(user, pk: int) -> Referral:
    """The referral page's access helper: 404 unless the user may see it; preloads the page."""
    referral = (
        referrals_visible_to(user)
        .select_related(
            "patient",
            "referring_physician__practice",
            "suspected_condition",
            "requested_procedure",
            "first_visit",
            "preferred_provider",
            "assigned_to",
        )
        .prefetch_related("diagnoses", "attachments")
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        raise Http404
    return referral


def get_attachment_for_user(user, referral_pk: int, pk: int) -> Attachment:
    attachment = Attachment.objects.filter(
        referral__in=referrals_visible_to(user), referral_id=referral_pk, pk=pk
    ).first()
    if attachment is None:
        raise Http404
    return attachment


def get_patient_for_user(user, pk: int) -> Patient:
    """Staff see every patient; a referrer only patients their practice referred."""
    if is_clinic_staff(user):
        patients = Patient.objects.all()
    else:
        practice_id = practice_id_of(user)
        if practice_id is None:
            raise Http404
        patients = Patient.objects.filter(referrals__referring_physician__practice_id=practice_id).distinct()
    patient = patients.filter(pk=pk).first()
    if patient is None:
        raise Http404
    return patient


def referral_timeline(referral: Referral, *, for_referrer: bool) -> QuerySet[ReferralEvent]:
    events = referral.events.select_related("actor")
    return events.filter(visible_to_referrer=True) if for_referrer else events


def referral_list_for_portal(user, *, search: str = "", status: str = "") -> QuerySet[Referral]:
    referrals = referrals_visible_to(user).select_related("patient", "referring_physician")
    if status:
        referrals = referrals.filter(status=status)
    if search:
        referrals = _search(referrals, search)
    return referrals.order_by("-received_at")


def triage_queue(
    *,
    statuses: list[str] | None = None,
    urgency: str = "",
    practice_id: int | None = None,
    overdue_only: bool = False,
    search: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[Referral]:
    """Referrals waiting for a decision: urgent first, then the oldest."""
    now = now or timezone.now()
    referrals = Referral.objects.filter(
        status__in=statuses
        or [Referral.Status.SUBMITTED, Referral.Status.UNDER_REVIEW, Referral.Status.NEEDS_INFORMATION]
    ).select_related("patient", "referring_physician__practice", "assigned_to", "requested_procedure")
    referrals = referrals.annotate(is_overdue=ExpressionWrapper(Q(review_due_at__lte=now), output_field=BooleanField()))
    if urgency:
        referrals = referrals.filter(urgency=urgency)
    if practice_id:
        referrals = referrals.filter(referring_physician__practice_id=practice_id)
    if overdue_only:
        referrals = referrals.filter(review_due_at__lte=now)
    if search:
        referrals = _search(referrals, search)
    # "urgent" sorts after "routine" alphabetically, hence descending.
    return referrals.order_by("-urgency", "received_at", "pk")


def _search(referrals: QuerySet[Referral], text: str) -> QuerySet[Referral]:
    text = text.strip()
    query = Q(patient__last_name__icontains=text) | Q(patient__first_name__icontains=text)
    query |= Q(patient__record_number__iexact=text)
    reference = parse_id(text[1:]) if text.upper().startswith("R") else None
    if reference is not None:
        query |= Q(pk=reference)
    return referrals.filter(query)


def patient_possible_duplicates(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date | None,
    email: str = "",
    phone: str = "",
    exclude_pk: int | None = None,
) -> QuerySet[Patient]:
    """Patients who may be this one: same name and birth date, or same e-mail or phone."""
    query = Q(pk__in=[])
    if first_name and last_name and date_of_birth:
        query |= Q(
            first_name__iexact=first_name.strip(), last_name__iexact=last_name.strip(), date_of_birth=date_of_birth
        )
    if email:
        query |= Q(email__iexact=email.strip())
    if phone:
        query |= Q(phone=phone)
    patients = Patient.objects.filter(query)
    if exclude_pk:
        patients = patients.exclude(pk=exclude_pk)
    return patients.order_by("last_name", "first_name")


def referral_recent_same_procedure(
    *, patient: Patient, procedure_id: int | None, exclude_pk: int | None = None, now: dt.datetime | None = None
) -> QuerySet[Referral]:
    """The patient's other referrals for the same procedure in the last 30 days."""
    if not procedure_id:
        return Referral.objects.none()
    since = (now or timezone.now()) - dt.timedelta(days=30)
    referrals = Referral.objects.filter(patient=patient, requested_procedure_id=procedure_id, received_at__gte=since)
    if exclude_pk:
        referrals = referrals.exclude(pk=exclude_pk)
    return referrals
