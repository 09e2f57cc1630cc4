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


def make_token(*, appointment_id: int, purpose: str, follow_up_id: int | None = None) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown link purpose {purpose!r}")
    payload = {"a": appointment_id, "p": purpose}
    if follow_up_id is not None:
        payload["f"] = follow_up_id
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str, *, purpose: str, max_age: dt.timedelta | None = None) -> LinkClaim:
    """The claim a token makes, if it is genuine, unexpired and for this purpose."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age or link_max_age())
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except signing.BadSignature as exc:
        raise LinkInvalid(str(exc)) from exc
    if not isinstance(payload, dict) or payload.get("p") != purpose or not isinstance(payload.get("a"), int):
        raise LinkInvalid("Wrong purpose or shape")
    follow_up_id = payload.get("f")
    return LinkClaim(appointment_id=payload["a"], purpose=purpose, follow_up_id=follow_up_id)


def absolute_url(path: str) -> str:
    """A link for an e-mail: the site's public base URL plus the path."""
    return settings.SITE_URL.rstrip("/") + path


def patient_link(*, appointment_id: int, purpose: str, follow_up_id: int | None = None) -> str:
    """The full URL a patient clicks, e.g. in a reminder e-mail."""
    token = make_token(appointment_id=appointment_id, purpose=purpose, follow_up_id=follow_up_id)
    return absolute_url(reverse(f"patient:{purpose}", args=[token]))
