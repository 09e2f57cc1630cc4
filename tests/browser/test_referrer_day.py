"""A referring physician's day in Chromium, with production's cookie and CSRF settings:
send a referral with loosely typed codes and a PDF, fix a mistake without attaching the
file again, answer the clinic's request for information, see the outcome."""

import pytest
from playwright.sync_api import expect

from clinic.models import OutgoingMessage
from referrals import services
from referrals.models import Referral
from tests.factories import ProcedureTypeFactory, ReferringPhysicianFactory, ReferringPracticeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REQUEST = "Please send the lumbar MRI report and say which levels hurt most."


@pytest.fixture
def clinic(referrer, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    practice = ReferringPracticeFactory(name="Riverbend Family Medicine")
    ReferringPhysicianFactory(
        practice=practice, first_name="Lan", last_name="Nguyen", email=referrer.email, user=referrer
    )
    return ProcedureTypeFactory(name="New-patient consultation", slug="new-patient-consultation", kind="visit")


def fill_patient(page) -> None:
    page.get_by_label("First name").fill("Jordan")
    page.get_by_label("Last name").fill("Reyes")
    page.get_by_label("Date of birth").fill("1961-04-12")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Phone").fill("479-555-0100")


def test_referrer_day(page, page_watch, production_like, live_server, login, referrer, intake, clinic, tmp_path):
    report = tmp_path / "mri-report.pdf"
    report.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    # 1. A new referral: codes typed loosely, a PDF, but no reason and no anticoagulant answer.
    login(referrer.email)
    page.get_by_role("link", name="New referral").click()
    expect(page.get_by_label("Sex")).to_have_value("")
    expect(page.get_by_label("Takes anticoagulants")).to_have_value("")
    fill_patient(page)
    page.get_by_label("Diagnoses (ICD-10-CM)").fill("m5416, G89.29 ")
    page.get_by_label("Records").set_input_files(str(report))
    page.get_by_role("button", name="Send referral").click()

    # 2. The summary names both mistakes, links to the fields, and the PDF is still attached.
    summary = page.locator("#error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text("Reason for referral: This field is required.")
    expect(summary).to_contain_text("Say whether the patient takes anticoagulants")
    expect(page.get_by_text("Attached: mri-report.pdf")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Jordan")
    expect(page.get_by_label("Diagnoses (ICD-10-CM)")).to_have_value("m5416, G89.29 ")
    summary.get_by_role("link", name="Reason for referral").click()
    expect(page).to_have_url(f"{live_server.url}/referrals/portal/new/#id_reason")
    page.get_by_label("Reason for referral").fill("Low back pain into the left leg for 4 months.")
    page.get_by_label("Takes anticoagulants").select_option("none")
    page.get_by_role("button", name="Send referral").click()  # the file is not attached again

    expect(page.get_by_role("alert")).to_contain_text("was sent to the clinic")
    expect(page.get_by_role("link", name="mri-report.pdf")).to_be_visible()
    expect(page.get_by_text("M54.16")).to_be_visible()
    expect(page.get_by_text("G89.29")).to_be_visible()
    referral = Referral.objects.get()
    assert referral.attachments.count() == 1

    # 3. Intake asks for more information (intake's own journey drives that page).
    services.referral_request_information(referral=referral, actor=intake, request_text=REQUEST)
    page.get_by_role("link", name="My referrals").click()
    row = page.get_by_role("row", name="Reyes, Jordan")
    expect(row).to_contain_text("Needs information")
    row.get_by_role("link", name=referral.reference).click()
    page.get_by_role("link", name="Answer the request").click()
    expect(page.get_by_text(REQUEST)).to_be_visible()
    page.get_by_label("Your answer").fill("L4-L5 on the left; the MRI report is attached to the referral.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("alert")).to_contain_text("Your answer was sent")
    expect(page.get_by_text("L4-L5 on the left")).to_be_visible()

    # 4. Intake accepts; the physician sees it, and the letter is in the outgoing ledger.
    services.referral_accept(referral=referral, actor=intake, first_visit=clinic)
    page.get_by_role("link", name="My referrals").click()
    expect(page.get_by_role("row", name="Reyes, Jordan")).to_contain_text("Accepted")
    page.get_by_role("link", name=referral.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {referral.reference}")
    expect(page.get_by_text("Accepted").first).to_be_visible()
    letter = OutgoingMessage.objects.get(kind="referral_accepted")
    assert letter.to_email == referrer.email
    assert letter.subject == f"Referral {referral.reference}: accepted"
    assert "We have accepted your referral" in letter.body_text
    assert "new-patient consultation" in letter.body_text
    assert set(OutgoingMessage.objects.values_list("kind", flat=True)) == {
        "referral_submitted", "referral_needs_information", "referral_under_review", "referral_accepted",
    }  # fmt: skip
