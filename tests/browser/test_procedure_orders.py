"""A provider orders the next procedure from the chart (a level outside the region first:
refused beside the field, what was typed kept), and a scheduler books it from the
to-schedule queue with patient, procedure and site filled in: in a real Chromium with
production's DEBUG, CSRF and secure-cookie settings."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from scheduling.models import Appointment, ProcedureOrder
from tests.factories import ProcedureTypeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pick_first_free_time(page) -> None:
    days = page.locator("table.slot-grid tbody").filter(has=page.get_by_role("link"))
    days.first.get_by_role("link").first.click()


def test_provider_orders_and_scheduler_books_from_the_queue(
    page, page_watch, production_like, live_server, login, scheduler, provider_user, world
):
    world.provider.user = provider_user
    world.provider.save(update_fields=["user"])
    mbb = ProcedureTypeFactory(
        name="Medial branch block", slug="mbb", kind="diagnostic", duration_minutes=30, turnover_minutes=15,
        locations=[world.location], required_capabilities=[world.fluoro.capabilities.get()], site_required=True,
        max_levels=2,
    )  # fmt: skip
    # The consultation is behind the patient: what comes next comes from an order.
    seen = timezone.now() - dt.timedelta(days=7)
    Appointment.objects.create(
        patient=world.patient, procedure_type=world.consult, provider=world.provider, room=world.exam,
        location=world.location, starts_at=seen, ends_at=seen + dt.timedelta(minutes=45),
        blocks_until=seen + dt.timedelta(minutes=55), status=Appointment.Status.COMPLETED, referral=world.referral,
    )  # fmt: skip

    login(provider_user.email)
    page.goto(f"{live_server.url}/scheduling/patients/{world.patient.pk}/")
    page.get_by_role("link", name="Order a procedure").click()
    page.get_by_label("Procedure").select_option(label="Medial branch block")
    page.get_by_label("Region").select_option("thoracic")
    page.get_by_label("Side").select_option("bilateral")
    levels = page.get_by_label("Levels")
    levels.fill("L4")
    page.get_by_label("Note").fill("Facet pattern on exam; X-ray reviewed.")
    with page_watch.expect(400):
        page.get_by_role("button", name="Order").click()
        expect(page.get_by_text("L4 is not in the thoracic spine: thoracic levels run T1 to T12.")).to_be_visible()
    expect(levels).to_have_value("L4")
    expect(page.get_by_label("Region")).to_have_value("thoracic")
    expect(page.get_by_label("Note")).to_have_value("Facet pattern on exam; X-ray reviewed.")
    assert not ProcedureOrder.objects.exists()
    levels.fill("T6-T8")
    page.get_by_role("button", name="Order").click()
    expect(page.get_by_role("alert")).to_contain_text("It waits in the schedulers' to-schedule queue.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Order: Medial branch block")
    expect(page.get_by_role("main")).to_contain_text("Thoracic T6-T7, T7-T8, bilateral")
    order = ProcedureOrder.objects.get()

    page.context.clear_cookies()
    login(scheduler.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("To schedule")
    page.get_by_role("link", name="Book Medial branch block for Reyes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a slot for Jordan Reyes")
    pick_first_free_time(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the booking")
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("alert")).to_contain_text("Booked: Medial branch block")
    expect(page.get_by_role("main")).to_contain_text("Thoracic T6-T7, T7-T8, bilateral")
    booked = Appointment.objects.get(procedure_type=mbb)
    assert (booked.order, booked.site_levels, booked.site_side) == (order, "T6-T7, T7-T8", "bilateral")
    # Booked, the order has left the queue.
    page.goto(f"{live_server.url}{reverse('scheduling:queue')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("To schedule")
    expect(page.get_by_role("link", name="Book Medial branch block for Reyes")).to_have_count(0)
