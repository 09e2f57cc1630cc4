"""Scheduling forms: the slot search, booking confirmation, moves, cancellations, statuses."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from clinic import localtime
from clinic.models import Location, ProcedureType, Provider
from clinic.query_params import DATE_RANGE_YEARS, MAX_ID, date_in_range
from scheduling.lifecycle import can_transition, next_step_hint, statuses_allowed_now, timing_problem
from scheduling.models import Appointment
from scheduling.services.booking import CANCEL_NEEDS_REASON

FROM_DATE_IN_PAST = "Search from today or later."
REASON_TOO_LONG = "Keep it to %(limit_value)d characters (it has %(show_value)d)."
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
    patient = IdField(required=False)
    order = IdField(required=False)

    def clean_from_date(self) -> dt.date | None:
        value = self.cleaned_data.get("from_date")
        location = self.cleaned_data.get("location")  # cleaned first: "today" is its day
        today = localtime.today(location.zone) if location else localtime.clinic_today()
        if value and value < today:
            raise forms.ValidationError(FROM_DATE_IN_PAST)
        if value and not date_in_range(value, today=timezone.localdate()):
            raise forms.ValidationError(FROM_DATE_TOO_FAR, params={"years": DATE_RANGE_YEARS})
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
    referral = IdField(required=False)
    appointment = IdField(required=False)
    patient = IdField(required=False)
    order = IdField(required=False)
    offered_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    repeat_override_reason = forms.CharField(
        required=False, max_length=300, label="Override the coverage rule because (providers only)",
        error_messages={"max_length": REASON_TOO_LONG},
    )  # fmt: skip

    def slot_unreadable(self) -> bool:
        """Whether a hidden field (what the finder offered) is broken, as opposed to the one
        field the user types, whose error is shown next to it."""
        return any(name != "repeat_override_reason" for name in self.errors)

    def clean_starts_at(self) -> dt.datetime:
        return _within_range(self.cleaned_data["starts_at"])

    def clean_offered_at(self) -> dt.datetime | None:
        return _within_range(self.cleaned_data["offered_at"])


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300, label="Reason for cancelling",
        error_messages={"required": CANCEL_NEEDS_REASON, "max_length": REASON_TOO_LONG},
    )  # fmt: skip


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Appointment.Status.choices)
    outcome_summary = forms.CharField(required=False, label="Outcome summary (for the referring physician)",
                                      widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    # What the procedure showed, recorded at completion; the ranges are checked by the
    # service (scheduling.services.status.outcome_check), whose messages go next to the fields.
    block_relief_percent = forms.CharField(
        required=False, label="Relief during the block (%)", help_text="Percent relief in the anaesthetic's window.",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )  # fmt: skip
    baseline_pain = forms.CharField(
        required=False, label="Pain before (0-10)", widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    outcome_note = forms.CharField(required=False, label="Outcome note", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        # Only what the lifecycle allows now is offered (no check-in days ahead, no completion
        # before the start); a stale page posting a step that is not due yet is told why.
        allowed = statuses_allowed_now(appointment)
        self.fields["status"].choices = [(v, label) for v, label in Appointment.Status.choices if v in allowed]
        self.nothing_yet = "" if allowed else next_step_hint(appointment)
        pt = appointment.procedure_type
        if not pt.records_block_relief:
            del self.fields["block_relief_percent"]
        if not pt.records_baseline_pain:
            del self.fields["baseline_pain"]
        if not (pt.records_block_relief or pt.records_baseline_pain):
            del self.fields["outcome_note"]

    def outcome(self) -> dict:
        names = ("block_relief_percent", "baseline_pain", "outcome_note")
        return {name: self.cleaned_data[name] for name in names if name in self.fields and self.cleaned_data[name]}

    def full_clean(self) -> None:
        super().full_clean()
        wanted = self.data.get("status", "") if self.is_bound else ""
        if "status" in self.errors and can_transition(self.appointment.status, wanted):
            problem = timing_problem(self.appointment, wanted, now=timezone.now())
            if problem:
                self.errors["status"] = self.error_class([problem])
