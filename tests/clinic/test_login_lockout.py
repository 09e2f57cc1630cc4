"""Issue 10 item 1: the lockout counts one identity however the address is typed, on both
login pages; the real password is refused until the cool-off has passed."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clinic.login_identity import axes_username, login_identity
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
ADDRESS = "norole@clinic.example"
SPELLINGS = ["NOROLE@clinic.example", "Norole@Clinic.Example", "nOROLE@CLINIC.example", " norole@clinic.EXAMPLE "]


@pytest.fixture
def staff_user(db):
    # Staff, so /admin/login/ would let the real password in if the lockout did not stop it.
    return UserFactory(email=ADDRESS, is_staff=True, is_superuser=True)


def _post(client, url_name: str, email: str, password: str):
    return client.post(reverse(url_name), {"username": email, "password": password})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_identity_strips_and_lower_cases():
    assert login_identity("  Dr.Nguyen@RiverBend.Example ") == "dr.nguyen@riverbend.example"


def test_axes_counts_credentials_and_a_posted_form_under_the_same_identity(rf):
    request = rf.post("/accounts/login/", {"username": "NoRole@Clinic.Example"})
    assert axes_username(request, None) == ADDRESS
    assert axes_username(request, {"username": " NOROLE@clinic.example"}) == ADDRESS


def test_100_mixed_case_failures_lock_the_account_after_the_limit(client, staff_user):
    limit = settings.AXES_FAILURE_LIMIT
    spellings = itertools.cycle(SPELLINGS)
    statuses = [_post(client, "login", next(spellings), "wrong-password").status_code for _ in range(100)]
    # The limit-th failure is the one that locks: it already answers with the lockout page.
    assert statuses == [200] * (limit - 1) + [429] * (100 - limit + 1)


def test_a_locked_account_refuses_the_real_password_in_any_spelling_and_on_the_admin_login(client, staff_user):
    for spelling in itertools.islice(itertools.cycle(SPELLINGS), 100):
        _post(client, "login", spelling, "wrong-password")

    for spelling in [ADDRESS, *SPELLINGS]:
        response = _post(client, "login", spelling, PASSWORD)
        assert response.status_code == 429, spelling
        assert b"Too many failed log-in attempts" in response.content
        assert not _logged_in(client)
    response = _post(client, "admin:login", "NoRole@clinic.example", PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(client)


def test_after_the_cool_off_the_real_password_works_again_in_another_spelling(client, staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for spelling in itertools.islice(itertools.cycle(SPELLINGS), 100):
            _post(client, "login", spelling, "wrong-password")
    after = start + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        response = _post(client, "admin:login", "NOROLE@CLINIC.EXAMPLE", PASSWORD)
        assert response.status_code == 302
        assert _logged_in(client)


def test_an_attempt_during_the_lockout_starts_the_cool_off_again(client, staff_user):
    # django-axes' default, kept: whoever keeps guessing stays locked out (compare the test
    # above, where start + cool-off + 1 minute lets the password in).
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for spelling in itertools.islice(itertools.cycle(SPELLINGS), 100):
            _post(client, "login", spelling, "wrong-password")
    almost = start + settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=30)
    with time_machine.travel(almost, tick=False):
        assert _post(client, "login", "Norole@clinic.example", PASSWORD).status_code == 429
    with time_machine.travel(almost + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1), tick=False):
        assert _post(client, "admin:login", ADDRESS, PASSWORD).status_code == 302
        assert _logged_in(client)


def test_failures_on_the_admin_login_count_toward_the_same_lockout(client, staff_user):
    limit = settings.AXES_FAILURE_LIMIT
    for spelling in itertools.islice(itertools.cycle(SPELLINGS), limit - 1):
        assert _post(client, "admin:login", spelling, "wrong-password").status_code == 200
    assert _post(client, "login", "NoRoLe@clinic.example", "wrong-password").status_code == 429
    assert _post(client, "login", ADDRESS, PASSWORD).status_code == 429


def test_a_login_under_another_spelling_does_not_clear_a_lockout(client, staff_user):
    # The bypass: lock "NOROLE@..." and log in as "nOROLE@...", whose success reset the count.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post(client, "login", "NOROLE@clinic.example", "wrong-password")
    assert _post(client, "login", "nOROLE@clinic.example", PASSWORD).status_code == 429
    assert not _logged_in(client)
