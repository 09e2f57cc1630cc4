"""Clinic admins manage people in the product: invite, set roles, deactivate and reactivate,
send a link to choose a password. Each is one function that also writes its audit row.

What a clinic admin never does here: grant the superuser or staff flag or a raw permission
(roles are groups; the Django admin flag follows the clinic-admin role), or set a password
(people choose their own, through the e-mailed link). Superusers are managed by superusers
only, in the Django admin.
"""

from __future__ import annotations

from collections.abc import Collection

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic import user_sessions
from clinic.audit import audit_write
from clinic.models import AuditEvent, OutgoingMessage, User
from clinic.outbox import message_queue
from clinic.roles import Role
from clinic.services import user_grant_role

# The roles a clinic admin hands out here. A referring physician's account belongs to a
# practice's physician record, so it comes from an access request or an invitation there.
ASSIGNABLE_ROLES = (Role.INTAKE, Role.SCHEDULER, Role.PROVIDER, Role.CLINIC_ADMIN)

EMAIL_TAKEN = "Someone already has an account with this e-mail address."
NO_ROLE_CHOSEN = "Choose at least one role."
CANNOT_DEACTIVATE_SELF = "You cannot deactivate your own account; ask another clinic admin."
CANNOT_DROP_OWN_ADMIN = "You cannot remove your own clinic admin role; ask another clinic admin."
ACCOUNT_INACTIVE = "This account is deactivated; reactivate it before sending a password link."
SUPERUSER_ONLY = "Only a superuser may change a superuser's account."


class UserChangeRefused(ValueError):
    """A change a clinic admin may not make; the message says why."""


def set_password_link(*, user: User) -> str:
    """A one-day link (``PASSWORD_RESET_TIMEOUT``) for ``user`` to choose a password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def _audit(*, actor: User, user: User, action: str, summary: str) -> None:
    # clinic.audit's one builder: the request's IP and path come from AuditOriginMiddleware.
    audit_write(actor=actor, action=action, obj=user, summary=f"{user.email}: {summary}")


def _refuse_unless_may_change(*, actor: User, user: User) -> None:
    if user.is_superuser and not actor.is_superuser:
        raise UserChangeRefused(SUPERUSER_ONLY)


def _role_names(roles: Collection[Role]) -> str:
    return ", ".join(role.spec.group for role in Role if role in roles) or "none"


def roles_held(*, user: User) -> set[Role]:
    """The roles a user's groups give (read from the groups, so prefetching them suffices)."""
    names = {group.name for group in user.groups.all()}
    return {role for role in Role if role.spec.group in names}


@transaction.atomic
def user_invite(*, actor: User, email: str, first_name: str, last_name: str, roles: Collection[Role]) -> User:
    """Create an account with ``roles`` and e-mail it a link to choose a password."""
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise UserChangeRefused(EMAIL_TAKEN)
    if not roles:
        raise UserChangeRefused(NO_ROLE_CHOSEN)
    user = User.objects.create_user(email=email, password=None, first_name=first_name, last_name=last_name)
    for role in roles:
        user_grant_role(user=user, role=_assignable(role))
    message_queue(
        key=f"staff-invitation:{user.pk}:{timezone.now().isoformat()}",
        kind="staff_invitation",
        to_email=user.email,
        template="staff_invitation",
        context={"user": user, "link": set_password_link(user=user), "roles": _role_names(roles)},
    )
    _audit(actor=actor, user=user, action=AuditEvent.Action.CREATE,
           summary=f"invited with roles {_role_names(roles)}")  # fmt: skip
    return user


def _assignable(role: Role) -> Role:
    if role not in ASSIGNABLE_ROLES:
        raise UserChangeRefused(f"The {role.spec.group} role is not given here.")
    return role


@transaction.atomic
def user_roles_set(*, actor: User, user: User, roles: Collection[Role]) -> bool:
    """Give ``user`` exactly ``roles`` among the assignable ones (a referrer role stays as it
    is); returns whether anything changed."""
    _refuse_unless_may_change(actor=actor, user=user)
    wanted = {_assignable(role) for role in roles}
    held = roles_held(user=user) & set(ASSIGNABLE_ROLES)
    if user.pk == actor.pk and Role.CLINIC_ADMIN in held and Role.CLINIC_ADMIN not in wanted:
        raise UserChangeRefused(CANNOT_DROP_OWN_ADMIN)
    if wanted == held:
        return False
    for role in wanted - held:
        user_grant_role(user=user, role=role)
    removed = held - wanted
    if removed:
        user.groups.remove(*Group.objects.filter(name__in=[role.spec.group for role in removed]))
    if Role.CLINIC_ADMIN in removed and user.is_staff and not user.is_superuser:
        user.is_staff = False  # the Django admin came with the role
        user.save(update_fields=["is_staff"])
    _audit(actor=actor, user=user, action=AuditEvent.Action.UPDATE,
           summary=f"roles {_role_names(held)} -> {_role_names(wanted)}")  # fmt: skip
    return True


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> int:
    """Stop ``user`` logging in and end every session they have; returns how many ended."""
    _refuse_unless_may_change(actor=actor, user=user)
    if user.pk == actor.pk:
        raise UserChangeRefused(CANNOT_DEACTIVATE_SELF)
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    ended = user_sessions.sessions_end(user=user)
    _audit(actor=actor, user=user, action=AuditEvent.Action.UPDATE,
           summary=f"deactivated; {ended} session(s) ended")  # fmt: skip
    return ended


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> None:
    _refuse_unless_may_change(actor=actor, user=user)
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    _audit(actor=actor, user=user, action=AuditEvent.Action.UPDATE, summary="reactivated")


@transaction.atomic
def user_password_reset_send(*, actor: User, user: User) -> OutgoingMessage:
    """E-mail ``user`` a link to choose a new password (through the ledger). The current
    password keeps working until they use it: the admin never sets or clears one."""
    _refuse_unless_may_change(actor=actor, user=user)
    if not user.is_active:
        raise UserChangeRefused(ACCOUNT_INACTIVE)
    message = message_queue(
        key=f"password-link:{user.pk}:{timezone.now().isoformat()}",
        kind="password_link",
        to_email=user.email,
        template="password_link",
        context={"user": user, "link": set_password_link(user=user)},
    )
    _audit(actor=actor, user=user, action=AuditEvent.Action.UPDATE,
           summary="sent a link to choose a new password")  # fmt: skip
    return message
