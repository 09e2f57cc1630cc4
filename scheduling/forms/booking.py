"""Scheduling forms: the slot search, booking confirmation, moves, cancellations, statuses."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from clinic.models import Location, ProcedureType, Provider
from clinic.query_params import DATE_RANGE_YEARS, MAX_ID, date_in_range
from scheduling.lifecycle import TRANSITIONS
from scheduling.models import Appointment

FROM_DATE_IN_PAST = "Search from today or later."
FROM_DATE_TOO_FAR = "Search from a date within the next %(years)d years."
TIME_OUT_OF_RANGE = "That time is more than %(years)d years from today."


def _within_range(value: dt.datetime | None) -> dt.datetime | None:
    """A hidden time field's value if it is within the clinic's date range: a tampered year
    1 or 9999 would overflow the date arithmetic of the slot checks."""
    if value and not date_in_range(value.date(), today=timezone.localdate()):
        raise forms.ValidationError(TIME_OUT_OF_RANGE, params={"years": DATE_RANGE_YEARS})
    return value


class IdField(forms.IntegerField):
    """A row's id carried in a hidden field: a tampered number beyond any id is refused here,
    not by the database."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class SlotSearchForm(forms.Form):
    procedure_type = forms.ModelChoiceField(queryset=ProcedureType.objects.filter(is_active=True), label="Procedure")
    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True), required=False,
                                      empty_label="Any location")  # fmt: skip
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True), required=False,
                                      empty_label="Any provider")  # fmt: skip
    from_date = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    referral = IdField(required=False)
    appointment = IdField(required=False)

    def clean_from_date(self) -> dt.date | None:
        value = self.cleaned_data.get("from_date")
        if value and value < timezone.localdate():
            raise forms.ValidationError(FROM_DATE_IN_PAST)
        if value and not date_in_range(value, today=timezone.localdate()):
            raise forms.ValidationError(FROM_DATE_TOO_FAR, params={"years": DATE_RANGE_YEARS})
        return value


class BookForm(forms.Form):
    """The confirm step: what the finder offered, carried as hidden fields."""

    procedure_type = forms.ModelChoiceField(queryset=ProcedureType.objects.all(), widget=forms.HiddenInput)
    location = forms.ModelChoiceField(queryset=Location.objects.all(), widget=forms.HiddenInput)
    provider = forms.ModelChoiceField(queryset=Provider.objects.all(), widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(widget=forms.HiddenInput)
    referral = IdField(required=False)
    appointment = IdField(required=False)
    offered_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    repeat_override_reason = forms.CharField(
        required=False, max_length=300, label="Override the repeat policy because (providers only)"
    )

    def clean_starts_at(self) -> dt.datetime:
        return _within_range(self.cleaned_data["starts_at"])

    def clean_offered_at(self) -> dt.datetime | None:
        return _within_range(self.cleaned_data["offered_at"])


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Reason for cancelling")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Appointment.Status.choices)
    outcome_summary = forms.CharField(required=False, label="Outcome summary (for the referring physician)",
                                      widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = TRANSITIONS[appointment.status] - {Appointment.Status.CANCELLED}
        self.fields["status"].choices = [(v, label) for v, label in Appointment.Status.choices if v in allowed]
