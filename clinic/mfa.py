"""Two-factor authentication: who must use it, enrolment, checking a code, an admin's reset.

Built on django-otp: a ``TOTPDevice`` is the user's authenticator app, a ``StaticDevice``
holds their recovery codes (each spent by using it). A session has passed the second factor
when django-otp's session key names one of the user's confirmed devices (``OTPMiddleware``
checks it on every request, so deleting the devices ends it); ``clinic.mfa_gate`` keeps
every other page from a user who must use a second factor until their session has.
"""

from __future__ import annotations

import datetime as dt
import math
from base64 import b32encode
from dataclasses import dataclass

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.audit import audit_record, client_ip
from clinic.login_identity import login_identity
from clinic.models import AuditEvent, User
from clinic.roles import Role, has_role

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
STAFF_ROLES = (Role.INTAKE, Role.SCHEDULER, Role.PROVIDER, Role.CLINIC_ADMIN)
RESET_SUMMARY = "Two-factor authentication reset: the user enrols again at their next login"


# --- Who must use a second factor ---------------------------------------------------------


def is_staff_member(user) -> bool:
    """Clinic staff: any staff role, and whoever may open the Django admin (superusers too)."""
    return user.is_superuser or user.is_staff or has_role(user, *STAFF_ROLES)


def mfa_required_by_policy(user) -> bool:
    """Whether the settings oblige this user to use a second factor (staff, and referring
    physicians when MFA_REQUIRED_FOR_REFERRERS is on)."""
    if not user.is_authenticated:
        return False
    if settings.MFA_REQUIRED_FOR_STAFF and is_staff_member(user):
        return True
    return bool(settings.MFA_REQUIRED_FOR_REFERRERS and has_role(user, Role.REFERRER))


def mfa_enrolled(user) -> bool:
    """Whether the user has a confirmed authenticator app."""
    return user.is_authenticated and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_must_pass(user) -> bool:
    """Required by the settings, or chosen: a user who enrolled passes the code at every login."""
    return mfa_required_by_policy(user) or mfa_enrolled(user)


def failed_logins_forget(request: HttpRequest, user: User) -> None:
    """The login is complete: forget this client's failed attempts for the account, as axes's
    reset-on-success would (the lockout counts per address and client). Called when the
    second factor passes, and at the password for whoever has no second factor to pass."""
    AxesProxyHandler.reset_attempts(username=login_identity(user.email), ip_address=client_ip(request))


@receiver(user_logged_in, dispatch_uid="clinic.mfa.forget_failures_without_second_factor")
def _forget_failures_at_a_complete_password_login(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    if request is not None and not mfa_must_pass(user):
        failed_logins_forget(request, user)


def mfa_recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Enrolment -----------------------------------------------------------------------------


def mfa_enrolment_device(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: made on the first visit to the enrolment page and
    kept (with its key) until confirmed, so a reload does not change the QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def totp_secret(device: TOTPDevice) -> str:
    """The key as people type it into an app: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code (no data: URI, no style attribute)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, light="#fff", svgclass="mfa-qr", title="QR code for your authenticator app"
    )


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    recovery_codes: list[str]


@transaction.atomic
def mfa_enrolment_confirm(*, user: User, code: str) -> Enrolment | None:
    """Confirm the app being set up with a code it shows; on success the user gets fresh
    recovery codes. ``None`` when the code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or not device.verify_token(normalise_code(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # Half-finished set-ups from other visits are of no use once one app is confirmed.
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return Enrolment(device=device, recovery_codes=mfa_recovery_codes_replace(user=user))


@transaction.atomic
def mfa_recovery_codes_replace(*, user: User) -> list[str]:
    """Ten new recovery codes in place of any old ones (shown to the user once)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": RECOVERY_DEVICE_NAME})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_code_display(code: str) -> str:
    """A recovery code as shown: two groups of four, which ``normalise_code`` reads back."""
    return f"{code[:4]}-{code[4:]}"


# --- Checking a code -----------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """What people type, as stored: no spaces or dashes, lower case (recovery codes)."""
    return "".join(ch for ch in code if ch not in " -\t").lower()


@dataclass(frozen=True)
class CodeCheck:
    device: Device | None  # the device that accepted the code
    wait_seconds: int = 0  # > 0: too many wrong codes lately, the code was not looked at

    @property
    def passed(self) -> bool:
        return self.device is not None


def mfa_code_check(*, user: User, code: str, now: dt.datetime | None = None) -> CodeCheck:
    """Check a code from the user's app or one of their recovery codes (which it spends).

    Six digits go to the app (django-otp refuses a code of a time step already used, and
    slows down guessing: after n wrong codes the next is not looked at for 2^(n-1) seconds);
    anything else is tried as a recovery code.
    """
    code = normalise_code(code)
    kind = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        device = kind.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            return CodeCheck(device=None)
        allowed, details = device.verify_is_allowed()
        if not allowed:
            return CodeCheck(device=None, wait_seconds=_seconds_until(details.get("locked_until"), now))
        return CodeCheck(device=device if device.verify_token(code) else None)


def _seconds_until(moment: dt.datetime | None, now: dt.datetime | None) -> int:
    if moment is None:
        return 1
    return max(1, math.ceil((moment - (now or timezone.now())).total_seconds()))


# --- A clinic admin's reset ------------------------------------------------------------------


@transaction.atomic
def mfa_reset(*, request: HttpRequest, account: User) -> AuditEvent:
    """Delete every second-factor device of ``account`` (their app and recovery codes), and
    record who did it. A session of theirs that passed with a deleted device no longer
    counts, so they enrol again at their next page."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=account).delete()
    return audit_record(request=request, action=AuditEvent.Action.DELETE, obj=account, summary=RESET_SUMMARY)
