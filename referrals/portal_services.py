"""Portal accounts: physicians ask for access, admins approve or invite, and the
invitation e-mail carries a one-day link to set a password."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic.models import User
from clinic.outbox import message_queue
from clinic.roles import Role
from clinic.services import user_grant_role
from clinic.throttle import Limit, throttle_hit
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
def access_request_approve(*, access_request: PortalAccessRequest, actor: User) -> ReferringPhysician:
    """Create (or reuse) the practice and physician, then invite them to the portal."""
    locked = PortalAccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if locked.status != PortalAccessRequest.Status.PENDING:
        raise ValueError(ALREADY_DECIDED % {"status": locked.get_status_display().lower()})
    practice = ReferringPractice.objects.filter(name__iexact=locked.practice_name).first()
    if practice is None:
        practice = ReferringPractice.objects.create(name=locked.practice_name, phone=locked.practice_phone)
    physician, _ = ReferringPhysician.objects.get_or_create(
        npi=locked.npi,
        defaults={"practice": practice, "first_name": locked.first_name, "last_name": locked.last_name,
                  "email": locked.email},
    )  # fmt: skip
    physician_invite(physician=physician)
    locked.status, locked.decided_by, locked.decided_at, locked.physician = (
        PortalAccessRequest.Status.APPROVED, actor, timezone.now(), physician,
    )  # fmt: skip
    locked.save(update_fields=["status", "decided_by", "decided_at", "physician"])
    return physician


def access_request_reject(*, access_request: PortalAccessRequest, actor: User) -> None:
    PortalAccessRequest.objects.filter(pk=access_request.pk, status=PortalAccessRequest.Status.PENDING).update(
        status=PortalAccessRequest.Status.REJECTED, decided_by=actor, decided_at=timezone.now()
    )


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
    link = settings.SITE_URL + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    message_queue(
        # A new key per invitation: re-inviting (an expired link) must send again.
        key=f"portal-invitation:{user.pk}:{timezone.now().isoformat()}",
        kind="portal_invitation",
        to_email=user.email,
        template="portal_invitation",
        context={"physician": physician, "link": link},
    )
    return user
