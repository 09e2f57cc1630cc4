"""Playwright against Debian's Chromium (Playwright cannot download its own browser here)."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

# The sync Playwright API runs an event loop in the test thread; the ORM calls the tests
# make beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", shutil.which("chromium") or "")


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError("Debian's chromium is not installed: apt-get install -y chromium (see .ci/run).")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": [
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def current_code(device) -> str:
    """The code the user's authenticator app shows now, computed from the device's key."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


@pytest.fixture
def login(request, page, live_server):
    """Log a user in through the real login form, and for a user who must use a second
    factor, through the code page too (with a code computed from their app's key), as the
    user would. Tests marked ``real_second_factor`` do the code step themselves."""
    pass_second_factor = request.node.get_closest_marker("real_second_factor") is None

    def _login(email: str, password: str = "correct-horse-battery") -> None:
        device = _ready_device(email) if pass_second_factor else None
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        if device is not None and "/accounts/mfa/verify/" in page.url:
            page.get_by_label("Code").fill(current_code(device))
            with page.expect_navigation():
                page.get_by_role("button", name="Verify").click()

    return _login


def _ready_device(email: str):
    """The app of a user who must use a second factor, ready for this step's code.

    django-otp accepts each time step's code once; a second login of the same user within
    one 30-second step would be refused, so the fixture forgets the step last used (a real
    user would wait for the next code).
    """
    from clinic.mfa import mfa_must_pass
    from clinic.models import User
    from tests.conftest import second_factor_device

    user = User.objects.filter(email__iexact=email).first()
    if user is None or not mfa_must_pass(user):
        return None
    device = second_factor_device(user)
    type(device).objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    return device


@pytest.fixture
def production_like(settings):
    """Run the live server with production's cookie and CSRF settings, not DEBUG's.

    Sets DEBUG off (no debug pages, the 404/500 templates users see), HttpOnly session and
    CSRF cookies (pages send the token from the form or htmx's header, never from the
    cookie), SameSite=Lax on both (production's value: a link from an e-mail still opens
    a logged-in page, a cross-site POST carries no cookie), Referrer-Policy same-origin,
    no extra CSRF-trusted origins, and Secure cookies: Chromium treats http://localhost as
    a secure context and keeps Secure cookies there, so production's value works on the
    http live server. Only the HTTPS redirect and HSTS stay off, since the live server
    speaks plain http.
    """
    settings.DEBUG = False
    settings.SESSION_COOKIE_HTTPONLY = True
    settings.CSRF_COOKIE_HTTPONLY = True
    settings.SESSION_COOKIE_SAMESITE = "Lax"
    settings.CSRF_COOKIE_SAMESITE = "Lax"
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_REFERRER_POLICY = "same-origin"
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    return settings


# Reports every Content-Security-Policy violation in any frame of the page to the test (the
# console's "Refused to ..." line is caught too, but a violation can be reported without one).
CSP_VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(`${event.violatedDirective} refused ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber} (${event.sample || "no sample"})`);
});
"""


@dataclass
class PageWatch:
    """What went wrong on the pages a journey opened: responses with status >= 400, console
    errors (and uncaught page errors) and Content-Security-Policy violations, each with the
    page URL it happened on.

    Usage (the ``page_watch`` fixture already watches ``page``)::

        def test_journey(page, page_watch):
            ...
            with page_watch.expect(400):   # this submit must answer 400, and may
                page.get_by_role("button", name="Send").click()
            page_watch.watch(other_page)   # a second tab or browser context
            page_watch.check()             # optional: assert now, not only at the end

    At teardown the fixture asserts that nothing unexpected was seen. ``expect`` also fails
    if no response with that status arrived inside the block, so an expectation cannot go
    stale; the console's "Failed to load resource ... status of 400" for it is allowed too.
    """

    problems: list[str] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)
    seen_expected: list[int] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("response", lambda response: self._response(page, response))
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.problems.append(f"page error on {page.url}: {error}"))
        page.expose_binding("__cspViolation", lambda source, text: self._csp_violation(source, text))
        page.add_init_script(CSP_VIOLATION_LISTENER)

    def _csp_violation(self, source, text: str) -> None:
        self.problems.append(f"CSP violation on {source['frame'].url}: {text}")

    @contextmanager
    def expect(self, status: int):
        self.expected.append(status)
        before = self.seen_expected.count(status)
        try:
            yield
        finally:
            self.expected.remove(status)
        assert self.seen_expected.count(status) > before, f"expected a {status} response, none came"

    def check(self) -> None:
        assert not self.problems, "unexpected on the journey's pages:\n" + "\n".join(self.problems)

    def _response(self, page, response) -> None:
        if response.status < 400:
            return
        if response.status in self.expected:
            self.seen_expected.append(response.status)
            return
        self.problems.append(f"{response.status} {response.request.method} {response.url} (page {page.url})")

    def _console(self, page, message) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            self.problems.append(f"CSP violation on {page.url}: {message.text}")
            return
        if message.type != "error":
            return
        # The console reports a failed load after its response, sometimes once the expect
        # block has closed: a status that was expected and seen is allowed there too.
        if any(f"status of {status}" in message.text for status in (*self.expected, *self.seen_expected)):
            return
        source = message.location.get("url", "")
        self.problems.append(f"console error on {page.url}: {message.text} ({source})")


@pytest.fixture
def page_watch(page):
    """A ``PageWatch`` on ``page``, asserted at the end of the test (see its docstring)."""
    watch = PageWatch()
    watch.watch(page)
    yield watch
    watch.check()


# The scheduling tests' calendar world, for the scheduling journey.
from tests.scheduling.conftest import world  # noqa: E402, F401
