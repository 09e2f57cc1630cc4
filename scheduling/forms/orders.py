"""Procedure orders: a provider's order (type, site, urgency, note) and its cancellation.

The site is checked by ``scheduling.services.orders.order_create`` (``conditions.sites``);
its messages are put back next to their fields by the view."""

from __future__ import annotations

from django import forms

from clinic.models import ProcedureType
from conditions.sites import Region, Side, site_dict
from scheduling.models import ProcedureOrder
from scheduling.services.orders import CANCEL_NEEDS_REASON

REASON_TOO_LONG = "Keep it to %(limit_value)d characters (it has %(show_value)d)."


class OrderForm(forms.Form):
    procedure_type = forms.ModelChoiceField(
        queryset=ProcedureType.objects.filter(is_active=True).exclude(kind=ProcedureType.Kind.VISIT), label="Procedure"
    )
    site_region = forms.ChoiceField(choices=[("", "—")] + Region.choices, required=False, label="Region")
    site_side = forms.ChoiceField(choices=[("", "—")] + Side.choices, required=False, label="Side")
    site_levels = forms.CharField(
        max_length=120, required=False, label="Levels", help_text="e.g. T6-T7, T7-T8 or L5-S1"
    )
    site_target = forms.CharField(
        max_length=120, required=False, label="Joint or nerve", help_text="For peripheral procedures, e.g. left knee."
    )
    urgency = forms.ChoiceField(choices=ProcedureOrder.Urgency.choices, initial=ProcedureOrder.Urgency.ROUTINE)
    note = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def site(self) -> dict[str, str]:
        return site_dict(self.cleaned_data)


class OrderCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300, label="Reason for cancelling the order",
        error_messages={"required": CANCEL_NEEDS_REASON, "max_length": REASON_TOO_LONG},
    )  # fmt: skip
