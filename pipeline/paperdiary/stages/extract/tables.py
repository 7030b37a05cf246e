"""Tables and figure labels kept out of the prose; captions kept whole, out of the paragraph they interrupt.

pypdf reads a table row by row, each row one line of cells ("Baseline 21.5 0.42
17.1"); joined into the paragraphs around it, a table makes sentences such as
``Perplexity (↓) Unigram F1 (↑) Model Eval C2 …``. A table region is a run of
lines that read as cells, not prose: mostly numbers (or ↑, ↓, ✓, ✗), hardly a
function word, no sentence ending, and, for its header and label lines, set
apart from the text column (off its left margin, or in smaller type). A run
holding at least two rows of numbers is a table and goes; so do the scattered
labels and tick values of a figure drawn as text. The LaTeX and HTML sources
leave tables out the same way (their ``tabular`` and ``ltx_tabular``).

A caption ("Table 2: ...", "Figure 3: ...") stays, as a paragraph of its own;
when the float it belongs to interrupts a paragraph that goes on after it, the
caption moves past the end of that sentence, as footnotes do (:func:`.clean.move_footnotes`).
"""

from __future__ import annotations

import re
from collections import Counter

from paperdiary.stages.extract.layout import ENDS_SENTENCE, Line, Page

CAPTION = re.compile(r"^(?:Table|Tab\.|Figure|Fig\.)\s*[A-Z]?\d+[a-z]?\s*[:.|]")
_CELL_NUMBER = re.compile(
    r"[-+−±~∼≈<>≤≥]?(?:\d+(?:[.,]\d+)*|\.\d+)(?:[%×x]|[kKMBGT]\b|e[-−+]?\d+)?"
    r"|[-–—]|N/A|n/a|[✓✗✔✘•◦]+|\d+(?:\.\d+)?[×x]"
)
_SYMBOLS = re.compile(r"[↑↓✓✗✔✘]")
_FUNCTION_WORDS = frozenset(
    "the a an of in on to for with and or is are was were we our that this these by from as at it its be which "
    "not can than between into over has have when where while since because their they such also".split()
)
_EDGE = 3.0  # points: a line starting this close to a left margin (or a paragraph indent past it) is in the column
_INDENT = 25.0
_MIN_ROWS = 2  # rows of numbers that make a table
_CAPTION_REACH = 5  # lines: how far above a table of words its caption may start


def remove_tables(pages: list[Page], body_size: float) -> int:
    """Drop table regions and figure labels from every page (in place); returns how many lines went."""
    dropped = 0
    for page in pages:
        keep = _table_lines(page.lines, body_size)
        dropped += len(page.lines) - len(keep)
        page.lines = keep
    return dropped


def _table_lines(lines: list[Line], body_size: float) -> list[Line]:
    if len(lines) < _MIN_ROWS:
        return lines
    margins = _margins(lines, body_size)
    kinds = [_kind(line, margins, body_size) for line in lines]
    for i in range(1, len(lines) - 1):  # a line that could be cells counts as such between lines of cells
        if kinds[i] == "maybe" and kinds[i - 1] not in (None, "maybe") and kinds[i + 1] not in (None, "maybe"):
            kinds[i] = "cells"
    kinds = [None if k == "maybe" else k for k in kinds]
    captions = [i for i, line in enumerate(lines) if CAPTION.match(line.text)]
    drop: set[int] = set()
    i = 0
    while i < len(lines):
        if kinds[i] is None:
            i += 1
            continue
        j = i
        while j < len(lines) and kinds[j] is not None:
            j += 1
        rows = sum(1 for k in kinds[i:j] if k == "row")
        # Labels alone (a table of words, a figure's text) count beside a caption: just before or after it.
        captioned = j - i >= 2 and any(i - _CAPTION_REACH <= c < i or j <= c <= j + 1 for c in captions)
        if rows >= _MIN_ROWS or captioned:
            drop.update(range(i, j))
        i = j
    return [line for index, line in enumerate(lines) if index not in drop]


def _margins(lines: list[Line], body_size: float) -> list[float]:
    """The x where the page's columns of prose start: where several body-size lines of prose start."""
    counts: Counter[int] = Counter(
        round(line.x) for line in lines if line.x is not None and abs(line.size - body_size) < 0.6
        and sum(1 for w in line.text.lower().split() if w in _FUNCTION_WORDS) >= 2)
    return [float(x) for x, n in counts.items() if n >= 3]


def _in_column(line: Line, margins: list[float]) -> bool:
    if line.x is None or not margins:
        return True
    return any(-_EDGE <= line.x - margin <= _INDENT for margin in margins)


def _kind(line: Line, margins: list[float], body_size: float) -> str | None:
    """"row" for a line of cells with numbers, "cells" for one of labels set apart, "maybe" for a short line
    that could be either, None for prose and headings."""
    text = line.text
    if CAPTION.match(text):
        return None
    tokens = text.split()
    words = [t.strip("()[]{},;:.").lower() for t in tokens]
    function = sum(1 for w in words if w in _FUNCTION_WORDS)
    if ENDS_SENTENCE.search(text) and function >= 2:
        return None
    numbers = sum(1 for t in tokens if _CELL_NUMBER.fullmatch(t.strip("()[]{},;")))
    symbols = bool(_SYMBOLS.search(text))
    apart = not _in_column(line, margins) or line.size < body_size - 0.5
    if not apart and numbers < 2 and (line.size > body_size + 0.5 or line.bold):
        return None  # a heading
    if function <= max(1, len(tokens) // 8) and (
            (numbers >= 2 and numbers >= 0.4 * len(tokens)) or (symbols and (apart or numbers))):
        return "row"
    if function <= 1 and (apart or numbers == len(tokens)):
        return "cells"
    if function <= 1 and not ENDS_SENTENCE.search(text):
        return "maybe"  # "(A)", a row label: cells when between cells
    return None


def move_captions(lines: list[Line]) -> list[Line]:
    """Move a caption out of the paragraph its float interrupts, past the end of that paragraph's sentence.

    The caption runs from its "Table N:" line to the line that ends its text;
    the paragraph is interrupted when the line before the caption ends inside a
    sentence and the line after it goes on in lower case.
    """
    out = list(lines)
    i = 1
    while i < len(out):
        if not CAPTION.match(out[i].text):
            i += 1
            continue
        end = i
        while end + 1 < len(out) and not ENDS_SENTENCE.search(out[end].text) and end - i < 12:
            end += 1
        before, after = out[i - 1], out[end + 1] if end + 1 < len(out) else None
        if after is None or ENDS_SENTENCE.search(before.text) or not after.text[:1].islower():
            i = end + 1
            continue
        caption = out[i : end + 1]
        del out[i : end + 1]
        target = i
        while target < len(out) and not ENDS_SENTENCE.search(out[target].text):
            target += 1
        target = min(target + 1, len(out))
        out[target:target] = caption
        i = target + len(caption)
    return out
