"""A provider's day in a real Chromium: my day, check a patient in, complete with an outcome
summary (the status and the planned follow-up show), then the printable day sheet."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic import localtime
from referrals.models import Referral
from scheduling.models import Appointment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def today_at(world, moment: dt.datetime) -> dt.datetime:
    """``moment`` kept on today's date in the location's zone (near midnight, the day's edge)."""
    start, end = localtime.day_bounds(localtime.today(world.location.zone), world.location.zone)
    return min(max(moment, start), end - dt.timedelta(hours=1))


def place(world, starts_at: dt.datetime, *, procedure, room, referral=None) -> Appointment:
    """An appointment placed directly on today (booking refuses times inside the notice)."""
    minutes = procedure.duration_minutes
    return Appointment.objects.create(
        patient=world.patient, referral=referral, procedure_type=procedure, provider=world.provider, room=room,
        location=world.location, starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=minutes),
        blocks_until=starts_at + dt.timedelta(minutes=minutes + procedure.turnover_minutes),
    )  # fmt: skip


@pytest.fixture
def provider_day(world, provider_user):
    world.provider.user = provider_user
    world.provider.save(update_fields=["user"])
    epidural = world.epidural
    epidural.preparation = "Stop blood thinners as agreed with your doctor.\nBring your medication list."
    epidural.driver = "required"
    epidural.save(update_fields=["preparation", "driver"])
    epidural.follow_up_checks.create(after=2, unit="days", purpose="pain diary")
    Referral.objects.filter(pk=world.referral.pk).update(status=Referral.Status.SCHEDULED)
    now = timezone.now()
    started = place(world, today_at(world, now - dt.timedelta(minutes=20)), procedure=epidural, room=world.fluoro,
                    referral=world.referral)  # fmt: skip
    later = place(world, today_at(world, now + dt.timedelta(hours=3)), procedure=world.consult, room=world.exam)
    return started, later


def test_provider_checks_in_completes_and_prints_the_day_sheet(
    page, page_watch, production_like, live_server, login, provider_user, world, provider_day
):
    started, later = provider_day
    login(provider_user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("My day")
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="Epidural steroid injection")).to_contain_text("Jordan Reyes")
    expect(rows.filter(has_text="New-patient consultation")).to_contain_text("Booked")

    start_label = f"{started.local_starts_at:{localtime.TIME_FORMAT}}"
    page.get_by_role("link", name=start_label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Epidural steroid injection")
    page.get_by_label("Status").select_option(label="Checked in")
    page.get_by_role("button", name="Save status").click()
    expect(page.get_by_role("alert")).to_contain_text("Appointment is now checked in.")
    page.get_by_label("Status").select_option(label="Completed")
    page.get_by_label("Outcome summary (for the referring physician)").fill("L4-5 epidural, tolerated well.")
    page.get_by_role("button", name="Save status").click()
    expect(page.get_by_role("alert")).to_contain_text("Appointment is now completed.")
    expect(page.locator(".badge")).to_have_text("Completed")
    expect(page.get_by_role("heading", name="Follow-up checks")).to_be_visible()
    follow_up = started.follow_ups.get()
    due = localtime.local(follow_up.due_at, world.location.zone)
    expect(page.get_by_text(f"Due {due:%-d %b %Y}")).to_be_visible()

    page.goto(f"{live_server.url}/scheduling/my-day/")
    page.get_by_role("link", name="Print day sheet").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Day sheet: Dr. Priya Patel")
    sheet = page.get_by_role("table")
    epidural_row = sheet.get_by_role("row").filter(has_text="Epidural steroid injection")
    expected = (
        "Jordan Reyes", f"{world.patient.date_of_birth:%-d %b %Y}", world.patient.record_number,
        "Fluoro suite, Russellville", "An adult must drive you home afterwards.",
        "Stop blood thinners as agreed with your doctor.", "Bring your medication list.", "Completed",
    )  # fmt: skip
    for text in expected:
        expect(epidural_row).to_contain_text(text)
    expect(sheet.get_by_role("row").filter(has_text="New-patient consultation")).to_contain_text("Booked")
    expect(sheet).to_contain_text(f"{later.local_starts_at:{localtime.TIME_FORMAT}}")
    controls = page.get_by_role("navigation", name="Day sheet controls")
    expect(controls).to_be_visible()
    page.emulate_media(media="print")
    expect(controls).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main navigation")).to_be_hidden()
    expect(sheet).to_be_visible()
