"""One-line description benchmark: ROUGE-1 F1 of the offline drafter's one-liner against real and written TL;DRs.

First SciTLDR-A dev (618 real papers, Cachola et al. 2020, Apache-2.0; default
../shared/data/scitldr/dev.jsonl beside the repository, or --scitldr PATH): each
paper is drafted from its title and abstract alone, and its one-liner is scored
against each of the paper's TL;DRs (the authors' and the reviewers'), the best
counting, as SciTLDR's own evaluation does. Beside it: the abstract's first
sentence, its first "we propose" sentence, and the oracle (the abstract's best
single sentence). The one-liner's scorer was fitted on SciTLDR train
(scripts/fit_describe.py); dev was never used to choose anything.

Then the project's own sets (tests/fixtures/tldr/): papers.json, on which the
old rules were developed, and held_out.json / held_out_2.json, written later.

ROUGE-1 F1 is unigram overlap, lower-cased, no stemming. Usage:
python scripts/bench_describe.py [--scitldr PATH] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.stages.tldr_set import (  # noqa: E402
    HELD_OUT_SET,
    HELD_OUT_SET_2,
    TLDR_SET,
    TldrPaper,
    baseline_description,
    drafted_description,
    load_tldr_set,
    rouge1_f1,
    score_set,
)

SCITLDR_DEV = REPO.parent / "shared" / "data" / "scitldr" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scitldr", type=Path, default=SCITLDR_DEV, help="SciTLDR-A dev.jsonl")
    parser.add_argument("--verbose", action="store_true", help="print every paper's one-liner and scores")
    args = parser.parse_args()

    if args.scitldr.is_file():
        report_scitldr(args.scitldr, verbose=args.verbose)
    else:
        print(f"(no SciTLDR dev at {args.scitldr}; give --scitldr PATH)")
    for path in (TLDR_SET, HELD_OUT_SET, HELD_OUT_SET_2):
        report(path, verbose=args.verbose)


def report_scitldr(path: Path, *, verbose: bool) -> None:
    papers = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    columns: dict[str, list[float]] = {"one-liner": [], "first sentence": [], "first 'we propose' sentence": [],
                                       "oracle (best abstract sentence)": []}
    started = time.perf_counter()
    for paper in papers:
        sentences = [s for s in paper["source"] if s.strip()]
        tldr = TldrPaper(paper["paper_id"], paper["title"], " ".join(sentences), paper["target"][0])
        ours = drafted_description(tldr)

        def best(line: str, targets: list[str] = paper["target"]) -> float:
            return max(rouge1_f1(line, t) for t in targets)

        columns["one-liner"].append(best(ours))
        columns["first sentence"].append(best(sentences[0]))
        columns["first 'we propose' sentence"].append(best(baseline_description(tldr)))
        columns["oracle (best abstract sentence)"].append(max(best(s) for s in sentences))
        if verbose:
            print(f"{100 * columns['one-liner'][-1]:5.1f}  {paper['paper_id']}: {ours}")
    elapsed = time.perf_counter() - started
    print(f"SciTLDR-A dev, {len(papers)} papers ({path}); ROUGE-1 F1 x 100, best of each paper's TL;DRs")
    for name, scores in columns.items():
        print(f"  {name:34s} {100 * statistics.fmean(scores):6.2f}")
    print(f"  {elapsed * 1000 / len(papers):.0f} ms per paper\n")


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
