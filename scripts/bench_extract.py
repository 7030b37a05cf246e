"""Time text extraction on every PDF of a folder and on generated ones, and count what it gets wrong.

Usage: python scripts/bench_extract.py [DIR ...] [--no-generated] [--show] [--timeout SECONDS]

Each PDF is extracted as `paperdiary draft` does it (worker process, no cache).
Printed per PDF: pages, wall and CPU milliseconds per page (the CPU time of the
worker, steadier than the wall time on a shared machine), characters kept, and
three measures counted on the output text (every section but the references):

* glyph artefacts: glyph names printed as text (``/e.sc``, ``/uni00D7``,
  ``(cid:12)``) and characters nobody can read (control characters, U+FFFD,
  private use); pypdf's own raw text is counted beside ours;
* lost × and √ (also ≤ ≥ ±): pdfium's occurrences (on a generated PDF, the
  known text's), each placed by the six letters or digits on either side; *lost*
  when our text has that place without the symbol, *dropped* when our text
  lacks the place altogether (a table or figure left out, a running header);
* table rows in sentences: sentences holding four numbers in a row with nothing
  but spaces between them ("0.1 0.1 100K 4.92"), a table header's "(↑)"/"(↓)",
  or, on a generated PDF, any of its table's rows.

Unless --no-generated, PDFs are also typeset (tests/fakes/typeset.py) with small
caps named by glyph, symbols pypdf cannot decode, fractions and scripts,
footnote marks, a table, and hidden text; their known text is the reference.
--show prints every artefact, lost symbol and table sentence found.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperdiary.errors import ExtractionError  # noqa: E402
from paperdiary.stages.extract import extract_pdf  # noqa: E402
from tests.fakes.typeset import (  # noqa: E402
    GLYPH_NAME,
    glyph_artefacts,
    make_typeset_paper,
    pdfium_text,
    symbol_fates,
    table_row_sentences,
)

MEASURED = ("×", "√", "≤", "≥", "±")


def _pypdf_text(path: Path) -> str:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Totals:
    pages: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    chars: int = 0
    artefacts_pypdf: int = 0
    artefacts: int = 0
    fates: Counter[tuple[str, str]] = field(default_factory=Counter)  # (symbol, "kept"/"lost"/"dropped")
    tables: int = 0
    hidden_seen: int = 0


def measure(pdf: Path, reference: str | None, rows: list[str], hidden: list[str], totals: Totals, *,
            timeout: float, show: bool, width: int) -> None:
    wall, cpu = time.perf_counter(), _children_cpu()
    try:
        paper = extract_pdf(pdf, timeout=timeout)
    except ExtractionError as exc:
        print(f"{pdf.name:<{width}}failed: {exc}")
        return
    wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    ours = "\n\n".join(s.text for s in paper.sections if s.kind != "references")
    raw = _pypdf_text(pdf)
    source = reference if reference is not None else pdfium_text(pdf)
    artefacts_raw, artefacts = glyph_artefacts(raw), glyph_artefacts(ours)
    fates = Counter()
    for symbol in MEASURED:
        kept, lost, dropped = symbol_fates(source, ours, symbol)
        fates[(symbol, "kept")] += kept
        fates[(symbol, "lost")] += lost
        fates[(symbol, "dropped")] += dropped
    tables = table_row_sentences(ours, rows)
    seen = [h for h in hidden if h in ours]
    lost = sum(n for (_, fate), n in fates.items() if fate == "lost")
    print(f"{pdf.name:<{width}}{paper.pages:>6}{wall * 1000 / paper.pages:>9.0f}{cpu * 1000 / paper.pages:>9.0f}"
          f"{paper.chars:>9}{artefacts_raw:>12}{artefacts:>11}{fates[('×', 'kept')] + fates[('√', 'kept')]:>9}"
          f"{fates[('×', 'lost')] + fates[('√', 'lost')]:>8}{lost:>10}{len(tables):>9}"
          + (f"{len(seen):>9}/{len(hidden)}" if hidden else ""))
    if show:
        for match in GLYPH_NAME.finditer(ours):
            print(f"    glyph name: {ours[max(0, match.start() - 40) : match.end() + 20]!r}")
        _show_lost(source, ours)
        for sentence in tables:
            print(f"    table row in a sentence: {sentence[:160]!r}")
        for text in seen:
            print(f"    hidden text kept: {text!r}")
    totals.pages += paper.pages
    totals.wall += wall
    totals.cpu += cpu
    totals.chars += paper.chars
    totals.artefacts_pypdf += artefacts_raw
    totals.artefacts += artefacts
    totals.fates += fates
    totals.tables += len(tables)
    totals.hidden_seen += len(seen)


def _show_lost(source: str, ours: str) -> None:
    """Each lost symbol with the reference text around it."""
    for symbol in MEASURED:
        start = 0
        while (i := source.find(symbol, start)) >= 0:
            start = i + 1
            window = source[max(0, i - 30) : i + 30]
            if symbol_fates(window, ours, symbol)[1]:
                print(f"    lost {symbol}: {window!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="*")
    parser.add_argument("--no-generated", action="store_true", help="only the PDFs of the folders")
    parser.add_argument("--show", action="store_true", help="print every problem found")
    parser.add_argument("--timeout", type=float, default=120.0, help="per PDF, seconds (default 120)")
    args = parser.parse_args()
    pdfs = sorted(p for folder in args.folders for p in folder.iterdir() if p.suffix.lower() == ".pdf")
    if not pdfs and args.no_generated:
        parser.error("no .pdf files given, and --no-generated")

    with tempfile.TemporaryDirectory() as tmp:
        generated = [] if args.no_generated else [
            make_typeset_paper(Path(tmp) / "typeset.pdf"),
            make_typeset_paper(Path(tmp) / "typeset-hidden.pdf", hidden=True),
        ]
        names = [p.name for p in pdfs] + [g.path.name for g in generated]
        width = max(len(n) for n in names) + 2
        print(f"{'file':<{width}}{'pages':>6}{'ms/page':>9}{'cpu ms':>9}{'chars':>9}{'glyphs pypdf':>12}"
              f"{'glyphs ours':>11}{'×√ kept':>9}{'×√ lost':>8}{'≤≥± lost':>10}{'tables':>9}{'  hidden seen':>14}")
        totals = Totals()
        for pdf in pdfs:
            measure(pdf, None, [], [], totals, timeout=args.timeout, show=args.show, width=width)
        for paper in generated:
            measure(paper.path, "\n\n".join(paper.prose), paper.table_rows, paper.hidden, totals,
                    timeout=args.timeout, show=args.show, width=width)
    if not totals.pages:
        return
    others_lost = sum(n for (s, fate), n in totals.fates.items() if fate == "lost" and s not in "×√")
    print(f"{'total':<{width}}{totals.pages:>6}{totals.wall * 1000 / totals.pages:>9.0f}"
          f"{totals.cpu * 1000 / totals.pages:>9.0f}{totals.chars:>9}{totals.artefacts_pypdf:>12}"
          f"{totals.artefacts:>11}{totals.fates[('×', 'kept')] + totals.fates[('√', 'kept')]:>9}"
          f"{totals.fates[('×', 'lost')] + totals.fates[('√', 'lost')]:>8}{others_lost:>10}{totals.tables:>9}"
          f"{totals.hidden_seen:>14}   ({totals.wall:.2f} s)")
    print()
    print(f"{'symbol':<8}{'kept':>7}{'lost':>7}{'dropped':>9}   (dropped: the text around it left out, "
          "e.g. with a table)")
    for symbol in MEASURED:
        print(f"{symbol:<8}" + "".join(f"{totals.fates[(symbol, fate)]:>{w}}"
                                       for fate, w in (("kept", 7), ("lost", 7), ("dropped", 9))))
    print()
    print(f"glyph artefacts: {totals.artefacts}; lost × and √: "
          f"{totals.fates[('×', 'lost')] + totals.fates[('√', 'lost')]}; table rows inside sentences: "
          f"{totals.tables}; hidden texts kept: {totals.hidden_seen}; "
          f"{totals.wall * 1000 / totals.pages:.0f} ms/page wall, {totals.cpu * 1000 / totals.pages:.0f} ms/page CPU")


if __name__ == "__main__":
    main()
