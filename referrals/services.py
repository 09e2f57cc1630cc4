"""Writes on referrals. Every status change goes through ``referral_transition``, which
checks the lifecycle, writes the timeline and owes the referrer an e-mail."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from clinic import localtime
from clinic.audit import audit_write
from clinic.models import AuditEvent, ProcedureType, Provider, User
from clinic.outbox import message_queue
from clinic.selectors import nth_open_day_after
from referrals import lifecycle
from referrals.codes import describe_icd10
from referrals.models import (
    Attachment,
    Patient,
    PatientChange,
    Referral,
    ReferralDiagnosis,
    ReferralEvent,
    ReferringPhysician,
    ReviewTarget,
)
from referrals.uploads import MAX_FILES_PER_REFERRAL, sanitised_name

S = Referral.Status

TOO_MANY_FILES = "A referral holds at most %(max)s files; this one already has %(count)s."
DECLINE_NEEDS_REASON = "Choose a reason for declining."
DECLINE_OTHER_NEEDS_DETAIL = "Say why the referral is declined."
REQUEST_NEEDS_TEXT = "Say what information is needed."
ANSWER_NEEDS_CONTENT = "Write an answer or attach a file."
FIRST_VISIT_REQUIRED = "Choose what to book first."
CHANGED_MEANWHILE = (
    "%(who)s changed this patient's details while you were editing (at %(when)s). "
    "Their version is shown below: check it and make your change again."
)
PATIENT_CHANGES_SUMMARY = "Changed: %(fields)s"

# What staff may change on a patient's record (patient_update refuses anything else).
PATIENT_EDITABLE_FIELDS = (
    "first_name", "last_name", "date_of_birth", "sex", "phone", "email", "preferred_contact", "email_consent",
    "street", "city", "state", "postal_code", "insurance_payer", "insurance_member_id",
)  # fmt: skip


@dataclass(frozen=True)
class NewFile:
    upload: UploadedFile
    kind: str
    content_type: str


# --- Review deadline ------------------------------------------------------------------


def review_due_at(*, received_at: dt.datetime, urgency: str) -> dt.datetime:
    """End of the n-th clinic open day after the day the referral arrived (clinic time)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    received_day = received_at.astimezone(zone).date()
    target = ReviewTarget.objects.filter(urgency=urgency).first()
    open_days = target.open_days if target else ReviewTarget.DEFAULTS[urgency]
    due_day = nth_open_day_after(day=received_day, n=open_days)
    # Midnight at the end of the due day, built in local time so DST days are right.
    return localtime.day_start(due_day + dt.timedelta(days=1), zone)


# --- Patients ----------------------------------------------------------------------------


def patient_create(**fields) -> Patient:
    """Create a patient and give them the next clinic record number."""
    patient = Patient.objects.create(**fields)
    patient.record_number = f"P{patient.pk:07d}"
    patient.save(update_fields=["record_number"])
    return patient


class PatientChangedMeanwhile(Exception):
    """Someone saved the patient after the editor opened the form; nothing was written."""

    def __init__(self, *, latest: PatientChange | None):
        self.latest = latest
        who = latest.actor_label if latest else "Someone"
        when = timezone.localtime(latest.at).strftime("%-I:%M %p") if latest else "an unknown time"
        super().__init__(CHANGED_MEANWHILE % {"who": who, "when": when})


def _stored(value) -> object:
    """A field value as JSON keeps it: dates as ISO text, phone numbers in E.164."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, PhoneNumber):
        return value.as_e164
    return str(value)


@transaction.atomic
def patient_update(
    *,
    patient: Patient,
    actor: User,
    changes: Mapping[str, object],
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> PatientChange | None:
    """Change a patient's demographics and record each change with its before and after,
    who made it (a ``PatientChange`` and an audit row). ``expected_version`` is the version
    the editor's form was opened at: if someone saved since, raise PatientChangedMeanwhile
    and write nothing. Returns None when nothing actually changed."""
    unknown = set(changes) - set(PATIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    # The row lock orders two saves of the same patient: the second sees the first's version.
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if expected_version is not None and locked.version != expected_version:
        raise PatientChangedMeanwhile(latest=locked.changes.order_by("-at", "-id").first())
    diff = {
        name: {"before": _stored(getattr(locked, name)), "after": _stored(value)}
        for name, value in changes.items()
        if _stored(getattr(locked, name)) != _stored(value)
    }
    if not diff:
        return None
    for name in diff:
        setattr(locked, name, changes[name])
    locked.version += 1
    locked.save(update_fields=[*diff, "version"])
    now = now or timezone.now()
    change = PatientChange.objects.create(patient=locked, actor=actor, actor_label=actor.email, at=now, changes=diff)
    audit_write(
        actor=actor, action=AuditEvent.Action.UPDATE, obj=locked,
        summary=PATIENT_CHANGES_SUMMARY % {"fields": ", ".join(diff)},
    )  # fmt: skip
    # The caller's object shows what was saved.
    for name in [*diff, "version"]:
        setattr(patient, name, getattr(locked, name))
    return change


# --- Creating a referral -----------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    actor: User,
    physician: ReferringPhysician,
    source: str,
    fields: Mapping,
    diagnosis_codes: Iterable[str],
    files: Iterable[NewFile] = (),
    patient: Patient | None = None,
    patient_fields: Mapping | None = None,
    submission_token: uuid.UUID | None = None,
    received_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[Referral, bool]:
    """Record a new referral (with a new or existing patient); returns (referral, created).

    A repeated ``submission_token`` (the same form posted twice) returns the first referral
    and creates nothing.
    """
    now = now or timezone.now()
    if submission_token:
        existing = Referral.objects.filter(submission_token=submission_token).first()
        if existing:
            return existing, False
    files = list(files)
    if len(files) > MAX_FILES_PER_REFERRAL:
        raise ValidationError(TOO_MANY_FILES, params={"max": MAX_FILES_PER_REFERRAL, "count": 0})
    if patient is None:
        patient = patient_create(**(patient_fields or {}))
    received_at = received_at or now
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                patient=patient,
                referring_physician=physician,
                source=source,
                received_at=received_at,
                review_due_at=review_due_at(received_at=received_at, urgency=fields.get("urgency", "routine")),
                submission_token=submission_token,
                created_by=actor,
                **fields,
            )
    except IntegrityError:
        # The same form posted twice at once: the other request won the unique token.
        if submission_token and (existing := Referral.objects.filter(submission_token=submission_token).first()):
            transaction.set_rollback(True)
            return existing, False
        raise
    _set_diagnoses(referral, diagnosis_codes)
    for new_file in files:
        _store_file(referral, new_file, actor)
    event = ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.STATUS,
        to_status=S.SUBMITTED,
        actor=actor,
        at=now,
        text=f"Received by {referral.get_source_display().lower()}.",
    )
    _owe_referrer_email(referral, event)
    audit_write(actor=actor, action=AuditEvent.Action.CREATE, obj=referral, summary=f"entered by {source}")
    return referral, True


def _set_diagnoses(referral: Referral, codes: Iterable[str]) -> None:
    ReferralDiagnosis.objects.bulk_create(
        ReferralDiagnosis(referral=referral, code=code, description=describe_icd10(code), position=position)
        for position, code in enumerate(dict.fromkeys(codes))
    )


def _store_file(referral: Referral, new_file: NewFile, actor: User) -> Attachment:
    attachment = Attachment(
        referral=referral,
        original_name=sanitised_name(new_file.upload.name, new_file.content_type),
        content_type=new_file.content_type,
        size=new_file.upload.size,
        kind=new_file.kind,
        uploaded_by=actor,
    )
    attachment.file.save(attachment.original_name, new_file.upload, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def referral_attach_files(*, referral: Referral, files: Iterable[NewFile], actor: User) -> list[Attachment]:
    """Add records to a referral, never past the per-referral limit."""
    files = list(files)
    # Lock the referral row so two uploads at once cannot both pass the count.
    Referral.objects.select_for_update().filter(pk=referral.pk).first()
    count = referral.attachments.count()
    if count + len(files) > MAX_FILES_PER_REFERRAL:
        raise ValidationError(TOO_MANY_FILES, params={"max": MAX_FILES_PER_REFERRAL, "count": count})
    return [_store_file(referral, new_file, actor) for new_file in files]


# --- Status changes ---------------------------------------------------------------------


@transaction.atomic
def referral_transition(
    *,
    referral: Referral,
    to_status: str,
    actor: User | None,
    text: str = "",
    changes: Mapping | None = None,
    now: dt.datetime | None = None,
) -> ReferralEvent:
    """Move a referral to ``to_status`` if the lifecycle allows it; record and announce it."""
    now = now or timezone.now()
    # Re-read under lock: two staff acting at once must not both move it.
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if not lifecycle.can_transition(locked.status, to_status):
        raise lifecycle.IllegalTransition(locked.status, to_status)
    from_status = locked.status
    update_fields = ["status", "updated_at"]
    for name, value in (changes or {}).items():
        setattr(referral, name, value)
        update_fields.append(name)
    referral.status = to_status
    referral.save(update_fields=update_fields)
    event = ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.REQUEST if to_status == S.NEEDS_INFORMATION else ReferralEvent.Kind.STATUS,
        from_status=from_status,
        to_status=to_status,
        text=text,
        actor=actor,
        at=now,
    )
    _owe_referrer_email(referral, event)
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=referral, summary=f"{from_status} -> {to_status}")
    return event


def referral_start_review(*, referral: Referral, actor: User, now: dt.datetime | None = None) -> ReferralEvent:
    changes = {} if referral.assigned_to_id else {"assigned_to": actor}
    return referral_transition(referral=referral, to_status=S.UNDER_REVIEW, actor=actor, changes=changes, now=now)


def referral_request_information(
    *, referral: Referral, actor: User, request_text: str, now: dt.datetime | None = None
) -> ReferralEvent:
    if not request_text.strip():
        raise ValidationError({"request_text": REQUEST_NEEDS_TEXT})
    return referral_transition(
        referral=referral, to_status=S.NEEDS_INFORMATION, actor=actor, text=request_text.strip(), now=now
    )


@transaction.atomic
def referral_answer_information(
    *,
    referral: Referral,
    actor: User,
    answer_text: str,
    files: Iterable[NewFile] = (),
    now: dt.datetime | None = None,
) -> ReferralEvent:
    """The referrer's answer: stored on the timeline, files attached, back under review."""
    now = now or timezone.now()
    files = list(files)
    if not answer_text.strip() and not files:
        raise ValidationError({"answer_text": ANSWER_NEEDS_CONTENT})
    if referral.status != S.NEEDS_INFORMATION:
        raise lifecycle.IllegalTransition(referral.status, S.UNDER_REVIEW)
    referral_attach_files(referral=referral, files=files, actor=actor)
    names = ", ".join(new_file.upload.name for new_file in files)
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.RESPONSE,
        text=answer_text.strip() + (f"\n\nFiles: {names}" if names else ""),
        actor=actor,
        at=now,
    )
    return referral_transition(referral=referral, to_status=S.UNDER_REVIEW, actor=actor, now=now)


def referral_accept(
    *,
    referral: Referral,
    actor: User,
    first_visit: ProcedureType | None,
    preferred_provider: Provider | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> ReferralEvent:
    if first_visit is None:
        raise ValidationError({"first_visit": FIRST_VISIT_REQUIRED})
    return referral_transition(
        referral=referral,
        to_status=S.ACCEPTED,
        actor=actor,
        text=note,
        changes={"first_visit": first_visit, "preferred_provider": preferred_provider},
        now=now,
    )


def referral_decline(
    *, referral: Referral, actor: User, reason: str, detail: str = "", now: dt.datetime | None = None
) -> ReferralEvent:
    if reason not in Referral.DeclineReason.values:
        raise ValidationError({"decline_reason": DECLINE_NEEDS_REASON})
    if reason == Referral.DeclineReason.OTHER and not detail.strip():
        raise ValidationError({"decline_detail": DECLINE_OTHER_NEEDS_DETAIL})
    label = Referral.DeclineReason(reason).label
    return referral_transition(
        referral=referral,
        to_status=S.DECLINED,
        actor=actor,
        text=f"{label}. {detail.strip()}".strip(),
        changes={"decline_reason": reason, "decline_detail": detail.strip()},
        now=now,
    )


def referral_mark_scheduled(
    *, referral: Referral, actor: User | None, appointment_summary: str, now: dt.datetime | None = None
) -> ReferralEvent:
    """Called by scheduling when the referral's first appointment is booked."""
    return referral_transition(referral=referral, to_status=S.SCHEDULED, actor=actor, text=appointment_summary, now=now)


def referral_return_to_queue(*, referral: Referral, actor: User | None, reason: str, now=None) -> ReferralEvent:
    """Called by scheduling when the first appointment is cancelled: back to be booked."""
    return referral_transition(referral=referral, to_status=S.ACCEPTED, actor=actor, text=reason, now=now)


def referral_mark_completed(
    *, referral: Referral, actor: User | None, outcome_summary: str, now: dt.datetime | None = None
) -> ReferralEvent:
    """Called by scheduling when the referral's visit is completed."""
    return referral_transition(
        referral=referral,
        to_status=S.COMPLETED,
        actor=actor,
        text=outcome_summary,
        changes={"outcome_summary": outcome_summary},
        now=now,
    )


def referral_close(*, referral: Referral, actor: User, note: str = "", now=None) -> ReferralEvent:
    return referral_transition(referral=referral, to_status=S.CLOSED, actor=actor, text=note, now=now)


def referral_add_note(
    *, referral: Referral, actor: User, text: str, visible_to_referrer: bool = False, now=None
) -> ReferralEvent:
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=referral, summary="note")
    return ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.NOTE,
        text=text.strip(),
        actor=actor,
        visible_to_referrer=visible_to_referrer,
        at=now or timezone.now(),
    )


@transaction.atomic
def referral_link_patient(*, referral: Referral, patient: Patient, actor: User, now=None) -> ReferralEvent:
    """Point a referral at an existing patient (a duplicate found in triage); the record
    it leaves is deleted when nothing else refers to it."""
    previous = referral.patient
    referral.patient = patient
    referral.save(update_fields=["patient", "updated_at"])
    if previous.pk != patient.pk and not previous.referrals.exists():
        try:
            with transaction.atomic():
                previous.delete()
        except ProtectedError:
            pass  # rows of other apps (an appointment) still name it: it stays
    return referral_add_note(
        referral=referral, actor=actor, text=f"Linked to existing patient record {patient.record_number}.", now=now
    )


# --- Telling the referrer ----------------------------------------------------------------


def _owe_referrer_email(referral: Referral, event: ReferralEvent) -> None:
    physician = referral.referring_physician
    if not physician.email:
        return
    message_queue(
        key=f"referral-status:{event.pk}",
        kind=f"referral_{event.to_status}",
        to_email=physician.email,
        template="referral_status",
        context={
            "referral": referral,
            "event": event,
            "physician": physician,
            "patient_initials": f"{referral.patient.first_name[:1]}. {referral.patient.last_name[:1]}.",
            "portal_url": f"{settings.SITE_URL}{referral.get_absolute_url()}",
            "status": event.to_status,
            "S": S,
        },
    )
