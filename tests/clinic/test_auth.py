"""Login, throttling and password change (reset: test_password_reset.py)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_login_with_email_is_case_insensitive(client, scheduler):
    response = _login(client, "Scheduler@Clinic.Example", "correct-horse-battery")
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_five_failed_logins_lock_the_account_even_with_the_right_password(client, scheduler):
    for _ in range(5):
        response = _login(client, scheduler.email, "wrong-password")
    assert response.status_code == 429
    response = _login(client, scheduler.email, "correct-horse-battery")
    assert response.status_code == 429
    assert b"Too many failed log-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_a_failed_login_keeps_the_email_typed(client, scheduler):
    response = _login(client, scheduler.email, "wrong-password")
    assert response.status_code == 200
    assert f'value="{scheduler.email}"'.encode() in response.content
    assert b"Please enter a correct e-mail address and password" in response.content


def test_password_change_refuses_a_short_password_with_a_message(client, intake):
    client.force_login(intake)
    response = client.post(
        reverse("password_change"),
        {"old_password": "correct-horse-battery", "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    assert b"This password is too short" in response.content
    intake.refresh_from_db()
    assert intake.check_password("correct-horse-battery")
