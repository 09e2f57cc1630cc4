"""Celery tasks of the clinic app: thin wrappers that take ids and call a service."""

from celery import shared_task

from clinic import outbox
from clinic.services import closure_roll_holidays_forward


@shared_task
def roll_holidays_forward() -> int:
    """Yearly: create the coming years' holiday closures (see the service)."""
    return len(closure_roll_holidays_forward())


@shared_task
def sweep_outgoing_messages() -> int:
    """Every minute: hand each due message to a worker. Duplicated hand-offs are harmless:
    only one delivery can claim a row."""
    due = outbox.messages_due()
    for message_id in due:
        send_message.delay(message_id)
    return len(due)


@shared_task
def send_message(message_id: int) -> str:
    return outbox.message_deliver(message_id=message_id)
