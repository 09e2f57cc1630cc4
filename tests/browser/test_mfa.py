"""Two-factor authentication in Chromium, with production's settings: a scheduler sets up an
authenticator app at first login (reading the key off the page, as a person would type it),
logs out, logs in with a code, then with a recovery code; wrong codes are refused and lock
the account like wrong passwords."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from axes.models import AccessAttempt
from django_otp.oath import TOTP
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.real_second_factor]


def code_from_key(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app set up with this key shows (that many 30-second steps on:
    django-otp accepts one step either side, and each step's code only once)."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


def test_enrol_then_code_then_recovery_code_and_wrong_codes_lock(
    page, page_watch, production_like, live_server, login, scheduler, settings
):
    settings.AXES_FAILURE_LIMIT = 3

    # 1. First login: the password, then set-up, before any page of the clinic's work.
    login(scheduler.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.get_by_role("navigation", name="Main navigation")).not_to_contain_text("Scheduling")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code").fill(code_from_key(secret))
    page.get_by_role("button", name="Confirm and continue").click()

    # 2. Ten recovery codes, shown once; then the work.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("button", name="I have saved them").click()
    expect(page).to_have_url(f"{live_server.url}/scheduling/queue/")
    expect(page.get_by_role("heading", level=1)).to_have_text("To schedule")
    log_out(page)

    # 3. Next login: the code page, and the app's code (the next step's: this one was used).
    login(scheduler.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    page.get_by_label("Code").fill(code_from_key(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("To schedule")
    log_out(page)

    # 4. A lost phone: a recovery code instead, spent by using it.
    login(scheduler.email)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("To schedule")
    expect(page.get_by_role("alert")).to_contain_text("You used a recovery code; 9 left")
    log_out(page)

    # 5. Wrong codes (a spent recovery code among them) are refused next to the field and
    #    counted with wrong passwords; at the limit the account is locked and logged out.
    login(scheduler.email)
    for attempt, wrong in enumerate(["123456", codes[0]], start=1):
        page.get_by_label("Code").fill(wrong)
        with page_watch.expect(400):
            page.get_by_role("button", name="Verify").click()
        expect(page.locator(".invalid-feedback")).to_contain_text("code is not right")
        expect(page.get_by_label("Code")).to_have_value(wrong)
        time.sleep(1.1)  # django-otp pauses checks 1 s after a wrong code: this one is looked at
        assert AccessAttempt.objects.get(username=scheduler.email).failures_since_start == attempt
    page.get_by_label("Code").fill("654321")
    with page_watch.expect(settings.AXES_HTTP_RESPONSE_CODE):
        page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many failed log-in attempts")
    page.goto(f"{live_server.url}/scheduling/queue/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/scheduling/queue/")
