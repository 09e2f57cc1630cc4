"""Celery tasks of the clinic app: thin wrappers that call a service."""

from celery import shared_task

from clinic.services import closure_roll_holidays_forward


@shared_task
def roll_holidays_forward() -> int:
    """Yearly: create the coming years' holiday closures (see the service)."""
    return len(closure_roll_holidays_forward())
