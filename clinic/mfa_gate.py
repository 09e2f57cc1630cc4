"""The second-factor gate: a user who must use a second factor, whose session has not passed
it, reaches only the pages needed to pass it. Everything else (every PHI page, the Django
admin, pages added later) answers a redirect to enrolment or to the code page, because the
rule sits in front of every view rather than in each one."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from clinic import mfa

# Pages open to a logged-in user who has not passed the second factor: logging in and out,
# the pages that pass it (enrolment, its recovery codes, the code page; not the Security page,
# which is for a session that passed), the anonymous password-reset pages, health checks, and
# the patients' signed-link pages (which never use the login).
OPEN_VIEW_NAMES = frozenset(
    {
        "login",
        "logout",
        "healthz",
        "favicon",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "mfa:enrol",
        "mfa:recovery_codes",
        "mfa:verify",
    }
)
OPEN_NAMESPACES = frozenset({"patient"})


def is_open_without_second_factor(path: str) -> bool:
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.view_name in OPEN_VIEW_NAMES or bool(set(match.namespaces) & OPEN_NAMESPACES)


class SecondFactorRequiredMiddleware:
    """After OTPMiddleware: send an unverified session of a user who must use a second
    factor to the enrolment page (no app yet) or the code page, with ``next`` kept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or user.is_verified() or is_open_without_second_factor(request.path_info):
            return self.get_response(request)
        if mfa.mfa_required_by_policy(user):
            return _redirect_to_second_factor(request, enrolled=mfa.mfa_enrolled(user))
        if mfa.mfa_enrolled(user):
            return _redirect_to_second_factor(request, enrolled=True)
        return self.get_response(request)


def _redirect_to_second_factor(request: HttpRequest, *, enrolled: bool) -> HttpResponse:
    url = reverse("mfa:verify" if enrolled else "mfa:enrol")
    # Only a page can be returned to; a refused POST's data is not replayed.
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)
