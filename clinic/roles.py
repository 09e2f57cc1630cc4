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
class RoleSpec:
    group: str
    permission: str  # "app_label.codename" that marks the role
    landing_url: str  # where the home page sends this role
    nav_label: str
    # Further model permissions, as "app_label.action_model", e.g. for the Django admin.
    model_permissions: tuple[str, ...] = ()


_ADMIN_MODELS = (
    "clinic.user",
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
        landing_url="referrals:portal",
        nav_label="My referrals",
    )
    INTAKE = RoleSpec(
        group="Intake",
        permission="clinic.triage_referrals",
        landing_url="referrals:triage",
        nav_label="Triage",
    )
    SCHEDULER = RoleSpec(
        group="Scheduler",
        permission="clinic.schedule_appointments",
        landing_url="scheduling:queue",
        nav_label="Scheduling",
    )
    PROVIDER = RoleSpec(
        group="Provider",
        permission="clinic.see_provider_day",
        landing_url="scheduling:my_day",
        nav_label="My day",
    )
    CLINIC_ADMIN = RoleSpec(
        group="Clinic admin",
        permission="clinic.manage_clinic",
        landing_url="clinic:setup",
        nav_label="Clinic setup",
        model_permissions=tuple(
            f"{model.split('.')[0]}.{action}_{model.split('.')[1]}"
            for model in _ADMIN_MODELS
            for action in ("view", "add", "change", "delete")
        )
        + (
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


def has_role(user, *roles: Role) -> bool:
    return user.is_authenticated and any(user.has_perm(role.spec.permission) for role in roles)


def role_required(*roles: Role) -> Callable:
    """Let in users holding any of ``roles``; others get 404, anonymous users the login page.

    404 rather than 403: pages behind a role carry patient data, and an outsider should not
    learn that they exist.
    """

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
