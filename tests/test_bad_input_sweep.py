"""The bad-input sweep: every URL pattern, as every role, with hostile values in every query
parameter the page reads and every field of every form it renders. Nothing a client can send
may answer 500; a rejected form saves nothing and shows the typed text again.

How it works, so a new page is covered without editing this file (unless it takes a new kind
of URL argument, which fails loudly in ``test_every_url_argument_has_real_objects``):

1. Walk ``get_resolver().url_patterns`` recursively and fill each pattern's arguments from a
   small seeded world (a real object's pk, and a pk that does not exist; real and tampered
   signed tokens).
2. As each role, GET each URL; parse its ``<form>`` fields and its links' query keys.
3. Find the query parameters the page *reads*: the request's ``QueryDict`` records every key
   the view looks up while the page is requested with all candidates set (the discovered
   ones plus ``KNOWN_PARAMS``); each is swept with every hostile value, the others kept at
   valid values taken from the page's own forms and links.
4. POST every form the page renders: empty, as rendered, then one field at a time set to
   every hostile value (the others valid).
5. The first role to reach a view or form gets it field by field; every other role that
   reaches it gets ``OTHER_ROLES_VALUES`` in all fields at once (the same code as another
   user: this keeps the sweep to a few thousand requests).

Each request runs inside a savepoint rolled back afterwards, so one accepted hostile value
does not change the world the next request sees. Exceptions are not swallowed by the client:
each one is caught here with its last traceback line and the test fails once at the end with
the whole list of (role, method, url, param, value, status)."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic.models import Closure, FollowUpCheck, OpeningRange, OutgoingMessage, UserSession, WeekdayHours
from clinic.roles import Role
from conditions.models import Condition, Pathway, PathwayStep
from referrals.models import Attachment, Patient, PortalAccessRequest, Referral, ReferralEvent
from referrals.views.staff import ACTIONS
from scheduling import links
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    AvailabilityTemplate,
    Course,
    ExtraAvailability,
    FollowUp,
    PatientRequest,
    ProcedureOrder,
    RepeatDue,
    TimeOff,
)
from tests.factories import (
    ClosureFactory,
    PatientFactory,
    ProcedureTypeFactory,
    ProviderFactory,
    ReferralFactory,
    ReferringPhysicianFactory,
    ReferringPracticeFactory,
    RoomCapabilityFactory,
    RoomFactory,
    UserFactory,
    clinic_repeat_rules,
    make_npi,
)
from tests.scheduling.conftest import give_template, local, make_location

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in Russellville
MISSING_PK = 999_999

HOSTILE = {
    "NUL": "a\x00b",
    "10,000 characters": "x" * 10_000,
    "superscript digits": "²³",
    "RTL text": "\u202eשלום עולם",
    "emoji": "😀🩺",
    "year 1 date": "0001-01-01",
    "year 9999 date": "9999-12-31",
    "year 1 datetime": "0001-01-01T00:00",
    "year 9999 datetime": "9999-12-31T23:59",
    "negative": "-1",
    "huge": "99999999999999999999",
}
# Another role reaching a page or form already swept field by field runs the same code as
# another user: these values, in every field at once, show its access and rendering paths.
OTHER_ROLES_VALUES = {label: HOSTILE[label] for label in ("NUL", "superscript digits", "year 9999 datetime", "huge")}
# A formset's management form, tampered with, on top of the values above.
FORMSET_COUNTS = {"1000 forms": "1000", "non-numeric count": "abc"}

# Query parameters pages of this project read, sent to every page even when nothing on it
# links with them (a bookmark or a hand-edited URL can carry any of them).
KNOWN_PARAMS = (
    "q", "practice", "status", "referral", "appointment", "patient", "closure", "time_off", "date", "location",
    "view", "page", "procedure_type", "provider", "from_date", "starts_at", "offered_at",
)  # fmt: skip

# Patterns the sweep does not walk, and why.
SKIPPED_PREFIXES = {
    "admin/": "the Django admin: Django's own views and forms, behind is_staff, not this project's pages",
    "static/": "static files: WhiteNoise serves files, no view reads input",
    "media/": "uploads are never served from a URL pattern; referrals:attachment (swept) streams them",
}

# Input types whose typed text a re-rendered form must show again. Not "tel":
# django-phonenumber-field shows a refused number with its separators dropped
# ("0001-01-01" comes back as "00010101"), which keeps the digits typed.
TEXT_INPUT_TYPES = {"text", "textarea", "email", "search", "url"}
FILLER = {
    "date": (NOW + dt.timedelta(days=10)).date().isoformat(),
    "datetime-local": (NOW + dt.timedelta(days=10)).strftime("%Y-%m-%dT10:00"),
    "number": "1",
    "email": "sweep@example.com",
    "password": "Sweep-password-1",
}
TIME_FILLERS = ("09:00", "11:00", "13:00", "15:00")

# The tables a rejected form must leave as they were (the audit log may record a view).
WATCHED_MODELS = (
    Patient, Referral, ReferralEvent, Attachment, PortalAccessRequest, Appointment, AppointmentEvent,
    PatientRequest, FollowUp, RepeatDue, ProcedureOrder, Closure, TimeOff, ExtraAvailability, AvailabilityTemplate,
    WeekdayHours, OpeningRange, OutgoingMessage,
)  # fmt: skip


# --- The seeded world ----------------------------------------------------------------------


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def seeded(frozen, settings, tmp_path, referrer, other_referrer, intake, scheduler, provider_user, clinic_admin):
    """One of each object a URL names, and a logged-in client per role."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    # Every refused login and password change hashes a password: the fast hasher keeps
    # thousands of them quick (what is swept is the form, not the hash).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    location = make_location()
    fluoroscopy = RoomCapabilityFactory(name="Fluoroscopy", slug="fluoroscopy")
    exam_room = RoomCapabilityFactory(name="Exam room", slug="exam-room")
    fluoro = RoomFactory(location=location, name="Fluoro suite", capabilities=[fluoroscopy])
    RoomFactory(location=location, name="Exam 1", capabilities=[exam_room])
    provider = ProviderFactory(display_name="Dr. Priya Patel", locations=[location], user=provider_user)
    give_template(provider, location)
    epidural = ProcedureTypeFactory(
        name="Epidural steroid injection", slug="epidural", duration_minutes=30, turnover_minutes=15,
        locations=[location], required_capabilities=[fluoroscopy],
    )  # fmt: skip
    clinic_repeat_rules(epidural, min_days=21, max_count=4)
    consult = ProcedureTypeFactory(
        name="New-patient consultation", slug="consult", kind="visit", duration_minutes=45,
        locations=[location], required_capabilities=[exam_room],
    )  # fmt: skip
    check = FollowUpCheck.objects.create(procedure_type=epidural, after=14, unit="days")

    practice = ReferringPracticeFactory(name="Riverbend Family Medicine")
    physician = ReferringPhysicianFactory(practice=practice, email=referrer.email, user=referrer)
    other = ReferringPhysicianFactory(
        practice=ReferringPracticeFactory(name="Hillside Orthopedics"), email=other_referrer.email, user=other_referrer
    )
    patient = PatientFactory(first_name="Jordan", last_name="Reyes")
    accepted = ReferralFactory(patient=patient, referring_physician=physician, status="accepted", first_visit=consult)
    under_review = ReferralFactory(referring_physician=physician, status="under_review", requested_procedure=epidural)
    needs_information = ReferralFactory(referring_physician=physician, status="needs_information")
    ReferralFactory(referring_physician=other, status="submitted")
    ReferralEvent.objects.create(referral=needs_information, kind="request", at=NOW, text="Please send the MRI.")
    attachment = Attachment.objects.create(
        referral=accepted, file=ContentFile(b"%PDF-1.4\n%%EOF\n", name="note.pdf"), original_name="note.pdf",
        content_type="application/pdf", size=15,
    )  # fmt: skip

    def appointment(starts: dt.datetime, **extra) -> Appointment:
        return Appointment.objects.create(
            patient=patient, referral=accepted, procedure_type=epidural, provider=provider, room=fluoro,
            location=location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30),
            blocks_until=starts + dt.timedelta(minutes=45), **extra,
        )  # fmt: skip

    upcoming = appointment(local(location, 2026, 12, 1, 8, 30))
    done = appointment(local(location, 2026, 11, 2, 9, 0), status=Appointment.Status.COMPLETED)
    follow_up = FollowUp.objects.create(appointment=done, follow_up_check=check, due_at=done.starts_at)
    patient_request = PatientRequest.objects.create(
        appointment=upcoming, kind="reschedule", reason="Working that morning", created_at=NOW
    )
    repeat_due = RepeatDue.objects.create(
        patient=patient, procedure_type=epidural, last_appointment=done, earliest_date=dt.date(2026, 11, 23),
        reason="30% relief", created_at=NOW,
    )  # fmt: skip
    condition = Condition.objects.create(name="Radicular pain", slug="radicular-pain", body_region="lower_back")
    pathway = Pathway.objects.create(condition=condition, name="Radicular pain", slug="radicular-pain")
    PathwayStep.objects.create(pathway=pathway, position=1, code="esi", label="ESI", kind="procedure",
                               procedure_type=epidural)  # fmt: skip
    course = Course.objects.create(
        patient=patient, pathway=pathway, referral=accepted, enrolled_at=NOW, site_region="lumbar",
        site_side="left", site_levels="L4-L5",
    )  # fmt: skip
    # A session with its outcome and no decision: the course is on the providers' worklist.
    order = ProcedureOrder.objects.create(
        patient=patient, procedure_type=epidural, course=course, step=pathway.steps.get(), ordered_at=NOW,
        status=ProcedureOrder.Status.FULFILLED, site_region="lumbar", site_side="left", site_levels="L4-L5",
    )  # fmt: skip
    appointment(local(location, 2026, 10, 5, 9, 0), status=Appointment.Status.COMPLETED, order=order,
                block_relief_percent=40)  # fmt: skip
    open_order = ProcedureOrder.objects.create(patient=patient, procedure_type=epidural, ordered_at=NOW)
    message = OutgoingMessage.objects.create(
        key="sweep:1", kind="appointment_confirmation", to_email="patient@mail.example", subject="Your appointment",
        body_text="See you.", status=OutgoingMessage.Status.FAILED, due_at=NOW, last_error="550 no such user",
    )  # fmt: skip
    sent = OutgoingMessage.objects.create(
        key="sweep:2", kind="appointment_confirmation", to_email="patient@mail.example", subject="Your appointment",
        body_text="See you.", body_html="<p>See you.</p>", status=OutgoingMessage.Status.SENT, due_at=NOW, sent_at=NOW,
    )  # fmt: skip
    closure = ClosureFactory(start_date=dt.date(2026, 12, 24), reason="Christmas Eve")
    time_off = TimeOff.objects.create(
        provider=provider, starts_at=local(location, 2026, 12, 2, 0, 0), ends_at=local(location, 2026, 12, 3, 0, 0),
        reason="Conference",
    )  # fmt: skip
    extra = ExtraAvailability.objects.create(
        provider=provider, location=location, date=dt.date(2026, 12, 4), starts=dt.time(8, 30), ends=dt.time(12, 0)
    )
    template = AvailabilityTemplate.objects.filter(provider=provider).first()
    reset_user = UserFactory(email="reset@clinic.example")
    managed = UserFactory(email="managed@clinic.example", role=Role.INTAKE)
    Client().force_login(managed)  # a session for the clinic admin's sessions table
    managed_session = UserSession.objects.get(user=managed)
    access_request = PortalAccessRequest.objects.create(
        first_name="Lee", last_name="Park", email="lee@park.example", npi=make_npi(777), practice_name="Riverbend",
        practice_phone="479-555-0199",
    )  # fmt: skip

    def token(purpose: str, **ids) -> list[str]:
        real = links.make_token(purpose=purpose, **ids)
        return [real, real[:-3] + ("AAA" if not real.endswith("AAA") else "BBB")]

    ints = {
        "clinic:message_resend": {"pk": [message.pk]},
        "clinic:user_mfa_reset": {"pk": [intake.pk]},
        "clinic:sent_email": {"pk": [sent.pk]},
        "clinic:sent_email_html": {"pk": [sent.pk]},
        "scheduling:patient": {"pk": [patient.pk]},
        "scheduling:patient_edit": {"pk": [patient.pk]},
        "scheduling:order_new": {"pk": [patient.pk]},
        "scheduling:order": {"pk": [open_order.pk]},
        "scheduling:order_cancel": {"pk": [open_order.pk]},
        "scheduling:admin_closure_remove": {"pk": [closure.pk]},
        "scheduling:admin_time_off_remove": {"pk": [time_off.pk]},
        "scheduling:appointment": {"pk": [upcoming.pk, done.pk]},
        "scheduling:cancel": {"pk": [upcoming.pk]},
        "scheduling:status": {"pk": [upcoming.pk, done.pk]},
        "scheduling:patient_request_handled": {"pk": [patient_request.pk]},
        "scheduling:follow_up_close": {"pk": [follow_up.pk]},
        "scheduling:repeat_due_dismiss": {"pk": [repeat_due.pk]},
        "scheduling:course": {"pk": [course.pk]},
        "scheduling:course_decide": {"pk": [course.pk]},
        "scheduling:course_close": {"pk": [course.pk]},
        "scheduling:course_enrol": {"pk": [patient.pk]},
        "scheduling:admin_hours": {"location_pk": [location.pk]},
        "scheduling:admin_closure_toggle": {"pk": [closure.pk]},
        "scheduling:admin_provider": {"pk": [provider.pk]},
        "scheduling:admin_template_delete": {"pk": [template.pk]},
        "scheduling:admin_extra_delete": {"pk": [extra.pk]},
        "referrals:respond": {"pk": [needs_information.pk]},
        "referrals:detail": {"pk": [accepted.pk, under_review.pk, needs_information.pk]},
        "referrals:patient": {"pk": [patient.pk]},
        "referrals:access_request": {"pk": [access_request.pk]},
        "referrals:access_request_reject": {"pk": [access_request.pk]},
        "clinic:user": {"pk": [managed.pk]},
        "clinic:user_roles": {"pk": [managed.pk]},
        "clinic:user_deactivate": {"pk": [managed.pk]},
        "clinic:user_reactivate": {"pk": [managed.pk]},
        "clinic:user_password_link": {"pk": [managed.pk]},
    }
    arguments: dict[str, list[dict]] = {
        name: [{key: pk for key, (pk, *_) in pks.items()}, *({key: value} for key, values in pks.items()
               for value in values[1:])] + [{key: MISSING_PK for key in pks}]
        for name, pks in ints.items()
    }  # fmt: skip
    arguments["referrals:attachment"] = [
        {"pk": accepted.pk, "file_pk": attachment.pk},
        {"pk": accepted.pk, "file_pk": MISSING_PK},
        {"pk": MISSING_PK, "file_pk": attachment.pk},
    ]
    arguments["referrals:act"] = [{"pk": under_review.pk, "action": action} for action in [*ACTIONS, "nope"]] + [
        {"pk": MISSING_PK, "action": "note"}
    ]
    arguments["clinic:user_session_end"] = [
        {"pk": managed.pk, "session_pk": managed_session.pk},
        {"pk": managed.pk, "session_pk": MISSING_PK},
        {"pk": MISSING_PK, "session_pk": managed_session.pk},
    ]
    arguments["patient:confirm"] = [{"token": t} for t in token(links.CONFIRM, appointment_id=upcoming.pk, version=1)]
    arguments["patient:change"] = [{"token": t} for t in token(links.CHANGE, appointment_id=upcoming.pk, version=1)]
    arguments["patient:follow-up"] = [
        {"token": t} for t in token(links.FOLLOW_UP, appointment_id=done.pk, follow_up_id=follow_up.pk)
    ]
    uid = urlsafe_base64_encode(force_bytes(reset_user.pk))
    arguments["password_reset_confirm"] = [
        {"uidb64": uid, "token": default_token_generator.make_token(reset_user)},
        {"uidb64": uid, "token": "set-password"},
        {"uidb64": "tampered", "token": "abc-123"},
    ]

    clients = {"anonymous": Client()}
    for role, user in {
        "referrer": referrer, "other practice's referrer": other_referrer, "intake": intake, "scheduler": scheduler,
        "provider": provider_user, "clinic admin": clinic_admin,
    }.items():  # fmt: skip
        clients[role] = Client()
        clients[role].force_login(user)
    return arguments, clients


# --- Walking the resolver ------------------------------------------------------------------


def walk_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, qualified name) of every URL pattern, however deeply included."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            child_ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk_patterns(entry.url_patterns, route, child_ns)
        elif isinstance(entry, URLPattern):
            yield route, f"{namespace}{entry.name}" if entry.name else None


def swept_patterns() -> list[tuple[str, str]]:
    found = []
    for route, name in walk_patterns():
        if any(route.startswith(prefix) for prefix in SKIPPED_PREFIXES):
            continue
        assert name, f"{route} has no URL name: the sweep reverses patterns by name"
        found.append((route, name))
    return found


def urls_for(name: str, route: str, arguments: dict[str, list[dict]]) -> list[str]:
    if "<" not in route:
        return [reverse(name)]
    return [reverse(name, kwargs=kwargs) for kwargs in arguments[name]]


# --- Reading a page ------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # input type, "textarea" or "select"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class Form:
    method: str
    action: str
    fields: list[Field] = field(default_factory=list)


class PageParser(HTMLParser):
    """The forms (with their fields' current values) and the links of one page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._text: Field | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "option" and self._select is not None:
            self._select.options.append(attrs.get("value") or "")
            if "selected" in attrs:
                self._select.value = attrs.get("value") or ""
        elif tag == "form":
            self._form = Form(method=(attrs.get("method") or "get").lower(), action=attrs.get("action") or "")
            self.forms.append(self._form)
        elif self._form is None or not attrs.get("name"):
            return
        elif tag in ("input", "button"):
            kind = (attrs.get("type") or ("submit" if tag == "button" else "text")).lower()
            checked = "checked" in attrs
            self._form.fields.append(Field(attrs["name"], kind, attrs.get("value") or "", checked=checked))
        elif tag == "textarea":
            self._text = Field(attrs["name"], "textarea")
            self._form.fields.append(self._text)
        elif tag == "select":
            self._select = Field(attrs["name"], "select")
            self._form.fields.append(self._select)

    def handle_data(self, data):
        if self._text is not None:
            self._text.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._text = None
        elif tag == "select":
            self._select = None


def parse_page(content: str) -> PageParser:
    parser = PageParser()
    parser.feed(content)
    return parser


def default_values(form: Form) -> list[tuple[str, str]]:
    """What a user who fills every field sensibly would send: the page's own values, and a
    plausible value in each empty one (so a hostile value is judged, not a missing field)."""
    data, times = [], iter(TIME_FILLERS)
    radios_seen = set()
    for f in form.fields:
        if f.kind in ("submit", "button", "reset", "file", "image"):
            continue
        if f.kind == "checkbox":
            if f.checked:
                data.append((f.name, f.value or "on"))
            continue
        if f.kind == "radio":
            if f.name not in radios_seen and (
                f.checked or not any(g.name == f.name and g.checked for g in form.fields)
            ):
                radios_seen.add(f.name)
                data.append((f.name, f.value))
            continue
        if f.kind == "select":
            data.append((f.name, f.value or next((o for o in f.options if o), "")))
            continue
        value = f.value
        if not value and f.kind != "hidden":
            value = next(times, "16:00") if f.kind == "time" else FILLER.get(f.kind, "Sweep note")
        data.append((f.name, value))
    return data


def with_value(data: list[tuple[str, str]], name: str, value: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for key, current in data:
        out[key].append(value if key == name else current)
    if name not in out:
        out[name].append(value)
    return dict(out)


def values_for(name: str) -> dict[str, str]:
    if name.endswith("TOTAL_FORMS") or name.endswith("INITIAL_FORMS"):
        return {**HOSTILE, **FORMSET_COUNTS}
    return HOSTILE


# --- Recording what the page reads ---------------------------------------------------------


class ReadRecorder:
    """Which query parameter names a view looks up, seen from the request's QueryDict."""

    def __init__(self):
        self.names: set[str] | None = None

    def __enter__(self):
        self.names = set()
        recorder = self

        class RecordingQueryDict(QueryDict):
            # Parsing the query string looks keys up too: only lookups after it count.
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.parsed = True

            def _record(self, key):
                if getattr(self, "parsed", False):
                    recorder.names.add(key)

            def __getitem__(self, key):
                self._record(key)
                return super().__getitem__(key)

            def __contains__(self, key):
                self._record(key)
                return super().__contains__(key)

            def getlist(self, key, default=None):
                self._record(key)
                return super().getlist(key, default)

            def get(self, key, default=None):
                self._record(key)
                return super().get(key, default)

        self._patch = mock.patch("django.core.handlers.wsgi.QueryDict", RecordingQueryDict)
        self._patch.start()
        return self

    def __exit__(self, *exc):
        self._patch.stop()


# --- The sweep ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    role: str
    method: str
    url: str
    param: str
    value: str
    status: int | str
    problem: str

    def __str__(self):
        where = f"{self.role:>26} {self.method:4} {self.url} {self.param}={self.value}"
        return f"{where} -> {self.status}: {self.problem}"


class Sweep:
    def __init__(self, clients: dict[str, Client]):
        self.clients = clients
        self.failures: list[Failure] = []
        self.requests = 0
        self.swept: set[tuple] = set()  # (url name, param or form fields) swept one by one already

    def rows(self) -> tuple[int, ...]:
        """Row counts of the watched tables, in one query."""
        # Table names come from the models, never from input.
        tables = ", ".join(f"(SELECT COUNT(*) FROM {model._meta.db_table})" for model in WATCHED_MODELS)  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {tables}")
            return cursor.fetchone()

    def send(self, role: str, method: str, url: str, data, *, param: str = "-", label: str = "-", check_saved=False):
        """One request in a savepoint rolled back afterwards; a crash or a 500 is a failure."""
        client = self.clients[role]
        cookies = copy.deepcopy(client.cookies)
        sid = transaction.savepoint()
        self.requests += 1
        try:
            before = self.rows() if check_saved else None
            response = client.get(url, data) if method == "GET" else client.post(url, data)
            if response.status_code >= 500:
                self.fail(role, method, url, param, label, response.status_code, "server error")
            elif check_saved and not 300 <= response.status_code < 400 and self.rows() != before:
                self.fail(role, method, url, param, label, response.status_code, "a rejected form saved rows")
            return response
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            problem = f"{type(exc).__name__}: {str(exc)[:120]} at {where.filename.split('/')[-1]}:{where.lineno}"
            self.fail(role, method, url, param, label, 500, problem)
            return None
        finally:
            transaction.savepoint_rollback(sid)
            client.cookies = cookies

    def fail(self, role, method, url, param, label, status, problem):
        self.failures.append(Failure(role, method, url, param, label, status, problem))

    def check_text_kept(self, response, role, method, url, names, label, value, text_fields: set[str]):
        """A form shown again (200 or 400 with the field on it) shows what was typed."""
        if response is None or response.status_code not in (200, 400):
            return
        content = response.content.decode(errors="replace")
        # A NUL may be dropped (search text loses it: no stored text can contain one).
        shown = value in content or value.replace("\x00", "") in content
        for name in set(names) & text_fields:
            if f'name="{name}"' in content and not shown:
                self.fail(role, method, url, name, label, response.status_code, "the typed text is not shown again")

    def first_time(self, *key) -> bool:
        """Whether this parameter or form is swept one field at a time (the first role to
        reach it), or all fields at once (every other role: the same code, another user)."""
        if key in self.swept:
            return False
        self.swept.add(key)
        return True

    def open_pages(self, urls: list[str]) -> tuple[dict, dict[str, list[dict]]]:
        """Every URL as every role: the GET whose page the sweep reads.
        Returns the parsed pages by (role, url) and the query strings links carry, by path."""
        pages, links_by_path = {}, defaultdict(list)
        for role in self.clients:
            for url in urls:
                response = self.send(role, "GET", url, {})
                if response is None or response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                pages[role, url] = parsed = parse_page(response.content.decode())
                for href in parsed.links:
                    parts = urlsplit(urljoin(url, href))
                    if parts.query and not parts.netloc:
                        links_by_path[parts.path].append(dict(parse_qsl(parts.query)))
        return pages, links_by_path

    def query_params(self, role: str, url: str, parsed: PageParser, links_by_path: dict[str, list[dict]]):
        path = urlsplit(url).path
        valid: dict[str, str] = {}
        text_fields: set[str] = set()
        for form in parsed.forms:
            if form.method == "get" and urlsplit(urljoin(url, form.action)).path == path:
                valid.update({k: v for k, v in default_values(form) if v})
                text_fields |= {f.name for f in form.fields if f.kind in TEXT_INPUT_TYPES}
        for query in links_by_path.get(path, []):
            valid.update({k: v for k, v in query.items() if k not in valid and v})
        candidates = set(KNOWN_PARAMS) | set(valid)
        with ReadRecorder() as recorder:
            self.send(role, "GET", url, {**{name: "1" for name in candidates}, **valid})
        read = recorder.names & candidates
        view = resolve(path).view_name
        one_by_one = [name for name in sorted(read) if self.first_time(view, "GET", name)]
        for name in one_by_one:
            for label, value in HOSTILE.items():
                response = self.send(role, "GET", url, {**valid, name: value}, param=name, label=label)
                self.check_text_kept(response, role, "GET", url, [name], label, value, text_fields)
        if read and not one_by_one:
            for label, value in OTHER_ROLES_VALUES.items():
                response = self.send(role, "GET", url, {**valid, **dict.fromkeys(read, value)}, param="*", label=label)
                self.check_text_kept(response, role, "GET", url, read, label, value, text_fields)

    def post_form(self, role: str, action: str, form: Form):
        data = default_values(form)
        text_fields = {f.name for f in form.fields if f.kind in TEXT_INPUT_TYPES}
        # The second and later forms of a formset are built like the first; the CSRF token is
        # not the form's (the test client does not check it).
        names = [n for n in dict.fromkeys(f.name for f in form.fields if f.kind not in ("submit", "button", "reset"))
                 if not re.search(r"-[1-9]\d*-", n) and n != "csrfmiddlewaretoken"]  # fmt: skip
        self.send(role, "POST", action, with_value(data, "", ""), param="(as rendered)", check_saved=False)
        if self.first_time(resolve(urlsplit(action).path).view_name, "POST", *names):
            self.send(role, "POST", action, {}, label="empty POST", check_saved=True)
            for name in names:
                for label, value in values_for(name).items():
                    response = self.send(
                        role, "POST", action, with_value(data, name, value), param=name, label=label, check_saved=True
                    )
                    self.check_text_kept(response, role, "POST", action, [name], label, value, text_fields)
            return
        for label, value in OTHER_ROLES_VALUES.items():
            everything = {**with_value(data, "", ""), **{name: [value] for name in names}}
            response = self.send(role, "POST", action, everything, param="*", label=label, check_saved=True)
            self.check_text_kept(response, role, "POST", action, names, label, value, text_fields)


def test_every_url_argument_has_real_objects(seeded):
    """A new pattern with arguments needs real objects here, or the sweep cannot open it."""
    arguments, _ = seeded
    missing = [name for route, name in swept_patterns() if "<" in route and name not in arguments]
    assert missing == []


@pytest.fixture
def quiet_request_log():
    """Thousands of refused requests would each log a warning; the sweep reports its own."""
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def test_no_hostile_input_gets_a_500_a_save_or_loses_what_was_typed(seeded, quiet_request_log):
    arguments, clients = seeded
    sweep = Sweep(clients)
    urls = [url for route, name in swept_patterns() for url in urls_for(name, route, arguments)]
    pages, links_by_path = sweep.open_pages(urls)
    for (role, url), parsed in pages.items():
        sweep.query_params(role, url, parsed, links_by_path)
        for form in parsed.forms:
            if form.method == "post":
                sweep.post_form(role, urljoin(url, form.action) if form.action else url, form)
    assert sweep.requests > 1000, "the sweep did not reach the pages"
    report = "\n".join(str(failure) for failure in dict.fromkeys(sweep.failures))
    assert not sweep.failures, f"{len(sweep.failures)} bad responses in {sweep.requests} requests:\n{report}"
