"""The second-factor pages: enrolment (QR code, then recovery codes shown once), the code
page after the password, the user's Security page, and a clinic admin's reset."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials, get_lockout_response
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import mfa
from clinic.audit import not_phi
from clinic.forms import SecondFactorCodeForm
from clinic.models import User
from clinic.roles import Role, role_required

WRONG_CODE = (
    "That code is not right. Enter the 6-digit code your authenticator app shows now, "
    "or one of your unused recovery codes."
)
WRONG_ENROLMENT_CODE = (
    "That code is not right. Check that the clock of your phone is right and enter the 6-digit code the app shows now."
)
WAIT_BEFORE_NEXT_CODE = "Too many wrong codes: wait {wait}, then enter the code your app shows then."
RECOVERY_CODE_USED = "You used a recovery code; {left} left. Make new ones on your Security page."
RESET_DONE = "{name}'s two-factor authentication was reset: they set it up again at their next login."

# The recovery codes just made, kept in the session until the user says they saved them.
FRESH_CODES_SESSION_KEY = "mfa_fresh_recovery_codes"


def _next_url(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _with_next(url_name: str, request: HttpRequest) -> str:
    target = _next_url(request, "")
    return reverse(url_name) + (f"?{urlencode({'next': target})}" if target else "")


def _no_navigation_until_passed(request: HttpRequest) -> dict:
    """Before the second factor the role's links would only lead back here: leave them out."""
    return {} if request.user.is_verified() else {"nav_entries": []}


def _count_wrong_code(request: HttpRequest) -> bool:
    """A wrong code is a failed login for django-axes (and whatever else listens, such as
    the audit log): the same account's counter as wrong passwords. True when it locked the
    account."""
    user_login_failed.send(sender=__name__, credentials=get_credentials(request.user.email), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def _locked_out(request: HttpRequest) -> HttpResponse:
    """End the half-logged-in session: a locked account passes nothing until the cool-off."""
    credentials = get_credentials(request.user.email)
    logout(request)
    return get_lockout_response(request, None, credentials)


def _is_locked(request: HttpRequest) -> bool:
    return AxesProxyHandler.is_locked(request, get_credentials(request.user.email))


def _refuse(
    request: HttpRequest, form: SecondFactorCodeForm, check: mfa.CodeCheck, message: str
) -> HttpResponse | None:
    """Put the refusal next to the field; the lockout page instead when it locked the account."""
    if check.wait_seconds:
        wait = f"{check.wait_seconds} second{'' if check.wait_seconds == 1 else 's'}"
        form.add_error("code", WAIT_BEFORE_NEXT_CODE.format(wait=wait))
    else:
        form.add_error("code", message)
    if _count_wrong_code(request):
        return _locked_out(request)
    return None


@not_phi("one's own second factor: no patient record")
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), confirm a code."""
    if mfa.mfa_enrolled(request.user):
        return redirect(_next_url(request, "mfa:security"))
    device = mfa.mfa_enrolment_device(user=request.user)
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _is_locked(request):
            return _locked_out(request)
        enrolment = mfa.mfa_enrolment_confirm(user=request.user, code=form.cleaned_data["code"])
        if enrolment is not None:
            otp_login(request, enrolment.device)
            mfa.failed_logins_forget(request, request.user)
            request.session[FRESH_CODES_SESSION_KEY] = enrolment.recovery_codes
            return redirect(_with_next("mfa:recovery_codes", request))
        locked = _refuse(request, form, mfa.CodeCheck(device=None), WRONG_ENROLMENT_CODE)
        if locked:
            return locked
    context = {
        "form": form,
        "qr_svg": mfa.totp_qr_svg(device),
        "secret": mfa.totp_secret(device),
        "required": mfa.mfa_required_by_policy(request.user),
        "next": _next_url(request, ""),
        **_no_navigation_until_passed(request),
    }
    return render(request, "clinic/mfa/enrol.html", context, status=400 if form.errors else 200)


@not_phi("one's own second factor: no patient record")
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """The recovery codes just made, shown this once, until "I have saved them"."""
    codes = request.session.get(FRESH_CODES_SESSION_KEY)
    if not codes:
        return redirect("mfa:security")
    if request.method == "POST":
        del request.session[FRESH_CODES_SESSION_KEY]
        return redirect(_next_url(request))
    shown = [mfa.recovery_code_display(code) for code in codes]
    return render(request, "clinic/mfa/recovery_codes.html", {"codes": shown, "next": _next_url(request, "")})


@not_phi("one's own second factor: no patient record")
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """After the password: a code from the app, or a recovery code."""
    if request.user.is_verified() or not mfa.mfa_must_pass(request.user):
        return redirect(_next_url(request))
    if not mfa.mfa_enrolled(request.user):
        return redirect(_with_next("mfa:enrol", request))
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _is_locked(request):
            return _locked_out(request)
        check = mfa.mfa_code_check(user=request.user, code=form.cleaned_data["code"])
        if check.passed:
            otp_login(request, check.device)
            mfa.failed_logins_forget(request, request.user)
            if not isinstance(check.device, TOTPDevice):
                left = mfa.mfa_recovery_codes_left(request.user)
                messages.warning(request, RECOVERY_CODE_USED.format(left=left))
            return redirect(_next_url(request))
        locked = _refuse(request, form, check, WRONG_CODE)
        if locked:
            return locked
    context = {"form": form, "next": _next_url(request, ""), **_no_navigation_until_passed(request)}
    return render(request, "clinic/mfa/verify.html", context, status=400 if form.errors else 200)


@not_phi("one's own second factor: no patient record")
@login_required
def security(request: HttpRequest) -> HttpResponse:
    """Whether the user uses a second factor, and new recovery codes (a current code needed)."""
    enrolled = mfa.mfa_enrolled(request.user)
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and enrolled and form.is_valid():
        if _is_locked(request):
            return _locked_out(request)
        check = mfa.mfa_code_check(user=request.user, code=form.cleaned_data["code"])
        if check.passed:
            request.session[FRESH_CODES_SESSION_KEY] = mfa.mfa_recovery_codes_replace(user=request.user)
            return redirect("mfa:recovery_codes")
        locked = _refuse(request, form, check, WRONG_CODE)
        if locked:
            return locked
    context = {
        "form": form,
        "enrolled": enrolled,
        "required": mfa.mfa_required_by_policy(request.user),
        "codes_left": mfa.mfa_recovery_codes_left(request.user) if enrolled else 0,
    }
    return render(request, "clinic/mfa/security.html", context, status=400 if form.errors else 200)


@not_phi("a staff account's second factor: no patient record")
@role_required(Role.CLINIC_ADMIN)
def user_mfa_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """A clinic admin deletes someone's second factor (a lost phone); they enrol again at
    their next login. The first POST asks to confirm; the confirmed one resets."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    account = get_object_or_404(User, pk=pk)
    if account.is_superuser and not request.user.is_superuser:
        # Clinic admins manage the clinic's users, never a superuser's sign-in.
        raise Http404
    if request.POST.get("confirm") != "yes":
        context = {"account": account, "next": _next_url(request, "")}
        return render(request, "clinic/users/mfa_reset_confirm.html", context)
    mfa.mfa_reset(request=request, account=account)
    messages.success(request, RESET_DONE.format(name=account))
    return redirect(_next_url(request))
