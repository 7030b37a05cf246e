"""Grounding: is a model's supporting quote really in the paper, and are its numbers?

Quotes are compared after normalising both sides the same way: NFKC (ligatures),
lower case, words hyphenated across line ends re-joined, quotes and dashes
unified, punctuation and whitespace collapsed. A claim passes when its quote is
found and every number it states occurs in the paper.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032"), "'") | dict.fromkeys(
    map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"'
)
_HYPHEN_BREAK = re.compile(r"(\w)-\s*\n\s*(\w)")
_NON_WORD = re.compile(r"[^\w%.]+")
# Numbers as written in claims: 28.4, 1,000, 92%, -0.5; not the '14 of WMT'14.
_NUMBER = re.compile(r"(?<![\w.'])[-+]?\d[\d,]*(?:\.\d+)?(?![\d])")
_MIN_QUOTE_CHARS = 12


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = text.replace("**", "").lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


def _canonical_number(token: str) -> str:
    token = token.replace(",", "").lstrip("+")
    if "." in token:
        token = token.rstrip("0").rstrip(".")
    return token


def numbers_in(text: str) -> set[str]:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    return {_canonical_number(m[0]) for m in _NUMBER.finditer(text)}


@dataclass
class GroundingCheck:
    quote_found: bool
    missing_numbers: list[str]

    @property
    def verified(self) -> bool:
        return self.quote_found and not self.missing_numbers


class PaperText:
    """The paper's text, normalised once, for checking many quotes against it."""

    def __init__(self, text: str):
        self.raw = text

    @cached_property
    def normalised(self) -> str:
        return normalise(self.raw)

    @cached_property
    def squeezed(self) -> str:
        # Without any spaces: tolerant of words split or joined differently by PDF extraction.
        return self.normalised.replace(" ", "")

    @cached_property
    def numbers(self) -> set[str]:
        return numbers_in(self.raw)

    def contains_quote(self, quote: str | None) -> bool:
        if not quote:
            return False
        needle = normalise(quote)
        if len(needle) < _MIN_QUOTE_CHARS:
            return False  # "the model" is found everywhere and proves nothing
        return needle in self.normalised or needle.replace(" ", "") in self.squeezed

    def check(self, claim: str, quote: str | None) -> GroundingCheck:
        """A claim is grounded when its quote is in the paper and so is every number it states."""
        stated = numbers_in(claim)
        # Small integers are usually counts or list positions ("3 stages"), not results to check.
        to_check = {n for n in stated if "." in n or len(n.lstrip("-")) >= 2}
        missing = sorted(n for n in to_check if n not in self.numbers)
        return GroundingCheck(self.contains_quote(quote), missing)
