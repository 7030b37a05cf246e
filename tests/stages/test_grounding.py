"""Quotes are checked against the paper tolerantly; invented quotes and numbers are caught."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperdiary.stages.drafting.grounding import PaperText, normalise, numbers_in

PAPER = PaperText(
    "The Transformer achieves 28.4 BLEU on the WMT 2014 English-to-German translation task, "
    "improving over the existing best results by over 2 BLEU. We show that self-attention is signif-\n"
    "icantly faster than recurrent layers. The e\ufb03ciency gain is 1,000 tokens per second \u2014 a lot."
)


def test_verbatim_quote_found() -> None:
    assert PAPER.check("**28.4 BLEU** on WMT'14 En-De", "achieves 28.4 BLEU on the WMT 2014").verified


def test_tolerant_of_hyphenation_ligatures_case_and_spacing() -> None:
    assert PAPER.contains_quote("self-attention is significantly   faster")
    assert PAPER.contains_quote("The EFFICIENCY gain is 1,000 tokens")
    assert PAPER.contains_quote("The efficiency gain is 1,000 tokens per second - a lot")


def test_invented_quote_is_not_found() -> None:
    check = PAPER.check("Transformers beat LSTMs.", "transformers always beat LSTMs on every task")
    assert not check.quote_found and not check.verified


def test_number_not_in_paper_is_flagged() -> None:
    check = PAPER.check("Reaches **41.8 BLEU**.", "achieves 28.4 BLEU on the WMT 2014")
    assert check.quote_found and check.missing_numbers == ["41.8"] and not check.verified


def test_short_or_missing_quotes_prove_nothing() -> None:
    assert not PAPER.contains_quote("the")
    assert not PAPER.contains_quote(None)
    assert not PAPER.contains_quote("")


def test_numbers_are_canonical() -> None:
    assert numbers_in("1,000 and 28.40 and \u22120.5 and 92%") == {"1000", "28.4", "-0.5", "92"}


@given(st.text(min_size=20, max_size=200))
def test_any_substring_of_the_paper_is_found(text: str) -> None:
    paper = PaperText("prefix words " + text + " suffix words")
    quote = text.strip()
    if len(normalise(quote)) >= 12:
        assert paper.contains_quote(quote)
