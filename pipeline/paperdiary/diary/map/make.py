"""``paperdiary map`` as a library call: the map built, drawn, compared with the themes, linked from README.

It writes the assets, README.md and the queue, so it runs under the diary's write lock. Needs the
``map`` extra (``paperdiary.extras.require_extra("map")``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from paperdiary.diary.assets import assets_folder
from paperdiary.diary.blocks import write_readme_block
from paperdiary.diary.lessons import queue_theme_suggestions
from paperdiary.diary.map.build import ClusterNamer, MapReporter, SilentMapReporter, TopicMap, build_map
from paperdiary.diary.map.embed import Embedder, embedder_for
from paperdiary.diary.map.render import MAP_BLOCK, MapFiles, readme_lines, write_map_files
from paperdiary.diary.map.suggest import SplitTheme, ThemeSuggestion, split_themes, theme_suggestions
from paperdiary.diary.queue import QueuedTheme
from paperdiary.diary.readme import README_NAME, readme_themes
from paperdiary.settings import Settings
from paperdiary.state.lock import diary_lock
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
            "written": list(self.files.written),  # the files that changed (the others are left alone)
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
    with diary_lock(settings, "map"):
        topic_map = build_map(settings, store, embedder or embedder_for(settings, store), namer=namer,
                              reporter=reporter)
        timings = dict(topic_map.timings)
        reporter.step_started("render", "Drawing the map")
        started = time.perf_counter()
        assets = assets_folder(settings)
        files = write_map_files(topic_map, assets)
        readme_changed = (write_readme_block(settings, MAP_BLOCK, readme_lines(topic_map, assets)) if readme
                          else None)
        timings["render"] = round(time.perf_counter() - started, 3)
        reporter.step_finished("render", timings["render"])
        themes = readme_themes(settings.diary / README_NAME, settings.lessons_heading)
        suggestions = theme_suggestions(topic_map, themes, settings.map_theme_min_entries)
        queued = queue_theme_suggestions(settings, [s.queued() for s in suggestions]) if suggest else []
    return MapOutcome(topic_map, files, suggestions, queued, suggest, split_themes(topic_map), readme_changed, timings)
