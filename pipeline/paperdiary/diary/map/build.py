"""The topic map of a diary: the catalog's entries embedded, projected, clustered and named, as one typed value.

:func:`build_map` runs the steps in order and reports each to a :class:`MapReporter`;
the clusters it finds are matched to the last map's (stored in the state folder)
so that their ids and names stay put, then stored for the next map.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from paperdiary.diary.catalog import Catalog, CatalogEntry
from paperdiary.diary.map.cluster import NOISE, cluster, cluster_method, match_previous
from paperdiary.diary.map.embed import Embedder, embed_texts, entry_text
from paperdiary.diary.map.name import keyword_names
from paperdiary.diary.map.project import project
from paperdiary.errors import DiaryError
from paperdiary.settings import Settings
from paperdiary.state.store import MapClusterRow, Store

if TYPE_CHECKING:
    import numpy as np

NameSource = str  # "keywords" (c-TF-IDF) or "llm"
ClusterNamer = Callable[[Sequence[str], Sequence[str]], "str | None"]
"""(titles, newest first; keywords) -> a name, or None to keep the keywords' name."""


class MapReporter(Protocol):
    """Told of each step of a map as it runs (the CLI shows progress)."""

    def step_started(self, step: str, label: str, total: int | None = None) -> None: ...

    def advance(self, done: int) -> None: ...

    def step_finished(self, step: str, seconds: float) -> None: ...


class SilentMapReporter:
    def step_started(self, step: str, label: str, total: int | None = None) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def step_finished(self, step: str, seconds: float) -> None:
        pass


@dataclass(frozen=True)
class MapPoint:
    """One entry on the map."""

    relpath: str  # relative to the diary root
    title: str
    date_read: date
    description: str
    themes: tuple[str, ...]  # README themes whose lessons cite it
    x: float
    y: float
    cluster_id: int | None  # None: left unclustered (HDBSCAN's outliers)

    def as_json(self) -> dict[str, Any]:
        return {"path": self.relpath, "title": self.title, "date_read": self.date_read.isoformat(),
                "description": self.description, "themes": list(self.themes), "x": self.x, "y": self.y,
                "cluster": self.cluster_id}


@dataclass(frozen=True)
class MapCluster:
    """A group of entries about one topic, with an id and a name that later maps keep."""

    id: int
    name: str
    name_source: NameSource
    keywords: tuple[str, ...]  # most distinctive first
    members: tuple[str, ...]  # entry paths, oldest first
    x: float  # where its label goes: the median of its points
    y: float

    @property
    def newest(self) -> str:
        return self.members[-1]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "name_source": self.name_source, "keywords": list(self.keywords),
                "size": len(self.members), "newest": self.newest, "members": list(self.members),
                "label_x": self.x, "label_y": self.y}


@dataclass(frozen=True)
class TopicMap:
    points: tuple[MapPoint, ...]  # by date read, then path
    clusters: tuple[MapCluster, ...]  # by id
    embedder: str
    method: str  # the clustering in words ("K-Means, k=4 by silhouette, silhouette 0.31")
    reduced: np.ndarray = field(repr=False, compare=False)  # the entries in the reduced space, as ``points``
    timings: dict[str, float] = field(default_factory=dict, compare=False)  # seconds per step

    def cluster(self, cluster_id: int) -> MapCluster:
        return next(c for c in self.clusters if c.id == cluster_id)

    def point(self, relpath: str) -> MapPoint:
        return next(p for p in self.points if p.relpath == relpath)

    def as_json(self) -> dict[str, Any]:
        """The map as data: the same diary gives the same document, byte for byte (timings left out)."""
        return {"entries": len(self.points), "embedder": self.embedder, "clustering": self.method,
                "clusters": [c.as_json() for c in self.clusters], "points": [p.as_json() for p in self.points]}


def map_entries(settings: Settings, store: Store | None) -> list[CatalogEntry]:
    """The entries a map shows: every entry the catalog could read."""
    return [e for e in Catalog(settings, store=store).entries() if e.sha256]


def build_map(settings: Settings, store: Store, embedder: Embedder, *, namer: ClusterNamer | None = None,
              reporter: MapReporter | None = None, entries: list[CatalogEntry] | None = None) -> TopicMap:
    """The diary's topic map; the clusters found are stored for the next map to keep their ids and names."""
    reporter = reporter or SilentMapReporter()
    timings: dict[str, float] = {}

    def step(name: str, label: str, total: int | None = None) -> _Step:
        return _Step(reporter, timings, name, label, total)

    with step("catalog", "Reading the diary"):
        entries = map_entries(settings, store) if entries is None else entries
    if not entries:
        raise DiaryError(f"the diary {settings.diary} has no entries to map.",
                         hint="Draft one first: paperdiary draft ARXIV_ID")
    texts = [entry_text(e.title, e.description, e.key_point_items) for e in entries]
    with step("embed", f"Embedding {len(entries)} entries", len(entries)):
        vectors = embed_texts(texts, embedder, store, progress=reporter.advance)
    # One thread for t-SNE's and K-Means' OpenMP loops: a map of 500 entries takes about a second on one
    # core, while two threads on a busy 2-core machine spin-wait for each other (5-8 s measured), and one
    # thread sums in one order, so the coordinates are the same on every machine.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        with step("project", "Projecting (PCA, t-SNE)"):
            projection = project(vectors)
        with step("cluster", "Clustering"):
            clustering = cluster(projection.reduced, cluster_method(settings))
    with step("name", "Naming the clusters"):
        clusters = _named_clusters(entries, texts, clustering.labels, projection.coords, store.map_clusters(), namer)
        store.save_map_clusters([MapClusterRow(c.id, c.name, c.name_source, c.members) for c in clusters])

    ids = {relpath: c.id for c in clusters for relpath in c.members}
    points = tuple(MapPoint(e.relpath, e.title, e.date_read, e.description, e.themes,
                            float(projection.coords[n][0]), float(projection.coords[n][1]), ids.get(e.relpath))
                   for n, e in enumerate(entries))
    return TopicMap(points, tuple(sorted(clusters, key=lambda c: c.id)), embedder.name, clustering.method,
                    projection.reduced, timings)


class _Step:
    def __init__(self, reporter: MapReporter, timings: dict[str, float], name: str, label: str, total: int | None):
        self.reporter, self.timings, self.name, self.label, self.total = reporter, timings, name, label, total

    def __enter__(self) -> None:
        self.reporter.step_started(self.name, self.label, self.total)
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.started
        self.timings[self.name] = round(seconds, 3)
        if exc[0] is None:
            self.reporter.step_finished(self.name, seconds)


def _named_clusters(entries: Sequence[CatalogEntry], texts: Sequence[str], labels: Sequence[int], coords: Any,
                    previous: list[MapClusterRow], namer: ClusterNamer | None) -> list[MapCluster]:
    """The clusters of ``labels``, each with the id and name of the last map's cluster it continues, if any."""
    import numpy as np

    found = sorted(set(labels) - {NOISE})
    members = [[n for n, label in enumerate(labels) if label == k] for k in found]
    words = keyword_names([[texts[n] for n in group] for group in members])
    groups = [frozenset(entries[n].relpath for n in group) for group in members]
    continued = match_previous(groups, previous)
    next_id = max((row.id for row in previous), default=0) + 1
    taken = {row.name.casefold() for row in continued if row is not None}  # kept names: no new cluster takes one
    clusters = []
    for group, cluster_words, row in zip(members, words, continued, strict=False):
        ordered = sorted(group, key=lambda n: (entries[n].date_read, entries[n].relpath))
        titles = [entries[n].title for n in reversed(ordered)]
        if row is not None and (row.name_source == "llm" or namer is None):
            cluster_id, name, source = row.id, row.name, row.name_source
        else:
            if row is not None:
                cluster_id = row.id
                taken.discard(row.name.casefold())  # renamed (by the LLM): its old name is free again
            else:
                cluster_id, next_id = next_id, next_id + 1
            asked = namer(titles, cluster_words.keywords) if namer is not None else None
            name, source = (asked, "llm") if asked else (cluster_words.name, "keywords")
            name = _distinct(name, taken)
        taken.add(name.casefold())
        x, y = np.median(coords[group], axis=0).round(4).tolist() if len(group) else (0.0, 0.0)
        clusters.append(MapCluster(cluster_id, name, source, cluster_words.keywords,
                                   tuple(entries[n].relpath for n in ordered), float(x) + 0.0, float(y) + 0.0))
    return clusters


def _distinct(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``(3)``... when another cluster has it already."""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate
