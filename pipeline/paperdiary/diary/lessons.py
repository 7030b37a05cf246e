"""Propose-lessons stage: a draft's candidate lessons (and the topic map's new themes) -> the diary's review queue.

Each lesson gets a stable ID (the same lesson from the same paper always gets
the same one), so appending twice adds nothing; so does a suggested theme (by
its name). The file's format is :mod:`paperdiary.diary.queue`'s.
"""

from __future__ import annotations

from typing import TypeVar

from paperdiary.diary.queue import (
    QUEUE_HEADER, QueuedLesson, QueuedTheme, append_items, check_fences, lesson_id, queue_lock, queued_ids, read_queue_text,
)
from paperdiary.fsutil import replace_diary_file
from paperdiary.settings import Settings
from paperdiary.stages.drafting.contract import Lesson


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
    """Append lessons to the queue file; returns the ones newly queued.

    ``own``: the user's own words (``review add``), kept as written; a lesson
    already applied or rejected in review is queued again only then.
    """
    items = [QueuedLesson(lesson_id(lesson, arxiv_id or source_entry), lesson, source_entry, arxiv_id)
             for lesson in lessons]
    # A drafted lesson the user already applied or rejected does not come back with a re-draft;
    # one they add by hand again is their call.
    return _append_new(settings, items, settled=not own, own=own)


def queue_theme_suggestions(settings: Settings, suggestions: list[QueuedTheme]) -> list[QueuedTheme]:
    """Append suggested new themes (:meth:`QueuedTheme.suggest`); returns the ones newly queued.

    A theme already queued, or applied or rejected in review, under the same name is not queued again.
    """
    return _append_new(settings, suggestions, settled=True)


_Item = TypeVar("_Item", QueuedLesson, QueuedTheme)


def _append_new(settings: Settings, items: list[_Item], *, settled: bool, own: bool = False) -> list[_Item]:
    """Append the items the queue does not hold yet (nor, with ``settled``, review applied or rejected)."""
    if not items:
        return []
    with queue_lock(settings):
        text = read_queue_text(settings)
        if text is None:
            text = QUEUE_HEADER
        check_fences(text, settings.queue_path)  # items an unclosed fence hides would be queued again, unseen
        present = queued_ids(text) | (_settled_ids(settings) if settled else set())
        added: list[_Item] = []
        for item in items:
            if item.id not in present:
                present.add(item.id)
                added.append(item)
        if added:
            replace_diary_file(settings.diary, settings.queue_path, append_items(text, added, own=own))
        return added
