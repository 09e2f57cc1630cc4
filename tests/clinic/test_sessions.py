"""Session hygiene: logins are recorded, last at most SESSION_ABSOLUTE_HOURS however active,
end everywhere on a password change, and a clinic admin sees and ends a person's sessions."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent, UserSession
from tests.conftest import pass_second_factor

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def log_in(user, *, agent: str = "Mozilla/5.0 (Test tablet)", ip: str = "203.0.113.7") -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    pass_second_factor(client, user)  # the code step is tests/clinic/test_mfa.py's subject
    return client


def test_a_login_records_the_session_with_address_and_browser(scheduler):
    client = log_in(scheduler)
    (row,) = UserSession.objects.filter(user=scheduler)
    assert row.session_key == client.session.session_key
    assert row.ip_address == "203.0.113.7"
    assert row.user_agent == "Mozilla/5.0 (Test tablet)"


def test_logging_out_forgets_the_session(scheduler):
    client = log_in(scheduler)
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(user=scheduler).exists()


def test_a_session_ends_after_the_absolute_lifetime_however_active(settings, scheduler):
    settings.SESSION_ABSOLUTE_HOURS = 12
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = log_in(scheduler)
        # Active every 50 minutes, inside the 60-minute idle timeout, for just under 12 hours.
        for _ in range(14):
            clock.shift(dt.timedelta(minutes=50))
            assert client.get(reverse("scheduling:queue")).status_code == 200
        clock.shift(dt.timedelta(minutes=50))  # 12 h 30 min after login
        response = client.get(reverse("scheduling:queue"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    assert not UserSession.objects.filter(user=scheduler).exists()


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(scheduler):
    here, elsewhere = log_in(scheduler), log_in(scheduler, agent="Other browser")
    other_key = elsewhere.session.session_key
    response = here.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "Fresh-password-2026!", "new_password2": "Fresh-password-2026!",
    })  # fmt: skip
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=other_key).exists()  # gone from the store, not merely stale
    assert elsewhere.get(reverse("scheduling:queue")).status_code == 302
    assert here.get(reverse("scheduling:queue")).status_code == 200
    (row,) = UserSession.objects.filter(user=scheduler)
    assert row.session_key == here.session.session_key  # the cycled key, recorded again


def test_a_password_reset_ends_every_session(client, scheduler):
    laptop = log_in(scheduler)
    scheduler.set_password("Reset-by-link-2026!")
    scheduler.save()
    assert laptop.get(reverse("scheduling:queue")).status_code == 302
    assert not UserSession.objects.filter(user=scheduler).exists()


def test_clinic_admin_sees_a_users_sessions_and_ends_one(client, clinic_admin, intake):
    desk, phone = log_in(intake, agent="Desk browser", ip="198.51.100.4"), log_in(intake, agent="Phone browser")
    client.force_login(clinic_admin)
    page = client.get(reverse("clinic:user", args=[intake.pk])).content.decode()
    assert "Desk browser" in page
    assert "198.51.100.4" in page
    assert "Phone browser" in page
    phone_row = UserSession.objects.get(user=intake, user_agent="Phone browser")
    response = client.post(reverse("clinic:user_session_end", args=[intake.pk, phone_row.pk]), follow=True)
    assert "The session was ended." in response.content.decode()
    assert phone.get(reverse("referrals:triage")).status_code == 302
    assert desk.get(reverse("referrals:triage")).status_code == 200
    page = client.get(reverse("clinic:user", args=[intake.pk])).content.decode()
    assert "Phone browser" not in page
    (row,) = AuditEvent.objects.filter(object_type="clinic.User", object_id=str(intake.pk))
    assert row.actor == clinic_admin
    assert "Ended a session" in row.summary


def test_a_session_of_another_user_cannot_be_ended_through_this_users_page(client, clinic_admin, intake, scheduler):
    log_in(scheduler)
    theirs = UserSession.objects.get(user=scheduler)
    client.force_login(clinic_admin)
    assert client.post(reverse("clinic:user_session_end", args=[intake.pk, theirs.pk])).status_code == 404
    assert UserSession.objects.filter(pk=theirs.pk).exists()


def test_an_expired_session_is_not_listed(client, settings, clinic_admin, intake):
    log_in(intake, agent="Forgotten browser")
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(minutes=1))
    client.force_login(clinic_admin)
    assert "Forgotten browser" not in client.get(reverse("clinic:user", args=[intake.pk])).content.decode()
