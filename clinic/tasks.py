"""Celery tasks of the clinic app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from clinic import outbox
from clinic.password_reset import password_reset_requests_process
from clinic.services import closure_roll_holidays_forward


@shared_task
def roll_holidays_forward() -> int:
    """Yearly: create the coming years' holiday closures (see the service)."""
    return len(closure_roll_holidays_forward())


@shared_task
def process_password_resets() -> int:
    """Every 20 seconds: owe the reset e-mails people asked for (see ``clinic.password_reset``)."""
    return password_reset_requests_process()


@shared_task
def sweep_outgoing_messages(queue: str | None = None) -> int:
    """Every minute: hand due messages to workers in batches (see ``outbox.messages_dispatch``).

    ``queue`` sends the batches to a named queue instead of the default one (tests and the
    benchmark run workers on private queues).
    """
    options = {"queue": queue} if queue else {}
    return len(outbox.messages_dispatch(hand_off=lambda ids: send_messages.apply_async(args=[ids], **options)))


@shared_task
def send_messages(message_ids: list[int]) -> int:
    """Send a batch over one SMTP connection; a repeated delivery of this task sends nothing twice."""
    results = outbox.messages_deliver(message_ids=message_ids)
    return sum(status == outbox.Status.SENT for status in results.values())


@shared_task
def send_message(message_id: int) -> str:
    """One message (kept for hand-offs published before batches existed)."""
    return outbox.message_deliver(message_id=message_id)
