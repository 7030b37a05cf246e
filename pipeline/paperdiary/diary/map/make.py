"""``paperdiary map`` as a library call: the map built, drawn, compared with the themes, linked from README.

Needs the ``map`` extra (:func:`paperdiary.diary.map.require_map_extra`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from paperdiary.diary.lessons import queue_theme_suggestions
from paperdiary.diary.map.build import ClusterNamer, MapReporter, SilentMapReporter, TopicMap, build_map
from paperdiary.diary.map.embed import Embedder, embedder_for
from paperdiary.diary.map.render import MapFiles, readme_block, with_readme_block, write_map_files
from paperdiary.diary.map.suggest import SplitTheme, ThemeSuggestion, split_themes, theme_suggestions
from paperdiary.diary.queue import QueuedTheme
from paperdiary.diary.readme import README_NAME, readme_themes
from paperdiary.errors import DiaryError
from paperdiary.fsutil import atomic_write_text
from paperdiary.settings import Settings
from paperdiary.state.store import Store


@dataclass
class MapOutcome:
    topic_map: TopicMap
    files: MapFiles
    suggestions: list[ThemeSuggestion]  # clusters no theme covers
    queued: list[QueuedTheme]  # those newly added to the review queue
    suggest: bool  # suggestions were offered to the queue (not --no-suggest)
    splits: list[SplitTheme]
    readme_changed: bool | None  # None: --readme not asked
    timings: dict[str, float] = field(default_factory=dict)

    def as_json(self, settings: Settings) -> dict[str, Any]:
        root = settings.diary
        return {
            **self.topic_map.as_json(),
            "outputs": {"html": self.files.html.relative_to(root).as_posix(),
                        "png": self.files.png.relative_to(root).as_posix()},
            "theme_suggestions": [s.as_json() for s in self.suggestions],
            "queued": [item.id for item in self.queued],
            "split_themes": [s.as_json() for s in self.splits],
            "readme_updated": self.readme_changed,
            "timings": self.timings,
        }


def make_map(settings: Settings, store: Store, *, embedder: Embedder | None = None, namer: ClusterNamer | None = None,
             readme: bool = False, suggest: bool = True, reporter: MapReporter | None = None) -> MapOutcome:
    """Build and draw the map; queue new-theme suggestions (``suggest``); update README's map block (``readme``)."""
    reporter = reporter or SilentMapReporter()
    topic_map = build_map(settings, store, embedder or embedder_for(settings, store), namer=namer,
                          reporter=reporter)
    timings = dict(topic_map.timings)
    reporter.step_started("render", "Drawing the map")
    started = time.perf_counter()
    files = write_map_files(topic_map, settings.diary)
    readme_changed = _update_readme(settings, topic_map) if readme else None
    timings["render"] = round(time.perf_counter() - started, 3)
    reporter.step_finished("render", timings["render"])
    themes = readme_themes(settings.diary / README_NAME, settings.lessons_heading)
    suggestions = theme_suggestions(topic_map, themes, settings.map_theme_min_entries)
    queued = queue_theme_suggestions(settings, [s.queued() for s in suggestions]) if suggest else []
    return MapOutcome(topic_map, files, suggestions, queued, suggest, split_themes(topic_map), readme_changed, timings)


def _update_readme(settings: Settings, topic_map: TopicMap) -> bool:
    """Put the map block in README.md (between its markers, else at its end); True when the file changed."""
    path = settings.diary / README_NAME
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DiaryError(f"no {README_NAME} in {settings.diary} for --readme.",
                         hint="Run paperdiary init there, or drop --readme.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiaryError(f"cannot read {path}: {exc}.") from None
    updated = with_readme_block(text, readme_block(topic_map))
    if updated == text:
        return False
    atomic_write_text(path, updated)
    return True
