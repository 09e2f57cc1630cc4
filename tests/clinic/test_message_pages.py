"""Messages needing attention (staff page) and the ledger in the Django admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from clinic.models import AuditEvent, OutgoingMessage
from clinic.roles import Role

pytestmark = pytest.mark.django_db

Status = OutgoingMessage.Status
DUE = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def ledger_row(n: int, *, status: str = Status.FAILED, kind: str = "appointment_reminder", **extra) -> OutgoingMessage:
    return OutgoingMessage.objects.create(
        key=f"page:{n}", kind=kind, to_email=extra.pop("to_email", f"patient{n}@example.org"),
        subject=f"Your appointment {n}", body_text="text", body_html="<p>html</p>", status=status,
        due_at=extra.pop("due_at", DUE), attempts=6 if status == Status.FAILED else 1,
        last_error="SMTPDataError: (451, b'4.7.1 Greylisted')" if status == Status.FAILED else "", **extra,
    )  # fmt: skip


@pytest.mark.parametrize("role", [Role.CLINIC_ADMIN, Role.SCHEDULER, Role.INTAKE])
def test_staff_who_handle_patients_see_failed_messages_with_error_recipient_kind_and_due_time(
    client, users_by_role, role
):
    ledger_row(1, to_email="jo.reyes@example.org", kind="appointment_confirmation")
    ledger_row(2, status=Status.SENT, to_email="delivered@example.org")
    client.force_login(users_by_role[role])
    response = client.get(reverse("clinic:messages"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Messages needing attention" in content
    assert "jo.reyes@example.org" in content
    assert "appointment_confirmation" in content
    assert "Greylisted" in content
    assert "2 Mar 2026, 9:00 AM" in content  # 15:00 UTC in the clinic's zone (America/Chicago)
    assert "delivered@example.org" not in content  # sent: nothing to do
    assert reverse("clinic:message_resend", args=[OutgoingMessage.objects.get(key="page:1").pk]) in content
    assert f'href="{reverse("clinic:messages")}"' in content  # the navigation link


@pytest.mark.parametrize("role", [Role.REFERRER, Role.PROVIDER])
def test_everyone_else_gets_404_and_no_navigation_link(client, users_by_role, role):
    failed = ledger_row(1)
    client.force_login(users_by_role[role])
    assert client.get(reverse("clinic:messages")).status_code == 404
    assert client.post(reverse("clinic:message_resend", args=[failed.pk])).status_code == 404
    assert OutgoingMessage.objects.get(pk=failed.pk).status == Status.FAILED
    home = client.get(reverse(role.spec.landing_url)).content.decode()
    assert reverse("clinic:messages") not in home


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("clinic:messages"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_resend_queues_the_message_again_records_who_and_returns_to_the_same_filter(client, scheduler):
    failed = ledger_row(1)
    client.force_login(scheduler)
    response = client.post(
        reverse("clinic:message_resend", args=[failed.pk]), {"query": "status=failed&recipient=patient1"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("clinic:messages") + "?status=failed&recipient=patient1"
    stored = OutgoingMessage.objects.get(pk=failed.pk)
    assert (stored.status, stored.attempts, stored.dispatched_at) == (Status.QUEUED, 0, None)
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.object_id) == (scheduler, AuditEvent.Action.UPDATE, str(failed.pk))
    page = client.get(response["Location"]).content.decode()
    assert "queued again" in page


def test_resending_twice_changes_nothing_the_second_time(client, intake):
    failed = ledger_row(1)
    client.force_login(intake)
    client.post(reverse("clinic:message_resend", args=[failed.pk]))
    response = client.post(reverse("clinic:message_resend", args=[failed.pk]), follow=True)
    assert "no longer failed" in response.content.decode()
    assert AuditEvent.objects.count() == 1


def test_resend_needs_post_and_a_csrf_token(scheduler):
    failed = ledger_row(1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(scheduler)
    assert client.get(reverse("clinic:message_resend", args=[failed.pk])).status_code == 405
    assert client.post(reverse("clinic:message_resend", args=[failed.pk])).status_code == 403
    assert OutgoingMessage.objects.get(pk=failed.pk).status == Status.FAILED


def test_resend_of_an_unknown_message_is_404(client, scheduler):
    client.force_login(scheduler)
    assert client.post(reverse("clinic:message_resend", args=[999999])).status_code == 404


def test_filters_by_status_kind_recipient_and_due_date(client, clinic_admin):
    ledger_row(1, to_email="ann@example.org", kind="appointment_reminder")
    ledger_row(2, to_email="bob@example.org", kind="follow_up_check")
    ledger_row(3, status=Status.SENT, to_email="cy@example.org", kind="appointment_reminder")
    ledger_row(4, to_email="dee@example.org", due_at=DUE + dt.timedelta(days=10))
    client.force_login(clinic_admin)

    def shown(**query) -> set[str]:
        page = client.get(reverse("clinic:messages"), query).content.decode()
        return {email for email in ("ann", "bob", "cy", "dee") if f"{email}@example.org" in page}

    assert shown() == {"ann", "bob", "dee"}  # failed, by default
    assert shown(status="") == {"ann", "bob", "cy", "dee"}
    assert shown(status="sent") == {"cy"}
    assert shown(status="", kind="follow_up_check") == {"bob"}
    assert shown(status="failed", recipient="BOB@") == {"bob"}
    assert shown(status="failed", since="2026-03-05") == {"dee"}
    assert shown(status="failed", until="2026-03-02") == {"ann", "bob"}
    assert shown(status="nonsense") == {"ann", "bob", "dee"}  # a bad filter falls back to failed
    assert shown(page="1") == {"ann", "bob", "dee"}  # a page link without a status: still failed


def test_the_page_query_count_does_not_grow_with_messages(client, scheduler, django_assert_num_queries):
    for n in range(3):
        ledger_row(n)
    client.force_login(scheduler)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 user and group permissions (role check), 6 distinct kinds for
    # the filter, 7 count for the paginator, 8 the page of messages, 9-11 savepoint, session
    # update, release (the session is saved on every request for the idle timeout)
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(12):
        response = client.get(reverse("clinic:messages"))
    assert response.content.decode().count("Resend<span") == 3
    for n in range(3, 40):
        ledger_row(n, kind=f"kind_{n % 4}")
    with django_assert_num_queries(12):
        response = client.get(reverse("clinic:messages"))
    assert response.content.decode().count("Resend<span") == 40


# --- the Django admin --------------------------------------------------------------------------


def test_admin_lists_the_ledger_with_filters_search_and_date_drilldown(client, clinic_admin):
    ledger_row(1, to_email="ann@example.org")
    ledger_row(2, to_email="bob@example.org", status=Status.SENT)
    client.force_login(clinic_admin)
    url = reverse("admin:clinic_outgoingmessage_changelist")
    page = client.get(url).content.decode()
    assert "ann@example.org" in page
    assert "bob@example.org" in page
    assert "By status" in page
    assert "By kind" in page
    assert "By due at" in page
    searched = client.get(url, {"q": "ann@"}).content.decode()
    assert "ann@example.org" in searched
    assert "bob@example.org" not in searched
    filtered = client.get(url, {"status__exact": "sent"}).content.decode()
    assert "bob@example.org" in filtered
    assert "ann@example.org" not in filtered
    drilled = client.get(url, {"due_at__year": "2026", "due_at__month": "3"}).content.decode()
    assert "ann@example.org" in drilled


def test_admin_resend_action_queues_only_failed_messages(client, clinic_admin):
    failed = ledger_row(1)
    sent = ledger_row(2, status=Status.SENT)
    client.force_login(clinic_admin)
    response = client.post(
        reverse("admin:clinic_outgoingmessage_changelist"),
        {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )
    assert "1 message(s) queued again; 1 skipped" in response.content.decode()
    assert OutgoingMessage.objects.get(pk=failed.pk).status == Status.QUEUED
    assert OutgoingMessage.objects.get(pk=sent.pk).status == Status.SENT
