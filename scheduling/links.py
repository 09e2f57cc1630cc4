"""Signed, expiring links for patients, who never log in.

A token names one appointment (and, for a follow-up check, one follow-up) and one purpose;
it is signed with the site's key and a purpose-specific salt, so a confirm link cannot be
replayed as a cancel link, and it carries its own expiry. A confirm or change link also names
the appointment's ``version``: moving the appointment raises it, so a link e-mailed for the
earlier time cannot confirm the new one. No patient data is in the URL: only ids, which are
useless without a valid signature. Tokens are kept out of the logs by ``clinic.log_redaction``.
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
# Purposes that act on the appointment as booked at one time, so their tokens carry its version.
VERSIONED_PURPOSES = {CONFIRM, CHANGE}
# Tokens signed before versions were carried name none: they can only be trusted for an
# appointment never moved since (version 1); for a moved one they read as for an earlier time.
UNVERSIONED = 1


class LinkInvalid(Exception):
    """Tampered with, for another purpose, or malformed."""


class LinkExpired(LinkInvalid):
    """Genuine, but older than it may be."""


@dataclasses.dataclass(frozen=True)
class LinkClaim:
    appointment_id: int
    purpose: str
    expires_at: dt.datetime
    follow_up_id: int | None = None
    version: int | None = None  # the appointment's version when the link was made (VERSIONED_PURPOSES)

    def is_for_earlier_time(self, appointment) -> bool:
        """Whether the appointment was moved after this link was made."""
        return self.purpose in VERSIONED_PURPOSES and self.version != appointment.version


def link_max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.PATIENT_LINK_MAX_AGE_DAYS)


def make_token(
    *,
    appointment_id: int,
    purpose: str,
    version: int | None = None,
    follow_up_id: int | None = None,
    valid_from: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> str:
    """A token good for ``link_max_age()`` from ``valid_from`` (default now), or until
    ``expires_at`` when it is derived from another link (never later than its parent's).

    The expiry is in the signed payload rather than taken from the signing time because
    e-mails are rendered when they are owed: a reminder written at booking and sent 60 days
    later must carry links that are good from when it arrives.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown link purpose {purpose!r}")
    if purpose in VERSIONED_PURPOSES and version is None:
        raise ValueError(f"A {purpose} link names the appointment's version")
    if expires_at is None:
        expires_at = (valid_from or timezone.now()) + link_max_age()
    payload = {"a": appointment_id, "p": purpose, "x": int(expires_at.timestamp())}
    if version is not None:
        payload["v"] = version
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
        or not isinstance(payload.get("v", UNVERSIONED), int)
    ):
        raise LinkInvalid("Wrong purpose or shape")
    if not allow_expired and (now or timezone.now()).timestamp() > payload["x"]:
        raise LinkExpired(f"Expired at {payload['x']}")
    return LinkClaim(
        appointment_id=payload["a"],
        purpose=purpose,
        expires_at=dt.datetime.fromtimestamp(payload["x"], tz=dt.UTC),
        follow_up_id=payload.get("f"),
        version=payload.get("v", UNVERSIONED) if purpose in VERSIONED_PURPOSES else None,
    )


def absolute_url(path: str) -> str:
    """A link for an e-mail: the site's public base URL plus the path."""
    return settings.SITE_URL.rstrip("/") + path


def patient_link(
    *,
    appointment_id: int,
    purpose: str,
    version: int | None = None,
    follow_up_id: int | None = None,
    valid_from: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> str:
    """The full URL a patient clicks, e.g. in a reminder e-mail (good from ``valid_from``,
    the moment the e-mail is due, or until ``expires_at``: see :func:`make_token`)."""
    token = make_token(
        appointment_id=appointment_id,
        purpose=purpose,
        version=version,
        follow_up_id=follow_up_id,
        valid_from=valid_from,
        expires_at=expires_at,
    )
    return absolute_url(reverse(f"patient:{purpose}", args=[token]))
