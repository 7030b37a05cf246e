"""Whether text can be seen: colours as PDF, CSS and LaTeX's xcolor write them, their contrast, the smallest type.

Text nobody sees is a prompt-injection vector, in a PDF (:mod:`.extract.visibility`),
an HTML rendering (:mod:`.sources.latexml`) or a LaTeX source (:mod:`.sources.tex`)
alike, so the three judge it by the same two numbers: the contrast of the text's
colour against what is behind it (WCAG's ratio, 1 for the same colour, 21 for
black on white) and the size of its type.
"""

from __future__ import annotations

import colorsys
import re

RGB = tuple[float, float, float]  # components in [0, 1]
WHITE: RGB = (1.0, 1.0, 1.0)
BLACK: RGB = (0.0, 0.0, 0.0)

# Below this contrast ratio text does not stand out from its background: 250,250,250 on white is 1.04, a 90% grey
# 1.26; the lightest grey papers set text in (a 80% grey, xcolor's gray!20) is 1.6.
MIN_CONTRAST = 1.3
MIN_TYPE_PT = 1.5  # type smaller than this nobody reads
MIN_OPACITY = 0.1  # text more transparent than this is not seen


def luminance(colour: RGB) -> float:
    """WCAG 2's relative luminance of an sRGB colour."""
    def linear(c: float) -> float:
        c = min(max(c, 0.0), 1.0)
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG 2's contrast ratio of two colours, from 1 (the same) to 21 (black and white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def legible(colour: RGB, background: RGB = WHITE) -> bool:
    """Whether text in ``colour`` stands out from ``background`` enough to be read."""
    return contrast(colour, background) >= MIN_CONTRAST


def blend(colour: RGB, background: RGB, opacity: float) -> RGB:
    """``colour`` painted at ``opacity`` over ``background``."""
    opacity = min(max(opacity, 0.0), 1.0)
    return (colour[0] * opacity + background[0] * (1 - opacity), colour[1] * opacity + background[1] * (1 - opacity),
            colour[2] * opacity + background[2] * (1 - opacity))


def from_components(values: list[float]) -> RGB | None:
    """A PDF device colour: 1 component grey, 3 RGB, 4 CMYK; None for anything else."""
    if len(values) == 1:
        return (values[0], values[0], values[0])
    if len(values) == 3:
        return (values[0], values[1], values[2])
    if len(values) == 4:
        c, m, y, k = values
        return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    return None


# ------------------------------------------------------------------ names

# The named colours papers and pages use for text or backgrounds: CSS's and xcolor's base and dvips sets,
# the light ones all included (those are the ones that hide text).
NAMED: dict[str, RGB] = {
    "white": WHITE, "black": BLACK, "red": (1, 0, 0), "green": (0, 0.5, 0), "blue": (0, 0, 1),
    "cyan": (0, 1, 1), "magenta": (1, 0, 1), "yellow": (1, 1, 0), "gray": (0.5, 0.5, 0.5),
    "grey": (0.5, 0.5, 0.5), "darkgray": (0.25, 0.25, 0.25), "lightgray": (0.75, 0.75, 0.75),
    "brown": (0.75, 0.5, 0.25), "lime": (0.75, 1, 0), "olive": (0.5, 0.5, 0), "orange": (1, 0.5, 0),
    "pink": (1, 0.75, 0.75), "purple": (0.75, 0, 0.25), "teal": (0, 0.5, 0.5), "violet": (0.5, 0, 0.5),
    "snow": (1, 0.98, 0.98), "ivory": (1, 1, 0.94), "ghostwhite": (0.97, 0.97, 1), "whitesmoke": (0.96, 0.96, 0.96),
    "floralwhite": (1, 0.98, 0.94), "seashell": (1, 0.96, 0.93), "mintcream": (0.96, 1, 0.98),
    "azure": (0.94, 1, 1), "aliceblue": (0.94, 0.97, 1), "honeydew": (0.94, 1, 0.94), "linen": (0.98, 0.94, 0.9),
    "oldlace": (0.99, 0.96, 0.9), "lavenderblush": (1, 0.94, 0.96), "gainsboro": (0.86, 0.86, 0.86),
    "silver": (0.75, 0.75, 0.75), "lightgrey": (0.83, 0.83, 0.83), "beige": (0.96, 0.96, 0.86),
    "transparent": WHITE,
}


# ------------------------------------------------------------------ CSS

_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})\b", re.I)
_FUNCTION = re.compile(r"(rgba?|hsla?)\(\s*([^)]*)\)", re.I)


def css_colour(value: str) -> tuple[RGB, float] | None:
    """(colour, opacity) of a CSS colour value (``#fafafa``, ``rgb(250 250 250)``, ``rgba(0,0,0,.05)``,
    ``hsl(0 0% 98%)``, ``white``); None when it is not one of those."""
    value = value.strip().lower()
    if value in NAMED:
        return NAMED[value], 0.0 if value == "transparent" else 1.0
    if match := _HEX.fullmatch(value):
        digits = match.group(1)
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        rgb = tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return (rgb[0], rgb[1], rgb[2]), alpha
    if match := _FUNCTION.fullmatch(value):
        parts = [p for p in re.split(r"[\s,/]+", match.group(2).strip()) if p]
        if len(parts) < 3:
            return None
        try:
            alpha = _css_number(parts[3], 1.0) if len(parts) > 3 else 1.0
            if match.group(1).startswith("rgb"):
                r, g, b = (_css_number(p, 255.0) for p in parts[:3])
                return (r, g, b), alpha
            hue = float(parts[0].removesuffix("deg")) / 360
            saturation, lightness = _css_number(parts[1], 1.0), _css_number(parts[2], 1.0)
            r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
            return (r, g, b), alpha
        except ValueError:
            return None
    return None


def _css_number(text: str, scale: float) -> float:
    """A CSS number or percentage as a fraction of ``scale`` (255 for rgb components, 1 for alpha)."""
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text) / scale


_CSS_SIZE = re.compile(r"([\d.]+)\s*(px|pt|em|rem|%|ex|ch|vw|vh|mm|cm|in|pc)?", re.I)
_POINTS_PER = {"pt": 1.0, "px": 0.75, "em": 12.0, "rem": 12.0, "%": 0.12, "ex": 6.0, "ch": 6.0, "mm": 2.835,
               "cm": 28.35, "in": 72.0, "pc": 12.0}


def css_points(value: str) -> float | None:
    """A CSS font size in points (relative units against a 12 pt default); None for keywords and viewport units."""
    match = _CSS_SIZE.fullmatch(value.strip())
    if not match:
        return None
    unit = (match.group(2) or "px").lower()
    if unit not in _POINTS_PER:
        return None
    try:
        return float(match.group(1)) * _POINTS_PER[unit]
    except ValueError:
        return None


# ------------------------------------------------------------------ xcolor

def xcolor(model: str | None, spec: str, defined: dict[str, RGB] | None = None) -> RGB | None:
    """A LaTeX colour: ``\\color[rgb]{1,1,1}`` (model and spec), ``\\color{white}``, ``gray!10``,
    ``white!90!black``, or a name ``\\definecolor`` gave (``defined``); None when it cannot be told."""
    spec = spec.strip()
    if model:
        return _xcolor_model(model.strip(), spec)
    return _xcolor_expression(spec, defined or {})


def _xcolor_model(model: str, spec: str) -> RGB | None:
    try:
        values = [float(v) for v in re.split(r"[\s,]+", spec) if v] if model.lower() != "html" else []
        if model == "rgb" and len(values) == 3:
            return (values[0], values[1], values[2])
        if model == "RGB" and len(values) == 3:
            return (values[0] / 255, values[1] / 255, values[2] / 255)
        if model in ("gray", "Gray") and len(values) == 1:
            level = values[0] / (15 if model == "Gray" else 1)
            return (level, level, level)
        if model == "cmyk" and len(values) == 4:
            return from_components(values)
        if model == "cmy" and len(values) == 3:
            return (1 - values[0], 1 - values[1], 1 - values[2])
        if model.lower() == "html" and re.fullmatch(r"[0-9a-fA-F]{6}", spec):
            return (int(spec[0:2], 16) / 255, int(spec[2:4], 16) / 255, int(spec[4:6], 16) / 255)
        if model == "hsb" and len(values) == 3:
            r, g, b = colorsys.hsv_to_rgb(values[0], values[1], values[2])
            return (r, g, b)
    except ValueError:
        return None
    return None


def _xcolor_expression(spec: str, defined: dict[str, RGB]) -> RGB | None:
    """``name``, ``name!pct``, ``name!pct!other`` (xcolor's mixing; the rest is mixed with white)."""
    parts = [p.strip() for p in spec.split("!")]
    colour = _xcolor_name(parts[0], defined)
    if colour is None:
        return None
    rest = parts[1:]
    while rest:
        try:
            share = float(rest[0]) / 100
        except ValueError:
            return None
        other = _xcolor_name(rest[1], defined) if len(rest) > 1 else WHITE
        if other is None:
            return None
        colour = blend(colour, other, share)
        rest = rest[2:]
    return colour


def _xcolor_name(name: str, defined: dict[str, RGB]) -> RGB | None:
    if name.startswith("-"):  # xcolor's complement
        colour = _xcolor_name(name[1:], defined)
        return (1 - colour[0], 1 - colour[1], 1 - colour[2]) if colour else None
    return defined.get(name) or NAMED.get(name.lower())
