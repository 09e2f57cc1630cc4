"""/healthz reports the database and the broker; 503 when either is down."""

import pytest
from django.db import OperationalError

from clinic.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_with_the_configured_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_on_a_closed_port(settings):
    """The settings name a broker nobody answers on; pytest-django puts them back after.

    Not Celery's own configuration: a value set there (even set back to the old URL) stays
    as Celery's own, masking the settings for every later test in the process.
    """
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}


def test_healthz_is_503_when_the_broker_is_down(client, broker_on_a_closed_port):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error:")


def test_the_broker_check_follows_the_settings_and_celery_keeps_following_them(client, settings):
    assert client.get("/healthz").status_code == 200
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert client.get("/healthz").status_code == 503
    # Celery reads the settings live. This test comes after the broker-down one on purpose: a
    # fixture that wrote the URL into Celery's own configuration and "restored" it by writing
    # the old value back left that value masking the settings for the rest of the run, so
    # this override never reached the check (order-dependent results).
    assert celery_app.conf.broker_url == CLOSED_PORT_BROKER


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"
