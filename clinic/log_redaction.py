"""Secrets that travel in URL paths, kept out of every log line.

A patient's e-mailed link (``/p/<purpose>/<token>/``) and a password-reset link
(``/accounts/reset/<uid>/<token>/``) carry their bearer token in the path, so the path is
what a web server's access log, Django's "Not Found: /path" and "Gone: /path" warnings and
a same-origin Referer header would write down. Rather than a second, token-free URL design
(the e-mailed link must still open with one tap), every log record is passed through
:func:`redact` on its way out: Django's handlers by ``RedactTokens`` in ``settings.LOGGING``,
gunicorn's access and error logs by ``clinic.gunicorn_logging.RedactingLogger``.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[token]"

# Each pattern keeps the route (which page was asked for) and drops the secret after it.
# Tokens are URL-safe base64 and ":" (django.core.signing), so a secret ends at "/", "?",
# whitespace or a quote.
_SEGMENT = r"[^/?\s\"']+"
SECRET_PATHS = (
    re.compile(rf"(/p/[\w-]+/){_SEGMENT}"),  # scheduling.patient_urls, under /p/ in clinic.urls
    re.compile(rf"(/accounts/reset/){_SEGMENT}/{_SEGMENT}"),  # django.contrib.auth's reset link
)


def redact(text: str) -> str:
    """``text`` with every token in a secret-carrying path replaced by ``REDACTED``."""
    for pattern in SECRET_PATHS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


class RedactTokens(logging.Filter):
    """A logging filter that rewrites a record's message through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
