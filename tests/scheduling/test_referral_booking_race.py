"""Nine schedulers book the first visit of one accepted referral at once, each at a different
free time: one booking wins, the other eight are told the referral was just scheduled (and
by which appointment), and nobody gets a 500.

The referral row is locked inside the booking's transaction, so the losers wait for the
winner's commit and then see the referral scheduled; before, they read it before the lock
and failed on the referral's status change (IllegalTransition)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from referrals.models import Referral
from scheduling.models import Appointment
from scheduling.services import booking
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db(transaction=True)
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
THREADS = 9


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


def _post_bookings(world, scheduler, times: list[dt.datetime]) -> list[tuple[int, str]]:
    """Each thread posts the confirm form for one time, as a scheduler's browser would."""
    barrier = threading.Barrier(len(times))
    offered_at = NOW.isoformat()  # every scheduler saw the referral accepted and the time free
    results, lock = [], threading.Lock()

    def attempt(when: dt.datetime) -> None:
        client = Client()
        client.force_login(scheduler)
        data = {"procedure_type": world.consult.pk, "location": world.location.pk, "provider": world.provider.pk,
                "starts_at": when.isoformat(), "referral": world.referral.pk, "offered_at": offered_at}  # fmt: skip
        try:
            barrier.wait(timeout=30)
            response = client.post(reverse("scheduling:book"), data)
            outcome = (response.status_code, response.content.decode())
        except Exception as exc:  # what the server would answer with a 500
            outcome = (500, repr(exc))
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(when,)) for when in times]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_nine_bookings_of_one_referral_at_once_book_one_and_tell_the_others(world, scheduler):
    # Nine different free times (Tue-Thu, three a day), so only the referral is contended.
    times = [local(world.location, 2026, 12, day, hour) for day in (1, 2, 3) for hour in (9, 11, 14)]
    results = _post_bookings(world, scheduler, times)

    statuses = sorted(status for status, _ in results)
    assert statuses == [302] + [400] * (THREADS - 1), [(s, body[:300]) for s, body in results if s not in (302, 400)]
    booked = Appointment.objects.get(referral=world.referral)
    assert Appointment.objects.filter(patient=world.patient).count() == 1
    world.referral.refresh_from_db()
    assert world.referral.status == Referral.Status.SCHEDULED
    # Each loser reads which appointment holds the referral, on the confirm page it stays on.
    summary = booking.describe(booked)
    expected = booking.REFERRAL_JUST_SCHEDULED.format(reference=world.referral.reference, appointment=summary)
    losers = [body for status, body in results if status == 400]
    assert all(expected.replace("'", "&#x27;") in body for body in losers), losers[0][:2000]


def test_booking_a_referral_scheduled_meanwhile_is_refused_naming_its_appointment(world, scheduler):
    """The service itself, given the referral object read before someone else booked it."""
    stale = Referral.objects.get(pk=world.referral.pk)  # read while still accepted
    first = booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 9), referral=world.referral, now=NOW,
    )  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        booking.appointment_book(
            actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
            provider=world.provider, starts_at=local(world.location, 2026, 12, 2, 9), referral=stale, now=NOW,
        )  # fmt: skip
    assert caught.value.code == "referral_scheduled"
    assert caught.value.messages == [
        booking.REFERRAL_JUST_SCHEDULED.format(reference=world.referral.reference, appointment=booking.describe(first))
    ]
    assert Appointment.objects.filter(patient=world.patient).count() == 1
