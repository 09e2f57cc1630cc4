"""The referring physicians' portal: list, submit, answer, and getting an account."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from clinic.models import OutgoingMessage
from clinic.outbox import messages_deliver_due
from clinic.roles import Role, roles_of
from referrals.models import Attachment, PortalAccessRequest, Referral, ReferralEvent
from referrals.portal_services import access_request_approve
from tests.factories import ReferralFactory
from tests.referrals.conftest import TIFF_BYTES, pdf, referral_post

pytestmark = pytest.mark.django_db


def test_list_shows_only_the_practices_referrals_with_search_and_filter(client, referrer, physician, colleague,
                                                                         other_physician):  # fmt: skip
    mine = ReferralFactory(referring_physician=physician, patient__last_name="Alvarez")
    colleagues = ReferralFactory(referring_physician=colleague, patient__last_name="Brooks", status="accepted")
    theirs = ReferralFactory(referring_physician=other_physician, patient__last_name="Carver")
    client.force_login(referrer)
    content = client.get(reverse("referrals:portal")).content.decode()
    assert mine.reference in content
    assert colleagues.reference in content
    assert theirs.reference not in content
    content = client.get(reverse("referrals:portal"), {"q": "brook"}).content.decode()
    assert colleagues.reference in content
    assert mine.reference not in content
    content = client.get(reverse("referrals:portal"), {"status": "accepted"}).content.decode()
    assert colleagues.reference in content
    assert mine.reference not in content


def test_portal_list_query_count_is_constant(client, referrer, physician, django_assert_num_queries):
    client.force_login(referrer)
    ReferralFactory.create_batch(3, referring_physician=physician)
    # 1 session, 2 user, 3-4 permissions (role check), 5 whether the user has a second
    # factor (the MFA gate), 6 own physician + practice,
    # 7 practice id (access helper), 8 count for the paginator, 9 the page of referrals with
    # patients and physicians, 10-12 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(13):
        client.get(reverse("referrals:portal"))
    ReferralFactory.create_batch(27, referring_physician=physician)
    with django_assert_num_queries(13):
        response = client.get(reverse("referrals:portal"))
    assert response.content.decode().count("/referrals/") >= 25


def test_submitting_creates_patient_referral_records_timeline_and_an_email(client, referrer, physician, private_media):
    client.force_login(referrer)
    data = {**referral_post(physician), "files": [pdf("MRI report.pdf")]}
    response = client.post(reverse("referrals:portal_new"), data)
    referral = Referral.objects.get()
    assert response.url == referral.get_absolute_url()
    assert referral.patient.record_number == f"P{referral.patient.pk:07d}"
    assert (referral.status, referral.source, referral.urgency) == ("submitted", "portal", "routine")
    assert referral.review_due_at > referral.received_at
    assert [(d.code, d.description) for d in referral.diagnoses.all()] == [
        ("M54.6", "Pain in thoracic spine"),
        ("M47.814", "Spondylosis without myelopathy or radiculopathy, thoracic region"),
    ]
    attachment = Attachment.objects.get()
    assert attachment.original_name == "MRI_report.pdf"
    assert (private_media / attachment.file.name).exists()
    assert "MRI" not in attachment.file.name
    assert ReferralEvent.objects.get(referral=referral).to_status == "submitted"
    assert OutgoingMessage.objects.get().kind == "referral_submitted"


def test_answering_a_request_attaches_files_and_returns_it_to_review(client, referrer, physician, intake):
    from referrals.services import referral_request_information

    referral = ReferralFactory(referring_physician=physician)
    referral_request_information(referral=referral, actor=intake, request_text="Please send the X-ray report.")
    client.force_login(referrer)
    page = client.get(reverse("referrals:respond", args=[referral.pk]))
    assert "Please send the X-ray report." in page.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    scan = SimpleUploadedFile("xray.tif", TIFF_BYTES, "image/tiff")
    response = client.post(reverse("referrals:respond", args=[referral.pk]),
                           {"answer_text": "Attached.", "files": [scan], "file_kind": "imaging_report"})  # fmt: skip
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "under_review"
    assert referral.attachments.get().content_type == "image/tiff"
    assert referral.events.filter(kind="response", text__startswith="Attached.").exists()


def test_answering_when_nothing_was_asked_says_so(client, referrer, physician):
    referral = ReferralFactory(referring_physician=physician, status="accepted")
    client.force_login(referrer)
    response = client.get(reverse("referrals:respond", args=[referral.pk]), follow=True)
    assert "not waiting for information from you" in response.content.decode()


def test_access_request_approved_by_an_admin_lets_the_physician_set_a_password_and_log_in(client, clinic_admin):
    data = {"first_name": "Lee", "last_name": "Park", "email": "Lee@Park.example", "npi": "1234567893",
            "practice_name": "Park Clinic", "practice_phone": "479-555-0199"}  # fmt: skip
    assert client.post(reverse("referrals:request_access"), data).status_code == 302
    duplicate = client.post(reverse("referrals:request_access"), data)
    assert duplicate.status_code == 302  # the same answer (tests/referrals/test_access_request.py)
    access_request = PortalAccessRequest.objects.get()
    physician = access_request_approve(access_request=access_request, actor=clinic_admin, practice=None)
    assert physician.practice.name == "Park Clinic"
    assert roles_of(physician.user) == [Role.REFERRER]
    messages_deliver_due()
    invitation = mail.outbox[-1]
    assert invitation.to == ["lee@park.example"]
    assert "portal" in invitation.subject
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", invitation.body).group(1)
    assert link in invitation.alternatives[0][0]
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Pk-portal-2026!", "new_password2": "Pk-portal-2026!"}
    )
    response = client.post(reverse("login"), {"username": "lee@park.example", "password": "Pk-portal-2026!"})
    assert response.url == reverse("home")
    assert client.get(reverse("home")).url == reverse("referrals:portal")


def test_admin_action_invites_an_existing_physician(client, clinic_admin, colleague):
    client.force_login(clinic_admin)
    client.post(
        reverse("admin:referrals_referringphysician_changelist"),
        {"action": "invite_to_portal", "_selected_action": [colleague.pk]},
    )
    colleague.refresh_from_db()
    assert colleague.user is not None
    assert OutgoingMessage.objects.filter(kind="portal_invitation", to_email=colleague.email).exists()
