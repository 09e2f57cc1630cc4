"""Approving a portal access request makes the admin choose the practice: an existing one,
seen with its address and physicians, or a new one; a typed name never joins by itself.
And deactivating a practice ends every one of its physicians' access at once."""

import pytest
from django.test import Client
from django.urls import reverse

from clinic.models import AuditEvent, OutgoingMessage, UserSession
from clinic.roles import Role
from referrals.forms import CHOOSE_PRACTICE_DECISION, JOIN_NEEDS_PRACTICE
from referrals.models import PortalAccessRequest, ReferringPhysician, ReferringPractice
from referrals.portal_services import access_request_approve, practice_deactivate
from tests.factories import ReferralFactory, ReferringPhysicianFactory, make_npi

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def stranger_request(db):
    """A stranger typing an existing practice's name in another case."""
    return PortalAccessRequest.objects.create(
        first_name="Sly", last_name="Stranger", email="sly@stranger.example", npi=make_npi(4242),
        practice_name="RIVERBEND family medicine", practice_phone="479-555-0101",
    )  # fmt: skip


def approve_url(access_request) -> str:
    return reverse("referrals:access_request", args=[access_request.pk])


def test_approval_with_no_choice_joins_nothing(client, clinic_admin, physician, stranger_request):
    client.force_login(clinic_admin)
    response = client.post(approve_url(stranger_request), {"new_practice_name": "RIVERBEND family medicine"})
    assert response.status_code == 400
    assert CHOOSE_PRACTICE_DECISION in response.content.decode()
    stranger_request.refresh_from_db()
    assert stranger_request.status == PortalAccessRequest.Status.PENDING
    assert not ReferringPhysician.objects.filter(npi=stranger_request.npi).exists()


def test_the_service_never_matches_a_practice_by_name(clinic_admin, practice, physician, stranger_request):
    approved = access_request_approve(access_request=stranger_request, actor=clinic_admin, practice=None)
    assert approved.practice != practice
    assert approved.practice.name == "RIVERBEND family medicine"
    assert list(practice.physicians.all()) == [physician]


def test_the_page_shows_similar_practices_with_address_and_physicians(client, clinic_admin, practice, physician,
                                                                      colleague, stranger_request):  # fmt: skip
    practice.street, practice.city = "12 River Road", "Dardanelle"
    practice.save()
    client.force_login(clinic_admin)
    page = client.get(approve_url(stranger_request)).content.decode()
    assert "Riverbend Family Medicine" in page
    assert "12 River Road" in page
    assert str(physician) in page
    assert str(colleague) in page
    assert "checked" not in page.split('name="decision"', 1)[1].split(">", 1)[0]  # nothing preselected


def test_joining_an_existing_practice_needs_the_practice_named(client, clinic_admin, practice, stranger_request):
    client.force_login(clinic_admin)
    response = client.post(approve_url(stranger_request), {"decision": "join", "new_practice_name": "x"})
    assert response.status_code == 400
    assert JOIN_NEEDS_PRACTICE in response.content.decode()


def test_approving_into_the_chosen_existing_practice_invites_and_audits(client, clinic_admin, practice, physician,
                                                                        stranger_request):  # fmt: skip
    client.force_login(clinic_admin)
    response = client.post(approve_url(stranger_request), {"decision": "join", "practice": practice.pk}, follow=True)
    assert "joined Riverbend Family Medicine" in response.content.decode()
    joined = ReferringPhysician.objects.get(npi=stranger_request.npi)
    assert joined.practice == practice
    assert OutgoingMessage.objects.filter(kind="portal_invitation", to_email="sly@stranger.example").exists()
    (row,) = AuditEvent.objects.filter(object_type="referrals.ReferringPhysician", object_id=str(joined.pk))
    assert row.actor == clinic_admin
    assert f"joined existing practice Riverbend Family Medicine (#{practice.pk})" in row.summary


def test_approving_into_a_new_practice_under_the_name_given(client, clinic_admin, practice, stranger_request):
    client.force_login(clinic_admin)
    data = {"decision": "create", "new_practice_name": "Stranger Family Care"}
    response = client.post(approve_url(stranger_request), data, follow=True)
    assert "in the new practice Stranger Family Care" in response.content.decode()
    created = ReferringPhysician.objects.get(npi=stranger_request.npi).practice
    assert created != practice
    assert created.name == "Stranger Family Care"


def test_a_known_npi_cannot_be_approved_into_another_practice(client, clinic_admin, practice, other_practice,
                                                              physician):  # fmt: skip
    request = PortalAccessRequest.objects.create(
        first_name="Lan", last_name="Nguyen", email="lan@elsewhere.example", npi=physician.npi,
        practice_name="Hillside Orthopedics", practice_phone="479-555-0102",
    )  # fmt: skip
    client.force_login(clinic_admin)
    response = client.post(approve_url(request), {"decision": "join", "practice": other_practice.pk})
    assert response.status_code == 400
    assert "already on file at Riverbend Family Medicine" in response.content.decode()
    physician.refresh_from_db()
    assert physician.practice == practice


def test_a_decided_request_cannot_be_approved_again(client, clinic_admin, practice, stranger_request):
    client.force_login(clinic_admin)
    client.post(reverse("referrals:access_request_reject", args=[stranger_request.pk]))
    response = client.post(approve_url(stranger_request), {"decision": "join", "practice": practice.pk}, follow=True)
    assert "already decided" in response.content.decode()
    assert not ReferringPhysician.objects.filter(npi=stranger_request.npi).exists()


@pytest.mark.parametrize("role", [Role.REFERRER, Role.INTAKE, Role.SCHEDULER, Role.PROVIDER])
def test_only_clinic_admins_decide_access_requests(client, users_by_role, role, practice, stranger_request):
    client.force_login(users_by_role[role])
    assert client.get(reverse("referrals:access_requests")).status_code == 404
    assert client.post(approve_url(stranger_request), {"decision": "join", "practice": practice.pk}).status_code == 404


def test_the_list_query_count_does_not_grow_with_requests(client, clinic_admin, django_assert_num_queries):
    for n in range(30):
        PortalAccessRequest.objects.create(
            first_name="A",
            last_name=f"B{n}",
            email=f"a{n}@x.example",
            npi=make_npi(9000 + n),
            practice_name="P",
            practice_phone="479-555-0101",
        )
    client.force_login(clinic_admin)
    # 1 session, 2 the admin, 3 the session's second-factor device (django-otp), 4-5 their
    # permissions, 6 count, 7 the page of requests (who decided and the physician's practice
    # joined), 8-10 the session saved.
    with django_assert_num_queries(10):
        response = client.get(reverse("referrals:access_requests"))
    assert len(response.context["page"].object_list) == 25


# --- Deactivating a practice -------------------------------------------------------------


def portal_client(user) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_a_deactivated_practice_ends_its_physicians_access_and_sessions_at_once(clinic_admin, practice, physician,
                                                                                other_physician):  # fmt: skip
    referral = ReferralFactory(referring_physician=physician)
    laptop, other = portal_client(physician.user), portal_client(other_physician.user)
    assert laptop.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200
    ended = practice_deactivate(practice=practice, actor=clinic_admin)
    assert ended == 1
    assert not UserSession.objects.filter(user=physician.user).exists()
    assert laptop.get(reverse("referrals:portal")).status_code == 302  # the session is gone
    # Logging in again does not bring the practice's records back.
    again = portal_client(physician.user)
    assert again.get(reverse("referrals:detail", args=[referral.pk])).status_code == 404
    assert again.get(reverse("referrals:patient", args=[referral.patient.pk])).status_code == 404
    assert "not linked" in again.get(reverse("referrals:portal")).content.decode().lower()
    assert again.get(reverse("referrals:portal_new")).status_code == 200
    assert referral.reference not in again.get(reverse("referrals:portal")).content.decode()
    # Another practice is untouched.
    assert other.get(reverse("referrals:portal")).status_code == 200
    (row,) = AuditEvent.objects.filter(object_type="referrals.ReferringPractice", object_id=str(practice.pk))
    assert row.summary == "deactivated practice Riverbend Family Medicine; 1 session(s) ended"


def test_practice_is_deactivated_through_the_admin_action_not_a_tick_box(client, clinic_admin, practice, physician):
    laptop = portal_client(physician.user)
    client.force_login(clinic_admin)
    change = reverse("admin:referrals_referringpractice_change", args=[practice.pk])
    assert 'name="is_active"' not in client.get(change).content.decode()
    client.post(reverse("admin:referrals_referringpractice_changelist"),
                {"action": "deactivate", "_selected_action": [practice.pk]})  # fmt: skip
    practice.refresh_from_db()
    assert not practice.is_active
    assert laptop.get(reverse("referrals:portal")).status_code == 302


def test_a_colleague_in_an_active_practice_keeps_access(clinic_admin, practice, physician, other_practice):
    moved = ReferringPhysicianFactory(practice=other_practice, first_name="Mo", last_name="Moved")
    practice_deactivate(practice=other_practice, actor=clinic_admin)
    assert ReferringPractice.objects.get(pk=practice.pk).is_active
    assert not ReferringPractice.objects.get(pk=moved.practice_id).is_active
    client = portal_client(physician.user)
    assert client.get(reverse("referrals:portal")).status_code == 200
    assert "not linked" not in client.get(reverse("referrals:portal")).content.decode().lower()
