"""A real browser: the lockout after repeated failures in any spelling (issue 10 item 1), and
a forgotten password reset from the e-mail the ledger sent (item 8)."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings
from playwright.sync_api import expect

from clinic import outbox
from clinic.models import OutgoingMessage
from clinic.password_reset import password_reset_requests_process

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _spellings(email: str):
    local, domain = email.split("@")
    return itertools.cycle([email.upper(), f"{local.capitalize()}@{domain.title()}", f"{local}@{domain.upper()}"])


def test_failed_logins_in_mixed_case_end_on_the_lockout_page_and_the_password_is_refused(
    page, page_watch, live_server, production_like, login, scheduler
):
    spellings = _spellings(scheduler.email)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(next(spellings), password="not-the-password")
        expect(page.get_by_role("alert")).to_contain_text("correct e-mail address and password")
    with page_watch.expect(429):
        login(next(spellings), password="not-the-password")
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many failed log-in attempts")
    expect(page.get_by_role("link", name="Reset your password")).to_be_visible()

    with page_watch.expect(429):
        login(next(spellings))  # the real password, another spelling
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many failed log-in attempts")
    page.goto(f"{live_server.url}/scheduling/queue/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/scheduling/queue/")


def test_a_forgotten_password_is_reset_from_the_emailed_link_and_the_new_one_logs_in(
    page, page_watch, live_server, production_like, login, referrer, scheduler, settings
):
    settings.EMAIL_HOST = ""  # mail goes to files: staff can read it on "Sent e-mails"
    settings.SITE_URL = live_server.url
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("Email").fill("Dr.Nguyen@Riverbend.example")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")

    # What beat and the worker do next: owe the e-mail in the ledger, then send it.
    assert password_reset_requests_process() == 1
    message = OutgoingMessage.objects.get(kind="password_reset")
    outbox.messages_deliver(message_ids=[message.pk])

    # A scheduler reads it on "Sent e-mails" (the demo's mailbox), then logs out.
    login(scheduler.email)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Sent e-mails").click()
    page.get_by_role("link", name=message.subject).click()
    expect(page.get_by_text(referrer.email).first).to_be_visible()
    html_part = page.frame_locator('iframe[title="HTML part of the e-mail"]')
    link = html_part.get_by_role("link", name="Choose a new password").get_attribute("href")
    page.get_by_role("button", name="Log out").click()

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.get_by_label("New password", exact=False).first.fill("Riverbend-knee-2026")  # then its confirmation
    page.get_by_label("New password confirmation").fill("Riverbend-knee-2026")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is set")
    page.get_by_role("link", name="Log in").click()
    login(referrer.email, password="Riverbend-knee-2026")
    expect(page).to_have_url(f"{live_server.url}/referrals/portal/")
