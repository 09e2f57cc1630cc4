"""A real browser: the public access-request form thanks every asker alike and, past its
limit, says so on the form with everything typed kept (issue 10 item 8)."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from referrals.models import PortalAccessRequest
from referrals.portal_services import ACCESS_REQUESTS_PER_ADDRESS, TOO_MANY_ACCESS_REQUESTS
from referrals.views.portal import ACCESS_REQUESTED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ask(page, live_server, email: str, practice: str = "Park Clinic") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Request portal access").click()
    page.get_by_label("First name").fill("Lee")
    page.get_by_label("Last name").fill("Park")
    page.get_by_label("Email").fill(email)
    page.get_by_label("NPI").fill("1234567893")
    page.get_by_label("Practice name").fill(practice)
    page.get_by_label("Practice phone").fill("479-555-0199")
    page.get_by_role("button", name="Send request").click()


def test_repeated_requests_get_the_same_thanks_then_a_clear_limit(page, page_watch, live_server, production_like):
    spellings = itertools.cycle(["lee@park.example", "Lee@Park.example", "LEE@park.example"])
    for spelling in itertools.islice(spellings, ACCESS_REQUESTS_PER_ADDRESS.count):
        _ask(page, live_server, spelling)
        expect(page).to_have_url(f"{live_server.url}/accounts/login/")
        expect(page.get_by_text(ACCESS_REQUESTED)).to_be_visible()  # never "already waiting"
    assert PortalAccessRequest.objects.count() == 1

    with page_watch.expect(429):
        _ask(page, live_server, "lee@park.example", practice="Park Clinic West")
    expect(page.get_by_role("alert").filter(has_text=TOO_MANY_ACCESS_REQUESTS)).to_be_visible()
    expect(page.get_by_label("Practice name")).to_have_value("Park Clinic West")
