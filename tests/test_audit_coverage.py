"""Every URL pattern says whether it renders PHI, and every PHI page writes its audit row.

1. Walk the resolver: a pattern whose view is neither ``phi_page``/``phi_list``/``phi_write``
   nor ``not_phi`` (``clinic.audit``), nor one of Django's own views listed here, fails, so
   a new view is covered the day it is added.
2. GET each PHI page and list, with the real objects of ``tests/test_bad_input_sweep.py``,
   as every role: each 200 writes exactly one row for a page (one insert of one row per
   record shown for a list), with the actor, the client's IP and the path.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.audit import NOT_PHI, PHI_LIST, PHI_PAGE
from clinic.models import AuditEvent, Closure
from scheduling.models import Appointment, ExtraAvailability, TimeOff
from tests.scheduling.conftest import local
from tests.test_bad_input_sweep import SKIPPED_PREFIXES, frozen, seeded  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

# Django's own views (login, logout, password reset and change): no PHI, not this project's code.
DJANGO_VIEWS = {
    "login": "the login form",
    "logout": "ends the session",
    "password_change": "the user's own password",
    "password_change_done": "a confirmation",
    "password_reset": "asks for an e-mail address",
    "password_reset_done": "a confirmation",
    "password_reset_confirm": "sets a new password",
    "password_reset_complete": "a confirmation",
}
AUDIT_TABLE = AuditEvent._meta.db_table
CLIENT_IP = "127.0.0.1"  # the test client's REMOTE_ADDR
UPCOMING_DAY = "2026-12-01"  # the sweep world's upcoming appointment


def project_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, qualified name, view) of every URL pattern the sweep walks."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            child_ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from project_patterns(entry.url_patterns, route, child_ns)
        elif isinstance(entry, URLPattern) and not any(route.startswith(p) for p in SKIPPED_PREFIXES):
            yield route, f"{namespace}{entry.name}", entry.callback


def audit_kind(view) -> str | None:
    return getattr(view, "audit_kind", None)


def test_every_url_pattern_says_whether_it_renders_phi():
    undeclared = [
        f"{name} ({route})"
        for route, name, view in project_patterns()
        if audit_kind(view) is None and name not in DJANGO_VIEWS
    ]
    assert undeclared == [], "mark each with clinic.audit.phi_page, phi_list, phi_write or not_phi(reason)"


def test_views_marked_not_phi_say_why():
    unexplained = [name for _route, name, view in project_patterns() if audit_kind(view) == NOT_PHI
                   and not getattr(view, "audit_reason", "").strip()]  # fmt: skip
    assert unexplained == []


@pytest.fixture
def phi_world(seeded):  # noqa: F811  (the fixture imported above)
    """The sweep's world, plus appointments inside its time off and extra hours and a closure
    on the upcoming appointment's day, so the removal pages have a patient to list."""
    arguments, clients = seeded
    upcoming = Appointment.objects.filter(starts_at__date=dt.date(2026, 12, 1)).first()
    location = upcoming.location
    for starts in (local(location, 2026, 12, 2, 9, 0), local(location, 2026, 12, 4, 9, 0)):
        Appointment.objects.create(
            patient=upcoming.patient, referral=upcoming.referral, procedure_type=upcoming.procedure_type,
            provider=upcoming.provider, room=upcoming.room, location=location, starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=30), blocks_until=starts + dt.timedelta(minutes=45),
        )  # fmt: skip
    closure = Closure.objects.create(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 1), reason="Flood")
    queries = {
        "scheduling:find": f"?referral={upcoming.referral_id}",
        "scheduling:day": f"?location={location.pk}&date={UPCOMING_DAY}",
        "scheduling:week": f"?location={location.pk}&date={UPCOMING_DAY}",
        "scheduling:my_day": f"?date={UPCOMING_DAY}",
        "scheduling:day_sheet": f"?date={UPCOMING_DAY}",
        "scheduling:patients": "?q=Reyes",
        "scheduling:admin_closures": f"?closure={closure.pk}",
        "scheduling:admin_provider": f"?time_off={TimeOff.objects.get().pk}",
        "clinic:messages": "?status=",
        "scheduling:book": (
            f"?patient={upcoming.patient_id}&procedure_type={upcoming.procedure_type_id}&location={location.pk}"
            f"&provider={upcoming.provider_id}&starts_at=2026-12-03T15:00:00%2B00:00"
            f"&offered_at=2026-11-23T15:00:00%2B00:00"
        ),
    }
    arguments["scheduling:admin_extra_delete"] = [{"pk": ExtraAvailability.objects.get().pk}]
    arguments["scheduling:admin_closure_remove"] = [{"pk": closure.pk}]
    return arguments, clients, queries


def phi_urls(arguments, queries):
    """(name, kind, url, the path its rows must show: a link's token cut out) of each PHI GET."""
    for route, name, view in project_patterns():
        if audit_kind(view) not in (PHI_PAGE, PHI_LIST):
            continue
        kwargs = arguments[name][0] if "<" in route else {}
        url = reverse(name, kwargs=kwargs) + queries.get(name, "")
        yield name, audit_kind(view), url, url.replace(kwargs["token"], "…") if "token" in kwargs else url


def get_recorded(client, url):
    """GET ``url``; its response and the audit rows and inserts it wrote."""
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(f'INSERT INTO "{AUDIT_TABLE}"')]
    return response, list(AuditEvent.objects.filter(pk__gt=before)), inserts


def test_each_phi_view_writes_one_audit_row_per_get_with_actor_ip_and_path(phi_world):
    arguments, clients, queries = phi_world
    users = {role: client.session.get("_auth_user_id") for role, client in clients.items()}
    problems, reached = [], set()
    for name, kind, url, path in phi_urls(arguments, queries):
        for role, client in clients.items():
            response, rows, inserts = get_recorded(client, url)
            if response.status_code != 200:
                continue
            reached.add(name)
            actor = int(users[role]) if users[role] else None
            wrong = [r for r in rows if (r.actor_id, r.ip_address, r.path) != (actor, CLIENT_IP, path)]
            records = [(r.object_type, r.object_id) for r in rows]
            if kind == PHI_PAGE and len(rows) != 1:
                problems.append(f"{role} GET {url}: {len(rows)} rows for a page, want 1: {records}")
            elif kind == PHI_LIST and (len(inserts) != 1 or not rows or len(set(records)) != len(records)):
                problems.append(f"{role} GET {url}: {len(inserts)} inserts, rows {records}: want one insert, no repeat")
            elif wrong:
                problems.append(f"{role} GET {url}: rows without this actor, IP or path: {wrong}")
    unreached = {name for name, *_ in phi_urls(arguments, queries)} - reached
    assert problems == []
    assert unreached == set(), "no role got a 200: give these real objects or a query in phi_world"
