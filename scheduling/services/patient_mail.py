"""The e-mails the clinic owes a patient about one appointment: confirmation, reminders,
reschedule and cancellation notices, each with an ``.ics`` (what the patient sends back is
``scheduling.services.patient_requests``).

The appointment services call ``appointment_messages_*`` inside their transaction, so the
ledger rows (``clinic.outbox``) commit or roll back with the change that causes them. Every
message of an appointment carries the topic ``appointment:<id>``; its key carries the
appointment's version, so a moved appointment's messages never collide with the old ones.

Reminders are planned on the location's wall clock: "1 day before" an 08:30 appointment is
08:30 local time on the calendar day before, whatever daylight saving does in between.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone

from clinic import localtime
from clinic.models import OutgoingMessage, ProcedureType, User
from clinic.outbox import message_queue, messages_cancel_topic
from scheduling import links
from scheduling.models import Appointment
from scheduling.services import patient_requests

CONFIRMATION = "appointment_confirmation"
REMINDER = "appointment_reminder"
RESCHEDULED = "appointment_rescheduled"
CANCELLED = "appointment_cancelled"
# Every kind planned here: a move or a cancel withdraws whichever of them is still queued.
KINDS = (CONFIRMATION, REMINDER, RESCHEDULED, CANCELLED)

ICS_FILENAME = "appointment.ics"
ICS_MIMETYPE = "text/calendar"


def topic_of(appointment: Appointment) -> str:
    return f"appointment:{appointment.pk}"


# --- Planning ------------------------------------------------------------------------------


def appointment_messages_booked(*, appointment: Appointment, now: dt.datetime | None = None) -> list[OutgoingMessage]:
    """Owe the confirmation (due now, with the calendar entry) and the reminders."""
    return _owe_notice_and_reminders(appointment, CONFIRMATION, now or timezone.now())


def appointment_messages_rescheduled(
    *, appointment: Appointment, actor: User | None = None, now: dt.datetime | None = None
) -> list[OutgoingMessage]:
    """Withdraw what was still queued for the old time; owe the notice and new reminders."""
    now = now or timezone.now()
    messages_cancel_topic(topic=topic_of(appointment), kinds=KINDS)
    patient_requests.close_open_requests(appointment, actor=actor, note=patient_requests.HANDLED_BY_RESCHEDULE, now=now)
    return _owe_notice_and_reminders(appointment, RESCHEDULED, now)


def _owe_notice_and_reminders(appointment: Appointment, kind: str, now: dt.datetime) -> list[OutgoingMessage]:
    """The notice with the calendar entry, due now (with the preparation when its reminder
    is already past), and the reminders still ahead."""
    if not appointment.patient.can_be_emailed:
        return []
    reminders = _reminder_plan(appointment, now)
    notice = _queue(appointment, kind, now, method="REQUEST", preparation=_prep_missed(reminders))
    return [notice, *_queue_reminders(appointment, reminders)]


def appointment_messages_cancelled(
    *, appointment: Appointment, actor: User | None = None, now: dt.datetime | None = None
) -> list[OutgoingMessage]:
    """Withdraw every queued message of the appointment; owe the cancellation notice."""
    now = now or timezone.now()
    messages_cancel_topic(topic=topic_of(appointment), kinds=KINDS)
    patient_requests.close_open_requests(appointment, actor=actor, note=patient_requests.HANDLED_BY_CANCEL, now=now)
    if not appointment.patient.can_be_emailed:
        return []
    return [_queue(appointment, CANCELLED, now, method="CANCEL")]


def reminder_due_at(appointment: Appointment, days_before: int) -> dt.datetime:
    """The same wall-clock time ``days_before`` calendar days earlier, in UTC.

    Adding ``timedelta(days=...)`` to a UTC instant would be an hour off across a daylight
    saving change; building the local date and time and converting is not.
    """
    return localtime.local_days_after(appointment.starts_at, -days_before, appointment.location.zone)


def _reminder_plan(appointment: Appointment, now: dt.datetime) -> list[tuple[dt.datetime, bool, bool]]:
    """(due at, carries preparation, still ahead) for each of the procedure type's offsets."""
    plan = []
    for offset in appointment.procedure_type.reminder_offsets.all():
        due_at = reminder_due_at(appointment, offset.days_before)
        plan.append((due_at, offset.include_preparation, due_at > now))
    return plan


def _prep_missed(reminders: list[tuple[dt.datetime, bool, bool]]) -> bool:
    """Booked too late for the reminder that carries the preparation: the first e-mail
    carries it instead, so a late booking still learns about the driver and fasting."""
    return any(prep and not ahead for _due, prep, ahead in reminders)


def _queue_reminders(appointment: Appointment, reminders) -> list[OutgoingMessage]:
    return [
        _queue(appointment, REMINDER, due_at, preparation=prep)
        for due_at, prep, ahead in reminders
        if ahead  # a reminder whose moment has passed is not sent late
    ]


def _queue(
    appointment: Appointment, kind: str, due_at: dt.datetime, *, method: str = "", preparation: bool = False
) -> OutgoingMessage:
    key = f"appt:{appointment.pk}:v{appointment.version}:{kind.removeprefix('appointment_')}"
    if kind == REMINDER:
        key += f":{due_at.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}"
    attachments = []
    if method:
        attachments.append(
            {"filename": ICS_FILENAME, "mimetype": ICS_MIMETYPE, "content": appointment_ics(appointment, method=method)}
        )
    return message_queue(
        key=key,
        kind=kind,
        to_email=appointment.patient.email,
        template=kind,
        context=message_context(appointment, kind=kind, due_at=due_at, preparation=preparation),
        due_at=due_at,
        topic=topic_of(appointment),
        attachments=attachments,
    )


def message_context(appointment: Appointment, *, kind: str, due_at: dt.datetime, preparation: bool = False) -> dict:
    """What every patient e-mail shows: first name, when and where in the location's zone,
    the procedure's name in the body only, and (while it can change) the two links."""
    local = appointment.local_starts_at
    location = appointment.location
    context = {
        "first_name": appointment.patient.first_name,
        "procedure": appointment.procedure_type.name,
        "location": location,
        "address_lines": location.address_lines,
        "date": f"{local:{localtime.DAY_FORMAT}}",
        "time": f"{local:{localtime.TIME_FORMAT}}",
        "zone": f"{local:%Z}",
        # "in 3 days" as the patient counts them: calendar days on the location's clock.
        "days_ahead": (local.date() - due_at.astimezone(local.tzinfo).date()).days,
        "preparation": preparation_of(appointment) if preparation else None,
    }
    if kind != CANCELLED:
        # Good from when the e-mail is due, not from when it was written (see links.make_token).
        for name, purpose in (("confirm_url", links.CONFIRM), ("change_url", links.CHANGE)):
            context[name] = links.patient_link(
                appointment_id=appointment.pk, purpose=purpose, version=appointment.version, valid_from=due_at
            )
    return context


def preparation_of(appointment: Appointment) -> dict:
    """The procedure type's preparation as the reminder shows it: a driver, when to stop
    eating and drinking (a local time), and the admin's own words (blood-thinner plan, what
    to bring)."""
    pt: ProcedureType = appointment.procedure_type
    driver = {
        ProcedureType.Driver.REQUIRED: "An adult must drive you home afterwards.",
        ProcedureType.Driver.IF_SEDATED: "If you have sedation, an adult must drive you home afterwards.",
    }.get(pt.driver, "")
    fasting = ""
    if pt.fasting_hours:
        # Wall-clock arithmetic on purpose: "8 hours before 08:30" is 00:30 on the clock
        # the patient reads, the night of a change included.
        stop = appointment.local_starts_at - dt.timedelta(hours=pt.fasting_hours)
        fasting = (
            f"Nothing to eat or drink after {stop:{localtime.TIME_FORMAT}} on {stop:{localtime.DAY_MONTH_FORMAT}} "
            f"({pt.fasting_hours} hours before)."
        )
    lines = [line.strip() for line in pt.preparation.splitlines() if line.strip()]
    return {"driver": driver, "fasting": fasting, "lines": lines}


# --- Calendar entry ------------------------------------------------------------------------


def calendar_uid(appointment: Appointment) -> str:
    """One UID per appointment for its whole life, so a calendar updates the entry it has."""
    host = urlsplit(settings.SITE_URL).hostname or "clinic.localhost"
    return f"appointment-{appointment.pk}@{host}"


def appointment_ics(appointment: Appointment, *, method: str = "REQUEST") -> str:
    """An iCalendar invitation (``REQUEST``) or withdrawal (``CANCEL``) in the location's
    zone; SEQUENCE is the appointment's version, so a moved appointment replaces the old."""
    location = appointment.location
    zone = location.zone
    starts, ends = appointment.starts_at.astimezone(zone), appointment.ends_at.astimezone(zone)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Institute of Interventional Pain Management//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", calendar_uid(appointment))
    # A cancel is one more revision of the entry (a cancelled appointment never moves again).
    event.add("sequence", appointment.version + (1 if method == "CANCEL" else 0))
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", starts)
    event.add("dtend", ends)
    event.add("summary", f"Appointment at {location.name}")
    event.add("location", ", ".join([location.name, *location.address_lines]))
    event.add("description", f"Questions or changes: call {location.name} at {location.phone}.")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "no-reply@clinic.localhost"
    event.add("organizer", f"mailto:{organizer}", parameters={"CN": location.name})
    event.add(
        "attendee",
        f"mailto:{appointment.patient.email}",
        parameters={"CN": appointment.patient.first_name, "ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"},
    )
    cal.add_component(event)
    # Only the rules around the appointment: the full 1970-2038 history is 5 KB of noise.
    cal.add_missing_timezones(
        first_date=starts.date() - dt.timedelta(days=366), last_date=starts.date() + dt.timedelta(days=366)
    )
    return cal.to_ical().decode()
