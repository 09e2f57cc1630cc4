"""Reads for scheduling: the slot finder and the pages' lists."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.http import Http404
from django.utils import timezone

from clinic import localtime
from clinic.audit import audit_refused, audit_view
from clinic.models import Closure, Location, OutgoingMessage, ProcedureType, Provider, Room, WeekdayHours
from referrals.models import Patient, PatientChange, Referral
from scheduling import lifecycle, links
from scheduling.availability import Candidate, SlotRules, local_grid
from scheduling.care import pain_chart, pathways
from scheduling.care.coverage import CoverageLimit
from scheduling.models import (
    Appointment,
    Course,
    ExtraAvailability,
    FollowUp,
    PatientRequest,
    ProcedureOrder,
    RepeatDue,
)
from scheduling.services import follow_ups


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
    # When a coverage rule refuses the search's first day: which, why and from when.
    coverage_limit: CoverageLimit | None = None

    def grid(self) -> list[tuple[dt.date, list[SlotRow]]]:
        """The finder's grid: per local day, one row per location and provider, soonest first."""
        rows: dict[tuple, SlotRow] = {}
        for slot in self.slots:
            location, provider = slot.location, slot.provider
            key = (slot.local.date(), location.name, location.pk, provider.display_name, provider.pk)
            rows.setdefault(key, SlotRow(day=key[0], location=location, provider=provider)).slots.append(slot)
        days: dict[dt.date, list[SlotRow]] = {}
        for key in sorted(rows):
            days.setdefault(key[0], []).append(rows[key])
        return list(days.items())


@dataclass
class SlotRow:
    """One provider's free times at one location on one day."""

    day: dt.date
    location: Location
    provider: Provider
    slots: list[Slot] = field(default_factory=list)

    @property
    def rooms(self) -> list[str]:
        return sorted({slot.room.name for slot in self.slots})


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
    site: dict | None = None,
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
            site=site,
        )
        for day in _days(rules, window_start, window_end):
            found = [
                slot
                for loc in rules.locations
                for slot in _slots_on(rules, loc, day, window_start, window_end, provider)
            ]
            found.sort(key=lambda s: (s.starts_at, s.location.name, s.provider.display_name))
            result.slots.extend(found)
        if patient is not None and window_start == start:
            # The search's first day at the (first) location: the finder's days are local.
            zone = rules.locations[0].zone if rules.locations else timezone.get_current_timezone()
            result.coverage_limit = rules.coverage_limit(localtime.local_date(start, zone))
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


def day_sheet_appointments(*, start: dt.datetime, end: dt.datetime, provider: Provider) -> list[Appointment]:
    """A provider's appointments still on for [start, end), with the procedure's preparation."""
    return list(
        appointments_between(start=start, end=end, provider=provider)
        .filter(status__in=lifecycle.ACTIVE_STATUSES)
        .select_related("procedure_type")
    )


def calendar_locations() -> list[Location]:
    """The locations a calendar can show, for its location switcher."""
    return list(Location.objects.filter(is_active=True))


@dataclass
class CalendarDay:
    """One local day of a location's calendar: a column per head, and what marks the day."""

    date: dt.date
    mode: str  # WeekdayHours.Mode; a weekday without a row is closed, as for the slot finder
    opening: list[tuple[dt.time, dt.time]]
    closures: list[Closure]
    opened_by: list[ExtraAvailability]  # providers opening this (by-appointment) day
    columns: list[tuple[Provider | Room, list[Appointment]]]

    @property
    def is_by_appointment(self) -> bool:
        return self.mode == WeekdayHours.Mode.BY_APPOINTMENT

    @property
    def is_closed_weekday(self) -> bool:
        return self.mode == WeekdayHours.Mode.CLOSED

    @property
    def can_be_opened(self) -> bool:
        """A by-appointment or closed weekday with no closure: a provider's day can be opened."""
        return (self.is_by_appointment or self.is_closed_weekday) and not self.closures

    @property
    def appointments(self) -> list[Appointment]:
        return [a for _, column in self.columns for a in column]


@dataclass
class LocationCalendar:
    location: Location
    by_room: bool
    heads: list[Provider | Room]
    days: list[CalendarDay]

    @property
    def procedure_types(self) -> list[ProcedureType]:
        """The procedure types on show, for the colour legend."""
        seen = {a.procedure_type_id: a.procedure_type for day in self.days for a in day.appointments}
        return sorted(seen.values(), key=lambda p: p.name)


def location_calendar(*, location: Location, first: dt.date, days: int = 1, by_room: bool = False) -> LocationCalendar:
    """A location's calendar for ``days`` local days from ``first``: a column per active provider
    (or room) and every appointment, with closures, weekday modes and by-appointment openings.

    Five queries whatever the number of days or appointments.
    """
    last = first + dt.timedelta(days=days - 1)
    start, end = localtime.days_bounds(first, last, location.zone)
    # 1. appointments, with everything a calendar shows
    appointments = list(appointments_between(start=start, end=end, location=location))
    # 2. the heads: active rooms, or the active providers of this location
    if by_room:
        heads: list = list(location.rooms.filter(is_active=True))
    else:
        heads = list(Provider.objects.filter(is_active=True, locations=location))
    # An appointment keeps its column even when its provider or room has since left.
    known = {head.pk for head in heads}
    for appointment in appointments:
        head = appointment.room if by_room else appointment.provider
        if head.pk not in known:
            known.add(head.pk)
            heads.append(head)
    # 3. closures of this location or of all, in force on these days
    closures = list(Closure.objects.in_force().affecting(location).overlapping(first, last))
    # 4. weekday modes and opening ranges in one join
    modes: dict[int, str] = {}
    opening: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, mode, opens, closes in WeekdayHours.objects.filter(location=location).values_list(
        "weekday", "mode", "ranges__opens", "ranges__closes"
    ):
        modes[weekday] = mode
        if mode == WeekdayHours.Mode.OPEN and opens is not None:
            opening.setdefault(weekday, []).append((opens, closes))
    # 5. providers opening a date explicitly
    extras = list(
        ExtraAvailability.objects.filter(location=location, date__range=(first, last))
        .select_related("provider")
        .order_by("date", "starts", "provider__display_name")
    )
    cells: dict[tuple[dt.date, int], list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        head_id = appointment.room_id if by_room else appointment.provider_id
        cells[(appointment.starts_at.astimezone(location.zone).date(), head_id)].append(appointment)
    calendar_days = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        calendar_days.append(
            CalendarDay(
                date=day,
                mode=modes.get(day.weekday(), WeekdayHours.Mode.CLOSED),
                opening=sorted(opening.get(day.weekday(), [])),
                closures=[c for c in closures if c.start_date <= day <= c.end_date],
                opened_by=[e for e in extras if e.date == day],
                columns=[(head, cells.get((day, head.pk), [])) for head in heads],
            )
        )
    return LocationCalendar(location=location, by_room=by_room, heads=heads, days=calendar_days)


def orders_to_schedule():
    """Open procedure orders with no active appointment: urgent first, then oldest."""
    booked = Appointment.objects.active().filter(order=OuterRef("pk"))
    urgency_rank = {"urgent": 0, "soon": 1, "routine": 2}
    rank = Case(*(When(urgency=k, then=Value(v)) for k, v in urgency_rank.items()), output_field=IntegerField())
    return (
        ProcedureOrder.objects.filter(status=ProcedureOrder.Status.OPEN)
        .exclude(Exists(booked))
        .select_related("patient", "procedure_type", "ordered_by", "course__pathway", "step")
        .annotate(urgency_rank=rank)
        .order_by("urgency_rank", "ordered_at", "pk")
    )


def get_order(pk: int, *, user) -> ProcedureOrder:
    """The order page's access helper (records the view; 404 if missing)."""
    related = ("patient", "procedure_type", "ordered_by", "course__pathway", "step", "from_appointment")
    return _get_recorded(ProcedureOrder.objects.select_related(*related), pk, user=user)


def get_course(pk: int, *, user) -> Course:
    """The course page's access helper (records the view; 404 if missing)."""
    return _get_recorded(Course.objects.select_related("patient", "pathway__condition", "referral"), pk, user=user)


def get_course_state(pk: int, *, user) -> pathways.CourseState:
    """The course page's access helper with everything it shows: its sessions with their
    outcomes, orders, decisions and the suggestion (a fixed number of queries)."""
    course = _get_recorded(pathways.course_prefetch(Course.objects.all()), pk, user=user)
    return pathways.course_state(course)


def courses_to_decide() -> list[pathways.CourseState]:
    """The providers' worklist: active courses whose latest session has its outcome and no
    decision yet (a rule's suggestion, or no rule: the provider decides), oldest session first.

    Whether a rule holds is the engine's reading, so active courses are judged in Python;
    ``course_prefetch`` keeps it to a fixed number of queries however many there are.
    """
    active = pathways.course_prefetch(Course.objects.filter(status=Course.Status.ACTIVE).order_by("pk"))
    states = [s for s in pathways.course_states(active) if s.suggestion.to_decide]
    return sorted(states, key=lambda s: (s.current.at if s.current else s.course.enrolled_at, s.course.pk))


def patient_courses(patient: Patient) -> list[pathways.CourseState]:
    """The chart's "Courses of care": every course of the patient, active first."""
    courses = pathways.course_prefetch(patient.courses.order_by("status", "-enrolled_at", "-pk"))
    return pathways.course_states(courses)


def provider_for_user(user) -> Provider | None:
    """The provider linked to this login, with the locations whose zone their day is in."""
    return Provider.objects.filter(user=user).prefetch_related("locations").first()


def _get_recorded(queryset: QuerySet, pk: int, *, user):
    """An access helper's core: the row, its view recorded in the audit log; or the refusal
    recorded and 404. Staff only reach these pages (role_required) and see every row."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        audit_refused(user=user, object_type=queryset.model._meta.label, object_id=pk)
        raise Http404
    audit_view(user=user, obj=found)
    return found


def get_appointment(pk: int, *, user) -> Appointment:
    """The appointment page's access helper (records the view; 404 if missing)."""
    related = ("patient", "procedure_type", "provider", "room", "location", "referral__referring_physician", "order")
    return _get_recorded(Appointment.objects.select_related(*related), pk, user=user)


def appointments_hit_by_closure(closure) -> list[Appointment]:
    """Active appointments on the closed days, at the closed location (or any, for all)."""
    locations = [closure.location] if closure.location_id else list(Location.objects.all())
    hit = Appointment.objects.none()
    for location in locations:
        start, end = localtime.days_bounds(closure.start_date, closure.end_date, location.zone)
        hit |= Appointment.objects.active().filter(location=location, starts_at__gte=start, starts_at__lt=end)
    return list(hit.select_related("patient", "procedure_type", "provider", "location").order_by("starts_at"))


def appointments_in_extra_availability(extra) -> list[Appointment]:
    """Active appointments booked in the hours a provider opened on one date."""
    zone = extra.location.zone
    start = dt.datetime.combine(extra.date, extra.starts, tzinfo=zone)
    end = dt.datetime.combine(extra.date, extra.ends, tzinfo=zone)
    return list(
        Appointment.objects.active()
        .filter(provider=extra.provider_id, location=extra.location_id, starts_at__gte=start, starts_at__lt=end)
        .select_related("patient", "procedure_type", "provider", "location")
        .order_by("starts_at")
    )


def appointments_hit_by_time_off(time_off) -> list[Appointment]:
    return list(
        Appointment.objects.active()
        .overlapping(time_off.starts_at, time_off.ends_at)
        .filter(provider=time_off.provider_id)
        .select_related("patient", "procedure_type", "provider", "location")
        .order_by("starts_at")
    )


# --- The call queues and the patient's links ------------------------------------------------


def open_patient_requests():
    """Open requests, oldest first, with what the queue shows preloaded."""
    return (
        PatientRequest.objects.filter(handled_at__isnull=True)
        .select_related(
            "appointment__patient", "appointment__location", "appointment__procedure_type", "appointment__provider"
        )
        .order_by("created_at", "pk")
    )


def get_follow_up(pk: int, *, user) -> FollowUp:
    """The close action's access helper (records the view; 404 if missing)."""
    return _get_recorded(FollowUp.objects.select_related("appointment__patient"), pk, user=user)


def get_patient_request(pk: int, *, user) -> PatientRequest:
    """The mark-handled action's access helper (records the view; 404 if missing)."""
    return _get_recorded(PatientRequest.objects.select_related("appointment"), pk, user=user)


def follow_up_for_link(*, claim: links.LinkClaim) -> FollowUp | None:
    """The follow-up a genuine link names, with what its page shows; None if it is gone or
    the ids do not belong together."""
    if claim.follow_up_id is None:
        return None
    return (
        FollowUp.objects.select_related("appointment__location", "appointment__patient")
        .filter(pk=claim.follow_up_id, appointment_id=claim.appointment_id)
        .first()
    )


def follow_ups_no_response(*, now: dt.datetime | None = None) -> list[FollowUp]:
    """Checks staff should call about, oldest first, each with ``why``.

    The database narrows to unanswered, unclosed, due checks; the call-from moment is
    decided here, in Python, because it depends on the patient's consent
    (``Patient.can_be_emailed``) and the location's wall clock.
    """
    now = now or timezone.now()
    open_checks = (
        FollowUp.objects.filter(answered_at__isnull=True, closed_at__isnull=True, due_at__lte=now)
        .select_related(
            "appointment__patient", "appointment__procedure_type", "appointment__location", "appointment__provider"
        )
        .order_by("due_at", "pk")
    )
    result = []
    for follow_up in open_checks:
        if follow_ups.follow_up_call_from(follow_up) <= now:
            follow_up.why = (
                follow_ups.NO_ANSWER if follow_up.appointment.patient.can_be_emailed else follow_ups.NOT_EMAILED
            )
            result.append(follow_up)
    return result


def later_of_same_type(prefix: str = "") -> QuerySet[Appointment]:
    """Appointments of the same patient and procedure after the outer appointment (reached
    through ``prefix``), not called off: the repeat is planned, or done."""
    return Appointment.objects.filter(status__in=lifecycle.COUNTS_FOR_REPEATS).filter(
        patient=OuterRef("patient"),
        procedure_type=OuterRef("procedure_type"),
        starts_at__gt=OuterRef(f"{prefix}starts_at"),
    )


def repeats_due_open() -> QuerySet[RepeatDue]:
    """The "repeat due" queue, earliest first, with what each row shows: its finder link
    names the patient, and the provider's open order for the repeat as ``open_order_id``
    (None until the provider accepts the course's suggestion: a procedure is booked only
    from an order)."""
    open_order = orders_to_schedule().filter(patient=OuterRef("patient"), procedure_type=OuterRef("procedure_type"))
    return (
        RepeatDue.objects.filter(status=RepeatDue.Status.OPEN)
        .select_related("patient", "procedure_type", "last_appointment__location", "last_appointment__provider")
        .annotate(open_order_id=Subquery(open_order.values("pk")[:1]))
        .order_by("earliest_date", "pk")
    )


def get_repeat_due(pk: int, *, user) -> RepeatDue:
    """The dismiss action's access helper (records the view; 404 if missing)."""
    return _get_recorded(RepeatDue.objects.select_related("patient"), pk, user=user)


# --- The patient chart -------------------------------------------------------------------

# The chart shows the latest messages and changes; older ones stay in the audit log and ledger.
CHART_MESSAGES_SHOWN = 50
CHART_CHANGES_SHOWN = 50
CHART_ORDERS_SHOWN = 50


@dataclass
class PatientChart:
    """Everything the staff chart shows for one patient, each list loaded in one query."""

    referrals: list[Referral]
    upcoming: list[Appointment]
    past: list[Appointment]
    follow_ups: list[FollowUp]
    requests: list[PatientRequest]
    messages: list[OutgoingMessage]
    changes: list[PatientChange]
    orders: list[ProcedureOrder]
    pain: list[pain_chart.SitePainChart]


def patient_chart(patient: Patient, *, now: dt.datetime | None = None) -> PatientChart:
    """The chart's lists: a fixed number of queries however many appointments there are."""
    now = now or timezone.now()
    appointments = list(
        patient.appointments.select_related("procedure_type", "provider", "room", "location").order_by("starts_at")
    )
    follow_ups = list(
        FollowUp.objects.filter(appointment__patient=patient)
        .select_related("appointment__procedure_type", "appointment__location")
        .order_by("-due_at", "-pk")
    )
    # Appointment and follow-up e-mails carry their topic (scheduling.services.patient_mail,
    # follow_ups); a patient's messages are those of their appointments and follow-ups.
    topics = [f"appointment:{a.pk}" for a in appointments] + [f"follow-up:{f.pk}" for f in follow_ups]
    messages = OutgoingMessage.objects.filter(topic__in=topics).only(
        "subject", "status", "due_at", "sent_at", "topic", "kind"
    )
    return PatientChart(
        referrals=list(patient.referrals.select_related("requested_procedure").order_by("-received_at")),
        upcoming=[a for a in appointments if a.starts_at >= now],
        past=[a for a in reversed(appointments) if a.starts_at < now],
        follow_ups=follow_ups,
        requests=list(
            PatientRequest.objects.filter(appointment__patient=patient)
            .select_related("appointment__procedure_type", "appointment__location", "handled_by")
            .order_by("-created_at", "-pk")
        ),
        messages=list(messages.order_by("-due_at", "-pk")[:CHART_MESSAGES_SHOWN]) if topics else [],
        changes=list(patient.changes.order_by("-at", "-pk")[:CHART_CHANGES_SHOWN]),
        orders=list(
            patient.orders.select_related("procedure_type").order_by("-ordered_at", "-pk")[:CHART_ORDERS_SHOWN]
        ),
        pain=pain_chart.pain_charts(appointments, follow_ups),
    )
