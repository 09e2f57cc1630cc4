"""Intake's day in Chromium, with production's cookie and CSRF settings: the triage queue,
reviewing a referral, asking the referrer for information (who answers in their own
browser), accepting."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import OutgoingMessage
from referrals import services
from referrals.models import Referral
from tests.factories import (
    PatientFactory,
    ProcedureTypeFactory,
    ReferralFactory,
    ReferringPhysicianFactory,
    ReferringPracticeFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REQUEST = "Please send the lumbar MRI report."


@pytest.fixture
def waiting(referrer, tmp_path, settings):
    """Two referrals waiting: a routine one from the portal, older, and an urgent fax."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    ProcedureTypeFactory(name="New-patient consultation", slug="new-patient-consultation", kind="visit")
    practice = ReferringPracticeFactory(name="Riverbend Family Medicine")
    physician = ReferringPhysicianFactory(
        practice=practice, first_name="Lan", last_name="Nguyen", email=referrer.email, user=referrer
    )
    other = ReferringPhysicianFactory(practice=ReferringPracticeFactory(name="Hillside Orthopedics"))
    now = timezone.now()
    routine, _ = services.referral_create(
        actor=referrer, physician=physician, source=Referral.Source.PORTAL, received_at=now - dt.timedelta(hours=5),
        fields={"reason": "Low back pain into the left leg.", "urgency": "routine", "anticoagulant": "none"},
        patient_fields={"first_name": "Jordan", "last_name": "Reyes", "date_of_birth": dt.date(1961, 4, 12),
                        "sex": "female"},
        diagnosis_codes=["M54.16", "G89.29"],
    )  # fmt: skip
    urgent = ReferralFactory(
        referring_physician=other, urgency="urgent", patient=PatientFactory(first_name="Sam", last_name="Okoro"),
        received_at=now - dt.timedelta(hours=1), review_due_at=now + dt.timedelta(days=1),
    )  # fmt: skip
    return routine, urgent


def test_intake_day(page, page_watch, production_like, live_server, login, browser, intake, referrer, waiting):
    routine, urgent = waiting

    # 1. The queue: urgent first, then the oldest; a filter by practice.
    login(intake.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Triage")
    rows = page.get_by_role("row").filter(has=page.get_by_role("link"))
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Okoro, Sam")
    expect(rows.nth(0)).to_contain_text("Urgent")
    expect(rows.nth(1)).to_contain_text("Reyes, Jordan")
    page.get_by_label("Practice").select_option(label="Riverbend Family Medicine")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Reyes, Jordan")

    # 2. Review it: the referral as sent, then start the review.
    rows.nth(0).get_by_role("link", name=routine.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {routine.reference}")
    expect(page.get_by_text("M54.16")).to_be_visible()
    expect(page.get_by_text("Low back pain into the left leg.")).to_be_visible()
    page.get_by_role("button", name="Start review").click()
    expect(page.get_by_role("alert")).to_contain_text("Review started.")

    # 3. Ask for information: an empty request is refused next to the field, then sent.
    with page_watch.expect(400):
        page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    page.get_by_label("What is needed").fill(REQUEST)
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert")).to_contain_text("The request was sent to the referring physician.")
    expect(page.get_by_text("Needs information").first).to_be_visible()

    # 4. The referring physician answers, in their own browser.
    their_context = browser.new_context()
    theirs = their_context.new_page()
    page_watch.watch(theirs)
    theirs.goto(f"{live_server.url}/accounts/login/")
    theirs.get_by_label("E-mail address").fill(referrer.email)
    theirs.get_by_label("Password").fill("correct-horse-battery")
    theirs.get_by_role("button", name="Log in").click()
    theirs.get_by_role("link", name=routine.reference).click()
    theirs.get_by_role("link", name="Answer the request").click()
    expect(theirs.get_by_text(REQUEST)).to_be_visible()
    theirs.get_by_label("Your answer").fill("MRI shows an L4-L5 disc protrusion; report to follow by fax.")
    theirs.get_by_role("button", name="Send answer").click()
    expect(theirs.get_by_role("alert")).to_contain_text("Your answer was sent")
    their_context.close()

    # 5. Back under review with the answer in the history; accept it.
    page.reload()
    expect(page.get_by_text("Answer from the referring physician")).to_be_visible()
    expect(page.get_by_text("L4-L5 disc protrusion")).to_be_visible()
    page.get_by_label("Book first").select_option(label="New-patient consultation")
    page.get_by_role("button", name="Accept referral").click()
    expect(page.get_by_role("alert")).to_contain_text("Referral accepted: it is now in the scheduler's queue.")

    # 6. It has left the queue; the referrer was written to at every step.
    page.get_by_role("link", name="Triage").first.click()
    expect(page.get_by_role("row").filter(has=page.get_by_role("link"))).to_have_count(1)
    expect(page.get_by_role("row", name=urgent.reference)).to_be_visible()
    kinds = list(OutgoingMessage.objects.filter(to_email=referrer.email).order_by("id").values_list("kind", flat=True))
    assert kinds == [
        "referral_submitted", "referral_under_review", "referral_needs_information", "referral_under_review",
        "referral_accepted",
    ]  # fmt: skip
