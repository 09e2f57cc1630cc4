"""Sent e-mails: where mail goes to files, staff read each sent e-mail rendered in the browser."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re

import pytest
from django.urls import reverse

from clinic import outbox
from clinic.message_views import HTML_PART_SANDBOX, html_part_policy, with_links_in_new_tab
from clinic.models import AuditEvent, OutgoingMessage
from clinic.roles import Role

pytestmark = pytest.mark.django_db

Status = OutgoingMessage.Status
SENT_AT = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
STAFF = [Role.CLINIC_ADMIN, Role.SCHEDULER, Role.INTAKE]
LINK = "http://localhost:8000/accounts/reset/MQ/set-password/"


@pytest.fixture(autouse=True)
def mail_to_files(settings):
    settings.EMAIL_HOST = ""


def sent_email(n: int, *, sent_at: dt.datetime = SENT_AT, status: str = Status.SENT) -> OutgoingMessage:
    """A real rendered e-mail (the portal invitation) from the ledger, marked sent."""
    message = outbox.message_queue(
        key=f"sent-page:{n}", kind="portal_invitation", to_email=f"dr.{n}@practice.example",
        template="portal_invitation", context={"physician": f"Dr Number {n}", "link": LINK},
        attachments=[{"filename": "note.txt", "mimetype": "text/plain", "content": f"attachment {n}"}],
    )  # fmt: skip
    OutgoingMessage.objects.filter(pk=message.pk).update(status=status, sent_at=sent_at)
    message.refresh_from_db()
    return message


@pytest.mark.parametrize("role", STAFF)
def test_staff_see_sent_emails_last_sent_first_each_linked_to_its_page(client, users_by_role, role):
    older = sent_email(1, sent_at=SENT_AT - dt.timedelta(hours=1))
    newer = sent_email(2)
    sent_email(3, status=Status.QUEUED)
    client.force_login(users_by_role[role])
    response = client.get(reverse("clinic:sent_emails"))
    content = response.content.decode()
    assert response.status_code == 200
    assert content.index("dr.2@practice.example") < content.index("dr.1@practice.example")
    assert "dr.3@practice.example" not in content  # not sent yet
    assert "2 Mar 2026, 9:00 AM" in content  # 15:00 UTC in the clinic's zone
    for message in (older, newer):
        assert f'href="{reverse("clinic:sent_email", args=[message.pk])}"' in content
    assert f'href="{reverse("clinic:sent_emails")}"' in content  # the navigation link


def test_the_page_shows_headers_the_text_part_with_clickable_links_and_frames_the_html_part(client, scheduler):
    message = sent_email(1)
    client.force_login(scheduler)
    response = client.get(reverse("clinic:sent_email", args=[message.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Your referral portal account" in content  # the subject
    assert "dr.1@practice.example" in content
    assert "no-reply@clinic.localhost" in content  # From
    assert outbox.message_id_header(message).replace("<", "&lt;").replace(">", "&gt;") in content
    assert "Dear Dr Number 1," in content  # the text part
    assert f'<a href="{LINK}"' in content  # its link, clickable
    assert "note.txt" in content
    assert "attachment 1" in content
    assert f'sandbox="{HTML_PART_SANDBOX}"' in content
    assert f'src="{reverse("clinic:sent_email_html", args=[message.pk])}"' in content
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.object_id) == (scheduler, AuditEvent.Action.VIEW, str(message.pk))


def test_the_html_part_is_served_sandboxed_frameable_only_here_with_links_opening_a_new_tab(client, intake):
    message = sent_email(1)
    client.force_login(intake)
    response = client.get(reverse("clinic:sent_email_html", args=[message.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    policy = response["Content-Security-Policy"]
    assert policy.startswith(f"sandbox {HTML_PART_SANDBOX};")
    assert "allow-scripts" not in policy
    assert "allow-same-origin" not in policy
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert f'<a href="{LINK}">Choose your password</a>' in content
    assert content.index('<base target="_blank">') < content.index("<body")
    assert AuditEvent.objects.get().summary == "sent e-mail portal_invitation (HTML part)"


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_html_part_admits_its_own_inline_styles_by_hash_never_unsafe_inline(client, intake):
    message = sent_email(1)
    client.force_login(intake)
    response = client.get(reverse("clinic:sent_email_html", args=[message.pk]))
    policy = response["Content-Security-Policy"]
    styles = set(re.findall(r'style="([^"]*)"', response.content.decode()))
    assert styles  # the e-mail base template styles its body, rule and footer inline
    style_src = next(part for part in policy.split("; ") if part.startswith("style-src "))
    assert set(style_src.split()[1:]) == {"'unsafe-hashes'", *(sha256_source(style) for style in styles)}
    assert "unsafe-inline" not in policy


def test_the_html_part_policy_hashes_style_elements_and_decoded_attributes_and_admits_none_without():
    html = '<style>p { color: red; }</style><p style="font-family: &quot;Arial&quot;">x</p>'
    policy = html_part_policy(html)
    assert sha256_source("p { color: red; }") in policy
    assert sha256_source('font-family: "Arial"') in policy  # the value the browser hashes
    assert "style-src 'none';" in html_part_policy("<p>plain</p>")


def test_links_in_new_tab_goes_first_in_the_head_or_first_at_all():
    assert with_links_in_new_tab('<html><HEAD lang="en"><title>x</title>') == (
        '<html><HEAD lang="en"><base target="_blank"><title>x</title>'
    )
    assert with_links_in_new_tab("<p>no head</p>") == '<base target="_blank"><p>no head</p>'
    assert with_links_in_new_tab("<header>x</header>") == '<base target="_blank"><header>x</header>'


@pytest.mark.parametrize("status", [Status.QUEUED, Status.FAILED, Status.CANCELLED])
def test_a_message_not_sent_has_no_page(client, scheduler, status):
    message = sent_email(1, status=status)
    client.force_login(scheduler)
    assert client.get(reverse("clinic:sent_email", args=[message.pk])).status_code == 404
    assert client.get(reverse("clinic:sent_email_html", args=[message.pk])).status_code == 404


@pytest.mark.parametrize("role", [Role.REFERRER, Role.PROVIDER])
def test_everyone_else_gets_404_and_no_navigation_link(client, users_by_role, role):
    message = sent_email(1)
    client.force_login(users_by_role[role])
    for url in sent_email_urls(message):
        assert client.get(url).status_code == 404, url
    home = client.get(reverse(role.spec.landing_url)).content.decode()
    assert reverse("clinic:sent_emails") not in home
    assert not AuditEvent.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client):
    message = sent_email(1)
    for url in sent_email_urls(message):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_with_an_smtp_server_the_pages_do_not_exist_and_are_not_linked(client, clinic_admin, settings):
    settings.EMAIL_HOST = "smtp.clinic.example"
    message = sent_email(1)
    client.force_login(clinic_admin)
    for url in sent_email_urls(message):
        assert client.get(url).status_code == 404, url
    assert reverse("clinic:sent_emails") not in client.get(reverse("clinic:messages")).content.decode()


def test_the_list_paginates_by_50(client, scheduler):
    for n in range(51):
        sent_email(n, sent_at=SENT_AT + dt.timedelta(minutes=n))
    client.force_login(scheduler)
    first = client.get(reverse("clinic:sent_emails")).content.decode()
    second = client.get(reverse("clinic:sent_emails"), {"page": 2}).content.decode()
    assert "dr.50@practice.example" in first
    assert "dr.0@practice.example" not in first
    assert "dr.0@practice.example" in second
    assert "Page 2 of 2" in second


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(client, scheduler, django_assert_num_queries, rows):
    for n in range(rows):
        sent_email(n)
    client.force_login(scheduler)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 user and group permissions (role check; the navigation reuses
    # them), 6 count for the paginator, 7 the page of rows (no bodies), 8-10 savepoint, session
    # update, release (the session is saved on every request for the idle timeout)
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(11):
        response = client.get(reverse("clinic:sent_emails"))
    assert response.status_code == 200


def test_an_email_sent_through_the_file_backend_is_written_to_a_file_and_readable_here(
    client, scheduler, settings, tmp_path
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    message = outbox.message_queue(
        key="file:1", kind="portal_invitation", to_email="dr.file@practice.example", template="portal_invitation",
        context={"physician": "Dr File", "link": LINK},
    )  # fmt: skip
    assert outbox.message_deliver(message_id=message.pk) == Status.SENT
    (written,) = tmp_path.iterdir()
    assert "dr.file@practice.example" in written.read_text()
    client.force_login(scheduler)
    page = client.get(reverse("clinic:sent_email", args=[message.pk])).content.decode()
    assert "Dear Dr File," in page


def sent_email_urls(message: OutgoingMessage) -> list[str]:
    return [
        reverse("clinic:sent_emails"),
        reverse("clinic:sent_email", args=[message.pk]),
        reverse("clinic:sent_email_html", args=[message.pk]),
    ]
