"""A paper's own sources on arXiv, read into the same ExtractedPaper the PDF path gives.

* :mod:`.eprint` tells what ``/e-print/ID`` sent (a gzipped tar, a gzipped
  ``.tex``, a PDF) and unpacks it within size limits;
* :mod:`.tex` reads the LaTeX: main file, ``\\input``, macros, sections, captions, math;
* :mod:`.latexml` reads arXiv's HTML rendering (LaTeXML).

The fetch stage picks the first usable source in the ``sources`` setting's order
and says why it passed over the others; the extract stage reads it.
"""

from __future__ import annotations

from dataclasses import replace

from paperdiary.models import ExtractedPaper, SourceKind
from paperdiary.stages.sources.eprint import UnusableSource, unpack
from paperdiary.stages.sources.latexml import read_latexml
from paperdiary.stages.sources.tex import read_tex
from paperdiary.text import fold_ligatures

__all__ = ["UnusableSource", "read_source"]


def read_source(kind: SourceKind, data: bytes, sha: str, *, max_bytes: int) -> ExtractedPaper:
    """The paper in a LaTeX source (``tex``: an e-print as arXiv sends it) or a LaTeXML page (``html``).

    ``max_bytes`` bounds the decompressed source. Raises UnusableSource saying why
    it gives no text.
    """
    if kind == "tex":
        paper = read_tex(unpack(data, max_bytes=max_bytes), sha)
    elif kind == "html":
        paper = read_latexml(data.decode("utf-8", errors="replace"), sha)
    else:
        raise ValueError(f"not a source read here: {kind!r}")
    # Ligatures spelt out, as the PDF path's NFKC does: text is compared and named downstream.
    paper.title = fold_ligatures(paper.title) if paper.title else paper.title
    paper.sections = [replace(s, title=fold_ligatures(s.title), text=fold_ligatures(s.text)) for s in paper.sections]
    return paper
