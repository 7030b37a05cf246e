"""Cleaning the lines: NFKC (ligatures), the arXiv side stamp, page numbers, running headers, footnotes.

Furniture is removed from the top and foot lines of pages only: a running header
recurs, digits aside, at the same height on many pages. Footnotes that pypdf
emits in the middle of a paragraph running over a page break are moved past it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

from paperdiary.stages.extract.layout import ENDS_SENTENCE, Line, Page, same_size


def normalize_line(text: str) -> str:
    """NFKC (ligatures, compatibility forms), no control characters, single spaces.

    A soft hyphen survives only at the end, where it tells ``join_lines`` to join.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    soft_end = text.endswith("\u00ad")
    text = "".join(c if c.isprintable() else " " for c in text.replace("\u00ad", ""))
    return " ".join(text.split()) + ("\u00ad" if soft_end else "")


STAMP = re.compile(
    r"arXiv:\s*(\d{4}\.\d{4,5}(?:\s*v\s*\d+)?|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(?:\s*v\s*\d+)?)"
    r"\s*\[[^\]]{2,25}\]\s*\d{1,2}\s*[A-Z][a-z]{2}\s*\d{4}"
)
_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?|[ivxlc]{1,7}|[-–—]\s*\d{1,4}\s*[-–—]", re.IGNORECASE
)
BANNER = re.compile(
    r"^(?:published as a (?:conference|workshop) paper at|under review as a conference paper|"
    r"preprint\b|proceedings of|\d+(?:st|nd|rd|th) conference on|accepted (?:at|to|as|in)\b|"
    r"workshop on\b|copyright\b|©|to appear in\b|in submission to\b)",
    re.IGNORECASE,
)
_LETTER_SPACED = re.compile(r"(?:\S ){10}")  # "a r X i v : 1 7 0 6 ..."
_EDGE_LINES = 3  # how many lines at a page's top and foot can be furniture


def normalize_pages(pages: list[Page]) -> None:
    """NFKC every line, drop empty ones (in place)."""
    for page in pages:
        for line in page.lines:
            line.text = normalize_line(line.text)
        page.lines = [line for line in page.lines if line.text]


def remove_stamp(pages: list[Page]) -> str | None:
    """Remove the arXiv side stamp and return its ID.

    pypdf gives the stamp as a line ("arXiv:1706.03762v5 [cs.CL] 6 Dec 2017"), as a
    letter-spaced line ("a r X i v : 1 7 0 6 ...") or as a run of one-glyph lines.
    """
    stamp_id = None
    for page in pages:
        kept: list[Line] = []
        lines = page.lines
        i = 0
        while i < len(lines):
            run_end = i
            while run_end < len(lines) and len(lines[run_end].text) <= 2:
                run_end += 1
            if run_end - i >= 12 and (match := STAMP.search("".join(line.text for line in lines[i:run_end]))):
                stamp_id = stamp_id or _stamp_id(match)
                i = run_end
                continue
            line = lines[i]
            i += 1
            line.text, found = _cut_stamp(line.text)
            stamp_id = stamp_id or found
            if line.text:
                kept.append(line)
        page.lines = kept
    return stamp_id


def _cut_stamp(text: str) -> tuple[str, str | None]:
    """The line without the stamp, and the stamp's ID; the stamp may be letter-spaced inside it."""
    if match := STAMP.search(text):
        return (text[: match.start()] + text[match.end() :]).strip(), _stamp_id(match)
    if not _LETTER_SPACED.search(text):
        return text, None
    # Match on the text without spaces, then map the match back onto the line.
    kept = [i for i, c in enumerate(text) if c != " "]
    if not (match := STAMP.search("".join(text[i] for i in kept))):
        return text, None
    start, end = kept[match.start()], kept[match.end() - 1] + 1
    return (text[:start] + text[end:]).strip(), _stamp_id(match)


def _stamp_id(match: re.Match[str]) -> str:
    return re.sub(r"\s+", "", match.group(1))


def _edge_indices(page: Page) -> list[int]:
    n = len(page.lines)
    return sorted(set(range(min(_EDGE_LINES, n))) | set(range(max(0, n - _EDGE_LINES), n)))


def _furniture_key(line: Line) -> tuple[str, int | None]:
    """Text with digits masked, and height on the page: a running header recurs at the same place."""
    height = None if line.y is None else round(line.y / 4)
    return re.sub(r"\d+", "#", " ".join(line.text.lower().split())), height


def remove_furniture(pages: list[Page]) -> None:
    """Remove page numbers, banners and running headers/footers from the pages' top and foot lines.

    A running header is a top or foot line that recurs, digits aside, at the same
    height on many pages; a line ending inside a word or sentence ("unsta-") is text.
    """
    recurring: Counter[tuple[str, int | None]] = Counter()
    for page in pages:
        recurring.update({_furniture_key(page.lines[i]) for i in _edge_indices(page)})
    threshold = max(3, math.ceil(0.3 * len(pages)))

    def furniture(line: Line) -> bool:
        if _PAGE_NUMBER.fullmatch(line.text) or BANNER.match(line.text):
            return True
        return recurring[_furniture_key(line)] >= threshold and not line.text.endswith(("-", ","))

    for page in pages:
        drop = {i for i in _edge_indices(page) if furniture(page.lines[i])}
        page.lines = [line for i, line in enumerate(page.lines) if i not in drop]


def move_footnotes(lines: list[Line], body_size: float) -> list[Line]:
    """Move a page's footnotes past the paragraph that runs over onto the next page.

    pypdf emits footnotes after the page's last body line: left there, they would
    cut that paragraph in two. Footnotes are the small print ending a page, between
    a body line that does not end a sentence and a lowercase body line.
    """
    out = list(lines)
    i = 0
    while i + 1 < len(out):
        if out[i].page == out[i + 1].page or not _is_small(out[i], body_size):
            i += 1
            continue
        start = i
        while start > 0 and out[start - 1].page == out[i].page and _is_small(out[start - 1], body_size):
            start -= 1
        before, after = (out[start - 1] if start else None), out[i + 1]
        if before is None or not _continues(before, after, body_size):
            i += 1
            continue
        run = out[start : i + 1]
        del out[start : i + 1]
        target = start  # after the line that ends the continued paragraph's sentence, else at the page end
        while target < len(out) and out[target].page == after.page:
            target += 1
            if ENDS_SENTENCE.search(out[target - 1].text):
                break
        out[target:target] = run
        i = target + len(run)
    return out


def _continues(before: Line, after: Line, body_size: float) -> bool:
    """Whether ``after`` carries on the sentence of ``before`` (both body text)."""
    body = same_size(before.size, body_size) and same_size(after.size, body_size)
    return body and not ENDS_SENTENCE.search(before.text) and after.text[:1].islower()


def _is_small(line: Line, body_size: float) -> bool:
    return 0 < line.size < body_size - 0.8
