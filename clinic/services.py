"""Writes on the clinic's shared data: role groups, the holiday calendar and closures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import holidays
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.db import models, transaction

from clinic import localtime
from clinic.models import Closure, HolidayRule, OpeningRange, User, WeekdayHours
from clinic.roles import Role

OBSERVED_SUFFIX = " (observed)"


def roles_sync_groups(*, using: str = "default") -> None:
    """Create each role's group and give it exactly the permissions clinic.roles lists."""
    for role in Role:
        group, _ = Group.objects.using(using).get_or_create(name=role.spec.group)
        wanted = [role.spec.permission, *role.spec.model_permissions]
        permissions = [_permission(name, using=using) for name in wanted]
        group.permissions.set([p for p in permissions if p is not None])


def _permission(dotted: str, *, using: str) -> Permission | None:
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename).first()


def user_grant_role(*, user, role: Role) -> None:
    """Put a user in a role's group; clinic admins also get the Django admin."""
    user.groups.add(Group.objects.get(name=role.spec.group))
    if role is Role.CLINIC_ADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def observed_holiday_dates(*, names: list[str], years: range, country: str | None = None) -> dict[str, list[dt.date]]:
    """The date each named holiday is observed on in each year (a weekend holiday moves to
    its weekday "(observed)" date, which may fall in the previous year)."""
    calendar = holidays.country_holidays(country or settings.CLINIC_HOLIDAY_COUNTRY, years=years, observed=True)
    actual: dict[str, list[dt.date]] = defaultdict(list)
    observed: dict[str, list[dt.date]] = defaultdict(list)
    for day, joined_names in calendar.items():
        # The library joins two holidays on one date with "; ".
        for name in joined_names.split("; "):
            if name.endswith(OBSERVED_SUFFIX):
                observed[name.removesuffix(OBSERVED_SUFFIX)].append(day)
            else:
                actual[name].append(day)
    result = {}
    for name in names:
        moved_to = observed.get(name, [])
        # Every observed date counts (even one standing in for a holiday of next year,
        # like New Year's Day on 31 December); an actual date counts unless it moved.
        kept = [day for day in actual.get(name, []) if not any(abs((o - day).days) <= 3 for o in moved_to)]
        result[name] = sorted(set(moved_to) | set(kept))
    return result


@transaction.atomic
def closure_roll_holidays_forward(*, now: dt.datetime | None = None) -> list[Closure]:
    """Make sure every active holiday rule has its closure for this year and the next two.

    Idempotent: a (rule, date) that already has a row, even one an admin switched off, is
    left alone, so removing a holiday sticks and a second run creates nothing.
    """
    today = localtime.clinic_today(now=now)
    years = range(today.year, today.year + settings.CLINIC_HOLIDAY_YEARS_AHEAD + 1)
    rules = list(HolidayRule.objects.filter(is_active=True))
    dates = observed_holiday_dates(names=[rule.name for rule in rules], years=years)
    existing = set(Closure.objects.filter(holiday_rule__in=rules).values_list("holiday_rule_id", "start_date"))
    created = []
    for rule in rules:
        for day in dates[rule.name]:
            if (rule.pk, day) in existing:
                continue
            created.append(
                Closure(
                    holiday_rule=rule,
                    start_date=day,
                    end_date=day,
                    kind=Closure.Kind.HOLIDAY,
                    reason=rule.name,
                )
            )
    return Closure.objects.bulk_create(created)


@transaction.atomic
def weekday_hours_set(*, location, weekday: int, mode: str, ranges: list[tuple[dt.time, dt.time]]) -> WeekdayHours:
    """Set one weekday's mode and (for open days) its ranges, replacing what was there."""
    day, _ = WeekdayHours.objects.update_or_create(location=location, weekday=weekday, defaults={"mode": mode})
    day.ranges.all().delete()
    if mode == WeekdayHours.Mode.OPEN:
        OpeningRange.objects.bulk_create(OpeningRange(day=day, opens=o, closes=c) for o, c in ranges)
    return day


def calendar_change_record(*, actor: User, obj: models.Model, action_flag: int, message: str) -> None:
    """Record who changed or removed a calendar row (closure, time off, provider hours): in
    Django's admin log, where clinic admins see each object's history. Call it before a
    delete, while the row still has its id."""
    LogEntry.objects.log_actions(
        user_id=actor.pk, queryset=[obj], action_flag=action_flag, change_message=message, single_object=True
    )


@transaction.atomic
def closure_set_active(*, closure: Closure, active: bool, actor: User) -> Closure:
    """Remove (inactive) or restore a closure; holidays stay as rows so roll-forward keeps off."""
    closure.is_active = active
    closure.save(update_fields=["is_active"])
    calendar_change_record(
        actor=actor, obj=closure, action_flag=CHANGE, message="Restored." if active else "Removed: open on those days."
    )
    return closure
