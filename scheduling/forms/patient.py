"""The forms a patient fills in through an e-mail link: ask to reschedule or cancel, and
answer a follow-up check."""

from __future__ import annotations

from django import forms

from scheduling.models import FollowUp, PatientRequest
from scheduling.services.patient_requests import CANCEL_NEEDS_REASON, REQUEST_NEEDS_KIND

PAIN_NEEDED = "Choose a number from 0 (no pain) to 10 (the worst pain you can imagine) for your pain right now."
RELIEF_NEEDED = "Enter how much relief you had as a whole number from 0 to 100 (percent); 0 means none."
LASTED_NEEDED = "Choose how long the relief lasted."
WEEKS_RANGE = "Please give a number of weeks from 0 to 104, or leave it empty."
COMMENTS_TOO_LONG = "Please keep your comments to %(limit_value)d characters (you wrote %(show_value)d)."


def _messages(message: str) -> dict[str, str]:
    """The same specific message whatever is wrong with a number: empty, not a number, too
    small or too big."""
    return {"required": message, "invalid": message, "min_value": message, "max_value": message}


class FollowUpAnswerForm(forms.Form):
    pain_now = forms.IntegerField(
        min_value=0,
        max_value=10,
        label="Your pain right now, from 0 (none) to 10 (worst imaginable)",
        error_messages=_messages(PAIN_NEEDED),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 10}),
    )
    percent_relief = forms.IntegerField(
        min_value=0,
        max_value=100,
        label="How much relief did the procedure give you, in percent (0 to 100)?",
        error_messages=_messages(RELIEF_NEEDED),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 100}),
    )
    relief_lasted = forms.ChoiceField(
        choices=FollowUp.ReliefLasted.choices,
        widget=forms.RadioSelect,
        label="How long did the relief last?",
        error_messages={"required": LASTED_NEEDED, "invalid_choice": LASTED_NEEDED},
    )
    relief_weeks = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=104,
        label="About how many weeks did the relief last? (optional)",
        error_messages={"min_value": WEEKS_RANGE, "max_value": WEEKS_RANGE, "invalid": WEEKS_RANGE},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 104}),
    )
    comments = forms.CharField(
        required=False,
        max_length=2000,
        label="Anything else you would like your doctor to know? (optional)",
        error_messages={"max_length": COMMENTS_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ChangeRequestForm(forms.Form):
    kind = forms.ChoiceField(
        choices=PatientRequest.Kind.choices,
        widget=forms.RadioSelect,
        label="What would you like to do?",
        error_messages={"required": REQUEST_NEEDS_KIND},
    )
    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Reason (required to cancel)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") == PatientRequest.Kind.CANCEL and not data.get("reason", "").strip():
            self.add_error("reason", CANCEL_NEEDS_REASON)
        return data
