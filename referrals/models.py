"""Referrals: who sends them, the patient, the referral itself, its records and timeline."""

from __future__ import annotations

import uuid

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from phonenumber_field.modelfields import PhoneNumberField

from clinic.models import ProcedureType, Provider, User
from clinic.validators import validate_npi
from conditions.models import Condition


class ReferringPractice(models.Model):
    """An outside practice whose physicians refer patients."""

    name = models.CharField(max_length=200)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = PhoneNumberField(blank=True)
    fax = PhoneNumberField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReferringPhysician(models.Model):
    practice = models.ForeignKey(ReferringPractice, on_delete=models.PROTECT, related_name="physicians")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    credentials = models.CharField(max_length=40, blank=True, help_text="e.g. MD, DO, NP")
    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_npi])
    specialty = models.CharField(max_length=100, blank=True)
    email = models.EmailField(help_text="Status e-mails go here.")
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="referring_physician"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        name = f"Dr. {self.first_name} {self.last_name}"
        return f"{name}, {self.credentials}" if self.credentials else name


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Not stated"

    class Contact(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "E-mail"
        TEXT = "text", "Text message"

    # Assigned from the primary key right after the insert (referrals.services.patient_create).
    record_number = models.CharField(max_length=12, unique=True, null=True, editable=False)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices)
    phone = PhoneNumberField(blank=True)
    email = models.EmailField(blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    preferred_contact = models.CharField(max_length=10, choices=Contact.choices, default=Contact.PHONE)
    email_consent = models.BooleanField(
        "agrees to e-mail", default=False, help_text="The patient agreed to appointment e-mails."
    )
    insurance_payer = models.CharField(max_length=120, blank=True)
    insurance_member_id = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Raised by every demographics edit (referrals.services.patient_update): an edit form
    # carries the version it was opened at, so a second editor cannot silently overwrite.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["last_name", "first_name", "date_of_birth"]
        indexes = [
            models.Index(fields=["last_name", "first_name", "date_of_birth"], name="patient_identity_idx"),
            # Patient search looks people up by birth date and by phone (exact matches).
            models.Index(fields=["date_of_birth"], name="patient_birth_date_idx"),
            models.Index(fields=["phone"], name="patient_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.record_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def can_be_emailed(self) -> bool:
        """E-mail only with an address and consent; otherwise staff call the patient."""
        return bool(self.email) and self.email_consent


class ReferralQuerySet(models.QuerySet):
    def visible_to_practice(self, practice_id: int):
        return self.filter(referring_physician__practice_id=practice_id)

    def open(self):
        return self.exclude(status__in=Referral.CLOSED_STATUSES)


class Referral(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        UNDER_REVIEW = "under_review", "Under review"
        NEEDS_INFORMATION = "needs_information", "Needs information"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CLOSED = "closed", "Closed"

    class Source(models.TextChoices):
        PORTAL = "portal", "Portal"
        FAX = "fax", "Fax"
        PHONE = "phone", "Phone"
        EMAIL = "email", "E-mail"

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"

    class Anticoagulant(models.TextChoices):
        NONE = "none", "None"
        YES = "yes", "Yes"
        UNKNOWN = "unknown", "Unknown"

    class DeclineReason(models.TextChoices):
        NOT_INDICATED = "not_indicated", "Interventional treatment not indicated"
        OUT_OF_SCOPE = "out_of_scope", "Outside the clinic's scope"
        INSURANCE = "insurance", "Insurance not accepted"
        NO_RESPONSE = "no_response", "Requested information not received"
        DUPLICATE = "duplicate", "Duplicate referral"
        PATIENT_DECLINED = "patient_declined", "Patient declined"
        OTHER = "other", "Other"

    CLOSED_STATUSES = (Status.DECLINED, Status.COMPLETED, Status.CLOSED)

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    referring_physician = models.ForeignKey(ReferringPhysician, on_delete=models.PROTECT, related_name="referrals")
    received_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    reason = models.TextField("reason for referral")
    suspected_condition = models.ForeignKey(
        Condition, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    requested_procedure = models.ForeignKey(
        ProcedureType, null=True, blank=True, on_delete=models.PROTECT, related_name="requested_in"
    )
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    imaging_kind = models.CharField(max_length=60, blank=True, help_text="e.g. MRI thoracic spine")
    imaging_date = models.DateField(null=True, blank=True)
    anticoagulant = models.CharField(
        "anticoagulant use", max_length=10, choices=Anticoagulant.choices, default=Anticoagulant.UNKNOWN
    )
    anticoagulant_name = models.CharField(max_length=100, blank=True, help_text="Which, e.g. apixaban")
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    assigned_to = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_referrals"
    )
    # Kept in a column (not derived on read) because the triage queue sorts and filters
    # on it; it is recomputed whenever urgency changes (referrals.services).
    review_due_at = models.DateTimeField()
    first_visit = models.ForeignKey(
        ProcedureType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="first_visit_in",
        help_text="What to book first, chosen at acceptance.",
    )
    preferred_provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL)
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    decline_detail = models.TextField(blank=True)
    outcome_summary = models.TextField(blank=True, help_text="Sent to the referrer on completion.")
    # The form's one-time token: a second submit of the same form finds this and creates
    # nothing new.
    submission_token = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "urgency", "review_due_at"], name="referral_queue_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="declined_referral_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.reference}"

    def get_absolute_url(self) -> str:
        return reverse("referrals:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"R{self.pk:06d}" if self.pk else "R(new)"

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES


class ReferralDiagnosis(models.Model):
    """One ICD-10-CM code on a referral, normalised (M546 -> M54.6)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="diagnoses")
    code = models.CharField(max_length=8)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["referral", "position"]
        constraints = [models.UniqueConstraint(fields=["referral", "code"], name="diagnosis_once_per_referral")]

    def __str__(self) -> str:
        return f"{self.code} {self.description}".strip()


def attachment_path(instance: Attachment, filename: str) -> str:
    # A random name: neither the patient nor the original file name reaches the disk path.
    return f"referrals/{uuid.uuid4().hex}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        IMAGING_REPORT = "imaging_report", "Imaging report"
        OFFICE_NOTE = "office_note", "Office note"
        FAX = "fax", "Received fax"
        OTHER = "other", "Other"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=150, help_text="Sanitised file name shown for download.")
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    uploaded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["referral", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("referrals:attachment", args=[self.referral_id, self.pk])


class ReferralEvent(models.Model):
    """The referral's timeline: status changes, notes and messages, with who and when."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        NOTE = "note", "Internal note"
        REQUEST = "request", "Request for information"
        RESPONSE = "response", "Response from referrer"
        ATTACHMENT = "attachment", "Records added"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=Referral.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Referral.Status.choices, blank=True)
    text = models.TextField(blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Internal notes stay inside the clinic; everything else the referrer sees.
    visible_to_referrer = models.BooleanField(default=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["referral", "at", "id"]

    def __str__(self) -> str:
        return f"{self.referral} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.kind == self.Kind.STATUS and not self.to_status:
            raise ValidationError("A status change needs the new status.")


class PortalAccessRequest(models.Model):
    """A physician asking for a portal account; a clinic admin approves or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])
    practice_name = models.CharField(max_length=200)
    practice_phone = PhoneNumberField()
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    physician = models.ForeignKey(ReferringPhysician, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=Q(status="pending"), name="one_pending_access_request_per_email"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.practice_name})"


class ReviewTarget(models.Model):
    """How many clinic open days triage has to review a referral of each urgency."""

    urgency = models.CharField(max_length=10, choices=Referral.Urgency.choices, unique=True)
    open_days = models.PositiveSmallIntegerField(help_text="Counted in the clinic's open days, after the day received.")

    DEFAULTS = {Referral.Urgency.URGENT: 1, Referral.Urgency.ROUTINE: 3}

    class Meta:
        ordering = ["urgency"]

    def __str__(self) -> str:
        return f"{self.get_urgency_display()}: {self.open_days} open day(s)"


def staged_upload_path(instance: StagedUpload, filename: str) -> str:
    return f"referrals-staging/{uuid.uuid4().hex}"


class StagedUpload(models.Model):
    """A checked file from a referral form that failed validation, held until the same form
    (its one-time ``submission_token``, by the same user) is sent again, so nothing has to
    be attached twice. Rows older than a day are purged (``referrals.staging``)."""

    token = models.UUIDField()
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=staged_upload_path, max_length=200)
    original_name = models.CharField(max_length=150)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["token", "user"], name="staged_upload_form_idx"),
            models.Index(fields=["created_at"], name="staged_upload_age_idx"),
        ]

    def __str__(self) -> str:
        return self.original_name


class PatientChange(models.Model):
    """One demographics edit: which fields changed, from what to what, by whom (the chart's
    "Changes"). The audit log says that someone changed the record; this keeps the values."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=254, help_text="Who, kept even if the user is deleted.")
    at = models.DateTimeField()
    # {"phone": {"before": "+14795550100", "after": "+14795550199"}, ...}
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label}: {', '.join(self.changes)}"

    @property
    def field_labels(self) -> list[str]:
        return [_field_label(name) for name in self.changes]

    @property
    def rows(self) -> list[tuple[str, object, object]]:
        """(field label, before, after) for each changed field, as the chart lists them."""
        return [(_field_label(name), value["before"], value["after"]) for name, value in self.changes.items()]


def _field_label(name: str) -> str:
    try:
        return str(Patient._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field removed since the change was recorded
        return name
