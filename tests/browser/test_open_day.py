"""A scheduler opens a by-appointment Friday for a provider from the day calendar, in a real
Chromium: a refusal keeps what was typed, then the day shows who opened it."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from clinic import localtime
from scheduling.models import ExtraAvailability

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_friday(world) -> dt.date:
    today = localtime.today(world.location.zone)
    return today + dt.timedelta(days=(4 - today.weekday()) % 7 or 7)


def test_scheduler_opens_a_by_appointment_friday_from_the_day_calendar(
    page, page_watch, production_like, live_server, login, scheduler, world
):
    friday = next_friday(world)
    login(scheduler.email)
    page.goto(f"{live_server.url}/scheduling/day/?location={world.location.pk}&date={friday:%Y-%m-%d}")
    expect(page.get_by_role("status").first).to_contain_text("No provider has opened it.")
    page.get_by_role("link", name="Open this day for Dr. Priya Patel").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("for Dr. Priya Patel")
    page.get_by_label("Starts").fill("09:00")
    page.get_by_label("Ends").fill("12:30")
    page.get_by_role("button", name="Open this day").click()
    expect(page.get_by_text("Say why the day is opened (for example, an extra procedure list).")).to_be_visible()
    expect(page.get_by_label("Ends")).to_have_value("12:30")
    assert not ExtraAvailability.objects.exists()
    page.get_by_label("Reason").fill("Extra epidural list")
    page.get_by_role("button", name="Open this day").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{friday:{localtime.DAY_FORMAT}} opened for Dr. Priya Patel")
    expect(page.get_by_role("status").first).to_contain_text(
        "Opened by Dr. Priya Patel, 9:00 AM–12:30 PM (Extra epidural list)"
    )
    assert ExtraAvailability.objects.get().created_by == scheduler
