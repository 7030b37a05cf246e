"""Propose-lessons stage: a draft's candidate lessons -> the diary's review queue.

The queue is a markdown file the user can read and tick on a phone, and that
diffs well in git. Each item has a stable ID (the same lesson from the same
paper always gets the same one), so appending twice adds nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from paperdiary.fsutil import atomic_write_text
from paperdiary.models import Lesson, QueuedLesson
from paperdiary.settings import Settings
from paperdiary.templates import md_inline

QUEUE_HEADER = """# Lessons queue

Candidate lessons from drafted entries, waiting for review. Tick a box (`- [x]`) to accept a
lesson, even from your phone; `paperdiary review` places accepted lessons under the README's themes.
"""
_ID_LINE = re.compile(r"^\s+- id: `(?P<id>[0-9a-f]{8,})`", re.MULTILINE)


def lesson_id(lesson: Lesson, source: str) -> str:
    normalised = " ".join(lesson.text.lower().split())
    return hashlib.sha256(f"{source}\n{normalised}".encode()).hexdigest()[:8]


def entry_link(relpath: str) -> str:
    """A markdown link target for a diary-relative path, URL-encoded the way GitHub wants it."""
    return quote(relpath, safe="/")


def format_item(item: QueuedLesson, *, own: bool = False) -> str:
    """One queue item. ``own``: the user's own words (``review --add``), kept as written on one line.

    Drafted lessons are untrusted text and go through ``md_inline``; an item
    without a source entry says so.
    """
    lesson = item.lesson
    if item.source_entry:
        name = Path(item.source_entry).stem
        source = f"[{md_inline(name)}]({entry_link(item.source_entry)})"
    else:
        source = "none"
    if item.arxiv_id:
        source += f" (arXiv {item.arxiv_id})"
    text = " ".join(lesson.text.split()) if own else md_inline(lesson.text)
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


def queued_ids(text: str) -> set[str]:
    return {m["id"] for m in _ID_LINE.finditer(text)}


@contextmanager
def queue_lock(settings: Settings) -> Iterator[None]:
    """Hold the queue file's lock: one writer at a time (drafts append, review rewrites)."""
    # Several drafts may append at once (catch-up runs in parallel), and review rewrites the file.
    settings.state_path.mkdir(parents=True, exist_ok=True)
    with open(settings.state_path / "queue.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _settled_ids(settings: Settings) -> set[str]:
    """IDs of lessons review has applied or rejected (they left the queue file)."""
    if not settings.db_path.exists():
        return set()
    from paperdiary.state.store import Store

    with Store(settings.db_path) as store:
        return {id_ for id_, record in store.review_records().items() if record.status in ("applied", "rejected")}


def queue_lessons(
    settings: Settings, lessons: list[Lesson], source_entry: str, arxiv_id: str | None, *, own: bool = False
) -> list[QueuedLesson]:
    """Append lessons to the queue file; returns the ones newly queued (``own``: see :func:`format_item`)."""
    if not lessons:
        return []
    with queue_lock(settings):
        path = settings.queue_path
        # Bytes, not universal newlines: a queue edited on a phone keeps its CRLF lines.
        text = path.read_bytes().decode("utf-8") if path.exists() else QUEUE_HEADER
        # A drafted lesson the user already applied or rejected does not come back with a re-draft;
        # one they add by hand again is their call.
        present = queued_ids(text) | (set() if own else _settled_ids(settings))
        added: list[QueuedLesson] = []
        for lesson in lessons:
            item = QueuedLesson(lesson_id(lesson, arxiv_id or source_entry), lesson, source_entry, arxiv_id)
            if item.id in present:
                continue
            present.add(item.id)
            added.append(item)
        if added:
            if not text.endswith("\n"):
                text += "\n"
            text += "".join("\n" + format_item(item, own=own) for item in added)
            atomic_write_text(path, text)
        return added
