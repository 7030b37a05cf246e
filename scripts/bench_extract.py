"""Time text extraction on every PDF of a folder (worker process included, no cache), and check its glyphs.

Usage: python scripts/bench_extract.py DIR [--timeout SECONDS]

Prints, per PDF: pages, milliseconds per page, characters of clean text and
sections found, and the undecodable characters (control characters, U+FFFD,
private use) in the raw text of each engine, pypdf and pdfium, and in ours;
then the totals. A second table compares the symbols × ± ≤ ≥ → and the digits
each engine reads with the ones our extraction keeps.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from pypdf import PdfReader

from paperdiary.errors import ExtractionError
from paperdiary.stages.extract import extract_pdf
from paperdiary.stages.extract.glyphs import undecodable

SYMBOLS = ("×", "±", "≤", "≥", "→")


def _pypdf_text(path: Path) -> str:
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _pdfium_text(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        # Its line ends are \r\n, and \ufffe marks a word hyphenated at a line end: pdfium's ways, not lost glyphs.
        return "\n".join(page.get_textpage().get_text_range().replace("\r\n", "\n").replace("\ufffe", "-")
                         for page in document)
    finally:
        document.close()


def _symbols(text: str) -> Counter[str]:
    counts = Counter(c for c in text if c in SYMBOLS)
    counts["digits"] = sum(c.isdigit() for c in text)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--timeout", type=float, default=120.0, help="per PDF, seconds (default 120)")
    args = parser.parse_args()
    pdfs = sorted(p for p in args.folder.iterdir() if p.suffix.lower() == ".pdf")
    if not pdfs:
        parser.error(f"no .pdf files in {args.folder}")

    width = max(len(p.name) for p in pdfs) + 2
    print(f"{'file':<{width}}{'pages':>6}{'ms/page':>9}{'chars':>9}{'sections':>10}"
          f"{'ctrl pypdf':>12}{'ctrl pdfium':>13}{'ctrl ours':>11}")
    pages = chars = sections = 0
    seconds = 0.0
    bad: Counter[str] = Counter()
    symbols: dict[str, Counter[str]] = {"pypdf": Counter(), "pdfium": Counter(), "ours": Counter()}
    for pdf in pdfs:
        start = time.perf_counter()
        try:
            paper = extract_pdf(pdf, timeout=args.timeout)
        except ExtractionError as exc:
            print(f"{pdf.name:<{width}}failed: {exc}")
            continue
        elapsed = time.perf_counter() - start
        texts = {"pypdf": _pypdf_text(pdf), "pdfium": _pdfium_text(pdf), "ours": paper.full_text}
        counts = {engine: undecodable(text) for engine, text in texts.items()}
        for engine, text in texts.items():
            bad[engine] += counts[engine]
            symbols[engine] += _symbols(text)
        pages, chars, sections, seconds = (
            pages + paper.pages, chars + paper.chars, sections + len(paper.sections), seconds + elapsed
        )
        print(f"{pdf.name:<{width}}{paper.pages:>6}{elapsed * 1000 / paper.pages:>9.0f}{paper.chars:>9}"
              f"{len(paper.sections):>10}{counts['pypdf']:>12}{counts['pdfium']:>13}{counts['ours']:>11}")
    if not pages:
        return
    print(f"{'total':<{width}}{pages:>6}{seconds * 1000 / pages:>9.0f}{chars:>9}{sections:>10}"
          f"{bad['pypdf']:>12}{bad['pdfium']:>13}{bad['ours']:>11}   ({seconds:.2f} s)")
    print()
    print(f"{'symbols':<10}" + "".join(f"{engine:>9}" for engine in symbols))
    for symbol in (*SYMBOLS, "digits"):
        print(f"{symbol:<10}" + "".join(f"{symbols[engine][symbol]:>9}" for engine in symbols))


if __name__ == "__main__":
    main()
