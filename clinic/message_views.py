"""Staff pages of the outgoing-message ledger: the messages needing attention, and resend."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clinic import outbox
from clinic.audit import audit_record
from clinic.models import AuditEvent, OutgoingMessage
from clinic.roles import Role, role_required

MESSAGE_ROLES = (Role.CLINIC_ADMIN, Role.SCHEDULER, Role.INTAKE)
RESENT = "The message to {email} is queued again and goes out within a minute."
NOT_RESENT = "That message is no longer failed (someone resent it already), so nothing changed."


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, initial=OutgoingMessage.Status.FAILED, choices=[("", "Any"), *OutgoingMessage.Status.choices]
    )
    kind = forms.ChoiceField(required=False, choices=[("", "Any")])
    recipient = forms.CharField(required=False, label="Recipient (e-mail)")
    since = forms.DateField(required=False, label="Due from", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="Due until", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Any"), *((kind, kind.replace("_", " ")) for kind in kinds)]


@never_cache
@role_required(*MESSAGE_ROLES)
def message_list(request: HttpRequest) -> HttpResponse:
    """Failed messages by default (last error, recipient, kind, due time), filterable."""
    # Failed unless asked otherwise (a page link carries no status): the page opens on what
    # needs someone; "Any" in the filter sends an empty status and shows the rest.
    data = request.GET.copy()
    data.setdefault("status", OutgoingMessage.Status.FAILED)
    kinds = list(OutgoingMessage.objects.order_by("kind").values_list("kind", flat=True).distinct())
    form = MessageFilterForm(data, kinds=kinds)
    rows = outbox.messages_for_staff(**(form.cleaned_data if form.is_valid() else {"status": "failed"}))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "clinic/messages.html", {"form": form, "page": page, "query": request.GET.urlencode()})


@role_required(*MESSAGE_ROLES)
@require_POST
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutgoingMessage.objects.only("pk", "to_email", "kind"), pk=pk)
    if outbox.message_resend(message_id=message.pk):
        audit_record(request=request, action=AuditEvent.Action.UPDATE, obj=message, summary=f"resend {message.kind}")
        messages.success(request, RESENT.format(email=message.to_email))
    else:
        messages.warning(request, NOT_RESENT)
    # Back to the same filtered list; re-encoded, so only a query string can come back.
    query = QueryDict(request.POST.get("query", "")).urlencode()
    return redirect(reverse("clinic:messages") + (f"?{query}" if query else ""))
