"""Where on the body a procedure is done: spinal region, side, levels, or a named joint or
nerve for peripheral procedures; the one place that reads and checks levels.

Levels are written the way providers write them: single vertebrae ("L4") or segments
("T6-T7"), comma separated. A span over several segments ("T6-T8") is read as the segments
it covers ("T6-T7, T7-T8"), so "how many levels" is the number of segments and single levels
after reading. A level belongs to a region by its upper vertebra, so the junctions C7-T1,
T12-L1 and L5-S1 are cervical, thoracic and lumbar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import models


class Region(models.TextChoices):
    CERVICAL = "cervical", "Cervical"
    THORACIC = "thoracic", "Thoracic"
    LUMBAR = "lumbar", "Lumbar"
    SACRAL = "sacral", "Sacral / SI joint"
    PERIPHERAL = "peripheral", "Peripheral joint or nerve"


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"
    MIDLINE = "midline", "Midline"


SPINAL = (Region.CERVICAL, Region.THORACIC, Region.LUMBAR, Region.SACRAL)

# The fields a site is stored in (``conditions.models.SiteFields``), and a site passed around
# as a dict of them (forms, services, the coverage rules).
SITE_FIELDS = ("site_region", "site_side", "site_levels", "site_target")


def site_dict(values) -> dict[str, str]:
    """The site fields of ``values`` (a form's cleaned data, a dict, or None), "" where missing."""
    values = values or {}
    return {name: (values.get(name) or "").strip() for name in SITE_FIELDS}


# Vertebrae top to bottom, each with its region; a level's region is its upper vertebra's.
_VERTEBRAE = (
    [(f"C{n}", Region.CERVICAL) for n in range(1, 8)]
    + [(f"T{n}", Region.THORACIC) for n in range(1, 13)]
    + [(f"L{n}", Region.LUMBAR) for n in range(1, 6)]
    + [(f"S{n}", Region.SACRAL) for n in range(1, 6)]
)
_INDEX = {name: i for i, (name, _region) in enumerate(_VERTEBRAE)}
_REGION_OF = dict(_VERTEBRAE)
_TOKEN = re.compile(r"^([CTLS])(\d{1,2})(?:-([CTLS])?(\d{1,2}))?$")

LEVEL_UNREADABLE = '"{token}" is not a spinal level: write levels like T6-T7, L4 or L5-S1.'
LEVEL_BACKWARDS = "{token} runs upwards: write the upper level first, e.g. {fixed}."
LEVEL_WRONG_REGION = "{token} is not in the {region} spine: {region} levels run {first} to {last}."
LEVEL_TWICE = "{token} is listed twice."
LEVELS_NOT_SPINAL = "Levels are for the spine: name the joint or nerve instead."
LEVELS_REQUIRED = "Give the levels, e.g. {example}."
TOO_MANY_LEVELS = "{procedure} covers at most {limit} level{s} in one session; this order has {count} ({levels})."
SITE_REQUIRED = "{procedure} needs a site: choose the region."
SIDE_REQUIRED = "Choose the side: left, right, bilateral or midline."
TARGET_REQUIRED = "Name the joint or nerve, e.g. left knee or greater occipital nerve."
TARGET_SPINAL = "A named joint or nerve is for peripheral procedures: leave it empty for a spinal region."

_EXAMPLES = {Region.CERVICAL: "C5-C6", Region.THORACIC: "T6-T7", Region.LUMBAR: "L4-L5", Region.SACRAL: "S1"}


class LevelError(ValueError):
    """Levels that cannot be read for the region; the message says which and why."""


def _region_span(region: str) -> tuple[str, str]:
    names = [name for name, r in _VERTEBRAE if r == region]
    return names[0], names[-1]


def parse_levels(text: str, region: str) -> list[str]:
    """The levels in ``text`` as normalised tokens ("T6-T7", "L4"), checked against ``region``.

    Raises LevelError with the first problem found.
    """
    tokens = [t for t in re.split(r"[,;\s]+", re.sub(r"\s*-\s*", "-", text.strip().upper())) if t]
    if tokens and region not in SPINAL:
        raise LevelError(LEVELS_NOT_SPINAL)
    levels: list[str] = []
    for token in tokens:
        for level in _read_token(token, region):
            if level in levels:
                raise LevelError(LEVEL_TWICE.format(token=level))
            levels.append(level)
    return levels


def _read_token(token: str, region: str) -> list[str]:
    match = _TOKEN.match(token)
    if not match:
        raise LevelError(LEVEL_UNREADABLE.format(token=token))
    letter, number, second_letter, second_number = match.groups()
    upper = f"{letter}{int(number)}"
    if upper not in _INDEX:
        raise LevelError(LEVEL_UNREADABLE.format(token=token))
    if second_number is None:
        _check_region(upper, upper, region)
        return [upper]
    lower = f"{second_letter or letter}{int(second_number)}"
    if lower not in _INDEX:
        raise LevelError(LEVEL_UNREADABLE.format(token=token))
    top, bottom = _INDEX[upper], _INDEX[lower]
    if bottom <= top:
        raise LevelError(LEVEL_BACKWARDS.format(token=token, fixed=f"{lower}-{upper}"))
    segments = [f"{_VERTEBRAE[i][0]}-{_VERTEBRAE[i + 1][0]}" for i in range(top, bottom)]
    for segment in segments:
        _check_region(segment, segment.split("-")[0], region)
    return segments


def _check_region(token: str, upper: str, region: str) -> None:
    if _REGION_OF[upper] != region:
        first, last = _region_span(region)
        label = Region(region).label.split(" /")[0].lower()
        raise LevelError(LEVEL_WRONG_REGION.format(token=token, region=label, first=first, last=last))


@dataclass
class SiteCheck:
    """A site as entered, checked for a procedure type: ``errors`` by form field name
    (``site_region``, ``site_side``, ``site_levels``, ``site_target``), ``levels`` normalised."""

    region: str = ""
    side: str = ""
    levels: list[str] = field(default_factory=list)
    target: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def levels_text(self) -> str:
        return ", ".join(self.levels)

    def stored(self) -> dict[str, str]:
        """The site as it is stored (levels normalised)."""
        return {"site_region": self.region, "site_side": self.side, "site_levels": self.levels_text,
                "site_target": self.target}  # fmt: skip


def check_site(*, procedure_type, region: str, side: str, levels: str, target: str) -> SiteCheck:
    """Check a site against what ``procedure_type`` needs (``site_required``, ``max_levels``).

    A type that needs no site may still be given one (it is then checked the same way).
    """
    site = SiteCheck(region=region or "", side=side or "", target=(target or "").strip())
    needs_site = bool(getattr(procedure_type, "site_required", False))
    if not site.region:
        if needs_site:
            site.errors["site_region"] = SITE_REQUIRED.format(procedure=procedure_type.name)
        elif levels.strip() or site.target:
            site.errors["site_region"] = "Choose the region these levels or this joint belong to."
        return site
    if not site.side and needs_site:
        site.errors["site_side"] = SIDE_REQUIRED
    try:
        site.levels = parse_levels(levels or "", site.region)
    except LevelError as exc:
        site.errors["site_levels"] = str(exc)
        return site
    if site.region == Region.PERIPHERAL:
        if not site.target:
            site.errors["site_target"] = TARGET_REQUIRED
    elif site.target:
        site.errors["site_target"] = TARGET_SPINAL
    elif not site.levels and site.region != Region.SACRAL and needs_site:
        site.errors["site_levels"] = LEVELS_REQUIRED.format(example=_EXAMPLES[site.region])
    limit = getattr(procedure_type, "max_levels", None)
    if limit and len(site.levels) > limit:
        site.errors["site_levels"] = TOO_MANY_LEVELS.format(
            procedure=procedure_type.name,
            limit=limit,
            s="" if limit == 1 else "s",
            count=len(site.levels),
            levels=site.levels_text,
        )
    return site


def site_label(region: str, side: str, levels: str, target: str) -> str:
    """ "Thoracic T6-T7, T7-T8, bilateral"; "Peripheral: left knee"; "" without a region."""
    if not region:
        return ""
    where = target if region == Region.PERIPHERAL else Region(region).label
    parts = [where] + ([levels] if levels else [])
    text = " ".join(parts)
    return f"{text}, {Side(side).label.lower()}" if side else text


# Regions a coverage rule counts together. The LCDs count cervical with thoracic and lumbar
# with sacral; "each" counts every region apart. Peripheral sites count by their named target.
class RegionGrouping(models.TextChoices):
    LCD = "lcd", "Cervical with thoracic, lumbar with sacral (the LCDs)"
    EACH = "each", "Each region on its own"
    ANY = "any", "All regions together (per patient)"


_LCD_GROUPS = {
    Region.CERVICAL: "cervical/thoracic",
    Region.THORACIC: "cervical/thoracic",
    Region.LUMBAR: "lumbar/sacral",
    Region.SACRAL: "lumbar/sacral",
}


def region_group(region: str, target: str, grouping: str) -> str:
    """The key under which a rule counts a session at this site ("lumbar/sacral")."""
    if grouping == RegionGrouping.ANY:
        return "all regions"
    if region == Region.PERIPHERAL:
        return f"peripheral: {target.strip().lower()}"
    if not region:
        return "no site"
    if grouping == RegionGrouping.LCD:
        return _LCD_GROUPS[region]
    return str(region)
