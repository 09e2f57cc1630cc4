"""Readable text on a coloured background, by WCAG 2.x's contrast ratio: the one place that
decides whether a calendar tile's text is black or white."""

from __future__ import annotations

import re

BLACK = "#000000"
WHITE = "#ffffff"
AA_NORMAL_TEXT = 4.5  # WCAG 2.x level AA, text under 18pt
HEX_COLOR = re.compile(r"^#([0-9a-fA-F]{6})$")


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of an sRGB ``#rrggbb`` colour, 0 (black) to 1 (white)."""
    match = HEX_COLOR.match(color)
    if match is None:
        raise ValueError(f"Not a #rrggbb colour: {color!r}")
    channels = [int(match.group(1)[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """(lighter + 0.05) / (darker + 0.05): 1 for the same colour, 21 for black on white."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def css_color(color: str) -> str:
    """``color`` if it is ``#rrggbb``, else "": what may be written into a stylesheet (an
    admin-edited value, so "red; } body { display: none" must never reach one)."""
    return color if HEX_COLOR.match(color or "") else ""


def readable_text_color(background: str) -> str:
    """White while it reaches WCAG AA's 4.5:1 on ``background`` (the tiles' look), else black,
    which then always does (white fails only above luminance 0.18, where black gives > 4.6).
    A colour that cannot be read leaves the tile without a background in the browser, so its
    text is black on the page's white."""
    if HEX_COLOR.match(background or "") is None:
        return BLACK
    return WHITE if contrast_ratio(background, WHITE) >= AA_NORMAL_TEXT else BLACK
