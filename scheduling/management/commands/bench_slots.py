"""Benchmark the slot finder on a reproducible data set in a throwaway database.

    python manage.py bench_slots [--runs 25] [--json]

Builds 5 providers, 3 locations, 8 rooms, holidays and time off, and about 3,000 booked
appointments over 90 days (then 4x and 16x as many, spread over 4x and 16x the days, so
the density a search meets stays that of a busy clinic), and times two searches:

- "next20":   the next 20 slots for an epidural anywhere;
- "provider": every slot of one provider over 4 weeks.

For each it prints the median and p95 time, the SQL query count, and the ratio of the
search time to one plain query fetching the appointments the search has to consider.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import (
    Closure,
    Location,
    OpeningRange,
    ProcedureType,
    Provider,
    Room,
    RoomCapability,
    WeekdayHours,
)
from clinic.validators import luhn_check_digit
from conditions.models import CoverageRule
from referrals.models import Patient
from scheduling.models import Appointment, AvailabilityTemplate, TimeOff
from scheduling.selectors import find_slots

BASE_APPOINTMENTS = 3000
BASE_DAYS = 90
SCALES = (1, 4, 16)
SEED = 20261123
# Monday 08:00 in Russellville: the data set starts the next day.
BENCH_NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
STEP = dt.timedelta(minutes=45)  # a 30-minute epidural plus 15 of turnover


class Command(BaseCommand):
    help = "Benchmark the slot finder (median, p95, queries, ratio to a plain query) at 1x, 4x and 16x data."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=25, help="Timed runs per search (default 25).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table.")

    def handle(self, *args, runs: int, json: bool, **options):
        old_name = connection.settings_dict["NAME"]
        # A throwaway database (Django's test database machinery), never the real one.
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            results = {f"{scale}x": self.measure(scale, runs) for scale in SCALES}
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        report = {"database": connection.vendor, "runs": runs, "scales": results}
        if json:
            self.stdout.write(_json(report))
        else:
            self.print_table(report)

    # ----------------------------------------------------------------------- data

    def measure(self, scale: int, runs: int) -> dict:
        _wipe()
        world = build_world(days=BASE_DAYS * scale, appointments=BASE_APPOINTMENTS * scale)
        searches = {
            "next20": lambda: find_slots(procedure_type=world["epidural"], limit=20, now=BENCH_NOW),
            "provider": lambda: find_slots(
                procedure_type=world["epidural"], provider=world["provider"], now=BENCH_NOW,
                start=BENCH_NOW + dt.timedelta(days=1), end=BENCH_NOW + dt.timedelta(days=29),
            ),
        }  # fmt: skip
        out = {"appointments": world["appointments"], "days": BASE_DAYS * scale}
        for name, search in searches.items():
            out[name] = self.time_search(search, world, name, runs)
        return out

    def time_search(self, search, world, name: str, runs: int) -> dict:
        search()  # warm caches (first query plans, ZoneInfo)
        with CaptureQueriesContext(connection) as queries:
            result = search()
        times = [_timed(search) for _ in range(runs)]
        # The same appointments the search loads: 4 weeks, or the finder's first week.
        window = (BENCH_NOW, BENCH_NOW + dt.timedelta(days=29 if name == "provider" else 8))
        plain = [_timed(lambda: _plain_query(world, window)) for _ in range(runs)]
        median = statistics.median(times)
        return {
            "slots": len(result.slots),
            "median_ms": round(median * 1000, 2),
            "p95_ms": round(_p95(times) * 1000, 2),
            "queries": len(queries),
            "plain_query_ms": round(statistics.median(plain) * 1000, 2),
            "ratio_to_plain_query": round(median / statistics.median(plain), 2),
        }

    def print_table(self, report: dict) -> None:
        self.stdout.write(f"Slot finder on {report['database']}, {report['runs']} runs per search\n")
        header = f"{'data':>5} {'appts':>7} {'search':>9} {'slots':>5} {'median ms':>10} {'p95 ms':>8} "
        header += f"{'queries':>7} {'plain ms':>9} {'ratio':>6}"
        self.stdout.write(header)
        for scale, row in report["scales"].items():
            for name in ("next20", "provider"):
                r = row[name]
                self.stdout.write(
                    f"{scale:>5} {row['appointments']:>7} {name:>9} {r['slots']:>5} {r['median_ms']:>10} "
                    f"{r['p95_ms']:>8} {r['queries']:>7} {r['plain_query_ms']:>9} {r['ratio_to_plain_query']:>6}"
                )
        first, last = report["scales"]["1x"], report["scales"][f"{SCALES[-1]}x"]
        for name in ("next20", "provider"):
            growth = last[name]["median_ms"] / max(first[name]["median_ms"], 0.001)
            self.stdout.write(
                f"{name}: time grew {growth:.2f}x while the data grew {SCALES[-1]}x "
                f"(the search window, not the table size, sets the work)"
            )


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _plain_query(world, window) -> int:
    """One plain query for the appointments a search must consider: its baseline."""
    return len(
        list(
            Appointment.objects.active()
            .overlapping(*window)
            .filter(location__in=world["locations"])
            .values_list("provider_id", "room_id", "patient_id", "starts_at", "blocks_until")
        )
    )


def _json(report: dict) -> str:
    return json.dumps(report, sort_keys=True)


def _wipe() -> None:
    CoverageRule.objects.filter(topic__startswith="bench-").delete()
    for model in (Appointment, TimeOff, AvailabilityTemplate, Closure, Patient, Room, Provider, ProcedureType,
                  OpeningRange, WeekdayHours, Location, RoomCapability):  # fmt: skip
        model.objects.all().delete()


def build_world(*, days: int, appointments: int) -> dict:
    """The reproducible data set: same seed, same rows."""
    rng = random.Random(SEED)  # noqa: S311 (a reproducible data set, not a secret)
    fluoro = RoomCapability.objects.create(name="Fluoroscopy", slug="fluoroscopy")
    locations = []
    for i, name in enumerate(("Russellville", "Surgery Center", "Hospital Suite")):
        location = Location.objects.create(
            name=name, slug=f"bench-{i}", street="1 Main St", city="Russellville", state="AR", postal_code="72801",
            phone="479-000-0000", booking_horizon_days=days + 30, minimum_notice_hours=24,
        )  # fmt: skip
        for weekday in range(7):
            day = WeekdayHours.objects.create(
                location=location, weekday=weekday, mode="open" if weekday < 5 else "closed"
            )
            if weekday < 5:
                OpeningRange.objects.create(day=day, opens=dt.time(8), closes=dt.time(17))
        locations.append(location)
    rooms = []
    for i in range(8):
        room = Room.objects.create(location=locations[i % 3], name=f"Fluoro {i + 1}")
        room.capabilities.add(fluoro)
        rooms.append(room)
    epidural = ProcedureType.objects.create(
        name="Epidural steroid injection", slug="epidural", kind="therapeutic", duration_minutes=30,
        turnover_minutes=15,
    )  # fmt: skip
    epidural.locations.set(locations)
    # The coverage rules the finder checks for the benchmark's patient.
    for topic, kind, fields in (
        ("bench-interval", "min_interval", {"min_days": 21}),
        ("bench-yearly", "max_sessions", {"max_count": 4}),
    ):
        rule = CoverageRule.objects.create(
            topic=topic, name=topic, kind=kind, text="Bench rule.", region_grouping="each", **fields
        )
        rule.procedure_types.add(epidural)
    epidural.required_capabilities.add(fluoro)
    providers = []
    for i in range(5):
        base = f"1{i + 1:08d}"
        provider = Provider.objects.create(
            display_name=f"Dr. Bench {i + 1}", npi=base + str(luhn_check_digit("80840" + base))
        )
        providers.append(provider)
        for weekday in range(5):
            AvailabilityTemplate.objects.create(
                provider=provider, location=locations[(i + weekday) % 3], weekday=weekday,
                starts=dt.time(8), ends=dt.time(17), effective_from=dt.date(2026, 1, 1),
            )  # fmt: skip
    first_day = (BENCH_NOW + dt.timedelta(days=1)).date()
    _holidays_and_time_off(rng, providers, first_day, days)
    count = _bookings(rng, locations, rooms, providers, epidural, first_day, days, appointments)
    return {"epidural": epidural, "provider": providers[0], "locations": locations, "appointments": count}


def _holidays_and_time_off(rng, providers, first_day, days) -> None:
    for offset in range(0, days, 30):  # roughly a holiday a month
        day = first_day + dt.timedelta(days=offset + rng.randrange(20))
        Closure.objects.create(start_date=day, end_date=day, reason="Holiday", kind="holiday")
    zone = Location.objects.first().zone
    for provider in providers:
        for offset in range(0, days, 45):
            day = first_day + dt.timedelta(days=offset + rng.randrange(40))
            start = dt.datetime.combine(day, dt.time(8), tzinfo=zone)
            TimeOff.objects.create(provider=provider, starts_at=start, ends_at=start + dt.timedelta(hours=9))


def _bookings(rng, locations, rooms, providers, epidural, first_day, days, target) -> int:
    """Sample `target` non-overlapping bookings on a 45-minute grid (provider, room, patient)."""
    zone = locations[0].zone
    templates = {(t.provider_id, t.weekday): t.location_id for t in AvailabilityTemplate.objects.all()}
    rooms_at = {loc.pk: [r for r in rooms if r.location_id == loc.pk] for loc in locations}
    candidates = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for step in range(12):  # 08:00 to 16:15
            start = dt.datetime.combine(day, dt.time(8), tzinfo=zone).astimezone(dt.UTC) + step * STEP
            for provider in providers:
                candidates.append((start, provider, templates[(provider.pk, day.weekday())]))
    rng.shuffle(candidates)
    patients = Patient.objects.bulk_create(
        Patient(record_number=f"B{i:07d}", first_name="Bench", last_name=f"Patient {i}",
                date_of_birth=dt.date(1960, 1, 1), sex="unknown")
        for i in range(max(200, target // 8))
    )  # fmt: skip
    used_rooms, used_patients, rows = set(), set(), []
    for start, provider, location_id in candidates:
        if len(rows) >= target:
            break
        room = next((r for r in rooms_at[location_id] if (r.pk, start) not in used_rooms), None)
        patient = rng.choice(patients)
        if room is None or (patient.pk, start) in used_patients:
            continue
        used_rooms.add((room.pk, start))
        used_patients.add((patient.pk, start))
        rows.append(Appointment(
            patient=patient, procedure_type=epidural, provider=provider, room=room, location_id=location_id,
            starts_at=start, ends_at=start + dt.timedelta(minutes=30), blocks_until=start + STEP,
        ))  # fmt: skip
    Appointment.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
