"""Calendar tiles' text is black or white by WCAG contrast: every seeded colour reads at 4.5:1."""

import pytest

from clinic.contrast import BLACK, WHITE, contrast_ratio, readable_text_color, relative_luminance
from clinic.seeding import PROCEDURES
from tests.factories import ProcedureTypeFactory

SEEDED_COLORS = sorted({procedure.color for procedure in PROCEDURES})


def test_luminance_and_ratio_match_wcag_reference_values():
    assert relative_luminance(BLACK) == 0
    assert relative_luminance(WHITE) == pytest.approx(1)
    assert contrast_ratio(BLACK, WHITE) == pytest.approx(21)
    assert contrast_ratio("#777777", WHITE) == pytest.approx(4.48, abs=0.01)  # the classic near miss


@pytest.mark.parametrize("color", SEEDED_COLORS)
def test_every_seeded_colour_gets_text_that_reaches_aa(color):
    assert contrast_ratio(color, readable_text_color(color)) >= 4.5


def test_light_seeded_colours_get_black_text_and_dark_ones_keep_white():
    assert {c for c in SEEDED_COLORS if contrast_ratio(c, WHITE) < 4.5} >= {"#adb5bd", "#20c997", "#fd7e14", "#ffc107"}
    assert readable_text_color("#ffc107") == BLACK  # warning yellow: 1.6:1 with white
    assert readable_text_color("#0d6efd") == WHITE  # primary blue: 4.50:1, just enough


@pytest.mark.parametrize("stored", ["", "red", "#fff", "#12345g"])
def test_a_colour_that_is_not_rrggbb_gets_black_text(stored):
    assert readable_text_color(stored) == BLACK


@pytest.mark.django_db
def test_procedure_type_offers_its_text_colour():
    assert ProcedureTypeFactory(color="#ffc107").text_color == BLACK
    assert ProcedureTypeFactory(color="#6610f2").text_color == WHITE
