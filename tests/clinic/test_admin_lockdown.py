"""A clinic admin cannot make anyone a superuser or staff, grant a permission or set a
password through the Django admin, even with a hand-made POST; a superuser still can."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from clinic.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def change_post(user: User, **overrides) -> dict:
    """Every field of Django's user change form, as the page would post it, plus overrides."""
    data = {
        "email": user.email, "first_name": user.first_name, "last_name": user.last_name, "is_active": "on",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
        "groups": [str(pk) for pk in user.groups.values_list("pk", flat=True)],
    }  # fmt: skip
    data.update(overrides)
    return data


def test_clinic_admin_cannot_make_themselves_superuser_by_a_hand_made_post(client, clinic_admin):
    client.force_login(clinic_admin)
    url = reverse("admin:clinic_user_change", args=[clinic_admin.pk])
    response = client.post(url, change_post(clinic_admin, is_superuser="on", is_staff="on"))
    assert response.status_code == 403
    clinic_admin.refresh_from_db()
    assert not clinic_admin.is_superuser


def test_clinic_admin_cannot_grant_raw_permissions_or_groups_by_post(client, clinic_admin, intake):
    client.force_login(clinic_admin)
    permission = Permission.objects.get(codename="delete_user")
    admins = Group.objects.get(name="Clinic admin")
    url = reverse("admin:clinic_user_change", args=[intake.pk])
    response = client.post(url, change_post(intake, user_permissions=[str(permission.pk)], groups=[str(admins.pk)]))
    assert response.status_code == 403
    assert not intake.user_permissions.exists()
    assert list(intake.groups.values_list("name", flat=True)) == ["Intake"]


def test_clinic_admin_cannot_set_another_users_password_in_the_admin(client, clinic_admin, scheduler):
    client.force_login(clinic_admin)
    url = reverse("admin:auth_user_password_change", args=[scheduler.pk])
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"password1": "Taken-over-2026!", "password2": "Taken-over-2026!", "usable_password": "true"}
    )
    assert response.status_code == 403
    scheduler.refresh_from_db()
    assert scheduler.check_password(PASSWORD)


def test_clinic_admin_cannot_add_a_user_in_the_admin(client, clinic_admin):
    client.force_login(clinic_admin)
    data = {"email": "new@clinic.example", "password1": "Abc-12345-xyz", "password2": "Abc-12345-xyz"}
    response = client.post(reverse("admin:clinic_user_add"), data)
    assert response.status_code == 403
    assert not User.objects.filter(email="new@clinic.example").exists()


def test_clinic_admin_sees_accounts_without_flags_permissions_or_password(client, clinic_admin, intake):
    client.force_login(clinic_admin)
    page = client.get(reverse("admin:clinic_user_change", args=[intake.pk])).content.decode()
    assert intake.email in page
    for hidden in ("is_superuser", "is_staff", "user_permissions", "Superuser status", "password/"):
        assert hidden not in page, hidden


def test_a_superuser_still_changes_flags_and_passwords(client, intake):
    root = UserFactory(email="root@clinic.example", is_superuser=True, is_staff=True)
    client.force_login(root)
    response = client.post(reverse("admin:clinic_user_change", args=[intake.pk]), change_post(intake, is_staff="on"))
    assert response.status_code == 302
    intake.refresh_from_db()
    assert intake.is_staff
    url = reverse("admin:auth_user_password_change", args=[intake.pk])
    response = client.post(url, {"password1": "Reset-by-root-2026!", "password2": "Reset-by-root-2026!",
                                 "usable_password": "true"})  # fmt: skip
    assert response.status_code == 302
    intake.refresh_from_db()
    assert intake.check_password("Reset-by-root-2026!")
