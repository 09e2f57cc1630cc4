from django import forms
from django.contrib.auth.forms import AuthenticationForm

from clinic.models import AuditEvent


class EmailAuthenticationForm(AuthenticationForm):
    """The login form, labelled for e-mail sign-in."""

    username = forms.EmailField(
        label="E-mail address", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class SecondFactorCodeForm(forms.Form):
    """One code: six digits from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class AuditSearchForm(forms.Form):
    actor = forms.CharField(required=False, label="Person (e-mail)")
    object_type = forms.CharField(required=False, label="Record type", help_text="e.g. referrals.Referral")
    object_id = forms.CharField(required=False, label="Record id")
    action = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditEvent.Action.choices])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
