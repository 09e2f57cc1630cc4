"""The referring physician is e-mailed, in text and HTML, at every status change."""

import pytest
from django.core import mail

from clinic.outbox import messages_deliver_due
from referrals import services
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(physician):
    return ReferralFactory(referring_physician=physician, status="submitted")


def delivered():
    messages_deliver_due()
    message = mail.outbox[-1]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    return message, html


def check(referral, message, html, subject_end, *phrases):
    assert message.to == [referral.referring_physician.email]
    assert message.subject == f"Referral {referral.reference}: {subject_end}"
    assert "M54" not in message.subject  # never a diagnosis in a subject line
    assert referral.patient.last_name not in message.subject
    for phrase in phrases:
        assert phrase in message.body
        assert phrase in html.replace("<strong>", "").replace("</strong>", "")
    assert f"/referrals/{referral.pk}/" in message.body


def test_received(physician, referrer):
    referral, _ = services.referral_create(
        actor=referrer, physician=physician, source="portal", fields={"reason": "Mid-back pain", "urgency": "urgent"},
        patient_fields={"first_name": "Jo", "last_name": "Reyes", "date_of_birth": "1961-04-12", "sex": "female"},
        diagnosis_codes=["M54.6"],
    )  # fmt: skip
    message, html = delivered()
    check(referral, message, html, "received", "We have received your referral", "within 1 business day")


def test_accepted(referral, intake, consult):
    services.referral_accept(referral=referral, actor=intake, first_visit=consult)
    message, html = delivered()
    check(referral, message, html, "accepted", "We have accepted your referral", "new-patient consultation")


def test_declined_with_the_reason(referral, intake):
    services.referral_decline(referral=referral, actor=intake, reason="insurance", detail="Plan is out of network.")
    message, html = delivered()
    check(referral, message, html, "declined", "Reason: Insurance not accepted", "Plan is out of network.")


def test_needs_information_with_the_request(referral, intake):
    services.referral_request_information(referral=referral, actor=intake, request_text="Please send the MRI report.")
    message, html = delivered()
    check(referral, message, html, "more information needed", "Please send the MRI report.")


def test_scheduled_with_date_time_and_place(referral, intake, consult):
    services.referral_accept(referral=referral, actor=intake, first_visit=consult)
    summary = "New-patient consultation on Tuesday 1 December 2026 at 9:00 AM (CST) at Russellville."
    services.referral_mark_scheduled(referral=referral, actor=intake, appointment_summary=summary)
    message, html = delivered()
    check(referral, message, html, "scheduled", summary)


def test_completed_with_the_outcome(referral, intake, consult):
    services.referral_accept(referral=referral, actor=intake, first_visit=consult)
    services.referral_mark_scheduled(referral=referral, actor=intake, appointment_summary="Tuesday")
    services.referral_mark_completed(referral=referral, actor=intake, outcome_summary="Facet pain; MBB planned.")
    message, html = delivered()
    check(referral, message, html, "completed", "Outcome: Facet pain; MBB planned.")


def test_each_change_is_sent_once(referral, intake):
    services.referral_start_review(referral=referral, actor=intake)
    messages_deliver_due()
    messages_deliver_due()
    assert len(mail.outbox) == 1
