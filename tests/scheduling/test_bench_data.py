"""The benchmark's data set is valid (no overlaps) and reproducible; timing lives in
`make bench`, never in tests."""

import itertools

import pytest

from scheduling.management.commands.bench_slots import BENCH_NOW, build_world
from scheduling.models import Appointment
from scheduling.selectors import find_slots

pytestmark = pytest.mark.django_db


def test_the_benchmark_world_has_no_overlaps_and_offers_slots():
    world = build_world(days=10, appointments=150)
    assert world["appointments"] == Appointment.objects.count() == 150
    rows = list(Appointment.objects.values_list("provider_id", "room_id", "patient_id", "starts_at", "blocks_until"))
    for a, b in itertools.combinations(rows, 2):
        if a[3] < b[4] and b[3] < a[4]:
            assert a[0] != b[0]
            assert a[1] != b[1]
            assert a[2] != b[2]
    assert len(find_slots(procedure_type=world["epidural"], limit=20, now=BENCH_NOW).slots) == 20


def test_the_benchmark_world_is_reproducible():
    build_world(days=10, appointments=60)
    first = sorted(Appointment.objects.values_list("provider__npi", "room__name", "starts_at"))
    Appointment.objects.all().delete()
    from scheduling.management.commands.bench_slots import _wipe

    _wipe()
    build_world(days=10, appointments=60)
    assert sorted(Appointment.objects.values_list("provider__npi", "room__name", "starts_at")) == first
