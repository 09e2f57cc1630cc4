"""Reads on referrals, and the access helpers every referral page goes through."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import BooleanField, Case, ExpressionWrapper, Q, QuerySet, When
from django.http import Http404
from django.utils import timezone

from clinic.audit import audit_refused, audit_view
from clinic.models import AuditEvent
from clinic.roles import Role, has_role
from referrals.models import (
    Attachment,
    Patient,
    PortalAccessRequest,
    Referral,
    ReferralEvent,
    ReferringPhysician,
    ReferringPractice,
)

_REFERENCE = re.compile(r"[Rr]([0-9]{1,18})")
STAFF_ROLES = (Role.INTAKE, Role.SCHEDULER, Role.PROVIDER, Role.CLINIC_ADMIN)


def is_clinic_staff(user) -> bool:
    return has_role(user, *STAFF_ROLES)


def portal_physician_of(user) -> ReferringPhysician | None:
    """The one check of whether a referrer may use the portal, asked by every referrer page
    and access helper: the referrer role, an active physician record and an active practice
    (deactivating either ends the access at once). Their physician, practice preloaded."""
    if not user.is_authenticated or not has_role(user, Role.REFERRER):
        return None
    physicians = ReferringPhysician.objects.filter(user=user, is_active=True, practice__is_active=True)
    return physicians.select_related("practice").first()


def practice_id_of(user) -> int | None:
    """The practice a referring physician's account belongs to, if they may use the portal."""
    physician = portal_physician_of(user)
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
    """The referral page's access helper: 404 unless the user may see it; preloads the page;
    records the view (or the refusal) in the audit log."""
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
        audit_refused(user=user, object_type=Referral._meta.label, object_id=pk)
        raise Http404
    audit_view(user=user, obj=referral)
    return referral


def get_attachment_for_user(user, referral_pk: int, pk: int) -> Attachment:
    """A referral's file for download: 404 unless the user may see the referral; recorded."""
    attachment = (
        Attachment.objects.filter(referral__in=referrals_visible_to(user), referral_id=referral_pk, pk=pk)
        .select_related("referral")
        .first()
    )
    if attachment is None:
        audit_refused(user=user, object_type=Attachment._meta.label, object_id=pk, summary=f"referral {referral_pk}")
        raise Http404
    audit_view(user=user, obj=attachment, action=AuditEvent.Action.DOWNLOAD, summary=attachment.original_name)
    return attachment


def get_patient_for_user(user, pk: int) -> Patient:
    """Staff see every patient; a referrer only patients their practice referred. Records
    the view (or the refusal)."""
    if is_clinic_staff(user):
        patients = Patient.objects.all()
    else:
        practice_id = practice_id_of(user)
        patients = (
            Patient.objects.none()
            if practice_id is None
            else Patient.objects.filter(referrals__referring_physician__practice_id=practice_id).distinct()
        )
    patient = patients.filter(pk=pk).first()
    if patient is None:
        audit_refused(user=user, object_type=Patient._meta.label, object_id=pk)
        raise Http404
    audit_view(user=user, obj=patient)
    return patient


# --- Patient search ----------------------------------------------------------------------

# Longer text is no name, date, record number or phone: it is cut rather than searched.
PATIENT_SEARCH_MAX_LENGTH = 100
# Only ASCII digits: str.isdigit() also accepts "²", which int() and the database do not.
_DIGITS = re.compile(r"[0-9]")
_PHONE_TEXT = re.compile(r"\+?[0-9().\-\s]+")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)


def patients_search(query: str) -> QuerySet[Patient]:
    """Patients matching what staff typed: a name ("Reyes", "Jordan Reyes", "Reyes, Jordan"),
    a date of birth (YYYY-MM-DD or MM/DD/YYYY), a record number or a phone number in any
    formatting. Empty, NUL-bearing or unreadable text matches nobody; never raises."""
    text = " ".join(query.replace("\x00", "").split())[:PATIENT_SEARCH_MAX_LENGTH]
    if not text or "\x00" in query:
        return Patient.objects.none()
    condition = Q(record_number__iexact=text) | _name_condition(text)
    birth_date = _birth_date(text)
    if birth_date is not None:
        condition = Q(date_of_birth=birth_date)
    phone = _phone_e164(text)
    if phone is not None:
        condition |= Q(phone=phone)
    return Patient.objects.filter(condition).order_by("last_name", "first_name", "date_of_birth", "pk")


def _name_condition(text: str) -> Q:
    """Name prefixes: "last, first", "first last" (or "last first"), or one word in either."""
    if "," in text:
        last, _, first = (part.strip() for part in text.partition(","))
        return Q(last_name__istartswith=last, first_name__istartswith=first)
    words = text.split(" ")
    if len(words) == 1:
        return Q(last_name__istartswith=text) | Q(first_name__istartswith=text)
    head, rest = words[0], " ".join(words[1:])
    first_last = Q(first_name__istartswith=head, last_name__istartswith=rest)
    last_first = Q(last_name__istartswith=head, first_name__istartswith=rest)
    # A double surname ("Garcia Lopez") is a last name with spaces in it.
    return first_last | last_first | Q(last_name__istartswith=text)


def _birth_date(text: str) -> dt.date | None:
    iso, us = _ISO_DATE.fullmatch(text), _US_DATE.fullmatch(text)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if us:
            return dt.date(int(us[3]), int(us[1]), int(us[2]))
    except ValueError:  # 2026-02-30, month 13, year 0
        return None
    return None


def _phone_e164(text: str) -> str | None:
    """The stored form (E.164, US numbers) of a typed phone number, or None if it is not one."""
    if not _PHONE_TEXT.fullmatch(text):
        return None
    digits = "".join(_DIGITS.findall(text))
    if len(digits) == 10:
        return f"+1{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"+{digits}"
    if text.startswith("+") and 8 <= len(digits) <= 15:
        return f"+{digits}"
    return None


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
    # A reference is "R" and ASCII digits that fit a bigint ("R²" is not one: int() refuses it).
    if reference := _REFERENCE.fullmatch(text):
        query |= Q(pk=int(reference[1]))
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


# --- Portal access requests ---------------------------------------------------------------

SIMILAR_PRACTICES_SHOWN = 10


def access_request_list() -> QuerySet[PortalAccessRequest]:
    """Pending requests first (oldest first, the order to work them), then decided ones."""
    return PortalAccessRequest.objects.select_related("decided_by", "physician__practice").order_by(
        Case(When(status=PortalAccessRequest.Status.PENDING, then=0), default=1), "created_at", "id"
    )


def practices_like(access_request: PortalAccessRequest) -> list[ReferringPractice]:
    """Active practices the requester might mean (a word of the name, or the phone), each with
    its physicians, for the admin to compare; never used to decide by itself."""
    words = [word for word in re.findall(r"\w+", access_request.practice_name) if len(word) >= 4][:5]
    match = Q(phone=access_request.practice_phone) if access_request.practice_phone else Q(pk__in=[])
    for word in words:
        match |= Q(name__icontains=word)
    practices = ReferringPractice.objects.filter(match, is_active=True).order_by("name")
    return list(practices.prefetch_related("physicians")[:SIMILAR_PRACTICES_SHOWN])
