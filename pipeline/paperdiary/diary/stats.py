"""Reading statistics of the diary, from the catalog: papers per week and month, the running total,
daily streaks, the busiest topics; and the block ``stats --readme`` keeps in README.md.

Only entries with a real date count (see ``CatalogEntry.dated``): a file's
mtime says when it was copied, not read. Plots of these numbers are
``diary/plots.py``'s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from paperdiary.diary.blocks import ReadmeBlock
from paperdiary.diary.catalog import CatalogEntry
from paperdiary.diary.dates import folder_month
from paperdiary.fsutil import relative_link

TOP_TOPICS = 10
STATS_BLOCK = ReadmeBlock("stats")  # <!-- paperdiary:stats --> ... <!-- /paperdiary:stats --> in README.md


@dataclass(frozen=True)
class Streak:
    days: int
    start: date | None = None
    end: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {"days": self.days, "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None}


@dataclass(frozen=True)
class ReadingStats:
    """What the diary says about the reading habit. Counts are entries (a paper read twice counts twice)."""

    total: int
    undated: int  # entries left out: dated only by their file's mtime
    first: date | None
    last: date | None
    per_day: tuple[tuple[date, tuple[str, ...]], ...]  # each day with entries, and their titles, oldest first
    per_week: tuple[tuple[str, int], ...]  # ISO week ("2025-W23") -> papers, every week from first to last
    per_month: tuple[tuple[str, int], ...]  # "2025-06" -> papers, every month from first to last
    current_streak: Streak  # consecutive days with an entry, up to today (or yesterday: today may come)
    longest_streak: Streak
    topics: tuple[tuple[str, int], ...]  # busiest first: README theme citing the entry most, else its topic folder

    def running_total(self) -> list[tuple[date, int]]:
        """(day, papers read up to and including it), for each day with entries."""
        out, total = [], 0
        for day, titles in self.per_day:
            total += len(titles)
            out.append((day, total))
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total, "undated": self.undated,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "per_week": [{"week": week, "papers": n} for week, n in self.per_week],
            "per_month": [{"month": month, "papers": n} for month, n in self.per_month],
            "running_total": [{"date": day.isoformat(), "total": n} for day, n in self.running_total()],
            "current_streak": self.current_streak.as_json(), "longest_streak": self.longest_streak.as_json(),
            "topics": [{"topic": topic, "papers": n} for topic, n in self.topics],
        }


def topic_of(entry: CatalogEntry) -> str | None:
    """The README theme citing the entry most, else its folder when that is a topic (not a month, not the root)."""
    if entry.themes:
        return entry.themes[0]
    parts = tuple(entry.folder.split("/")) if entry.folder else ()
    if not parts or folder_month(parts) is not None or (len(parts) == 1 and parts[0] == "entries"):
        return None
    return parts[-1]


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _streaks(days: Sequence[date]) -> list[Streak]:
    """Runs of consecutive days, in order."""
    runs: list[Streak] = []
    for day in days:
        if runs and runs[-1].end is not None and day - runs[-1].end == timedelta(days=1):
            runs[-1] = Streak(runs[-1].days + 1, runs[-1].start, day)
        else:
            runs.append(Streak(1, day, day))
    return runs


def reading_stats(entries: Sequence[CatalogEntry], today: date | None = None) -> ReadingStats:
    today = today or date.today()
    dated = sorted((e for e in entries if e.dated), key=lambda e: (e.date_read, e.relpath))
    by_day: dict[date, list[str]] = {}
    for entry in dated:
        by_day.setdefault(entry.date_read, []).append(entry.title)
    days = sorted(by_day)
    weeks: Counter[str] = Counter(_week(e.date_read) for e in dated)
    months: Counter[str] = Counter(f"{e.date_read:%Y-%m}" for e in dated)
    per_week: list[tuple[str, int]] = []
    per_month: list[tuple[str, int]] = []
    if days:
        monday = days[0] - timedelta(days=days[0].weekday())
        while monday <= days[-1]:
            per_week.append((_week(monday), weeks[_week(monday)]))
            monday += timedelta(days=7)
        year, month = days[0].year, days[0].month
        while (year, month) <= (days[-1].year, days[-1].month):
            key = f"{year:04d}-{month:02d}"
            per_month.append((key, months[key]))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    runs = _streaks(days)
    longest = max(runs, key=lambda run: run.days, default=Streak(0))  # the first of equals: the earliest
    latest = runs[-1] if runs else None
    current = latest if latest and latest.end and (today - latest.end).days <= 1 else Streak(0)
    topics = Counter(topic for e in dated if (topic := topic_of(e)) is not None)
    return ReadingStats(
        total=len(dated), undated=len(entries) - len(dated), first=days[0] if days else None,
        last=days[-1] if days else None, per_day=tuple((day, tuple(by_day[day])) for day in days),
        per_week=tuple(per_week), per_month=tuple(per_month), current_streak=current, longest_streak=longest,
        topics=tuple(sorted(topics.items(), key=lambda item: (-item[1], item[0]))[:TOP_TOPICS]),
    )


# --------------------------------------------------------------------------- README.md


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def readme_lines(stats: ReadingStats, png_relpath: str, html_relpath: str) -> list[str]:
    """The lines of the README's stats block: the image, a link to the interactive page and one line of figures.

    They hold nothing that changes without a new entry (no current streak), so writing the block
    twice is writing it once. The paths are relative to the diary root, where README.md is.
    """
    line = f"[Interactive plot]({relative_link(html_relpath)}): {stats.total} paper{'s' if stats.total != 1 else ''}"
    if stats.first and stats.last:
        line += f" from {_long(stats.first)} to {_long(stats.last)}"
    if stats.longest_streak.days > 1 and stats.longest_streak.start:
        line += f"; longest daily streak {stats.longest_streak.days} days from {_long(stats.longest_streak.start)}"
    return [f"![Papers read over time]({relative_link(png_relpath)})", "", line + "."]
