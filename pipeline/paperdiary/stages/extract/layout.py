"""Lines as pypdf gives them, the page geometry they share, and the paragraphs they make.

pypdf gives no blank lines between paragraphs: a break is judged by layout
(a short line before, an indent, a gap, a change of font size, a bullet).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from paperdiary.stages.extract.hyphens import Vocabulary, join_lines


@dataclass
class Line:
    """One line of pypdf's plain-mode output, with the geometry of its first glyph."""

    text: str
    page: int
    x: float | None = None
    y: float | None = None
    size: float = 0.0  # font size in points that carries most of the line's characters
    bold: bool = False
    upright: bool = True
    spans: list[tuple[str, float]] = field(default_factory=list)  # (text, size) pieces; kept for page 1 only
    # Where each span starts on the page, (x, baseline y); None when pypdf does not say (see :mod:`.inline`).
    origins: list[tuple[float, float] | None] = field(default_factory=list)


@dataclass
class Page:
    """One page's lines, and how many characters of hidden text were dropped from it."""

    lines: list[Line]
    hidden_chars: int = 0


def same_size(a: float, b: float) -> bool:
    """Whether two type sizes are one: within half a point, as sizes read back from a PDF wobble."""
    return abs(a - b) < 0.5


def letters(text: str) -> int:
    """How many letters ``text`` has."""
    return sum(c.isalpha() for c in text)


ENDS_SENTENCE = re.compile(r"[.!?:][\"'”’)\]]*$")
_OPENERS = "0123456789([“\"‘'∗*†‡§"  # besides capitals, what a new paragraph may start with
_BULLET = re.compile(r"^[•◦▪‣∙·*–]\s")
_ENUMERATION = re.compile(r"^(?:\(?(?:[ivx]{1,4}|[a-h]|\d{1,2})\)|\d{1,2}\.)\s+[A-Z(]")


@dataclass
class Layout:
    """Per-document numbers the paragraph rules compare against."""

    body_size: float
    leading: float
    full_length: dict[int, int]  # page -> characters in a full line
    x_counts: dict[int, Counter[int]]  # page -> how many lines start at each x (rounded)

    @classmethod
    def of(cls, lines: list[Line]) -> Layout:
        sizes: Counter[float] = Counter()
        for line in lines:
            sizes[line.size] += len(line.text)
        body_size = sizes.most_common(1)[0][0] if sizes else 10.0
        steps = [
            a.y - b.y
            for a, b in pairwise(lines)
            if a.page == b.page and a.y is not None and b.y is not None and same_size(a.size, body_size)
            and same_size(b.size, body_size) and 0.8 * body_size < a.y - b.y < 2.5 * body_size
        ]
        leading = sorted(steps)[len(steps) // 2] if steps else 1.2 * body_size
        by_page: dict[int, list[int]] = {}
        x_counts: dict[int, Counter[int]] = {}
        for line in lines:
            if same_size(line.size, body_size):
                by_page.setdefault(line.page, []).append(len(line.text))
                if line.x is not None:
                    x_counts.setdefault(line.page, Counter())[round(line.x)] += 1
        full = {page: sorted(lengths)[int(0.8 * (len(lengths) - 1))] for page, lengths in by_page.items()}
        return cls(body_size, leading, full, x_counts)

    def short(self, line: Line) -> bool:
        return len(line.text) < 0.75 * self.full_length.get(line.page, 80)

    def indented(self, line: Line) -> bool:
        """Starts 3-25 pt right of an x where more lines of its page start (a paragraph indent)."""
        if line.x is None:
            return False
        counts = self.x_counts.get(line.page, Counter())
        x = round(line.x)
        mine = sum(counts[x + d] for d in (-1, 0, 1))
        return any(counts[m] >= 3 and counts[m] > mine for m in range(x - 25, x - 2))

    def gap(self, before: Line, after: Line) -> float:
        """Vertical space between two lines in units of leading (0 across pages and columns)."""
        if before.page != after.page or before.y is None or after.y is None or after.y >= before.y:
            return 0.0
        return (before.y - after.y) / self.leading


_CAPTION = re.compile(r"^(?:Table|Tab\.|Figure|Fig\.)\s*[A-Z]?\d+[a-z]?\s*[:.|]")
_SPLIT_AT_END = re.compile(r"[^\W\d_]{2,}[-\u2010\u00ad]$")


def _paragraph_break(before: Line, after: Line, layout: Layout) -> bool:
    """Whether ``after`` starts a new paragraph (pypdf gives no blank lines: judge by layout)."""
    if _SPLIT_AT_END.search(before.text) and after.text[:1].islower():
        return False  # "com-" / "parable": a word goes on, whatever the layout says
    if _BULLET.match(after.text) or abs(before.size - after.size) > 0.6 or _CAPTION.match(after.text):
        return True  # a list item, a footnote (9 pt under 10 pt text), a caption
    if not ENDS_SENTENCE.search(before.text) and after.text[:1].islower():
        return layout.gap(before, after) > 3.0  # a sentence going on, past a formula pypdf set on a line of its own
    if _ENUMERATION.match(after.text) and before.text.endswith((".", ":", ";")):
        return True  # "1. We..." after a finished sentence; not "...a batch size of" / "8. We show"
    gap = layout.gap(before, after)
    if gap > 2.0:
        return True
    if not ENDS_SENTENCE.search(before.text) or not (after.text[0].isupper() or after.text[0] in _OPENERS):
        return False
    return layout.short(before) or layout.indented(after) or gap > 1.3


def paragraphs(lines: list[Line], layout: Layout, vocab: Vocabulary) -> str:
    """Text with one paragraph per line-joined run, paragraphs separated by a blank line."""
    paragraphs: list[list[str]] = []
    for i, line in enumerate(lines):
        if i == 0 or _paragraph_break(lines[i - 1], line, layout):
            paragraphs.append([])
        paragraphs[-1].append(line.text)
    return "\n\n".join(join_lines(p, vocab) for p in paragraphs)
