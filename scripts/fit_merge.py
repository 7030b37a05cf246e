"""Fit the merger's placement weights on the placement set's training split; print them for merge.py.

The examples are the training split's held-out lessons (tests/fixtures/placement/held_out.json,
``split: train``), proposed against the whole README, and each of the README's own lessons held
out in turn (proposed against the rest). For each, every theme's :class:`ThemeEvidence` is
computed four times: with the WordLlama embedder (placement by meaning) and without (words only),
with the entries known (title, description, key points) and with none known, as in a README
whose entries cannot be read. One model is fitted per situation.

A multinomial logistic regression over the themes plus "no theme fits" (a constant score) is
fitted by maximum likelihood, weights kept non-negative (evidence may only speak for a theme),
with an L2 penalty on them (its strength chosen by 5-fold
cross-validated log-loss on the training examples): its softmax is then the calibrated
probability the merger reports. The new-theme threshold (a new theme when no theme's
probability reaches it) is the one of least cost on the training examples, a wrongly opened
theme counting double.
A second set of models, for young diaries, is fitted the same way on the training split's lessons
placed in young versions of the README (each theme cut to 0, 1 or 2 lessons, six cuts), with the
offline drafter's suggestion as a fixed prior, and its evidence of thin themes; its threshold is
chosen on those young examples (in a young diary the merger also opens a new theme whenever that
costs less than the likeliest theme by these calibrated probabilities, with the same costs: nothing
to fit). The README's own lessons are never placed there (bench_merge's young split places them). The test split is never read. Usage: python scripts/fit_merge.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperdiary.diary.map.embed import WordLlamaEmbedder  # noqa: E402
from paperdiary.diary.merge import EVIDENCE, PRIOR_LOGIT, WRONG_NEW_THEME_COST, MergeIndex, MergeItem  # noqa: E402
from paperdiary.themes import match_theme  # noqa: E402
from tests.diary.placement_set import leave_one_out, load_placement_set, young_readme  # noqa: E402

L2_GRID = (0.1, 0.01, 0.001, 0.0001, 0.0)
FOLDS = 5
LEXICAL = ("words", "keywords", "closest_words")
YOUNG = ("thin", "thin_keywords", "thin_name")  # evidence for young themes, in the young models only
YOUNG_CUTS = [(rotation, keep_last) for rotation in range(3) for keep_last in (False, True)]

# (themes x evidence matrix, label: theme number, or the number of themes for none, and the fixed prior logits of
# each theme and of none: the drafter's suggestion)
Example = tuple[np.ndarray, int, np.ndarray]


def _example(index: MergeIndex, item: MergeItem, theme: str | None) -> Example:
    names = [t.name for t in index.themes]
    evidence, _ = index.evidence(item)
    offsets = np.zeros(len(names) + 1)
    if item.suggested_theme is not None:
        offsets[names.index(item.suggested_theme)] = PRIOR_LOGIT
    label = names.index(theme) if theme is not None else len(names)
    return np.array([[getattr(e, f) for f in EVIDENCE] for e in evidence]), label, offsets


def young_examples(embedder: WordLlamaEmbedder | None, entries_known: bool) -> list[Example]:
    """The training split's held-out lessons in young versions of the README (themes cut to 0-2 lessons, in
    several cuts), each with the offline drafter's suggestion (its keyword match against the theme names).

    Only the training split's own lessons are placed: the README's lessons cut (which the bench places) never are.
    """
    placement = load_placement_set()
    summary = placement.summary if entries_known else (lambda path: None)
    out: list[Example] = []
    for rotation, keep_last in YOUNG_CUTS:
        young, _ = young_readme(placement.readme(), rotation=rotation, keep_last=keep_last)
        index = MergeIndex(young, summary, embedder)
        names = [t.name for t in index.themes]
        for lesson in placement.split("train"):
            item = lesson.item()
            suggestion = match_theme(item.text, names, context=summary(item.source_entry) or "")
            out.append(_example(index, MergeItem(item.text, item.source_entry, suggestion), lesson.theme))
    return out


def examples(embedder: WordLlamaEmbedder | None, entries_known: bool) -> list[Example]:
    placement = load_placement_set()
    readme = placement.readme()
    summary = placement.summary if entries_known else (lambda path: None)
    out: list[Example] = []
    index = MergeIndex(readme, summary, embedder)
    for lesson in placement.split("train"):
        out.append(_example(index, lesson.item(), lesson.theme))
    for rest, item, theme in leave_one_out(readme):
        out.append(_example(MergeIndex(rest, summary, embedder), item, theme))
    return out


def fit(data: list[Example], features: tuple[str, ...], l2: float) -> tuple[np.ndarray, float]:
    columns = [EVIDENCE.index(f) for f in features]

    def loss(params: np.ndarray) -> float:
        w, b = params[:-1], params[-1]
        total = 0.0
        for matrix, label, offsets in data:
            scores = np.append(matrix[:, columns] @ w, b) + offsets
            top = scores.max()
            total -= scores[label] - top - np.log(np.exp(scores - top).sum())
        return total / len(data) + l2 * float(w @ w)

    # Evidence may only speak for a theme: weights are kept non-negative (the no-theme score is free).
    bounds = [(0.0, None)] * len(columns) + [(None, None)]
    result = minimize(loss, np.zeros(len(columns) + 1), method="L-BFGS-B", bounds=bounds)
    return result.x[:-1], float(result.x[-1])


def chosen_l2(data: list[Example], features: tuple[str, ...]) -> float:
    """The penalty with the lowest cross-validated log-loss (folds drawn with a fixed seed)."""
    folds = np.array_split(np.random.default_rng(0).permutation(len(data)), FOLDS)

    def cross_validated(l2: float) -> float:
        total = 0.0
        for k, held in enumerate(folds):
            rest = [data[i] for j, fold in enumerate(folds) if j != k for i in fold]
            w, b = fit(rest, features, l2)
            total += nll([data[i] for i in held], features, w, b) * len(held)
        return total / len(data)

    return min(L2_GRID, key=cross_validated)


def probabilities(example: Example, columns: list[int], w: np.ndarray, b: float) -> np.ndarray:
    matrix, _, offsets = example
    scores = np.append(matrix[:, columns] @ w, b) + offsets
    exps = np.exp(scores - scores.max())
    return exps / exps.sum()


def threshold(data: list[Example], features: tuple[str, ...], w: np.ndarray, b: float,
              given: float | None = None) -> tuple[float, float]:
    """The new-theme threshold of least cost on the examples (the median of ties), and its accuracy (or
    the accuracy at the ``given`` threshold).

    A new theme opened wrongly costs WRONG_NEW_THEME_COST, any other misplacement 1: a wrong theme
    heading is more work to undo than a lesson under the wrong theme.
    """
    columns = [EVIDENCE.index(f) for f in features]
    grid = np.round(np.arange(0.0, 0.61, 0.01), 2) if given is None else np.array([given])
    costs, accuracy = [], []
    for tau in grid:
        cost = right = 0
        for example in data:
            label = example[1]
            p = probabilities(example, columns, w, b)[:-1]
            choice = len(p) if p.max() < tau else int(p.argmax())
            right += choice == label
            cost += 0 if choice == label else WRONG_NEW_THEME_COST if choice == len(p) else 1
        costs.append(cost)
        accuracy.append(right / len(data))
    ties = [n for n, cost in enumerate(costs) if cost == min(costs)]
    best = ties[len(ties) // 2]
    return float(grid[best]), accuracy[best]


def nll(data: list[Example], features: tuple[str, ...], w: np.ndarray, b: float) -> float:
    columns = [EVIDENCE.index(f) for f in features]
    return float(-np.mean([np.log(probabilities(x, columns, w, b)[x[1]]) for x in data]))


def fitted(data: list[Example], features: tuple[str, ...], calibration: list[Example], label: str) -> str:
    """Fit one model on ``data``, its threshold chosen on ``calibration``; its line for merge.py."""
    l2 = chosen_l2(data, features)
    w, b = fit(data, features, l2)
    tau, accuracy = threshold(calibration, features, w, b)
    pairs = ", ".join(f'"{f}": {v:.3f}' for f, v in zip(features, w, strict=True))
    print(f"# {label}: {len(data)} training examples, L2 {l2}; mean log-loss {nll(data, features, w, b):.3f}; "
          f"training accuracy {accuracy:.1%}")
    return f"        {{{pairs}}}, {b:.3f}, {tau}),"


def main() -> None:
    models: dict[str, list[str]] = {"MODELS": [], "YOUNG_MODELS": []}
    with tempfile.TemporaryDirectory() as cache:
        embedder = WordLlamaEmbedder(Path(cache))
        for by_meaning in (True, False):
            for entries_known in (True, False):
                features = tuple(f for f in EVIDENCE if f not in YOUNG) if by_meaning else LEXICAL
                young_features = features + (YOUNG if by_meaning else YOUNG[:2])
                used = embedder if by_meaning else None
                situation = f"by meaning {by_meaning}, entries known {entries_known}"
                mature = examples(used, entries_known)
                young = young_examples(used, entries_known)
                key = f"    ({by_meaning}, {entries_known}): PlacementModel(\n"
                models["MODELS"].append(key + fitted(mature, features, mature, situation))
                models["YOUNG_MODELS"].append(key + fitted(young, young_features, young, f"young, {situation}"))
    for name, lines in models.items():
        print(f"{name}: dict[tuple[bool, bool], PlacementModel] = {{\n" + "\n".join(lines) + "\n}")


if __name__ == "__main__":
    main()
