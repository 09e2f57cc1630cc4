"""Forms for the clinic admin's calendar pages: hours, closures, provider templates, time off."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError

from clinic import localtime
from clinic.models import Closure, Location, Weekday, WeekdayHours
from clinic.validators import validate_clinic_date
from scheduling.models import AvailabilityTemplate, ExtraAvailability, TimeOff

RANGES_FORMAT = "Write ranges as 08:30-12:00, 13:00-16:30."
RANGES_OVERLAP = "The ranges overlap or are out of order."
RANGE_BACKWARDS = "%(range)s ends before it starts."
OPEN_NEEDS_RANGES = "An open day needs at least one range."
END_BEFORE_START = "The end must be after the start."
LAST_DAY_BEFORE_FIRST = "The last day must be on or after the first day."
DATE_IN_THE_PAST = "Choose today or a later date."
EACH_WEEKDAY_ONCE = "The form must list each weekday once; please reload the page and try again."

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_ranges(text: str) -> list[tuple[dt.time, dt.time]]:
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _RANGE.match(part)
        if not match:
            raise ValidationError(RANGES_FORMAT)
        h1, m1, h2, m2 = map(int, match.groups())
        try:
            opens, closes = dt.time(h1, m1), dt.time(h2, m2)
        except ValueError as exc:
            raise ValidationError(RANGES_FORMAT) from exc
        if opens >= closes:
            raise ValidationError(RANGE_BACKWARDS, params={"range": part})
        ranges.append((opens, closes))
    if any(a[1] > b[0] for a, b in zip(ranges, ranges[1:], strict=False)):
        raise ValidationError(RANGES_OVERLAP)
    return ranges


class WeekdayHoursForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, widget=forms.HiddenInput)
    mode = forms.ChoiceField(choices=WeekdayHours.Mode.choices)
    ranges = forms.CharField(required=False, help_text="e.g. 08:30-12:00, 13:00-16:30")

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["parsed"] = parse_ranges(cleaned.get("ranges", ""))
        except ValidationError as exc:
            self.add_error("ranges", exc)
            return cleaned
        if cleaned.get("mode") == WeekdayHours.Mode.OPEN and not cleaned["parsed"]:
            self.add_error("ranges", OPEN_NEEDS_RANGES)
        return cleaned


class BaseWeekdayHoursFormSet(forms.BaseFormSet):
    def clean(self):
        """Each weekday exactly once: the hidden weekday fields are the client's to tamper with."""
        super().clean()
        if any(self.errors):
            return  # each form's own error comes first
        weekdays = [form.cleaned_data.get("weekday") for form in self.forms]
        if sorted(weekdays) != list(range(7)):
            raise ValidationError(EACH_WEEKDAY_ONCE)


# Exactly seven forms, however many the posted management form claims: a tampered count
# is an error on the page (and never renders or saves a thousand rows).
WeekdayHoursFormSet = forms.formset_factory(
    WeekdayHoursForm, formset=BaseWeekdayHoursFormSet, extra=0, min_num=7, max_num=7, absolute_max=7,
    validate_min=True, validate_max=True,
)  # fmt: skip


def bound_clinic_dates(form: forms.BaseForm, *names: str) -> None:
    """Give the named date (or datetime) fields the clinic calendar's bounds."""
    for name in names:
        form.fields[name].validators.append(validate_clinic_date)


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["location", "start_date", "end_date", "reason", "kind"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"location": "Location (empty: all locations)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_clinic_dates(self, "start_date", "end_date")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start_date") and cleaned.get("end_date") and cleaned["end_date"] < cleaned["start_date"]:
            self.add_error("end_date", LAST_DAY_BEFORE_FIRST)
        return cleaned


class TemplateForm(forms.ModelForm):
    class Meta:
        model = AvailabilityTemplate
        fields = ["location", "weekday", "starts", "ends", "effective_from", "effective_to"]
        widgets = {
            "starts": forms.TimeInput(attrs={"type": "time"}), "ends": forms.TimeInput(attrs={"type": "time"}),
            "effective_from": forms.DateInput(attrs={"type": "date"}),
            "effective_to": forms.DateInput(attrs={"type": "date"}),
        }  # fmt: skip

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.provider = provider
        self.fields["location"].queryset = Location.objects.filter(is_active=True)
        bound_clinic_dates(self, "effective_from", "effective_to")


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = ["starts_at", "ends_at", "reason"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.provider = provider
        bound_clinic_dates(self, "starts_at", "ends_at")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts_at") and cleaned.get("ends_at") and cleaned["ends_at"] <= cleaned["starts_at"]:
            self.add_error("ends_at", END_BEFORE_START)
        return cleaned


class ExtraAvailabilityForm(forms.ModelForm):
    """A provider opening one date, e.g. a by-appointment Friday, at one location."""

    class Meta:
        model = ExtraAvailability
        fields = ["location", "date", "starts", "ends", "note"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "starts": forms.TimeInput(attrs={"type": "time"}), "ends": forms.TimeInput(attrs={"type": "time"}),
        }  # fmt: skip

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.provider = provider
        self.fields["location"].queryset = Location.objects.filter(is_active=True)
        bound_clinic_dates(self, "date")

    def clean_date(self) -> dt.date:
        date = self.cleaned_data["date"]
        # "Today" is the chosen location's (fields clean in order: location first).
        location = self.cleaned_data.get("location")
        today = localtime.today(location.zone) if location else localtime.clinic_today()
        if date < today:
            raise ValidationError(DATE_IN_THE_PAST)
        return date

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts") and cleaned.get("ends") and cleaned["ends"] <= cleaned["starts"]:
            self.add_error("ends", END_BEFORE_START)
        return cleaned
