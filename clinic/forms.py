from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from clinic.login_identity import login_identity
from clinic.models import AuditEvent
from clinic.password_reset import password_reset_request
from clinic.roles import Role
from clinic.user_services import ASSIGNABLE_ROLES


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
    actor = forms.CharField(required=False, label="Person (e-mail)")
    object_type = forms.CharField(required=False, label="Record type", help_text="e.g. referrals.Referral")
    object_id = forms.CharField(required=False, label="Record id")
    action = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditEvent.Action.choices])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


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
