import datetime as dt
import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from clinic import localtime
from clinic.models import AuditEvent

AUDIT_PATIENT_UNREADABLE = "Enter a record number such as P0000042 (or the patient's id, 42)."
AUDIT_DATE_OUT_OF_RANGE = "Choose a date between %(earliest)s and %(latest)s."
AUDIT_DATES_REVERSED = "The end date is before the start date."
# The log is kept for years (HIPAA: six); a date outside this window is a typing slip (0001,
# 9999) that would also overflow the day-bounds arithmetic.
AUDIT_YEARS_BACK = 10
# Record numbers are "P" and the patient's key, zero-padded (referrals.services.patient_create).
_PATIENT_REFERENCE = re.compile(r"[Pp]?([0-9]{1,18})", re.ASCII)


class EmailAuthenticationForm(AuthenticationForm):
    """The login form, labelled for e-mail sign-in."""

    username = forms.EmailField(
        label="E-mail address", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class AuditSearchForm(forms.Form):
    """The audit page's filters: who, which patient, what, and days in the clinic's zone."""

    actor = forms.CharField(required=False, max_length=254, label="Person (e-mail)")
    patient = forms.CharField(required=False, max_length=20, label="Patient (record number)")
    action = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditEvent.Action.choices])
    object_type = forms.CharField(
        required=False, max_length=60, label="Record type", help_text="e.g. referrals.Referral"
    )
    object_id = forms.CharField(required=False, max_length=40, label="Record id")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_patient(self) -> int | None:
        text = self.cleaned_data["patient"].strip()
        if not text:
            return None
        match = _PATIENT_REFERENCE.fullmatch(text)
        if match is None or int(match[1]) > 2**63 - 1:
            raise forms.ValidationError(AUDIT_PATIENT_UNREADABLE, code="patient")
        return int(match[1])

    def clean_since(self) -> dt.date | None:
        return self._bounded(self.cleaned_data["since"])

    def clean_until(self) -> dt.date | None:
        return self._bounded(self.cleaned_data["until"])

    def _bounded(self, day: dt.date | None) -> dt.date | None:
        today = localtime.clinic_today()
        earliest, latest = dt.date(today.year - AUDIT_YEARS_BACK, 1, 1), today
        if day is not None and not earliest <= day <= latest:
            raise forms.ValidationError(
                AUDIT_DATE_OUT_OF_RANGE, code="date_range", params={"earliest": earliest, "latest": latest}
            )
        return day

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", forms.ValidationError(AUDIT_DATES_REVERSED, code="dates_reversed"))
        return data
