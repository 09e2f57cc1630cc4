"""Writes on appointments' time and place: book, reschedule, cancel. Each re-checks every
slot rule inside its transaction (``SlotRules.problem``), records the change, and on
PostgreSQL leans on the exclusion constraints for the race no check can see."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clinic import localtime
from clinic.audit import audit_write
from clinic.models import AuditEvent, Location, ProcedureType, Provider, Room, User
from clinic.roles import Role, has_role
from conditions.sites import site_dict
from referrals.models import Patient, Referral
from referrals.services import referral_mark_scheduled, referral_return_to_queue
from scheduling import availability as rules_mod
from scheduling import lifecycle
from scheduling.availability import Candidate, SlotRules
from scheduling.care.coverage import CoverageLimit
from scheduling.models import Appointment, ProcedureOrder
from scheduling.selectors import Slot, find_slots
from scheduling.services import patient_mail, repeats

A = Appointment.Status

# One message per broken rule, as the scheduler reads it.
PROBLEM_MESSAGES = {
    rules_mod.PAST: "That time has already passed.",
    rules_mod.NOTICE: "That is inside {location}'s minimum notice of {notice} hours.",
    rules_mod.HORIZON: "That is beyond {location}'s booking horizon of {horizon} days.",
    rules_mod.OFF_GRID: "Appointments at {location} start on the {grid}-minute grid (e.g. 08:30, 08:45).",
    rules_mod.LOCATION_CANNOT_HOST: "{location} does not host {procedure}.",
    rules_mod.CLOSED: "{location} is closed on {day} ({closure}).",
    rules_mod.CLOSED_WEEKDAY: "{location} is closed on {weekday}s.",
    rules_mod.BY_APPOINTMENT: (
        "{day} is a by-appointment day at {location} and {provider} has not opened it: add their availability first."
    ),
    rules_mod.OUTSIDE_HOURS: "That is outside {location}'s hours on {weekday} ({hours}).",
    rules_mod.PROVIDER_NOT_HERE: "{provider} does not work at {location}.",
    rules_mod.PROVIDER_UNAVAILABLE: "{provider} is not available for the whole {minutes} minutes then.",
    rules_mod.PROVIDER_BUSY: "{provider} already has an appointment then.",
    rules_mod.ROOM_WRONG_PLACE: "{room} is not at {location}.",
    rules_mod.ROOM_LACKS_CAPABILITY: "{room} does not have what {procedure} needs ({capabilities}).",
    rules_mod.ROOM_BUSY: "No suitable room is free then.",
    rules_mod.PATIENT_BUSY: "The patient already has an appointment then.",
    rules_mod.COVERAGE_RULE: "{coverage}",  # the CoverageLimit's own message: rule, counts, first date
}
END_BEFORE_START = "The end must be after the start."
SHORTER_THAN_PROCEDURE = (
    "{procedure} takes {minutes} minutes: the end must be at least {minutes} minutes after the start."
)
JUST_TAKEN = "That time was just taken by another booking. Here are the next free times."
REFERRAL_REQUIRED = (
    "Pick the patient's accepted referral: this patient has no appointment yet, and the clinic sees new patients "
    "by referral only."
)
PATIENT_REQUIRED = "Pick the patient first: the finder offers only times that can be booked for them."
REFERRAL_NOT_BOOKABLE = "Referral {reference} is {status}; only accepted referrals can be booked."
REFERRAL_OTHER_PATIENT = "That referral is for another patient."
REFERRAL_JUST_SCHEDULED = (
    "Referral {reference} was just scheduled by someone else: {appointment} "
    "Open that appointment to change it; nothing was booked."
)
CANCEL_NEEDS_REASON = "Give a reason for cancelling."
OVERRIDE_ONLY_REPEAT = "Only a coverage rule may be overridden, and only by a provider with a reason."
NOT_ACTIVE = "This appointment is cancelled: book a new one instead."
ORDER_REQUIRED = (
    "Procedures are booked from a provider's order: {procedure} for this patient needs an open order "
    "(ask the provider to order it, then book it from the to-schedule queue)."
)
ORDER_OTHER_PATIENT = "That order is for another patient."
ORDER_OTHER_PROCEDURE = "That order is for {ordered}, not {procedure}."
ORDER_NOT_OPEN = "That order is {status}: only open orders can be booked."
ORDER_ALREADY_BOOKED = "That order is already booked: {appointment} Open that appointment to change it."


class SlotUnavailable(ValidationError):
    """The chosen time breaks a rule; ``code`` names it."""


class SlotTaken(SlotUnavailable):
    """Lost a race: another booking took the time moments ago (seen by the check, or by the
    exclusion constraint at insert). Carries the next free alternatives."""

    def __init__(self, alternatives: list[Slot]) -> None:
        super().__init__(JUST_TAKEN, code="just_taken")
        self.alternatives = alternatives

    def __str__(self) -> str:
        return JUST_TAKEN


# Rules another booking can break between the user's look and their click.
BUSY_CODES = {rules_mod.PROVIDER_BUSY, rules_mod.ROOM_BUSY, rules_mod.PATIENT_BUSY, rules_mod.COVERAGE_RULE}


def problem_message(rules: SlotRules, candidate: Candidate, code: str, *, minutes: int) -> str:
    location, pt = candidate.location, rules.procedure_type
    local = candidate.starts_at.astimezone(location.zone)
    day = local.date()
    limit = rules.coverage_limit(day) if code == rules_mod.COVERAGE_RULE else None
    return PROBLEM_MESSAGES[code].format(
        location=location.name,
        notice=location.minimum_notice_hours,
        horizon=location.booking_horizon_days,
        grid=location.slot_grid_minutes,
        procedure=pt.name,
        day=f"{day:{localtime.DAY_FORMAT}}",
        weekday=f"{day:%A}",
        closure=rules.closure_on(location, day) or "",
        hours=", ".join(f"{o:%H:%M}-{c:%H:%M}" for o, c in rules.opening_ranges(location, day)) or "none",
        provider=candidate.provider,
        minutes=minutes + pt.turnover_minutes,
        room=candidate.room.name if candidate.room else "",
        capabilities=", ".join(c.name for c in pt.required_capabilities.all()),
        coverage=limit.message if limit else "",
    )


def check_slot(
    *,
    procedure_type: ProcedureType,
    location: Location,
    provider: Provider,
    room: Room | None,
    starts_at: dt.datetime,
    patient: Patient,
    minutes: int,
    now: dt.datetime,
    allow_repeat_override: bool = False,
    exclude_appointment_id: int | None = None,
    offered_at: dt.datetime | None = None,
    site: dict | None = None,
) -> Room:
    """Raise SlotUnavailable with the specific message unless the slot can be booked;
    return the room to use (the deterministic first free one when none was chosen).

    ``offered_at`` is when the user was shown this slot as free: a conflict booked after
    that is a lost race, answered with SlotTaken and alternatives. ``site`` (the
    ``site_*`` fields) is where coverage rules count; ``allow_repeat_override`` lets a
    coverage rule pass (a provider's recorded override).
    """
    return _check_slot(
        procedure_type=procedure_type, location=location, provider=provider, room=room, starts_at=starts_at,
        patient=patient, minutes=minutes, now=now, allow_repeat_override=allow_repeat_override,
        exclude_appointment_id=exclude_appointment_id, offered_at=offered_at, site=site,
    )[0]  # fmt: skip


def _check_slot(
    *,
    procedure_type: ProcedureType,
    location: Location,
    provider: Provider,
    room: Room | None,
    starts_at: dt.datetime,
    patient: Patient,
    minutes: int,
    now: dt.datetime,
    allow_repeat_override: bool,
    exclude_appointment_id: int | None,
    offered_at: dt.datetime | None,
    site: dict | None,
) -> tuple[Room, CoverageLimit | None]:
    """check_slot, also returning the coverage limit an override let pass (for the record)."""
    occupied = dt.timedelta(minutes=minutes + procedure_type.turnover_minutes)
    rules = SlotRules.load(
        procedure_type=procedure_type,
        range_start=starts_at - dt.timedelta(minutes=1),
        range_end=starts_at + occupied + dt.timedelta(minutes=1),
        now=now,
        location=location,
        provider=provider,
        patient=patient,
        exclude_appointment_id=exclude_appointment_id,
        site=site,
    )
    candidate = Candidate(location, provider, room, starts_at)
    code = rules.problem(candidate, minutes=minutes)
    overridden = None
    if code == rules_mod.COVERAGE_RULE and allow_repeat_override:
        overridden = rules.coverage_limit(candidate.local.date())
        code = None
    if code in BUSY_CODES and offered_at and _taken_since(rules, candidate, patient, occupied, offered_at):
        raise SlotTaken(
            _alternatives(
                procedure_type=procedure_type,
                location=location,
                patient=patient,
                start=starts_at,
                exclude_appointment_id=exclude_appointment_id,
                now=now,
                site=site,
            )
        )
    if code is not None:
        raise SlotUnavailable(problem_message(rules, candidate, code, minutes=minutes), code=code)
    chosen = room or rules.free_room(location, starts_at, starts_at + occupied)
    assert chosen is not None  # problem() already refused when no room is free
    return chosen, overridden


def _taken_since(
    rules: SlotRules, candidate: Candidate, patient: Patient, occupied: dt.timedelta, offered_at: dt.datetime
) -> bool:
    """Whether what blocks the candidate was booked after the user was shown it free: a
    clash in time, or (for a coverage rule) a session it counts for the same patient."""
    rooms = [candidate.room.pk] if candidate.room else list(rules.capable_room_ids)
    clash = Q(provider=candidate.provider) | Q(room_id__in=rooms) | Q(patient=patient)
    recent = Appointment.objects.active().filter(created_at__gt=offered_at)
    return (
        recent.overlapping(candidate.starts_at, candidate.starts_at + occupied).filter(clash).exists()
        or recent.filter(patient=patient, procedure_type_id__in=_counted_type_ids(rules)).exists()
    )


def _counted_type_ids(rules: SlotRules) -> set[int]:
    ids = {rules.procedure_type.pk}
    if rules.coverage is not None:
        ids |= {pt.pk for rule in rules.coverage.rules for pt in rules.coverage.counted(rule)}
    return ids


def override_note(limit: CoverageLimit | None, reason: str) -> str:
    """What the appointment's history says about an override: which rule, and why."""
    rule = f' "{limit.rule.name}" ({limit.message})' if limit is not None else ""
    return f"Coverage rule{rule} overridden: {reason.strip()}"


def _record(appointment: Appointment, *, action: str, actor: User | None, before: dict, now: dt.datetime, note=""):
    lifecycle.event_record(
        appointment_id=appointment.pk,
        action=action,
        actor=actor,
        at=now,
        before=before,
        after=lifecycle.snapshot(appointment),
        note=note,
    )
    audit_action = AuditEvent.Action.CREATE if action == "booked" else AuditEvent.Action.UPDATE
    audit_write(actor=actor, action=audit_action, obj=appointment, summary=action)


def booking_referral(*, patient: Patient | None, referral: Referral | None) -> Referral | None:
    """What booking checks before the time: the one place the finder asks too, so it never
    offers a slot the booking will refuse. Returns the referral the appointment is booked
    under (an accepted one), or None for a returning patient; raises ValidationError saying
    what is missing.

    Referral-only: a patient with no active or past appointment needs an accepted referral.
    A returning patient books without one; a referral given for them that is completed (the
    repeat-due path) is only context and is not linked; one already scheduled is refused.
    """
    if patient is None:
        raise ValidationError(PATIENT_REQUIRED, code="patient_required")
    if referral is not None and referral.patient_id != patient.pk:
        raise ValidationError(REFERRAL_OTHER_PATIENT, code="referral_patient")
    if referral is not None:
        _refuse_if_scheduled(referral)
    if referral is not None and referral.status == Referral.Status.ACCEPTED:
        return referral
    if Appointment.objects.filter(patient=patient).active().exists():
        return None
    if referral is not None:
        raise ValidationError(
            REFERRAL_NOT_BOOKABLE.format(reference=referral.reference, status=referral.get_status_display().lower()),
            code="referral_status",
        )
    raise ValidationError(REFERRAL_REQUIRED, code="referral_required")


def booking_order(
    *, patient: Patient, procedure_type: ProcedureType, referral: Referral | None, order: ProcedureOrder | None
) -> ProcedureOrder | None:
    """The order a booking is made from, checked; the one place the finder asks too.

    Nothing but the first visit under an accepted referral books without an order: every
    later procedure (a type that is not a visit) comes from a provider's open order for this
    patient and this procedure, not yet booked."""
    if order is None:
        if referral is None and procedure_type.kind != ProcedureType.Kind.VISIT:
            raise ValidationError(ORDER_REQUIRED.format(procedure=procedure_type.name), code="order_required")
        return None
    if order.patient_id != patient.pk:
        raise ValidationError(ORDER_OTHER_PATIENT, code="order_patient")
    if order.procedure_type_id != procedure_type.pk:
        raise ValidationError(
            ORDER_OTHER_PROCEDURE.format(ordered=order.procedure_type.name, procedure=procedure_type.name),
            code="order_procedure",
        )
    if order.status != ProcedureOrder.Status.OPEN:
        raise ValidationError(ORDER_NOT_OPEN.format(status=order.get_status_display().lower()), code="order_status")
    booked = order.appointments.active().select_related("procedure_type", "provider", "location").first()
    if booked is not None:
        raise ValidationError(ORDER_ALREADY_BOOKED.format(appointment=describe(booked)), code="order_booked")
    return order


def _lock_order(order: ProcedureOrder | None) -> ProcedureOrder | None:
    """Re-read the order under a row lock: two bookings of one order at once are serialised,
    the second told which appointment holds it."""
    if order is None:
        return None
    return ProcedureOrder.objects.select_for_update().select_related("procedure_type").get(pk=order.pk)


def _lock_referral(referral: Referral | None) -> Referral | None:
    """Re-read the referral under a row lock, so that of two bookings of one referral's
    first visit at once the second sees the first's commit (and is refused by
    booking_referral) instead of failing on the referral's status change."""
    if referral is None:
        return None
    return Referral.objects.select_for_update().get(pk=referral.pk)


def _refuse_if_scheduled(referral: Referral) -> None:
    """A referral already scheduled was booked by someone else since this scheduler looked
    (its first visit is a queue item): booking it again would give the patient a second
    first visit, so say which appointment holds it."""
    if referral.status != Referral.Status.SCHEDULED:
        return
    first = referral.appointments.active().select_related("procedure_type", "provider", "location").first()
    raise ValidationError(
        REFERRAL_JUST_SCHEDULED.format(reference=referral.reference, appointment=describe(first) if first else ""),
        code="referral_scheduled",
    )


def _alternatives(**search) -> list[Slot]:
    return find_slots(limit=5, **search).slots


def appointment_book(
    *,
    actor: User,
    patient: Patient,
    procedure_type: ProcedureType,
    location: Location,
    provider: Provider,
    starts_at: dt.datetime,
    room: Room | None = None,
    referral: Referral | None = None,
    ends_at: dt.datetime | None = None,
    repeat_override_reason: str = "",
    offered_at: dt.datetime | None = None,
    order: ProcedureOrder | None = None,
    now: dt.datetime | None = None,
    site: dict | None = None,
) -> Appointment:
    """Book one appointment, re-checking every rule inside the transaction. Booked from an
    ``order``, the appointment is linked to it and takes its site.

    Raises SlotUnavailable (a rule, with its message), ValidationError (referral and order
    rules) or SlotTaken (lost a race, with the next free alternatives).
    """
    now = now or timezone.now()
    starts_at = _utc(starts_at)
    minutes = _minutes(procedure_type, starts_at, ends_at)
    override = _override_allowed(actor, repeat_override_reason)
    try:
        with transaction.atomic():
            referral = booking_referral(patient=patient, referral=_lock_referral(referral))
            order = booking_order(
                patient=patient, procedure_type=procedure_type, referral=referral, order=_lock_order(order)
            )
            # Booked from an order, the order says where; the coverage rules count there.
            if order is not None:
                site = order.site_values()
            chosen_room, overridden = _check_slot(
                procedure_type=procedure_type,
                location=location,
                provider=provider,
                room=room,
                starts_at=starts_at,
                patient=patient,
                minutes=minutes,
                now=now,
                allow_repeat_override=override,
                exclude_appointment_id=None,
                offered_at=offered_at,
                site=site,
            )
            appointment = Appointment.objects.create(
                patient=patient,
                referral=referral,
                procedure_type=procedure_type,
                provider=provider,
                room=chosen_room,
                location=location,
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=minutes),
                blocks_until=starts_at + dt.timedelta(minutes=minutes + procedure_type.turnover_minutes),
                repeat_override_reason=repeat_override_reason.strip() if overridden else "",
                created_by=actor,
                order=order,
                **site_dict(site),
            )
            _record(
                appointment,
                action="booked",
                actor=actor,
                before={},
                now=now,
                note=override_note(overridden, repeat_override_reason) if overridden else "",
            )
            patient_mail.appointment_messages_booked(appointment=appointment, now=now)
            repeats.repeat_due_mark_booked(appointment=appointment, actor=actor, now=now)
            if referral is not None:
                referral_mark_scheduled(
                    referral=referral, actor=actor, appointment_summary=describe(appointment), now=now
                )
    except IntegrityError as exc:
        _raise_if_taken(
            exc,
            procedure_type=procedure_type,
            location=location,
            patient=patient,
            start=starts_at,
            now=now,
            site=site,
        )
    return appointment


def _utc(moment: dt.datetime) -> dt.datetime:
    """Times are computed and stored in UTC: minutes added to an aware local time would be
    wall-clock minutes, wrong across a DST change."""
    if timezone.is_naive(moment):
        raise ValueError("Appointment times must be timezone-aware.")
    return moment.astimezone(dt.UTC)


def _minutes(procedure_type: ProcedureType, starts_at: dt.datetime, ends_at: dt.datetime | None) -> int:
    if ends_at is None:
        return procedure_type.duration_minutes
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": END_BEFORE_START}, code="end_before_start")
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    # A longer booking is fine (a slow patient); a shorter one would free the room and the
    # provider before the procedure can be over.
    if minutes < procedure_type.duration_minutes:
        message = SHORTER_THAN_PROCEDURE.format(procedure=procedure_type.name, minutes=procedure_type.duration_minutes)
        raise ValidationError({"ends_at": message}, code="shorter_than_procedure")
    return minutes


def _override_allowed(actor: User, reason: str) -> bool:
    """Only a provider may override, and only with a reason (recorded on the appointment)."""
    if not reason.strip():
        return False
    if not has_role(actor, Role.PROVIDER):
        raise ValidationError(OVERRIDE_ONLY_REPEAT, code="override_not_allowed")
    return True


def _is_overlap(exc: IntegrityError) -> bool:
    text = str(exc)
    return "appointment_no_" in text and "overlap" in text


def _raise_if_taken(exc: IntegrityError, **search) -> None:
    """The one answer to "that time was just taken" at insert (the exclusion constraints on
    PostgreSQL): SlotTaken with the next free times. Any other integrity error is re-raised."""
    if not _is_overlap(exc):
        raise exc
    raise SlotTaken(_alternatives(**search)) from exc


def describe(appointment: Appointment) -> str:
    """Date, time and place in the location's zone, e.g. for the referrer's e-mail."""
    local = appointment.local_starts_at
    lines = appointment.location.address_lines
    return (
        f"{appointment.procedure_type.name} with {appointment.provider} on {local:{localtime.DAY_TIME_FORMAT}} "
        f"({local:%Z}) at {appointment.location.name}, {', '.join(lines)}."
    )


def check_movable(appointment: Appointment) -> None:
    """What a move checks before the time (the finder asks too): only an active appointment
    that has not happened yet can move."""
    if not appointment.is_active or appointment.status in (A.COMPLETED, A.NO_SHOW):
        raise ValidationError(NOT_ACTIVE, code="not_active")


def appointment_reschedule(
    *,
    appointment: Appointment,
    actor: User,
    starts_at: dt.datetime,
    provider: Provider | None = None,
    location: Location | None = None,
    room: Room | None = None,
    reason: str = "",
    repeat_override_reason: str = "",
    offered_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move an appointment atomically: the old time is released only if the new one is taken."""
    now = now or timezone.now()
    starts_at = _utc(starts_at)
    override = _override_allowed(actor, repeat_override_reason) or bool(appointment.repeat_override_reason)
    provider = provider or appointment.provider
    location = location or appointment.location
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    try:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            check_movable(locked)
            before = lifecycle.snapshot(locked)
            chosen_room, overridden = _check_slot(
                procedure_type=locked.procedure_type,
                location=location,
                provider=provider,
                room=room if room is not None or location.pk != locked.location_id else None,
                starts_at=starts_at,
                patient=locked.patient,
                minutes=minutes,
                now=now,
                allow_repeat_override=override,
                exclude_appointment_id=locked.pk,
                offered_at=offered_at,
                site=locked.site_values(),
            )
            locked.starts_at = starts_at
            locked.ends_at = starts_at + dt.timedelta(minutes=minutes)
            locked.blocks_until = locked.ends_at + dt.timedelta(minutes=locked.procedure_type.turnover_minutes)
            locked.provider, locked.location, locked.room = provider, location, chosen_room
            locked.status = A.BOOKED  # a moved appointment needs confirming again
            locked.version += 1
            if repeat_override_reason.strip():
                locked.repeat_override_reason = repeat_override_reason.strip()
            locked.save()
            note = reason
            if overridden is not None and repeat_override_reason.strip():
                note = " ".join(filter(None, [reason, override_note(overridden, repeat_override_reason)]))
            _record(locked, action="rescheduled", actor=actor, before=before, now=now, note=note)
            patient_mail.appointment_messages_rescheduled(appointment=locked, actor=actor, now=now)
    except IntegrityError as exc:
        _raise_if_taken(
            exc,
            procedure_type=appointment.procedure_type,
            location=location,
            patient=appointment.patient,
            start=starts_at,
            exclude_appointment_id=appointment.pk,
            now=now,
            site=appointment.site_values(),
        )
    return locked


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, actor: User, reason: str, now: dt.datetime | None = None
) -> Appointment:
    """Cancel with a reason; the time is free at once. A referral whose first visit this
    was goes back to the scheduler's queue."""
    if not reason.strip():
        raise ValidationError({"reason": CANCEL_NEEDS_REASON}, code="cancel_reason")
    appointment = lifecycle.status_change(
        appointment, A.CANCELLED, actor=actor, now=now, note=reason.strip(), extra={"cancel_reason": reason.strip()}
    )
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=appointment, summary="cancelled")
    patient_mail.appointment_messages_cancelled(appointment=appointment, actor=actor, now=now)
    referral = appointment.referral
    if (
        referral is not None
        and referral.status == Referral.Status.SCHEDULED
        and not referral.appointments.active().exists()
    ):
        referral_return_to_queue(
            referral=referral, actor=actor, reason=f"Appointment cancelled: {reason.strip()}", now=now
        )
    return appointment
