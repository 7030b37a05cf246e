"""The map against the README's themes: clusters no theme covers (new-theme suggestions), themes split apart.

A theme *covers* a cluster when either

* its lessons cite at least :data:`CITED_SHARE` of the cluster's entries: a lesson
  cites one or two papers, so even the theme a topic belongs to cites only some of
  its entries (a fifth is about what a theme of a dozen lessons cites of a topic of
  forty entries); below that, the shared entries are the odd paper that fits two
  topics; or
* its keywords (``paperdiary.themes``: hand-picked for the usual themes, else the
  words of its name) appear in the titles and descriptions of at least
  :data:`KEYWORD_SHARE` of the cluster's entries: a theme whose lessons cite few
  papers yet, but whose name says what the cluster is about.

A cluster of at least ``map_theme_min_entries`` entries that no theme covers is
suggested as a new theme, under its cluster's name, for review like any lesson,
when it is a topic: the map beats chance, the cluster is coherent (its members'
mean silhouette is at least :data:`COHESION_MIN`: closer to one another than to
the other clusters) and well named (its name's words are in the titles or
descriptions of at least :data:`NAMED_SHARE` of its entries, or the LLM named it).

A theme is *split* when its cited entries fall into two or more clusters holding
at least two of them each, and the two largest of those clusters are *distant*:
their centroids (in the reduced space) are farther apart than their members lie
from their own centroids on average. Closer than that, the two clusters overlap,
and the theme is one topic the clustering happened to cut in two; farther, the
map sees two topics where the README has one theme.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from paperdiary.diary.map.build import MapCluster, MapPoint, TopicMap
from paperdiary.diary.queue import QueuedTheme
from paperdiary.themes import keyword_score

CITED_SHARE = 0.2
COHESION_MIN = 0.05
NAMED_SHARE = 1 / 3
KEYWORD_SHARE = 0.5
SPLIT_MIN_PART = 2  # entries of the theme a cluster must hold to count as a part of it


@dataclass(frozen=True)
class ThemeSuggestion:
    """A cluster no README theme covers, to be reviewed as a new theme."""

    cluster_id: int
    name: str
    members: tuple[str, ...]
    why: str

    def queued(self) -> QueuedTheme:
        return QueuedTheme.suggest(self.name, self.members, self.why)

    def as_json(self) -> dict[str, Any]:
        return {"cluster": self.cluster_id, "name": self.name, "members": list(self.members), "why": self.why}


@dataclass(frozen=True)
class SplitTheme:
    """A README theme whose entries the map puts in distant clusters."""

    theme: str
    parts: tuple[tuple[int, str, int], ...]  # (cluster id, cluster name, the theme's entries in it), largest first
    distance: float  # between the two largest parts' centroids, over their members' mean distance to them

    def as_json(self) -> dict[str, Any]:
        return {"theme": self.theme, "distance": round(self.distance, 2),
                "clusters": [{"cluster": cid, "name": name, "entries": n} for cid, name, n in self.parts]}


def covering_theme(cluster: MapCluster, points: dict[str, MapPoint], themes: Sequence[str]) -> str | None:
    """The README theme that covers the cluster (see the module's doc), or None."""
    members = [points[path] for path in cluster.members]
    cited = Counter(theme for point in members for theme in set(point.themes))
    for theme in themes:
        if cited[theme] >= CITED_SHARE * len(members):
            return theme
    for theme in themes:
        matching = sum(keyword_score(f"{p.title}. {p.description}", theme) >= 1 for p in members)
        if matching >= KEYWORD_SHARE * len(members):
            return theme
    return None


def well_named(cluster: MapCluster, points: dict[str, MapPoint]) -> bool:
    """The cluster's name says what its entries are about: its words are in enough of their titles or
    descriptions (:data:`NAMED_SHARE`); a name from the LLM is taken as it is."""
    if cluster.name_source == "llm":
        return True
    words = set(_words(cluster.name)) - {"and"}
    if not words:
        return False
    named = sum(words <= set(_words(f"{points[path].title} {points[path].description}")) for path in cluster.members)
    return named >= NAMED_SHARE * len(cluster.members)


def _words(text: str) -> list[str]:
    """Lower-case words, plurals folded, hyphens as spaces (as the names are made)."""
    folded = unicodedata.normalize("NFKC", text).lower().replace("-", " ")
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")) else w
            for w in re.findall(r"[a-z0-9]+", folded)]


def theme_suggestions(topic_map: TopicMap, themes: Sequence[str], min_entries: int) -> list[ThemeSuggestion]:
    """Clusters of at least ``min_entries`` entries that no theme covers, largest first."""
    points = {p.relpath: p for p in topic_map.points}
    suggestions = []
    for cluster in topic_map.clusters:
        if len(cluster.members) < min_entries or covering_theme(cluster, points, themes) is not None:
            continue
        if not topic_map.topics or cluster.cohesion < COHESION_MIN or not well_named(cluster, points):
            continue
        words = ", ".join(cluster.keywords[:4])
        why = (f"The topic map's cluster {cluster.name!r} ({words}) holds {len(cluster.members)} entries "
               "that no README theme covers.")
        suggestions.append(ThemeSuggestion(cluster.id, cluster.name, cluster.members, why))
    return sorted(suggestions, key=lambda s: (-len(s.members), s.cluster_id))


def split_themes(topic_map: TopicMap) -> list[SplitTheme]:
    """Themes whose cited entries fall into distant clusters."""
    import numpy as np

    if len(topic_map.clusters) < 2:
        return []
    rows = {p.relpath: n for n, p in enumerate(topic_map.points)}
    centroids, spread = {}, {}
    for c in topic_map.clusters:
        members = topic_map.reduced[[rows[path] for path in c.members]]
        centroids[c.id] = members.mean(axis=0)
        spread[c.id] = float(np.linalg.norm(members - centroids[c.id], axis=1).mean())
    by_theme: dict[str, Counter[int]] = {}
    for point in topic_map.points:
        for theme in point.themes:
            if point.cluster_id is not None:
                by_theme.setdefault(theme, Counter())[point.cluster_id] += 1
    found = []
    for theme, counts in sorted(by_theme.items()):
        parts = sorted(((n, cid) for cid, n in counts.items() if n >= SPLIT_MIN_PART), key=lambda x: (-x[0], x[1]))
        if len(parts) < 2:
            continue
        first, second = parts[0][1], parts[1][1]
        radius = (spread[first] + spread[second]) / 2 or 1.0
        distance = float(np.linalg.norm(centroids[first] - centroids[second])) / radius
        if distance >= 1.0:
            found.append(SplitTheme(theme, tuple((cid, topic_map.cluster(cid).name, n) for n, cid in parts),
                                    distance))
    return found
