"""The clinic's own pages: home (sends each role to its work), clinic setup, health."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import selectors
from clinic.celery import app as celery_app
from clinic.forms import AuditSearchForm
from clinic.roles import Role, role_required, roles_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the work of their first role."""
    if request.user.is_superuser:
        return redirect(Role.CLINIC_ADMIN.spec.landing_url)
    roles = roles_of(request.user)
    if roles:
        return redirect(roles[0].spec.landing_url)
    return render(request, "clinic/no_role.html")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Old browsers and bookmarks ask for /favicon.ico whatever the page links: send them to
    the SVG rather than answer 404 into every server log."""
    return redirect(static("img/favicon.svg"), permanent=True)


@role_required(Role.CLINIC_ADMIN)
def setup(request: HttpRequest) -> HttpResponse:
    context = {
        "locations": selectors.location_list_with_hours(),
        "closures": selectors.closure_list_upcoming(),
        "providers": selectors.provider_list_active(),
        "procedure_types": selectors.procedure_type_list(),
    }
    return render(request, "clinic/setup.html", context)


@role_required(Role.CLINIC_ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who saw or changed which record: searchable by person, record, action and dates."""
    form = AuditSearchForm(request.GET or None)
    events = selectors.audit_events(**(form.cleaned_data if form.is_valid() else {}))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "clinic/audit_log.html", {"form": form, "page": page})


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
