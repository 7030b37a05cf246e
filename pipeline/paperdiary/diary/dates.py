"""Dates as diarists write them: read them from text, settle day-first against month-first, repair typos.

Reading and resolving are separate steps. :func:`written_dates` turns a line
such as ``Date read: 4th Juen 2205`` into a :class:`WrittenDate` holding every
reading of it (``05/06/2025`` has two) without deciding anything that needs
context, so the result depends on the text alone and can be cached by file
hash. :func:`resolve` then picks the date with a :class:`DateContext`: the
entry's month folder ("June 2025"), and the dates its neighbours in the same
folder give unambiguously.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MONTH_EXACT = {name: n for n, name in enumerate(MONTHS, 1)} | {name[:3]: n for n, name in enumerate(MONTHS, 1)}
_MONTH_EXACT["sept"] = 9
_EARLIEST_YEAR = 1990  # a diary of papers read: earlier years are typos

# A date line: "Date read: 4th June 2025", "**Date:** 23rd May 2025", "- Date - 2025-06-04", "📅 Read on 4 June".
_DATE_LABEL = re.compile(
    r"^[^\w\n]{0,8}(?:date\s+read|date\s+of\s+reading|read\s+on|date)\b[ \t*_]*"
    r"(?P<sep>:|(?<=\s)[-–—](?=\s))?[ \t*_]*(?P<value>.*)$",  # "Date - 4 June", not "Date-based"
    re.IGNORECASE | re.MULTILINE,
)
_MONTH_WORD = r"([A-Za-z]{3,9})\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_YMD = re.compile(r"(?<!\d)(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d])")
_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d])")
_DAY_MONTH_YEAR = re.compile(rf"(?<!\d)(\d{{1,2}}){_ORDINAL}(?:\s+of)?[\s\-]+{_MONTH_WORD},?[\s\-]+(\d{{4}})(?!\d)", re.I)
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH_WORD}[\s\-]+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})(?!\d)", re.I)
_BARE_LINE_NOISE = re.compile(r"^[\s>*_#`~-]*(?:[-*+]\s+)?|[\s*_`~.]*$")
_WEEKDAY = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.I)
_FOLDER_MONTH = (
    re.compile(rf"{_MONTH_WORD}[\s_\-]*(\d{{4}})", re.I),  # June 2025, Jun-2025
    re.compile(rf"(\d{{4}})[\s_\-]*{_MONTH_WORD}", re.I),  # 2025 June
)
_FOLDER_NUMERIC = re.compile(r"(\d{4})[-_.](\d{1,2})|(\d{1,2})[-_.](\d{4})")  # 2025-06, 06-2025
_FOLDER_MONTH_ONLY = re.compile(rf"(?:(\d{{1,2}})[\s_\-]*)?(?:{_MONTH_WORD})?")  # "06", "June", "06-June" below a year
_FILE_DAY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)", re.I)  # 11thJuneTokenEntropy.md
_FILE_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")  # 2025-06-11-token-entropy.md



class Order(str, Enum):
    """What a numeric date proves about how its writer orders day and month."""

    DAY_FIRST = "day-first"  # 30/05/2025
    MONTH_FIRST = "month-first"  # 05/30/2025
    UNKNOWN = ""  # 05/06/2025, or a date with the month in words


@dataclass(frozen=True)
class WrittenDate:
    """A date as written in an entry, with every reading of it; context picks one (:func:`resolve`).

    ``readings`` are (year, month, day), the day-first one first; years are as
    written, so ``2205`` is kept for the repair that needs context. ``order``
    says what a numeric date proves about the writer's habit: ``30/05/2025``
    is day-first, ``05/30/2025`` month-first, ``05/06/2025`` proves nothing (UNKNOWN).
    """

    text: str
    readings: tuple[tuple[int, int, int], ...]
    order: Order = Order.UNKNOWN
    month_repaired: bool = False  # "Juen" read as June

    def as_json(self) -> dict[str, object]:
        return {"text": self.text, "readings": [list(r) for r in self.readings], "order": self.order.value,
                "month_repaired": self.month_repaired}

    @classmethod
    def from_json(cls, data: dict) -> WrittenDate:
        readings = tuple((int(y), int(m), int(d)) for y, m, d in data["readings"])
        return cls(str(data["text"]), readings, Order(data["order"]), bool(data["month_repaired"]))


@dataclass(frozen=True)
class DateContext:
    """What an entry's surroundings say about its date."""

    folder_month: tuple[int, int] | None = None  # (year, month) of its month folder
    neighbour_dates: tuple[date, ...] = ()  # unambiguous dates of the other entries in its folder
    neighbour_order: Order = Order.UNKNOWN  # the habit their numeric dates agree on

    @property
    def year(self) -> int | None:
        """The year the surroundings point at: the folder's, else the neighbours' most common."""
        if self.folder_month:
            return self.folder_month[0]
        if self.neighbour_dates:
            return Counter(d.year for d in self.neighbour_dates).most_common(1)[0][0]
        return None


@dataclass(frozen=True)
class ResolvedDate:
    day: date
    repaired: bool = False  # a typo in the year or the month name was corrected
    ambiguous: bool = False  # nothing settled day-first against month-first: read day-first


# --------------------------------------------------------------------------- months


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit ("Juen" -> "June" is 1)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def month_number(word: str) -> tuple[int, bool] | None:
    """(month, repaired) for a month name or its abbreviation; one typo is forgiven ("Juen", "Febuary")."""
    word = word.lower().rstrip(".")
    if word in _MONTH_EXACT:
        return _MONTH_EXACT[word], False
    if len(word) < 4:
        return None
    close = {n for n, name in enumerate(MONTHS, 1) if _distance(word, name) == 1}
    return (close.pop(), True) if len(close) == 1 else None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --------------------------------------------------------------------------- reading


def parse_written(text: str) -> WrittenDate | None:
    """The first date written in ``text``, in any common form, with all its readings."""
    found: list[tuple[int, WrittenDate]] = []
    if m := _YMD.search(text):
        found.append((m.start(), WrittenDate(m[0], ((int(m[1]), int(m[3]), int(m[4])),))))
    for m in _NUMERIC.finditer(text):
        first, second = int(m[1]), int(m[3])
        year = int(m[4]) + (2000 if len(m[4]) == 2 else 0)
        if first > 12 and second <= 12:
            written = WrittenDate(m[0], ((year, second, first),), Order.DAY_FIRST)
        elif second > 12 and first <= 12:
            written = WrittenDate(m[0], ((year, first, second),), Order.MONTH_FIRST)
        elif first <= 12 and second <= 12:
            readings = ((year, second, first),) if first == second else ((year, second, first), (year, first, second))
            written = WrittenDate(m[0], readings)
        else:
            continue
        found.append((m.start(), written))
        break
    for pattern, (day_group, month_group) in ((_DAY_MONTH_YEAR, (1, 2)), (_MONTH_DAY_YEAR, (2, 1))):
        for m in pattern.finditer(text):
            month = month_number(m[month_group])
            if month:
                found.append((m.start(), WrittenDate(m[0], ((int(m[3]), month[0], int(m[day_group])),),
                                                     month_repaired=month[1])))
                break
    return min(found, key=lambda item: item[0])[1] if found else None


def written_dates(text: str, head_lines: int = 12) -> tuple[list[WrittenDate], list[str]]:
    """Dates an entry states it was read on, in file order; and its date lines that hold no readable date.

    A labelled line counts anywhere (``Date read: ...``, ``**Date:** ...``);
    a line that is nothing but a date counts among the first ``head_lines``.
    """
    dates: list[WrittenDate] = []
    unread: list[str] = []
    for m in _DATE_LABEL.finditer(text):
        if written := parse_written(m["value"]):
            dates.append(written)
        elif m["sep"] and m["value"].strip():
            unread.append(m[0].strip())
    for line in text.splitlines()[:head_lines]:
        bare = _WEEKDAY.sub("", _BARE_LINE_NOISE.sub("", line))
        written = parse_written(bare) if bare else None
        if written and written.text == bare and written not in dates:
            dates.append(written)
    return dates, unread


# --------------------------------------------------------------------------- folders and file names


def folder_month(folder_parts: Sequence[str]) -> tuple[int, int] | None:
    """(year, month) a folder names: ``June 2025``, ``2025-06``, or ``2025/June`` / ``2025/06``."""
    if not folder_parts:
        return None
    name = folder_parts[-1].strip()
    for pattern in _FOLDER_MONTH:
        if (m := pattern.fullmatch(name)) and (month := _exact_month(m)):
            year = int(m[2] if pattern is _FOLDER_MONTH[0] else m[1])
            return year, month
    if m := _FOLDER_NUMERIC.fullmatch(name):
        year, month = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
        return (year, month) if 1 <= month <= 12 else None
    if len(folder_parts) > 1 and re.fullmatch(r"\d{4}", folder_parts[-2].strip()):
        m = _FOLDER_MONTH_ONLY.fullmatch(name)
        if m and (m[1] or m[2]):
            number = int(m[1]) if m[1] else None
            named = _MONTH_EXACT.get(m[2].lower()) if m[2] else None
            month = number or named
            if month and 1 <= month <= 12 and (named is None or number in (None, named)):
                return int(folder_parts[-2]), month
    return None


def _exact_month(m: re.Match[str]) -> int | None:
    word = next(g for g in m.groups() if g and not g.isdigit())
    return _MONTH_EXACT.get(word.lower())


def folder_and_filename_date(folder_parts: Sequence[str], filename: str) -> date | None:
    """A full date in the file name (``2025-06-11-x.md``), or its day (``11thJune...``) in a month folder."""
    stem = filename.rsplit(".", 1)[0]
    if m := _FILE_DATE.search(stem):
        if found := _valid(int(m[1]), int(m[2]), int(m[3])):
            return found
    month = folder_month(folder_parts)
    if month and (m := _FILE_DAY.match(stem)):
        return _valid(month[0], month[1], int(m[1]))
    return None


# --------------------------------------------------------------------------- resolving


def _plausible(year: int, today: date) -> bool:
    return _EARLIEST_YEAR <= year <= today.year + 1


def _repair_year(year: int, expected: int | None) -> int | None:
    """``expected`` when ``year`` is an obvious typo of it: the same digits swapped (2205, 2052) or one wrong."""
    if expected is None:
        return None
    written, wanted = str(year), str(expected)
    if len(written) != len(wanted):
        return None
    if sorted(written) == sorted(wanted) or sum(a != b for a, b in zip(written, wanted, strict=False)) == 1:
        return expected
    return None


def resolve(written: WrittenDate, context: DateContext, today: date | None = None) -> ResolvedDate | None:
    """The date ``written`` means in its context; None when no reading is a valid date, even repaired."""
    today = today or date.today()
    candidates: list[ResolvedDate] = []
    for year, month, day in written.readings:
        repaired = written.month_repaired
        if not _plausible(year, today):
            fixed = _repair_year(year, context.year)
            if fixed is None:
                continue
            year, repaired = fixed, True
        if (found := _valid(year, month, day)) and found not in [c.day for c in candidates]:
            candidates.append(ResolvedDate(found, repaired))
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    # Two readings (05/06/2025): a day not come yet is no day read; then the folder's month, the
    # neighbours' habit, their dates decide.
    past = [c for c in candidates if c.day <= today]
    if len(past) == 1:
        return past[0]
    if context.folder_month:
        matching = [c for c in candidates if (c.day.year, c.day.month) == context.folder_month]
        if len(matching) == 1:
            return matching[0]
    if context.neighbour_order:
        return candidates[0] if context.neighbour_order is Order.DAY_FIRST else candidates[1]
    if context.neighbour_dates:
        gaps = [min(abs((c.day - n).days) for n in context.neighbour_dates) for c in candidates]
        if gaps[0] != gaps[1]:
            return candidates[gaps.index(min(gaps))]
    first = candidates[0]
    return ResolvedDate(first.day, first.repaired, ambiguous=True)


def neighbour_order(orders: Sequence[Order]) -> Order:
    """The numeric habit of a folder's entries: the one order their dates prove, else UNKNOWN."""
    seen = set(orders) - {Order.UNKNOWN}
    return seen.pop() if len(seen) == 1 else Order.UNKNOWN
