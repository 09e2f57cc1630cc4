"""Files from a referral form that failed validation, kept server-side so they need not
be attached again.

A failed submit stores its checked uploads as ``StagedUpload`` rows under MEDIA_ROOT (which
is private: files are served only through access-checked views), keyed by the form's
one-time ``submission_token`` and the user; the next submit of the same form attaches them.
Stale rows (older than ``STAGED_UPLOAD_MAX_AGE``, abandoned forms) are purged whenever a form
stages files: that runs with or without a worker and beat, and a form is abandoned long
before a day is out, so nothing accumulates past the next failed submit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from clinic.models import User
from referrals.models import StagedUpload
from referrals.services import NewFile
from referrals.uploads import sanitised_name

STAGED_UPLOAD_MAX_AGE = dt.timedelta(days=1)


def staged_uploads_for(*, token: uuid.UUID | None, user: User) -> list[StagedUpload]:
    if token is None:
        return []
    return list(StagedUpload.objects.filter(token=token, user=user))


@transaction.atomic
def staged_uploads_add(
    *, token: uuid.UUID, user: User, files: Iterable[NewFile], now: dt.datetime | None = None
) -> list[StagedUpload]:
    """Keep checked uploads for the form ``token``; purges other forms' stale ones first."""
    now = now or timezone.now()
    staged_uploads_purge_stale(now=now)
    rows = []
    for new_file in files:
        row = StagedUpload(
            token=token,
            user=user,
            original_name=sanitised_name(new_file.upload.name, new_file.content_type),
            content_type=new_file.content_type,
            size=new_file.upload.size,
            created_at=now,
        )
        row.file.save(row.original_name, new_file.upload, save=False)
        row.save()
        rows.append(row)
    return rows


def staged_upload_remove(*, token: uuid.UUID | None, user: User, pk: str) -> None:
    """The form's [remove] button; ``pk`` is as posted, so it is compared as text."""
    for row in staged_uploads_for(token=token, user=user):
        if str(row.pk) == pk:
            _delete(StagedUpload.objects.filter(pk=row.pk))


def staged_uploads_discard(*, token: uuid.UUID | None, user: User) -> None:
    """After the referral was created (or the form was found already sent)."""
    if token is not None:
        _delete(StagedUpload.objects.filter(token=token, user=user))


def staged_uploads_purge_stale(*, now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - STAGED_UPLOAD_MAX_AGE
    return _delete(StagedUpload.objects.filter(created_at__lt=cutoff))


def staged_as_new_files(rows: Iterable[StagedUpload], *, kind: str) -> list[NewFile]:
    """Staged rows as the files ``referral_create`` stores (type already checked)."""
    return [
        NewFile(
            upload=UploadedFile(
                file=row.file.open("rb"), name=row.original_name, content_type=row.content_type, size=row.size
            ),
            kind=kind,
            content_type=row.content_type,
        )
        for row in rows
    ]


def _delete(rows: QuerySet[StagedUpload]) -> int:
    storage = StagedUpload._meta.get_field("file").storage
    names = list(rows.values_list("file", flat=True))
    count, _ = rows.delete()
    # Files go only once the rows are gone for good: a rolled-back delete keeps both.
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return count
