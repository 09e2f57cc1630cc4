"""Response headers every page gets, so no view has to remember a decorator."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

# Browser features no page of the clinic uses, switched off for this site and anything it
# embeds: a page that is ever made to run someone else's script still cannot reach them.
DISABLED_FEATURES = (
    "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics", "camera",
    "display-capture", "encrypted-media", "gamepad", "geolocation", "gyroscope", "hid", "idle-detection",
    "magnetometer", "microphone", "midi", "payment", "picture-in-picture", "publickey-credentials-get",
    "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
)  # fmt: skip
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DISABLED_FEATURES)

# The patient-link pages (/p/...) show an appointment or a follow-up to whoever holds the
# link, without a login: PHI, so never stored either.
PATIENT_LINK_NAMESPACE = "patient"


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; ``Cache-Control: no-store`` on every response to a
    logged-in user and on every patient-link page, so no PHI page is kept by a browser or a
    proxy however it was written (a redirect, a 404, a download included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Who is asking is read before the view: a logout ends the session inside it, and
        # the page that says so was still answered to a logged-in browser.
        authenticated = request.user.is_authenticated
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if authenticated or request.user.is_authenticated or _is_patient_link(request):
            add_never_cache_headers(response)
        return response


def _is_patient_link(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and PATIENT_LINK_NAMESPACE in match.namespaces
