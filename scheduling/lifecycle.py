"""The appointment lifecycle: which status may follow which, which statuses hold their
time, which count towards the repeat policy, and the one writer of ``AppointmentEvent``.
The one place each of these is decided."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic import localtime
from clinic.models import User
from scheduling.models import Appointment, AppointmentEvent

A = Appointment.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    A.BOOKED: frozenset({A.CONFIRMED, A.CHECKED_IN, A.NO_SHOW, A.CANCELLED}),
    A.CONFIRMED: frozenset({A.CHECKED_IN, A.NO_SHOW, A.CANCELLED}),
    A.CHECKED_IN: frozenset({A.COMPLETED, A.CANCELLED}),
    A.COMPLETED: frozenset(),
    A.NO_SHOW: frozenset(),
    A.CANCELLED: frozenset(),
}

# These free their time: the exclusion constraints and every busy check ignore them.
INACTIVE_STATUSES: tuple[str, ...] = (A.CANCELLED,)
ACTIVE_STATUSES: tuple[str, ...] = tuple(s for s in A.values if s not in INACTIVE_STATUSES)
# "The procedure is planned or done", for the repeat policy and the repeat-due queue: a
# no-show did not happen and a cancelled one is called off.
COUNTS_FOR_REPEATS: tuple[str, ...] = (A.BOOKED, A.CONFIRMED, A.CHECKED_IN, A.COMPLETED)
# A patient may confirm or ask for a change through a link only while it is one of these.
OPEN_TO_PATIENT: tuple[str, ...] = (A.BOOKED, A.CONFIRMED)


ILLEGAL_STATUS = "An appointment that is {current} cannot become {target}."
CHECK_IN_ON_ITS_DAY = "A patient can be checked in only on the appointment's day, {day}."
ONLY_AFTER_START = "An appointment can be marked {target} only after it starts, at {time}."

# Statuses that say something happened at the visit: they wait for its clinic day (check-in)
# or its start (completed, no-show), so follow-ups are never planned from the wrong moment.
ON_ITS_DAY: frozenset[str] = frozenset({A.CHECKED_IN})
AFTER_START: frozenset[str] = frozenset({A.COMPLETED, A.NO_SHOW})


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def timing_problem(appointment: Appointment, target: str, *, now: dt.datetime) -> str | None:
    """Why ``target`` is not allowed yet for this appointment at ``now``, if it is not: check-in
    only on its clinic day (the location's calendar day), completed and no-show only after
    its start."""
    zone = appointment.location.zone
    local_start = localtime.local(appointment.starts_at, zone)
    if target in ON_ITS_DAY and localtime.today(zone, now=now) != local_start.date():
        return CHECK_IN_ON_ITS_DAY.format(day=f"{local_start:{localtime.DAY_FORMAT}}")
    if target in AFTER_START and now < appointment.starts_at:
        return ONLY_AFTER_START.format(
            target=A(target).label.lower(), time=f"{local_start:{localtime.DAY_TIME_FORMAT}}"
        )
    return None


def statuses_allowed_now(appointment: Appointment, *, now: dt.datetime | None = None) -> list[str]:
    """The statuses this appointment may take at ``now`` (besides cancelling), in the
    table's order: what the status form offers."""
    now = now or timezone.now()
    return [
        status
        for status in A.values
        if status != A.CANCELLED
        and can_transition(appointment.status, status)
        and timing_problem(appointment, status, now=now) is None
    ]


def next_step_hint(appointment: Appointment, *, now: dt.datetime | None = None) -> str:
    """When nothing can be recorded yet (an appointment days ahead), why: the first waiting
    step's timing message."""
    now = now or timezone.now()
    waiting = (
        timing_problem(appointment, status, now=now)
        for status in A.values
        if can_transition(appointment.status, status)
    )
    return next((problem for problem in waiting if problem), "")


def is_active(status: str) -> bool:
    return status not in INACTIVE_STATUSES


def appointment_open_to_patient(appointment: Appointment, *, now: dt.datetime | None = None) -> bool:
    """A patient may confirm or ask for a change only before the appointment, while it is
    booked or confirmed."""
    now = now or timezone.now()
    return appointment.status in OPEN_TO_PATIENT and appointment.starts_at > now


def snapshot(appointment: Appointment) -> dict:
    """What an event records as "before" and "after" a change of the appointment itself."""
    return {
        "status": appointment.status,
        "starts_at": appointment.starts_at.astimezone(dt.UTC).isoformat(),
        "ends_at": appointment.ends_at.astimezone(dt.UTC).isoformat(),
        "provider": appointment.provider_id,
        "room": appointment.room_id,
        "location": appointment.location_id,
    }


def event_record(
    *,
    appointment_id: int,
    action: str,
    actor: User | None,
    at: dt.datetime,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AppointmentEvent:
    """The only place an appointment's history grows: who (None: the patient, through a
    link), when, what, before and after."""
    return AppointmentEvent.objects.create(
        appointment_id=appointment_id,
        action=action,
        actor=actor,
        at=at,
        before=before or {},
        after=after or {},
        note=_fit_note(note),
    )


def _fit_note(note: str) -> str:
    """A note longer than the history's column is cut visibly ("…"), never silently: the
    full text stays where it was written (e.g. the patient's request)."""
    limit = AppointmentEvent._meta.get_field("note").max_length
    return note if len(note) <= limit else note[: limit - 1].rstrip() + "…"


def status_change(appointment: Appointment, status: str, *, actor, now, note="", extra=None) -> Appointment:
    """The one place an appointment's status changes: lock, check the transition, save, record."""
    now = now or timezone.now()
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("referral", "location")
        .get(pk=appointment.pk)
    )
    if not can_transition(locked.status, status):
        raise ValidationError(
            ILLEGAL_STATUS.format(current=locked.get_status_display().lower(), target=A(status).label.lower()),
            code="illegal_status",
        )
    too_soon = timing_problem(locked, status, now=now)
    if too_soon:
        raise ValidationError(too_soon, code="status_too_soon")
    before = snapshot(locked)
    locked.status = status
    fields = ["status", "updated_at"]
    for name, value in (extra or {}).items():
        setattr(locked, name, value)
        fields.append(name)
    locked.save(update_fields=fields)
    # What the procedure showed is part of the completion's record.
    after = snapshot(locked) | {k: v for k, v in (extra or {}).items() if k in OUTCOME_FIELDS}
    event_record(
        appointment_id=locked.pk, action=status, actor=actor, at=now, before=before, after=after, note=note,
    )  # fmt: skip
    return locked


OUTCOME_FIELDS = ("block_relief_percent", "baseline_pain", "outcome_note")
