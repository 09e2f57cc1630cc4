"""Issue 10 item 8: the public access-request form answers the same for any address and is
throttled per client and per address."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.models import ThrottleHit
from referrals.models import PortalAccessRequest
from referrals.portal_services import (
    ACCESS_REQUESTS_PER_ADDRESS,
    ACCESS_REQUESTS_PER_CLIENT,
    TOO_MANY_ACCESS_REQUESTS,
)
from referrals.views.portal import ACCESS_REQUESTED

pytestmark = pytest.mark.django_db


def _data(email: str = "lee@park.example", **overrides) -> dict:
    return {"first_name": "Lee", "last_name": "Park", "email": email, "npi": "1234567893",
            "practice_name": "Park Clinic", "practice_phone": "479-555-0199", **overrides}  # fmt: skip


def _submit(client, data: dict, ip: str = "198.51.100.7"):
    return client.post(reverse("referrals:request_access"), data, REMOTE_ADDR=ip)


def _answer(response) -> tuple:
    return response.status_code, response.get("Location"), [str(m) for m in get_messages(response.wsgi_request)]


def test_a_new_a_waiting_and_an_existing_users_address_get_the_same_answer(referrer):
    # A fresh browser each time, so the answers are not mixed in one session's messages.
    new = _answer(_submit(Client(), _data("new@park.example"), ip="198.51.100.1"))
    _submit(Client(), _data("waiting@park.example"), ip="198.51.100.2")
    waiting = _answer(_submit(Client(), _data("Waiting@Park.example"), ip="198.51.100.3"))
    existing = _answer(_submit(Client(), _data(referrer.email.upper()), ip="198.51.100.4"))
    assert new == waiting == existing == (302, reverse("login"), [ACCESS_REQUESTED])


def test_a_second_request_for_a_waiting_address_leaves_the_first_one(client):
    _submit(client, _data(first_name="Lee"))
    _submit(client, _data(first_name="Someone", email="LEE@park.example"), ip="203.0.113.9")
    assert list(PortalAccessRequest.objects.values_list("first_name", "email")) == [("Lee", "lee@park.example")]


def test_one_address_is_throttled_whatever_client_asks(client):
    for n in range(ACCESS_REQUESTS_PER_ADDRESS.count):
        assert _submit(client, _data(), ip=f"198.51.100.{n + 1}").status_code == 302
    response = _submit(client, _data("LEE@Park.example", practice_name="Typed again"), ip="203.0.113.50")
    assert response.status_code == 429
    page = response.content.decode()
    assert TOO_MANY_ACCESS_REQUESTS in page
    assert 'value="Typed again"' in page  # nothing typed is lost


def test_one_client_is_throttled_whatever_addresses_it_tries(client):
    for n in range(ACCESS_REQUESTS_PER_CLIENT.count):
        assert _submit(client, _data(f"probe{n}@park.example")).status_code == 302
    assert _submit(client, _data("probe-last@park.example")).status_code == 429
    assert not PortalAccessRequest.objects.filter(email="probe-last@park.example").exists()
    # Another client is not held back by this one.
    assert _submit(client, _data("probe-last@park.example"), ip="203.0.113.60").status_code == 302


def test_the_client_limit_is_over_after_its_window(client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(ACCESS_REQUESTS_PER_CLIENT.count):
            _submit(client, _data(f"probe{n}@park.example"))
        assert _submit(client, _data("later@park.example")).status_code == 429
    with time_machine.travel(start + ACCESS_REQUESTS_PER_CLIENT.window + dt.timedelta(minutes=1), tick=False):
        assert _submit(client, _data("later@park.example")).status_code == 302


def test_the_throttle_keeps_no_address_in_the_clear(client):
    _submit(client, _data())
    keys = list(ThrottleHit.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert not any("park.example" in key or "198.51.100.7" in key for key in keys)
