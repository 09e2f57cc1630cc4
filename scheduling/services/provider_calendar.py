"""Removing a provider's calendar rows: time off, extra hours on a date, weekly hours. Each
removal records who did it (``clinic.services.calendar_change_record``) before the row goes."""

from __future__ import annotations

from django.contrib.admin.models import DELETION
from django.db import transaction

from clinic.models import User
from clinic.services import calendar_change_record
from scheduling.models import AvailabilityTemplate, ExtraAvailability, TimeOff


@transaction.atomic
def time_off_remove(*, time_off: TimeOff, actor: User) -> None:
    """The provider is available again then; appointments in that time stay booked."""
    calendar_change_record(actor=actor, obj=time_off, action_flag=DELETION, message="Time off removed.")
    time_off.delete()


@transaction.atomic
def extra_availability_remove(*, extra: ExtraAvailability, actor: User) -> None:
    """The date is no longer opened; appointments booked in it stay booked but are now
    outside the provider's hours (the confirm page lists them to move)."""
    calendar_change_record(actor=actor, obj=extra, action_flag=DELETION, message="Extra hours removed.")
    extra.delete()


@transaction.atomic
def template_remove(*, template: AvailabilityTemplate, actor: User) -> None:
    calendar_change_record(actor=actor, obj=template, action_flag=DELETION, message="Weekly hours removed.")
    template.delete()
