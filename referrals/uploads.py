"""Uploaded records: what is accepted, judged by the file's content, never its name."""

from __future__ import annotations

import os
import unicodedata

import puremagic
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES_PER_REFERRAL = 10

# Content type -> the extension the stored name gets.
ALLOWED_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
}

EMPTY_FILE = "%(name)s is empty."
FILE_TOO_LARGE = "%(name)s is larger than 20 MB."
FILE_TYPE_REFUSED = "%(name)s is not a PDF, PNG, JPEG or TIFF file (its content was checked, not its name)."


def sniff_content_type(upload: UploadedFile) -> str | None:
    """The content type read from the file's first bytes, if it is one we accept."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return None
    for match in matches:
        if (match.mime_type or "").lower() in ALLOWED_TYPES:
            return match.mime_type.lower()
    return None


def validate_upload(upload: UploadedFile) -> str:
    """Check one upload and return its real content type, or raise a message naming it."""
    name = os.path.basename(upload.name or "file")
    if not upload.size:
        raise ValidationError(EMPTY_FILE, code="empty", params={"name": name})
    if upload.size > MAX_FILE_BYTES:
        raise ValidationError(FILE_TOO_LARGE, code="too_large", params={"name": name})
    content_type = sniff_content_type(upload)
    if content_type is None:
        raise ValidationError(FILE_TYPE_REFUSED, code="file_type", params={"name": name})
    return content_type


def sanitised_name(raw_name: str, content_type: str) -> str:
    """A safe display name: no path, plain characters, and the extension of its real type."""
    base = os.path.basename((raw_name or "").replace("\\", "/"))
    stem = os.path.splitext(base)[0]
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = get_valid_filename(stem.strip(". ")) if stem.strip(". ") else ""
    return f"{(stem or 'document')[:100]}{ALLOWED_TYPES[content_type]}"
