"""Reading GET parameters that a client may send anything in (a NUL byte, "²", 10,000
characters): each reader returns a clean value or raises ``BadParameter`` with a message
for the page, so no filter reaches the database unchecked (PostgreSQL refuses NUL in a
string; ``"²".isdigit()`` is true but ``int("²")`` fails)."""

from __future__ import annotations

import unicodedata

from django.http import HttpRequest

from clinic.query_params import parse_id

SEARCH_MAX_LENGTH = 100
SEARCH_TEXT_REFUSED = "The search text contains a control character (such as NUL); type it again."
SEARCH_TOO_LONG = "The search text is longer than %(max)s characters; shorten it."
NOT_A_LISTED_CHOICE = "The %(label)s filter is not one of the listed choices; choose one from the list."


class BadParameter(ValueError):
    """A GET parameter the page cannot use; ``str(exc)`` is the message to show."""


def search_text(request: HttpRequest, name: str = "q") -> str:
    value = request.GET.get(name, "").strip()
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise BadParameter(SEARCH_TEXT_REFUSED)
    if len(value) > SEARCH_MAX_LENGTH:
        raise BadParameter(SEARCH_TOO_LONG % {"max": SEARCH_MAX_LENGTH})
    return value


def as_typed(request: HttpRequest, name: str = "q") -> str:
    """The search text as typed, for the form that shows a refusal (control characters
    dropped: they cannot be shown, and PostgreSQL could not hold them)."""
    return "".join(char for char in request.GET.get(name, "") if unicodedata.category(char) != "Cc")


def choice(request: HttpRequest, name: str, choices, *, label: str) -> str:
    """One of ``choices`` or "" when absent; anything else is refused."""
    value = request.GET.get(name, "")
    if value and value not in choices:
        raise BadParameter(NOT_A_LISTED_CHOICE % {"label": label})
    return value


def object_id(request: HttpRequest, name: str, *, label: str) -> int | None:
    value = request.GET.get(name, "")
    if not value:
        return None
    found = parse_id(value)  # the one reading of an id (ASCII digits that fit a bigint)
    if found is None:
        raise BadParameter(NOT_A_LISTED_CHOICE % {"label": label})
    return found
