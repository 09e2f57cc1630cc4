"""Clinic admins manage people in the product: invite, roles, deactivate and reactivate, a
password link; never a flag, a permission or a password. Every change is audited."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.models import AuditEvent, OutgoingMessage, User, UserSession
from clinic.outbox import messages_deliver_due
from clinic.roles import Role, roles_of
from clinic.user_services import CANNOT_DEACTIVATE_SELF, CANNOT_DROP_OWN_ADMIN, EMAIL_TAKEN
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def audit_rows(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="clinic.User", object_id=str(user.pk)).order_by("id"))


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [Role.REFERRER, Role.INTAKE, Role.SCHEDULER, Role.PROVIDER])
def test_other_roles_get_404_on_the_user_pages(client, users_by_role, role, intake):
    client.force_login(users_by_role[role])
    assert client.get(reverse("clinic:users")).status_code == 404
    assert client.get(reverse("clinic:user", args=[intake.pk])).status_code == 404
    assert client.post(reverse("clinic:user_deactivate", args=[intake.pk])).status_code == 404
    intake.refresh_from_db()
    assert intake.is_active


def test_invite_creates_the_account_with_its_roles_and_mails_a_link_through_the_ledger(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(reverse("clinic:user_invite"), {
        "email": " New.Nurse@Clinic.Example ", "first_name": "Nia", "last_name": "Nurse",
        "roles": ["INTAKE", "SCHEDULER"],
    })  # fmt: skip
    user = User.objects.get(email="new.nurse@clinic.example")
    assert response.url == reverse("clinic:user", args=[user.pk])
    assert roles_of(user) == [Role.INTAKE, Role.SCHEDULER]
    assert not user.has_usable_password()
    assert not user.is_staff
    assert not user.is_superuser
    assert len(mail.outbox) == 0  # owed in the ledger, not sent inside the request
    (owed,) = OutgoingMessage.objects.filter(kind="staff_invitation")
    assert owed.to_email == user.email
    messages_deliver_due()
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    assert link in mail.outbox[-1].alternatives[0][0]
    (row,) = audit_rows(user)
    assert (row.actor, row.action) == (clinic_admin, AuditEvent.Action.CREATE)
    assert "Intake, Scheduler" in row.summary
    assert (row.ip_address, row.path) == ("127.0.0.1", reverse("clinic:user_invite"))  # from the request
    # The link lets them choose a password and log in.
    anonymous = Client()
    form_page = anonymous.get(link, follow=True)
    chosen = {"new_password1": "Nia-chooses-2026!", "new_password2": "Nia-chooses-2026!"}
    anonymous.post(form_page.redirect_chain[-1][0], chosen)
    assert (
        anonymous.post(reverse("login"), {"username": user.email, "password": "Nia-chooses-2026!"}).status_code == 302
    )


def test_inviting_a_taken_address_is_refused_beside_the_field_keeping_what_was_typed(client, clinic_admin, intake):
    client.force_login(clinic_admin)
    response = client.post(reverse("clinic:user_invite"), {
        "email": intake.email.upper(), "first_name": "Typed", "last_name": "Again", "roles": ["PROVIDER"],
    })  # fmt: skip
    assert response.status_code == 400
    assert EMAIL_TAKEN.replace("'", "&#x27;") in response.content.decode()
    assert 'value="Typed"' in response.content.decode()
    assert User.objects.filter(email__iexact=intake.email).count() == 1


def test_invite_without_a_role_is_refused(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("clinic:user_invite"), {"email": "x@clinic.example", "first_name": "X", "last_name": "Y"}
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="x@clinic.example").exists()


def test_roles_are_set_exactly_and_audited_with_before_and_after(client, clinic_admin, intake):
    client.force_login(clinic_admin)
    client.post(reverse("clinic:user_roles", args=[intake.pk]), {"roles": ["SCHEDULER", "CLINIC_ADMIN"]})
    intake.refresh_from_db()
    assert roles_of(intake) == [Role.SCHEDULER, Role.CLINIC_ADMIN]
    assert intake.is_staff  # the Django admin comes with the clinic-admin role
    client.post(reverse("clinic:user_roles", args=[intake.pk]), {"roles": ["SCHEDULER"]})
    intake = User.objects.get(pk=intake.pk)
    assert roles_of(intake) == [Role.SCHEDULER]
    assert not intake.is_staff
    summaries = [row.summary for row in audit_rows(intake)]
    assert summaries == [
        f"{intake.email}: roles Intake -> Scheduler, Clinic admin",
        f"{intake.email}: roles Scheduler, Clinic admin -> Scheduler",
    ]


def test_a_hand_made_post_cannot_grant_superuser_staff_or_a_password(client, clinic_admin, intake):
    client.force_login(clinic_admin)
    client.post(reverse("clinic:user_roles", args=[intake.pk]), {
        "roles": ["INTAKE"], "is_superuser": "on", "is_staff": "on", "password": "Taken-over-2026!",
        "user_permissions": "1",
    })  # fmt: skip
    response = client.post(reverse("clinic:user_roles", args=[intake.pk]), {"roles": ["SUPERUSER"]})
    assert response.status_code == 400
    intake.refresh_from_db()
    assert not intake.is_superuser
    assert not intake.is_staff
    assert not intake.user_permissions.exists()
    assert intake.check_password(PASSWORD)


def test_an_admin_cannot_remove_their_own_admin_role_nor_deactivate_themselves(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(reverse("clinic:user_roles", args=[clinic_admin.pk]), {"roles": ["SCHEDULER"]})
    assert response.status_code == 400
    assert CANNOT_DROP_OWN_ADMIN.replace("'", "&#x27;") in response.content.decode()
    response = client.post(reverse("clinic:user_deactivate", args=[clinic_admin.pk]), follow=True)
    assert CANNOT_DEACTIVATE_SELF in response.content.decode()
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_active
    assert roles_of(clinic_admin) == [Role.CLINIC_ADMIN]


def test_deactivation_ends_every_session_at_once_and_reactivation_lets_them_back(client, clinic_admin, scheduler):
    laptop, tablet = logged_in(scheduler), logged_in(scheduler)
    assert laptop.get(reverse("scheduling:queue")).status_code == 200
    client.force_login(clinic_admin)
    response = client.post(reverse("clinic:user_deactivate", args=[scheduler.pk]), follow=True)
    assert "2 session(s) ended" in response.content.decode()
    for device in (laptop, tablet):
        assert device.get(reverse("scheduling:queue")).status_code == 302
    assert not UserSession.objects.filter(user=scheduler).exists()
    refused = Client().post(reverse("login"), {"username": scheduler.email, "password": PASSWORD})
    assert refused.status_code == 200
    client.post(reverse("clinic:user_reactivate", args=[scheduler.pk]))
    assert Client().post(reverse("login"), {"username": scheduler.email, "password": PASSWORD}).status_code == 302
    assert [row.summary for row in audit_rows(scheduler)] == [
        f"{scheduler.email}: deactivated; 2 session(s) ended",
        f"{scheduler.email}: reactivated",
    ]


def test_password_link_goes_through_the_ledger_and_leaves_the_password_alone(client, clinic_admin, provider_user):
    client.force_login(clinic_admin)
    client.post(reverse("clinic:user_password_link", args=[provider_user.pk]))
    (owed,) = OutgoingMessage.objects.filter(kind="password_link")
    assert owed.to_email == provider_user.email
    assert "/accounts/reset/" in owed.body_text
    assert "/accounts/reset/" in owed.body_html
    provider_user.refresh_from_db()
    assert provider_user.check_password(PASSWORD)
    (row,) = audit_rows(provider_user)
    assert row.actor == clinic_admin
    assert row.summary.endswith("sent a link to choose a new password")


def test_superusers_are_not_managed_by_clinic_admins(client, clinic_admin):
    root = UserFactory(email="root@clinic.example", is_superuser=True, is_staff=True)
    client.force_login(clinic_admin)
    assert root.email not in client.get(reverse("clinic:users")).content.decode()
    assert client.get(reverse("clinic:user", args=[root.pk])).status_code == 404
    assert client.post(reverse("clinic:user_deactivate", args=[root.pk])).status_code == 404
    root.refresh_from_db()
    assert root.is_active


def test_the_list_searches_by_name_or_email(client, clinic_admin, intake, scheduler):
    client.force_login(clinic_admin)
    page = client.get(reverse("clinic:users"), {"q": "ivy"}).content.decode()
    assert intake.email in page
    assert scheduler.email not in page
    page = client.get(reverse("clinic:users"), {"q": "scheduler@"}).content.decode()
    assert scheduler.email in page
    assert intake.email not in page


def test_the_list_query_count_does_not_grow_with_users(client, clinic_admin, django_assert_num_queries):
    for n in range(30):
        UserFactory(email=f"person{n}@clinic.example", role=Role.INTAKE)
    client.force_login(clinic_admin)
    # 1 session, 2 the admin, 3 the session's second-factor device (django-otp), 4-5 the
    # admin's own and group permissions (role check and navigation), 6 count for the
    # paginator, 7 the page of users, 8 their groups (prefetch), 9-11 the session saved
    # (savepoint, update, release).
    with django_assert_num_queries(11):
        response = client.get(reverse("clinic:users"))
    assert response.context["page"].paginator.count == 31
    assert len(response.context["page"].object_list) == 25


def test_the_clinic_admins_navigation_links_to_users(client, clinic_admin):
    client.force_login(clinic_admin)
    assert reverse("clinic:users") in client.get(reverse("clinic:setup")).content.decode()
