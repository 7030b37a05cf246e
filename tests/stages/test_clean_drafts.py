"""Issue 20's clean-text rules for drafts, on the real sentences it quotes: no bold on people's names, Limitations
only from sentences that state one, ligatures folded, pointers and asides gone."""

from __future__ import annotations

import re

import pytest

from paperdiary.models import ExtractedPaper, PaperMeta, Section
from paperdiary.stages.drafting.offline import draft_offline
from paperdiary.stages.drafting.phrases import is_person, person_names
from paperdiary.stages.drafting.tidy import tidy

BOLD = re.compile(r"\*\*([^*]+)\*\*")

REFERENCES = (
    "[1] Chelsea Finn, Pieter Abbeel, and Sergey Levine. Model-agnostic meta-learning for fast adaptation of deep "
    "networks. In ICML, 2017.\n\n"
    "[2] Noam Shazeer, Azalia Mirhoseini, Krzysztof Maziarz, et al. Outrageously large neural networks: The "
    "sparsely-gated mixture-of-experts layer. ICLR, 2017.\n\n"
    "Vaswani, A., Shazeer, N., Parmar, N. Attention is all you need. NeurIPS (2017).\n\n"
    "Language models are few-shot learners. OpenAI technical report, 2020."
)


def _paper(references: str = REFERENCES, **sections: str) -> ExtractedPaper:
    return ExtractedPaper(
        sha256="e" * 64, pages=9, authors=["Jack W. Rae", "Erich Elsen", "Sebastian Borgeaud"],
        sections=[Section(t.replace("_", " "), text, kind="abstract" if t == "Abstract" else "body")
                  for t, text in sections.items()] + [Section("References", references, kind="references")])


def _bullets(paper: ExtractedPaper, meta: PaperMeta) -> list[str]:
    draft = draft_offline(meta, paper)
    return [c.text for c in draft.key_points + draft.key_methods + draft.results + draft.limitations] + [
        lesson.text for lesson in draft.lessons]


# ------------------------------------------------------------------ bold never on a person's name


def test_names_of_the_author_block_and_the_references() -> None:
    names = person_names(["Jack W. Rae", "Erich Elsen"], REFERENCES)
    assert {"finn", "shazeer", "levine", "vaswani", "elsen", "rae"} <= names
    # A reference's title is not a name, nor is a reference without authors.
    assert not {"model-agnostic", "outrageously", "language", "attention", "networks"} & names
    for phrase in ("Shazeer", "Finn", "Finn et al.", "Erich Elsenz", "Noam Shazeer", "Shazeer et al."):
        assert is_person(phrase, names), phrase  # "Elsenz": "Elsen‡" read with its mark as a letter
    for phrase in ("MAML", "Transformer", "mixture of experts", "Elsewhere", "finn"):
        assert not is_person(phrase, names), phrase


def test_the_drafter_never_bolds_a_name_from_the_author_block_or_the_references() -> None:
    meta = PaperMeta(title="Improving language models by retrieving from trillions of tokens",
                     authors=["Sebastian Borgeaud", "Erich Elsen"])
    paper = _paper(
        Abstract=("We enhance auto-regressive language models by conditioning on document chunks retrieved from a "
                  "large corpus. Our model obtains comparable performance to GPT-3 despite using 25× fewer "
                  "parameters."),
        Introduction=("Shazeer showed that sparsely gated mixture of experts layers scale language models to "
                      "billions of parameters. Finn proposed a meta-learning objective that adapts a model to a new "
                      "task in a few gradient steps. Erich Elsenz trained the largest retrieval models on a "
                      "cluster of accelerators for several weeks."),
        Method=("Each training sequence is split into chunks of 64 tokens, and every chunk retrieves its nearest "
                "neighbours with a frozen BERT encoder. Neighbours are attended to through chunked "
                "cross-attention, so the cost grows linearly with the number of retrieved passages."),
        Results=("Retrieval lowers the validation perplexity on every evaluation set we considered, with a gain "
                 "of 0.12 bits per byte on the largest set."),
    )
    bullets = _bullets(paper, meta)
    bold = [b for text in bullets for b in BOLD.findall(text)]
    assert bold  # the drafter still bolds something
    people = person_names([*meta.authors, *paper.authors], REFERENCES)
    assert not [b for b in bold if is_person(b, people)], bold
    assert not any(re.search(r"\*\*(?:Erich|Elsen|Finn|Shazeer)", text) for text in bullets)


# ------------------------------------------------------------------ limitations


RETRO_RESULT = "Despite being only trained with 2 neighbours, we see consistent improvements when evaluating with 40."


def test_a_result_in_a_discussion_is_not_a_limitation() -> None:
    meta = PaperMeta(title="RETRO: Improving language models by retrieving from trillions of tokens")
    body = dict(
        Abstract="We enhance auto-regressive language models by conditioning on document chunks retrieved from a corpus.",
        Method="Each chunk retrieves its nearest neighbours with a frozen encoder before every training step.",
        Results="Retrieval lowers the validation perplexity on every evaluation set we considered.",
        Discussion=(f"{RETRO_RESULT} Even with only 1% of the database, the model outperforms the baseline on all "
                    "sets. We find the gains grow with the size of the retrieval database."),
    )
    assert draft_offline(meta, _paper(**body)).limitations == []  # "none stated": empty beats wrong
    body["Discussion"] += (" However, our evaluation cannot rule out leakage when the retrieval database "
                           "overlaps with the test sets.")
    texts = [c.text for c in draft_offline(meta, _paper(**body)).limitations]
    assert texts and all("leakage" in t for t in texts)


def test_a_limitation_that_concedes_a_gain_is_still_one() -> None:
    meta = PaperMeta(title="RETRO: Improving language models by retrieving from trillions of tokens")
    body = dict(
        Abstract="We enhance auto-regressive language models by conditioning on document chunks retrieved from a corpus.",
        Introduction=("Language models store knowledge in their parameters, which grow with every new release. "
                      "Retrieval lets a small model read what it has not memorised from a database of text."),
        Method=("Each chunk retrieves its nearest neighbours with a frozen encoder before every training step. "
                "The neighbours are attended to through chunked cross-attention in every third layer."),
        Results=("Retrieval lowers the validation perplexity on every evaluation set we considered. "
                 "The gain grows with the size of the retrieval database up to two trillion tokens."),
        Limitations=("Although the retriever is cheap to run, our model does not generalize to languages the "
                     "database does not cover."),
    )
    texts = [c.text for c in draft_offline(meta, _paper(**body)).limitations]
    assert texts == [body["Limitations"]]


# ------------------------------------------------------------------ ligatures, pointers, marks, asides


def test_ligatures_are_folded_before_sentences_are_compared_or_shown() -> None:
    meta = PaperMeta(title="Retrieval at scale")
    paper = _paper(
        Abstract=("We show that retrieval signi\ufb01cantly improves language models of every size we trained, "
                  "with a bene\ufb01t that grows with the database."),
        Results="Retrieval signi\ufb01cantly improves perplexity on all \ufb01ve evaluation sets we considered.",
    )
    text = " ".join(_bullets(paper, meta)) + draft_offline(meta, paper).description
    assert "significantly" in text and not re.search("[\ufb00-\ufb06]", text)
    assert "Signi Cantly" not in text and "signi cantly" not in text


@pytest.mark.parametrize(("sentence", "shown"), [
    ("The encoder (§2.3) maps every chunk to a vector of a fixed size.",
     "The encoder maps every chunk to a vector of a fixed size."),
    ("Scaled dot-product attention (left) divides each score by the square root of the key dimension.",
     "Scaled dot-product attention divides each score by the square root of the key dimension."),
    ("Our model obtains comparable performance to GPT-3,1 despite using 25× fewer parameters.",
     "Our model obtains comparable performance to GPT-3, despite using 25× fewer parameters."),
    ("(e.g., 3.5 points better than GAR on average).", None),  # a whole bullet that is only an aside
    ("(a) We train the retriever and (b) we freeze it for the rest of training.",
     "(a) We train the retriever and (b) we freeze it for the rest of training."),
])
def test_pointers_marks_and_asides(sentence: str, shown: str | None) -> None:
    assert tidy(sentence) == shown
