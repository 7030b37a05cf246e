"""Time text extraction on every PDF of a folder (worker process included, no cache).

Usage: python scripts/bench_extract.py DIR [--timeout SECONDS]

Prints, per PDF: pages, milliseconds per page, characters of clean text and
sections found; then the totals.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from paperdiary.errors import ExtractionError
from paperdiary.stages.extract import extract_pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--timeout", type=float, default=120.0, help="per PDF, seconds (default 120)")
    args = parser.parse_args()
    pdfs = sorted(p for p in args.folder.iterdir() if p.suffix.lower() == ".pdf")
    if not pdfs:
        parser.error(f"no .pdf files in {args.folder}")

    width = max(len(p.name) for p in pdfs) + 2
    print(f"{'file':<{width}}{'pages':>6}{'ms/page':>9}{'chars':>9}{'sections':>10}")
    pages = chars = sections = 0
    seconds = 0.0
    for pdf in pdfs:
        start = time.perf_counter()
        try:
            paper = extract_pdf(pdf, timeout=args.timeout)
        except ExtractionError as exc:
            print(f"{pdf.name:<{width}}failed: {exc}")
            continue
        elapsed = time.perf_counter() - start
        pages, chars, sections, seconds = (
            pages + paper.pages, chars + paper.chars, sections + len(paper.sections), seconds + elapsed
        )
        print(f"{pdf.name:<{width}}{paper.pages:>6}{elapsed * 1000 / paper.pages:>9.0f}{paper.chars:>9}"
              f"{len(paper.sections):>10}")
    if pages:
        print(f"{'total':<{width}}{pages:>6}{seconds * 1000 / pages:>9.0f}{chars:>9}{sections:>10}"
              f"   ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
