"""Twenty schedulers click at once: exactly one booking wins, whatever the database.

On PostgreSQL the losers pass the rule check concurrently and are stopped by the exclusion
constraints; on SQLite immediate transactions serialise them and the losers see the winner
in their check. Either way they answer "just taken" with alternatives.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from scheduling.models import Appointment
from scheduling.services import booking
from tests.factories import PatientFactory, ProcedureOrderFactory, ProviderFactory, RoomFactory
from tests.scheduling.conftest import give_template, local

pytestmark = pytest.mark.django_db(transaction=True)
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
THREADS = 20


def _with_history(world, patient, day: int = 1):
    """A patient seen before (a past consultation), so booking needs no referral."""
    start = local(world.location, 2026, 10, day, 9)
    Appointment.objects.create(
        patient=patient, procedure_type=world.consult, provider=world.provider, room=world.exam,
        location=world.location, starts_at=start, ends_at=start + dt.timedelta(minutes=45),
        blocks_until=start + dt.timedelta(minutes=45), status="completed",
    )  # fmt: skip
    return patient


def _race(world, scheduler, bookings: list[dict]) -> tuple[list, list]:
    barrier = threading.Barrier(len(bookings))
    offered_at = timezone.now()  # every scheduler saw the slot free before anyone booked
    wins, losses = [], []
    lock = threading.Lock()

    def attempt(kwargs):
        try:
            barrier.wait(timeout=30)
            appointment = booking.appointment_book(
                actor=scheduler, procedure_type=world.epidural, location=world.location,
                starts_at=local(world.location, 2026, 12, 1, 9), now=NOW, offered_at=offered_at, **kwargs,
            )  # fmt: skip
            with lock:
                wins.append(appointment)
        except booking.SlotUnavailable as exc:  # SlotTaken is one
            with lock:
                losses.append(exc)
        finally:
            connection.close()

    for kwargs in bookings:  # a procedure is booked from an order, one each
        kwargs["order"] = ProcedureOrderFactory(patient=kwargs["patient"], procedure_type=world.epidural)
    threads = [threading.Thread(target=attempt, args=(kwargs,)) for kwargs in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return wins, losses


def _rooms(world, n):
    capabilities = list(world.fluoro.capabilities.all())
    return [RoomFactory(location=world.location, name=f"Fluoro {i:02d}", capabilities=capabilities) for i in range(n)]


def _providers(world, n):
    providers = [ProviderFactory(display_name=f"Dr. Race {i:02d}", locations=[world.location]) for i in range(n)]
    for provider in providers:
        give_template(provider, world.location)
    return providers


def _assert_one_winner(wins, losses):
    assert len(wins) == 1
    assert len(losses) == THREADS - 1
    assert Appointment.objects.filter(starts_at=wins[0].starts_at).count() == 1
    # Losers stopped by the exclusion constraint (PostgreSQL) or seeing the winner in their
    # check (SQLite's serialised transactions) get the same answer.
    assert all(isinstance(loss, booking.SlotTaken) for loss in losses), [str(loss) for loss in losses]
    assert all(str(loss) == booking.JUST_TAKEN for loss in losses)
    assert all(loss.alternatives for loss in losses)


def test_twenty_bookings_of_one_provider_at_once_yield_exactly_one(world, scheduler):
    rooms = _rooms(world, THREADS)
    patients = [_with_history(world, PatientFactory(), day=i + 1) for i in range(THREADS)]
    wins, losses = _race(world, scheduler, [
        {"provider": world.provider, "room": rooms[i], "patient": patients[i]} for i in range(THREADS)
    ])  # fmt: skip
    _assert_one_winner(wins, losses)


def test_twenty_bookings_of_one_room_at_once_yield_exactly_one(world, scheduler):
    providers = _providers(world, THREADS)
    patients = [_with_history(world, PatientFactory(), day=i + 1) for i in range(THREADS)]
    wins, losses = _race(world, scheduler, [
        {"provider": providers[i], "room": world.fluoro, "patient": patients[i]} for i in range(THREADS)
    ])  # fmt: skip
    _assert_one_winner(wins, losses)


def test_twenty_bookings_of_one_patient_at_once_yield_exactly_one(world, scheduler):
    providers = _providers(world, THREADS)
    rooms = _rooms(world, THREADS)
    patient = _with_history(world, world.patient)
    wins, losses = _race(world, scheduler, [
        {"provider": providers[i], "room": rooms[i], "patient": patient} for i in range(THREADS)
    ])  # fmt: skip
    _assert_one_winner(wins, losses)


@pytest.mark.postgres
def test_the_database_itself_refuses_an_overlapping_insert(world):
    from django.db import IntegrityError, transaction

    start = local(world.location, 2026, 12, 1, 9)
    fields = {
        "procedure_type": world.epidural, "provider": world.provider, "room": world.fluoro,
        "location": world.location, "starts_at": start, "ends_at": start + dt.timedelta(minutes=30),
        "blocks_until": start + dt.timedelta(minutes=45),
    }  # fmt: skip
    Appointment.objects.create(patient=world.patient, **fields)
    moved = {**fields, "starts_at": start + dt.timedelta(minutes=30), "ends_at": start + dt.timedelta(minutes=60),
             "blocks_until": start + dt.timedelta(minutes=75)}  # fmt: skip
    with pytest.raises(IntegrityError, match="appointment_no_provider_overlap"), transaction.atomic():
        Appointment.objects.create(patient=PatientFactory(), **moved)
    # Back to back after the turnover is fine, and a cancelled booking frees its time.
    after = {**fields, "starts_at": start + dt.timedelta(minutes=45), "ends_at": start + dt.timedelta(minutes=75),
             "blocks_until": start + dt.timedelta(minutes=90)}  # fmt: skip
    Appointment.objects.create(patient=PatientFactory(), **after)
    Appointment.objects.filter(starts_at=start).update(status="cancelled")
    Appointment.objects.create(patient=PatientFactory(), **fields)
