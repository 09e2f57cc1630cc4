"""A scheduler finds a patient by phone, opens the chart, corrects the phone (a mistake
first), sees the change listed and goes on to book another appointment: in a real Chromium,
with production's DEBUG, CSRF and secure-cookie settings."""

import re

import pytest
from playwright.sync_api import expect

from referrals.models import PatientChange

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scheduler_searches_by_phone_edits_the_phone_and_books_another(
    page, page_watch, production_like, live_server, login, scheduler, world
):
    login(scheduler.email)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")

    page.get_by_label("Name, date of birth, record number or phone").fill("(479) 555-0100")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table")).to_contain_text("1 patient found")
    page.get_by_role("link", name="Reyes, Jordan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jordan Reyes")
    expect(page.get_by_role("region", name="Changes")).to_contain_text("No changes recorded.")

    page.get_by_role("link", name="Edit details").click()
    phone = page.get_by_label("Phone")
    phone.fill("479-555")
    page.get_by_label("City").fill("Dover")
    with page_watch.expect(400):  # the refused phone number: the form comes back, 400
        page.get_by_role("button", name="Save details").click()
        expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(page.locator("#error_1_id_phone")).to_contain_text("Enter a valid phone number")  # under the field
    expect(phone).to_have_value("479-555")  # what was typed is kept
    expect(page.get_by_label("City")).to_have_value("Dover")
    assert not PatientChange.objects.exists()

    phone.fill("479-555-0199")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("alert")).to_have_text("Saved: phone, city.")
    changes = page.get_by_role("region", name="Changes")
    expect(changes).to_contain_text(scheduler.email)
    expect(changes).to_contain_text("Phone: +14795550100 → +14795550199")
    expect(changes).to_contain_text("City: — → Dover")

    page.get_by_role("link", name="Book another appointment").click()
    expect(page).to_have_url(re.compile(rf"/scheduling/find/\?patient={world.patient.pk}$"))
