"""The clinic's own pages: home (sends each role to its work), clinic setup, health."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import selectors
from clinic.audit import not_phi
from clinic.celery import app as celery_app
from clinic.forms import AuditSearchForm
from clinic.models import AuditEvent
from clinic.roles import Role, role_required, roles_of


@not_phi("sends each person to their first page")
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the work of their first role."""
    if request.user.is_superuser:
        return redirect(Role.CLINIC_ADMIN.spec.landing_url)
    roles = roles_of(request.user)
    if roles:
        return redirect(roles[0].spec.landing_url)
    return render(request, "clinic/no_role.html")


@not_phi("a redirect to a static file")
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Old browsers and bookmarks ask for /favicon.ico whatever the page links: send them to
    the SVG rather than answer 404 into every server log."""
    return redirect(static("img/favicon.svg"), permanent=True)


@not_phi("locations, closures, providers and procedure types: the clinic's set-up")
@role_required(Role.CLINIC_ADMIN)
def setup(request: HttpRequest) -> HttpResponse:
    context = {
        "locations": selectors.location_list_with_hours(),
        "closures": selectors.closure_list_upcoming(),
        "providers": selectors.provider_list_active(),
        "procedure_types": selectors.procedure_type_list(),
    }
    return render(request, "clinic/setup.html", context)


AUDIT_PER_PAGE = 50
# An export is for one question (a patient, a person, a month), not a copy of the log: past
# this many rows it stops, saying so in its last line, and the admin narrows the filters.
AUDIT_EXPORT_MAX_ROWS = 50_000
AUDIT_EXPORT_TRUNCATED = "Stopped after %(count)s rows: narrow the filters to export the rest."
AUDIT_CSV_HEADER = ["when (clinic time)", "when (UTC)", "who", "action", "record type", "record id", "patient id",
                    "ip address", "path", "detail"]  # fmt: skip
# A spreadsheet runs a cell that starts with one of these as a formula; a failed login's
# "who" is whatever a stranger typed.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _audit_filters(request: HttpRequest) -> tuple[AuditSearchForm, dict | None]:
    """The filter form and what it asks for; None when it has errors (nothing is listed)."""
    form = AuditSearchForm(request.GET or None)
    if not form.is_bound:
        return form, {}
    return form, (form.cleaned_data if form.is_valid() else None)


@not_phi("the access log itself: who, record ids and paths, no record's contents")
@role_required(Role.CLINIC_ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who saw, changed or was refused which record: filtered by person, patient, action
    and days; bad filters get a message beside the field and nothing listed (400)."""
    form, filters = _audit_filters(request)
    events = selectors.audit_events(**filters) if filters is not None else AuditEvent.objects.none()
    page = Paginator(events, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "export_query": request.GET.urlencode() if filters is not None else None}
    return render(request, "clinic/audit_log.html", context, status=400 if filters is None else 200)


@not_phi("the access log itself, as CSV")
@never_cache
@role_required(Role.CLINIC_ADMIN)
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered rows as CSV, streamed (a long log is not built in memory), bounded."""
    form, filters = _audit_filters(request)
    if filters is None:
        return render(request, "clinic/audit_log.html", {"form": form, "page": None}, status=400)
    events = selectors.audit_events(**filters)
    response = StreamingHttpResponse(_audit_csv(events), content_type="text/csv; charset=utf-8")
    stamp = f"{timezone.localtime():%Y%m%d-%H%M}"
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


class _Echo:
    """csv.writer writes into this and gets back the line, for streaming."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _audit_csv(events) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(AUDIT_CSV_HEADER)
    for count, event in enumerate(events[: AUDIT_EXPORT_MAX_ROWS + 1].iterator(chunk_size=2000)):
        if count == AUDIT_EXPORT_MAX_ROWS:
            yield writer.writerow([AUDIT_EXPORT_TRUNCATED % {"count": AUDIT_EXPORT_MAX_ROWS}])
            return
        row = [f"{timezone.localtime(event.at):%Y-%m-%d %H:%M:%S %Z}", event.at.isoformat(), event.actor_label,
               event.get_action_display(), event.object_type, event.object_id, event.patient_pk, event.ip_address,
               event.path, event.summary]  # fmt: skip
        yield writer.writerow([_cell(value) for value in row])


@not_phi("database and broker status")
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker status for load balancers and `make run`; 503 if either is down."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the message helps the operator
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            # Opening a channel proves the transport answers (the filesystem one checks
            # its folders here).
            conn.default_channel  # noqa: B018
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"
