"""The calendar facts one search or booking needs, loaded once, and the one place every
slot rule is checked.

``SlotRules.load`` reads everything in a fixed number of queries, whatever the range or
the number of appointments; ``SlotRules.problem`` judges one candidate (location, provider,
room, start) and names the first rule it breaks. The slot finder calls it for every grid
time; the booking service calls it once, inside its transaction.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q

from clinic.models import Closure, Location, ProcedureType, Provider, Room, RoomCapability, WeekdayHours
from referrals.models import Patient
from scheduling.care.coverage import Coverage, CoverageLimit
from scheduling.models import Appointment, AvailabilityTemplate, ExtraAvailability, TimeOff

# Problem codes, in the order the checks run; messages live in scheduling.services.booking.
PAST = "past"
NOTICE = "notice"
HORIZON = "horizon"
OFF_GRID = "off_grid"
LOCATION_CANNOT_HOST = "location_cannot_host"
CLOSED = "closed"
CLOSED_WEEKDAY = "closed_weekday"
BY_APPOINTMENT = "by_appointment"
OUTSIDE_HOURS = "outside_hours"
PROVIDER_NOT_HERE = "provider_not_here"
PROVIDER_UNAVAILABLE = "provider_unavailable"
PROVIDER_BUSY = "provider_busy"
ROOM_WRONG_PLACE = "room_wrong_place"
ROOM_LACKS_CAPABILITY = "room_lacks_capability"
ROOM_BUSY = "room_busy"
PATIENT_BUSY = "patient_busy"
COVERAGE_RULE = "coverage_rule"  # a payer's coverage rule (scheduling.care.coverage)

Interval = tuple[dt.datetime, dt.datetime]


class Busy:
    """Merged, sorted busy intervals of one resource, for O(log n) overlap checks."""

    __slots__ = ("starts", "ends")

    def __init__(self, intervals: list[Interval]) -> None:
        merged: list[list[dt.datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [m[0] for m in merged]
        self.ends = [m[1] for m in merged]

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        # The last interval starting before `end` is the only one that can meet [start, end).
        i = bisect.bisect_left(self.starts, end) - 1
        return i >= 0 and self.ends[i] > start


EMPTY = Busy([])


@dataclass(frozen=True)
class Candidate:
    location: Location
    provider: Provider
    room: Room | None
    starts_at: dt.datetime  # aware, any zone

    @property
    def local(self) -> dt.datetime:
        return self.starts_at.astimezone(self.location.zone)


@dataclass
class SlotRules:
    procedure_type: ProcedureType
    now: dt.datetime
    range_start: dt.datetime
    range_end: dt.datetime
    locations: list[Location]
    # location id -> weekday -> mode, and -> weekday -> [(opens, closes)]
    modes: dict[int, dict[int, str]] = field(default_factory=dict)
    opening: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = field(default_factory=dict)
    closures: list[tuple[int | None, dt.date, dt.date, str]] = field(default_factory=list)
    providers: dict[int, Provider] = field(default_factory=dict)
    provider_locations: dict[int, set[int]] = field(default_factory=dict)
    templates: list[AvailabilityTemplate] = field(default_factory=list)
    templates_by_key: dict[tuple[int, int, int], list[AvailabilityTemplate]] = field(default_factory=dict)
    location_ids: set[int] = field(default_factory=set)
    capable_room_ids: set[int] = field(default_factory=set)
    extra: dict[tuple[int, int, dt.date], list[tuple[dt.time, dt.time]]] = field(default_factory=dict)
    rooms: dict[int, list[Room]] = field(default_factory=dict)  # location id -> capable rooms
    provider_busy: dict[int, Busy] = field(default_factory=dict)
    room_busy: dict[int, Busy] = field(default_factory=dict)
    patient_busy: Busy = EMPTY
    # The coverage rules and the patient's sessions they count; the booking's site.
    coverage: Coverage | None = None
    site: dict | None = None
    # Per-day answers, memoised: the finder asks them for every grid time of a day.
    _closures_by_day: dict = field(default_factory=dict)
    _windows_by_day: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls,
        *,
        procedure_type: ProcedureType,
        range_start: dt.datetime,
        range_end: dt.datetime,
        now: dt.datetime,
        location: Location | None = None,
        provider: Provider | None = None,
        patient: Patient | None = None,
        exclude_appointment_id: int | None = None,
        site: dict | None = None,
    ) -> SlotRules:
        """Read every fact the rules need for [range_start, range_end): a fixed number of
        queries (eight, and with a patient the coverage engine's few), whatever the range,
        the appointments or the patient's history."""
        # Local days can start up to a day either side of the UTC range.
        first_day = (range_start - dt.timedelta(days=1)).date()
        last_day = (range_end + dt.timedelta(days=1)).date()

        # 1. locations that may host the procedure
        locations = procedure_type.locations.filter(is_active=True)
        if location is not None:
            locations = locations.filter(pk=location.pk)
        locations = list(locations.order_by("name", "pk"))
        location_ids = [loc.pk for loc in locations]
        rules = cls(procedure_type, now, range_start, range_end, locations)
        rules.location_ids = set(location_ids)

        # 2. weekday modes and opening ranges in one join
        for location_id, weekday, mode, opens, closes in WeekdayHours.objects.filter(
            location_id__in=location_ids
        ).values_list("location_id", "weekday", "mode", "ranges__opens", "ranges__closes"):
            rules.modes.setdefault(location_id, {})[weekday] = mode
            if mode == WeekdayHours.Mode.OPEN and opens is not None:
                rules.opening.setdefault(location_id, {}).setdefault(weekday, []).append((opens, closes))
        for by_weekday in rules.opening.values():
            for ranges in by_weekday.values():
                ranges.sort()

        # 3. closures of these locations or of all
        rules.closures = list(
            Closure.objects.in_force()
            .overlapping(first_day, last_day)
            .filter(Q(location_id__in=location_ids) | Q(location__isnull=True))
            .values_list("location_id", "start_date", "end_date", "reason")
        )

        # 4. rooms at these locations holding every capability the procedure needs
        missing_capability = RoomCapability.objects.filter(procedure_types=procedure_type).exclude(rooms=OuterRef("pk"))
        for room in (
            Room.objects.filter(location_id__in=location_ids, is_active=True)
            .filter(~Exists(missing_capability))
            .order_by("name", "pk")
        ):
            rules.rooms.setdefault(room.location_id, []).append(room)
            rules.capable_room_ids.add(room.pk)

        # 5. weekly templates (with their providers) in force during the range
        templates = AvailabilityTemplate.objects.filter(
            location_id__in=location_ids, provider__is_active=True, effective_from__lte=last_day
        ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=first_day))
        if provider is not None:
            templates = templates.filter(provider=provider)
        rules.templates = list(templates.select_related("provider"))

        # 6. explicit extra availability on dates in the range
        extra = ExtraAvailability.objects.filter(
            location_id__in=location_ids, provider__is_active=True, date__range=(first_day, last_day)
        )
        if provider is not None:
            extra = extra.filter(provider=provider)
        extras = list(extra.select_related("provider"))
        for item in extras:
            rules.extra.setdefault((item.provider_id, item.location_id, item.date), []).append((item.starts, item.ends))

        for prov in [t.provider for t in rules.templates] + [e.provider for e in extras]:
            rules.providers[prov.pk] = prov
        for t in rules.templates:
            rules.provider_locations.setdefault(t.provider_id, set()).add(t.location_id)
            rules.templates_by_key.setdefault((t.provider_id, t.location_id, t.weekday), []).append(t)
        for e in extras:
            rules.provider_locations.setdefault(e.provider_id, set()).add(e.location_id)
        if provider is not None:
            rules.providers.setdefault(provider.pk, provider)
        provider_ids = list(rules.providers)

        # 7. time off of those providers
        busy: dict[int, list[Interval]] = defaultdict(list)
        for provider_id, starts_at, ends_at in TimeOff.objects.filter(
            provider_id__in=provider_ids, starts_at__lt=range_end, ends_at__gt=range_start
        ).values_list("provider_id", "starts_at", "ends_at"):
            busy[provider_id].append((starts_at, ends_at))

        # 8. active appointments that could collide: same providers, rooms or patient
        room_ids = [room.pk for rooms in rules.rooms.values() for room in rooms]
        who = Q(provider_id__in=provider_ids) | Q(room_id__in=room_ids)
        if patient is not None:
            who |= Q(patient=patient)
        appointments = Appointment.objects.active().overlapping(range_start, range_end).filter(who)
        if exclude_appointment_id:
            appointments = appointments.exclude(pk=exclude_appointment_id)
        room_busy: dict[int, list[Interval]] = defaultdict(list)
        patient_busy: list[Interval] = []
        for provider_id, room_id, patient_id, starts_at, blocks_until in appointments.values_list(
            "provider_id", "room_id", "patient_id", "starts_at", "blocks_until"
        ):
            busy[provider_id].append((starts_at, blocks_until))
            room_busy[room_id].append((starts_at, blocks_until))
            if patient is not None and patient_id == patient.pk:
                patient_busy.append((starts_at, blocks_until))
        rules.provider_busy = {pid: Busy(intervals) for pid, intervals in busy.items()}
        rules.room_busy = {rid: Busy(intervals) for rid, intervals in room_busy.items()}
        rules.patient_busy = Busy(patient_busy)

        # 9. the coverage rules and this patient's sessions they count (per region group)
        rules.site = site
        if patient is not None:
            rules.coverage = Coverage.load(
                patient=patient, procedure_type=procedure_type, exclude_appointment_id=exclude_appointment_id
            )
        return rules

    # ------------------------------------------------------------------ windows

    def closure_on(self, location: Location, day: dt.date) -> str | None:
        key = (location.pk, day)
        if key not in self._closures_by_day:
            self._closures_by_day[key] = next(
                (
                    reason
                    for location_id, first, last, reason in self.closures
                    if first <= day <= last and location_id in (None, location.pk)
                ),
                None,
            )
        return self._closures_by_day[key]

    def opening_ranges(self, location: Location, day: dt.date) -> list[tuple[dt.time, dt.time]]:
        return self.opening.get(location.pk, {}).get(day.weekday(), [])

    def mode(self, location: Location, day: dt.date) -> str:
        return self.modes.get(location.pk, {}).get(day.weekday(), WeekdayHours.Mode.CLOSED)

    def provider_windows(self, provider_id: int, location: Location, day: dt.date) -> list[tuple[dt.time, dt.time]]:
        """Wall-clock stretches the provider is scheduled at the location on that day.

        On a by-appointment or closed weekday only explicit availability counts: that is how
        a provider opens such a day.
        """
        key = (provider_id, location.pk, day)
        if key not in self._windows_by_day:
            windows = list(self.extra.get(key, []))
            if self.mode(location, day) == WeekdayHours.Mode.OPEN:
                windows += [
                    (t.starts, t.ends)
                    for t in self.templates_by_key.get((provider_id, location.pk, day.weekday()), [])
                    if t.applies_on(day)
                ]
            self._windows_by_day[key] = _merge(windows)
        return self._windows_by_day[key]

    # ------------------------------------------------------------------ the rules

    def problem(self, candidate: Candidate, *, minutes: int | None = None) -> str | None:
        """The first rule this candidate breaks, or None when it can be booked.

        ``minutes`` overrides the procedure's duration (a longer booking); the turnover
        always follows it.
        """
        pt = self.procedure_type
        location = candidate.location
        # Arithmetic in UTC: adding minutes to an aware local time adds wall-clock minutes,
        # which is wrong across a DST change.
        start = candidate.starts_at.astimezone(dt.UTC)
        duration = dt.timedelta(minutes=minutes or pt.duration_minutes)
        end = start + duration  # real minutes, whatever the wall clock does
        blocked_end = end + dt.timedelta(minutes=pt.turnover_minutes)
        local_start = start.astimezone(location.zone)
        local_end = end.astimezone(location.zone)
        day = local_start.date()

        if start < self.now:
            return PAST
        if start < self.now + dt.timedelta(hours=location.minimum_notice_hours):
            return NOTICE
        if start >= self.now + dt.timedelta(days=location.booking_horizon_days):
            return HORIZON
        if (local_start.hour * 60 + local_start.minute) % location.slot_grid_minutes or local_start.second:
            return OFF_GRID
        if location.pk not in self.location_ids:
            return LOCATION_CANNOT_HOST
        if self.closure_on(location, day):
            return CLOSED
        mode = self.mode(location, day)
        # A closed weekday stays closed unless this provider opened that date explicitly.
        if mode == WeekdayHours.Mode.CLOSED and (candidate.provider.pk, location.pk, day) not in self.extra:
            return CLOSED_WEEKDAY
        if mode == WeekdayHours.Mode.OPEN and not _inside_one(
            self.opening_ranges(location, day), local_start, local_end
        ):
            return OUTSIDE_HOURS
        provider_id = candidate.provider.pk
        windows = self.provider_windows(provider_id, location, day)
        if not windows:
            if mode == WeekdayHours.Mode.BY_APPOINTMENT:
                return BY_APPOINTMENT
            if location.pk not in self.provider_locations.get(provider_id, set()):
                return PROVIDER_NOT_HERE
            return PROVIDER_UNAVAILABLE
        if not _inside_one(windows, local_start, blocked_end.astimezone(location.zone)):
            return PROVIDER_UNAVAILABLE
        if self.provider_busy.get(provider_id, EMPTY).overlaps(start, blocked_end):
            return PROVIDER_BUSY
        room = candidate.room
        if room is not None:
            if room.location_id != location.pk:
                return ROOM_WRONG_PLACE
            if room.pk not in self.capable_room_ids:
                return ROOM_LACKS_CAPABILITY
            if self.room_busy.get(room.pk, EMPTY).overlaps(start, blocked_end):
                return ROOM_BUSY
        elif self.free_room(location, start, blocked_end) is None:
            return ROOM_BUSY
        if self.patient_busy.overlaps(start, blocked_end):
            return PATIENT_BUSY
        if self.coverage_limit(day) is not None:
            return COVERAGE_RULE
        return None

    def free_room(self, location: Location, start: dt.datetime, end: dt.datetime) -> Room | None:
        """The first capable room free for [start, end), by name: the same answer every time."""
        for room in self.rooms.get(location.pk, []):
            if not self.room_busy.get(room.pk, EMPTY).overlaps(start, end):
                return room
        return None

    def coverage_limit(self, day: dt.date) -> CoverageLimit | None:
        """The coverage rule that refuses this procedure on ``day`` (a calendar date at the
        candidate's location) for the patient at the booking's site, if one does."""
        if self.coverage is None:
            return None
        return self.coverage.limit(day, self.site)


def _merge(ranges: list[tuple[dt.time, dt.time]]) -> list[tuple[dt.time, dt.time]]:
    """Sorted ranges with touching or overlapping ones joined (a template plus an extra
    stretch right after it is one continuous window)."""
    merged: list[tuple[dt.time, dt.time]] = []
    for opens, closes in sorted(ranges):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def _inside_one(ranges: list[tuple[dt.time, dt.time]], local_start: dt.datetime, local_end: dt.datetime) -> bool:
    """Whether [local_start, local_end) lies within one wall-clock range of local_start's day."""
    if local_end.date() != local_start.date():
        return False
    start_t, end_t = local_start.time(), local_end.time()
    return any(opens <= start_t and end_t <= closes for opens, closes in ranges)


def local_grid(day: dt.date, zone: ZoneInfo, opens: dt.time, closes: dt.time, grid_minutes: int) -> list[dt.datetime]:
    """Aware start times on the wall-clock grid between ``opens`` and ``closes`` on ``day``.

    Built from wall-clock times, never by adding hours, so the grid survives DST changes;
    a wall time that does not exist that day (the spring-forward gap) is skipped.
    """
    times = []
    minute = -(-(opens.hour * 60 + opens.minute) // grid_minutes) * grid_minutes
    last = closes.hour * 60 + closes.minute
    while minute < last:
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)
        if local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
            times.append(local)
        minute += grid_minutes
    return times
