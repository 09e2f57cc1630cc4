from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from clinic.login_identity import login_identity
from clinic.models import AuditEvent


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


class AuditSearchForm(forms.Form):
    actor = forms.CharField(required=False, label="Person (e-mail)")
    object_type = forms.CharField(required=False, label="Record type", help_text="e.g. referrals.Referral")
    object_id = forms.CharField(required=False, label="Record id")
    action = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditEvent.Action.choices])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
