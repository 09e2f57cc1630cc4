"""What the portal's and intake's referral forms share: binding the form with the files
already staged for it, and keeping newly checked files when the submit fails."""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from referrals import staging
from referrals.forms import ReferralForm
from referrals.models import StagedUpload
from referrals.services import NewFile


def posted_token(request: HttpRequest) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get("submission_token", ""))
    except ValueError:
        return None


def bind(request: HttpRequest, form_class: type[ReferralForm], **kwargs) -> tuple[ReferralForm, list[StagedUpload]]:
    """The form, and its staged files once a posted [remove] has been applied."""
    token = posted_token(request)
    if request.method == "POST" and (pk := request.POST.get("remove_staged")):
        staging.staged_upload_remove(token=token, user=request.user, pk=pk)
    staged = staging.staged_uploads_for(token=token, user=request.user)
    form = form_class(request.POST or None, request.FILES or None, existing_file_count=len(staged), **kwargs)
    return form, staged


def removing(request: HttpRequest) -> bool:
    """A [remove] button was pressed: show the form again, send nothing."""
    return bool(request.POST.get("remove_staged"))


def all_files(form: ReferralForm, staged: list[StagedUpload]) -> list[NewFile]:
    kind = form.cleaned_data["file_kind"]
    return staging.staged_as_new_files(staged, kind=kind) + form.cleaned_data["new_files"]


def keep_new_files(request: HttpRequest, form: ReferralForm, staged: list[StagedUpload]) -> list[StagedUpload]:
    """After a failed submit: stage the files that passed their checks (those that did not
    are named in the form's errors); returns everything now staged for the form."""
    token = posted_token(request)
    new_files = getattr(form, "cleaned_data", {}).get("new_files") or []
    if token is None or not new_files:
        return staged
    return staged + staging.staged_uploads_add(token=token, user=request.user, files=new_files)


def discard(request: HttpRequest) -> None:
    staging.staged_uploads_discard(token=posted_token(request), user=request.user)
