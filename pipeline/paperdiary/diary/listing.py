"""What a diary's index pages say about its entries: where each is listed, under which headings, as what.

An index page (the README, a ``README_timeline.md``, a ``papers_in_other_topics.md``) lists entries as
list items or paragraphs that link them, under headings that may date them::

    #### 2016-11 (ICLR Edition)                    a month
    - [Dual Learning for Machine Translation](notes/dual-learning-mt.md) [[arXiv](https://arxiv.org/abs/1611.00179)]

    ## 2025                                        a year, for the months below it
    ### October
    * 11th: [Beyond the 80/20 Rule](<entries/October 2025/x.md>): RLVR on forking tokens.   a day

    ### Winter 2020                                 an academic term
    * Some Paper [[link](https://arxiv.org/abs/…)] [[notes](papers/some-paper.md)]

A link names an entry when it resolves to a markdown file of the diary: relatively from the page, from the
diary's root (``/notes/x.md``), or as a GitHub URL of this repository's file
(``https://github.com/me/diary/blob/main/notes/x.md``). The :class:`Listing` of each such link gives the
title the index uses (the link's text, or the item's own words when the link reads "notes"), the date its
headings and the start of its line give, and the arXiv IDs of the item's other links. Headings that name
no date ("Before", "To Read", "Robotics") date nothing.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as calendar_day
from urllib.parse import unquote

from paperdiary.diary.dates import PartialDate, Precision, heading_date, parse_written
from paperdiary.diary.markdown import Document, Link, parse
from paperdiary.diary.readme import plain_text
from paperdiary.stages.entry import arxiv_ids

# Link text that names the kind of link, not the paper: the title is then the item's own words.
_GENERIC = {"notes", "note", "link", "links", "here", "md", "markdown", "pdf", "paper", "arxiv", "read", "summary",
            "my notes", "review", "post", "blog", "details", "more", "entry", "file", "source", "html", "code",
            "ppt", "slides", "url", "web", "view", "open"}
_GITHUB_FILE = re.compile(r"^https?://(?:www\.)?github\.com/[^/]+/[^/]+/(?:blob|tree|raw)/[^/]+/(.+)$"
                          r"|^https?://raw\.githubusercontent\.com/[^/]+/[^/]+/[^/]+/(.+)$", re.I)
_STATUS = re.compile(r"^(?:\[[ xX]\]\s*|:[a-z_+-]+:\s*|[^\w\s(\[*_\"'“‘`<]+\s*)+")  # "[x] ", ":star: ", "⭐ ✔️ "
_DATED_START = re.compile(r"^\W{0,3}(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}(?:st|nd|rd|th)?(?:\s+[A-Za-z]{3,9}\.?)?"
                          r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?)\s*(?:[:–—-]|(?=\[))", re.I)


@dataclass(frozen=True)
class Listing:
    """One entry as one index page lists it."""

    page: str  # the index page, diary-relative
    line: int  # where the item starts (0-based)
    target: str  # the entry it links, diary-relative, as the walk spells it
    title: str  # what the index calls it, plain text ("" when it only says "notes")
    headings: tuple[str, ...]  # the headings it is under, outermost first, plain text
    date: PartialDate | None  # what its headings and the start of its line say
    arxiv_ids: tuple[str, ...]  # what the item's other links name

    def as_json(self) -> dict[str, object]:
        return {"page": self.page, "line": self.line, "target": self.target, "title": self.title,
                "headings": list(self.headings), "date": self.date.as_json() if self.date else None,
                "arxiv_ids": list(self.arxiv_ids)}

    @classmethod
    def from_json(cls, data: dict) -> Listing:
        return cls(str(data["page"]), int(data["line"]), str(data["target"]), str(data["title"]),
                   tuple(data["headings"]), PartialDate.from_json(data["date"]) if data["date"] else None,
                   tuple(data["arxiv_ids"]))


def resolve_target(link: Link, page: str, known: Callable[[str], str | None]) -> str | None:
    """The diary file a link names (via ``known``: a diary-relative path -> the walk's spelling, or None)."""
    if link.image or link.dest is None and not link.href:
        return None
    if link.local:
        path = link.path
        folder = page.rpartition("/")[0]
        joined = path.lstrip("/") if path.startswith("/") else posixpath.join(folder, path)
        normal = posixpath.normpath(joined)
        return None if normal.startswith("../") or normal == ".." else known(normal)
    if m := _GITHUB_FILE.match(link.href.split("#", 1)[0].split("?", 1)[0]):
        return known(unquote(m[1] or m[2]))
    return None


def _item_blocks(doc: Document) -> list[tuple[int, int, int]]:
    """(start, end, own end) of each list item or top-level paragraph: ``own end`` is where its own text ends
    (before a nested list)."""
    out = []
    for n, block in enumerate(doc.blocks):
        if block.kind == "list_item":
            nested = [b.start for b in doc.children(n) if b.kind in ("bullet_list", "ordered_list")]
            out.append((block.start, block.end, min(nested, default=block.end)))
        elif block.kind == "paragraph" and block.depth == 0:
            out.append((block.start, block.end, block.end))
        elif block.kind == "table":
            out += [(line, line + 1, line + 1) for line in range(block.start, block.end)]
    return out


def _clean_title(markdown: str) -> str:
    """An item's own words as a title: no status marks, trailing "(Jul 2019)" or "[Transformer]" notes."""
    text = re.sub(r"!?\[[^\]]*\]\([^)]*\)|\[\[[^\]]*\]\([^)]*\)\]", " ", markdown)  # links left in the prefix
    emphasised = re.match(r"^\W*?(?:\*\*|\*|__|_)(?=\S)(.+?)(?<=\S)(?:\*\*|\*|__|_)(?!\w)", _STATUS.sub("", text.strip()))
    text = emphasised[1] if emphasised else text
    words = plain_text(text)
    words = re.sub(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`", "", words)
    words = _STATUS.sub("", words.strip())
    while True:
        trimmed = re.sub(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])\s*$", "", words).rstrip(" -–—:,;")
        if trimmed == words or not trimmed:
            break
        words = trimmed
    return " ".join(words.split())


def read_listings(page: str, text: str, known: Callable[[str], str | None]) -> list[Listing]:
    """Every entry an index page lists, in page order (an entry linked twice is listed twice)."""
    doc = parse(text)
    lines = doc.lines
    items = _item_blocks(doc)
    headings = sorted(doc.headings, key=lambda h: h.line)
    out: list[Listing] = []
    for start, _, own_end in items:
        links = [link for link in doc.links_in(start, own_end) if not link.image]
        targets = [(link, target) for link in links if (target := resolve_target(link, page, known))]
        if not targets:
            continue
        above = [h for h in headings if h.line < start]
        stack: list[tuple[int, str]] = []
        for h in above:
            while stack and stack[-1][0] >= h.level:
                stack.pop()
            stack.append((h.level, h.plain))
        date = _date_of(stack)
        own = "".join(lines[start:own_end])
        first_link = min(link.span.start for link, _ in targets) - doc.offset(start)
        prefix = re.sub(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+", "", own[:max(first_link, 0)])
        if date is not None and (m := _DATED_START.match(_STATUS.sub("", plain_text(prefix).strip()) or "")):
            line_date = heading_date(m[1], date.year)
            if line_date and line_date.precision is Precision.DAY and (
                    not line_date.month or date.precision is Precision.MONTH and line_date.month == date.month):
                date = PartialDate(date.year, date.month, line_date.day, Precision.DAY, f"{date.text} {m[1]}")
            elif re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?", m[1].strip(), re.I) and date.precision is Precision.MONTH:
                day = int(re.match(r"\d+", m[1])[0])  # type: ignore[index]
                if PartialDate(date.year, date.month, day).first_day():
                    date = PartialDate(date.year, date.month, day, Precision.DAY, f"{date.text} {m[1]}")
        if date is None or date.precision is not Precision.DAY:
            date = _written_day(plain_text(prefix), date) or date
        others = " ".join(link.href for link in links if not any(link is t for t, _ in targets))
        ids = tuple(arxiv_ids(others))
        for link, target in targets:
            label = " ".join(plain_text(link.text).replace("[", " ").replace("]", " ").split())
            label = re.sub(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`", "", label)
            title = label if label and label.casefold() not in _GENERIC and re.search(r"[^\W\d_]", label) else ""
            if not title:
                # The item's words before its first link: "* Some Paper [[link](…)] [[notes](…)]".
                first = min(other.span.start for other in links) - doc.offset(start)
                before = re.sub(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+", "", own[:max(first, 0)]).rstrip(" \t[(")
                title = _clean_title(before.replace("\n", " "))
            out.append(Listing(page, start, target, title, tuple(name for _, name in stack), date, ids))
    return out


def _written_day(text: str, heading: PartialDate | None) -> PartialDate | None:
    """A full, unambiguous date written on the item's line before its link (a table's date cell,
    ``2024-03-02 [Title](…)``), when no heading gives the day; never one that contradicts the heading's year."""
    written = parse_written(text)
    if written is None or written.no_year or len(set(written.readings)) != 1:
        return None
    year, month, day = written.readings[0]
    if not 1990 <= year <= calendar_day.today().year + 1 or heading is not None and heading.year not in (0, year):
        return None
    found = PartialDate(year, month, day, Precision.DAY, written.text)
    return found if found.first_day() else None


def _date_of(stack: list[tuple[int, str]]) -> PartialDate | None:
    """The date the headings above an item give: the innermost dated one, a year above it filling in."""
    year = 0
    found: PartialDate | None = None
    for _, name in stack:
        date = heading_date(name, year)
        if date is None:
            continue
        if date.precision is Precision.YEAR:
            year, found = date.year, date
        else:
            found = date
            year = date.year or year
    return found


def walk_spelling(paths: list[str]) -> Callable[[str], str | None]:
    """``known`` for :func:`read_listings`: a path as an index writes it -> the walk's spelling (NFC-insensitive)."""
    by_nfc = {unicodedata.normalize("NFC", path): path for path in paths}

    def known(path: str) -> str | None:
        return by_nfc.get(unicodedata.normalize("NFC", path))
    return known
