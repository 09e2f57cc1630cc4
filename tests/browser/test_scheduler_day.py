"""The scheduler's day in a real Chromium: book the consultation from the queue, then, for
the same patient, an epidural through the finder opened with ?patient= and a medial branch
block through the finder's patient picker; move one (the provider stays chosen) and cancel
one with a reason. Each step asserts on what the scheduler sees, and no page answers an
unexpected 4xx/5xx or logs a console error."""

import re

import pytest
from playwright.sync_api import Page, expect

from scheduling.models import Appointment
from tests.factories import ProcedureOrderFactory, ProcedureTypeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pick_first_time_on_day(page: Page, day_index: int) -> str:
    """Click the first free time of the day_index-th day with free times in the grid (or of
    the last such day, if there are fewer); return its accessible name. Days without any (a
    by-appointment Friday, today after hours) are skipped, so the test passes whatever the
    hour it runs at."""
    days = page.locator("table.slot-grid tbody").filter(has=page.get_by_role("link"))
    days.first.wait_for()
    # Run late in the day, the minimum notice leaves fewer days in a week: then the last one.
    chip = days.nth(min(day_index, days.count() - 1)).get_by_role("link").first
    name = chip.get_attribute("aria-label")
    chip.click()
    return name


def when_of(chip_name: str) -> str:
    """'9:00 AM CST, Wednesday 2 December 2026, Dr. ...' -> 'Wednesday 2 December 2026 at 9:00 AM'."""
    time, day = chip_name.split(", ")[:2]
    return f"{day} at {time.rsplit(' ', 1)[0]}"


def test_the_schedulers_day(page, page_watch, live_server, login, scheduler, world, production_like):
    fluoroscopy = world.fluoro.capabilities.get()
    mbb = ProcedureTypeFactory(
        name="Medial branch block", slug="mbb", duration_minutes=30, turnover_minutes=15,
        locations=[world.location], required_capabilities=[fluoroscopy],
    )  # fmt: skip
    # The provider ordered both procedures at the consultation: each is booked from its order,
    # which the finder finds once the patient and the procedure are chosen.
    ProcedureOrderFactory(patient=world.patient, procedure_type=world.epidural)
    ProcedureOrderFactory(patient=world.patient, procedure_type=mbb)
    world.referral.notes = "Mornings preferred."
    world.referral.requested_procedure = world.epidural
    world.referral.save()
    patient = world.patient

    # 1. The consultation, from the queue.
    login(scheduler.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("To schedule")
    page.get_by_role("link", name=f"Find a slot for {world.referral.reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a slot for Jordan Reyes")
    context = page.get_by_role("complementary", name="Patient and referral")
    expect(context).to_contain_text(patient.record_number)
    expect(context).to_contain_text("Mornings preferred.")
    expect(context).to_contain_text("Epidural steroid injection")
    consult_at = pick_first_time_on_day(page, 0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the booking")
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Booked: New-patient consultation with {world.provider} on {when_of(consult_at)}"
    )

    # 2. The epidural the consultation decided on: the finder opened for the patient.
    page.goto(f"{live_server.url}/scheduling/find/?patient={patient.pk}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a slot for Jordan Reyes")
    page.get_by_label("Procedure").select_option(label="Epidural steroid injection")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#finder-problem")).to_have_count(0)
    epidural_at = pick_first_time_on_day(page, 1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the booking")
    expect(page.get_by_role("main")).to_contain_text("Jordan Reyes")
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Booked: Epidural steroid injection with {world.provider} on {when_of(epidural_at)}"
    )

    # 3. The medial branch block: the patient found with the picker, a week of one provider.
    page.goto(f"{live_server.url}/scheduling/find/")
    expect(page.get_by_role("alert")).to_contain_text("Pick the patient first")
    page.get_by_role("textbox", name=re.compile("Patient's name or record number")).fill("reyes")
    page.get_by_role("button", name="Find patient").click()
    page.get_by_role("link", name="Jordan Reyes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a slot for Jordan Reyes")
    page.get_by_label("Procedure").select_option(label="Medial branch block")
    page.get_by_label("Provider").select_option(label=str(world.provider))
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.slot-grid caption")).to_contain_text("Dr. Priya Patel: 7 days from")
    # A week of one provider fits a 1024x768 tablet without sideways scrolling.
    page.set_viewport_size({"width": 1024, "height": 768})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    mbb_at = pick_first_time_on_day(page, 2)
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Booked: Medial branch block with {world.provider} on {when_of(mbb_at)}"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Medial branch block")

    # 4. Move the medial branch block from its page: the provider stays chosen.
    page.get_by_role("link", name="Reschedule").click()
    expect(page.get_by_text(re.compile(r"^Moving Medial branch block from"))).to_be_visible()
    expect(page.get_by_label("Provider")).to_have_value(str(world.provider.pk))
    page.get_by_role("link", name="Next 7 days").click()
    expect(page.get_by_label("Provider")).to_have_value(str(world.provider.pk))
    moved_at = pick_first_time_on_day(page, 0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the move")
    page.get_by_role("button", name="Move appointment").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Moved: Medial branch block with {world.provider} on {when_of(moved_at)}"
    )

    # 5. Cancel the epidural with a reason.
    epidural = Appointment.objects.get(procedure_type=world.epidural)
    page.goto(f"{live_server.url}{epidural.get_absolute_url()}")
    page.get_by_label("Reason for cancelling").fill("Patient wants to wait until after the holidays")
    page.get_by_role("button", name="Cancel appointment").click()
    expect(page.get_by_role("alert")).to_contain_text("Appointment cancelled; the time is free again.")
    expect(page.get_by_role("main")).to_contain_text("Patient wants to wait until after the holidays")

    statuses = dict(Appointment.objects.values_list("procedure_type__slug", "status"))
    assert statuses == {"consult": "booked", "epidural": "cancelled", mbb.slug: "booked"}
    assert Appointment.objects.get(procedure_type=mbb).provider == world.provider
    page_watch.check()  # no 4xx/5xx nor console error on any page of the day
