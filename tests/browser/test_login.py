"""A real browser: each role logs in and lands on its own work."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scheduler_logs_in_and_lands_on_the_scheduling_queue(page, live_server, login, scheduler):
    login(scheduler.email)
    expect(page).to_have_url(f"{live_server.url}/scheduling/queue/")
    expect(page.get_by_role("heading", level=1)).to_have_text("To schedule")
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text("Scheduling")


def test_wrong_password_keeps_the_email_and_says_why(page, live_server, login, referrer):
    login(referrer.email, password="not-the-password")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("alert")).to_contain_text("correct e-mail address and password")
    expect(page.get_by_label("E-mail address")).to_have_value(referrer.email)


def test_logout_ends_the_session(page, live_server, login, clinic_admin):
    login(clinic_admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic setup")
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{live_server.url}/clinic/setup/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/clinic/setup/")
