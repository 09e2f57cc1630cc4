"""Signed, expiring links for patients, who never log in.

A token names one appointment (and, for a follow-up check, one follow-up) and one purpose;
it is signed with the site's key and a purpose-specific salt, so a confirm link cannot be
replayed as a cancel link, and it carries its own timestamp so it expires. No patient data
is in the URL: only ids, which are useless without a valid signature.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

SALT = "scheduling.patient-link"

# Purposes a link can carry; the view checks the token's purpose matches its own.
CONFIRM = "confirm"
CHANGE = "change"  # ask to reschedule or cancel
FOLLOW_UP = "follow-up"

PURPOSES = {CONFIRM, CHANGE, FOLLOW_UP}


class LinkInvalid(Exception):
    """Tampered with, for another purpose, or malformed."""


class LinkExpired(LinkInvalid):
    """Genuine, but older than it may be."""


@dataclasses.dataclass(frozen=True)
class LinkClaim:
    appointment_id: int
    purpose: str
    follow_up_id: int | None = None


def link_max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.PATIENT_LINK_MAX_AGE_DAYS)


def make_token(
    *, appointment_id: int, purpose: str, follow_up_id: int | None = None, valid_from: dt.datetime | None = None
) -> str:
    """A token good for ``link_max_age()`` from ``valid_from`` (default now).

    The expiry is in the signed payload rather than taken from the signing time because
    e-mails are rendered when they are owed: a reminder written at booking and sent 60 days
    later must carry links that are good from when it arrives.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown link purpose {purpose!r}")
    expires = (valid_from or timezone.now()) + link_max_age()
    payload = {"a": appointment_id, "p": purpose, "x": int(expires.timestamp())}
    if follow_up_id is not None:
        payload["f"] = follow_up_id
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str, *, purpose: str, allow_expired: bool = False, now: dt.datetime | None = None) -> LinkClaim:
    """The claim a token makes, if it is genuine, for this purpose and (unless
    ``allow_expired``, used only to say whose clinic to call) unexpired."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise LinkInvalid(str(exc)) from exc
    if (
        not isinstance(payload, dict)
        or payload.get("p") != purpose
        or not isinstance(payload.get("a"), int)
        or not isinstance(payload.get("x"), int)
    ):
        raise LinkInvalid("Wrong purpose or shape")
    if not allow_expired and (now or timezone.now()).timestamp() > payload["x"]:
        raise LinkExpired(f"Expired at {payload['x']}")
    return LinkClaim(appointment_id=payload["a"], purpose=purpose, follow_up_id=payload.get("f"))


def absolute_url(path: str) -> str:
    """A link for an e-mail: the site's public base URL plus the path."""
    return settings.SITE_URL.rstrip("/") + path


def patient_link(
    *, appointment_id: int, purpose: str, follow_up_id: int | None = None, valid_from: dt.datetime | None = None
) -> str:
    """The full URL a patient clicks, e.g. in a reminder e-mail (good from ``valid_from``,
    the moment the e-mail is due)."""
    token = make_token(appointment_id=appointment_id, purpose=purpose, follow_up_id=follow_up_id, valid_from=valid_from)
    return absolute_url(reverse(f"patient:{purpose}", args=[token]))
