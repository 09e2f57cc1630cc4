"""Login, throttling, password change and reset."""

import re

import pytest
from django.core import mail
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


def test_password_reset_mails_a_working_link_in_text_and_html(client, referrer):
    response = client.post(reverse("password_reset"), {"email": referrer.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [referrer.email]
    assert message.subject == "Reset your password for the clinic's referral system"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", message.body).group(1)
    assert link in html
    response = client.get(link, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": "a-new-Pass-2026", "new_password2": "a-new-Pass-2026"}
    )
    assert response.url == reverse("password_reset_complete")
    referrer.refresh_from_db()
    assert referrer.check_password("a-new-Pass-2026")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.example"})
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


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
