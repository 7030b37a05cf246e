"""Where a new entry goes when ``entry_path`` is not set: where the diary already keeps its entries.

The catalog's notes show the shape. Their common folder is found by going down while one
subfolder holds three quarters of the notes below it, or holds the most of them and is named
like a container of notes (``papers/`` beside ``talks/``). Below that folder the notes are

* flat: most of them sit in it directly;
* in month folders (``June 2025/``, ``2025-06/``, ``2025/June/``): most subfolders name a month;
* in year folders (``2024/``): most subfolders are years;
* in topic folders otherwise: a new entry goes into the folder whose words match its theme
  (or its title) best, else into a new folder named after its theme in the folders' style.

File names follow the notes' own style: the paper's title with spaces, a lowercase slug with
hyphens or underscores, a ``2018-1-6-`` date prefix, or the ``11thJune`` day of the default layout.
A diary with fewer than three notes gets the default layout below ``entries_dir``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from paperdiary.diary.catalog import CatalogEntry
from paperdiary.diary.dates import folder_month
from paperdiary.diary.readme import theme_folder
from paperdiary.settings import DEFAULT_ENTRY_PATH, Settings
from paperdiary.stages.entry import safe_component, slug

MIN_NOTES = 3  # fewer notes show no shape
_MOST = 0.75  # a subfolder holding this share of the notes below is where they are kept
_STYLE = 0.6  # this share of file names in one style makes it the diary's
# Folder names that say "the notes are in here" rather than naming a topic.
CONTAINER_NAMES = frozenset({
    "notes", "papers", "paper", "paper-notes", "paper_notes", "papernotes", "entries", "posts", "_posts",
    "summaries", "reviews", "reading", "readings", "diary", "content", "articles", "md",
})
_DATE_PREFIX = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[-_ ]")
_ORDINAL_DAY = re.compile(r"^\d{1,2}(?:st|nd|rd|th)[A-Z]", re.IGNORECASE)
_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"a", "an", "and", "for", "in", "of", "on", "the", "to", "with", "via", "by", "from", "is"})


class ShapeKind(StrEnum):
    SET = "entry_path setting"
    NEW = "default layout"
    MONTHS = "month folders"
    YEARS = "year folders"
    TOPICS = "topic folders"
    FLAT = "one flat folder"


@dataclass(frozen=True)
class DiaryShape:
    """How the diary files its entries: a folder (diary-relative, "" for the root) and a pattern below it."""

    kind: ShapeKind
    folder: str
    pattern: str  # an entry_path pattern below ``folder`` (topic folders: below the chosen topic)
    reason: str  # what `doctor` says about it
    topics: tuple[str, ...] = ()  # topic folders below ``folder`` holding notes, most notes first

    def place(self, theme: str, title: str) -> tuple[str, str]:
        """(folder, entry_path pattern) for a new entry with this suggested theme and paper title."""
        if self.kind is not ShapeKind.TOPICS:
            return self.folder, self.pattern
        topic = closest_topic(self.topics, theme, title) or self._new_topic(theme)
        return "/".join(part for part in (self.folder, topic) if part), self.pattern

    def _new_topic(self, theme: str) -> str:
        name = theme_folder(theme) if theme else "Unsorted"
        leaves = [t.rpartition("/")[2] for t in self.topics]
        if sum(bool(_KEBAB.fullmatch(leaf) or leaf.isalnum() and leaf.islower()) for leaf in leaves) > len(leaves) / 2:
            return slug(name)
        return safe_component(name)

    def describe(self) -> str:
        where = f"{self.folder}/" if self.folder else ""
        topic = "<topic>/" if self.kind is ShapeKind.TOPICS else ""
        shown = ", ".join(f"{t}/" for t in self.topics[:4]) + (", ..." if len(self.topics) > 4 else "")
        return (f"new entries go to {where}{topic}{self.pattern}{'' if where else ' at the diary root'} "
                f"({self.kind}{': ' + shown if shown else ''}; {self.reason})")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def closest_topic(topics: Sequence[str], theme: str, title: str) -> str:
    """The topic folder whose name is the theme, else shares the most words with the theme, else with the
    title; "" when none shares a word."""
    wanted = _words(theme_folder(theme)) if theme else set()
    for topic in topics:
        if wanted and _words(topic.rpartition("/")[2]) == wanted:
            return topic
    for words in (wanted, _words(title)):
        # Most shared words; on a tie, the folder with the most notes (topics come most notes first).
        overlap, topic = max(((len(words & _words(t)), t) for t in reversed(topics)), default=(0, ""),
                             key=lambda scored: scored[0])
        if overlap:
            return topic
    return ""


def _common_folder(folders: list[tuple[str, ...]]) -> tuple[str, ...]:
    root: tuple[str, ...] = ()
    while True:
        below = [parts for parts in folders if parts[:len(root)] == root]
        children = Counter(parts[len(root)] for parts in below if len(parts) > len(root))
        if not children:
            return root
        (name, count), *rest = children.most_common()
        direct = len(below) - sum(children.values())
        runner_up = rest[0][1] if rest else 0
        contains = name.lower() in CONTAINER_NAMES and count > max(direct, runner_up)
        if count < _MOST * len(below) and not contains:
            return root
        if re.fullmatch(r"\d{4}", name) or folder_month(root + (name,)):
            return root  # one month (or year) so far: the notes are kept by month, next month's go beside
        root += (name,)


def _name_pattern(stems: list[str], *, months: bool) -> str:
    """The file-name part of the pattern, in the style most of the notes' names share."""
    def share(test: re.Pattern[str], names: list[str]) -> bool:
        return bool(names) and sum(bool(test.search(n)) for n in names) >= _STYLE * len(names)

    prefix = ""
    if share(_DATE_PREFIX, stems):
        prefix, stems = "{year}-{month_num}-{day}-", [_DATE_PREFIX.sub("", s) for s in stems]
    if share(_ORDINAL_DAY, stems) or (months and not prefix and not stems):
        return "{ordinal_day}{month}{short_name}.md"
    if stems and sum(" " in s for s in stems) >= _STYLE * len(stems):
        return prefix + "{title}.md"
    lower = [s for s in stems if s == s.lower() and " " not in s]
    if stems and len(lower) >= _STYLE * len(stems):  # lowercase names: words joined the way most are
        return prefix + ("{snake}.md" if sum("_" in s for s in lower) > sum("-" in s for s in lower) else "{slug}.md")
    return prefix + ("{ordinal_day}{month}{short_name}.md" if months and not prefix else "{short_name}.md")


def _month_pattern(folders: list[tuple[str, ...]]) -> str:
    """The month folders' pattern: ``{month_year}`` (June 2025), ``{year}-{month_num}`` or ``{year}/{month}``."""
    styles: Counter[str] = Counter()
    for parts in folders:
        name = parts[-1]
        if len(parts) > 1 and re.fullmatch(r"\d{4}", parts[-2]):
            styles["{year}/{month_num}" if name.isdigit() else "{year}/{month}"] += 1
        elif re.fullmatch(r"\d{4}-\d{1,2}", name):
            styles["{year}-{month_num}"] += 1
        else:
            styles["{month_year}"] += 1
    return styles.most_common(1)[0][0] if styles else "{month_year}"


def diary_shape(settings: Settings, entries: Sequence[CatalogEntry]) -> DiaryShape:
    """The diary's shape: the ``entry_path`` setting when set, else what its notes show."""
    if settings.entry_path:
        return DiaryShape(ShapeKind.SET, settings.entries_dir, settings.entry_path, "set in the settings")
    notes = [e for e in entries if not e.outside]
    if len(notes) < MIN_NOTES:
        return DiaryShape(ShapeKind.NEW, settings.entries_dir, DEFAULT_ENTRY_PATH,
                          f"{len(notes)} entries: too few to show a shape")
    folders = [tuple(e.folder.split("/")) if e.folder else () for e in notes]
    root = _common_folder(folders)
    base = "/".join(root)
    kept = [(parts, e) for parts, e in zip(folders, notes, strict=True) if parts[:len(root)] == root]
    direct = [e for parts, e in kept if parts == root]
    nested = [(parts, e) for parts, e in kept if parts != root]
    stems = [e.relpath.rpartition("/")[2].rpartition(".")[0] for _, e in kept]
    held = f"{len(kept)} of {len(notes)} notes there"
    if len(direct) >= len(nested):
        return DiaryShape(ShapeKind.FLAT, base, _name_pattern(stems, months=False), held)
    month_folders = [parts for parts, _ in nested if folder_month(parts)]
    if len(month_folders) >= _STYLE * len(nested):
        below = [parts[len(root):] for parts in month_folders]
        pattern = f"{_month_pattern(below)}/{_name_pattern(stems, months=True)}"
        return DiaryShape(ShapeKind.MONTHS, base, pattern, held)
    year_folders = [parts for parts, _ in nested if len(parts) == len(root) + 1 and re.fullmatch(r"\d{4}", parts[-1])]
    if len(year_folders) >= _STYLE * len(nested):
        return DiaryShape(ShapeKind.YEARS, base, f"{{year}}/{_name_pattern(stems, months=False)}", held)
    topics = Counter("/".join(parts[len(root):]) for parts, _ in nested)
    return DiaryShape(ShapeKind.TOPICS, base, _name_pattern(stems, months=False), held,
                      tuple(t for t, _ in topics.most_common()))
