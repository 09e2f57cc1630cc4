"""A booking's confirmation on the real stack: the appointment service owes it, the sweep
hands it to a Celery worker on Redis, the worker sends it to a real SMTP server (aiosmtpd),
and it arrives with the right headers, both parts and an .ics that calendars read."""

from __future__ import annotations

import icalendar
import pytest
from django.conf import settings

from clinic.models import OutgoingMessage
from clinic.outbox import message_id_header
from scheduling.selectors import find_slots
from scheduling.services import booking, patient_mail
from tests.integration.conftest import settle, sweep_until
from tests.scheduling.conftest import world  # noqa: F401 (the scheduling tests' calendar world, as a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.redis]


def test_a_booking_confirmation_arrives_with_headers_parts_and_calendar(
    world,  # noqa: F811 (the imported fixture)
    scheduler,
    smtp_server,
    celery_workers,
):
    worker = celery_workers.start(env=smtp_server.env)
    # The worker lives on the real clock: book the first free slot from now.
    (slot,) = find_slots(procedure_type=world.consult, location=world.location, limit=1).slots
    appointment = booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=slot.starts_at, referral=world.referral,
    )  # fmt: skip
    row = OutgoingMessage.objects.get(topic=f"appointment:{appointment.pk}", kind=patient_mail.CONFIRMATION)
    patient_address = [world.patient.email]

    def arrived() -> list:
        return [m for m in smtp_server.messages if m["To"] == world.patient.email]

    assert sweep_until(lambda: len(arrived()) == 1, queue=worker.queue), worker.log()
    settle(worker.queue)
    (email,) = arrived()
    local = slot.starts_at.astimezone(world.location.zone)

    assert email["From"] == settings.DEFAULT_FROM_EMAIL
    assert [str(email["To"])] == patient_address
    assert email["Subject"] == f"Your appointment at Russellville on {local:%A %-d %B %Y}"
    assert email["Message-ID"] == message_id_header(row)
    assert email["X-Clinic-Message"] == row.key

    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Dear Jordan," in body
        assert f"{local:%A %-d %B %Y} at {local:%-I:%M %p} ({local:%Z})" in body
        assert "Confirm you will come" in body
        assert "Ask to reschedule or cancel" in body
        assert world.patient.last_name not in body

    (attachment,) = list(email.iter_attachments())
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_content_type() == "text/calendar"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    assert calendar["method"] == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert event["dtstart"].params["TZID"] == "America/Chicago"
    assert event.decoded("dtstart") == local
    assert str(event["uid"]) == patient_mail.calendar_uid(appointment)

    row.refresh_from_db()
    assert row.status == OutgoingMessage.Status.SENT
    assert len(arrived()) == 1  # once, after the hand-offs settled
