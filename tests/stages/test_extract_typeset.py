"""Extraction of hand-set pages with the traps of real arXiv papers (tests/fakes/typeset.py).

Each test first shows the trap in pypdf's own text, then that our text reads as a reader reads the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from paperdiary.models import ExtractedPaper
from paperdiary.stages.extract import Vocabulary, join_lines, read_pdf
from paperdiary.stages.extract.glyphs import glyph_text
from paperdiary.stages.extract.hyphens import join_inline_splits
from tests.fakes.typeset import (
    TABLE_CAPTION,
    TypesetPaper,
    glyph_artefacts,
    make_typeset_paper,
    symbol_fates,
    table_row_sentences,
)


@pytest.fixture(scope="module")
def typeset(tmp_path_factory: pytest.TempPathFactory) -> TypesetPaper:
    return make_typeset_paper(tmp_path_factory.mktemp("typeset") / "paper.pdf", hidden=True)


@pytest.fixture(scope="module")
def extracted(typeset: TypesetPaper) -> ExtractedPaper:
    return read_pdf(typeset.path)


def _pypdf(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def _body(paper: ExtractedPaper) -> str:
    return "\n\n".join(s.text for s in paper.sections if s.kind != "references")


def test_every_paragraph_reads_as_a_reader_reads_it(typeset: TypesetPaper, extracted: ExtractedPaper) -> None:
    raw = _pypdf(typeset.path)
    # The traps are there: glyph names for small caps, control characters for ×, a flattened fraction, a mark.
    assert "R/e.sc/t.sc/r.sc/o.sc" in raw and "25\x02 fewer" in raw and "1\x06dk" in raw.replace(" ", "")
    assert "GPT-3,1" in raw and "dmodel" in raw and "QKT" in raw and "embeddi- ngs" in raw
    paragraphs = [p for s in extracted.sections for p in s.text.split("\n\n")]
    for expected in typeset.prose:
        assert expected in paragraphs
    body = _body(extracted)
    assert "RETRO" in body and "25× fewer" in body and "1/√d_k" in body and "QK^T" in body and "k ≤ 40" in body
    assert "d_model" in body and "embeddings" in body
    assert glyph_artefacts(body) == 0 and glyph_artefacts(raw) > 0


def test_symbols_are_kept_in_place(typeset: TypesetPaper, extracted: ExtractedPaper) -> None:
    reference, body = "\n\n".join(typeset.prose), _body(extracted)
    for symbol in "×√≤":
        kept, lost, dropped = symbol_fates(reference, body, symbol)
        assert (kept > 0, lost, dropped) == (True, 0, 0), symbol
    # The measure itself tells a lost symbol from a kept one.
    assert symbol_fates("using 25× fewer parameters here", "using 25 fewer parameters here", "×")[1] == 1


def test_table_rows_stay_out_of_sentences_and_the_caption_stays(typeset: TypesetPaper,
                                                               extracted: ExtractedPaper) -> None:
    raw = _pypdf(typeset.path)
    assert table_row_sentences(raw.replace("\n", " "), typeset.table_rows)  # pypdf alone reads rows as prose
    body = _body(extracted)
    assert table_row_sentences(body, typeset.table_rows) == []
    assert "21.5" not in body and "Unigram F1" not in body
    assert TABLE_CAPTION in body.split("\n\n")


def test_text_nobody_sees_is_dropped_and_pale_or_boxed_text_is_kept(typeset: TypesetPaper,
                                                                   extracted: ExtractedPaper) -> None:
    raw = _pypdf(typeset.path)
    assert all(text in raw for text in typeset.hidden)  # near-white, 1.2 pt, under a white box: pypdf reads them
    body = _body(extracted)
    for text in typeset.hidden:
        assert text not in body
    for text in typeset.visible_extras:  # light grey, white on a dark box, black on a shaded cell
        assert text in body
    assert extracted.invisible_chars_dropped >= sum(len(t.replace(" ", "")) for t in typeset.hidden)


def test_the_footnote_goes_to_the_end_and_its_mark_goes(extracted: ExtractedPaper) -> None:
    body = _body(extracted)
    assert "GPT-3, despite" in body and "GPT-3,1" not in body
    assert "We compare with the largest model of that family." in body.split("\n\n")


@pytest.mark.parametrize(("name", "text"), [
    ("/e.sc", "E"), ("t.sc", "T"), ("a.smcp", "A"), ("Asmall", "A"), ("f_f_i", "ffi"), ("uni00D7", "×"),
    ("uni00660069", "fi"), ("u1D400", "\U0001d400"), ("one.osf", "1"), ("multiply", "×"), ("g31", None), ("", None),
])
def test_glyph_names_read_as_the_adobe_glyph_list_says(name: str, text: str | None) -> None:
    assert glyph_text(name) == text


@pytest.mark.parametrize(("text", "joined"), [
    ("obtains com- parable performance", "obtains comparable performance"),  # issue 20's real sentence
    ("first- and second-order methods", "first- and second-order methods"),
    ("pre- or post-training", "pre- or post-training"),
    ("a self- attention layer", "a self-attention layer"),
    ("Section 3- Results", "Section 3- Results"),
])
def test_hyphens_left_inside_a_line(text: str, joined: str) -> None:
    vocab = Vocabulary.of(["comparable results are comparable", "self-attention and self-attention"])
    assert join_inline_splits(text, vocab) == joined
    assert join_lines([text], vocab) == joined
