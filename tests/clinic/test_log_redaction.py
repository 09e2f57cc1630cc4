"""Tokens in patient and password-reset links are replaced in every log line Django writes."""

import io
import logging

import pytest

from clinic.log_redaction import REDACTED, RedactTokens, redact
from scheduling import links

TOKEN = "eyJhIjoxLCJwIjoiY29uZmlybSJ9:1xVUaO:MY4_6F3XOlEOqHYV-BzpvT5rPyg"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'"GET /p/confirm/{TOKEN}/ HTTP/1.1" 200', f'"GET /p/confirm/{REDACTED}/ HTTP/1.1" 200'),
        (f"Gone: /p/follow-up/{TOKEN}/", f"Gone: /p/follow-up/{REDACTED}/"),
        (f'"https://clinic.example/p/change/{TOKEN}/"', f'"https://clinic.example/p/change/{REDACTED}/"'),
        (f"/p/confirm/{TOKEN}?x=1", f"/p/confirm/{REDACTED}?x=1"),
        ("GET /accounts/reset/MTI/cabc12-0123456789abcdef/ HTTP/1.1", f"GET /accounts/reset/{REDACTED}/ HTTP/1.1"),
        ("GET /scheduling/appointments/12/ HTTP/1.1", "GET /scheduling/appointments/12/ HTTP/1.1"),
    ],
)
def test_redact_keeps_the_route_and_drops_the_token(line, expected):
    assert redact(line) == expected


@pytest.fixture
def console():
    """What the project's console handler (settings.LOGGING) writes, captured."""
    (handler,) = [h for h in logging.getLogger().handlers if any(isinstance(f, RedactTokens) for f in h.filters)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_djangos_warning_about_a_refused_link_names_no_token(client, console):
    token = links.make_token(appointment_id=999_999, purpose=links.CONFIRM, version=1)
    assert client.get(f"/p/confirm/{token}/").status_code == 410
    written = console.getvalue()
    assert f"Gone: /p/confirm/{REDACTED}/" in written
    assert token not in written
