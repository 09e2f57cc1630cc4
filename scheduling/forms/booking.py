"""Scheduling forms: the slot search, booking confirmation, moves, cancellations, statuses."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from clinic import localtime
from clinic.models import Location, ProcedureType, Provider
from scheduling.lifecycle import can_transition, next_step_hint, statuses_allowed_now, timing_problem
from scheduling.models import Appointment
from scheduling.services.booking import CANCEL_NEEDS_REASON

FROM_DATE_IN_PAST = "Search from today or later."
# The largest primary key the databases store: a bigger number in ?patient= is no patient.
MAX_PK = 2**63 - 1
REASON_TOO_LONG = "Keep it to %(limit_value)d characters (it has %(show_value)d)."


class SlotSearchForm(forms.Form):
    procedure_type = forms.ModelChoiceField(queryset=ProcedureType.objects.filter(is_active=True), label="Procedure")
    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True), required=False,
                                      empty_label="Any location")  # fmt: skip
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True), required=False,
                                      empty_label="Any provider")  # fmt: skip
    from_date = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    referral = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)
    appointment = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)
    patient = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)

    def clean_from_date(self) -> dt.date | None:
        value = self.cleaned_data.get("from_date")
        location = self.cleaned_data.get("location")  # cleaned first: "today" is its day
        today = localtime.today(location.zone) if location else localtime.clinic_today()
        if value and value < today:
            raise forms.ValidationError(FROM_DATE_IN_PAST)
        return value


class PatientPickForm(forms.Form):
    """The finder's patient picker: a name or a record number."""

    q = forms.CharField(max_length=100, label="Patient's name or record number", strip=True,
                        help_text="Then pick the patient from the list.")  # fmt: skip


class BookForm(forms.Form):
    """The confirm step: what the finder offered, carried as hidden fields."""

    procedure_type = forms.ModelChoiceField(queryset=ProcedureType.objects.all(), widget=forms.HiddenInput)
    location = forms.ModelChoiceField(queryset=Location.objects.all(), widget=forms.HiddenInput)
    provider = forms.ModelChoiceField(queryset=Provider.objects.all(), widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(widget=forms.HiddenInput)
    referral = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)
    appointment = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)
    patient = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)
    offered_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    repeat_override_reason = forms.CharField(
        required=False, max_length=300, label="Override the repeat policy because (providers only)",
        error_messages={"max_length": REASON_TOO_LONG},
    )  # fmt: skip

    def slot_unreadable(self) -> bool:
        """Whether a hidden field (what the finder offered) is broken, as opposed to the one
        field the user types, whose error is shown next to it."""
        return any(name != "repeat_override_reason" for name in self.errors)


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300, label="Reason for cancelling",
        error_messages={"required": CANCEL_NEEDS_REASON, "max_length": REASON_TOO_LONG},
    )  # fmt: skip


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Appointment.Status.choices)
    outcome_summary = forms.CharField(required=False, label="Outcome summary (for the referring physician)",
                                      widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        # Only what the lifecycle allows now is offered (no check-in days ahead, no completion
        # before the start); a stale page posting a step that is not due yet is told why.
        allowed = statuses_allowed_now(appointment)
        self.fields["status"].choices = [(v, label) for v, label in Appointment.Status.choices if v in allowed]
        self.nothing_yet = "" if allowed else next_step_hint(appointment)

    def full_clean(self) -> None:
        super().full_clean()
        wanted = self.data.get("status", "") if self.is_bound else ""
        if "status" in self.errors and can_transition(self.appointment.status, wanted):
            problem = timing_problem(self.appointment, wanted, now=timezone.now())
            if problem:
                self.errors["status"] = self.error_class([problem])
