"""The offline drafter's rules for entries a reader would keep (issue 12), on the shared real papers, on generated
PDFs and on small hand-made papers: no two bullets say the same thing; Limitations only from sentences that state
one; no citation, footnote or figure marks; bold only on names, numbers and the paper's own terms; lessons that
stand alone; a one-line description that scores better than the "first 'we propose' sentence" rule."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from paperdiary.models import ExtractedPaper, PaperMeta, Section
from paperdiary.settings import load_settings
from paperdiary.stages.drafting.contract import DESCRIPTION_MAX_CHARS, Draft
from paperdiary.stages.drafting.offline import draft_offline
from paperdiary.stages.entry import render_entry
from tests.conftest import SHARED_PAPERS
from tests.fakes.pdfs import generate_paper, make_paper_pdf
from tests.stages.tldr_set import (
    HELD_OUT_SET,
    HELD_OUT_SET_2,
    TLDR_SET,
    drafted_description,
    load_tldr_set,
    rouge1_f1,
    score_set,
)

TLDR_SETS = pytest.mark.parametrize("tldr_set", [TLDR_SET, HELD_OUT_SET, HELD_OUT_SET_2], ids=lambda p: p.stem)

THEMES = ["Reinforcement Learning", "Self Improvement", "Training in General", "Robotics"]
BOLD = re.compile(r"\*\*([^*]+)\*\*")
SHARED = sorted(SHARED_PAPERS.glob("*.pdf")) if SHARED_PAPERS.is_dir() else []


def read(path: Path) -> ExtractedPaper:
    from paperdiary.stages.extract import read_pdf

    return read_pdf(path)


@pytest.fixture(scope="module")
def real() -> dict[str, tuple[ExtractedPaper, Draft]]:
    """The shared arXiv PDFs (tests/conftest.py SHARED_PAPERS), drafted as a local PDF would be."""
    if not SHARED:
        pytest.skip("no shared papers beside the clone (set PAPERDIARY_SHARED_PAPERS)")
    out = {}
    for pdf in SHARED:
        paper = read(pdf)
        out[pdf.stem] = (paper, draft_offline(PaperMeta(title=paper.title or ""), paper, themes=THEMES))
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ExtractedPaper, Draft]]:
    folder = tmp_path_factory.mktemp("generated")
    out = {}
    for seed in (1, 2, 3):
        paper = read(make_paper_pdf(folder / f"paper{seed}.pdf", **generate_paper(6, seed=seed)))
        out[f"generated{seed}"] = (paper, draft_offline(PaperMeta(title=paper.title or ""), paper, themes=THEMES))
    return out


@pytest.fixture(params=["real", "generated"])
def drafts(request: pytest.FixtureRequest) -> dict[str, tuple[ExtractedPaper, Draft]]:
    return request.getfixturevalue(request.param)


def bullets(draft: Draft) -> list[str]:
    return [c.text for c in draft.key_points + draft.key_methods + draft.results + draft.limitations]


def shown(draft: Draft) -> list[str]:
    return [*bullets(draft), *(x.text for x in draft.lessons), draft.description]


def plain(text: str) -> str:
    return text.replace("**", "")


def paper(**sections: str) -> ExtractedPaper:
    """A small paper: keyword = section title (underscores for spaces), value = its text."""
    return ExtractedPaper(sha256="f" * 64, pages=4, sections=[
        Section(title.replace("_", " "), text, kind="abstract" if title == "Abstract" else "body")
        for title, text in sections.items()])


# ------------------------------------------------------------------ no two bullets say the same thing

_WORD = re.compile(r"[a-z][a-z-]{3,}")
_COMMON = frozenset("that with this from their which than have been also more most into over when only both such "
                    "these those were they them using used show shows paper method model models".split())
_MEASUREMENT = re.compile(r"(?<![\w.])\d+\.\d+(?![\d])|(?<![\w.])\d+(?:\.\d+)?\s*%")


def content_words(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(plain(text).lower()) if w not in _COMMON}


def test_no_two_bullets_say_the_same_thing(drafts) -> None:
    for name, (_, draft) in drafts.items():
        texts = bullets(draft)
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                x, y = content_words(a), content_words(b)
                assert len(x & y) < 0.5 * len(x | y), (name, a, b)
                assert len(x & y) < 0.8 * min(len(x), len(y)), (name, a, b)
                same_measure = set(_MEASUREMENT.findall(a)) & set(_MEASUREMENT.findall(b))
                assert not same_measure, (name, same_measure, a, b)


def test_the_issues_repeats_are_gone(real) -> None:
    if "1706.03762" not in real:
        pytest.skip("Attention Is All You Need is not among the shared papers")
    draft = real["1706.03762"][1]
    texts = [plain(t) for t in bullets(draft)]
    # Key Point 1 ~ Key Point 5: the abstract's and the introduction's "we propose the Transformer".
    assert sum(bool(re.search(r"\bpropose\b.*\bTransformer\b", t)) for t in texts) <= 1, texts
    # Result 1 ~ Key Point 2: the 28.4 BLEU of WMT English-German, in the abstract and in the results.
    assert sum("28.4" in t for t in texts) == 1, texts


def test_of_two_sentences_saying_the_same_the_more_informative_stays() -> None:
    d = draft_offline(PaperMeta(title="EGPO: Entropy-Guided Policy Optimization"), paper(
        Abstract="We propose EGPO, a policy gradient method that trains reasoning models on forking tokens only.",
        Method="EGPO computes the entropy of the policy at every generated token during the rollout of a batch.",
        Experiments=(
            "EGPO reaches 63.5% accuracy on the AIME 2024 benchmark of olympiad problems. "
            "On the AIME 2024 benchmark of olympiad problems, EGPO reaches 63.5% accuracy, 4.2 points above PPO, "
            "while using 40% less compute. "
            "On MATH-500 the method improves accuracy from 81.2% to 84.9% while training 1.7x faster.")))
    texts = [plain(t) for t in bullets(d)]
    assert any("4.2 points above PPO" in t for t in texts), texts
    assert not any(t.startswith("EGPO reaches 63.5%") for t in texts), texts


# ------------------------------------------------------------------ limitations

LIMITATION_CUE = re.compile(
    r"limitation|fail|cannot|\bnot\b|\bonly\b|restricted|limited|requires?|unstable|difficult|future|expensive"
    r"|costly|struggle|saturate|sensitive|open question|unclear|drawback|shortcoming", re.I)
BOILERPLATE = re.compile(
    r"(?:carr(?:y|ies)|has|have) (?:one|a|two|some|several) (?:major |main )?limitations?\.$"
    r"|leave (?:this|it|these|that) (?:to|for|as) future work|investigate this approach further"
    r"|inspires? future work|we discuss (?:the |our )?limitations", re.I)


def test_limitations_state_a_limitation_and_nothing_else(drafts) -> None:
    for name, (_, draft) in drafts.items():
        for claim in draft.limitations:
            assert LIMITATION_CUE.search(claim.text), (name, claim.text)
            assert not BOILERPLATE.search(claim.text), (name, claim.text)


def test_real_limitations(real, tmp_path: Path) -> None:
    by_stem = {stem: draft for stem, (_, draft) in real.items()}
    if "2203.14465" in by_stem:  # STaR announces its limitation, then states it
        texts = [c.text for c in by_stem["2203.14465"].limitations]
        assert any("only trained on the examples" in t for t in texts), texts
        assert not any("carries one major limitation" in t or "we leave this to future work" in t for t in texts)
    if "2205.14135" in by_stem:  # FlashAttention's own section
        assert any("CUDA kernel" in c.text for c in by_stem["2205.14135"].limitations)
    if "1706.03762" in by_stem:  # the Transformer paper states none: the entry says so
        draft = by_stem["1706.03762"]
        assert draft.limitations == []
        entry = render_entry(load_settings(tmp_path, env={}), draft, PaperMeta(title="Attention Is All You Need"),
                             date(2025, 6, 11), "1706.03762.pdf")
        assert "## Limitations\n- _None stated in the paper; add your own._" in entry


def test_boilerplate_is_no_limitation_and_an_announced_one_is_found() -> None:
    body = dict(
        Abstract="We propose EGPO, a policy gradient method that trains reasoning models on forking tokens only.",
        Method=("EGPO computes the entropy of the policy at every generated token during the rollout. "
                "Our method does not require any extra parameters or a value network at all."),
        Experiments="EGPO reaches 63.5% accuracy on AIME 2024, outperforming PPO by 4.2 points in our runs.",
        Conclusion=("We presented EGPO, which trains reasoning agents on the tokens that matter. "
                    "We plan to investigate this approach further in future work. "
                    "We hope our work inspires future work in this direction. "
                    "Our approach carries one major limitation."),
    )
    meta = PaperMeta(title="EGPO: Entropy-Guided Policy Optimization")
    assert draft_offline(meta, paper(**body)).limitations == []

    body["Conclusion"] += " Since the model only learns from rollouts it solves, training stops once it saturates."
    texts = [c.text for c in draft_offline(meta, paper(**body)).limitations]
    assert texts == ["Since the model only learns from rollouts it solves, training stops once it saturates."]


# ------------------------------------------------------------------ citations, footnotes, pointers

LEFTOVER = re.compile(
    r"\[\s*\d|\\\[|\[[A-Z][a-z]+ et al|\((?:[A-Z][a-z]+(?: et al\.| and [A-Z][a-z]+)?),? (?:19|20)\d\d"
    r"|\b(?:Table|Tables|Figure|Fig\.|Section|Sec\.|Appendix|Algorithm|Eq\.)\s*\(?\d"
    r"|[a-z][\u00b9\u00b2\u00b3\u2070-\u2079\u2020\u2021]|\\cite"
)


def test_no_citation_footnote_or_figure_marks(drafts) -> None:
    for name, (_, draft) in drafts.items():
        for text in shown(draft):
            assert not LEFTOVER.search(text), (name, text)


def test_marks_go_from_a_paper_full_of_them() -> None:
    d = draft_offline(PaperMeta(title="SparseMix: Routing Tokens for Sparse Experts"), paper(
        Abstract=("We propose SparseMix, a routing scheme for mixture-of-experts layers [4, 9] that balances the "
                  "load of every expert\u00b9. We show that SparseMix lowers perplexity by 6.2% on C4 compared to "
                  "top-2 routing (Fedus et al., 2021)."),
        Introduction=("Sparse experts scale language models cheaply \\[12\\], as shown in Table 1. In this work, we "
                      "propose SparseMix, which solves a small transport problem at every layer, similar to [30]."),
        Method=("SparseMix assigns tokens to experts with a few Sinkhorn iterations (see Section 3.2). "
                "The router described in Algorithm 1 adds less than 2% to the step time of the model."),
        Results=("Table 2 reports perplexity on C4 and The Pile for every model size we trained. As shown in "
                 "Figure 3, SparseMix improves zero-shot accuracy by 1.8 points over the balancing loss of [7].")))
    for text in shown(d):
        assert not LEFTOVER.search(text), text
    everything = " ".join(shown(d))
    assert "Table 2 reports" not in everything and "of [7]" not in everything
    assert any("The router adds less than 2% to the step time" in plain(t) for t in bullets(d)), bullets(d)


# ------------------------------------------------------------------ bold

_EDGE = frozenset("the a an of in on to for with by from and or but that which around across into over is are was "
                  "were be has have can will our we this these it its their".split())
_VERB = frozenset("employ employs use uses using contribute contributes improve improves make makes compute computes "
                  "is are was were has have show shows".split())


def test_bold_marks_a_whole_name_number_or_term(drafts) -> None:
    for name, (source, draft) in drafts.items():
        text = " ".join(s.text for s in source.sections).lower()
        for item in shown(draft):
            spans = BOLD.findall(item)
            assert len(spans) <= 1, item
            for span in spans:
                words = span.lower().split()
                assert words[0] not in _EDGE and words[-1].strip(".,") not in _EDGE, (name, item)
                assert not _VERB & set(words), (name, item)
                assert not span.endswith((".", ",", "-aware")) and not words[-1].endswith("ly"), (name, item)
                named = any(c.isupper() or c.isdigit() for c in span[1:])
                assert named or text.count(span.lower()) >= 2, (name, span)


def test_the_issues_fragments_are_not_bold(real) -> None:
    everything = " ".join(t for _, draft in real.values() for t in shown(draft))
    for fragment in ("**residual connection around**", "**employ residual connections**", "**IO-aware**",
                     "**tokens contribute little**", "**dataset**"):
        assert fragment not in everything


# ------------------------------------------------------------------ lessons

_LEANS_BACK = re.compile(r"^(?:this|these|it|its|we|our|they|such|the paper|the authors)\b", re.I)


def test_every_lesson_stands_alone(drafts) -> None:
    for name, (_, draft) in drafts.items():
        assert draft.lessons, name
        for lesson in draft.lessons:
            text = plain(lesson.text)
            assert not _LEANS_BACK.match(text), (name, text)
            assert not re.search(r"\b(?:we|our|us)\b", text, re.I), (name, text)
            assert "This technique" not in text and text.endswith(".")


def test_star_lessons_name_star(real) -> None:
    if "2203.14465" not in real:
        pytest.skip("STaR is not among the shared papers")
    texts = [x.text for x in real["2203.14465"][1].lessons]
    assert all("STaR" in t for t in texts if "technique" in t), texts
    assert any("STaR" in t for t in texts), texts


def test_an_anaphoric_finding_names_the_method() -> None:
    d = draft_offline(PaperMeta(title="STaR: Self-Taught Reasoner"), paper(
        Abstract=("We propose the Self-Taught Reasoner (STaR), which bootstraps rationales from a few examples. "
                  "We show that this technique significantly improves generalization on symbolic reasoning tasks.")))
    texts = [x.text for x in d.lessons]
    assert any(plain(t).startswith("STaR significantly improves generalization") for t in texts), texts


# ------------------------------------------------------------------ the one-line description


@TLDR_SETS
def test_the_tldr_set_is_large_and_varied(tldr_set: Path) -> None:
    papers = load_tldr_set(tldr_set)
    assert len(papers) >= 24 and len({p.id for p in papers}) == len(papers)
    assert all(p.title and len(p.abstract.split()) >= 60 and 8 <= len(p.tldr.split()) <= 40 for p in papers)
    # Not every abstract says "we propose": the baseline rule must sometimes fall back to the first sentence.
    assert sum(not re.search(r"\b(?:we|this paper|this work) (?:\w+ )?(?:propose|introduce|present)", p.abstract, re.I)
               for p in papers) >= 8


def test_rouge1() -> None:
    assert rouge1_f1("the cat sat", "the cat sat") == 1.0
    assert rouge1_f1("dog", "the cat sat") == 0.0
    assert rouge1_f1("the cat", "the cat sat on the mat") == pytest.approx(2 * (1.0 * 2 / 6) / (1.0 + 2 / 6))


def test_the_one_liner_beats_the_first_proposal_sentence_on_author_tldrs() -> None:
    # The three written sets together (85 papers): SciTLDR dev, the figure that counts, is measured by
    # scripts/bench_describe.py. held_out.json alone is below the baseline (0.236 against 0.251).
    scores = [score_set(load_tldr_set(path)) for path in (TLDR_SET, HELD_OUT_SET, HELD_OUT_SET_2)]
    ours = [x for s in scores for x in s.ours]
    baseline = [x for s in scores for x in s.baseline]
    assert sum(ours) > sum(baseline), (sum(ours) / len(ours), sum(baseline) / len(baseline))
    assert sum(o >= b for o, b in zip(ours, baseline, strict=True)) > len(ours) / 2


@TLDR_SETS
def test_the_one_liner_reads_like_a_tldr(tldr_set: Path) -> None:
    for tldr_paper in load_tldr_set(tldr_set):
        line = drafted_description(tldr_paper)
        assert len(line) <= DESCRIPTION_MAX_CHARS and "…" not in line and line.endswith("."), line
        assert not line.endswith((",.", ";.", ":.")) and line[0].isupper(), line
        assert not re.match(r"(?:In this (?:paper|work)|Here),", line), line  # the framing opener is dropped


@pytest.mark.parametrize("abstract, never", [
    # Cut inside a relative clause, a "how" clause, a "because" clause, or before a compound adjective's noun.
    ("We present StormNet, a graph neural network that operates on a hierarchy of icosahedral meshes, from 40K "
     "nodes at 1 degree to 2.6M nodes at 0.25 degrees, and passes messages between levels in one forward step. "
     "A 50-member StormNet ensemble produces a 15-day global forecast in 90 seconds on a single accelerator and "
     "beats the operational ensemble on 89% of evaluated targets.", r"that operates[;.]"),
    ("This paper studies how two-layer neural networks trained with stochastic gradient descent learn k-sparse "
     "parities of n Boolean inputs. We show that online SGD learns them from n^(k-1) log n samples after a long "
     "plateau, and experiments with n up to 50 and k up to 4 confirm the predicted plateau lengths within a "
     "constant factor of the bound.", r"how two-layer neural networks[;.]"),
    ("To address this, we introduce DeLen-DPO, which decomposes the implicit reward of DPO into a length-dependent "
     "and a length-independent term and fits only the latter to preferences collected from annotators. DeLen-DPO "
     "keeps mean response length within 5% of the SFT model and raises the length-controlled win rate from 24.1% "
     "to 31.7% on a standard benchmark of instructions.", r"length-dependent[;.]"),
])
def test_the_one_liner_never_stops_inside_a_clause(abstract: str, never: str) -> None:
    line = draft_offline(PaperMeta(title="A paper", abstract=abstract),
                         ExtractedPaper(sha256="x", pages=1, sections=[])).description
    assert not re.search(never, line) and not line.endswith((",.", ";.", ":.")), line


def test_a_release_is_not_what_the_paper_did() -> None:
    abstract = ("Language models are pre-trained on packed sequences of concatenated documents. We show that masking "
                "attention at document boundaries lowers validation loss by 0.02 to 0.04 nats at every scale from "
                "125M to 2.7B parameters and improves long-context retrieval. We release our training "
                "configurations and checkpoints.")
    line = draft_offline(PaperMeta(title="Packing", abstract=abstract),
                         ExtractedPaper(sha256="x", pages=1, sections=[])).description
    # The learnt scorer ranks the release last; with a one-word title it prefers the short opening sentence
    # to the finding here (a known miss: nothing in the title says what the paper is about).
    assert "release" not in line.lower() and "checkpoints" not in line, line


def test_descriptions_of_real_papers(real) -> None:
    for stem, (_, draft) in real.items():
        assert len(draft.description) <= DESCRIPTION_MAX_CHARS and draft.description.endswith("."), stem
