"""The triage queue: urgent first, then oldest; deadlines and overdue; filters; queries."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)


def at(day, hour=15):
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def queue(physician, other_physician):
    return {
        "old_routine": ReferralFactory(referring_physician=physician, received_at=at(20), review_due_at=at(25, 6)),
        "new_routine": ReferralFactory(referring_physician=physician, received_at=at(24), review_due_at=at(28)),
        "urgent": ReferralFactory(
            referring_physician=other_physician, urgency="urgent", received_at=at(25), review_due_at=at(26, 6)
        ),  # fmt: skip
        "accepted": ReferralFactory(referring_physician=physician, status="accepted"),
    }


def rows(response) -> list[str]:
    content = response.content.decode()
    return [ref for ref in content.split('href="/referrals/') if ref[:1].isdigit()]


@time_machine.travel(NOW, tick=False)
def test_urgent_first_then_oldest_and_only_waiting_ones(client, intake, queue):
    client.force_login(intake)
    content = client.get(reverse("referrals:triage")).content.decode()
    order = [content.index(queue[k].reference) for k in ("urgent", "old_routine", "new_routine")]
    assert order == sorted(order)
    assert queue["accepted"].reference not in content


@time_machine.travel(NOW, tick=False)
def test_overdue_is_flagged_and_filterable(client, intake, queue):
    client.force_login(intake)
    content = client.get(reverse("referrals:triage"), {"overdue": "1"}).content.decode()
    assert queue["old_routine"].reference in content
    assert queue["urgent"].reference not in content
    assert "Overdue" in content


@time_machine.travel(NOW, tick=False)
def test_filters_by_urgency_practice_and_status(client, intake, queue, other_practice):
    client.force_login(intake)
    content = client.get(reverse("referrals:triage"), {"urgency": "urgent"}).content.decode()
    assert queue["urgent"].reference in content
    assert queue["old_routine"].reference not in content
    content = client.get(reverse("referrals:triage"), {"practice": other_practice.pk}).content.decode()
    assert queue["urgent"].reference in content
    assert queue["new_routine"].reference not in content
    content = client.get(reverse("referrals:triage"), {"status": "accepted"}).content.decode()
    assert queue["accepted"].reference in content
    assert queue["urgent"].reference not in content


def test_triage_query_count_is_constant(client, intake, physician, django_assert_num_queries):
    client.force_login(intake)
    ReferralFactory.create_batch(3, referring_physician=physician)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 paginator count, 7 the page with patients,
    # practices, assignees and procedures joined, 8 practices for the filter,
    # 9-11 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(12):
        client.get(reverse("referrals:triage"))
    ReferralFactory.create_batch(27, referring_physician=physician)
    with django_assert_num_queries(12):
        client.get(reverse("referrals:triage"))


def test_only_intake_works_the_queue(client, scheduler, referrer, clinic_admin):
    for user in (scheduler, referrer, clinic_admin):
        client.force_login(user)
        assert client.get(reverse("referrals:triage")).status_code == 404
