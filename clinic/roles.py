"""The roles people work in, as groups with permissions: the one place that says who may
do what. Views ask for a role with :func:`role_required`; groups are kept in step with this
file after every migrate (see ``clinic.apps``)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str
    # Shown only while e-mail is written to files (the embedded default), where the page
    # that reads them exists; see clinic.outbox.mail_goes_to_files.
    file_mail_only: bool = False


@dataclass(frozen=True)
class RoleSpec:
    group: str
    permission: str  # "app_label.codename" that marks the role
    # The role's links in the top navigation: the pages of its work it may open, the first
    # being where the home page sends it. A page open to several roles is in each one's list.
    nav: tuple[NavEntry, ...]
    # Further model permissions, as "app_label.action_model", e.g. for the Django admin.
    model_permissions: tuple[str, ...] = ()

    @property
    def landing_url(self) -> str:
        return self.nav[0].url_name


MESSAGES = NavEntry("clinic:messages", "Messages")
SENT_EMAILS = NavEntry("clinic:sent_emails", "Sent e-mails", file_mail_only=True)
PATIENT_REQUESTS = NavEntry("scheduling:patient_requests", "Patient requests")
CALENDAR = NavEntry("scheduling:day", "Calendar")
PATIENTS = NavEntry("scheduling:patients", "Patients")


_ADMIN_MODELS = (
    "clinic.location",
    "clinic.weekdayhours",
    "clinic.openingrange",
    "clinic.holidayrule",
    "clinic.closure",
    "clinic.provider",
    "clinic.roomcapability",
    "clinic.room",
    "clinic.proceduretype",
    "clinic.followupcheck",
    "conditions.condition",
    "referrals.referringpractice",
    "referrals.referringphysician",
    "referrals.portalaccessrequest",
    "referrals.reviewtarget",
)


class Role(enum.Enum):
    REFERRER = RoleSpec(
        group="Referring physician",
        permission="clinic.use_referral_portal",
        nav=(NavEntry("referrals:portal", "My referrals"),),
    )
    INTAKE = RoleSpec(
        group="Intake",
        permission="clinic.triage_referrals",
        nav=(
            NavEntry("referrals:triage", "Triage"),
            PATIENTS,
            MESSAGES,
            SENT_EMAILS,
        ),
    )
    SCHEDULER = RoleSpec(
        group="Scheduler",
        permission="clinic.schedule_appointments",
        nav=(
            NavEntry("scheduling:queue", "Scheduling"),
            CALENDAR,
            PATIENTS,
            PATIENT_REQUESTS,
            NavEntry("scheduling:no_response", "No response"),
            NavEntry("scheduling:repeat_due", "Repeat due"),
            MESSAGES,
            SENT_EMAILS,
        ),
    )
    PROVIDER = RoleSpec(
        group="Provider",
        permission="clinic.see_provider_day",
        nav=(
            NavEntry("scheduling:my_day", "My day"),
            CALENDAR,
            PATIENTS,
            NavEntry("scheduling:courses_to_decide", "Next steps to decide"),
        ),
    )
    CLINIC_ADMIN = RoleSpec(
        group="Clinic admin",
        permission="clinic.manage_clinic",
        nav=(
            NavEntry("clinic:setup", "Clinic setup"),
            NavEntry("clinic:users", "Users"),
            NavEntry("referrals:access_requests", "Access requests"),
            CALENDAR,
            PATIENTS,
            PATIENT_REQUESTS,
            MESSAGES,
            SENT_EMAILS,
        ),
        model_permissions=tuple(
            f"{model.split('.')[0]}.{action}_{model.split('.')[1]}"
            for model in _ADMIN_MODELS
            for action in ("view", "add", "change", "delete")
        )
        + (
            # Accounts are managed in the product (clinic:users); the Django admin only shows them.
            "clinic.view_user",
            "django_celery_beat.view_periodictask",
            "django_celery_beat.change_periodictask",
            "clinic.view_auditevent",
            "clinic.view_outgoingmessage",
            "clinic.change_outgoingmessage",
        ),
    )

    @property
    def spec(self) -> RoleSpec:
        return self.value


def roles_of(user) -> list[Role]:
    """The roles a user holds, in the order of :class:`Role` (the first is their home)."""
    if not user.is_authenticated:
        return []
    return [role for role in Role if user.has_perm(role.spec.permission)]


def nav_entries_of(user, *, file_mail: bool) -> list[NavEntry]:
    """The navigation of a user: each role's entries in the order of :class:`Role`, a page
    two roles share (Messages) once; ``file_mail`` says whether the file-mail pages exist."""
    entries: list[NavEntry] = []
    for role in roles_of(user):
        entries.extend(
            entry for entry in role.spec.nav if entry not in entries and (file_mail or not entry.file_mail_only)
        )
    return entries


def has_role(user, *roles: Role) -> bool:
    return user.is_authenticated and any(user.has_perm(role.spec.permission) for role in roles)


def role_required(*roles: Role) -> Callable:
    """Let in users holding any of ``roles``; others get 404, anonymous users the login page.

    404 rather than 403: pages behind a role carry patient data, and an outsider should not
    learn that they exist. Put it above ``require_POST`` and the like, so a wrong method is
    answered only to those the page is for (otherwise a 405 tells anyone the route exists).
    The roles are kept on the view as ``allowed_roles`` for the generated access matrix
    (tests/test_access_matrix.py); decorators above it copy them (``functools.wraps``).
    """

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise Http404
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator
