"""ICD-10-CM diagnosis codes: validation, normalisation and descriptions.

The code set comes from simple-icd-10-cm, which bundles CMS's ICD-10-CM release (chapter 22,
U00-U49, included: U07.1 COVID-19, U09.9 post-COVID condition). Only billable codes (leaves of
the tabular list, with their 7th character where one is required) go on a referral.

Loose typing accepted: lower case, surrounding spaces and a missing dot (``m546`` ->
``M54.6``). A dot anywhere but after the third character is refused, not moved: ``M5.46`` is
not read as ``M54.6``, because guessing where a misplaced dot belongs may pick the wrong
diagnosis.
"""

from __future__ import annotations

import re

import simple_icd_10_cm as icd
from django.core.exceptions import ValidationError

NOT_AN_ICD10_CODE = "%(value)s is not an ICD-10-CM diagnosis code (for example M54.6 or M80.08XA)."
TOO_GENERAL = "%(value)s is a chapter or block of codes, not a diagnosis: give the code itself (e.g. M54.6)."
NOT_BILLABLE = "%(value)s is a category: choose a code such as %(examples)s."
DOT_MISPLACED = (
    "%(value)s has its dot in the wrong place: an ICD-10-CM code has three characters before the dot (e.g. M54.6)."
)

# Letter, two characters, then up to four more (7th-character extensions included). Any
# letter may start a code: chapter 22 is U (U07.1).
_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
# How many billable codes a "category" message suggests.
EXAMPLES_SHOWN = 2


def normalise_icd10(raw: str) -> str:
    """Return the dotted, upper-case form of a billable code (``m546`` -> ``M54.6``) or raise."""
    typed = raw.strip()
    params = {"value": typed}
    upper = typed.upper()
    if "." in upper and (upper.index(".") != 3 or upper.count(".") > 1):
        raise ValidationError(DOT_MISPLACED, code="icd10_dot", params=params)
    compact = upper.replace(".", "")
    if not _SHAPE.match(compact) or not icd.is_valid_item(compact):
        raise ValidationError(NOT_AN_ICD10_CODE, code="icd10", params=params)
    if icd.is_chapter_or_block(compact):
        raise ValidationError(TOO_GENERAL, code="icd10_general", params=params)
    if not icd.is_leaf(compact):
        examples = " or ".join(billable_examples(compact))
        raise ValidationError(NOT_BILLABLE, code="icd10_category", params={**params, "examples": examples})
    return icd.add_dot(compact)


def billable_examples(code: str, limit: int = EXAMPLES_SHOWN) -> list[str]:
    """A few billable codes under a category: its billable children first (M54 -> M54.2,
    M54.6), else the first billable descendants in tabular order (M47.81 -> M47.811)."""
    children = [child for child in icd.get_children(code) if icd.is_leaf(child)]
    if len(children) < limit:
        children += [d for d in icd.get_descendants(code) if icd.is_leaf(d) and d not in children]
    return [icd.add_dot(child) for child in children[:limit]]


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
