"""Glyphs pypdf cannot decode, taken from pdfium's reading of the same page.

Some fonts of real arXiv PDFs come out of pypdf as control characters: every
"×" of FlashAttention (2205.14135) is ``\\x02``, its parentheses "„" and "”".
pdfium decodes them. pypdf stays the reader (its geometry, reading order and
visibility checks drive the rest of the extraction); on a page whose text holds
undecodable glyphs, pdfium's text of the page is aligned with pypdf's
(whitespace aside) and, where the two differ, pdfium's characters replace
pypdf's when pypdf's hold an undecodable glyph or pdfium's are symbols. Text
pdfium has and pypdf has not is never added: it may be text nobody sees, which
pypdf's pass dropped. pdfium's own artefacts (``\\ufffe`` where a word was
hyphenated, control characters) are never taken.
"""

from __future__ import annotations

import logging
import re
from difflib import SequenceMatcher
from typing import Any

from paperdiary.stages.extract.layout import Line

log = logging.getLogger(__name__)

# Control characters but tab and newline, C1 controls, U+FFFD, pdfium's U+FFFE, the private use area.
UNDECODABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ufffe\ue000-\uf8ff]")
_MAX_EXTRA = 2  # pdfium may spell a glyph with this many more characters (a ligature), never more


def undecodable(text: str) -> int:
    """How many undecodable glyphs ``text`` holds."""
    return len(UNDECODABLE.findall(text))


class PdfiumText:
    """pdfium's text of a PDF's pages, the document opened on first use."""

    def __init__(self, data: bytes):
        self._data = data
        self._document: Any = None
        self._failed = False

    def page(self, index: int) -> str | None:
        """The text of page ``index`` (0-based); None when pdfium cannot read it."""
        if self._failed:
            return None
        try:
            if self._document is None:
                import pypdfium2

                self._document = pypdfium2.PdfDocument(self._data)
            return str(self._document[index].get_textpage().get_text_range())
        except Exception as exc:  # (pdfium raises its own errors on broken files: then pypdf's text stands)
            log.debug("pdfium cannot read page %d: %s", index + 1, exc)
            self._failed = self._document is None
            return None

    def close(self) -> None:
        if self._document is not None:
            self._document.close()
            self._document = None


def repair(lines: list[Line], reference: str) -> int:
    """Put pdfium's characters (``reference``, its text of the page) where pypdf's ``lines`` lost glyphs.

    Works on the lines' spans, whose texts make up each line's text, and rebuilds
    the lines' texts from them. Returns how many undecodable glyphs were replaced.
    """
    ours: list[str] = []  # pypdf's non-space characters, in order
    where: list[tuple[int, int, int]] = []  # (line, span, offset) of each
    our_lines: list[int] = []  # where each line starts in ``ours``
    for li, line in enumerate(lines):
        our_lines.append(len(ours))
        line.spans = list(line.spans or [(line.text, line.size)])
        for si, (piece, _size) in enumerate(line.spans):
            for ci, char in enumerate(piece):
                if not char.isspace():
                    ours.append(char)
                    where.append((li, si, ci))
    theirs: list[str] = []
    their_lines: list[int] = []
    for their_line in reference.splitlines():
        their_lines.append(len(theirs))
        theirs.extend(c for c in their_line if not c.isspace() and c != "\ufffe")
    edits: dict[tuple[int, int, int], str] = {}
    recovered = 0
    for i1, i2, j1, j2 in _differences(ours, our_lines, theirs, their_lines):
        mine, pdfium = "".join(ours[i1:i2]), "".join(theirs[j1:j2])
        if not mine or not pdfium or UNDECODABLE.search(pdfium) or len(pdfium) > len(mine) + _MAX_EXTRA:
            continue
        lost = undecodable(mine)
        if not lost and any(c.isalnum() for c in pdfium):
            continue  # letters and digits pypdf decoded stand ("ﬁ" against "fi")
        recovered += lost
        edits[where[i1]] = pdfium
        for position in where[i1 + 1 : i2]:
            edits[position] = ""
    if edits:
        _apply(lines, edits)
    return recovered


def _differences(ours: list[str], our_lines: list[int], theirs: list[str],
                 their_lines: list[int]) -> list[tuple[int, int, int, int]]:
    """Where the two texts differ: (i1, i2, j1, j2) character ranges, ``ours[i1:i2]`` standing for ``theirs[j1:j2]``.

    Lines are matched first (both engines break a page into the same lines, mostly),
    then characters inside the runs of lines that differ: fast on long pages.
    """
    def split(chars: list[str], starts: list[int]) -> list[str]:
        ends = [*starts[1:], len(chars)]
        return ["".join(chars[a:b]) for a, b in zip(starts, ends, strict=False)]

    mine, other = split(ours, our_lines), split(theirs, their_lines)
    blocks: list[tuple[int, int, int, int]] = []
    for tag, l1, l2, k1, k2 in SequenceMatcher(None, mine, other, autojunk=False).get_opcodes():
        if tag != "replace":
            continue
        i0 = our_lines[l1]
        i_end = our_lines[l2] if l2 < len(our_lines) else len(ours)
        j0 = their_lines[k1]
        j_end = their_lines[k2] if k2 < len(their_lines) else len(theirs)
        matcher = SequenceMatcher(None, ours[i0:i_end], theirs[j0:j_end], autojunk=False)
        blocks += [(i0 + a1, i0 + a2, j0 + b1, j0 + b2) for op, a1, a2, b1, b2 in matcher.get_opcodes()
                   if op == "replace"]
    return blocks


def _apply(lines: list[Line], edits: dict[tuple[int, int, int], str]) -> None:
    for li, line in enumerate(lines):
        spans = []
        changed = False
        for si, (piece, size) in enumerate(line.spans):
            if any((li, si, ci) in edits for ci in range(len(piece))):
                piece = "".join(edits.get((li, si, ci), char) for ci, char in enumerate(piece))
                changed = True
            spans.append((piece, size))
        if changed:
            line.spans = spans
            line.text = "".join(piece for piece, _ in spans)

