"""The README's chronological Full Diary, from the catalog: a heading per month, a line per entry.

    ## Full Diary
    ### June 2025
    * 11th: [Beyond the 80/20 Rule](entries/June%202025/11thJuneTokenEntropyRLVR.md): RLVR on forking tokens.

Every entry of the catalog (``diary/catalog.py``) gets a line on the day it was
read, with its title and one-line description; an entry dated by nothing better
than its file's mtime is left out and reported, since a checkout sets every mtime.

The section is rebuilt from what is there: a line already listing an entry is
kept as written (moved under the right month if need be), a line for each
entry not listed yet is added, and whatever the section holds that names no
entry stays at the end of its month (or of the section). Months follow the
section's own order, newest first by default, and so do days; entries of one
day keep their paths' order. Nothing outside the section changes: the README
model locates it and keeps the rest byte for byte.

``refresh`` rewrites the lines the tool wrote: those it remembers writing (the
store keeps each line as written, so a line the user edited since is theirs),
and lines in the tool's shape whose description is empty or only a label
("Aims:"), which an earlier version wrote and nobody would keep.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paperdiary.diary.catalog import Catalog, CatalogEntry
from paperdiary.diary.links import rewrite_links
from paperdiary.diary.readme import README_NAME, Readme, ReadmeLesson
from paperdiary.errors import DiaryError
from paperdiary.fsutil import read_diary_bytes, relative_link, replace_diary_file
from paperdiary.settings import Settings
from paperdiary.stages.entry import ordinal
from paperdiary.state.lock import diary_lock
from paperdiary.state.store import Store, open_for_reading
from paperdiary.templates import md_inline
from paperdiary.text import line_body, unified_diff

DEFAULT_HEADING = "## Full Diary"
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH_NUMBER = {name: n for n, name in enumerate(_MONTHS, 1)} | {name[:3]: n for n, name in enumerate(_MONTHS, 1)}
_MONTH_HEADING = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{4})")
# The shape of a line the tool writes: "* 11th: [Title](link)" and maybe ": description".
_TOOL_LINE = re.compile(r"\* \d{1,2}(?:st|nd|rd|th): \[(?:[^\]\\]|\\.)*\]\([^)\s]+\)(?:: (?P<description>.*))?")
_WRITTEN_KEY = "index_lines:"  # + heading: in the store's catalog_meta, {entry path: line the tool wrote}


def _month_of(heading: str) -> tuple[int, int] | None:
    """(year, month) of a month heading such as "June 2025"."""
    m = _MONTH_HEADING.fullmatch(heading.strip())
    number = _MONTH_NUMBER.get(m[1].lower()) if m else None
    return (int(m[2]), number) if m and number else None


def index_entries(entries: Sequence[CatalogEntry]) -> tuple[list[CatalogEntry], list[str]]:
    """The entries the Full Diary lists, and the paths of those it leaves out for want of a real date
    (symlinks out of the diary are left out unread, and said so by the catalog)."""
    readable = [e for e in entries if not e.outside]
    return [e for e in readable if e.dated], [e.relpath for e in readable if not e.dated]


def entry_line(entry: CatalogEntry, readme_dir: str = "") -> str:
    """``* 11th: [Title](link): description``."""
    line = f"* {ordinal(entry.date_read.day)}: [{md_inline(entry.title)}]({relative_link(entry.relpath, readme_dir)})"
    return f"{line}: {md_inline(entry.description)}" if entry.description else line


def _stale(line: str) -> bool:
    """A line in the tool's shape whose description is missing or only a label ("Aims:")."""
    m = _TOOL_LINE.fullmatch(line_body(line).rstrip())
    return m is not None and (not m["description"] or m["description"].rstrip().endswith(":"))


# --------------------------------------------------------------------------- the section


def _trimmed(lines: Sequence[str]) -> list[str]:
    """Lines without the blank ones at either end."""
    out = list(lines)
    while out and not out[-1].strip():
        out.pop()
    while out and not out[0].strip():
        out.pop(0)
    return out


def _ended(line: str, eol: str) -> str:
    return line if line.endswith(("\n", "\r")) else line + eol


def _newest_first(keys: Sequence[tuple[int, ...]], default: bool) -> bool:
    """Whether consecutive keys mostly go down; ``default`` when they do not say."""
    ups = sum(a < b for a, b in zip(keys, keys[1:], strict=False))
    downs = sum(a > b for a, b in zip(keys, keys[1:], strict=False))
    return default if ups == downs else downs > ups


@dataclass(frozen=True)
class IndexResult:
    new: str  # the README's text with the section rebuilt
    entries: int
    months: int
    added: int  # entries that had no line yet
    refreshed: int = 0  # lines of the tool's rewritten with the entry's title and description now
    written: dict[str, str] = field(default_factory=dict)  # entry path -> the tool's line in the section now


def _in_day_order(entries: Sequence[CatalogEntry], newest_first: bool) -> list[CatalogEntry]:
    """Entries by day in the section's direction; on one day, the drafted ones in the order they were drafted
    (newest first too when the section is), then the others by title: the same order on every run."""
    ordered: list[CatalogEntry] = []
    for day in sorted({entry.date_read for entry in entries}, reverse=newest_first):
        same = [entry for entry in entries if entry.date_read == day]
        ordered += sorted((e for e in same if e.added), key=lambda e: (e.added, e.relpath), reverse=newest_first)
        ordered += sorted((e for e in same if not e.added), key=lambda e: (e.title.casefold(), e.relpath))
    return ordered


def build_index(readme_text: str, entries: Sequence[CatalogEntry], heading: str = DEFAULT_HEADING, *,
                refresh: bool = False, written: Mapping[str, str] | None = None) -> IndexResult:
    """README text with the section rebuilt (appended at the end when the README has none).

    ``written``: the lines the tool wrote before, by entry path; with ``refresh`` those still
    as written (and stale ones, see the module's docstring) are written anew.
    """
    written = written or {}
    doc = Readme.parse(readme_text, heading, create=True)
    eol = doc.newline
    known = {entry.relpath: entry for entry in entries}

    # What the section holds now: lines that list an entry, and everything else.
    listed: dict[str, list[str]] = {}  # entry path -> its line(s) as written
    kept: dict[tuple[int, int] | None, list[list[str]]] = {}  # month (None: no month) -> blocks naming no entry
    month_heading: dict[tuple[int, int], list[str]] = {}
    month_intro: dict[tuple[int, int], list[str]] = {}
    other_groups: list[list[str]] = []  # "### Highlights" and the like: kept whole, at the end
    month_order: list[tuple[int, int]] = []
    day_order: list[tuple[int]] = []  # dates (ordinals) of the listed entries, in the section's order

    def take(lesson: ReadmeLesson, month: tuple[int, int] | None) -> None:
        lines = _trimmed(lesson.lines)
        path = next((p for p in lesson.cites if p in known and p not in listed), None)
        if path is None:
            kept.setdefault(month, []).append(lines)
            return
        listed[path] = lines
        day_order.append((known[path].date_read.toordinal(),))

    for theme in doc.themes:
        month = _month_of(theme.name)
        if month is None:
            other_groups.append(_trimmed(list(theme.lines())))
            continue
        month_order.append(month)
        month_heading.setdefault(month, list(theme.heading))
        month_intro.setdefault(month, _trimmed(theme.intro))
        for lesson in theme.lessons:
            take(lesson, month)
        for sub in theme.subthemes:
            kept.setdefault(month, []).append(_trimmed(list(sub.lines())))

    months_desc = _newest_first(month_order, default=True)
    days_desc = _newest_first(day_order, default=months_desc)
    by_month: dict[tuple[int, int], list[CatalogEntry]] = {}
    for entry in entries:
        by_month.setdefault((entry.date_read.year, entry.date_read.month), []).append(entry)
    all_months = sorted(set(by_month) | set(month_heading) | {m for m in kept if m is not None},
                        reverse=months_desc)

    body: list[str] = []
    intro = _trimmed(doc.intro)
    if intro:
        body += [_ended(line, eol) for line in intro] + [eol]
    added = refreshed = 0
    now_written: dict[str, str] = {}
    for month in all_months:
        body += month_heading.get(month) or [f"### {date(month[0], month[1], 1):%B %Y}{eol}"]
        body += [_ended(line, eol) for line in month_intro.get(month, [])]
        ordered = _in_day_order(by_month.get(month, []), days_desc)
        for entry in ordered:
            fresh = entry_line(entry)
            lines = listed.get(entry.relpath)
            if lines is None:
                body.append(fresh + eol)
                now_written[entry.relpath] = fresh
                added += 1
                continue
            single = line_body(lines[0]).rstrip() if len(lines) == 1 else None
            ours = single is not None and (single == written.get(entry.relpath) or _stale(lines[0]))
            if refresh and ours and single != fresh:
                body.append(fresh + eol)
                now_written[entry.relpath] = fresh
                refreshed += 1
                continue
            body += [_ended(line, eol) for line in lines]
            if single is not None and (single == fresh or single == written.get(entry.relpath)):
                now_written[entry.relpath] = single
        for block in kept.get(month, []):
            body += [_ended(line, eol) for line in block]
        body.append(eol)
    for block in kept.get(None, []) + other_groups:
        body += [_ended(line, eol) for line in block] + [eol]
    if not doc.after:
        while body and body[-1] == eol:
            body.pop()  # the section ends the file: no blank line after it
    heading_lines = [_ended(line, eol) for line in doc.section_heading]
    new = "".join(doc.preamble) + "".join(heading_lines) + "".join(body) + "".join(doc.after)
    if not doc.after and readme_text and not readme_text.endswith(("\n", "\r")):
        new = new.removesuffix(eol)  # the file ended without a newline: it still does
    return IndexResult(new, len(entries), len(all_months), added, refreshed, now_written)


@dataclass(frozen=True)
class IndexPlan:
    """What ``paperdiary index`` would do: the README as read, the rebuilt section, the entries left out."""

    readme: Path
    old: str  # README.md as read
    heading: str
    result: IndexResult
    undated: list[str]  # entries left out for want of a real date

    @property
    def up_to_date(self) -> bool:
        return self.result.new == self.old

    def diff(self) -> str:
        return unified_diff(self.old, self.result.new, README_NAME)


def _written(store: Store, heading: str) -> dict[str, str]:
    try:
        value = json.loads(store.catalog_meta(_WRITTEN_KEY + heading) or "{}")
    except (sqlite3.Error, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def plan_index(settings: Settings, heading: str = DEFAULT_HEADING, *, refresh: bool = False) -> IndexPlan:
    """The README's section rebuilt from the catalog; nothing is written."""
    path = settings.diary / README_NAME
    try:
        text = read_diary_bytes(settings.diary, path).decode("utf-8")
    except FileNotFoundError:
        raise DiaryError(f"no {README_NAME} in {settings.diary}.",
                         hint="Run paperdiary init there, or pass --diary.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiaryError(f"cannot read {path}: {exc}.") from None
    with open_for_reading(settings.db_path) as store:
        entries, undated = index_entries(Catalog(settings, store=store).entries())
        written = _written(store, heading)
    result = build_index(text, entries, heading, refresh=refresh, written=written)
    return IndexPlan(path, text, heading, result, undated)


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
    """Write the rebuilt section into README.md, unless README.md changed since it was read;
    remember the lines the tool wrote (for ``--refresh``). The caller holds the diary's write lock
    (:func:`update_index` does both)."""
    if read_diary_bytes(settings.diary, plan.readme).decode("utf-8") != plan.old:
        raise DiaryError(f"{README_NAME} changed while indexing; nothing was written.", hint="Run it again.")
    if not plan.up_to_date:
        replace_diary_file(settings.diary, plan.readme, plan.result.new)
    with Store(settings.db_path) as store:
        store.save_catalog_meta(_WRITTEN_KEY + plan.heading, json.dumps(plan.result.written, ensure_ascii=False))


def update_index(settings: Settings, heading: str = DEFAULT_HEADING, *, refresh: bool = False
                 ) -> tuple[IndexPlan, bool]:
    """Rebuild the section and write it when it changed, both under the diary's write lock.

    Returns the plan and whether README.md was written. Planned under the lock, the
    README cannot change between reading and writing (``review apply`` waits).
    """
    with diary_lock(settings, "index --write"):
        plan = plan_index(settings, heading, refresh=refresh)
        write_index(plan, settings)
        return plan, not plan.up_to_date
