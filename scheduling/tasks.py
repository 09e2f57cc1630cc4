"""Celery tasks of the scheduling app: thin wrappers that call a service."""

from celery import shared_task
from django.utils import timezone

from scheduling.services.repeats import repeats_find_due


@shared_task
def find_repeats_due() -> int:
    """Daily: put patients whose relief has worn off in the "repeat due" queue and invite
    them to call. Idempotent, so a missed or doubled run does no harm."""
    return len(repeats_find_due(now=timezone.now()))
