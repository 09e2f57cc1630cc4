"""Referral forms. Layout only in crispy helpers; every rule sits in a clean_ method or a
validator, with its message as a module constant."""

from __future__ import annotations

import datetime as dt
import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from clinic import localtime
from clinic.login_identity import login_identity
from clinic.models import ProcedureType, Provider
from conditions.models import Condition
from referrals.codes import parse_icd10_list
from referrals.models import Attachment, Patient, PortalAccessRequest, Referral, ReferringPhysician, ReferringPractice
from referrals.services import DECLINE_OTHER_NEEDS_DETAIL, NewFile
from referrals.uploads import MAX_FILES_PER_REFERRAL, validate_upload

BIRTH_DATE_IN_FUTURE = "The date of birth cannot be in the future."
BIRTH_DATE_TOO_OLD = "The date of birth is before 1 January 1900: please check the year."
IMAGING_DATE_IN_FUTURE = "The imaging date cannot be in the future."
IMAGING_BEFORE_BIRTH = "The imaging date is before the patient's date of birth: please check the year."
RECEIVED_TOO_LONG_AGO = "The time received is more than a year ago: please check the date."
SEX_REQUIRED = "Choose the patient's sex (or Not stated)."
ANTICOAGULANT_REQUIRED = "Say whether the patient takes anticoagulants (or Unknown)."
CHOOSE = "Choose…"
FILES_KEPT_HELP = (
    "PDF, PNG, JPEG or TIFF; up to 20 MB each and 10 per referral. Files stay attached if the form shows an error."
)
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
# Fax and phone referrals are typed in within days; a year back catches a mistyped year.
RECEIVED_AT_MAX_AGE = dt.timedelta(days=365)
DIAGNOSIS_REQUIRED = "Give at least one ICD-10-CM diagnosis code."
TOO_MANY_UPLOADS = "Attach at most %(max)s files to one referral."
NOT_YOUR_PRACTICE = "You can refer only as a physician of your own practice."
RECEIVED_IN_FUTURE = "The time received cannot be in the future."


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.tif,.tiff"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class RecordsMixin(forms.Form):
    """Uploaded records: each file checked by content; the result is a list of NewFile."""

    files = MultipleFileField(
        label="Records",
        help_text="PDF, PNG, JPEG or TIFF; up to 20 MB each and 10 per referral. "
        "If the form shows an error, attach the files again.",
    )
    file_kind = forms.ChoiceField(label="These files are", choices=Attachment.Kind.choices, initial="office_note")

    existing_file_count = 0

    def clean_files(self) -> list[NewFile]:
        uploads = self.cleaned_data.get("files") or []
        if self.existing_file_count + len(uploads) > MAX_FILES_PER_REFERRAL:
            raise ValidationError(TOO_MANY_UPLOADS, params={"max": MAX_FILES_PER_REFERRAL})
        errors, checked = [], []
        for upload in uploads:
            try:
                checked.append((upload, validate_upload(upload)))
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        # The kind is chosen in another field: NewFile rows are built in clean().
        return checked

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("file_kind") or Attachment.Kind.OTHER
        cleaned["new_files"] = [
            NewFile(upload=upload, kind=kind, content_type=content_type)
            for upload, content_type in cleaned.get("files") or []
        ]
        return cleaned


def validate_birth_date(value: dt.date) -> None:
    """From 1 January 1900 to today (the clinic's calendar)."""
    if value > localtime.clinic_today():
        raise ValidationError(BIRTH_DATE_IN_FUTURE, code="future")
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError(BIRTH_DATE_TOO_OLD, code="too_old")


class ReferralForm(RecordsMixin, forms.Form):
    """One referral with its patient: the portal and intake both use it."""

    PATIENT_FIELDS = (
        "first_name", "last_name", "date_of_birth", "sex", "phone", "email", "street", "city", "state",
        "postal_code", "preferred_contact", "email_consent", "insurance_payer", "insurance_member_id",
    )  # fmt: skip
    REFERRAL_FIELDS = (
        "reason", "suspected_condition", "requested_procedure", "urgency", "imaging_kind", "imaging_date",
        "anticoagulant", "anticoagulant_name", "notes",
    )  # fmt: skip

    submission_token = forms.UUIDField(widget=forms.HiddenInput)

    # Patient
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_birth_date])
    # No answer is chosen in advance: a default would be sent unread.
    sex = forms.ChoiceField(choices=[("", CHOOSE), *Patient.Sex.choices], error_messages={"required": SEX_REQUIRED})
    phone = PhoneNumberField(region="US", required=False, help_text="e.g. 479-967-7770")
    email = forms.EmailField(required=False)
    street = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=2, required=False)
    postal_code = forms.CharField(max_length=10, required=False, label="ZIP code")
    preferred_contact = forms.ChoiceField(choices=Patient.Contact.choices)
    email_consent = forms.BooleanField(required=False, label="The patient agrees to appointment e-mails")
    insurance_payer = forms.CharField(max_length=120, required=False)
    insurance_member_id = forms.CharField(max_length=60, required=False, label="Insurance member ID")

    # Clinical
    referring_physician = forms.ModelChoiceField(
        queryset=ReferringPhysician.objects.none(), error_messages={"invalid_choice": NOT_YOUR_PRACTICE}
    )
    reason = forms.CharField(label="Reason for referral", widget=forms.Textarea(attrs={"rows": 3}))
    diagnosis_codes = forms.CharField(
        label="Diagnoses (ICD-10-CM)", help_text="One or more codes, e.g. M54.6, M47.814", max_length=300
    )
    suspected_condition = forms.ModelChoiceField(queryset=Condition.objects.filter(is_active=True), required=False)
    requested_procedure = forms.ModelChoiceField(
        queryset=ProcedureType.objects.filter(is_active=True), required=False, label="Requested treatment"
    )
    urgency = forms.ChoiceField(choices=Referral.Urgency.choices)
    imaging_kind = forms.CharField(
        max_length=60, required=False, label="Imaging done", help_text="e.g. MRI thoracic spine"
    )
    imaging_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    anticoagulant = forms.ChoiceField(
        choices=[("", CHOOSE), *Referral.Anticoagulant.choices],
        label="Takes anticoagulants",
        error_messages={"required": ANTICOAGULANT_REQUIRED},
    )
    anticoagulant_name = forms.CharField(max_length=100, required=False, label="Which anticoagulant")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, physicians, existing_file_count: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referring_physician"].queryset = physicians
        self.existing_file_count = existing_file_count
        self.fields["files"].help_text = FILES_KEPT_HELP
        today = timezone.localdate().isoformat()
        self.fields["date_of_birth"].widget.attrs.update(min=EARLIEST_BIRTH_DATE.isoformat(), max=today)
        self.fields["imaging_date"].widget.attrs.update(min=EARLIEST_BIRTH_DATE.isoformat(), max=today)
        if not self.is_bound:
            self.initial.setdefault("submission_token", uuid.uuid4())
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "submission_token",
            Fieldset(
                "Patient",
                Div(Div("first_name", css_class="col-md-6"), Div("last_name", css_class="col-md-6"), css_class="row"),
                Div(Div("date_of_birth", css_class="col-md-6"), Div("sex", css_class="col-md-6"), css_class="row"),
                Div(Div("phone", css_class="col-md-6"), Div("email", css_class="col-md-6"), css_class="row"),
                "street",
                Div(
                    Div("city", css_class="col-md-6"),
                    Div("state", css_class="col-md-2"),
                    Div("postal_code", css_class="col-md-4"),
                    css_class="row",
                ),
                Div(
                    Div("preferred_contact", css_class="col-md-6"),
                    Div("email_consent", css_class="col-md-6 pt-md-4"),
                    css_class="row",
                ),
                Div(
                    Div("insurance_payer", css_class="col-md-6"),
                    Div("insurance_member_id", css_class="col-md-6"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Clinical",
                "referring_physician",
                "reason",
                "diagnosis_codes",
                Div(
                    Div("suspected_condition", css_class="col-md-6"),
                    Div("requested_procedure", css_class="col-md-6"),
                    css_class="row",
                ),
                "urgency",
                Div(
                    Div("imaging_kind", css_class="col-md-6"),
                    Div("imaging_date", css_class="col-md-6"),
                    css_class="row",
                ),
                Div(
                    Div("anticoagulant", css_class="col-md-6"),
                    Div("anticoagulant_name", css_class="col-md-6"),
                    css_class="row",
                ),
                "notes",
            ),
            Fieldset("Records", HTML('{% include "referrals/_staged_uploads.html" %}'), "files", "file_kind"),
        )

    def clean_diagnosis_codes(self) -> list[str]:
        codes = parse_icd10_list(self.cleaned_data["diagnosis_codes"])
        if not codes:
            raise ValidationError(DIAGNOSIS_REQUIRED)
        return codes

    def clean_imaging_date(self):
        value = self.cleaned_data.get("imaging_date")
        if value and value > localtime.clinic_today():
            raise ValidationError(IMAGING_DATE_IN_FUTURE)
        born = self.cleaned_data.get("date_of_birth")
        if value and (value < (born or EARLIEST_BIRTH_DATE)):
            raise ValidationError(IMAGING_BEFORE_BIRTH)
        return value

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_state(self) -> str:
        return self.cleaned_data["state"].strip().upper()

    def patient_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.PATIENT_FIELDS}
        data["phone"] = data["phone"] or ""
        return data

    def referral_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.REFERRAL_FIELDS}


class IntakeReferralForm(ReferralForm):
    """Intake's version: also how and when it arrived."""

    source = forms.ChoiceField(
        choices=[c for c in Referral.Source.choices if c[0] != Referral.Source.PORTAL], label="Received by"
    )
    received_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Received at",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("received_at", timezone.localtime().replace(second=0, microsecond=0))
            self.initial.setdefault("file_kind", Attachment.Kind.FAX)
        self.fields["referring_physician"].error_messages["invalid_choice"] = (
            "Choose a referring physician from the list."
        )
        self.helper.layout.insert(
            1,
            Fieldset(
                "Arrival",
                Div(Div("source", css_class="col-md-6"), Div("received_at", css_class="col-md-6"), css_class="row"),
            ),
        )

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        now = timezone.now()
        if value > now:
            raise ValidationError(RECEIVED_IN_FUTURE)
        if value < now - RECEIVED_AT_MAX_AGE:
            raise ValidationError(RECEIVED_TOO_LONG_AGO)
        return value


class RequestInformationForm(forms.Form):
    request_text = forms.CharField(label="What is needed", widget=forms.Textarea(attrs={"rows": 3}))


class AnswerInformationForm(RecordsMixin, forms.Form):
    answer_text = forms.CharField(label="Your answer", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, existing_file_count: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_file_count = existing_file_count
        self.helper = FormHelper()
        self.helper.form_tag = False


class AcceptForm(forms.Form):
    first_visit = forms.ModelChoiceField(queryset=ProcedureType.objects.filter(is_active=True), label="Book first")
    preferred_provider = forms.ModelChoiceField(queryset=None, required=False, label="Provider (optional)")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_provider"].queryset = Provider.objects.filter(is_active=True)
        consult = ProcedureType.objects.filter(kind=ProcedureType.Kind.VISIT, slug__contains="consult").first()
        if consult and not self.is_bound:
            self.initial.setdefault("first_visit", consult.pk)


class DeclineForm(forms.Form):
    decline_reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *Referral.DeclineReason.choices], label="Reason"
    )
    decline_detail = forms.CharField(
        required=False, label="Details for the referrer", widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decline_reason") == Referral.DeclineReason.OTHER
            and not cleaned.get("decline_detail", "").strip()
        ):
            self.add_error("decline_detail", DECLINE_OTHER_NEEDS_DETAIL)
        return cleaned


CHOOSE_PRACTICE_DECISION = "Choose whether the physician joins an existing practice or a new one."
JOIN_NEEDS_PRACTICE = "Choose the existing practice to join."
NEW_PRACTICE_NEEDS_NAME = "Give the new practice's name."


class AccessRequestApproveForm(forms.Form):
    """The admin says where an approved physician belongs; nothing is preselected, so a
    stranger typing a practice's name never joins it unchosen."""

    JOIN, CREATE = "join", "create"
    decision = forms.ChoiceField(
        choices=[(JOIN, "Join an existing practice"), (CREATE, "Create a new practice")],
        widget=forms.RadioSelect, label="Practice", error_messages={"required": CHOOSE_PRACTICE_DECISION},
    )  # fmt: skip
    practice = forms.ModelChoiceField(
        queryset=ReferringPractice.objects.none(), required=False, label="Existing practice", empty_label=CHOOSE
    )
    new_practice_name = forms.CharField(max_length=200, required=False, label="New practice's name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = ReferringPractice.objects.filter(is_active=True).order_by("name")
        self.fields["practice"].label_from_instance = _practice_label

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.JOIN and not data.get("practice"):
            self.add_error("practice", JOIN_NEEDS_PRACTICE)
        if data.get("decision") == self.CREATE and not data.get("new_practice_name", "").strip():
            self.add_error("new_practice_name", NEW_PRACTICE_NEEDS_NAME)
        return data

    def chosen_practice(self) -> ReferringPractice | None:
        return self.cleaned_data["practice"] if self.cleaned_data["decision"] == self.JOIN else None


def _practice_label(practice: ReferringPractice) -> str:
    where = ", ".join(part for part in (practice.street, practice.city, practice.state) if part)
    return f"{practice.name} ({where})" if where else practice.name


class NoteForm(forms.Form):
    text = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 2}))
    visible_to_referrer = forms.BooleanField(required=False, label="Show this note to the referring physician")


class PortalAccessRequestForm(forms.ModelForm):
    class Meta:
        model = PortalAccessRequest
        fields = ["first_name", "last_name", "email", "npi", "practice_name", "practice_phone", "message"]
        labels = {"npi": "NPI", "message": "Anything we should know (optional)"}
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}

    def clean_email(self) -> str:
        # Whether the address is already waiting or has an account is not said here: the
        # answer is the same for any address (portal_services.access_request_submit).
        return login_identity(self.cleaned_data["email"])
