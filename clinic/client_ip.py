"""The client's address: one proxy-aware answer that the lockout and the audit log share."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip

# The only header our reverse proxies set; the others ipware knows (Client-IP, X-Real-IP,
# ...) would come straight from the client and be believed.
FORWARDED_HEADER = "HTTP_X_FORWARDED_FOR"


def client_ip(request: HttpRequest) -> str | None:
    """The address of whoever connected to the outermost of ``PROXY_COUNT`` proxies.

    Each proxy appends the address it saw to X-Forwarded-For, so only the last
    ``PROXY_COUNT`` entries were written by proxies; anything left of them came from the
    client and is not believed. With no proxies the header is ignored.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.PROXY_COUNT
    if proxies == 0:
        return remote
    # ipware counts the proxies listed in the header; the nearest proxy is REMOTE_ADDR, not
    # listed, hence one less. Not strict: a client's garbage left of the real entries is
    # skipped, not a reason to fall back to the proxy's own address.
    ip, _routable = get_client_ip(
        request, proxy_count=proxies - 1, request_header_order=[FORWARDED_HEADER], strict=False
    )
    return ip or remote
