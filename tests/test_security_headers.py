"""Every response's security headers, over every URL pattern from the resolver as every role:
a strict Content-Security-Policy on every HTML page (no 'unsafe-inline', no other origin),
a Permissions-Policy on every response, and ``Cache-Control: no-store`` on every response to a
logged-in user and on every patient-link page. The URLs are filled with the bad-input sweep's
real objects, so a new page is covered the day it is added."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import resolve, reverse

from clinic.middleware import DISABLED_FEATURES
from tests import test_bad_input_sweep as sweep
from tests.test_bad_input_sweep import swept_patterns, urls_for

pytestmark = pytest.mark.django_db

# The sweep's seeded world (one real object per URL argument, a client per role).
frozen = sweep.frozen
seeded = sweep.seeded

# The page policy, directive by directive (the nonce differs per response).
PAGE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],  # plus the response's 'nonce-...' when the page has a <style>
    "img-src": ["'self'", "data:"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# The one response with a policy of its own: a sent e-mail's HTML part, framed by its page.
OWN_POLICY_VIEWS = {"clinic:sent_email_html"}
UNSAFE_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:")


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def policy_problems(response, url_name: str) -> list[str]:
    """What is wrong with one HTML response's Content-Security-Policy, if anything."""
    policy = response.get("Content-Security-Policy")
    if not policy:
        return ["no Content-Security-Policy"]
    parsed = directives(policy)
    problems = [
        f"{name} allows {source}"
        for name, sources in parsed.items()
        for source in sources
        if source in UNSAFE_SOURCES or "://" in source
    ]
    if url_name in OWN_POLICY_VIEWS and response.status_code == 200:
        return problems + ([] if parsed.get("default-src") == ["'none'"] else ["own policy not default-src 'none'"])
    style = parsed.get("style-src", [])
    parsed["style-src"] = [s for s in style if not (s.startswith("'nonce-") and s.endswith("'"))]
    return problems + ([] if parsed == PAGE_POLICY else [f"policy is {policy!r}"])


def header_problems(role: str, url: str, response) -> list[str]:
    url_name = resolve(url.split("?")[0]).view_name
    problems = []
    if response["Content-Type"].startswith("text/html"):
        problems += policy_problems(response, url_name)
    if response.get("Permissions-Policy", "") != ", ".join(f"{f}=()" for f in DISABLED_FEATURES):
        problems.append(f"Permissions-Policy is {response.get('Permissions-Policy')!r}")
    must_not_store = role != "anonymous" or url_name.startswith("patient:")
    if must_not_store and "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {response.get('Cache-Control')!r}")
    return [f"{role} GET {url} ({response.status_code}): {problem}" for problem in problems]


def test_every_page_as_every_role_carries_csp_permissions_policy_and_no_store_when_logged_in(seeded):
    arguments, clients = seeded
    urls = [url for route, name in swept_patterns() for url in urls_for(name, route, arguments)]
    problems, html_pages = [], 0
    for role, client in clients.items():
        for url in urls:
            response = client.get(url)
            html_pages += response["Content-Type"].startswith("text/html")
            problems += header_problems(role, url, response)
    assert html_pages > 300, "the check did not reach the pages"
    assert problems == []


def test_the_closures_page_listing_patients_is_not_stored(seeded):
    arguments, clients = seeded
    closure_pk = arguments["scheduling:admin_closure_toggle"][0]["pk"]
    url = f"{reverse('scheduling:admin_closures')}?closure={closure_pk}"
    response = clients["clinic admin"].get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert header_problems("clinic admin", url, response) == []


def test_a_patient_link_page_is_not_stored_without_a_login(seeded):
    arguments, clients = seeded
    url = reverse("patient:confirm", kwargs=arguments["patient:confirm"][0])
    response = clients["anonymous"].get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_django_admin_carries_the_same_headers(seeded, admin_user):
    _, clients = seeded
    problems = header_problems("anonymous", reverse("admin:login"), clients["anonymous"].get(reverse("admin:login")))
    superuser = Client()
    superuser.force_login(admin_user)
    for name in ("admin:index", "admin:clinic_user_changelist", "admin:clinic_proceduretype_add"):
        problems += header_problems("superuser", reverse(name), superuser.get(reverse(name)))
    assert problems == []


def test_a_page_with_a_style_block_carries_that_responses_nonce(seeded):
    arguments, clients = seeded
    location_pk = arguments["scheduling:admin_hours"][0]["location_pk"]
    week = {"location": location_pk, "date": "2026-12-01"}  # the seeded upcoming appointment's week
    response = clients["scheduler"].get(reverse("scheduling:week"), week)
    html = response.content.decode()
    nonce = next(s for s in directives(response["Content-Security-Policy"])["style-src"] if s.startswith("'nonce-"))
    assert f'<style nonce="{nonce[len("nonce-") + 1 : -1]}">' in html
    assert ".procedure-" in html
