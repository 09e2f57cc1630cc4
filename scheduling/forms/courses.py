"""Enrolling a patient in a pathway for a site, and deciding a course's next step. The site
and decision rules live in ``scheduling.services.courses``; these forms read the input."""

from __future__ import annotations

from django import forms

from conditions.models import Pathway, PathwayStep
from conditions.sites import Region, Side, site_dict
from referrals.models import Referral
from scheduling.models import ProcedureOrder
from scheduling.services import courses

CHOOSE_PATHWAY = "Choose the pathway."


class CourseEnrolForm(forms.Form):
    pathway = forms.ModelChoiceField(
        queryset=Pathway.objects.none(), error_messages={"required": CHOOSE_PATHWAY, "invalid_choice": CHOOSE_PATHWAY}
    )
    site_region = forms.ChoiceField(label="Region", choices=[("", "—")] + Region.choices, required=False)
    site_side = forms.ChoiceField(label="Side", choices=[("", "—")] + Side.choices, required=False)
    site_levels = forms.CharField(label="Levels", max_length=120, required=False, help_text="e.g. T6-T8 or L4-L5")
    site_target = forms.CharField(label="Joint or nerve", max_length=120, required=False)
    referral = forms.ModelChoiceField(queryset=Referral.objects.none(), required=False, label="From referral")

    def __init__(self, *args, patient, suggested: list[Pathway], **kwargs):
        super().__init__(*args, **kwargs)
        # The suggested pathways first, then the others by name.
        rest = list(Pathway.objects.filter(is_active=True).exclude(pk__in=[p.pk for p in suggested]).order_by("name"))
        self.fields["pathway"].queryset = Pathway.objects.filter(is_active=True)
        self.fields["pathway"].choices = [("", "—")] + [
            (p.pk, f"{p.name} (suggested)") for p in suggested
        ] + [(p.pk, p.name) for p in rest]  # fmt: skip
        self.fields["referral"].queryset = patient.referrals.all()
        self.fields["referral"].label_from_instance = lambda r: f"{r.reference} ({r.received_at:%m/%d/%Y})"

    def site(self) -> dict[str, str]:
        return site_dict(self.cleaned_data)


class CourseDecisionForm(forms.Form):
    ACCEPT, OTHER = "accept", "other"

    decision = forms.ChoiceField(choices=[(ACCEPT, "Accept"), (OTHER, "Choose otherwise")], widget=forms.HiddenInput)
    chosen_step = forms.ChoiceField(label="Instead", required=False)
    reason = forms.CharField(label="Why otherwise", max_length=300, required=False)
    note = forms.CharField(
        label="Note",
        max_length=300,
        required=False,
        help_text="For an action: what it found, e.g. acute fracture confirmed.",
    )
    # Shown for a procedure step only; routine when not given.
    urgency = forms.ChoiceField(
        choices=ProcedureOrder.Urgency.choices, initial=ProcedureOrder.Urgency.ROUTINE, required=False
    )

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = {str(s.pk): s for s in course.pathway.steps.all()}
        self.fields["chosen_step"].choices = (
            [("", "—")] + [(pk, s.label) for pk, s in self.steps.items()] + [(courses.STOP, "Stop this path")]
        )

    def clean_urgency(self) -> str:
        return self.cleaned_data.get("urgency") or ProcedureOrder.Urgency.ROUTINE

    @property
    def accepts(self) -> bool:
        return self.cleaned_data.get("decision") == self.ACCEPT

    def chosen(self) -> PathwayStep | str | None:
        value = self.cleaned_data.get("chosen_step") or ""
        return courses.STOP if value == courses.STOP else self.steps.get(value)


class CourseCloseForm(forms.Form):
    reason = forms.CharField(
        max_length=300, error_messages={"required": courses.CLOSE_NEEDS_REASON}, label="Why close the course"
    )
