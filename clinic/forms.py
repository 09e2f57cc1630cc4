from django import forms
from django.contrib.auth.forms import AuthenticationForm

from clinic.models import AuditEvent
from clinic.roles import Role
from clinic.user_services import ASSIGNABLE_ROLES


class EmailAuthenticationForm(AuthenticationForm):
    """The login form, labelled for e-mail sign-in."""

    username = forms.EmailField(
        label="E-mail address", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
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
