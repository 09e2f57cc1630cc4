"""Triage actions through the HTTP endpoint: lifecycle, roles, messages, kept input."""

import pytest
from django.urls import reverse

from clinic.models import AuditEvent, OutgoingMessage
from referrals.models import Patient
from tests.factories import PatientFactory, ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(physician):
    return ReferralFactory(referring_physician=physician, status="submitted")


def act(client, referral, action, data=None, follow=False):
    return client.post(reverse("referrals:act", args=[referral.pk, action]), data or {}, follow=follow)


def test_start_review_assigns_me_records_and_tells_the_referrer(client, intake, referral):
    client.force_login(intake)
    response = act(client, referral, "start_review", follow=True)
    assert "Review started." in response.content.decode()
    referral.refresh_from_db()
    assert (referral.status, referral.assigned_to) == ("under_review", intake)
    assert referral.events.get().actor == intake
    assert OutgoingMessage.objects.filter(kind="referral_under_review").exists()
    assert AuditEvent.objects.filter(
        action="update", object_id=str(referral.pk), summary="submitted -> under_review"
    ).exists()


def test_accept_with_first_visit_and_provider(client, intake, referral, consult):
    from tests.factories import ProviderFactory

    provider = ProviderFactory()
    client.force_login(intake)
    act(client, referral, "accept", {"accept-first_visit": consult.pk, "accept-preferred_provider": provider.pk})
    referral.refresh_from_db()
    assert (referral.status, referral.first_visit, referral.preferred_provider) == ("accepted", consult, provider)


def test_request_information_needs_text_and_keeps_nothing_half_done(client, intake, referral):
    client.force_login(intake)
    response = act(client, referral, "request_information", {"request_information-request_text": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "submitted"


def test_decline_other_without_text_keeps_what_was_typed_and_explains(client, intake, referral):
    client.force_login(intake)
    response = act(client, referral, "decline", {"decline-decline_reason": "other", "decline-decline_detail": "  "})
    assert response.status_code == 400
    assert "Say why the referral is declined." in response.content.decode()
    assert '<option value="other" selected>' in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "submitted"


def test_decline_with_a_reason(client, intake, referral):
    client.force_login(intake)
    act(client, referral, "decline", {"decline-decline_reason": "out_of_scope", "decline-decline_detail": "Needs PT."})
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason, referral.decline_detail) == (
        "declined",
        "out_of_scope",
        "Needs PT.",
    )


def test_an_illegal_action_says_why_and_changes_nothing(client, intake, physician):
    closed = ReferralFactory(referring_physician=physician, status="closed")
    client.force_login(intake)
    response = act(client, closed, "start_review", follow=True)
    assert "A referral that is closed cannot become under review." in response.content.decode()
    closed.refresh_from_db()
    assert closed.status == "closed"
    assert not closed.events.exists()


def test_schedulers_and_providers_may_add_notes_but_not_triage(client, scheduler, provider_user, referral):
    for user in (scheduler, provider_user):
        client.force_login(user)
        assert act(client, referral, "start_review").status_code == 404
        act(client, referral, "note", {"note-text": f"Called by {user.first_name}"})
    referral.refresh_from_db()
    assert referral.status == "submitted"
    assert list(referral.events.values_list("kind", "visible_to_referrer")) == [("note", False), ("note", False)]


def test_referrers_and_outsiders_cannot_act(client, referrer, other_referrer, referral):
    for user in (referrer, other_referrer):
        client.force_login(user)
        assert act(client, referral, "accept").status_code == 404
    client.logout()
    assert act(client, referral, "accept").status_code == 302


def test_internal_notes_are_hidden_from_the_referrer(client, intake, referrer, referral):
    client.force_login(intake)
    act(client, referral, "note", {"note-text": "Patient owes a balance"})
    act(client, referral, "note", {"note-text": "Called your office", "note-visible_to_referrer": "on"})
    client.force_login(referrer)
    content = client.get(referral.get_absolute_url()).content.decode()
    assert "Patient owes a balance" not in content
    assert "Called your office" in content


def test_linking_a_duplicate_patient_repoints_the_referral_and_drops_the_orphan(client, intake, referral):
    known = PatientFactory(first_name=referral.patient.first_name, last_name=referral.patient.last_name,
                           date_of_birth=referral.patient.date_of_birth, email="", phone="")  # fmt: skip
    orphan = referral.patient
    client.force_login(intake)
    page = client.get(referral.get_absolute_url()).content.decode()
    assert "Possible duplicate patients" in page
    act(client, referral, "link_patient", {"patient": known.pk})
    referral.refresh_from_db()
    assert referral.patient == known
    assert not Patient.objects.filter(pk=orphan.pk).exists()


def test_linking_a_patient_who_is_not_a_duplicate_is_refused(client, intake, referral):
    stranger = PatientFactory(first_name="Other", last_name="Person", email="", phone="")
    client.force_login(intake)
    response = act(client, referral, "link_patient", {"patient": stranger.pk}, follow=True)
    assert "Choose one of the possible duplicates shown." in response.content.decode()
    referral.refresh_from_db()
    assert referral.patient != stranger
