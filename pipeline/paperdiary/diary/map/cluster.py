"""Clusters of entries in the reduced space, and their ids kept from one map to the next.

Clustering runs on the PCA-reduced vectors, never on the 2-D picture (t-SNE
distorts distances between groups). ``map_clusters`` chooses how:

* ``auto``: K-Means for each k in ``map_k_range``, keeping the k with the best
  silhouette less a penalty for straying from a prior k (:func:`choose_k`):
  silhouette alone favours k = 2 on text embeddings, whose clusters are diffuse;
  a diary too small for two clusters is one;
* a number: K-Means with that k;
* ``hdbscan``: scikit-learn's HDBSCAN, which finds k itself and leaves outliers
  unclustered (label -1).

Chance: the same K-Means on the vectors with each dimension shuffled on its own
(the same spread, no structure) gives the silhouette of no topics at all; a
clustering that does not beat it clearly (:data:`CHANCE_MARGIN`) is reported as
no better than chance, and its groups are not called topics.

Stable ids: the new clusters are matched to the last map's (stored in the state
folder) by member overlap, one to one, maximising the total Jaccard similarity
(the Hungarian algorithm); a pair is kept when it shares at least
:data:`MATCH_JACCARD` of their union. A matched cluster keeps its id and name, so
an added entry (which changes its cluster's Jaccard by one member in a dozen)
renames and relabels nothing else; a cluster split or merged past recognition
gets a new id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
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


# How much silhouette a k gives up per e-fold away from the prior k: silhouettes of text embeddings lie
# around 0.02-0.10 and differ by a few hundredths from k = 2 to k = 15, so the prior decides unless the
# silhouette clearly prefers another k.
PRIOR_WEIGHT = 0.04
# A clustering beats chance when its silhouette exceeds the shuffled vectors' by this much, and by a fifth.
CHANCE_MARGIN = 0.01
CHANCE_RATIO = 1.2


@dataclass(frozen=True)
class KPrior:
    """The k a diary's own structure suggests, and where it comes from ("11 topic folders")."""

    k: int
    source: str


def default_prior(n: int) -> KPrior:
    """About sqrt(n/2) clusters, for a diary with no themes or topic folders to go by."""
    return KPrior(max(2, round(math.sqrt(n / 2))), f"about √(n/2) for {n} entries")


@dataclass(frozen=True)
class ClusterMethod:
    kind: Literal["auto", "fixed", "hdbscan"]
    k: int | None = None  # "fixed"
    k_range: tuple[int, int] = (2, 15)  # "auto"


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
    method: str  # in words, for the output: how k was chosen and why
    chance_silhouette: float | None = None  # the same clustering of the shuffled vectors
    cohesion: tuple[float, ...] = ()  # per label 0..k-1: its members' mean silhouette

    @property
    def better_than_chance(self) -> bool:
        if self.silhouette is None or self.chance_silhouette is None:
            return False
        return (self.silhouette >= self.chance_silhouette + CHANCE_MARGIN
                and self.silhouette >= CHANCE_RATIO * self.chance_silhouette)


def cluster(reduced: np.ndarray, method: ClusterMethod, *, prior: KPrior | None = None,
            seed: int = SEED) -> Clustering:
    """The entries' clusters; ``prior`` is the k the diary's structure suggests (default: about sqrt(n/2))."""
    import numpy as np

    n = len(reduced)
    if n == 0:
        return Clustering((), 0, None, "no entries")
    if method.kind == "hdbscan":
        return _hdbscan(reduced, seed)
    if method.kind == "fixed":
        k = min(method.k or 1, n)
        labels = _kmeans(reduced, k, seed) if k > 1 else np.zeros(n, dtype=int)
        return _finished(reduced, labels, k, f"K-Means, k={k} as set", seed)
    low, high = method.k_range[0], min(method.k_range[1], n - 1)
    if high < low:  # fewer entries than the smallest k allows: one cluster
        return Clustering((0,) * n, 1, None, "one cluster: too few entries to split")
    prior = prior or default_prior(n)
    target = min(max(prior.k, low), high)
    scored = []
    for k in range(low, high + 1):
        labels = _kmeans(reduced, k, seed)
        score = _silhouette(reduced, labels)
        if score is not None:
            scored.append((score - PRIOR_WEIGHT * abs(math.log(k / target)), score, k, labels))
    if not scored:
        return Clustering((0,) * n, 1, None, "one cluster: too few entries to split")
    _, score, k, labels = max(scored, key=lambda row: (row[0], -row[2]))
    capped = f", capped at {high}" if prior.k > high else f", raised to {low}" if prior.k < low else ""
    why = (f"K-Means, k={k}: best silhouette ({score:.2f}) near the prior k={prior.k} "
           f"({prior.source}{capped}), among k={low}-{high}")
    return _finished(reduced, labels, k, why, seed)


def _finished(reduced: np.ndarray, labels: np.ndarray, k: int, why: str, seed: int) -> Clustering:
    """The clustering with its silhouette, its members' cohesion, and how it compares with chance."""
    import numpy as np

    canonical = np.asarray(_canonical(labels), dtype=int)
    score = _silhouette(reduced, canonical)
    if score is None:
        return Clustering(tuple(canonical.tolist()), k, None, why)
    from sklearn.metrics import silhouette_samples

    kept = canonical != NOISE
    samples = silhouette_samples(reduced[kept], canonical[kept])
    cohesion = tuple(float(samples[canonical[kept] == label].mean()) for label in range(k))
    chance = _chance_silhouette(reduced, k, seed)
    found = Clustering(tuple(canonical.tolist()), k, score, why, chance, cohesion)
    verdict = "above" if found.better_than_chance else "no better than"
    chance_words = f"{chance:.2f}" if chance is not None else "unknown"
    return replace(found, method=f"{why}; silhouette {score:.2f}, {verdict} chance "
                                 f"({chance_words} for the same vectors shuffled)")


def _chance_silhouette(reduced: np.ndarray, k: int, seed: int) -> float | None:
    """The silhouette of K-Means with ``k`` on the vectors with each dimension shuffled on its own."""
    import numpy as np

    if k < 2:
        return None
    rng = np.random.default_rng(seed)
    shuffled = np.column_stack([rng.permutation(column) for column in reduced.T])
    return _silhouette(shuffled, _kmeans(shuffled, k, seed))


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


def _hdbscan(reduced: np.ndarray, seed: int) -> Clustering:
    import numpy as np
    from sklearn.cluster import HDBSCAN

    n = len(reduced)
    if n < 4:
        labels = np.zeros(n, dtype=int)
    else:
        # Clusters of at least 3 entries in small diaries, about 2% of the entries in large ones.
        labels = HDBSCAN(min_cluster_size=max(3, min(15, n // 50)), copy=True).fit_predict(reduced)
    k = len(set(labels.tolist()) - {NOISE})
    return _finished(reduced, labels, k, f"HDBSCAN, {k} clusters", seed)


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
