"""Staff patient search and the demographics form."""

from __future__ import annotations

from django import forms
from phonenumber_field.formfields import PhoneNumberField

from referrals.forms import validate_birth_date
from referrals.models import Patient
from referrals.selectors import PATIENT_SEARCH_MAX_LENGTH
from referrals.services import PATIENT_EDITABLE_FIELDS


class PatientSearchForm(forms.Form):
    # CharField refuses a NUL byte with Django's own message ("Null characters are not allowed.").
    q = forms.CharField(
        label="Name, date of birth, record number or phone",
        max_length=PATIENT_SEARCH_MAX_LENGTH,
        required=False,
    )


class PatientDemographicsForm(forms.Form):
    """What staff may correct on a patient's record; ``version`` is the record's version when
    the form was opened (see referrals.services.patient_update)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), validators=[validate_birth_date]
    )
    sex = forms.ChoiceField(choices=Patient.Sex.choices)
    # A plain text input: the library's widget shows a refused number with its punctuation
    # stripped ("479-555" comes back as "479555"), and the form must keep what was typed.
    phone = PhoneNumberField(
        region="US", required=False, help_text="e.g. 479-967-7770", widget=forms.TextInput(attrs={"type": "tel"})
    )
    email = forms.EmailField(required=False, max_length=254)
    preferred_contact = forms.ChoiceField(choices=Patient.Contact.choices)
    email_consent = forms.BooleanField(required=False, label="The patient agrees to appointment e-mails")
    street = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=2, required=False)
    postal_code = forms.CharField(max_length=10, required=False, label="ZIP code")
    insurance_payer = forms.CharField(max_length=120, required=False)
    insurance_member_id = forms.CharField(max_length=60, required=False, label="Insurance member ID")

    @classmethod
    def for_patient(cls, patient: Patient) -> PatientDemographicsForm:
        initial = {name: getattr(patient, name) for name in PATIENT_EDITABLE_FIELDS}
        return cls(initial={**initial, "version": patient.version})

    def changes(self) -> dict[str, object]:
        data = dict(self.cleaned_data)
        data["phone"] = data["phone"] or ""
        return {name: data[name] for name in PATIENT_EDITABLE_FIELDS}
