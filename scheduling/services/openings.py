"""Opening a provider's date (extra availability): a by-appointment Friday or a closed
weekday, at one location. The one writer of ``ExtraAvailability``, recording who did it.

Who may: schedulers and clinic admins for any provider, a provider for their own day only
(DOMAIN.md: a scheduler may book a by-appointment day, a provider may open it).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from clinic import localtime
from clinic.models import Closure, Location, Provider, User
from clinic.roles import Role, has_role
from scheduling.models import ExtraAvailability

NOT_YOUR_DAY = "A provider may open only their own day."
DATE_PASSED = "{day} has already passed at {location}: choose today or a later date."
END_BEFORE_START = "The end must be after the start."
CLOSED_THAT_DAY = "{location} is closed on {day} ({reason}): it cannot be opened."
REASON_NEEDED = "Say why the day is opened (for example, an extra procedure list)."


def may_open_day(*, user: User, provider: Provider) -> bool:
    """Schedulers and clinic admins may open any provider's day; a provider only their own."""
    if has_role(user, Role.SCHEDULER, Role.CLINIC_ADMIN):
        return True
    return has_role(user, Role.PROVIDER) and provider.user_id == user.pk


@transaction.atomic
def extra_availability_add(
    *,
    actor: User,
    provider: Provider,
    location: Location,
    date: dt.date,
    starts: dt.time,
    ends: dt.time,
    note: str,
    note_required: bool = False,
    now: dt.datetime | None = None,
) -> ExtraAvailability:
    """Open ``date`` for ``provider`` at ``location`` from ``starts`` to ``ends`` (wall clock).

    Raises PermissionDenied for a provider opening someone else's day, ValidationError (by
    field) for a past date in the location's zone, times out of order, a missing reason
    (when asked for) or a closure that day.
    """
    now = now or timezone.now()
    if not may_open_day(user=actor, provider=provider):
        raise PermissionDenied(NOT_YOUR_DAY)
    day = f"{date:{localtime.DAY_FORMAT}}"
    if date < localtime.today(location.zone, now=now):
        raise ValidationError({"date": DATE_PASSED.format(day=day, location=location.name)}, code="date_passed")
    if ends <= starts:
        raise ValidationError({"ends": END_BEFORE_START}, code="end_before_start")
    if note_required and not note.strip():
        raise ValidationError({"note": REASON_NEEDED}, code="reason_needed")
    closure = Closure.objects.in_force().affecting(location).overlapping(date, date).first()
    if closure is not None:
        message = CLOSED_THAT_DAY.format(location=location.name, day=day, reason=closure.reason)
        raise ValidationError({"date": message}, code="closed")
    return ExtraAvailability.objects.create(
        provider=provider, location=location, date=date, starts=starts, ends=ends, note=note.strip()[:200],
        created_by=actor, created_at=now,
    )  # fmt: skip
