"""Sites: levels read the way providers write them and checked against the region and the
procedure type; each problem its own message."""

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conditions.sites import (
    LevelError,
    Region,
    RegionGrouping,
    check_site,
    parse_levels,
    region_group,
    site_label,
)


def procedure(name="Medial branch block", site_required=True, max_levels=2):
    return SimpleNamespace(name=name, site_required=site_required, max_levels=max_levels)


@pytest.mark.parametrize(
    ("text", "region", "levels"),
    [
        ("T6-T8", Region.THORACIC, ["T6-T7", "T7-T8"]),
        ("T6-T7, T7-T8", Region.THORACIC, ["T6-T7", "T7-T8"]),
        ("t6 - 7", Region.THORACIC, ["T6-T7"]),
        ("L5-S1", Region.LUMBAR, ["L5-S1"]),
        ("L4", Region.LUMBAR, ["L4"]),
        ("C7-T1", Region.CERVICAL, ["C7-T1"]),
        ("L3-L4; L4-L5", Region.LUMBAR, ["L3-L4", "L4-L5"]),
        ("S1", Region.SACRAL, ["S1"]),
        ("", Region.LUMBAR, []),
    ],
)
def test_levels_are_read_and_normalised(text, region, levels):
    assert parse_levels(text, region) == levels


@pytest.mark.parametrize(
    ("text", "region", "message"),
    [
        ("L4", Region.CERVICAL, "L4 is not in the cervical spine: cervical levels run C1 to C7."),
        ("T12-L2", Region.THORACIC, "L1-L2 is not in the thoracic spine: thoracic levels run T1 to T12."),
        ("L4-L3", Region.LUMBAR, "L4-L3 runs upwards: write the upper level first, e.g. L3-L4."),
        ("X9", Region.LUMBAR, '"X9" is not a spinal level: write levels like T6-T7, L4 or L5-S1.'),
        ("L6", Region.LUMBAR, '"L6" is not a spinal level: write levels like T6-T7, L4 or L5-S1.'),
        ("L4-L5, L4-L5", Region.LUMBAR, "L4-L5 is listed twice."),
        ("L4", Region.PERIPHERAL, "Levels are for the spine: name the joint or nerve instead."),
    ],
)
def test_levels_that_do_not_belong_are_refused_with_a_reason(text, region, message):
    with pytest.raises(LevelError) as caught:
        parse_levels(text, region)
    assert str(caught.value) == message


def test_a_site_is_needed_where_the_type_needs_one():
    site = check_site(procedure_type=procedure(), region="", side="", levels="", target="")
    assert site.errors == {"site_region": "Medial branch block needs a site: choose the region."}


def test_side_and_levels_are_needed_for_a_spinal_site():
    site = check_site(procedure_type=procedure(), region=Region.LUMBAR, side="", levels="", target="")
    assert site.errors == {
        "site_side": "Choose the side: left, right, bilateral or midline.",
        "site_levels": "Give the levels, e.g. L4-L5.",
    }


def test_too_many_levels_for_one_session():
    interlaminar = procedure("Interlaminar epidural steroid injection", max_levels=1)
    site = check_site(procedure_type=interlaminar, region=Region.LUMBAR, side="midline", levels="L3-L5", target="")
    assert site.errors == {
        "site_levels": "Interlaminar epidural steroid injection covers at most 1 level in one session; "
        "this order has 2 (L3-L4, L4-L5)."
    }


def test_a_peripheral_site_names_its_joint_or_nerve():
    joint = procedure("Joint and bursa injection", max_levels=None)
    missing = check_site(procedure_type=joint, region=Region.PERIPHERAL, side="left", levels="", target="")
    assert missing.errors == {"site_target": "Name the joint or nerve, e.g. left knee or greater occipital nerve."}
    named = check_site(procedure_type=joint, region=Region.PERIPHERAL, side="left", levels="", target=" knee ")
    assert named.errors == {}
    assert named.target == "knee"
    assert site_label(named.region, named.side, named.levels_text, named.target) == "knee, left"


def test_a_good_site_has_no_errors_and_reads_back():
    site = check_site(procedure_type=procedure(), region=Region.THORACIC, side="bilateral", levels="T6-T8", target="")
    assert site.errors == {}
    assert site_label(site.region, site.side, site.levels_text, site.target) == "Thoracic T6-T7, T7-T8, bilateral"


def test_lcd_regions_count_together():
    assert region_group(Region.CERVICAL, "", RegionGrouping.LCD) == region_group(Region.THORACIC, "", "lcd")
    assert region_group(Region.LUMBAR, "", RegionGrouping.LCD) == region_group(Region.SACRAL, "", "lcd")
    assert region_group(Region.LUMBAR, "", RegionGrouping.LCD) != region_group(Region.CERVICAL, "", "lcd")
    assert region_group(Region.LUMBAR, "", RegionGrouping.EACH) != region_group(Region.SACRAL, "", "each")
    assert region_group(Region.PERIPHERAL, "Knee", "lcd") == region_group(Region.PERIPHERAL, "knee ", "each")


SPINE = ["C1", "C2", "C3", "C4", "C5", "C6", "C7"] + [f"T{n}" for n in range(1, 13)] + [f"L{n}" for n in range(1, 6)]


@given(st.integers(0, len(SPINE) - 2), st.integers(1, 4))
def test_a_span_reads_as_its_segments(top, length):
    bottom = min(top + length, len(SPINE) - 1)
    upper, lower = SPINE[top], SPINE[bottom]
    region = {"C": Region.CERVICAL, "T": Region.THORACIC, "L": Region.LUMBAR}[upper[0]]
    if any(SPINE[i][0] != upper[0] for i in range(top, bottom)):
        # A span whose segments leave the region is refused, naming the segment.
        with pytest.raises(LevelError, match="is not in the"):
            parse_levels(f"{upper}-{lower}", region)
        return
    levels = parse_levels(f"{upper}-{lower}", region)
    assert len(levels) == bottom - top
    assert levels[0].startswith(upper + "-")
    assert levels[-1].endswith("-" + lower)
