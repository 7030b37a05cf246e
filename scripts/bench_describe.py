"""One-line description benchmark: ROUGE-1 F1 of the offline drafter's one-liner against author-style TL;DRs.

Two sets of invented deep-learning papers, each with a title, an abstract and a
TL;DR written for this project: tests/fixtures/tldr/papers.json, on which the
drafter's rules were developed; tests/fixtures/tldr/held_out.json, written
afterwards by someone who had not read those rules (its failures showed two
faults of the cuts, then fixed); and tests/fixtures/tldr/held_out_2.json,
written after that fix and never used to change anything (the figure to
trust). Each paper is
drafted from its title and abstract alone; its one-liner and the baseline rule
(the abstract's first sentence that proposes something, else its first
sentence) are scored against the TL;DR with ROUGE-1 F1 (unigram overlap,
lower-cased, no stemming). Prints the mean of each, wins/ties/losses, and with
--verbose every paper's one-liner.

Usage: python scripts/bench_describe.py [--verbose]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.stages.tldr_set import HELD_OUT_SET, HELD_OUT_SET_2, TLDR_SET, drafted_description, load_tldr_set, score_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--verbose", action="store_true", help="print every paper's one-liner and scores")
    args = parser.parse_args()

    for path in (TLDR_SET, HELD_OUT_SET, HELD_OUT_SET_2):
        report(path, verbose=args.verbose)


def report(path: Path, *, verbose: bool) -> None:
    papers = load_tldr_set(path)
    started = time.perf_counter()
    scores = score_set(papers)
    elapsed = time.perf_counter() - started
    if verbose:
        for paper, ours, baseline in zip(papers, scores.ours, scores.baseline, strict=True):
            print(f"{ours:.2f} vs {baseline:.2f}  {paper.id}: {drafted_description(paper)}")
        print()
    wins = sum(o > b for o, b in zip(scores.ours, scores.baseline, strict=True))
    ties = sum(o == b for o, b in zip(scores.ours, scores.baseline, strict=True))
    print(f"{len(papers)} papers ({path.relative_to(REPO)})")
    print(f"  ROUGE-1 F1, one-liner:                     {scores.mean_ours:.3f} "
          f"(median {statistics.median(scores.ours):.3f})")
    print(f"  ROUGE-1 F1, first 'we propose' sentence:   {scores.mean_baseline:.3f} "
          f"(median {statistics.median(scores.baseline):.3f})")
    print(f"  one-liner better on {wins}, equal on {ties}, worse on {len(papers) - wins - ties}; "
          f"{elapsed * 1000 / len(papers):.0f} ms per paper (both rules)")

if __name__ == "__main__":
    main()
