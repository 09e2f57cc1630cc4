"""The Content-Security-Policy in the browser: the page watch catches a violation, and the
behaviour moved out of inline handlers (the calendars' location picker) still works."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageWatch
from tests.scheduling.conftest import make_location

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_page_watch_reports_an_inline_style_the_policy_refuses(browser, live_server, production_like):
    page = browser.new_page()
    watch = PageWatch()
    watch.watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert watch.problems == []  # the login page itself is clean
    # What an injected attribute would do: the policy refuses it and the watch says so.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">injected</p>')")
    expect(page.get_by_text("injected")).to_have_css("color", "rgb(33, 37, 41)")  # Bootstrap's body colour
    page.wait_for_timeout(200)  # the violation event is delivered asynchronously
    assert any("CSP violation" in problem and "style-src" in problem for problem in watch.problems), watch.problems
    page.close()


def test_choosing_another_location_shows_its_calendar(
    page, live_server, login, production_like, page_watch, scheduler, world
):
    other = make_location(slug="conway", name="Conway")
    login(scheduler.email)
    page.goto(f"{live_server.url}/scheduling/day/?location={world.location.pk}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Russellville")
    page.get_by_label("Location").select_option(label="Conway")  # no button pressed: script submits
    expect(page.get_by_role("heading", level=1)).to_contain_text("Conway")
    assert f"location={other.pk}" in page.url
