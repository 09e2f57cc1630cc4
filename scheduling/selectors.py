"""Reads for scheduling: the slot finder and the pages' lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.shortcuts import get_object_or_404
from django.utils import timezone

from clinic.models import Location, ProcedureType, Provider, Room
from referrals.models import Patient, Referral
from scheduling.availability import Candidate, RepeatLimit, SlotRules, local_grid
from scheduling.models import Appointment


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime  # UTC
    location: Location
    provider: Provider
    room: Room

    @property
    def local(self) -> dt.datetime:
        return self.starts_at.astimezone(self.location.zone)


@dataclass
class SlotSearch:
    slots: list[Slot] = field(default_factory=list)
    # When the repeat policy pushes the earliest date out: why and from when.
    repeat_limit: RepeatLimit | None = None

    def by_day(self) -> list[tuple[dt.date, list[Slot]]]:
        days: dict[dt.date, list[Slot]] = {}
        for slot in self.slots:
            days.setdefault(slot.local.date(), []).append(slot)
        return list(days.items())


def search_window(*, locations: list[Location], now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """From the soonest minimum notice to the furthest booking horizon of these locations."""
    notice = min((loc.minimum_notice_hours for loc in locations), default=24)
    horizon = max((loc.booking_horizon_days for loc in locations), default=90)
    return now + dt.timedelta(hours=notice), now + dt.timedelta(days=horizon)


def find_slots(
    *,
    procedure_type: ProcedureType,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    location: Location | None = None,
    provider: Provider | None = None,
    patient: Patient | None = None,
    limit: int | None = None,
    exclude_appointment_id: int | None = None,
    now: dt.datetime | None = None,
) -> SlotSearch:
    """Bookable start times for a procedure, soonest first, each with provider and room.

    Every candidate is judged by ``SlotRules.problem``, the same check booking makes.
    """
    now = now or timezone.now()
    if start is None or end is None:
        candidates = list(procedure_type.locations.filter(is_active=True)) if location is None else [location]
        default_start, default_end = search_window(locations=candidates, now=now)
        start, end = start or default_start, end or default_end
    result = SlotSearch()
    # A slot near a window's end still occupies time past it: load that much more.
    reach = dt.timedelta(minutes=procedure_type.occupied_minutes)
    for window_start, window_end in _windows(start, end, expanding=bool(limit)):
        rules = SlotRules.load(
            procedure_type=procedure_type,
            range_start=window_start,
            range_end=window_end + reach,
            now=now,
            location=location,
            provider=provider,
            patient=patient,
            exclude_appointment_id=exclude_appointment_id,
        )
        for day in _days(rules, window_start, window_end):
            found = [
                slot
                for loc in rules.locations
                for slot in _slots_on(rules, loc, day, window_start, window_end, provider)
            ]
            found.sort(key=lambda s: (s.starts_at, s.location.name, s.provider.display_name))
            result.slots.extend(found)
        if patient is not None and rules.history and result.repeat_limit is None:
            result.repeat_limit = rules.repeat_limit(start)
        if limit and len(result.slots) >= limit:
            result.slots = result.slots[:limit]
            break
    return result


# "The next 20 slots" rarely needs more than the first week: load that first, and only
# widen (4x each time) when it did not hold enough, so the work follows the answer, not
# the size of the booking horizon.
FIRST_WINDOW = dt.timedelta(days=7)


def _windows(start: dt.datetime, end: dt.datetime, *, expanding: bool):
    if not expanding:
        yield start, end
        return
    size = FIRST_WINDOW
    while start < end:
        window_end = min(end, start + size)
        yield start, window_end
        start, size = window_end, size * 4


def _days(rules: SlotRules, start: dt.datetime, end: dt.datetime):
    zones = {loc.zone for loc in rules.locations} or {timezone.get_current_timezone()}
    first = min(start.astimezone(z).date() for z in zones)
    last = max(end.astimezone(z).date() for z in zones)
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _slots_on(
    rules: SlotRules, location: Location, day: dt.date, start: dt.datetime, end: dt.datetime, only: Provider | None
):
    if rules.closure_on(location, day):
        return
    providers = [only] if only else [rules.providers[pid] for pid in sorted(rules.providers)]
    turnover = dt.timedelta(minutes=rules.procedure_type.turnover_minutes)
    duration = dt.timedelta(minutes=rules.procedure_type.duration_minutes)
    for provider in providers:
        for opens, closes in rules.provider_windows(provider.pk, location, day):
            for local_start in local_grid(day, location.zone, opens, closes, location.slot_grid_minutes):
                starts_at = local_start.astimezone(dt.UTC)
                if not start <= starts_at < end:
                    continue
                if rules.problem(Candidate(location, provider, None, starts_at)) is not None:
                    continue
                room = rules.free_room(location, starts_at, starts_at + duration + turnover)
                yield Slot(starts_at=starts_at, location=location, provider=provider, room=room)


# --- Pages ------------------------------------------------------------------------------


def referrals_to_schedule():
    """Accepted referrals waiting for their first appointment: urgent first, then oldest."""
    return (
        Referral.objects.filter(status=Referral.Status.ACCEPTED)
        .select_related("patient", "first_visit", "preferred_provider", "referring_physician__practice")
        .order_by("-urgency", "received_at", "pk")
    )


def appointments_between(*, start: dt.datetime, end: dt.datetime, location: Location | None = None,
                         provider: Provider | None = None):  # fmt: skip
    """Appointments starting in [start, end), with everything a calendar shows preloaded."""
    appointments = Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end).select_related(
        "patient", "procedure_type", "provider", "room", "location", "referral"
    )
    if location is not None:
        appointments = appointments.filter(location=location)
    if provider is not None:
        appointments = appointments.filter(provider=provider)
    return appointments.order_by("starts_at", "pk")


def get_appointment(pk: int) -> Appointment:
    """The appointment page's access helper: staff only reach it (role_required), 404 if missing."""
    return get_object_or_404(
        Appointment.objects.select_related(
            "patient", "procedure_type", "provider", "room", "location", "referral__referring_physician"
        ),
        pk=pk,
    )


def appointments_hit_by_closure(closure) -> list[Appointment]:
    """Active appointments on the closed days, at the closed location (or any, for all)."""
    locations = [closure.location] if closure.location_id else list(Location.objects.all())
    hit = Appointment.objects.none()
    for location in locations:
        start = dt.datetime.combine(closure.start_date, dt.time(0), tzinfo=location.zone)
        end = dt.datetime.combine(closure.end_date + dt.timedelta(days=1), dt.time(0), tzinfo=location.zone)
        hit |= Appointment.objects.active().filter(location=location, starts_at__gte=start, starts_at__lt=end)
    return list(hit.select_related("patient", "procedure_type", "provider", "location").order_by("starts_at"))


def appointments_hit_by_time_off(time_off) -> list[Appointment]:
    return list(
        Appointment.objects.active()
        .overlapping(time_off.starts_at, time_off.ends_at)
        .filter(provider=time_off.provider_id)
        .select_related("patient", "procedure_type", "provider", "location")
        .order_by("starts_at")
    )
