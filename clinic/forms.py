import datetime as dt
import re

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from clinic import localtime
from clinic.login_identity import login_identity
from clinic.models import AuditEvent
from clinic.password_reset import password_reset_request
from clinic.roles import Role
from clinic.user_services import ASSIGNABLE_ROLES

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

    def clean_username(self) -> str:
        # Authenticate (and so django-axes) with the one spelling of the address.
        return login_identity(self.cleaned_data["username"])


class AdminEmailAuthenticationForm(EmailAuthenticationForm, AdminAuthenticationForm):
    """The Django admin's login form: the same identity and lockout, staff accounts only."""


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, except that it only records the address: the e-mail goes through
    the ledger, owed by a sweep, so the answer and its timing are the same for any address."""

    def save(self, **kwargs) -> None:
        password_reset_request(email=self.cleaned_data["email"])


class SecondFactorCodeForm(forms.Form):
    """One code: six digits from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
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


def _role_choices() -> list[tuple[str, str]]:
    return [(role.name, role.spec.group) for role in ASSIGNABLE_ROLES]


class UserRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=_role_choices, widget=forms.CheckboxSelectMultiple, required=False, label="Roles"
    )

    def clean_roles(self) -> set[Role]:
        return {Role[name] for name in self.cleaned_data["roles"]}


class UserInviteForm(UserRolesForm):
    field_order = ["email", "first_name", "last_name", "roles"]

    email = forms.EmailField(label="E-mail address")
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()
