"""Unit vectors -> a reduced space (PCA, where clusters are found) and 2-D coordinates (t-SNE, the picture).

Deterministic: PCA by full SVD (signs fixed by scikit-learn's ``svd_flip``), t-SNE
initialised from PCA with a fixed seed, coordinates rounded, so the same diary
gives the same map, byte for byte. t-SNE's perplexity (the number of neighbours
each point attends to) shrinks with small diaries: it must stay below the number
of points, and a third of them keeps a few-dozen-entry diary from collapsing into
one blob.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

REDUCED_DIMS = 30  # PCA keeps this many: enough for topics, few enough for distances to mean something
PERPLEXITY = 30.0  # t-SNE's usual value, for diaries of a hundred entries and more
SEED = 0
DECIMALS = 4  # coordinates are rounded so that float noise never changes the output bytes


@dataclass(frozen=True)
class Projection:
    reduced: np.ndarray  # (n, <= REDUCED_DIMS): PCA of the unit vectors; clustering works here
    coords: np.ndarray  # (n, 2): the picture, centred, the larger spread scaled to [-1, 1]


def perplexity_for(n: int) -> float:
    return max(2.0, min(PERPLEXITY, (n - 1) / 3))


def project(vectors: np.ndarray, *, seed: int = SEED) -> Projection:
    import numpy as np
    from sklearn.decomposition import PCA

    vectors = np.asarray(vectors, dtype=np.float64)
    n = len(vectors)
    if n == 0:
        return Projection(np.zeros((0, 0)), np.zeros((0, 2)))
    dims = min(REDUCED_DIMS, n, vectors.shape[1])
    if n >= 3 and dims >= 2:
        reduced = PCA(n_components=dims, svd_solver="full", random_state=seed).fit_transform(vectors)
    else:
        reduced = vectors - vectors.mean(axis=0)
    if n >= 5:
        from sklearn.manifold import TSNE

        coords = TSNE(n_components=2, perplexity=perplexity_for(n), init="pca", learning_rate="auto",
                      random_state=seed).fit_transform(reduced)
    else:  # too few points for t-SNE's neighbourhoods: the first two principal axes say it all
        coords = np.zeros((n, 2))
        width = min(2, reduced.shape[1])
        coords[:, :width] = reduced[:, :width]
    coords = coords - coords.mean(axis=0)
    spread = float(np.abs(coords).max()) if n else 0.0
    if spread > 0:
        coords = coords / spread
    return Projection(reduced=reduced, coords=np.round(coords, DECIMALS) + 0.0)  # + 0.0: no "-0.0"
