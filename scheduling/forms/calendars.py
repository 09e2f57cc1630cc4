"""The calendar's "Open this day" form: a provider's times on one date, and why."""

from __future__ import annotations

import datetime as dt

from django import forms

from scheduling.services.openings import END_BEFORE_START, REASON_NEEDED


class OpenDayForm(forms.Form):
    starts = forms.TimeField(initial=dt.time(8, 30), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    ends = forms.TimeField(initial=dt.time(16, 30), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    note = forms.CharField(max_length=200, label="Reason", error_messages={"required": REASON_NEEDED})

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts") and cleaned.get("ends") and cleaned["ends"] <= cleaned["starts"]:
            self.add_error("ends", END_BEFORE_START)
        return cleaned
