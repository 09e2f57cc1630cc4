"""ICD-10-CM diagnosis codes: validation, normalisation and descriptions.

The code set comes from simple-icd-10-cm, which bundles CMS's ICD-10-CM release.
"""

from __future__ import annotations

import re

import simple_icd_10_cm as icd
from django.core.exceptions import ValidationError

NOT_AN_ICD10_CODE = "%(value)s is not an ICD-10-CM diagnosis code (for example M54.6 or M80.08XA)."
TOO_GENERAL = "%(value)s is a chapter or block of codes, not a diagnosis: give the code itself (e.g. M54.6)."

# Letter, two characters, then up to four more (7th-character extensions included).
_SHAPE = re.compile(r"^[A-TV-Z][0-9][0-9AB]([0-9A-TV-Z]{0,4})$")


def normalise_icd10(raw: str) -> str:
    """Return the dotted, upper-case form of a valid code (``m546`` -> ``M54.6``) or raise."""
    compact = raw.strip().upper().replace(".", "").replace(" ", "")
    if not _SHAPE.match(compact) or not icd.is_valid_item(compact):
        raise ValidationError(NOT_AN_ICD10_CODE, code="icd10", params={"value": raw.strip()})
    if icd.is_chapter_or_block(compact):
        raise ValidationError(TOO_GENERAL, code="icd10_general", params={"value": raw.strip()})
    return icd.add_dot(compact)


def describe_icd10(code: str) -> str:
    try:
        return icd.get_description(code)
    except ValueError:
        return ""


def parse_icd10_list(raw: str) -> list[str]:
    """Split a comma, semicolon or whitespace separated list and normalise every code,
    reporting every bad one at once."""
    codes, errors = [], []
    for item in re.split(r"[,;\s]+", raw.strip()):
        if not item:
            continue
        try:
            codes.append(normalise_icd10(item))
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(codes))
