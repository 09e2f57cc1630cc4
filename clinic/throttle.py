"""Limits on how often one client or one address may do something (ask for portal access, ...).

The database keeps the count, so every web worker sees the same one and a restart forgets
nothing. Keys are hashed: the table counts attempts without keeping the addresses typed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clinic.models import ThrottleHit


@dataclass(frozen=True)
class Limit:
    """At most ``count`` attempts per ``window`` under one key of ``scope``."""

    scope: str
    count: int
    window: dt.timedelta


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def throttle_hit(*, checks: Iterable[tuple[Limit, str | None]], now: dt.datetime | None = None) -> bool:
    """Count one attempt under each (limit, key); False, counting nothing, if any is used up.

    A key of None (no client address known) is not counted. Two requests at the same instant
    may both pass the last free place: a limit is a brake on abuse, not an exact quota.
    """
    now = now or timezone.now()
    checks = [(limit, _hashed(key)) for limit, key in checks if key]
    with transaction.atomic():
        for limit in {limit for limit, _key in checks}:
            ThrottleHit.objects.filter(scope=limit.scope, at__lt=now - limit.window).delete()
        if any(_used(limit, key) >= limit.count for limit, key in checks):
            return False
        ThrottleHit.objects.bulk_create([ThrottleHit(scope=limit.scope, key=key, at=now) for limit, key in checks])
    return True


def _used(limit: Limit, key: str) -> int:
    return ThrottleHit.objects.filter(scope=limit.scope, key=key).count()
