"""Reads on the clinic's shared data."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clinic import localtime
from clinic.models import AuditEvent, Closure, Location, ProcedureType, Provider, User, UserSession, WeekdayHours


def location_list_with_hours() -> QuerySet[Location]:
    """Locations with their weekday hours and opening ranges preloaded."""
    return Location.objects.prefetch_related(
        Prefetch("weekday_hours", queryset=WeekdayHours.objects.prefetch_related("ranges").order_by("weekday")),
        "rooms__capabilities",
    )


def closure_list_upcoming(*, today: dt.date | None = None, limit: int = 20) -> list[Closure]:
    today = today or localtime.clinic_today()
    return list(
        Closure.objects.in_force().filter(end_date__gte=today).select_related("location").order_by("start_date")[:limit]
    )


def provider_list_active() -> QuerySet[Provider]:
    return Provider.objects.filter(is_active=True).prefetch_related("locations")


def procedure_type_list() -> QuerySet[ProcedureType]:
    return ProcedureType.objects.prefetch_related("required_capabilities", "locations", "follow_up_checks")


def clinic_open_days(*, start: dt.date, end: dt.date) -> list[dt.date]:
    """Days in [start, end] on which at least one active location is open for its hours
    (by-appointment days do not count) and no closure shuts that location. Without any
    hours configured, Monday to Friday count."""
    open_weekdays: dict[int, set[int]] = {}
    for location_id, weekday in WeekdayHours.objects.filter(
        location__is_active=True, mode=WeekdayHours.Mode.OPEN
    ).values_list("location_id", "weekday"):
        open_weekdays.setdefault(weekday, set()).add(location_id)
    if not open_weekdays:
        # No hours configured yet (a new install): count Monday to Friday so deadlines
        # still make sense; closures for all locations still apply.
        open_weekdays = {weekday: {None} for weekday in range(5)}
    closures = list(
        Closure.objects.in_force().overlapping(start, end).values_list("location_id", "start_date", "end_date")
    )
    days = []
    day = start
    while day <= end:
        locations = set(open_weekdays.get(day.weekday(), ()))
        for location_id, first, last in closures:
            if first <= day <= last:
                locations = set() if location_id is None else locations - {location_id}
        if locations:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def nth_open_day_after(*, day: dt.date, n: int) -> dt.date:
    """The n-th clinic open day after ``day`` (``day`` itself not counted)."""
    # Look ahead in windows: holidays and long closures can push past a fixed guess.
    window = max(14, n * 3)
    start = day + dt.timedelta(days=1)
    found: list[dt.date] = []
    for _ in range(26):  # at most a year of windows; a clinic closed all year is misconfigured
        end = start + dt.timedelta(days=window - 1)
        found += clinic_open_days(start=start, end=end)
        if len(found) >= n:
            return found[n - 1]
        start = end + dt.timedelta(days=1)
    raise ValueError("The clinic has no open days in the coming year: check locations and hours.")


def audit_events(
    *,
    actor: str = "",
    patient: int | None = None,
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """The audit page's rows, newest first; ``since``/``until`` are days in the clinic's zone."""
    zone = timezone.get_default_timezone()
    events = AuditEvent.objects.all()
    if patient is not None:
        events = events.filter(patient_pk=patient)
    if actor:
        events = events.filter(actor_label__icontains=actor.strip())
    if object_type:
        events = events.filter(object_type__iexact=object_type.strip())
    if object_id:
        events = events.filter(object_id=object_id.strip())
    if action:
        events = events.filter(action=action)
    if since:
        events = events.filter(at__gte=localtime.day_bounds(since, zone)[0])
    if until:
        events = events.filter(at__lt=localtime.day_bounds(until, zone)[1])
    return events.order_by("-at", "-id")


def users_managed_by(actor: User) -> QuerySet[User]:
    """The accounts ``actor`` manages in the product: everyone but superusers, whom only
    superusers manage (in the Django admin)."""
    users = User.objects.all()
    return users if actor.is_superuser else users.filter(is_superuser=False)


def user_list(*, actor: User, search: str = "") -> QuerySet[User]:
    """Accounts by name, with their roles preloaded; ``search`` matches name or e-mail."""
    users = users_managed_by(actor).prefetch_related("groups").order_by("last_name", "first_name", "email")
    for word in search.split()[:5]:
        users = users.filter(Q(email__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return users


def get_user_for_admin(*, actor: User, pk: int) -> User:
    """The user page's access helper: 404 for an account ``actor`` does not manage."""
    user = users_managed_by(actor).prefetch_related("groups").filter(pk=pk).first()
    if user is None:
        raise Http404
    return user


def get_user_session_for_admin(*, actor: User, user_pk: int, pk: int) -> UserSession:
    session = UserSession.objects.select_related("user").filter(pk=pk, user__in=users_managed_by(actor),
                                                                 user_id=user_pk).first()  # fmt: skip
    if session is None:
        raise Http404
    return session


def audit_events_of_patient(patient_pk: int, *, limit: int) -> list[AuditEvent]:
    """The most recent accesses to one patient's records, for "who saw this patient"."""
    return list(AuditEvent.objects.filter(patient_pk=patient_pk).order_by("-at", "-id")[:limit])
