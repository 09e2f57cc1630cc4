"""Issue 10 item 6: one client address, honouring PROXY_COUNT, for the lockout and the audit log."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from clinic.audit import audit_record
from clinic.client_ip import client_ip
from clinic.models import AuditEvent

PROXY = "10.0.0.2"  # REMOTE_ADDR behind the TLS proxy: every request comes from it
ALICE = "198.51.100.7"
BOB = "198.51.100.8"


def _request(rf, forwarded: str | None = None, **meta):
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return rf.get("/", REMOTE_ADDR=PROXY, **meta)


def test_without_proxies_the_header_is_ignored(rf, settings):
    settings.PROXY_COUNT = 0
    assert client_ip(_request(rf, f"{ALICE}")) == PROXY


def test_behind_one_proxy_the_address_it_saw_is_the_client(rf, settings):
    settings.PROXY_COUNT = 1
    assert client_ip(_request(rf, ALICE)) == ALICE


def test_behind_one_proxy_a_forged_left_entry_is_not_believed(rf, settings):
    settings.PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: BOB"; the proxy appended the address it saw.
    assert client_ip(_request(rf, f"{BOB}, {ALICE}")) == ALICE
    assert client_ip(_request(rf, f"not-an-address, {ALICE}")) == ALICE


def test_behind_one_proxy_other_client_headers_are_not_believed(rf, settings):
    settings.PROXY_COUNT = 1
    assert client_ip(_request(rf, ALICE, HTTP_CLIENT_IP=BOB, HTTP_X_REAL_IP=BOB)) == ALICE


def test_behind_two_proxies_the_entry_the_outer_one_wrote_is_the_client(rf, settings):
    settings.PROXY_COUNT = 2
    assert client_ip(_request(rf, f"{BOB}, {ALICE}, 10.0.0.9")) == ALICE


def test_a_request_that_skipped_the_proxy_falls_back_to_the_connection(rf, settings):
    settings.PROXY_COUNT = 1
    assert client_ip(_request(rf)) == PROXY


@pytest.mark.django_db
def test_the_audit_log_records_the_client_behind_the_proxy(rf, settings, scheduler):
    settings.PROXY_COUNT = 1
    request = _request(rf, f"{BOB}, {ALICE}")
    request.user = scheduler
    event = audit_record(request=request, action=AuditEvent.Action.VIEW, obj=scheduler)
    event.refresh_from_db()
    assert event.ip_address == ALICE


@pytest.mark.django_db
def test_a_lockout_behind_the_proxy_locks_one_client_not_everyone_behind_it(client, settings, scheduler):
    settings.PROXY_COUNT = 1

    def attempt(forwarded: str, password: str):
        data = {"username": scheduler.email, "password": password}
        return client.post(reverse("login"), data, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)

    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = attempt(ALICE, "wrong-password")
    assert response.status_code == 429
    # Alice naming Bob's address does not get her out of her own lockout.
    assert attempt(f"{BOB}, {ALICE}", "correct-horse-battery").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ALICE}
    # Bob, behind the same proxy, still logs in.
    assert attempt(BOB, "correct-horse-battery").status_code == 302


def test_compose_and_readme_name_proxy_count_for_the_tls_proxy():
    from tests.clinic.test_deployment import ROOT, compose

    assert "PROXY_COUNT" in compose()["services"]["web"]["environment"]
    assert "`PROXY_COUNT=1`" in (ROOT / "README.md").read_text()
