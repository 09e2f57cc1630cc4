"""Issue 10 item 8: the reset e-mail goes through the ledger, and the form's answer and the
work it does are the same whether or not an account uses the address."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic import outbox
from clinic.celery import app
from clinic.models import OutgoingMessage, PasswordResetRequest
from clinic.password_reset import password_reset_requests_process
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)")


def _ask(client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def _shape(queries: list[dict]) -> list[str]:
    """The SQL run, without the values bound (the address typed, the time)."""
    return [re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", query["sql"]) for query in queries]


def test_asking_for_a_reset_sends_and_owes_nothing_inside_the_request(client, referrer):
    response = _ask(client, referrer.email)
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []
    assert not OutgoingMessage.objects.exists()
    assert list(PasswordResetRequest.objects.values_list("email", flat=True)) == [referrer.email]


def test_an_account_and_a_stranger_get_the_same_answer_after_the_same_work(client, referrer, django_assert_num_queries):
    with django_assert_num_queries(1), CaptureQueriesContext(connection) as for_account:
        # 1. INSERT the PasswordResetRequest (no user is looked up here)
        known = _ask(client, referrer.email)
    with django_assert_num_queries(1), CaptureQueriesContext(connection) as for_stranger:
        # 1. INSERT the PasswordResetRequest
        unknown = _ask(client, "nobody@nowhere.example")
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert _shape(for_account.captured_queries) == _shape(for_stranger.captured_queries)
    assert for_account.captured_queries[0]["sql"].startswith('INSERT INTO "clinic_passwordresetrequest"')
    # Nothing is sent or rendered while the visitor waits: no SMTP round trip to time.
    assert mail.outbox == []
    assert not OutgoingMessage.objects.exists()
    done = client.get(known.url)
    assert b"If an account uses that address" in done.content


def test_the_sweep_owes_the_email_in_the_ledger_and_its_link_sets_a_new_password(client, referrer):
    _ask(client, "Dr.Nguyen@RiverBend.example ")
    assert password_reset_requests_process() == 1
    assert not PasswordResetRequest.objects.exists()

    message = OutgoingMessage.objects.get()
    assert (message.kind, message.to_email, message.status) == ("password_reset", referrer.email, "queued")
    assert message.subject == "Reset your password for the clinic's referral system"
    link = LINK.search(message.body_text).group(1)
    assert link in message.body_html
    outbox.messages_deliver(message_ids=[message.pk])
    assert [sent.to for sent in mail.outbox] == [[referrer.email]]
    assert link in mail.outbox[0].body
    assert link in mail.outbox[0].alternatives[0][0]

    response = client.get(link, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": "a-new-Pass-2026", "new_password2": "a-new-Pass-2026"}
    )
    assert response.url == reverse("password_reset_complete")
    referrer.refresh_from_db()
    assert referrer.check_password("a-new-Pass-2026")


def test_the_sweep_owes_nothing_for_a_stranger_or_a_deactivated_account_and_forgets_both(client):
    UserFactory(email="gone@clinic.example", is_active=False)
    _ask(client, "nobody@nowhere.example")
    _ask(client, "gone@clinic.example")
    assert password_reset_requests_process() == 0
    assert not OutgoingMessage.objects.exists()
    assert not PasswordResetRequest.objects.exists()


def test_a_second_sweep_owes_nothing_again(client, referrer):
    _ask(client, referrer.email)
    assert password_reset_requests_process() == 1
    assert password_reset_requests_process() == 0
    assert OutgoingMessage.objects.count() == 1


def test_beat_runs_the_sweep_often_enough_for_someone_waiting():
    entry = app.conf.beat_schedule["process-password-resets"]
    assert entry["task"] == "clinic.tasks.process_password_resets"
    assert entry["schedule"] <= 30
