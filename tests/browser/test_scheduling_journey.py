"""A scheduler opens an accepted referral from the queue, finds a slot, books it and sees
it on the day and week calendars: in a real Chromium."""

import re

import pytest
from playwright.sync_api import expect

from scheduling.models import Appointment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scheduler_books_a_referral_and_sees_it_on_the_day_calendar(page, live_server, login, scheduler, world):
    login(scheduler.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("To schedule")
    page.get_by_role("link", name=f"Find a slot for {world.referral.reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a slot for Jordan Reyes")
    page.get_by_role("link", name=re.compile("Dr. Priya Patel, Exam 1, Russellville")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the booking")
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("alert")).to_contain_text("Booked: New-patient consultation with Dr. Priya Patel")

    appointment = Appointment.objects.get()
    day = appointment.local_starts_at.date().isoformat()
    page.goto(f"{live_server.url}/scheduling/day/?location={world.location.pk}&date={day}")
    column = page.get_by_role("region", name="Dr. Priya Patel, MD")
    expect(column).to_contain_text("New-patient consultation")
    expect(column).to_contain_text("Reyes, Jordan")
    expect(column).to_contain_text("Booked")

    page.get_by_role("link", name="Week view").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Russellville: week of")
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=appointment.local_starts_at.strftime("%a %-d %b"), exact=True)
    )
    expect(row).to_contain_text("New-patient consultation")
    expect(row).to_contain_text("Reyes, Jordan")
    row.get_by_role("link", name=re.compile("New-patient consultation")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New-patient consultation")
