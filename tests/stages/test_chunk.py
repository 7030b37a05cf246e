"""Chunking a paper within a token budget (pipeline/paperdiary/stages/chunk.py)."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperdiary.llm.tokens import count_tokens
from paperdiary.stages.chunk import MIN_CHUNK_TOKENS, chunk_paper
from paperdiary.errors import UsageError
from paperdiary.models import ExtractedPaper, Section

HEADING_LINE = re.compile(r"^#{2,6} .*$", re.M)


def paper(*sections: Section) -> ExtractedPaper:
    return ExtractedPaper(sha256="0" * 64, pages=1, sections=list(sections))


def squeeze(text: str) -> str:
    """Text without white space: what must survive chunking, whatever the cuts."""
    return "".join(text.split())


def body_of(chunks) -> str:
    """The chunks' text without the heading lines chunking adds."""
    return squeeze("".join(HEADING_LINE.sub("", c.text) for c in chunks))


def prose(sentences: int, seed: str = "alpha") -> str:
    return " ".join(f"Sentence {i} about {seed} keeps going for a while with words." for i in range(sentences))


# ----------------------------------------------------------------------- chunking


def test_a_paper_that_fits_is_one_chunk_with_markdown_headings():
    p = paper(
        Section("", "Title\nAuthors", kind="front"),
        Section("Abstract", "We propose a thing.", kind="abstract"),
        Section("1 Introduction", "First paragraph.\n\nSecond paragraph."),
        Section("1.1 Motivation", "Why it matters.", level=2),
        Section("References", "[1] A. Author. A paper. 2020.", kind="references"),
        Section("A Proofs", "Lemma 1 holds.", kind="appendix"),
    )
    [chunk] = chunk_paper(p, 1000)
    assert chunk.index == 0
    assert chunk.section_titles == ["Abstract", "1 Introduction", "1.1 Motivation"]
    assert "## 1 Introduction\n\nFirst paragraph.\n\nSecond paragraph." in chunk.text
    assert "### 1.1 Motivation\n\nWhy it matters." in chunk.text
    assert "Title\nAuthors" in chunk.text
    assert "A. Author" not in chunk.text and "Lemma" not in chunk.text
    assert chunk.tokens == count_tokens(chunk.text)


def test_back_matter_is_included_on_request():
    p = paper(Section("1 Intro", "Body text."), Section("References", "[1] Cited work.", kind="references"))
    [chunk] = chunk_paper(p, 1000, include_back_matter=True)
    assert "[1] Cited work." in chunk.text
    assert chunk.section_titles == ["1 Intro", "References"]


def test_a_long_paper_is_split_within_budget_in_order_without_losing_text():
    sections = [Section(f"{i} Section {i}", "\n\n".join(prose(6, f"s{i}p{j}") for j in range(4))) for i in range(1, 8)]
    sections.append(Section("References", "[1] Someone. Something. 2020.", kind="references"))
    p = paper(*sections)
    budget = 400
    chunks = chunk_paper(p, budget)

    assert len(chunks) > 1
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(c.tokens <= budget and c.tokens == count_tokens(c.text) for c in chunks)
    assert body_of(chunks) == squeeze(p.body_text)  # everything, in order, once
    assert all("Someone" not in c.text for c in chunks)
    titles = [t for c in chunks for t in c.section_titles]
    assert list(dict.fromkeys(titles)) == [s.title for s in sections[:-1]]


def test_small_sections_are_packed_together_and_never_split():
    sections = [Section(f"{i} Small", prose(3, f"small{i}")) for i in range(1, 7)]
    section_tokens = count_tokens(f"## 1 Small\n\n{prose(3, 'small1')}")
    budget = max(MIN_CHUNK_TOKENS, section_tokens * 2 + 10)  # two sections fit, not all six
    chunks = chunk_paper(paper(*sections), budget)

    assert 1 < len(chunks) < len(sections)
    assert any(len(c.section_titles) > 1 for c in chunks)
    for s in sections:  # each section whole in exactly one chunk
        rendered = f"## {s.title}\n\n{s.text}"
        assert sum(rendered in c.text for c in chunks) == 1


def test_a_section_larger_than_the_budget_is_split_at_paragraphs_with_its_heading_repeated():
    paragraphs = [prose(4, f"para{j}") for j in range(6)]
    p = paper(Section("3 Method", "\n\n".join(paragraphs)))
    chunks = chunk_paper(p, 200)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text.startswith("## 3 Method\n\n")
        assert chunk.section_titles == ["3 Method"]
        assert chunk.tokens <= 200
    # cut only between paragraphs: every paragraph is whole in some chunk
    assert all(any(para in c.text for c in chunks) for para in paragraphs)


def test_a_paragraph_larger_than_the_budget_is_split_at_sentences():
    sentences = [f"Sentence number {i} states a fact about attention and memory." for i in range(60)]
    p = paper(Section("4 Results", " ".join(sentences)))
    chunks = chunk_paper(p, 120)
    assert len(chunks) > 1
    assert all(c.tokens <= 120 for c in chunks)
    assert all(any(s in c.text for c in chunks) for s in sentences)  # no sentence cut
    assert body_of(chunks) == squeeze(p.body_text)


def test_a_sentence_larger_than_the_budget_is_hard_split():
    run_on = " ".join(f"word{i}" for i in range(2000))  # one "sentence", no full stop
    blob = "x" * 5000  # not even a space to cut at
    p = paper(Section("Table", run_on), Section("Blob", blob))
    chunks = chunk_paper(p, MIN_CHUNK_TOKENS)
    assert all(c.tokens <= MIN_CHUNK_TOKENS for c in chunks)
    assert body_of(chunks) == squeeze(p.body_text)


def test_an_empty_paper_gives_no_chunks():
    assert chunk_paper(paper(), 1000) == []
    assert chunk_paper(paper(Section("References", "[1] x", kind="references")), 1000) == []


def test_a_budget_below_the_minimum_is_a_usage_error():
    with pytest.raises(UsageError, match="chunk_tokens"):
        chunk_paper(paper(Section("1 Intro", "Text.")), MIN_CHUNK_TOKENS - 1)


def test_chunking_is_fast_enough_for_a_long_paper():
    p = paper(*[Section(f"{i} Part", "\n\n".join(prose(8, f"p{i}x{j}") for j in range(10))) for i in range(30)])
    count_tokens("warm up")  # loading the vocabulary is a one-off
    start = time.perf_counter()
    chunk_paper(p, 2000)
    assert time.perf_counter() - start < 2.0


# ---------------------------------------------------------- property: random papers

WORD = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789", min_size=30, max_size=400),  # huge "words"
)
SENTENCE = st.lists(WORD, min_size=1, max_size=40).map(lambda ws: ws[0].capitalize() + " " + " ".join(ws[1:]) + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=12).map(" ".join)
SECTION = st.builds(
    lambda n, title, paras, kind: Section(f"{n} {title}", "\n\n".join(paras), kind=kind),
    st.integers(1, 9),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef ", min_size=1, max_size=30).map(str.strip).filter(bool),
    st.lists(PARAGRAPH, min_size=0, max_size=5),
    st.sampled_from(["body", "body", "body", "abstract", "references", "appendix"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sections=st.lists(SECTION, min_size=0, max_size=6), budget=st.integers(MIN_CHUNK_TOKENS, 600))
def test_property_chunks_fit_keep_order_and_lose_nothing(sections, budget):
    p = paper(*sections)
    chunks = chunk_paper(p, budget)

    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.tokens == count_tokens(chunk.text) <= budget
        assert chunk.text.strip()
    assert body_of(chunks) == squeeze(p.body_text)
    expected_titles = list(dict.fromkeys(" ".join(s.title.split()) for s in p.body_sections))
    assert list(dict.fromkeys(t for c in chunks for t in c.section_titles)) == expected_titles
    unlimited = chunk_paper(p, 10**9)
    if unlimited and unlimited[0].tokens <= budget:  # the body fits: exactly one chunk
        assert chunks == unlimited
