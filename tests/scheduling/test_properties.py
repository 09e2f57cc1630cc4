"""Property-based: whatever the hours, templates, closures and bookings, every slot the
finder offers can be booked, and no sequence of bookings, moves and cancellations leaves
two active appointments overlapping for a provider, a room or a patient."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools

from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from clinic.models import Closure
from scheduling.models import Appointment, AvailabilityTemplate
from scheduling.selectors import find_slots
from scheduling.services import booking
from tests.factories import (
    LocationFactory,
    PatientFactory,
    ProcedureOrderFactory,
    ProcedureTypeFactory,
    ProviderFactory,
    RoomCapabilityFactory,
    RoomFactory,
    UserFactory,
    set_weekday_hours,
)

NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
WEEK_START = dt.date(2026, 11, 30)  # a Monday, beyond the minimum notice

quarter_hours = st.integers(min_value=8 * 4, max_value=16 * 4).map(lambda q: dt.time(q // 4, q % 4 * 15))
# A range is a start and a length (no filtering, so hypothesis never has to give up).
ranges = st.builds(
    lambda start, length: (
        dt.time(start // 4, start % 4 * 15),
        dt.time((start + length) // 4, (start + length) % 4 * 15),
    ),
    st.integers(min_value=7 * 4, max_value=12 * 4),
    st.integers(min_value=2, max_value=28),
)
open_day = ranges.map(lambda r: ("open", r))
day_plan = st.one_of(open_day, open_day, open_day, st.just(("closed", None)), st.just(("by_appointment", None)))
week_plan = st.lists(day_plan, min_size=7, max_size=7)
template_plan = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 6), ranges), min_size=2, max_size=10)
closure_days = st.lists(st.integers(0, 6), max_size=2, unique=True)
operation = st.one_of(
    # Mostly times the finder offers (so bookings happen), sometimes any time at all.
    st.tuples(st.just("book_offered"), st.integers(0, 200), st.integers(0, 2)),
    st.tuples(st.just("book_offered"), st.integers(0, 200), st.integers(0, 2)),
    st.tuples(st.just("move_offered"), st.integers(0, 20), st.integers(0, 200)),
    st.tuples(st.just("book"), st.integers(0, 6), quarter_hours, st.integers(0, 2), st.integers(0, 1)),
    st.tuples(st.just("move"), st.integers(0, 20), st.integers(0, 6), quarter_hours),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
)


class CalendarProperties(TestCase):
    def make_world(self, week, templates, closures):
        self.location = LocationFactory(name="Prop site", slug="prop-site", minimum_notice_hours=24)
        for weekday, (mode, hours) in enumerate(week):
            set_weekday_hours(self.location, weekday, mode, *([hours] if hours else []))
        fluoroscopy = RoomCapabilityFactory(name="Fluoroscopy", slug="fluoroscopy")
        self.rooms = [
            RoomFactory(location=self.location, name=f"Fluoro {i}", capabilities=[fluoroscopy]) for i in range(2)
        ]
        self.providers = [ProviderFactory(locations=[self.location]) for _ in range(2)]
        for provider_index, weekday, (starts, ends) in templates:
            AvailabilityTemplate.objects.create(
                provider=self.providers[provider_index], location=self.location, weekday=weekday,
                starts=starts, ends=ends, effective_from=dt.date(2026, 1, 1),
            )  # fmt: skip
        for offset in closures:
            day = WEEK_START + dt.timedelta(days=offset)
            Closure.objects.create(start_date=day, end_date=day, reason="Random closure")
        self.procedure = ProcedureTypeFactory(
            duration_minutes=30, turnover_minutes=15, locations=[self.location], required_capabilities=[fluoroscopy]
        )
        self.patients = [PatientFactory() for _ in range(3)]
        for patient in self.patients:  # seen before, so no referral is needed
            seen = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=patient.pk)
            Appointment.objects.create(
                patient=patient, procedure_type=self.procedure, provider=self.providers[0], room=self.rooms[0],
                location=self.location, starts_at=seen, ends_at=seen + dt.timedelta(minutes=30),
                blocks_until=seen + dt.timedelta(minutes=45), status="completed",
            )  # fmt: skip
        self.scheduler = UserFactory()

    def week_range(self):
        start = dt.datetime.combine(WEEK_START, dt.time(0), tzinfo=self.location.zone)
        return start, start + dt.timedelta(days=7)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(week=week_plan, templates=template_plan, closures=closure_days)
    def test_every_offered_slot_can_be_booked(self, week, templates, closures):
        self.make_world(week, templates, closures)
        start, end = self.week_range()
        slots = find_slots(procedure_type=self.procedure, start=start, end=end, patient=self.patients[0], now=NOW).slots
        for slot in slots:
            assert slot.local.minute % 15 == 0
            day = slot.local.date()
            assert week[day.weekday()][0] == "open"
            assert not Closure.objects.filter(start_date__lte=day, end_date__gte=day).exists()
            with transaction.atomic():
                booking.appointment_book(
                    actor=self.scheduler, patient=self.patients[0], procedure_type=self.procedure,
                    location=self.location, provider=slot.provider, room=slot.room, starts_at=slot.starts_at, now=NOW,
                    order=ProcedureOrderFactory(patient=self.patients[0], procedure_type=self.procedure),
                )  # fmt: skip
                transaction.set_rollback(True)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(week=week_plan, templates=template_plan, operations=st.lists(operation, max_size=25))
    def test_no_sequence_of_changes_yields_an_overlap(self, week, templates, operations):
        self.make_world(week, templates, [])
        for op in operations:
            with contextlib.suppress(ValidationError):  # a refusal is fine; an overlap is not
                self.apply(op)
        active = list(Appointment.objects.active().filter(starts_at__year=2026))
        event(f"active appointments: {min(len(active), 3)}+")
        for a, b in itertools.combinations(active, 2):
            if a.starts_at < b.blocks_until and b.starts_at < a.blocks_until:
                assert a.provider_id != b.provider_id, (a, b)
                assert a.room_id != b.room_id, (a, b)
                assert a.patient_id != b.patient_id, (a, b)

    def apply(self, op):
        kind = op[0]
        booked = list(Appointment.objects.filter(starts_at__year=2026).order_by("pk"))
        if kind in ("book_offered", "move_offered"):
            start, end = self.week_range()
            offered = find_slots(procedure_type=self.procedure, start=start, end=end, now=NOW).slots
            if not offered:
                return
        if kind == "book_offered":
            slot = offered[op[1] % len(offered)]
            self.book(self.patients[op[2]], slot.provider, slot.starts_at, room=slot.room)
        elif kind == "move_offered" and booked:
            slot = offered[op[2] % len(offered)]
            booking.appointment_reschedule(
                appointment=booked[op[1] % len(booked)], actor=self.scheduler, starts_at=slot.starts_at,
                provider=slot.provider, now=NOW,
            )  # fmt: skip
        elif kind == "book":
            _, offset, time, patient_index, provider_index = op
            self.book(self.patients[patient_index], self.providers[provider_index], self.at(offset, time))
        elif kind == "move" and booked:
            _, index, offset, time = op
            booking.appointment_reschedule(
                appointment=booked[index % len(booked)], actor=self.scheduler, starts_at=self.at(offset, time), now=NOW
            )
        elif kind == "cancel" and booked:
            booking.appointment_cancel(
                appointment=booked[op[1] % len(booked)], actor=self.scheduler, reason="Random", now=NOW
            )

    def book(self, patient, provider, starts_at, room=None):
        booking.appointment_book(
            actor=self.scheduler, patient=patient, procedure_type=self.procedure, location=self.location,
            provider=provider, room=room, starts_at=starts_at, now=NOW,
            order=ProcedureOrderFactory(patient=patient, procedure_type=self.procedure),
        )  # fmt: skip

    def at(self, offset: int, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(WEEK_START + dt.timedelta(days=offset), time, tzinfo=self.location.zone)
