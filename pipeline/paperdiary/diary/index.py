"""The README's chronological index of the diary: a heading per month, a line per entry.

    ## Full Diary
    ### June 2025
    * 11th: [Beyond the 80/20 Rule](entries/June%202025/11thJuneTokenEntropyRLVR.md): RLVR on forking tokens.

Entries are found on disk (``entries/`` and month folders at the diary root
alike); an entry's date is its ``Date read:`` line, else the date it was
drafted on, else its file name's ordinal day in a "June 2025" folder. Its
description is the stored one-line description of a drafted entry, else the
first sentence of its Key Points.

The section is rebuilt from what is there: a line already listing an entry is
kept as written (moved under the right month if need be), a line for each
entry not listed yet is added, and whatever the section holds that names no
entry stays at the end of its month (or of the section). Months follow the
section's own order, newest first by default, and so do days. Nothing outside
the section changes: the README model locates it and keeps the rest byte for byte.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from paperdiary.stages.entry import diary_pages, ordinal
from paperdiary.errors import DiaryError
from paperdiary.fsutil import atomic_write_text, diary_relpath
from paperdiary.diary.readme import README_NAME, Readme, ReadmeLesson, entry_link, plain_text
from paperdiary.settings import Settings
from paperdiary.state.lock import diary_lock
from paperdiary.state.store import EntryRecord, open_for_reading
from paperdiary.templates import md_inline
from paperdiary.text import shorten, split_sentences, unified_diff

DEFAULT_HEADING = "## Full Diary"
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH_NUMBER = {name: n for n, name in enumerate(_MONTHS, 1)} | {name[:3]: n for n, name in enumerate(_MONTHS, 1)}
_MONTH = r"([A-Za-z]{3,9})\.?"
_DATE_FORMS = (
    (re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(\d{{4}})", re.I), (1, 2, 3)),  # 11th June 2025
    (re.compile(rf"{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})", re.I), (2, 1, 3)),  # June 11, 2025
)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_READ = re.compile(r"^\W*date\s+read\W*[:\-]\W*(.+)$", re.I | re.M)
_FILE_DAY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)", re.I)
_MONTH_HEADING = re.compile(rf"{_MONTH}\s+(\d{{4}})")
_KEY_POINTS = re.compile(r"^#{2,3}\s+key\s+points\s*#*\s*$", re.I | re.M)
_MAX_DESCRIPTION = 200


@dataclass(frozen=True)
class DiaryEntry:
    path: str  # relative to the diary root, forward slashes
    day: date
    title: str  # markdown for the link text
    description: str  # markdown, one line; "" when nothing is known


def parse_date(text: str) -> date | None:
    """A date as people write it: "11th June 2025", "June 11, 2025", "2025-06-11"."""
    if m := _ISO.search(text):
        return _date(int(m[1]), int(m[2]), int(m[3]))
    for pattern, (day, month, year) in _DATE_FORMS:
        for m in pattern.finditer(text):
            number = _MONTH_NUMBER.get(m[month].lower())
            if number and (found := _date(int(m[year]), number, int(m[day]))):
                return found
    return None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_of(heading: str) -> tuple[int, int] | None:
    """(year, month) of a month heading such as "June 2025"."""
    m = _MONTH_HEADING.fullmatch(heading.strip())
    number = _MONTH_NUMBER.get(m[1].lower()) if m else None
    return (int(m[2]), number) if m and number else None


def _entry_date(path: Path, text: str, stored: EntryRecord | None) -> date | None:
    if m := _DATE_READ.search(text):
        if found := parse_date(m[1]):
            return found
    if stored is not None:
        try:
            return date.fromisoformat(stored.date_read)
        except ValueError:
            pass
    day, month = _FILE_DAY.match(path.name), _month_of(path.parent.name)
    return _date(month[0], month[1], int(day[1])) if day and month else None


def first_sentence(markdown: str) -> str:
    """The first sentence of some markdown, as plain text."""
    text = plain_text(markdown)
    text = re.sub(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`", "", text).replace("⚠ unverified", "")
    text = " ".join(text.split())
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+([.,;:!?)])", r"\1", text))  # plain_text pads link labels
    sentences = split_sentences(text)
    return shorten(sentences[0], _MAX_DESCRIPTION) if sentences else ""


def key_points_sentence(text: str) -> str:
    """The first sentence of an entry's Key Points ("" when it has none, or only the drafter's placeholder)."""
    m = _KEY_POINTS.search(text)
    if not m:
        return ""
    section = re.split(r"^#{1,3}\s", text[m.end():], maxsplit=1, flags=re.M)[0]
    for line in section.splitlines():
        line = re.sub(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+", "", line).strip()
        if not line or line.startswith("<!--"):
            continue
        if line.startswith("_") and line.endswith("_"):
            return ""  # "_No key points found._"
        return first_sentence(line)
    return ""


def _link_text(title: str) -> str:
    """A title written in markdown, safe inside a link's brackets."""
    return re.sub(r"(?<!\\)([\[\]])", r"\\\1", " ".join(title.split()))


def find_entries(settings: Settings, stored: Iterable[EntryRecord] = ()) -> tuple[list[DiaryEntry], list[str]]:
    """Every entry of the diary with its date, title and description; and the entry-like files without a date."""
    by_path = {record.path: record for record in stored}
    root = settings.diary
    entries: list[DiaryEntry] = []
    undated: list[str] = []
    for path, text in diary_pages(settings):
        relpath = diary_relpath(root, path)
        record = by_path.get(relpath)
        day = _entry_date(path, text, record)
        if day is None:
            # Only files that look like entries are worth a warning; a docs/ page is not one.
            if relpath.startswith(settings.entries_dir.rstrip("/") + "/") or _month_of(path.parent.name):
                undated.append(relpath)
            continue
        heading = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), "")
        if record is not None and record.title:
            title = md_inline(record.title)
        else:
            title = _link_text(heading) if heading else md_inline(path.stem)
        description = record.description if record is not None and record.description else key_points_sentence(text)
        # Cited paths are NFC in the README model; a file name may be NFD (macOS).
        path_nfc = unicodedata.normalize("NFC", relpath)
        entries.append(DiaryEntry(path_nfc, day, title, md_inline(description) if description else ""))
    return entries, undated


def entry_line(entry: DiaryEntry, readme_dir: str = "") -> str:
    """``* 11th: [Title](link): description``."""
    line = f"* {ordinal(entry.day.day)}: [{entry.title}]({entry_link(entry.path, readme_dir)})"
    return f"{line}: {entry.description}" if entry.description else line


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
    ups = sum(a < b for a, b in zip(keys, keys[1:]))
    downs = sum(a > b for a, b in zip(keys, keys[1:]))
    return default if ups == downs else downs > ups


@dataclass(frozen=True)
class IndexResult:
    new: str  # the README's text with the section rebuilt
    entries: int
    months: int
    added: int  # entries that had no line yet


def build_index(readme_text: str, entries: Sequence[DiaryEntry], heading: str = DEFAULT_HEADING) -> IndexResult:
    """README text with the section rebuilt (appended at the end when the README has none)."""
    doc = Readme.parse(readme_text, heading, create=True)
    eol = doc.newline
    known = {entry.path: entry for entry in entries}

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
        day_order.append((known[path].day.toordinal(),))

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
    by_month: dict[tuple[int, int], list[DiaryEntry]] = {}
    for entry in entries:
        by_month.setdefault((entry.day.year, entry.day.month), []).append(entry)
    all_months = sorted(set(by_month) | set(month_heading) | {m for m in kept if m is not None},
                        reverse=months_desc)

    body: list[str] = []
    intro = _trimmed(doc.intro)
    if intro:
        body += [_ended(line, eol) for line in intro] + [eol]
    added = 0
    for month in all_months:
        body += month_heading.get(month) or [f"### {date(month[0], month[1], 1):%B %Y}{eol}"]
        body += [_ended(line, eol) for line in month_intro.get(month, [])]
        ordered = sorted(by_month.get(month, []), key=lambda e: (e.day, e.path), reverse=days_desc)
        for entry in ordered:
            if entry.path in listed:
                body += [_ended(line, eol) for line in listed[entry.path]]
            else:
                body.append(entry_line(entry) + eol)
                added += 1
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
    return IndexResult(new, len(entries), len(all_months), added)


@dataclass(frozen=True)
class IndexPlan:
    """What ``paperdiary index`` would do: the README as read, the rebuilt section, the undated files."""

    readme: Path
    old: str  # README.md as read
    heading: str
    result: IndexResult
    undated: list[str]  # entry-like files left out for want of a date

    @property
    def up_to_date(self) -> bool:
        return self.result.new == self.old

    def diff(self) -> str:
        return unified_diff(self.old, self.result.new, README_NAME)


def plan_index(settings: Settings, heading: str = DEFAULT_HEADING) -> IndexPlan:
    """The README's section rebuilt from the entries on disk; nothing is written."""
    path = settings.diary / README_NAME
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DiaryError(f"no {README_NAME} in {settings.diary}.", hint="Run paperdiary init there, or pass --diary.")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiaryError(f"cannot read {path}: {exc}.") from None
    stored: list[EntryRecord] = []
    if settings.db_path.exists():
        with open_for_reading(settings.db_path) as store:
            stored = store.entries()
    entries, undated = find_entries(settings, stored)
    return IndexPlan(path, text, heading, build_index(text, entries, heading), undated)


def write_index(plan: IndexPlan) -> None:
    """Write the rebuilt section into README.md, unless README.md changed since it was read.

    The caller holds the diary's write lock (:func:`update_index` does both).
    """
    if plan.readme.read_bytes().decode("utf-8") != plan.old:
        raise DiaryError(f"{README_NAME} changed while indexing; nothing was written.", hint="Run it again.")
    atomic_write_text(plan.readme, plan.result.new)


def update_index(settings: Settings, heading: str = DEFAULT_HEADING) -> tuple[IndexPlan, bool]:
    """Rebuild the section and write it when it changed, both under the diary's write lock.

    Returns the plan and whether README.md was written. Planned under the lock, the
    README cannot change between reading and writing (``review apply`` waits).
    """
    with diary_lock(settings, "index --write"):
        plan = plan_index(settings, heading)
        if plan.up_to_date:
            return plan, False
        write_index(plan)
        return plan, True
