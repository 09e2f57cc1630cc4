"""A referring physician sends a referral with a PDF, intake accepts it, the physician
sees it accepted: in a real Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import ProcedureTypeFactory, ReferringPhysicianFactory, ReferringPracticeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_referral_from_portal_to_acceptance(page, live_server, login, referrer, intake, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    practice = ReferringPracticeFactory(name="Riverbend Family Medicine")
    ReferringPhysicianFactory(
        practice=practice, first_name="Lan", last_name="Nguyen", email=referrer.email, user=referrer
    )
    ProcedureTypeFactory(name="New-patient consultation", slug="new-patient-consultation", kind="visit")
    report = tmp_path / "mri-report.pdf"
    report.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    login(referrer.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals from Riverbend Family Medicine")
    page.get_by_role("link", name="New referral").click()
    page.get_by_label("First name").fill("Jordan")
    page.get_by_label("Last name").fill("Reyes")
    page.get_by_label("Date of birth").fill("1961-04-12")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Phone").fill("479-555-0100")
    page.get_by_label("Reason for referral").fill("Deep mid-back pain, worst when turning.")
    page.get_by_label("Diagnoses (ICD-10-CM)").fill("M54.6")
    page.get_by_label("Takes anticoagulants").select_option("none")
    page.get_by_label("Records").set_input_files(str(report))
    page.get_by_role("button", name="Send referral").click()

    expect(page.get_by_role("alert")).to_contain_text("was sent to the clinic")
    expect(page.get_by_role("link", name="mri-report.pdf")).to_be_visible()
    page.get_by_role("link", name="My referrals").click()
    row = page.get_by_role("row", name="Reyes, Jordan")
    expect(row).to_contain_text("Submitted")
    reference = row.get_by_role("link").inner_text()

    page.get_by_role("button", name="Log out").click()
    login(intake.email)
    page.get_by_role("link", name=reference).click()
    page.get_by_label("Book first").select_option(label="New-patient consultation")
    page.get_by_role("button", name="Accept referral").click()
    expect(page.get_by_role("alert")).to_contain_text("Referral accepted")

    page.get_by_role("button", name="Log out").click()
    login(referrer.email)
    expect(page.get_by_role("row", name="Reyes, Jordan")).to_contain_text("Accepted")
