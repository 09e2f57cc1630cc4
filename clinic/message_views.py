"""Staff pages of the outgoing-message ledger: the messages needing attention, and resend;
where mail goes to files (the embedded default), the sent e-mails, each readable rendered."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import wraps
from html.parser import HTMLParser

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from clinic import outbox
from clinic.audit import audit_record, audit_record_many, phi_list, phi_page, phi_write
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


@phi_list
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
    audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=list(page), summary="messages")
    return render(request, "clinic/messages.html", {"form": form, "page": page, "query": request.GET.urlencode()})


@phi_write
@role_required(*MESSAGE_ROLES)
@require_POST
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutgoingMessage.objects.only("pk", "to_email", "kind"), pk=pk)
    if outbox.message_resend(message_id=message.pk, actor=request.user):
        messages.success(request, RESENT.format(email=message.to_email))
    else:
        messages.warning(request, NOT_RESENT)
    # Back to the same filtered list; re-encoded, so only a query string can come back.
    query = QueryDict(request.POST.get("query", "")).urlencode()
    return redirect(reverse("clinic:messages") + (f"?{query}" if query else ""))


# --- sent e-mails (mail written to files: the demo, a laptop) ---------------------------------

# The HTML part is the e-mail's own markup, shown in an iframe of the detail page. Its own
# response, not srcdoc, so it carries its own policy: no scripts, nothing fetched, no forms,
# and (sandbox) an opaque origin that cannot reach the staff page. Links open in a new tab
# (the injected <base target="_blank">, allow-popups), unsandboxed
# (allow-popups-to-escape-sandbox) so a patient page opened from it works.
# E-mails carry inline styles (mail clients need them). Rather than 'unsafe-inline', the
# policy lists the hash of each style this one e-mail has (html_part_policy): exactly the
# styles the clinic rendered apply, and any other is refused.
HTML_PART_SANDBOX = "allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
HTML_PART_POLICY = (
    "sandbox {sandbox}; default-src 'none'; style-src {styles}; img-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
NEW_TAB_BASE = '<base target="_blank">'
_HEAD_TAG = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


def _mail_to_files_only(view: Callable) -> Callable:
    """404 unless mail goes to files: with real SMTP the mailboxes are the record."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not outbox.mail_goes_to_files():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


@phi_list
@_mail_to_files_only
@role_required(*MESSAGE_ROLES)
@require_GET
def sent_email_list(request: HttpRequest) -> HttpResponse:
    """Every sent e-mail, last sent first: recipient, subject, kind, when."""
    page = Paginator(outbox.messages_sent(), 50).get_page(request.GET.get("page"))
    audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=list(page), summary="sent e-mails")
    return render(request, "clinic/sent_emails.html", {"page": page})


@phi_page
@_mail_to_files_only
@role_required(*MESSAGE_ROLES)
@require_GET
def sent_email_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One sent e-mail: its headers, the text part (links clickable) and the HTML part framed."""
    message = get_object_or_404(OutgoingMessage, pk=pk, status=OutgoingMessage.Status.SENT)
    audit_record(request=request, action=AuditEvent.Action.VIEW, obj=message, summary=f"sent e-mail {message.kind}")
    context = {
        "message": message,
        "from_email": settings.DEFAULT_FROM_EMAIL,
        "message_id": outbox.message_id_header(message),
        "html_part_sandbox": HTML_PART_SANDBOX,
    }
    return render(request, "clinic/sent_email.html", context)


@phi_page
@_mail_to_files_only
@xframe_options_sameorigin
@role_required(*MESSAGE_ROLES)
@require_GET
def sent_email_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML part alone, for the detail page's sandboxed iframe."""
    message = get_object_or_404(
        OutgoingMessage.objects.only("pk", "kind", "body_html"), pk=pk, status=OutgoingMessage.Status.SENT
    )
    summary = f"sent e-mail {message.kind} (HTML part)"
    audit_record(request=request, action=AuditEvent.Action.VIEW, obj=message, summary=summary)
    response = HttpResponse(with_links_in_new_tab(message.body_html), content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = html_part_policy(message.body_html)
    return response


class _InlineStyles(HTMLParser):
    """The inline styles of an HTML document: each style="" value and each <style> body."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.styles.extend(value for name, value in attrs if name == "style" and value is not None)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def html_part_policy(html: str) -> str:
    """The HTML part's CSP: its own inline styles admitted by hash, nothing else.

    A style attribute matches a hash only with 'unsafe-hashes' (CSP level 3), which admits
    exactly those hashed values, never any other inline style; a <style> body matches as is."""
    parser = _InlineStyles()
    parser.feed(html)
    parser.close()
    hashes = sorted({_csp_hash(style) for style in parser.styles})
    styles = " ".join(["'unsafe-hashes'", *hashes]) if hashes else "'none'"
    return HTML_PART_POLICY.format(sandbox=HTML_PART_SANDBOX, styles=styles)


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def with_links_in_new_tab(html: str) -> str:
    """The e-mail's HTML with a <base target="_blank"> first in its head (or first at all): a
    link followed inside the frame would load a page that refuses to be framed."""
    match = _HEAD_TAG.search(html)
    if match is None:
        return NEW_TAB_BASE + html
    return html[: match.end()] + NEW_TAB_BASE + html[match.end() :]
