"""Clusters of entries in the reduced space, and their ids kept from one map to the next.

Clustering runs on the PCA-reduced vectors, never on the 2-D picture (t-SNE
distorts distances between groups). ``map_clusters`` chooses how:

* ``auto``: K-Means for each k in ``map_k_range``, keeping the k with the best
  silhouette (ties: the smaller k); a diary too small for two clusters is one;
* a number: K-Means with that k;
* ``hdbscan``: scikit-learn's HDBSCAN, which finds k itself and leaves outliers
  unclustered (label -1).

Stable ids: the new clusters are matched to the last map's (stored in the state
folder) by member overlap, one to one, maximising the total Jaccard similarity
(the Hungarian algorithm); a pair is kept when it shares at least
:data:`MATCH_JACCARD` of their union. A matched cluster keeps its id and name, so
an added entry (which changes its cluster's Jaccard by one member in a dozen)
renames and relabels nothing else; a cluster split or merged past recognition
gets a new id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from paperdiary.errors import SettingsError
from paperdiary.settings import Settings
from paperdiary.state.store import MapClusterRow

if TYPE_CHECKING:
    import numpy as np

NOISE = -1
SEED = 0
KMEANS_RESTARTS = 4  # K-Means inits per k: the best of four is stable on small diaries, and cheap
# Half of the union: an added, removed or moved entry or two leaves a dozen-entry cluster far above it,
# while a cluster that merged with another of its size, or split in two, falls to about half or below.
MATCH_JACCARD = 0.5


@dataclass(frozen=True)
class ClusterMethod:
    kind: Literal["auto", "fixed", "hdbscan"]
    k: int | None = None  # "fixed"
    k_range: tuple[int, int] = (2, 12)  # "auto"

    def describe(self, chosen_k: int, silhouette: float | None) -> str:
        if self.kind == "hdbscan":
            return f"HDBSCAN, {chosen_k} clusters"
        how = "by silhouette" if self.kind == "auto" else "as set"
        score = f", silhouette {silhouette:.2f}" if silhouette is not None else ""
        return f"K-Means, k={chosen_k} {how}{score}"


def cluster_method(settings: Settings) -> ClusterMethod:
    """The clustering the settings ask for; SettingsError when ``map_clusters`` or ``map_k_range`` is malformed."""
    value = settings.map_clusters.strip().lower()
    m = re.fullmatch(r"\s*(\d+)\s*(?:-|\.\.|,|to)\s*(\d+)\s*", settings.map_k_range)
    if not m or not 2 <= int(m[1]) <= int(m[2]):
        raise SettingsError(f"setting 'map_k_range' is {settings.map_k_range!r}, not a range of cluster counts.",
                            hint='Write it as "2-12" (at least 2).')
    k_range = (int(m[1]), int(m[2]))
    if value == "auto":
        return ClusterMethod("auto", k_range=k_range)
    if value == "hdbscan":
        return ClusterMethod("hdbscan")
    if value.isdigit() and int(value) >= 1:
        return ClusterMethod("fixed", k=int(value))
    raise SettingsError(f"setting 'map_clusters' is {settings.map_clusters!r}.",
                        hint='Use "auto", a number of clusters such as 6, or "hdbscan".')


@dataclass(frozen=True)
class Clustering:
    labels: tuple[int, ...]  # one per entry, 0..k-1, or NOISE (HDBSCAN's outliers)
    k: int
    silhouette: float | None  # of the chosen clustering, when it could be computed
    method: str  # in words, for the output


def cluster(reduced: np.ndarray, method: ClusterMethod, *, seed: int = SEED) -> Clustering:
    import numpy as np

    n = len(reduced)
    if n == 0:
        return Clustering((), 0, None, method.describe(0, None))
    if method.kind == "hdbscan":
        return _hdbscan(reduced, method)
    if method.kind == "fixed":
        k = min(method.k or 1, n)
        labels = _kmeans(reduced, k, seed) if k > 1 else np.zeros(n, dtype=int)
        score = _silhouette(reduced, labels)
        return Clustering(_canonical(labels), k, score, method.describe(k, score))
    low, high = method.k_range
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(low, min(high, n - 1) + 1):
        labels = _kmeans(reduced, k, seed)
        score = _silhouette(reduced, labels)
        if score is not None and (best is None or score > best[0] + 1e-9):
            best = (score, k, labels)
    if best is None:  # fewer entries than the smallest k allows: one cluster
        return Clustering((0,) * n, 1, None, method.describe(1, None))
    score, k, labels = best
    return Clustering(_canonical(labels), k, score, method.describe(k, score))


def _kmeans(reduced: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=KMEANS_RESTARTS, random_state=seed).fit_predict(reduced)


def _silhouette(reduced: np.ndarray, labels: np.ndarray) -> float | None:
    from sklearn.metrics import silhouette_score

    kept = labels != NOISE
    found = len(set(labels[kept].tolist()))
    if found < 2 or found >= kept.sum():
        return None  # silhouette needs 2..n-1 clusters
    return float(silhouette_score(reduced[kept], labels[kept]))


def _hdbscan(reduced: np.ndarray, method: ClusterMethod) -> Clustering:
    import numpy as np
    from sklearn.cluster import HDBSCAN

    n = len(reduced)
    if n < 4:
        labels = np.zeros(n, dtype=int)
    else:
        # Clusters of at least 3 entries in small diaries, about 2% of the entries in large ones.
        labels = HDBSCAN(min_cluster_size=max(3, min(15, n // 50)), copy=True).fit_predict(reduced)
    score = _silhouette(reduced, labels)
    k = len(set(labels.tolist()) - {NOISE})
    return Clustering(_canonical(labels), k, score, method.describe(k, score))


def _canonical(labels: np.ndarray) -> tuple[int, ...]:
    """Labels renumbered by first appearance (noise stays -1), so equal partitions get equal labels."""
    order: dict[int, int] = {}
    out = []
    for label in labels.tolist():
        if label == NOISE:
            out.append(NOISE)
            continue
        out.append(order.setdefault(label, len(order)))
    return tuple(out)


# --------------------------------------------------------------------------- ids kept across runs


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def match_previous(groups: Sequence[frozenset[str]], previous: Sequence[MapClusterRow]) -> list[MapClusterRow | None]:
    """For each new group of entry paths, the last map's cluster it continues (None: a new cluster)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    matched: list[MapClusterRow | None] = [None] * len(groups)
    if not groups or not previous:
        return matched
    old = [frozenset(row.members) for row in previous]
    scores = np.array([[jaccard(group, members) for members in old] for group in groups])
    rows, cols = linear_sum_assignment(-scores)
    for row, col in zip(rows.tolist(), cols.tolist(), strict=False):
        if scores[row, col] >= MATCH_JACCARD:
            matched[row] = previous[col]
    return matched
