"""The review queue file (``LESSONS-QUEUE.md``): its format, written and parsed in this one place.

A markdown checklist the user can read and tick on a phone, and that diffs well
in git; each item is a lesson with its stable ID, suggested theme, source entry
and why it was proposed::

    - [ ] **Key phrase** of the lesson ...
      - id: `8c1f2a3b`
      - theme: Reinforcement Learning
      - kind: add
      - source: [11thJuneX](entries/June%202025/11thJuneX.md) (arXiv 2506.01939)
      - why: Finding stated in the abstract.

The topic map (``paperdiary map``) adds a second kind of item, a suggested new
theme, reviewed the same way (accepting it creates the theme's heading)::

    - [ ] New theme: **Diffusion, Denoising** (5 entries)
      - id: `3f0c9a1e`
      - item: new theme
      - theme: Diffusion, Denoising
      - members: [4thJuneDDPM](entries/June%202025/4thJuneDDPM.md), ...
      - why: A cluster of the topic map that no README theme covers.

The theme is the drafter's suggestion until review decides; from then on a
lesson shows its current text, theme and kind (add, extend, new_theme), so the
file read on a phone is never stale; a theme other than the suggested one keeps
the suggestion beside it (``- theme: Robotics (suggested: Biology)``).
:func:`append_items` writes items; :class:`QueueFile` reads the file back the way
a person leaves it, and edits it line by line so everything else stays as written.
Who writes when is the callers' business (``lessons`` appends, ``review`` decides),
under :func:`queue_lock`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from paperdiary.diary.markdown import Link, LinkKind, parse
from paperdiary.errors import QueueFileError
from paperdiary.fsutil import read_diary_bytes, relative_link
from paperdiary.settings import Settings
from paperdiary.state.lock import open_state_file
from paperdiary.stages.drafting.contract import Lesson
from paperdiary.templates import md_inline
from paperdiary.text import clean_text, line_body, line_ending, split_lines, strip_controls

QUEUE_HEADER = """# Lessons queue

Candidate lessons from drafted entries, waiting for review. Tick a box (`- [x]`) to accept a
lesson, even from your phone; `paperdiary review` places accepted lessons under the README's themes.
"""


@dataclass
class QueuedLesson:
    """A lesson as queued for review: its stable ID and where it came from."""

    id: str
    lesson: Lesson
    source_entry: str  # relpath of the entry, relative to the diary root; "" for none
    arxiv_id: str | None = None


class ItemKind(str, Enum):
    """What a queue item proposes: a lesson for a theme, or a new theme (from the topic map)."""

    LESSON = "lesson"
    NEW_THEME = "new theme"


@dataclass(frozen=True)
class QueuedTheme:
    """A new theme suggested for review: its name and the entries it would gather."""

    id: str
    name: str
    members: tuple[str, ...]  # entry paths relative to the diary root
    why: str

    @classmethod
    def suggest(cls, name: str, members: Iterable[str], why: str) -> QueuedTheme:
        return cls(theme_suggestion_id(name), name, tuple(members), why)


def theme_suggestion_id(name: str) -> str:
    """A suggested theme's stable ID: the same name is the same suggestion, whatever its members now."""
    folded = " ".join(name.casefold().split())
    return hashlib.sha256(f"new theme\n{folded}".encode()).hexdigest()[:8]


def lesson_id(lesson: Lesson, source: str) -> str:
    """The lesson's stable ID: the same words from the same paper (or entry) always get the same one."""
    normalised = " ".join(lesson.text.lower().split())
    return hashlib.sha256(f"{source}\n{normalised}".encode()).hexdigest()[:8]


# --------------------------------------------------------------------------- writing


def format_item(item: QueuedLesson, *, own: bool = False) -> str:
    """One queue item. ``own``: the user's own words (``review --add``), kept as written on one line.

    Drafted lessons are untrusted text and go through ``md_inline``; an item
    without a source entry says so.
    """
    lesson = item.lesson
    if item.source_entry:
        name = Path(item.source_entry).stem
        source = f"[{md_inline(name)}]({relative_link(item.source_entry)})"
    else:
        source = "none"
    if item.arxiv_id:
        source += f" (arXiv {item.arxiv_id})"
    text = clean_text(lesson.text) if own else md_inline(lesson.text)
    lines = [
        f"- [ ] {text}",
        f"  - id: `{item.id}`",
        f"  - theme: {md_inline(lesson.theme) if lesson.theme else '(none suggested)'}",
        f"  - source: {source}",
    ]
    if lesson.why:
        lines.append(f"  - why: {md_inline(lesson.why)}")
    if not lesson.verified:
        lines.append("  - ⚠ unverified: its supporting quote was not found in the paper")
    return "\n".join(lines) + "\n"


def format_theme_item(item: QueuedTheme) -> str:
    """One suggested theme: its name (untrusted: it may come from a model) and its members, linked."""
    name = md_inline(item.name)
    members = ", ".join(f"[{md_inline(Path(path).stem)}]({relative_link(path)})" for path in item.members)
    count = len(item.members)
    lines = [
        f"- [ ] New theme: **{name}** ({count} entr{'ies' if count != 1 else 'y'})",
        f"  - id: `{item.id}`",
        f"  - item: {ItemKind.NEW_THEME.value}",
        f"  - theme: {name}",
        f"  - members: {members or 'none'}",
    ]
    if item.why:
        lines.append(f"  - why: {md_inline(item.why)}")
    return "\n".join(lines) + "\n"


def append_items(text: str, items: Iterable[QueuedLesson | QueuedTheme], *, own: bool = False) -> str:
    """The queue file's ``text`` with ``items`` added at its end (``own``: see :func:`format_item`).

    A code fence left open at the end is closed first, or it would swallow the items (see :func:`check_fences`).
    """
    if not text.endswith("\n"):
        text += "\n"
    opened = parse(text).open_fence()
    if opened is not None:
        text += opened.markup + _newline(split_lines(text))
    return text + "".join(
        "\n" + (format_theme_item(item) if isinstance(item, QueuedTheme) else format_item(item, own=own))
        for item in items)


def queued_ids(text: str) -> set[str]:
    """The IDs of the lessons a queue file holds."""
    return {item.id for item in QueueFile.parse(text).items}


@contextmanager
def queue_lock(settings: Settings) -> Iterator[None]:
    """Hold the queue file's lock: one writer at a time (drafts append, review rewrites)."""
    # Several drafts may append at once (catch-up runs in parallel), and review rewrites the file.
    fd = open_state_file(settings, "queue.lock")  # never through a symlink
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- reading


_ITEM_START = re.compile(r" {0,3}[-*+][ \t]+\[([ xX])\](?=[ \t]|$)[ \t]*(.*)")
_FIELD = re.compile(r"[ \t]+[-*+][ \t]+([A-Za-z][A-Za-z ]{0,20}?)[ \t]*:[ \t]*(.*)")
_BLOCK_START = re.compile(r"(?:#{1,6}(?:[ \t]|$)|[-*+][ \t]|\d{1,9}[.)][ \t]|>|```|~~~)")
_ARXIV = re.compile(r"\(arXiv ([^)\s]+)\)")
def check_fences(text: str, path: Path) -> None:
    """Refuse a queue file whose unclosed code fence hides items: nothing after it would be reviewed or counted.

    An unclosed fence that hides no item is no harm: :func:`append_items` closes it before appending.
    """
    doc = parse(text)
    opened = doc.open_fence()
    if opened is None:
        return
    hidden = sum(1 for line in doc.lines[opened.start + 1:] if _ITEM_START.match(line_body(line)))
    if hidden:
        raise QueueFileError(
            "the lessons queue {path} opens a code fence at {detail} that is never closed, so the "
            f"{hidden} item{'s' if hidden != 1 else ''} after it read as code.", path=path,
            detail=f"line {opened.start + 1}",
            hint=f"Close it with a {opened.markup} line where its code ends, then run the command again.")


@dataclass(frozen=True)
class QueueItem:
    """One lesson of the queue file, as the user left it."""

    id: str
    text: str  # the lesson's markdown, its lines joined into one
    checked: bool  # "[x]": accepted
    theme: str | None  # the theme review last placed it in, else the drafter's suggestion
    source: str  # the entry's path relative to the diary root; "" for none
    arxiv_id: str | None
    why: str | None
    start: int = field(repr=False)  # first line (the blank lines before it included) in QueueFile.lines
    end: int = field(repr=False)
    item_kind: ItemKind = ItemKind.LESSON  # a lesson, or a new theme the topic map suggests
    members: tuple[str, ...] = ()  # a new theme's entries (diary-relative paths)
    kind: str | None = None  # how review last placed a lesson: add, extend, new_theme, duplicate
    suggested: str | None = None  # the drafter's suggested theme


@dataclass(frozen=True)
class QueueFile:
    """The queue file as lines (each with its own ending) and the items among them.

    It is parsed the way a person edits it on a phone: ``- [X]`` and ``* [x]``
    tick a box, CRLF endings stay, sub-bullets come in any order, notes and
    other text are kept untouched, an item may lose its ID line (it gets one
    derived from its words). Each item owns the blank lines before it, so
    removing one leaves the spacing of the rest as it was. Code fences are
    code: nothing inside one is an item, a tick or a field. What an item says
    is stripped of control characters and terminal escapes (:func:`strip_controls`).
    """

    lines: tuple[str, ...]
    items: tuple[QueueItem, ...]

    @classmethod
    def parse(cls, text: str) -> QueueFile:
        lines = split_lines(text)
        bodies = [line_body(line) for line in lines]
        items: list[QueueItem] = []
        seen: set[str] = set()
        fenced = parse(text).fence_lines  # their `- [x]` is code, not an item or a tick
        starts = [n for n, body in enumerate(bodies) if n not in fenced and _ITEM_START.match(body)]
        for k, first in enumerate(starts):
            limit = starts[k + 1] if k + 1 < len(starts) else len(lines)
            end = first + 1
            fields: dict[str, str] = {}
            text_parts = [_ITEM_START.match(bodies[first])[2]]  # type: ignore[index]
            n = first + 1
            while n < limit:
                body = bodies[n]
                if not body.strip():
                    nxt = next((j for j in range(n, limit) if bodies[j].strip()), limit)
                    if nxt == limit or not bodies[nxt][:1].isspace():
                        break  # blank lines, then something that is not the item's: the item ended
                    n = nxt
                    continue
                indented = body[:1].isspace()
                if n in fenced:
                    if not indented:
                        break  # a code block of the user's after the item
                elif m := _FIELD.match(body):
                    fields.setdefault(" ".join(m[1].lower().split()), strip_controls(m[2]).strip())
                elif not fields and not _BLOCK_START.match(body.lstrip()):
                    text_parts.append(body.strip())  # the lesson wrapped onto more lines
                elif not indented:
                    break  # unindented text after the sub-bullets: a note of the user's, not the item's
                n += 1
                end = n
            start = first
            while start > 0 and not bodies[start - 1].strip() and (not items or start - 1 >= items[-1].end):
                start -= 1
            text = clean_text(" ".join(text_parts))
            source, arxiv_id = _parse_source(fields.get("source", ""))
            theme, suggested = _parse_theme(fields.get("theme", ""))
            item_kind = ItemKind.NEW_THEME if _fold(fields.get("item", "")) == ItemKind.NEW_THEME.value else ItemKind.LESSON
            members = tuple(link.path.lstrip("/") for link in _local_links(fields.get("members", "")))
            item_id = fields.get("id", "").strip("` ").lower()
            if not re.fullmatch(r"[0-9a-f]{4,64}", item_id):
                item_id = (theme_suggestion_id(theme or text) if item_kind is ItemKind.NEW_THEME
                           else lesson_id(Lesson(text), arxiv_id or source))
            if item_id in seen or not text or (item_kind is ItemKind.NEW_THEME and not theme):
                continue  # a pasted copy of an item, an empty one, a nameless theme: left in the file, not reviewed
            seen.add(item_id)
            items.append(QueueItem(item_id, text, _ITEM_START.match(bodies[first])[1] != " ",  # type: ignore[index]
                                   theme, source, arxiv_id, fields.get("why") or None, start, end, item_kind, members,
                                   fields.get("kind") or None, suggested))
        return cls(tuple(lines), tuple(items))

    def render(self) -> str:
        return "".join(self.lines)

    def get(self, item_id: str) -> QueueItem | None:
        return next((item for item in self.items if item.id == item_id), None)

    def block(self, item: QueueItem) -> str:
        """The item's lines as written (with the blank lines before it)."""
        return "".join(self.lines[item.start : item.end])

    def with_checked(self, item_id: str, checked: bool) -> QueueFile:
        item = self.get(item_id)
        if item is None or item.checked == checked:
            return self
        at = next(n for n in range(item.start, item.end) if _ITEM_START.match(line_body(self.lines[n])))
        line = self.lines[at]
        box = line.index("[") + 1
        lines = list(self.lines)
        lines[at] = line[:box] + ("x" if checked else " ") + line[box + 1 :]
        return QueueFile.parse("".join(lines))

    def with_shown(self, item_id: str, *, text: str | None = None, theme: str | None = None,
                   kind: str | None = None) -> QueueFile:
        """The item showing ``text`` as its lesson (the user's words, kept on one line), its ``theme`` and
        ``kind`` (None: as written), and its ID line, which keeps its ID whatever its words become.

        Only those lines change: the tick, the user's notes and the other sub-bullets stay as written.
        """
        item = self.get(item_id)
        if item is None:
            return self
        block = list(self.lines[item.start : item.end])
        newline = _newline(self.lines)
        first = next(n for n, line in enumerate(block) if _ITEM_START.match(line_body(line)))
        wrapped = first + 1  # the lesson's own lines end where its sub-bullets (or notes) start
        while wrapped < len(block) and line_body(block[wrapped]).strip() and not _FIELD.match(
                line_body(block[wrapped])) and not _BLOCK_START.match(block[wrapped].lstrip()):
            wrapped += 1
        if text is not None:
            opening = _ITEM_START.match(line_body(block[first]))
            assert opening is not None
            ending = line_ending(block[wrapped - 1])
            block[first:wrapped] = [line_body(block[first])[: opening.start(2)] + " ".join(text.split()) + ending]
            wrapped = first + 1
        fields = {" ".join(m[1].lower().split()): n for n, line in enumerate(block)
                  if n > first and (m := _FIELD.match(line_body(line)))}
        indent = next((line_body(block[n])[: _FIELD.match(line_body(block[n])).start(1)]  # type: ignore[union-attr]
                       for n in sorted(fields.values())), "  - ")
        if theme and item.suggested and theme != item.suggested:
            theme = f"{theme} (suggested: {item.suggested})"
        wanted = [("id", f"`{item.id}`"), ("theme", md_inline(theme) if theme else None), ("kind", kind)]
        after = wrapped - 1  # each field goes after the one before it in the format, if it has to be added
        for name, value in wanted:
            if name in fields:
                at = fields[name]
                if value is not None:
                    line = block[at]
                    colon = line.index(":", len(indent) - 2)
                    block[at] = f"{line[: colon + 1]} {value}{line_ending(line)}"
                after = at
            elif value is not None:
                ending = newline
                if not line_ending(block[after]):  # the file's last line: the new one is, without an ending
                    block[after] += newline
                    ending = ""
                block.insert(after + 1, f"{indent}{name}: {value}{ending}")
                fields = {key: n + (n > after) for key, n in fields.items()}
                after += 1
        return QueueFile.parse("".join([*self.lines[: item.start], *block, *self.lines[item.end :]]))

    def without(self, ids: Iterable[str]) -> QueueFile:
        drop = set(ids)
        lines = list(self.lines)
        for item in reversed(self.items):
            if item.id in drop:
                del lines[item.start : item.end]
        if lines and self.lines and not self.lines[-1].endswith(("\n", "\r")):
            lines[-1] = line_body(lines[-1])  # the file ended without a newline: keep it so
        return QueueFile.parse("".join(lines))

    def with_lines(self, item_id: str, block: str) -> QueueFile:
        """The item's lines replaced by ``block`` (lines as :meth:`block` gives them)."""
        item = self.get(item_id)
        if item is None or self.block(item) == block:
            return self
        lines = [*self.lines[: item.start], *split_lines(block), *self.lines[item.end :]]
        return QueueFile.parse("".join(lines))

    def with_block(self, block: str, position: int) -> QueueFile:
        """Put an item's lines back before the item now at ``position`` (or at the end)."""
        lines = list(self.lines)
        at = self.items[position].start if position < len(self.items) else len(lines)
        if at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += _newline(lines)
        if not block.endswith(("\n", "\r")):
            block += _newline(lines)
        lines[at:at] = split_lines(block)
        return QueueFile.parse("".join(lines))


def _fold(value: str) -> str:
    return " ".join(value.replace("_", " ").casefold().split())


def _newline(lines: Sequence[str]) -> str:
    return "\r\n" if any(line.endswith("\r\n") for line in lines) else "\n"


_SUGGESTED = re.compile(r"(?P<theme>.*?)\s*\(suggested:\s*(?P<suggested>[^()]*?)\s*\)")


def _parse_theme(value: str) -> tuple[str | None, str | None]:
    """(current theme, suggested theme) from "Robotics (suggested: Biology)", "Robotics" or "(none suggested)"."""
    value = value.strip()
    if match := _SUGGESTED.fullmatch(value):
        return match["theme"] or None, match["suggested"] or None
    if value.startswith("(") and value.endswith(")"):
        return None, None  # "(none suggested)"
    return value or None, value or None


def _parse_source(value: str) -> tuple[str, str | None]:
    """(diary-relative entry path, arXiv ID) from "[name](entries/June%202025/x.md) (arXiv 2506.01939)"."""
    arxiv = _ARXIV.search(value)
    if links := _local_links(value):
        path = links[0].path
    else:
        bare = _ARXIV.sub("", value).strip().strip("`")
        path = bare if bare.lower().endswith(".md") else ""
    return path.lstrip("/"), arxiv[1] if arxiv else None


def _local_links(value: str) -> list[Link]:
    """The links to files a field's markdown holds, read as CommonMark (``<June 2025/x.md>`` and ``%20`` alike)."""
    return [link for link in parse(value).links if link.kind is LinkKind.INLINE and not link.image and link.local]


def read_queue(settings: Settings) -> QueueFile:
    """The diary's queue file as it is on disk; an empty one when there is none.

    Raises ``QueueFileError`` when an unclosed code fence hides items (:func:`check_fences`).
    """
    text = read_queue_text(settings) or ""
    check_fences(text, settings.queue_path)
    return QueueFile.parse(text)


def read_queue_text(settings: Settings) -> str | None:
    """The queue file's text, bytes as they are (a phone's CRLF kept); None when there is none.

    Raises ``QueueFileError`` for a file that cannot be read or is not UTF-8, and
    ``OutsideDiaryError`` for one that is a symlink out of the diary.
    """
    path = settings.queue_path
    try:
        return read_diary_bytes(settings.diary, path).decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise QueueFileError("the lessons queue {path} is not UTF-8 text ({detail}).", path=path,
                             detail=f"byte {exc.start}: {exc.reason}",
                             hint="Save it as UTF-8 (your editor's encoding setting), then run the command again."
                             ) from None
    except OSError as exc:
        raise QueueFileError("cannot read the lessons queue {path} ({detail}).", path=path,
                             detail=exc.strerror or str(exc), hint="Check its permissions.") from None
