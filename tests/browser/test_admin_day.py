"""A clinic admin's day in a real Chromium, with DEBUG off so CSRF behaves as in production:
close a booked day and handle each appointment it hits, reopen it after all, fix a
location's hours after a typing slip, and add then remove a provider's time off."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scheduling.services import booking
from tests.factories import ReferralFactory
from tests.scheduling.conftest import local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_clinic_day(location) -> dt.date:
    """A Tuesday to Thursday far enough ahead for the minimum notice, on the location's clock."""
    day = timezone.localtime(timezone.now(), location.zone).date() + dt.timedelta(days=3)
    while day.weekday() not in (1, 2, 3):
        day += dt.timedelta(days=1)
    return day


def book_first_visit(world, scheduler, day: dt.date, hour: int, first_name: str):
    referral = ReferralFactory(status="accepted", first_visit=world.consult, patient__first_name=first_name,
                               patient__last_name="Closure")  # fmt: skip
    return booking.appointment_book(
        actor=scheduler, patient=referral.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, day.year, day.month, day.day, hour),
        referral=referral,
    )  # fmt: skip


def test_clinic_admin_closes_a_booked_day_handles_it_and_edits_hours_and_time_off(
    page, page_watch, production_like, live_server, login, clinic_admin, scheduler, world
):
    day = next_clinic_day(world.location)
    moved, cancelled, kept = (book_first_visit(world, scheduler, day, hour, name)
                              for hour, name in ((9, "Ada"), (11, "Ben"), (14, "Cy")))  # fmt: skip
    login(clinic_admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic setup")

    # 1. A closure on the booked day lists the three appointments it hits.
    page.get_by_role("link", name="Manage closures and holidays").click()
    page.get_by_label("Start date").fill(day.isoformat())
    page.get_by_label("End date").fill(day.isoformat())
    page.get_by_label("Reason").fill("Ice storm")
    page.get_by_role("button", name="Add closure").click()
    expect(page.get_by_role("alert").filter(has_text="Closure added.")).to_be_visible()
    hit = page.get_by_role("alert").filter(has_text="fall in this time")
    expect(hit).to_contain_text("3 booked appointments fall in this time.")
    for appointment in (moved, cancelled, kept):
        expect(hit).to_contain_text(appointment.patient.full_name)
    closure_url = page.url

    # 2. Reschedule one through its link: the finder offers another day, the move is booked.
    hit.get_by_role("link", name="Reschedule Ada Closure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a slot for Ada Closure")
    expect(page.get_by_text(re.compile("Moving New-patient consultation")).first).to_be_visible()
    # From the day after tomorrow: a slot just past the minimum notice may fall inside it
    # by the time of the click.
    page.get_by_label("From").fill((day - dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Search").click()
    other_day = page.get_by_role("link", name=re.compile(r"Dr\. Priya Patel, Exam 1, Russellville")).first
    other_day.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the move")
    page.get_by_role("button", name="Move appointment").click()
    expect(page.get_by_role("alert")).to_contain_text("Moved: New-patient consultation with Dr. Priya Patel")

    # 3. Cancel one through its link: a blank reason first is refused beside the field.
    page.goto(closure_url)
    expect(page.get_by_role("alert").filter(has_text="fall in this time")).to_contain_text("2 booked appointments")
    page.get_by_role("link", name="Cancel Ben Closure").click()
    page.get_by_label("Reason for cancelling").fill("   ")
    with page_watch.expect(400):  # the refusal answers 400 with the form
        page.get_by_role("button", name="Cancel appointment").click()
        expect(page.locator(".invalid-feedback")).to_have_text("Give a reason for cancelling.")
    page.get_by_label("Reason for cancelling").fill("Ice storm closure")
    page.get_by_role("button", name="Cancel appointment").click()
    expect(page.get_by_role("alert")).to_contain_text("Appointment cancelled; the time is free again.")
    page.goto(closure_url)
    expect(page.get_by_role("alert").filter(has_text="fall")).to_contain_text(
        "1 booked appointment falls in this time."
    )

    # 4. The storm passes: removing the closure shows what it still affects, then reopens the day.
    page.get_by_role("link", name=re.compile(r"^Remove Ice storm")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Remove Ice storm (all locations")
    expect(page.get_by_role("status")).to_contain_text("1 booked appointment falls in it.")
    expect(page.get_by_role("status")).to_contain_text("Cy Closure")
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Ice storm removed: open on those days. The 1 appointment booked in it stays booked."
    )
    expect(page.get_by_role("row").filter(has_text="Ice storm")).to_contain_text("removed")

    # 5. Hours: a backwards range is refused next to Monday's field with the text kept.
    page.goto(f"{live_server.url}/clinic/setup/")
    page.get_by_role("link", name="edit hours").click()
    monday = page.get_by_role("row").filter(has_text="Monday").get_by_label("Ranges")
    monday.fill("12:00-08:30")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_text("12:00-08:30 ends before it starts.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Monday").get_by_label("Ranges")).to_have_value("12:00-08:30")
    page.get_by_role("row").filter(has_text="Monday").get_by_label("Ranges").fill("08:30-12:00, 13:00-16:30")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_role("alert")).to_contain_text("Hours saved for Russellville.")
    expect(page.get_by_role("row").filter(has_text="Monday").get_by_label("Ranges")).to_have_value(
        "08:30-12:00, 13:00-16:30"
    )

    # 6. Time off for the provider, over the appointment that stayed, then removed again.
    page.goto(f"{live_server.url}/clinic/setup/")
    page.get_by_role("link", name=str(world.provider)).click()
    page.get_by_label("Starts at").fill(f"{day.isoformat()}T13:00")
    page.get_by_label("Ends at").fill(f"{day.isoformat()}T17:00")
    page.get_by_label("Reason").fill("Conference")
    page.get_by_role("button", name="Add time off").click()
    expect(page.get_by_role("alert").filter(has_text="Time off added.")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="falls in this time")).to_contain_text("Cy Closure")
    page.get_by_role("link", name=re.compile(r"^Remove time off from")).click()
    expect(page.get_by_role("status")).to_contain_text("1 booked appointment falls in it.")
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Time off removed: {world.provider} is available then again.")
    expect(page.get_by_role("region", name="Time off")).to_contain_text("None planned.")

    kept.refresh_from_db()
    assert kept.status == "booked"
