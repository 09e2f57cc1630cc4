"""The access matrix, generated: every URL pattern the resolver knows (a new view is covered
the day it is added), filled with real objects the identity must not reach, requested with
GET and POST as every identity that must not reach it. Each answer is the project's refusal
(the login page for someone not signed in, 404 for a signed-in outsider: never a 405 or
anything else that tells the route exists) and no body names a patient of the first practice
(last name, record number, birth date).

Who must not reach what is derived, not listed: a page behind ``role_required`` is for the
roles it names (``view.allowed_roles``); a page with object ids in its path is for staff and
the first practice (every object of the seeded world is the first practice's or the clinic's);
``PUBLIC`` and ``ANY_SIGNED_IN`` name, with a reason each, the only pages open beyond that.

To add an identity (e.g. "physician of a deactivated practice"), append an ``Identity`` to
``IDENTITIES`` whose ``make`` builds the user from the seeded world; whether it is signed in
and whether it is clinic staff are read from the user it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import resolve, reverse

from clinic.models import User
from clinic.roles import Role, has_role
from referrals.models import Patient, ReferringPhysician, ReferringPractice
from referrals.portal_services import practice_deactivate
from referrals.selectors import is_clinic_staff
from tests.factories import ReferringPhysicianFactory, UserFactory
from tests.test_bad_input_sweep import frozen, seeded, swept_patterns, urls_for  # noqa: F401

pytestmark = pytest.mark.django_db

FIRST_PRACTICE = "Riverbend Family Medicine"  # whose patients every seeded object belongs to
SECOND_PRACTICE = "Hillside Orthopedics"
SECOND_PRACTICE_BIRTH_DATE = dt.date(1975, 9, 30)  # the factory's default is the first practice's

# Pages anyone may open, signed in or not, and why. Their answers are not refusals, but
# still may not name the first practice's patients.
PUBLIC = {
    "login": "signing in",
    "logout": "signing out",
    "password_reset": "asking for a reset link",
    "password_reset_done": "the reset link was sent",
    "password_reset_confirm": "the reset link itself: its token is the credential",
    "password_reset_complete": "the new password was set",
    "referrals:request_access": "a physician asking for a portal account",
    "healthz": "the load balancer's probe",
    "favicon": "browsers ask for it",
    "patient:confirm": "a patient's e-mailed link: its signed token is the credential",
    "patient:change": "a patient's e-mailed link: its signed token is the credential",
    "patient:follow-up": "a patient's e-mailed link: its signed token is the credential",
}
# Pages for every signed-in user, whatever their roles, and why.
ANY_SIGNED_IN = {
    "home": "sends each user to their work (or says they have no role yet)",
    "password_change": "one's own password",
    "password_change_done": "one's own password was changed",
    "mfa:enrol": "one's own second factor (enrolling; anyone may choose one)",
    "mfa:recovery_codes": "one's own recovery codes, shown once after enrolling",
    "mfa:verify": "one's own second factor (the code at login)",
    "mfa:security": "one's own second factor (status, new recovery codes)",
}


@dataclass(frozen=True)
class Identity:
    name: str
    make: Callable[[dict], User | None]  # the seeded world's users and objects -> the user (None: anonymous)


def _referrer_of_first_practice(*, user_active: bool, record_active: bool) -> User:
    user = UserFactory(role=Role.REFERRER, is_active=user_active)
    practice = ReferringPractice.objects.get(name=FIRST_PRACTICE)
    ReferringPhysicianFactory(practice=practice, email=user.email, user=user, is_active=record_active)
    return user


def _physician_of_deactivated_first_practice(world) -> User:
    """An active physician of the first practice (their own active user and record), after
    the clinic deactivated the practice through the one service that does it."""
    user = _referrer_of_first_practice(user_active=True, record_active=True)
    practice_deactivate(practice=ReferringPractice.objects.get(name=FIRST_PRACTICE), actor=world["clinic admin"])
    return user


IDENTITIES = (
    Identity("anonymous", lambda world: None),
    Identity("second practice's physician", lambda world: world["other practice's referrer"]),
    Identity(
        "inactive physician (user.is_active off)",
        lambda world: _referrer_of_first_practice(user_active=False, record_active=True),
    ),
    Identity(
        "referrer whose physician record is inactive",
        lambda world: _referrer_of_first_practice(user_active=True, record_active=False),
    ),
    Identity("user with no role", lambda world: UserFactory()),
    Identity("intake", lambda world: world["intake"]),
    Identity("scheduler", lambda world: world["scheduler"]),
    Identity("provider", lambda world: world["provider"]),
    Identity("clinic admin", lambda world: world["clinic admin"]),
    # Last: it deactivates the first practice, which would change the world for any after it.
    Identity("physician of a deactivated practice", lambda world: _physician_of_deactivated_first_practice(world)),
)


@dataclass
class Who:
    identity: Identity
    user: User | None
    client: Client

    @property
    def signed_in(self) -> bool:
        # An inactive user's session is not a login: Django's backend refuses it.
        return self.user is not None and self.user.is_active

    def must_be_refused(self, name: str, route: str, view) -> bool:
        """Whether this identity may not reach the page (derived from the view itself)."""
        if name in PUBLIC:
            return False
        if not self.signed_in:
            return True
        roles = getattr(view, "allowed_roles", None)
        if roles is not None and not has_role(self.user, *roles):
            return True
        if is_clinic_staff(self.user):
            return False  # staff see every referral and patient: only roles limit them
        if "<" in route:
            return True  # every object in the path is the first practice's or the clinic's
        return roles is None and name not in ANY_SIGNED_IN

    def is_outsider(self) -> bool:
        """Whether no page this identity reaches may show the first practice's patients."""
        return not (self.signed_in and is_clinic_staff(self.user))


@pytest.fixture
def world(seeded, users_by_role, referrer, other_referrer):  # noqa: F811 (the sweep's fixture)
    """The bad-input sweep's seeded world, keyed by its clients' names, plus the second
    practice's patients given a birth date of their own (the factory gives everyone one)."""
    arguments, _clients = seeded
    Patient.objects.filter(referrals__referring_physician__practice__name=SECOND_PRACTICE).update(
        date_of_birth=SECOND_PRACTICE_BIRTH_DATE
    )
    return {
        "arguments": arguments,
        "other practice's referrer": other_referrer,
        "intake": users_by_role[Role.INTAKE],
        "scheduler": users_by_role[Role.SCHEDULER],
        "provider": users_by_role[Role.PROVIDER],
        "clinic admin": users_by_role[Role.CLINIC_ADMIN],
    }


def phi_markers() -> set[str]:
    """What would identify a patient of the first practice on a page."""
    markers = set()
    for patient in Patient.objects.exclude(referrals__referring_physician__practice__name=SECOND_PRACTICE):
        born = patient.date_of_birth
        markers |= {patient.last_name, patient.record_number, born.isoformat(), f"{born:%m/%d/%Y}"}
        markers |= {
            f"{born:%B} {born.day}, {born.year}",
            f"{born:%b}. {born.day}, {born.year}",
            f"{born.day} {born:%b %Y}",
        }
    return {marker for marker in markers if marker}


def refusal_problem(who: Who, response) -> str:
    """What is wrong with the answer given to someone refused, or '' if it is the refusal."""
    if not who.signed_in:
        if response.status_code == 302 and response.url.startswith(reverse("login")):
            return ""
        return f"{response.status_code} {response.get('Location', '')}, not the login page"
    # A signed-in outsider gets 404; a session another part ends (e.g. a deactivated
    # practice) may instead be sent to the login page.
    if response.status_code == 404 or (response.status_code == 302 and response.url.startswith(reverse("login"))):
        return ""
    return f"{response.status_code} {response.get('Location', '')}, not 404"


def request(client: Client, method: str, url: str):
    """One request in a savepoint rolled back after, its session cookies kept as they were
    (a POST to logout, say, must not sign the identity out for the next URL)."""
    cookies = client.cookies
    sid = transaction.savepoint()
    try:
        return client.get(url) if method == "GET" else client.post(url, {})
    finally:
        transaction.savepoint_rollback(sid)
        client.cookies = cookies


def test_no_identity_reaches_a_page_or_object_it_must_not(world):
    arguments = world["arguments"]
    markers = phi_markers()
    patterns = [(route, name) for route, name in swept_patterns()]
    problems, refusals = [], 0
    for identity in IDENTITIES:
        user = identity.make(world)
        client = Client()
        if user is not None:
            client.force_login(user)
        who = Who(identity, user, client)
        for route, name in patterns:
            for url in urls_for(name, route, arguments):
                refused = who.must_be_refused(name, route, resolve(url.split("?")[0]).func)
                answers = []
                for method in ("GET", "POST"):
                    response = request(client, method, url)
                    answers.append((response.status_code, response.get("Location")))
                    where = f"{identity.name:>45} {method:4} {url}"
                    if refused:
                        refusals += 1
                        if problem := refusal_problem(who, response):
                            problems.append(f"{where}: {problem}")
                    body = b"" if response.streaming else response.content
                    if (refused or who.is_outsider()) and (shown := [m for m in markers if m.encode() in body]):
                        problems.append(f"{where}: {response.status_code} shows {sorted(shown)}")
                if refused and answers[0] != answers[1]:  # the method must not tell the route exists
                    problems.append(f"{identity.name:>45} GET/POST {url}: answered {answers[0]} and {answers[1]}")
    assert refusals > 1000, "the matrix refused too little to be checking anything"
    assert not problems, f"{len(problems)} answers given to identities that must not reach the page:\n" + "\n".join(
        problems
    )


def test_the_first_practices_own_physician_sees_the_markers(world, client, referrer):
    """The markers are what a page with the first practice's patient shows: the no-PHI check
    above can fail."""
    referral_url = urls_for("referrals:detail", "<int:pk>/", world["arguments"])[0]
    client.force_login(referrer)
    body = client.get(referral_url).content.decode()
    assert {marker for marker in phi_markers() if marker in body} >= {"Reyes", "12 Apr 1961"}


def test_identities_are_what_their_names_say(world):
    """The matrix's identities hold the roles and records the names promise, so a change in
    the factories cannot quietly turn an outsider into an insider."""
    made = {identity.name: identity.make(world) for identity in IDENTITIES}
    assert made["anonymous"] is None
    assert not made["inactive physician (user.is_active off)"].is_active
    inactive_record = made["referrer whose physician record is inactive"]
    assert has_role(inactive_record, Role.REFERRER)
    assert not ReferringPhysician.objects.get(user=inactive_record).is_active
    assert not any(has_role(made["user with no role"], role) for role in Role)
    second = ReferringPhysician.objects.get(user=made["second practice's physician"])
    assert second.practice.name == SECOND_PRACTICE
    closed = ReferringPhysician.objects.get(user=made["physician of a deactivated practice"])
    assert closed.is_active
    assert closed.user.is_active
    assert not closed.practice.is_active
    assert closed.practice.name == FIRST_PRACTICE


def test_every_role_gated_view_names_its_roles(world):
    """The matrix reads each view's roles, also through the decorators above role_required;
    pages whose access is decided per object (referrals.selectors) name none."""
    views = {name: resolve(urls_for(name, route, world["arguments"])[0]).func for route, name in swept_patterns()}
    gated = {name for name, view in views.items() if hasattr(view, "allowed_roles")}
    assert {"referrals:act", "scheduling:cancel", "scheduling:status", "clinic:sent_email_html"} <= gated
    assert views["referrals:portal"].allowed_roles == {Role.REFERRER}
    assert not gated & {"referrals:detail", "referrals:attachment", "referrals:patient", *PUBLIC, *ANY_SIGNED_IN}
