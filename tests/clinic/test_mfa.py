"""Two-factor authentication (issue 10 item 11): who must use it, the gate in front of every
page, enrolment, codes and recovery codes, the lockout, and a clinic admin's reset."""

from __future__ import annotations

import re
import time

import pytest
from axes.models import AccessAttempt
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import mfa, mfa_gate, mfa_views
from clinic.models import AuditEvent
from clinic.roles import Role
from tests.conftest import second_factor_device
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """These tests log in through the form many times: what is tested is the second factor."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def app_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """What the user's app shows now (or that many 30-second steps later)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def password_login(user) -> Client:
    """A client past the password only, as the login form leaves it."""
    client = Client()
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrolled(user) -> TOTPDevice:
    device = second_factor_device(user)
    mfa.mfa_recovery_codes_replace(user=user)
    return device


# --- The gate, over every URL pattern --------------------------------------------------------


def every_pattern(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, qualified name, pattern) of every URL pattern in the resolver."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            child = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from every_pattern(entry.url_patterns, route, child)
        elif isinstance(entry, URLPattern):
            yield route, f"{namespace}{entry.name}" if entry.name else route, entry


def sample_url(route: str) -> str:
    """A URL the pattern matches: `<int:pk>` -> 1, other arguments -> "x", and a regex group
    of alternatives (the admin's app list) -> its first alternative."""
    url = re.sub(r"\(\?P<\w+>([\w|]+)\)", lambda m: m.group(1).split("|")[0], route)
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "x", url)
    url = re.sub(r"<int:\w+>", "1", url)
    url = re.sub(r"<(?:\w+:)?\w+>", "x", url)
    return "/" + url.replace("^", "").replace("$", "").replace("\\", "")


def gated_urls() -> list[tuple[str, str]]:
    found = []
    for route, name, pattern in every_pattern():
        url = sample_url(route)
        # The sample really opens this pattern (or one of the same name that shadows it, such
        # as accounts/login/), so the check below covers each view.
        match = resolve(url)
        assert match.view_name == name if pattern.name else match.func == pattern.callback, (name, url)
        if not mfa_gate.is_open_without_second_factor(url):
            found.append((name, url))
    return found


def test_the_walk_reaches_the_phi_pages_and_the_admin():
    names = {name for name, url in gated_urls()}
    assert {"scheduling:appointment", "referrals:detail", "scheduling:patient", "clinic:audit_log"} <= names
    assert {"admin:clinic_user_changelist", "mfa:security"} <= names
    assert {"mfa:verify", "login", "logout", "healthz", "patient:confirm"}.isdisjoint(names)


@pytest.mark.real_second_factor
def test_staff_past_the_password_only_reach_no_page_but_the_second_factor(users_by_role):
    superuser = UserFactory(email="root@clinic.example", is_superuser=True, is_staff=True)
    staff = [users_by_role[role] for role in mfa.STAFF_ROLES] + [superuser]
    enrolled(users_by_role[Role.SCHEDULER])
    urls = gated_urls()
    reached = []
    for user in staff:
        client = password_login(user)
        target = reverse("mfa:verify" if mfa.mfa_enrolled(user) else "mfa:enrol")
        # Every role GETs every page; one role also POSTs to each (the gate does not look at
        # the method, and the requests are many).
        methods = ("get", "post") if user == superuser else ("get",)
        for name, url in urls:
            for method in methods:
                response = getattr(client, method)(url)
                if response.status_code != 302 or not response["Location"].startswith(target):
                    reached.append((user.email, method, name, response.status_code))
    assert reached == []


@pytest.mark.real_second_factor
def test_the_gate_keeps_the_page_asked_for(intake):
    enrolled(intake)
    client = password_login(intake)
    response = client.get("/referrals/triage/?status=submitted")
    assert response["Location"] == "/accounts/mfa/verify/?next=%2Freferrals%2Ftriage%2F%3Fstatus%3Dsubmitted"


@pytest.mark.real_second_factor
def test_login_logout_health_and_patient_links_stay_open_before_the_second_factor(intake):
    client = password_login(intake)
    assert client.get(reverse("healthz")).status_code in (200, 503)
    assert client.get(reverse("patient:confirm", args=["tampered"])).status_code == 400
    assert client.get(reverse("mfa:enrol")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


@pytest.mark.real_second_factor
def test_a_referrer_is_not_asked_for_a_second_factor_by_default(referrer):
    client = password_login(referrer)
    assert client.get(reverse("referrals:portal")).status_code == 200


@pytest.mark.real_second_factor
def test_referrers_must_enrol_when_the_setting_says_so(referrer, settings):
    settings.MFA_REQUIRED_FOR_REFERRERS = True
    client = password_login(referrer)
    assert client.get(reverse("referrals:portal"))["Location"].startswith(reverse("mfa:enrol"))


@pytest.mark.real_second_factor
def test_staff_are_let_through_when_the_staff_setting_is_off(intake, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    client = password_login(intake)
    assert client.get(reverse("referrals:triage")).status_code == 200


@pytest.mark.real_second_factor
def test_a_referrer_who_chose_a_second_factor_must_pass_it(referrer):
    enrolled(referrer)
    client = password_login(referrer)
    assert client.get(reverse("referrals:portal"))["Location"].startswith(reverse("mfa:verify"))


# --- Enrolment -----------------------------------------------------------------------------


@pytest.mark.real_second_factor
def test_enrolment_shows_a_qr_code_and_the_key_then_ten_recovery_codes_once(clinic_admin):
    client = password_login(clinic_admin)
    page = client.get(reverse("mfa:enrol") + "?next=/clinic/setup/").content.decode()
    device = TOTPDevice.objects.get(user=clinic_admin, confirmed=False)
    assert "<svg" in page
    assert "data:" not in page
    assert "style=" not in page
    assert mfa.totp_secret(device) in page
    assert client.get(reverse("mfa:enrol")).content.decode().count(mfa.totp_secret(device)) == 1  # same key

    response = client.post(reverse("mfa:enrol"), {"code": app_code(device), "next": "/clinic/setup/"})
    assert response["Location"] == reverse("mfa:recovery_codes") + "?next=%2Fclinic%2Fsetup%2F"
    device.refresh_from_db()
    assert device.confirmed
    codes = client.session[mfa_views.FRESH_CODES_SESSION_KEY]
    assert len(codes) == 10 == StaticToken.objects.filter(device__user=clinic_admin).count()
    page = client.get(response["Location"]).content.decode()
    assert all(mfa.recovery_code_display(code) in page for code in codes)
    assert client.post(reverse("mfa:recovery_codes"), {"next": "/clinic/setup/"})["Location"] == "/clinic/setup/"
    assert mfa_views.FRESH_CODES_SESSION_KEY not in client.session
    assert client.get(reverse("mfa:recovery_codes"))["Location"] == reverse("mfa:security")  # shown once
    assert client.get(reverse("clinic:setup")).status_code == 200


@pytest.mark.real_second_factor
def test_a_wrong_enrolment_code_is_refused_next_to_the_field(scheduler):
    client = password_login(scheduler)
    client.get(reverse("mfa:enrol"))
    response = client.post(reverse("mfa:enrol"), {"code": "000000"})
    assert response.status_code == 400
    assert mfa_views.WRONG_ENROLMENT_CODE in response.content.decode()
    assert 'value="000000"' in response.content.decode()
    assert not mfa.mfa_enrolled(scheduler)


# --- The code page ---------------------------------------------------------------------------


@pytest.mark.real_second_factor
def test_a_code_from_the_app_passes_and_returns_to_the_page_asked_for(provider_user):
    device = enrolled(provider_user)
    client = password_login(provider_user)
    response = client.post(reverse("mfa:verify"), {"code": app_code(device), "next": "/scheduling/my-day/"})
    assert response["Location"] == "/scheduling/my-day/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


@pytest.mark.real_second_factor
def test_a_code_is_accepted_once(provider_user):
    device = enrolled(provider_user)
    code = app_code(device)
    assert password_login(provider_user).post(reverse("mfa:verify"), {"code": code}).status_code == 302
    time.sleep(1.1)  # past django-otp's pause after a refused code, which is not what is tested
    response = password_login(provider_user).post(reverse("mfa:verify"), {"code": code})
    assert response.status_code == 400


@pytest.mark.real_second_factor
def test_a_recovery_code_passes_once_and_is_spent(intake):
    enrolled(intake)
    code = StaticToken.objects.filter(device__user=intake).first().token
    client = password_login(intake)
    response = client.post(reverse("mfa:verify"), {"code": mfa.recovery_code_display(code).upper()}, follow=True)
    assert mfa_views.RECOVERY_CODE_USED.format(left=9) in response.content.decode()
    assert not StaticToken.objects.filter(token=code).exists()
    response = password_login(intake).post(reverse("mfa:verify"), {"code": code})
    assert response.status_code == 400
    assert mfa_views.WRONG_CODE in response.content.decode()


@pytest.mark.real_second_factor
def test_wrong_codes_are_refused_and_count_toward_the_lockout(intake, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own slow-down is tested elsewhere
    device = enrolled(intake)
    client = password_login(intake)
    for attempt in (1, 2):
        response = client.post(reverse("mfa:verify"), {"code": "123456" if attempt == 1 else "nope-nope"})
        assert response.status_code == 400
        assert mfa_views.WRONG_CODE in response.content.decode()
    assert AccessAttempt.objects.get(username=intake.email).failures_since_start == 2

    response = client.post(reverse("mfa:verify"), {"code": "654321"})
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session  # the half-logged-in session ended
    # Locked: the right password and then the right code get nowhere until the cool-off.
    response = Client().post(reverse("login"), {"username": intake.email, "password": PASSWORD})
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert client.post(reverse("mfa:verify"), {"code": app_code(device)})["Location"].startswith(reverse("login"))
    assert client.get(reverse("referrals:triage"))["Location"].startswith(reverse("login"))


@pytest.mark.real_second_factor
def test_logging_in_again_with_the_password_buys_no_fresh_guesses_at_the_code(intake, settings):
    """The password alone does not clear the failures: only a passed second factor does."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    enrolled(intake)
    for _ in range(2):
        client = password_login(intake)
        assert client.post(reverse("mfa:verify"), {"code": "123456"}).status_code == 400
    assert AccessAttempt.objects.get(username=intake.email).failures_since_start == 2
    client = password_login(intake)
    response = client.post(reverse("mfa:verify"), {"code": "654321"})
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE  # the third wrong code: locked


@pytest.mark.real_second_factor
def test_a_passed_second_factor_forgets_the_failures(intake, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = enrolled(intake)
    client = password_login(intake)
    client.post(reverse("mfa:verify"), {"code": "123456"})
    assert AccessAttempt.objects.filter(username=intake.email).exists()
    assert client.post(reverse("mfa:verify"), {"code": app_code(device)}).status_code == 302
    assert not AccessAttempt.objects.filter(username=intake.email).exists()


def test_a_password_login_without_a_second_factor_forgets_the_failures(referrer):
    Client().post(reverse("login"), {"username": referrer.email, "password": "wrong"})
    assert AccessAttempt.objects.filter(username=referrer.email).exists()
    assert Client().post(reverse("login"), {"username": referrer.email, "password": PASSWORD}).status_code == 302
    assert not AccessAttempt.objects.filter(username=referrer.email).exists()


@pytest.mark.real_second_factor
def test_django_otp_slows_down_guessing_and_says_how_long_to_wait(intake):
    device = enrolled(intake)
    client = password_login(intake)
    client.post(reverse("mfa:verify"), {"code": "123456"})
    response = client.post(reverse("mfa:verify"), {"code": app_code(device)})
    assert response.status_code == 400
    assert "Too many wrong codes: wait 1 second," in response.content.decode()


# --- The Security page -----------------------------------------------------------------------


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(client, scheduler, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no pause after the wrong code
    client.force_login(scheduler)
    device = second_factor_device(scheduler)
    old = set(mfa.mfa_recovery_codes_replace(user=scheduler))
    page = client.get(reverse("mfa:security")).content.decode()
    assert "10 unused recovery codes" in page
    response = client.post(reverse("mfa:security"), {"code": "000000"})
    assert response.status_code == 400
    assert set(StaticToken.objects.filter(device__user=scheduler).values_list("token", flat=True)) == old
    response = client.post(reverse("mfa:security"), {"code": app_code(device, steps_ahead=1)})
    assert response["Location"] == reverse("mfa:recovery_codes")
    new = set(StaticToken.objects.filter(device__user=scheduler).values_list("token", flat=True))
    assert len(new) == 10
    assert not new & old


def test_a_referrer_may_choose_a_second_factor_from_the_security_page(client, referrer):
    client.force_login(referrer)
    assert reverse("mfa:enrol") in client.get(reverse("mfa:security")).content.decode()
    assert client.get(reverse("mfa:enrol")).status_code == 200


# --- A clinic admin's reset ------------------------------------------------------------------


def test_a_clinic_admin_resets_a_second_factor_after_confirming_and_it_is_audited(client, clinic_admin, intake):
    enrolled(intake)
    intake_client = Client()
    intake_client.force_login(intake)
    assert intake_client.get(reverse("referrals:triage")).status_code == 200
    client.force_login(clinic_admin)
    url = reverse("clinic:user_mfa_reset", args=[intake.pk])

    response = client.post(url, {"next": "/clinic/setup/"})
    assert response.status_code == 200
    assert "Reset Ivy Intake" in response.content.decode()
    assert mfa.mfa_enrolled(intake)

    response = client.post(url, {"confirm": "yes", "next": "/clinic/setup/"})
    assert response["Location"] == "/clinic/setup/"
    assert not TOTPDevice.objects.filter(user=intake).exists()
    assert not StaticDevice.objects.filter(user=intake).exists()
    event = AuditEvent.objects.get(object_type="clinic.User", object_id=str(intake.pk))
    assert (event.actor, event.action, event.summary) == (clinic_admin, "delete", mfa.RESET_SUMMARY)
    assert event.path == url
    # Their session that passed with the deleted app no longer counts: they enrol again.
    assert intake_client.get(reverse("referrals:triage"))["Location"].startswith(reverse("mfa:enrol"))


def test_only_clinic_admins_may_reset_and_a_get_is_refused_after_the_role_check(client, users_by_role, intake):
    enrolled(intake)
    url = reverse("clinic:user_mfa_reset", args=[intake.pk])
    assert Client().post(url, {"confirm": "yes"})["Location"].startswith(reverse("login"))
    for role, user in users_by_role.items():
        client.force_login(user)
        if role is Role.CLINIC_ADMIN:
            assert client.get(url).status_code == 405
        else:
            assert client.get(url).status_code == 404
            assert client.post(url, {"confirm": "yes"}).status_code == 404
    assert mfa.mfa_enrolled(intake)


def test_a_clinic_admin_cannot_reset_a_superuser(client, clinic_admin):
    root = UserFactory(email="root@clinic.example", is_superuser=True, is_staff=True)
    enrolled(root)
    client.force_login(clinic_admin)
    response = client.post(reverse("clinic:user_mfa_reset", args=[root.pk]), {"confirm": "yes"})
    assert response.status_code == 404
    assert mfa.mfa_enrolled(root)


def test_the_user_page_panel_shows_the_state_and_the_reset_button(clinic_admin, intake, referrer):
    request = RequestFactory().get("/clinic/users/7/")
    request.user = clinic_admin

    def panel(account) -> str:
        return render_to_string("clinic/users/_mfa_panel.html", {"account": account}, request=request)

    assert "will be asked to set it up at their next login" in panel(intake)
    assert "optional for this account" in panel(referrer)
    enrolled(intake)
    html = panel(intake)
    assert "10 recovery codes left" in html
    assert f'action="{reverse("clinic:user_mfa_reset", args=[intake.pk])}"' in html
    assert "Reset two-factor authentication" in html
    assert "style=" not in html


# --- The test infrastructure everyone relies on ------------------------------------------------


def test_force_login_gives_staff_a_session_that_passed_the_second_factor(client, scheduler):
    client.force_login(scheduler)
    assert client.get(reverse("scheduling:queue")).status_code == 200


@pytest.mark.real_second_factor
def test_the_marker_leaves_force_login_at_the_password(client, scheduler):
    client.force_login(scheduler)
    assert client.get(reverse("scheduling:queue"))["Location"].startswith(reverse("mfa:enrol"))
