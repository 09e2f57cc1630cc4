"""Password reset through the outgoing-mail ledger.

1. The "Forgotten your password?" form only records the address typed
   (``password_reset_request``): the same one insert whether or not an account uses it, so
   neither the page nor its timing tells a stranger which addresses have accounts.
2. A beat sweep (``password_reset_requests_process``, every 20 seconds) finds the accounts
   Django's reset form would mail (active, with a usable password) and owes each its e-mail in
   the ledger, in the transaction that deletes the request; the ledger delivers it.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic.login_identity import login_identity
from clinic.models import OutgoingMessage, PasswordResetRequest, User
from clinic.outbox import message_queue

BATCH_SIZE = 100


def password_reset_request(*, email: str, now: dt.datetime | None = None) -> PasswordResetRequest:
    """Record that someone asked for a reset link for ``email`` (which may match no account)."""
    return PasswordResetRequest.objects.create(email=login_identity(email), created_at=now or timezone.now())


def password_reset_email_queue(*, user: User) -> OutgoingMessage:
    """Owe ``user`` an e-mail with a link to choose a new password (valid PASSWORD_RESET_TIMEOUT)."""
    site = urlsplit(settings.SITE_URL)
    token = default_token_generator.make_token(user)
    context = {
        "email": user.email,
        "user": user,
        "protocol": site.scheme,
        "domain": site.netloc,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": token,
    }
    # The token names the second it was made: two requests within one second owe one e-mail.
    return message_queue(
        key=f"password-reset:{user.pk}:{token}",
        kind="password_reset",
        to_email=user.email,
        template="password_reset",
        context=context,
    )


def password_reset_requests_process(*, batch_size: int = BATCH_SIZE) -> int:
    """Owe the reset e-mails of every waiting request; returns how many were owed."""
    owed = 0
    while True:
        with transaction.atomic():
            waiting = list(PasswordResetRequest.objects.select_for_update(skip_locked=True).order_by("pk")[:batch_size])
            if not waiting:
                return owed
            for reset_request in waiting:
                for user in PasswordResetForm().get_users(reset_request.email):
                    password_reset_email_queue(user=user)
                    owed += 1
            PasswordResetRequest.objects.filter(pk__in=[row.pk for row in waiting]).delete()
