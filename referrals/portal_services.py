"""Portal accounts: physicians ask for access, admins approve or invite, and the
invitation e-mail carries a one-day link to set a password."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.audit import audit_write
from clinic.models import AuditEvent, User
from clinic.outbox import message_queue
from clinic.roles import Role
from clinic.services import user_grant_role
from clinic.throttle import Limit, throttle_hit
from clinic.user_services import set_password_link
from clinic.user_sessions import sessions_end
from referrals.models import PortalAccessRequest, ReferringPhysician, ReferringPractice

ALREADY_DECIDED = "This request was already %(status)s."
TOO_MANY_ACCESS_REQUESTS = (
    "Too many requests for portal access have come from here or for this e-mail address. "
    "Nothing was sent; please try again tomorrow, or call the clinic."
)
# A physician asks once; a few retries are fine. The limits keep the public form from being
# used to flood the review queue or to probe addresses.
ACCESS_REQUESTS_PER_ADDRESS = Limit(scope="access-request:email", count=3, window=dt.timedelta(days=1))
ACCESS_REQUESTS_PER_CLIENT = Limit(scope="access-request:ip", count=10, window=dt.timedelta(hours=1))
NPI_IN_OTHER_PRACTICE = (
    "A physician with NPI %(npi)s is already on file at %(practice)s: approve into that practice, or correct the"
    " physician record first."
)


class AccessRequestThrottled(Exception):
    """Refused: this client or this address asked too often (``TOO_MANY_ACCESS_REQUESTS``)."""


def access_request_submit(*, client_ip: str | None, now: dt.datetime | None = None, **fields) -> None:
    """Record a request for review, or refuse it as throttled.

    Returns nothing, and the caller answers the same whether the address is new, already
    waiting (the first request stands) or already has an account (the admin sees it when
    reviewing), so the public form tells a stranger nothing about who uses the portal.
    """
    email = fields["email"]
    checks = [(ACCESS_REQUESTS_PER_ADDRESS, email.lower()), (ACCESS_REQUESTS_PER_CLIENT, client_ip)]
    if not throttle_hit(checks=checks, now=now):
        raise AccessRequestThrottled(TOO_MANY_ACCESS_REQUESTS)
    try:
        with transaction.atomic():
            PortalAccessRequest.objects.create(**fields)
    except IntegrityError:
        pass  # one pending request per address (a constraint): the first one stands


@transaction.atomic
def access_request_approve(
    *,
    access_request: PortalAccessRequest,
    actor: User,
    practice: ReferringPractice | None,
    new_practice_name: str = "",
) -> ReferringPhysician:
    """Approve a request into the practice the admin chose: ``practice`` to join an existing
    one, or None to create ``new_practice_name`` (default: the name typed in the request).
    Never matched by name: a stranger typing a practice's name must not join it. Then invite
    the physician to the portal."""
    locked = PortalAccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if locked.status != PortalAccessRequest.Status.PENDING:
        raise ValueError(ALREADY_DECIDED % {"status": locked.get_status_display().lower()})
    existing = ReferringPhysician.objects.filter(npi=locked.npi).select_related("practice").first()
    if existing is not None and (practice is None or existing.practice_id != practice.pk):
        raise ValueError(NPI_IN_OTHER_PRACTICE % {"npi": locked.npi, "practice": existing.practice})
    if practice is None:
        practice = ReferringPractice.objects.create(
            name=new_practice_name.strip() or locked.practice_name, phone=locked.practice_phone
        )
        how = f"created practice {practice.name} (#{practice.pk})"
    else:
        how = f"joined existing practice {practice.name} (#{practice.pk})"
    physician = existing or ReferringPhysician.objects.create(
        npi=locked.npi, practice=practice, first_name=locked.first_name, last_name=locked.last_name, email=locked.email
    )
    physician_invite(physician=physician)
    locked.status, locked.decided_by, locked.decided_at, locked.physician = (
        PortalAccessRequest.Status.APPROVED, actor, timezone.now(), physician,
    )  # fmt: skip
    locked.save(update_fields=["status", "decided_by", "decided_at", "physician"])
    _audit(actor=actor, obj=physician, action=AuditEvent.Action.CREATE,
           summary=f"approved access request #{locked.pk} of {locked.email}: {how}")  # fmt: skip
    return physician


def access_request_reject(*, access_request: PortalAccessRequest, actor: User) -> None:
    rejected = PortalAccessRequest.objects.filter(
        pk=access_request.pk, status=PortalAccessRequest.Status.PENDING
    ).update(status=PortalAccessRequest.Status.REJECTED, decided_by=actor, decided_at=timezone.now())
    if rejected:
        _audit(actor=actor, obj=access_request, action=AuditEvent.Action.UPDATE,
               summary=f"rejected access request #{access_request.pk} of {access_request.email}")  # fmt: skip


@transaction.atomic
def physician_invite(*, physician: ReferringPhysician) -> User:
    """Give a physician a portal account (if they have none) and e-mail a set-password link."""
    user = physician.user or User.objects.filter(email__iexact=physician.email).first()
    if user is None:
        user = User.objects.create_user(
            email=physician.email, password=None, first_name=physician.first_name, last_name=physician.last_name
        )
    user_grant_role(user=user, role=Role.REFERRER)
    if physician.user_id != user.pk:
        physician.user = user
        physician.save(update_fields=["user"])
    link = set_password_link(user=user)
    message_queue(
        # A new key per invitation: re-inviting (an expired link) must send again.
        key=f"portal-invitation:{user.pk}:{timezone.now().isoformat()}",
        kind="portal_invitation",
        to_email=user.email,
        template="portal_invitation",
        context={"physician": physician, "link": link},
    )
    return user


def _audit(*, actor: User, obj, action: str, summary: str) -> None:
    # clinic.audit's one builder: the request's IP and path come from AuditOriginMiddleware.
    audit_write(actor=actor, action=action, obj=obj, summary=summary)


def _practice_users(practice: ReferringPractice):
    return User.objects.filter(referring_physician__practice=practice)


@transaction.atomic
def practice_deactivate(*, practice: ReferringPractice, actor: User) -> int:
    """End every portal access of a practice at once: the practice is inactive (which the one
    portal check, ``selectors.portal_physician_of``, refuses) and each of its physicians'
    sessions ends now. Returns how many sessions ended."""
    ReferringPractice.objects.filter(pk=practice.pk).update(is_active=False)
    practice.is_active = False
    ended = sum(sessions_end(user=user) for user in _practice_users(practice))
    _audit(actor=actor, obj=practice, action=AuditEvent.Action.UPDATE,
           summary=f"deactivated practice {practice.name}; {ended} session(s) ended")  # fmt: skip
    return ended


@transaction.atomic
def practice_reactivate(*, practice: ReferringPractice, actor: User) -> None:
    ReferringPractice.objects.filter(pk=practice.pk).update(is_active=True)
    practice.is_active = True
    _audit(actor=actor, obj=practice, action=AuditEvent.Action.UPDATE,
           summary=f"reactivated practice {practice.name}")  # fmt: skip
