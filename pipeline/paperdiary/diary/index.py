"""The README's chronological index (the Full Diary), from the catalog: found wherever the diarist keeps it,
and only ever extended.

    ## Full Diary
    ### June 2025
    * 11th: [Beyond the 80/20 Rule](entries/June%202025/11thJuneTokenEntropyRLVR.md): RLVR on forking tokens.

**Finding it.** The section is the diary's own index, whatever its heading's level, emoji or wording: the
heading ``index_heading`` (or ``--heading``) names; else a heading that says so ("Full Diary", "Reading
log", "Papers read"...); else the heading whose sub-headings are periods ("June 2025",
"2018-02", "### October" under "## 2025", "Winter 2020", "2019"); else a run of such period headings with
no heading above them (a README that is an index). Only without any of these is a ``## Full Diary``
section appended at the end.

**Extending it.** Every dated entry of the catalog that the section links nowhere (a relative link, a
reference, or a link to this repository's file on GitHub all count) gets one line, under the period it
belongs to, at its place among the lines there (newest or oldest first, as the section goes), in the
section's own style: its list marker, and the shape of its lines, learnt from a line the diarist wrote
(``- [Title](notes/x.md) [[arXiv](…)]``, ``* Title [[notes](papers/x.md)]``, ``* 11th: [Title](x.md):
description``). A missing period gets a heading in the section's own form and level, among the others in
their order (and its year heading, when months go under years). Every line already there stays verbatim
and in place; nothing outside the section changes, byte for byte; an entry is never linked twice.
An entry dated by nothing better than its file's mtime is left out and reported.

``refresh`` rewrites, in place, the lines the tool wrote: those it remembers writing (the store keeps
each line as written, so a line the user edited since is theirs), and lines in the tool's shape whose
description is empty or only a label ("Aims:"), which an earlier version wrote and nobody would keep.
"""

from __future__ import annotations

import json
import posixpath
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paperdiary.diary.catalog import Catalog, CatalogEntry
from paperdiary.diary.dates import month_number
from paperdiary.diary.links import repository_file, resolve, rewrite_links
from paperdiary.diary.markdown import (
    Block, DestinationStyle, Document, Edit, Heading, Link, LinkKind, destination_style, format_destination, parse,
)
from paperdiary.diary.readme import README_NAME
from paperdiary.errors import DiaryError
from paperdiary.fsutil import read_diary_bytes, relative_link, replace_diary_file
from paperdiary.settings import Settings
from paperdiary.stages.entry import arxiv_ids, ordinal
from paperdiary.state.lock import diary_lock
from paperdiary.state.store import Store, open_for_reading
from paperdiary.templates import md_inline
from paperdiary.text import line_body, line_ending, unified_diff

DEFAULT_HEADING = "## Full Diary"
# Words of a heading that names a chronological index ("📖 Full Diary", "Reading log", "Papers I read").
_INDEX_WORDS = re.compile(r"\b(?:full diary|diary index|reading log|reading history|reading diary|papers? (?:i )?read|"
                          r"read papers|papers i ve read|timeline|chronolog\w*|all papers|paper log|log of papers)\b")
_SEASONS = {"winter": 1, "spring": 4, "summer": 7, "fall": 10, "autumn": 10}  # academic terms: a quarter each
_TRAILER = r"(?:\s*(?:[-–—:|(\[,].*)?)$"  # "2016-11 (ICLR Edition)", "June 2025 - travelling"
_YEAR_MONTH = re.compile(r"(\d{4})[-/.](\d{1,2})" + _TRAILER)
_WORD_YEAR = re.compile(r"([A-Za-z]{3,9})\.?,?\s+(\d{4})" + _TRAILER)
_YEAR_WORD = re.compile(r"(\d{4}),?\s+([A-Za-z]{3,9})\.?" + _TRAILER)
_WORD = re.compile(r"([A-Za-z]{3,9})\.?" + _TRAILER)
_YEAR = re.compile(r"(\d{4})" + _TRAILER)
_DAY = re.compile(r"(\d{1,2})(st|nd|rd|th)?(?![\d/.-]\d)")
# The shape of a line the tool writes: "* 11th: [Title](link)" and maybe ": description".
_TOOL_LINE = re.compile(r"[*-] \d{1,2}(?:st|nd|rd|th): \[(?:[^\]\\]|\\.)*\]\([^)\s]+\)(?:: (?P<description>.*))?")
_WRITTEN_KEY = "index_lines:"  # + heading: in the store's catalog_meta, {entry path: line the tool wrote}
_DEFAULT_TEMPLATE = (("{day}: [{title}]({link})", ""), (": {description}", "description"))


def _nfc(path: str) -> str:
    return unicodedata.normalize("NFC", path)


def _fold(text: str) -> str:
    """Heading words for comparison: emoji, punctuation, case and spacing ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def index_entries(entries: Sequence[CatalogEntry]) -> tuple[list[CatalogEntry], list[str]]:
    """The entries the Full Diary lists, and the paths of those it leaves out for want of a real date
    (symlinks out of the diary are left out unread, and said so by the catalog)."""
    readable = [e for e in entries if not e.outside]
    return [e for e in readable if e.dated], [e.relpath for e in readable if not e.dated]


def entry_line(entry: CatalogEntry, readme_dir: str = "") -> str:
    """``* 11th: [Title](link): description``: the tool's own line, where the section shows no style."""
    line = f"* {ordinal(entry.date_read.day)}: [{md_inline(entry.title)}]({relative_link(entry.relpath, readme_dir)})"
    return f"{line}: {md_inline(entry.description)}" if entry.description else line


def _stale(line: str) -> bool:
    """A line in the tool's shape whose description is missing or only a label ("Aims:")."""
    m = _TOOL_LINE.fullmatch(line_body(line).rstrip())
    if m is None:
        return False
    return not m["description"] or m["description"].rstrip().endswith(":")


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """What a heading of the index covers: a month, a quarter ("Winter 2020") or a year; ``year`` may be
    unknown (0) for a month written without one, until its year heading or its entries say."""

    year: int
    first: int  # first month
    last: int  # last month
    form: str  # "ym" (2018-02) | "month-year" (June 2025) | "mon-year" (Jun 2025) | "month" (October) |
    # "mon" (Oct) | "season-year" (Winter 2020) | "year" (2019)

    def holds(self, day: date) -> bool:
        return day.year == self.year and self.first <= day.month <= self.last

    @property
    def key(self) -> tuple[int, int]:
        return self.year, self.first


def period_of(title: str) -> Period | None:
    """The period a heading names ("June 2025", "2018-02 (ICLR Edition)", "October", "Winter 2020", "2019")."""
    text = " ".join(re.sub(r"[^\w\s,.()\[\]:|/–—-]", " ", title).split())
    if m := _YEAR_MONTH.fullmatch(text):
        month = int(m[2])
        return Period(int(m[1]), month, month, "ym") if 1 <= month <= 12 else None
    for pattern, year_group, word_group in ((_WORD_YEAR, 2, 1), (_YEAR_WORD, 1, 2), (_WORD, 0, 1)):
        if m := pattern.fullmatch(text):
            word = m[word_group].lower()
            year = int(m[year_group]) if year_group else 0
            if word in _SEASONS:
                start = _SEASONS[word]
                return Period(year, start, start + 2, "season-year") if year else None
            if (number := month_number(word)) is not None:
                month = number[0]
                short = len(word) <= 4 and word != "june" and word != "july" and word != "may"
                form = ("mon" if short else "month") + ("-year" if year else "")
                return Period(year, month, month, form)
            return None
    if m := _YEAR.fullmatch(text):
        return Period(int(m[1]), 1, 12, "year") if 1900 < int(m[1]) < 2200 else None
    return None


def _heading_text(period: Period, day: date) -> str:
    """A new heading for the period holding ``day``, in the form of the section's others."""
    name = f"{day:%B}"
    if period.form == "ym":
        return f"{day.year:04d}-{day.month:02d}"
    if period.form in ("month-year", "mon-year"):
        return f"{name if period.form == 'month-year' else name[:3]} {day.year}"
    if period.form in ("month", "mon"):
        return name if period.form == "month" else name[:3]
    if period.form == "season-year":
        season = next(s for s, start in _SEASONS.items() if start <= day.month <= start + 2 and s != "autumn")
        return f"{season.title()} {day.year}"
    return f"{day.year}"


def _period_for(form: str, day: date) -> Period:
    if form == "year":
        return Period(day.year, 1, 12, form)
    if form == "season-year":
        start = next(start for start in (1, 4, 7, 10) if start <= day.month <= start + 2)
        return Period(day.year, start, start + 2, form)
    return Period(day.year, day.month, day.month, form)


# --------------------------------------------------------------------------- the section


@dataclass
class _Group:
    """A heading of the section naming a period, and the lines below it up to the next heading."""

    period: Period
    heading: Heading
    start: int  # first line after the heading
    end: int  # the next heading's line (or the section's end)
    container: _Group | None = None  # the year heading it sits under ("### October" under "## 2025")


@dataclass
class Section:
    """The README's chronological index as found: its heading (None for a README whose period headings are
    its index), its lines, the period headings in it."""

    heading: Heading | None
    start: int  # first line (its heading's, or the first period heading's)
    end: int
    groups: list[_Group]  # leaf periods: the ones lines go under
    years: list[_Group]  # year headings holding month headings

    @property
    def body_start(self) -> int:
        return self.heading.end if self.heading else self.start


def find_section(doc: Document, heading: str = "") -> Section | None:
    """The chronological index of a README (see the module's docstring), or None."""
    top = [h for h in doc.headings if h.depth == 0]
    periods = {h.line: period_of(h.plain) for h in top}
    wanted = _fold(heading.lstrip("#")) if heading.strip() and heading.strip() != DEFAULT_HEADING else ""
    if wanted:
        named = [h for h in top if _fold(h.plain) == wanted]
        if named:
            return _section(doc, named[0], top, periods)
    candidates = []
    for h in top:
        if periods[h.line] is not None:
            continue
        end = doc.section_end(h)
        inner = [o for o in top if h.line < o.line < end and periods[o.line] is not None]
        worded = bool(_INDEX_WORDS.search(_fold(h.plain)))
        if inner or worded:
            candidates.append((len(inner) >= 2 or worded, worded, len(inner), -(end - h.line), h))
    if candidates:
        best = max(candidates, key=lambda c: c[:4])
        if best[0]:
            return _section(doc, best[4], top, periods)
    runs = _headless_runs(doc, top, periods)
    if runs:
        return max(runs, key=lambda s: len(s.groups))
    return None


def _section(doc: Document, heading: Heading, top: list[Heading], periods: dict[int, Period | None]) -> Section:
    end = doc.section_end(heading)
    inner = [h for h in top if heading.line < h.line < end]
    groups, years = _groups(doc, inner, periods, end)
    return Section(heading, heading.line, end, groups, years)


def _headless_runs(doc: Document, top: list[Heading], periods: dict[int, Period | None]) -> list[Section]:
    """Runs of period headings with no index heading above them: from the first to the last period's end."""
    runs: list[Section] = []
    n = 0
    while n < len(top):
        first = top[n]
        if periods[first.line] is None:
            n += 1
            continue
        level = first.level
        m = n + 1
        while m < len(top) and (top[m].level > level or (top[m].level == level and periods[top[m].line])):
            m += 1
        end = top[m].line if m < len(top) else len(doc.lines)
        inner = top[n:m]
        groups, years = _groups(doc, inner, periods, end)
        if len(groups) >= 2 or (groups and any(doc.links_in(g.start, g.end) for g in groups)):
            runs.append(Section(None, first.line, end, groups, years))
        n = m
    return runs


def _groups(doc: Document, headings: list[Heading], periods: dict[int, Period | None], end: int
            ) -> tuple[list[_Group], list[_Group]]:
    """The leaf period groups among ``headings`` (a section's), with years from their year headings."""
    leaves: list[_Group] = []
    years: list[_Group] = []
    for n, h in enumerate(headings):
        period = periods.get(h.line)
        if period is None:
            continue
        stop = next((o.line for o in headings[n + 1:] if o.level <= h.level), end)
        below = [o for o in headings[n + 1:] if o.line < stop and periods.get(o.line) is not None]
        nxt = headings[n + 1].line if n + 1 < len(headings) else end
        group = _Group(period, h, h.end, min(nxt, end))
        if period.form == "year" and below:
            group.end = stop
            years.append(group)
            continue
        leaves.append(group)
    for group in leaves:
        holder = next((y for y in reversed(years) if y.heading.line < group.heading.line < y.end), None)
        group.container = holder
        if group.period.year == 0 and holder is not None:
            group.period = Period(holder.period.year, group.period.first, group.period.last, group.period.form)
    return leaves, years


# --------------------------------------------------------------------------- what the section links


def _linked_entry(doc: Document, link: Link, readme_dir: str, known: Mapping[str, CatalogEntry]) -> str | None:
    """The entry a link of the README leads to: relative, by reference, or this repository's file on GitHub."""
    href = link.href
    if link.kind is LinkKind.DEFINITION:
        return None
    if link.local:
        target = resolve(link, readme_dir)
        return _nfc(target) if target and _nfc(target) in known else None
    if (path := repository_file(href)) is not None and _nfc(path) in known:
        return _nfc(path)
    return None


def _entries_of(doc: Document, start: int, end: int, readme_dir: str, known: Mapping[str, CatalogEntry]
                ) -> list[str]:
    return [p for link in doc.links_in(start, end) if (p := _linked_entry(doc, link, readme_dir, known))]


# --------------------------------------------------------------------------- line styles


@dataclass(frozen=True)
class _Template:
    """The shape of the section's lines, as (text with {slots}, the field it needs or "") pieces."""

    pieces: tuple[tuple[str, str], ...]
    day_form: str = "ordinal"  # "ordinal" (11th) | "number" (11) | "padded" (07)

    def render(self, entry: CatalogEntry, link: str, title: str) -> str:
        day = entry.date_read.day
        values = {"day": ordinal(day) if self.day_form == "ordinal" else f"{day:02d}" if self.day_form == "padded"
                  else str(day), "title": title, "link": link, "description": md_inline(entry.description),
                  "arxiv_id": entry.arxiv_id or ""}
        have = {"description": bool(entry.description), "arxiv": bool(entry.arxiv_id)}
        return "".join(text.format(**values) for text, needs in self.pieces if not needs or have[needs]).strip()


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _similar(a: str, b: str) -> bool:
    wa, wb = set(_fold(a).split()), set(_fold(b).split())
    return bool(wa and wb) and len(wa & wb) >= 0.6 * min(len(wa), len(wb))


def _learn_template(doc: Document, item: Block, entry: CatalogEntry, readme_dir: str,
                    known: Mapping[str, CatalogEntry]) -> _Template | None:
    """The shape of one line the diarist wrote for ``entry``, its particulars turned into slots; None when the
    line says more than a title, links, a day and a description (a note of theirs would be copied)."""
    line = item.start
    if item.end - item.start > 1 and any(line_body(doc.lines[n]).strip() for n in range(item.start + 1, item.end)):
        return None
    body = line_body(doc.lines[line])
    m = re.match(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+", body)
    if not m:
        return None
    base = doc.offset(line) + m.end()
    text = body[m.end():]
    links = [link for link in doc.links_in(line, line + 1) if link.kind is LinkKind.INLINE]
    mine = [link for link in links if _linked_entry(doc, link, readme_dir, known) == _nfc(entry.relpath)]
    link = mine[0] if len(mine) == 1 else None
    if link is None or link.image or link.dest is None:
        return None
    dest = link.dest
    cuts: list[tuple[int, int, str, str]] = []  # (start, end, replacement, needs) relative to text
    rel = lambda offset: offset - base  # noqa: E731
    text_start = rel(link.span.start) + 1
    if _similar(link.text, entry.title):
        cuts.append((text_start, text_start + len(link.text), "{title}", ""))
    else:  # "* Title [[notes](papers/x.md)]": the title is the words before the first link
        before = text[:min(rel(other.span.start) for other in links)]
        lead = len(before) - len(before.lstrip(" \t"))
        words = before.strip().rstrip("[").rstrip()
        if not _similar(words, entry.title):
            return None
        cuts.append((lead, lead + len(words), "{title}", ""))
    cuts.append((rel(dest.start), rel(dest.end), "{link}", ""))
    for other in links:
        if other is link:
            continue
        if entry.arxiv_id and other.dest is not None and entry.arxiv_id in other.written and not other.local:
            start, end = rel(other.span.start), rel(other.span.end)
            while start > 0 and end < len(text) and text[start - 1] == "[" and text[end] == "]":
                start, end = start - 1, end + 1
            while start > 0 and text[start - 1] in " \t":
                start -= 1
            written = _escape(text[start:end]).replace(_escape(entry.arxiv_id), "{arxiv_id}")
            cuts.append((start, end, written, "arxiv"))
        else:
            return None  # another link of the diarist's: not a shape to copy
    if day := _DAY.match(text):
        if int(day[1]) == entry.date_read.day and not any(s <= 0 < e for s, e, _, _ in cuts):
            cuts.append((0, day.end(1) + len(day[2] or ""), "{day}", ""))
    last_end = max([rel(link.span.end)] + [e for _, e, _, needs in cuts if needs == "arxiv"])
    tail = text[last_end:]
    if desc := re.match(r"(\s*[:–—-]\s*)(\S.*?)\s*$", tail):
        if not re.search(r"\[|\]\(", desc[2]):
            cuts.append((last_end, len(text), _escape(desc[1]) + "{description}", "description"))
    cuts.sort()
    pieces: list[tuple[str, str]] = []
    at = 0
    for start, end, replacement, needs in cuts:
        if start < at:
            return None  # overlapping particulars: not a shape we understand
        pieces.append((_escape(_unmarked(text[at:start])), ""))
        pieces.append((replacement, needs))
        at = end
    pieces.append((_escape(_unmarked(text[at:])), ""))
    kept = re.sub(r"(?<!\{)\{\w+\}(?!\})", " ", "".join(p for p, needs in pieces if not needs))
    if len(re.findall(r"[^\W\d_]{2,}", kept)) > 3:
        return None  # words of the diarist's own in the line: not a shape to copy
    form = "ordinal" if day and day[2] else "padded" if day and day[1].startswith("0") else "number"
    return _Template(tuple(p for p in pieces if p[0]), form)


_STATUS_CODE = re.compile(r"[ \t]*:[a-z0-9_+-]+:")  # ":question:", ":star:"


def _unmarked(text: str) -> str:
    """A literal piece of a learnt line without the diarist's marks for that one paper (a status emoji such as
    ✅ or ⭐, ":question:"): a new line would claim what they did not say."""
    text = _STATUS_CODE.sub("", text)
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Mn", "Cf")
                   or ch in "`^")
    return re.sub(r"[ \t]+$", "", kept) if kept != text and not kept.strip() else kept.replace("  ", " ")


def _list_items(doc: Document, start: int, end: int) -> list[Block]:
    """The top-level list items in lines ``start`` to ``end - 1`` (not nested ones, not in quotes)."""
    return [b for b in doc.blocks if b.kind == "list_item" and b.depth == 1 and start <= b.start < end]


def _template(doc: Document, section: Section, readme_dir: str, known: Mapping[str, CatalogEntry],
              newest_first: bool) -> _Template:
    """The section's line shape: learnt from its lines nearest the newest end, else the tool's own."""
    items = _list_items(doc, section.body_start, section.end)
    ordered = items if newest_first else list(reversed(items))
    for item in ordered:
        paths = _entries_of(doc, item.start, item.end, readme_dir, known)
        if len(set(paths)) == 1:
            learnt = _learn_template(doc, item, known[paths[0]], readme_dir, known)
            if learnt is not None:
                return learnt
    return _Template(_DEFAULT_TEMPLATE)


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class IndexResult:
    new: str  # the README's text with the section extended
    entries: int
    months: int  # periods the section has now
    added: int  # entries that had no line yet
    refreshed: int = 0  # lines of the tool's rewritten with the entry's title and description now
    written: dict[str, str] = field(default_factory=dict)  # entry path -> the tool's line in the section now
    section_found: bool = False  # the README had a chronological index already
    section_heading: str = ""  # its heading as written ("" for a README whose period headings are its index)
    section_lines: tuple[int, int] = (0, 0)  # its lines in the README as read


def _newest_first(keys: Sequence[tuple[int, ...]], default: bool) -> bool:
    """Whether consecutive keys mostly go down; ``default`` when they do not say."""
    ups = sum(a < b for a, b in zip(keys, keys[1:], strict=False))
    downs = sum(a > b for a, b in zip(keys, keys[1:], strict=False))
    return default if ups == downs else downs > ups


def _dominant_ending(lines: Sequence[str]) -> str:
    counts = Counter(e for e in map(line_ending, lines) if e)
    return counts.most_common(1)[0][0] if counts else "\n"


def _infer_years(groups: list[_Group], doc: Document, readme_dir: str, known: Mapping[str, CatalogEntry],
                 newest_first: bool) -> None:
    """Years of months written without one and under no year heading: from their entries, else their neighbours."""
    for group in groups:
        if group.period.year == 0:
            years = Counter(known[p].date_read.year for p in _entries_of(doc, group.start, group.end, readme_dir,
                                                                         known))
            if years:
                p = group.period
                group.period = Period(years.most_common(1)[0][0], p.first, p.last, p.form)
    for sequence in (groups, list(reversed(groups))):
        going_down = newest_first if sequence is groups else not newest_first
        for before, group in zip(sequence, sequence[1:], strict=False):
            p, q = before.period, group.period
            if q.year == 0 and p.year:
                wraps = q.first > p.first if going_down else q.first < p.first
                year = p.year - 1 if wraps and going_down else p.year + 1 if wraps else p.year
                group.period = Period(year, q.first, q.last, q.form)


def _content_end(doc: Document, start: int, end: int) -> int:
    """The line after the last non-blank line in ``start`` to ``end - 1`` (``start`` if all blank)."""
    while end > start and not line_body(doc.lines[end - 1]).strip():
        end -= 1
    return end


def build_index(readme_text: str, entries: Sequence[CatalogEntry], heading: str = DEFAULT_HEADING, *,
                refresh: bool = False, written: Mapping[str, str] | None = None, readme_dir: str = "") -> IndexResult:
    """The README's text with its chronological index extended (a section appended when it has none).

    ``written``: the lines the tool wrote before, by entry path; with ``refresh`` those still
    as written (and stale ones, see the module's docstring) are written anew, in place.
    """
    written = written or {}
    doc = parse(readme_text)
    known = {_nfc(e.relpath): e for e in entries}
    section = find_section(doc, heading)
    found = section is not None
    eol = _dominant_ending(doc.lines)
    if section is None:
        title = heading.strip().lstrip("#").strip() or DEFAULT_HEADING.lstrip("# ")
        level = len(heading.strip()) - len(heading.strip().lstrip("#")) if heading.strip().startswith("#") else 2
        lead = "" if not readme_text.strip() else (eol if not line_ending(doc.lines[-1]) else "") + (
            eol if line_body(doc.lines[-1]).strip() else "")
        base = readme_text + lead + "#" * level + " " + title + (eol if readme_text.endswith(("\n", "\r")) else "")
        doc = parse(base)
        section = find_section(doc, "#" * level + " " + title)
        assert section is not None
    info = (found, line_body(doc.lines[section.heading.line]).strip() if found and section.heading else "",
            (section.start, section.end) if found else (0, 0))

    linked = _entries_of(doc, section.start, section.end, readme_dir, known)
    listed = set(linked)
    keys = [g.period.key for g in section.groups]
    newest_first = _newest_first(keys, default=True) if keys else True
    _infer_years(section.groups, doc, readme_dir, known, newest_first)
    day_keys = [(known[p].date_read.toordinal(),) for p in linked]
    days_newest_first = _newest_first(day_keys, default=newest_first)
    template = _template(doc, section, readme_dir, known, newest_first)
    style = destination_style(doc) if any(link.angle for link in doc.local_links()) else DestinationStyle.PERCENT
    default_form = Counter(g.period.form for g in section.groups).most_common(1)
    form = default_form[0][0] if default_form else "month-year"
    level = (section.groups[0].heading.level if section.groups
             else (section.heading.level + 1 if section.heading else 3))

    def line_for(entry: CatalogEntry) -> str:
        link = format_destination(posixpath.relpath(entry.relpath, readme_dir or "."), style)
        return template.render(entry, link, md_inline(entry.title))

    edits: list[Edit] = []
    now_written: dict[str, str] = {}
    refreshed = 0
    # Lines already there: kept, or (refresh) rewritten in place when they are the tool's.
    for item in _list_items(doc, section.body_start, section.end):
        paths = _entries_of(doc, item.start, item.end, readme_dir, known)
        if len(set(paths)) != 1 or _content_end(doc, item.start, item.end) > item.start + 1:
            continue
        path = paths[0]
        raw = doc.lines[item.start]
        body = line_body(raw)
        marker = re.match(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+", body)
        fresh = (marker[0] if marker else "* ") + line_for(known[path])
        ours = body.rstrip() == written.get(path) or _stale(raw)
        if refresh and ours and body.rstrip() != fresh:
            edits.append(Edit(doc.offset(item.start), doc.offset(item.start) + len(body), fresh))
            now_written[path] = fresh
            refreshed += 1
        elif body.rstrip() in (fresh, written.get(path)):
            now_written[path] = body.rstrip()

    papers = _papers_listed(doc, section, readme_dir, known)
    missing = sorted((e for e in entries if _nfc(e.relpath) not in listed and not (e.arxiv_id and e.arxiv_id in papers)),
                     key=lambda e: e.relpath)
    by_group: dict[int, list[CatalogEntry]] = {}
    new_groups: dict[Period, list[CatalogEntry]] = {}
    flat = not section.groups and bool(_list_items(doc, section.body_start, section.end)) and found
    for entry in missing:
        at = next((n for n, g in enumerate(section.groups) if g.period.holds(entry.date_read)), None)
        if flat:
            by_group.setdefault(-1, []).append(entry)
        elif at is not None:
            by_group.setdefault(at, []).append(entry)
        else:
            new_groups.setdefault(_period_for(form, entry.date_read), []).append(entry)

    def ordered(group_entries: list[CatalogEntry]) -> list[CatalogEntry]:
        return _in_day_order(group_entries, days_newest_first)

    for n, group_entries in by_group.items():
        start, end = (section.body_start, section.end) if n == -1 else (section.groups[n].start, section.groups[n].end)
        for entry, line, text, written_line in _place(doc, start, end, ordered(group_entries), readme_dir, known,
                                                      days_newest_first, line_for, eol):
            edits.append(Edit(doc.offset(line), doc.offset(line), text))
            now_written[_nfc(entry.relpath)] = written_line
    blank_before = len(section.groups) < 2 or not line_body(doc.lines[section.groups[1].heading.line - 1]).strip()
    at_line: dict[int, list[str]] = {}
    for period, group_entries in sorted(new_groups.items(), key=lambda kv: kv[0].key, reverse=newest_first):
        line, text, lines = _new_group(doc, section, period, ordered(group_entries), newest_first, level, eol,
                                       line_for, blank_before)
        at_line.setdefault(line, []).append(text)
        for entry, written_line in zip(ordered(group_entries), lines, strict=True):
            now_written[_nfc(entry.relpath)] = written_line
    for line, texts in at_line.items():  # periods new side by side: a blank line between them as between others
        joined = texts[0]
        for text in texts[1:]:
            joined = joined.removesuffix(eol) if joined.endswith(eol + eol) and not blank_before else joined
            joined += (eol if blank_before and not joined.endswith(eol + eol) else "") + text.lstrip("\r\n")
        edits.append(Edit(doc.offset(line), doc.offset(line), joined))
    new = _apply(doc, edits, eol)
    months = len(section.groups) + len(new_groups)
    return IndexResult(new, len(entries), months, len(missing), refreshed, now_written, *info)


def _papers_listed(doc: Document, section: Section, readme_dir: str, known: Mapping[str, CatalogEntry]) -> set[str]:
    """arXiv IDs of the papers the section's lines list by the paper's own link and no entry's
    ("- Nested LSTMs [[arXiv](https://arxiv.org/abs/1801.10308)]"): the entry about that paper is listed there
    already, a second line would list the paper twice."""
    ids: set[str] = set()
    for item in _list_items(doc, section.body_start, section.end):
        if _entries_of(doc, item.start, item.end, readme_dir, known):
            continue
        named = arxiv_ids(" ".join(link.href for link in doc.links_in(item.start, item.end) if not link.local))
        if len(named) == 1:
            ids.add(named[0])
    return ids


def _apply(doc: Document, edits: list[Edit], eol: str) -> str:
    """Edits applied; an insertion at the end of a file without a last newline goes after one, and the file
    still ends without one."""
    text = doc.text
    if not edits:
        return text
    end = len(text)
    if text and not text.endswith(("\n", "\r")) and any(e.start == end for e in edits):
        edits = [Edit(e.start, e.end, eol + e.new.removesuffix(eol)) if e.start == end else e for e in edits]
    return doc.edit(edits)


def _in_day_order(entries: Sequence[CatalogEntry], newest_first: bool) -> list[CatalogEntry]:
    """Entries by day in the section's direction; on one day, the drafted ones in the order they were drafted
    (newest first too when the section is), then the others by title: the same order on every run."""
    out: list[CatalogEntry] = []
    for day in sorted({entry.date_read for entry in entries}, reverse=newest_first):
        same = [entry for entry in entries if entry.date_read == day]
        out += sorted((e for e in same if e.added), key=lambda e: (e.added, e.relpath), reverse=newest_first)
        out += sorted((e for e in same if not e.added), key=lambda e: (e.title.casefold(), e.relpath))
    return out


def _item_day(doc: Document, item: Block, readme_dir: str, known: Mapping[str, CatalogEntry]) -> date | None:
    paths = _entries_of(doc, item.start, item.end, readme_dir, known)
    return known[paths[0]].date_read if paths else None


def _place(doc: Document, start: int, end: int, entries: list[CatalogEntry], readme_dir: str,
           known: Mapping[str, CatalogEntry], newest_first: bool, line_for, eol: str  # noqa: ANN001
           ) -> list[tuple[CatalogEntry, int, str, str]]:
    """Where each new line goes among a period's lines: after the last line that comes before it in the
    section's order (lines of no known day are passed over), else before the first; each as
    (entry, line, text to insert, the line)."""
    items = _list_items(doc, start, end)
    out: list[tuple[CatalogEntry, int, str, str]] = []
    for entry in entries:
        before = [item for item in items if (d := _item_day(doc, item, readme_dir, known)) is not None and (
            d >= entry.date_read if newest_first else d <= entry.date_read)]
        if before:
            anchor = before[-1]
            nxt = next((i for i in items if i.start >= anchor.end), None)
            line = nxt.start if nxt else _content_end(doc, anchor.start, anchor.end)
            marker_item = anchor
        elif items:
            dated = [i for i in items if _item_day(doc, i, readme_dir, known) is not None]
            first = dated[0] if dated else None
            line = first.start if first else _content_end(doc, items[-1].start, items[-1].end)
            marker_item = first or items[-1]
        else:
            line, marker_item = start, None
        prefix = "* "
        if marker_item is not None:
            m = re.match(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+", line_body(doc.lines[marker_item.start]))
            prefix = m[0] if m else prefix
        own = prefix + line_for(entry)
        text = own + eol
        if marker_item is None:
            following = line < len(doc.lines) and line_body(doc.lines[line]).strip()
            text = text + (eol if following else "")
        out.append((entry, line, text, own))
    return out


def _new_group(doc: Document, section: Section, period: Period, entries: list[CatalogEntry], newest_first: bool,
               level: int, eol: str, line_for, blank_before: bool  # noqa: ANN001
               ) -> tuple[int, str, list[str]]:
    """A new period heading with its lines, placed among the others in the section's order: (line, text, lines)."""
    groups = section.groups
    container = next((y for y in section.years if y.period.year == period.year), None)
    siblings = [g for g in groups if g.container is container] if section.years else groups
    later = [g for g in siblings if (g.period.key < period.key if newest_first else g.period.key > period.key)]
    sample = groups[0] if groups else None
    blank_after = sample is not None and sample.start < len(doc.lines) and not line_body(doc.lines[sample.start]
                                                                                         ).strip()
    marker = "* "
    items = _list_items(doc, section.body_start, section.end)
    if items:
        m = re.match(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+", line_body(doc.lines[items[-1].start]))
        marker = m[0] if m else marker
    lines = [marker + line_for(entry) for entry in entries]
    heading = "#" * level + " " + _heading_text(period, entries[0].date_read)
    block = [heading] + ([""] if blank_after else []) + lines
    if section.years and container is None and period.form in ("month", "mon"):
        year_level = section.years[0].heading.level
        block = ["#" * year_level + " " + str(period.year), *block]
        siblings = section.years
        later = [y for y in siblings if (y.period.year < period.year if newest_first else y.period.year > period.year)]
    if later:
        line = min(g.heading.line for g in later)
        text = eol.join(block) + eol + (eol if blank_before else "")
    else:
        last = max(siblings or groups, key=lambda g: g.heading.line, default=None)
        if last is None:
            line = _content_end(doc, section.body_start, section.end) if section.heading else section.end
            line = max(line, section.body_start)
            lead = eol if line > section.body_start and blank_before else ""
        else:
            line = _content_end(doc, last.heading.line, last.end)
            lead = eol if blank_before else ""
        text = lead + eol.join(block) + eol
        if line < len(doc.lines) and line_body(doc.lines[line]).strip():
            text += eol  # what follows (the next section's heading) keeps a blank line before it
    return line, text, lines


# --------------------------------------------------------------------------- reading and writing


@dataclass(frozen=True)
class IndexPlan:
    """What ``paperdiary index`` would do: the README as read, the extended section, the entries left out."""

    readme: Path
    old: str  # README.md as read
    heading: str
    result: IndexResult
    undated: list[str]  # entries left out for want of a real date

    @property
    def up_to_date(self) -> bool:
        return self.result.new == self.old

    def diff(self) -> str:
        return unified_diff(self.old, self.result.new, self.readme.name)


def _written(store: Store, heading: str) -> dict[str, str]:
    try:
        value = json.loads(store.catalog_meta(_WRITTEN_KEY + heading) or "{}")
    except (sqlite3.Error, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def plan_index(settings: Settings, heading: str | None = None, *, refresh: bool = False) -> IndexPlan:
    """The README's section extended from the catalog; nothing is written. ``heading``: ``index_heading``
    when None."""
    heading = heading if heading is not None else (settings.index_heading or DEFAULT_HEADING)
    path = settings.diary / README_NAME
    text = _read(settings, path)
    if find_section(parse(text), heading) is None:  # the index kept in a file of its own ("README_timeline.md")
        for other in _index_files(settings.diary):
            other_text = _read(settings, other)
            if find_section(parse(other_text), heading) is not None:
                path, text = other, other_text
                break
    with open_for_reading(settings.db_path) as store:
        entries, undated = index_entries(Catalog(settings, store=store).entries())
        written = _written(store, heading)
    result = build_index(text, entries, heading, refresh=refresh, written=written)
    return IndexPlan(path, text, heading, result, undated)


# A file at the diary's root whose name says it is the chronological index.
_INDEX_FILE = re.compile(r"(?:readme[_ -]?)?(?:timeline|chronolog\w*|reading[_ -]?(?:log|list|history)|diary|"
                         r"index|log|papers[_ -]?read)", re.IGNORECASE)


def _index_files(root: Path) -> list[Path]:
    """Markdown files at the diary's root named as an index, other than README.md (never a symlink)."""
    return sorted(p for p in root.iterdir() if p.suffix.lower() in (".md", ".markdown") and p.name != README_NAME
                  and _INDEX_FILE.fullmatch(p.stem) and p.is_file() and not p.is_symlink())


def _read(settings: Settings, path: Path) -> str:
    try:
        return read_diary_bytes(settings.diary, path).decode("utf-8")
    except FileNotFoundError:
        raise DiaryError(f"no {path.name} in {settings.diary}.",
                         hint="Run paperdiary init there, or pass --diary.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiaryError(f"cannot read {path}: {exc}.") from None


def rename_written_lines(store: Store, moves: list[tuple[str, str]]) -> None:
    """Entries moved (``reorganize``, which rewrote the README's links to them): the lines the tool
    remembers writing follow, so that ``--refresh`` still knows them for its own."""
    for key in store.catalog_meta_keys(_WRITTEN_KEY):
        written = _written(store, key.removeprefix(_WRITTEN_KEY))
        for old, new in moves:  # in the order the moves ran
            if old in written:
                line = rewrite_links(written.pop(old), "", "", {old: new}.get)
                written[new] = line
        store.save_catalog_meta(key, json.dumps(written, ensure_ascii=False))


def write_index(plan: IndexPlan, settings: Settings) -> None:
    """Write the extended section into README.md, unless README.md changed since it was read;
    remember the lines the tool wrote (for ``--refresh``). The caller holds the diary's write lock
    (:func:`update_index` does both)."""
    if read_diary_bytes(settings.diary, plan.readme).decode("utf-8") != plan.old:
        raise DiaryError(f"{plan.readme.name} changed while indexing; nothing was written.", hint="Run it again.")
    if not plan.up_to_date:
        replace_diary_file(settings.diary, plan.readme, plan.result.new)
    with Store(settings.db_path) as store:
        store.save_catalog_meta(_WRITTEN_KEY + plan.heading, json.dumps(plan.result.written, ensure_ascii=False))


def update_index(settings: Settings, heading: str | None = None, *, refresh: bool = False
                 ) -> tuple[IndexPlan, bool]:
    """Extend the section and write it when it changed, both under the diary's write lock.

    Returns the plan and whether README.md was written. Planned under the lock, the
    README cannot change between reading and writing (``review apply`` waits).
    """
    with diary_lock(settings, "index --write"):
        plan = plan_index(settings, heading, refresh=refresh)
        write_index(plan, settings)
        return plan, not plan.up_to_date
