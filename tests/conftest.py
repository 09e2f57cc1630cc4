"""The named cast every test can use, and the rule that CI never skips a test."""

from __future__ import annotations

import os

import pytest
from django.test.client import ClientMixin

from clinic.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def referrer(db):
    return UserFactory(email="dr.nguyen@riverbend.example", first_name="Lan", last_name="Nguyen", role=Role.REFERRER)


@pytest.fixture
def other_referrer(db):
    return UserFactory(email="dr.okafor@hillside.example", first_name="Chidi", last_name="Okafor", role=Role.REFERRER)


@pytest.fixture
def intake(db):
    return UserFactory(email="intake@clinic.example", first_name="Ivy", last_name="Intake", role=Role.INTAKE)


@pytest.fixture
def scheduler(db):
    return UserFactory(email="scheduler@clinic.example", first_name="Sam", last_name="Scheduler", role=Role.SCHEDULER)


@pytest.fixture
def provider_user(db):
    return UserFactory(email="dr.patel@clinic.example", first_name="Priya", last_name="Patel", role=Role.PROVIDER)


@pytest.fixture
def clinic_admin(db):
    return UserFactory(email="admin@clinic.example", first_name="Ada", last_name="Admin", role=Role.CLINIC_ADMIN)


@pytest.fixture
def users_by_role(referrer, intake, scheduler, provider_user, clinic_admin) -> dict[Role, object]:
    return {
        Role.REFERRER: referrer,
        Role.INTAKE: intake,
        Role.SCHEDULER: scheduler,
        Role.PROVIDER: provider_user,
        Role.CLINIC_ADMIN: clinic_admin,
    }


TEST_DEVICE_NAME = "Test authenticator"


def second_factor_device(user):
    """The confirmed authenticator app the tests give a user who must use a second factor."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TEST_DEVICE_NAME, confirmed=True)


def pass_second_factor(client, user) -> None:
    """Mark ``client``'s session as having passed the second factor, as the code page does,
    for a test that logged in through the real login form and is not about the code step."""
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = second_factor_device(user).persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(request, monkeypatch):
    """`client.force_login(user)` (and `client.login`) give a session that has passed the
    second factor, for users who must use one, so tests of pages need not enrol anyone.
    Tests marked `real_second_factor` get the bare password session instead, as a real
    login would: they prove the gate."""
    if request.node.get_closest_marker("real_second_factor"):
        return
    original = ClientMixin._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        from clinic.mfa import mfa_must_pass

        # A fresh copy: the permission check caches on the object, and the test's own user
        # object may change roles after logging in.
        fresh = type(user).objects.get(pk=user.pk)
        if mfa_must_pass(fresh):
            pass_second_factor(self, fresh)

    monkeypatch.setattr(ClientMixin, "_login", _login)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test is a failed test: every test must run against real services."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"Skipped in CI, which must run every test: {report.longrepr}"


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres need PostgreSQL, and tests marked redis a Redis broker; without
    them (a fresh clone, a laptop on SQLite) they are skipped, so `make test` passes with no
    services. CI turns a skip into a failure: it runs them on PostgreSQL + Redis and
    deselects them on the embedded tier."""
    from django.conf import settings

    missing = {
        "postgres": None if settings.USING_POSTGRES else "needs PostgreSQL (set DATABASE_URL)",
        "redis": None if broker_is_redis(settings.CELERY_BROKER_URL) else "needs a Redis broker (set REDIS_URL)",
    }
    for item in items:
        for marker, reason in missing.items():
            if reason and marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def broker_is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


@pytest.fixture(autouse=True)
def _site_url_as_documented(settings):
    """Links in e-mails start with the documented default, whatever SITE_URL a developer's
    `.env` (written by `PORT=8811 make run`) or shell holds: tests read links out of mail."""
    settings.SITE_URL = "http://localhost:8000"
