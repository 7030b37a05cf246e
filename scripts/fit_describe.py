"""Fit the one-liner's sentence scorer on SciTLDR-A train; write pipeline/paperdiary/stages/drafting/oneliner.json.

First the word rates: for each word seen in at least MIN_PAPERS training
abstracts, the share of those papers whose authors' TL;DR uses it; the other
words back off to their class (in the title or not, how often in the abstract).
Then each training paper's candidate lines (:func:`oneliner.features`: every
abstract sentence rewritten and clipped to one line, as the drafter shows it)
and a softmax over a paper's lines (a linear score each), fitted by maximum
likelihood towards the lines of highest ROUGE-1 against the TL;DRs (all the mass
on the best, ties sharing it, or spread as exp((ROUGE - best) / T)), with an L2
penalty; the penalty, then T, chosen by 5-fold cross-validation on train (the
ROUGE-1 of the chosen lines). Last, the one-liner's
ROUGE on train, with and without the one-line limit. SciTLDR dev is never read here.

Usage: python scripts/fit_describe.py [SCITLDR_DIR]   (default ../shared/data/scitldr beside the repository)
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from paperdiary.stages.drafting import oneliner  # noqa: E402
from paperdiary.stages.drafting.contract import DESCRIPTION_MAX_CHARS  # noqa: E402
from tests.stages.tldr_set import rouge1_f1  # noqa: E402

L2_GRID = (10.0, 1.0, 0.1)
# The target each paper's softmax is fitted towards: all its mass on the best lines (0), or spread over its
# lines as exp((ROUGE - best) / T): a near-best line is nearly as good a one-liner. Chosen by cross-validation
# on train, after the penalty.
TEMPERATURE_GRID = (0.0, 0.02, 0.05)
FOLDS = 5
MIN_PAPERS = 40  # a word needs this many training abstracts for a rate of its own
LIMIT = DESCRIPTION_MAX_CHARS - 1  # the final stop
OUT = REPO / "pipeline" / "paperdiary" / "stages" / "drafting" / oneliner.WEIGHTS_FILE

Paper = tuple[np.ndarray, np.ndarray]  # (features of each candidate line, its ROUGE-1)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sentences_of(paper: dict) -> list[str]:
    return [s for s in paper["source"] if s.strip()]


def word_rates(papers: list[dict]) -> oneliner.WordRates:
    seen, kept = Counter[str](), Counter[str]()
    class_seen, class_kept = Counter[str](), Counter[str]()
    for paper in papers:
        sentences = sentences_of(paper)
        counts = Counter(w for s in sentences for w in set(oneliner.line_words(s)))
        title = set(oneliner.line_words(paper["title"]))
        tldr = set(oneliner.line_words(paper["target"][0]))
        for word, count in counts.items():
            seen[word] += 1
            kept[word] += word in tldr
            cls = oneliner.word_class(word in title, count)
            class_seen[cls] += 1
            class_kept[cls] += word in tldr
    return oneliner.WordRates({w: kept[w] / n for w, n in seen.items() if n >= MIN_PAPERS},
                              {c: class_kept[c] / n for c, n in class_seen.items()})


def prepare(papers: list[dict], rates: oneliner.WordRates) -> list[Paper]:
    out = []
    for paper in papers:
        sentences = sentences_of(paper)
        if len(sentences) < 2:
            continue
        lines, rows = oneliner.features(sentences, paper["title"], rates, LIMIT)
        out.append((np.array(rows), np.array([max(rouge1_f1(line, t) for t in paper["target"]) for line in lines])))
    return out


def target(rouge: np.ndarray, temperature: float) -> np.ndarray:
    weights = (rouge == rouge.max()).astype(float) if temperature == 0 else np.exp((rouge - rouge.max()) / temperature)
    return weights / weights.sum()


def fit(data: list[Paper], l2: float, mean: np.ndarray, scale: np.ndarray, temperature: float = 0.0) -> np.ndarray:
    xs = [(x - mean) / scale for x, _ in data]
    targets = [target(r, temperature) for _, r in data]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * w @ w, l2 * w
        for x, t in zip(xs, targets, strict=True):
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            total -= float(t @ np.log(p + 1e-12))
            grad = grad + x.T @ (p - t)
        return total / len(xs), grad / len(xs)

    return minimize(loss, np.zeros(xs[0].shape[1]), jac=True, method="L-BFGS-B").x


def chosen_rouge(data: list[Paper], w: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> float:
    return statistics.fmean(float(r[int(np.argmax((x - mean) / scale @ w))]) for x, r in data)


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data" / "scitldr"
    train = load(root / "train.jsonl")
    rates = word_rates(train)
    data = prepare(train, rates)
    stacked = np.vstack([x for x, _ in data])
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0)
    scale[scale == 0] = 1.0
    print(f"{len(data)} training papers, {stacked.shape[0]} lines, {stacked.shape[1]} features, "
          f"{len(rates.words)} word rates")
    folds = [data[k::FOLDS] for k in range(FOLDS)]

    def cross_validated(l2: float, temperature: float) -> float:
        return statistics.fmean(
            chosen_rouge(folds[k], fit([p for j, f in enumerate(folds) if j != k for p in f], l2, mean, scale,
                                       temperature), mean, scale) for k in range(FOLDS))

    scores = {}
    for l2 in L2_GRID:
        scores[l2] = cross_validated(l2, 0.0)
        print(f"  L2 {l2:g}: cross-validated ROUGE-1 of the chosen line {100 * scores[l2]:.2f}")
    best_l2 = max(L2_GRID, key=lambda l2: scores[l2])
    by_temperature = {0.0: scores[best_l2]}
    for temperature in TEMPERATURE_GRID[1:]:
        by_temperature[temperature] = cross_validated(best_l2, temperature)
        print(f"  L2 {best_l2:g}, target temperature {temperature:g}: cross-validated ROUGE-1 "
              f"{100 * by_temperature[temperature]:.2f}")
    best_temperature = max(TEMPERATURE_GRID, key=lambda t: by_temperature[t])
    w = fit(data, best_l2, mean, scale, best_temperature)
    model = oneliner.SentenceScorer(tuple(map(float, mean)), tuple(map(float, scale)), tuple(map(float, w)), rates)
    OUT.write_text(model.to_json(), encoding="utf-8")
    print(f"L2 {best_l2:g}, target temperature {best_temperature:g}; wrote {OUT.relative_to(REPO)} ({OUT.stat().st_size} bytes)")
    for name, weight in sorted(zip(oneliner.FEATURES, model.weights, strict=True), key=lambda x: -abs(x[1]))[:12]:
        print(f"  {weight:+.3f} {name}")

    # The shipped lines on train, and what the one-line limit costs them.
    for name, limit in (("as shipped (one line)", LIMIT), ("with no length limit", None)):
        score = statistics.fmean(max(rouge1_f1(model.describe(sentences_of(p), p["title"], limit) or "", t)
                                     for t in p["target"]) for p in train)
        print(f"train ROUGE-1 of the one-liner, {name}: {100 * score:.2f}")

if __name__ == "__main__":
    main()
