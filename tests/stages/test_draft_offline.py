"""The offline extractive drafter (stages/drafting/offline.py) and the Draft contract it keeps (contract.py)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperdiary.models import ExtractedPaper, PaperMeta, Section
from paperdiary.stages.drafting.contract import (
    DESCRIPTION_MAX_CHARS,
    LIST_LIMITS,
    OFFLINE_DRAFTER,
    Claim,
    Draft,
    Lesson,
    conform_draft,
    short_name,
)
from paperdiary.stages.drafting.offline import draft_offline
from paperdiary.text import fold_ligatures, one_line
from paperdiary.themes import match_theme

THEMES = [
    "Reinforcement Learning",
    "Self Improvement",
    "Training in General",
    "Robotics",
    "Open-Endedness and Auto Curriculums",
]
BOLD = re.compile(r"\*\*[^*\n]+\*\*")

ABSTRACT = (
    "Reinforcement learning with verifiable rewards has become the standard way to improve reasoning in "
    "language models, yet most tokens contribute little to the policy gradient. "
    "We propose Entropy-Guided Policy Optimization (EGPO), a policy gradient method that updates the "
    "policy only on high-entropy forking tokens. "
    "We show that training on the top 20% of tokens by entropy matches full-gradient training on "
    "mathematical reasoning benchmarks. "
    "On AIME 2024, EGPO reaches 63.5% accuracy, outperforming PPO by 4.2 points while using 40% less compute."
)
INTRO = (
    "Large language models are increasingly fine-tuned with reinforcement learning from verifiable rewards "
    "[3, 7]. Schulman et al. [12] introduced proximal policy optimization, which clips the policy ratio to "
    "keep updates small, e.g. by bounding it to 0.2. Recent work has shown that rewards can be sparse and "
    "noisy, i.e. most rollouts carry little signal [4].\n\n"
    "In this work, we propose EGPO, a simple change to the policy loss that masks low-entropy tokens. "
    "Our contributions are threefold. First, we find that fewer than 20% of tokens have high entropy, "
    "and these tokens decide the reasoning path of the agent. Second, we show that restricting the "
    "gradient to these forking tokens improves sample efficiency by 2.1x. [5, 6]"
)
METHOD = (
    "EGPO computes the entropy of the policy at every generated token during the rollout. We keep the "
    "tokens whose entropy is above the 80th percentile of the batch and mask the rest of the loss. The "
    "advantage of each rollout is computed with group normalisation as in GRPO, following Shao et al. [9]. "
    "L(θ) = E[min(r(θ)A, clip(r(θ), 1−ε, 1+ε)A)] (1). "
    "Figure 2: Token entropy across training steps for EGPO and PPO. "
    "Our method adds no parameters and its cost is dominated by the entropy computation."
)
RESULTS = (
    "Table 1 reports accuracy on AIME 2024, AIME 2025 and MATH-500. EGPO reaches 63.5% on AIME 2024 "
    "compared to 59.3% for PPO and 60.1% for GRPO. On MATH-500 our method improves accuracy from 81.2% to "
    "84.9% while training 1.7x faster than the baseline. ##$$%%^^&&**(()) 0x3f 0x4a ~~~ ||| \\\\ //. "
    "Ablations in Fig. 3 show that the 80th percentile threshold works best vs. the 50th and 95th."
)
CONCLUSION = (
    "We presented EGPO, which trains reasoning agents on the tokens that matter. Our results suggest that "
    "high-entropy forking tokens carry most of the learning signal in reinforcement learning for language "
    "models. A limitation of our study is that we only evaluate on mathematics; future work should test "
    "code generation and agentic tasks."
)
REFERENCES = "[1] J. Schulman, F. Wolski, P. Dhariwal. Proximal policy optimization algorithms. arXiv preprint, 2017."


def rl_paper(abstract_section: bool = True) -> ExtractedPaper:
    sections = [Section("", "Entropy-Guided Policy Optimization\nA. Author, B. Author", kind="front")]
    if abstract_section:
        sections.append(Section("Abstract", ABSTRACT, kind="abstract"))
    sections += [
        Section("1 Introduction", INTRO),
        Section("2 Method", METHOD),
        Section("3 Experiments", RESULTS),
        Section("4 Conclusion", CONCLUSION),
        Section("References", REFERENCES, kind="references"),
    ]
    return ExtractedPaper(sha256="a" * 64, pages=12, sections=sections)


RL_META = PaperMeta(
    title="EGPO: Entropy-Guided Policy Optimization for Reasoning", abstract=ABSTRACT, arxiv_id="2506.01939"
)


def flat(text: str) -> str:
    return " ".join(text.split())


def source_text(meta: PaperMeta, paper: ExtractedPaper) -> str:
    return flat(meta.abstract + " " + paper.full_text)


@pytest.fixture(scope="module")
def draft() -> Draft:
    return draft_offline(RL_META, rl_paper(), themes=THEMES)


# ------------------------------------------------------------------ the draft


def test_identity_fields(draft):
    assert draft.short_name == "EGPO"
    assert draft.drafter == OFFLINE_DRAFTER
    assert draft.notes["path"] == "extractive"
    assert int(draft.notes["sentences_considered"]) > 10
    assert draft.notes["abstract"] == "metadata"


def test_key_points_are_bolded_verbatim_quotes(draft):
    text = source_text(RL_META, rl_paper())
    assert 3 <= len(draft.key_points) <= 5
    for claim in draft.key_points:
        assert BOLD.search(claim.text), claim.text
        assert claim.verified and claim.quote and claim.quote in text
        assert claim.text.replace("**", "") in flat(_uncited(claim.quote))


def _uncited(text: str) -> str:
    return re.sub(r"\s*\[[\d,\s]+\]", "", text)


def test_key_points_come_from_the_abstract_and_contributions(draft):
    quotes = " ".join(c.quote for c in draft.key_points)
    assert "We propose Entropy-Guided Policy Optimization (EGPO)" in quotes
    assert "We show that training on the top 20% of tokens" in quotes
    assert "**EGPO**" in " ".join(c.text for c in draft.key_points)


def test_methods_come_from_the_method_section(draft):
    assert 2 <= len(draft.key_methods) <= 4
    assert all(c.quote in flat(METHOD) for c in draft.key_methods)


def test_results_report_numbers(draft):
    assert 2 <= len(draft.results) <= 4
    assert all(re.search(r"\d", c.text) for c in draft.results)
    assert any("63.5%" in c.text for c in draft.results)


def test_limitations_are_found(draft):
    assert [c.quote for c in draft.limitations] == [
        "A limitation of our study is that we only evaluate on mathematics; future work should test code "
        "generation and agentic tasks."
    ]


def test_no_citations_captions_equations_or_debris(draft):
    shown = [c.text for c in draft.key_points + draft.key_methods + draft.results + draft.limitations]
    shown += [x.text for x in draft.lessons]
    for text in shown:
        assert not re.search(r"\[\d", text), text  # citation markers dropped
        assert "Figure 2" not in text and "L(θ)" not in text and "0x3f" not in text
        assert "Schulman et al." not in text  # others' work is not this paper's key point
        assert "\n" not in text


def test_sentences_are_not_broken_at_abbreviations_or_decimals():
    meta = dataclasses.replace(RL_META, abstract="")
    d = draft_offline(meta, rl_paper(), themes=THEMES)
    quotes = [c.quote for c in d.key_points + d.key_methods + d.results + d.limitations]
    assert all(q[0].isupper() for q in quotes)
    assert any("vs. the 50th and 95th" in q for q in quotes) or not any("Ablations" in q for q in quotes)
    assert any("84.9%" in q for q in quotes + [r.text for r in d.results])


def test_lessons_are_rewritten_contribution_statements(draft):
    assert 1 <= len(draft.lessons) <= 3
    text = source_text(RL_META, rl_paper())
    for lesson in draft.lessons:
        assert BOLD.search(lesson.text), lesson.text
        assert lesson.quote in text
        assert re.search(r"\b(?:we (?:show|find|propose|present)|our results suggest)\b", lesson.quote, re.I)
        assert "[" not in lesson.text  # the merger adds the entry link in the README's style
        assert lesson.text.endswith(".") and "\n" not in lesson.text
        assert not re.match(r"(?i)we\b", lesson.text)  # standalone: no "we"
        assert lesson.why and lesson.verified


def test_a_finding_becomes_a_standalone_sentence(draft):
    texts = [x.text for x in draft.lessons]
    assert any(t.startswith("**") and t.endswith(".") and "EGPO" not in t for t in texts), texts


def test_lesson_theme_is_matched_from_the_given_themes(draft):
    assert {x.theme for x in draft.lessons} == {"Reinforcement Learning"}


def test_no_themes_means_no_theme():
    d = draft_offline(RL_META, rl_paper())
    assert d.lessons and all(x.theme is None for x in d.lessons)


def test_description_is_one_short_line(draft):
    assert draft.description
    assert "\n" not in draft.description
    assert len(draft.description) <= DESCRIPTION_MAX_CHARS
    # The abstract's proposal, as an author's TL;DR says it (SciTLDR's authors write "We propose ...").
    assert draft.description.startswith("We propose Entropy-Guided Policy Optimization"), draft.description


def test_deterministic_within_and_across_processes(draft):
    assert draft_offline(RL_META, rl_paper(), themes=THEMES) == draft
    code = (
        "import tests.stages.test_draft_offline as t; "
        "from paperdiary.stages.drafting.offline import draft_offline; "
        "print(repr(draft_offline(t.RL_META, t.rl_paper(), themes=t.THEMES)))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed}, cwd=Path(__file__).parents[2],
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert outputs.pop().strip() == repr(draft)


def test_abstract_section_used_when_metadata_has_none():
    meta = dataclasses.replace(RL_META, abstract="")
    d = draft_offline(meta, rl_paper(), themes=THEMES)
    assert d.notes["abstract"] == "section"
    assert any("We propose Entropy-Guided" in c.quote for c in d.key_points)


def test_first_sentences_stand_in_for_a_missing_abstract():
    meta = dataclasses.replace(RL_META, abstract="")
    d = draft_offline(meta, rl_paper(abstract_section=False))
    assert d.notes["abstract"] == "first sentences"
    assert 3 <= len(d.key_points) <= 5 and d.lessons and d.description


def test_unstructured_text_falls_back_to_positions():
    text = "\n\n".join([ABSTRACT, INTRO, METHOD, RESULTS, CONCLUSION])
    paper = ExtractedPaper(sha256="b" * 64, pages=1, sections=[Section("Full text", text)])
    d = draft_offline(PaperMeta(title=""), paper)
    assert d.short_name == "Paper"
    assert 3 <= len(d.key_points) <= 5 and d.results and d.lessons
    assert "method" in d.notes["roles_by_position"]


def test_no_limitations_gives_an_empty_list():
    paper = rl_paper()
    paper.sections = [s for s in paper.sections if not s.title.endswith("Conclusion")]
    assert draft_offline(RL_META, paper).limitations == []


def test_an_empty_paper_gives_an_empty_but_valid_draft():
    d = draft_offline(PaperMeta(title="Nothing Here"), ExtractedPaper(sha256="c" * 64, pages=1, sections=[]))
    assert d.short_name == "NothingHere"
    assert d.key_points == d.lessons == d.results == []
    assert d.description == "Nothing Here"


def test_untrusted_text_is_reduced_to_plain_text():
    nasty = (
        "We propose **Evil**`code`, a method\x00 with\u202e hidden\u200b characters\x1b[31m and\r\nbreaks. "
        "We show that the <b>bold</b> claim holds on 99% of inputs with no extra cost at all."
    )
    meta = PaperMeta(title="Evil\x07 Paper\n<script>", abstract=nasty)
    d = draft_offline(meta, rl_paper(), themes=THEMES)
    everything = repr(d)
    for bad in ("\\x00", "\\u202e", "\\u200b", "\\x1b", "\\x07", "\\r", "\\n"):
        assert bad not in everything
    assert re.fullmatch(r"[A-Za-z0-9]{1,40}", d.short_name)
    for item in d.key_points + d.lessons:
        assert "`" not in item.text
        assert item.text.count("**") == 2  # only the bold the drafter adds


PAPERS = Path("/work/shared/papers")


@pytest.mark.skipif(not PAPERS.is_dir() or not any(PAPERS.glob("*.pdf")), reason="no sample papers")
def test_smoke_real_pdf_as_a_single_section():
    pypdf = pytest.importorskip("pypdf")
    pdf = sorted(PAPERS.glob("*.pdf"), key=lambda p: p.stat().st_size)[0]
    reader = pypdf.PdfReader(pdf)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    paper = ExtractedPaper(sha256="d" * 64, pages=len(reader.pages), sections=[Section("Full text", text)])
    d = draft_offline(PaperMeta(title=pdf.stem), paper, themes=THEMES)
    assert 3 <= len(d.key_points) <= 5
    assert 1 <= len(d.lessons) <= 3
    assert all(c.quote in fold_ligatures(flat(text)) for c in d.key_points)  # quotes spell ligatures out
    assert "\n" not in d.description and len(d.description) <= DESCRIPTION_MAX_CHARS


# ------------------------------------------------------------------ short_name


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Attention Is All You Need", "AttentionIsAllYouNeed"),
        ("FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness", "FlashAttention"),
        ("STaR: Bootstrapping Reasoning With Reasoning", "STaR"),
        ("Deep Reinforcement Learning at the Edge of the Statistical Precipice: A Study", None),
        ("Réseaux Neuronaux Profonds", "ReseauxNeuronauxProfonds"),
        ("Straße zur Łódź", "StrasseZurLodz"),
        ("🚀 Rocket Science 🔥", "RocketScience"),
        ("🚀🔥", "Paper"),
        ("../../etc/passwd", "EtcPasswd"),
        ("a/b\\c", "ABC"),
        ("..", "Paper"),
        ("", "Paper"),
        ("ATTENTION IS ALL YOU NEED", "AttentionIsAllYouNeed"),
        ("self-taught reasoner", "SelfTaughtReasoner"),
    ],
)
def test_short_name(title, expected):
    name = short_name(title)
    assert re.fullmatch(r"[A-Za-z0-9]{1,40}", name)
    if expected is not None:
        assert name == expected


def test_short_name_of_a_long_title_drops_small_words_then_trailing_words():
    name = short_name("Learning to Learn by Gradient Descent by Gradient Descent with Many More Words Here")
    assert name == "LearningLearnGradientDescentGradient"
    assert short_name("x" * 100) == "X" + "x" * 39


@settings(max_examples=300)
@given(st.text())
def test_short_name_is_always_a_safe_file_stem(title):
    assert re.fullmatch(r"[A-Za-z0-9]{1,40}", short_name(title))


# ------------------------------------------------------------------ the contract


def test_match_theme():
    rl = "We train the policy with PPO to maximise reward"
    assert match_theme(rl, THEMES) == "Reinforcement Learning"
    assert match_theme(rl, []) is None
    assert match_theme("A robot arm learns dexterous grasping", THEMES) == "Robotics"
    assert match_theme("Levels are generated as an auto-curriculum", THEMES) == "Open-Endedness and Auto Curriculums"
    assert match_theme("The model plays against itself via self-play", THEMES) == "Self Improvement"
    assert match_theme("Self-attention layers stack well", ["Self Improvement"]) is None
    assert match_theme("Diffusion beats GANs on images", ["Diffusion Models"]) == "Diffusion Models"  # name words
    assert match_theme("Nothing in common here", THEMES) is None


def test_match_theme_weighs_context_at_half():
    assert match_theme("It works.", THEMES, context="reward") is None
    assert match_theme("It works.", THEMES, context="reward policy") == "Reinforcement Learning"


def test_one_line():
    assert one_line("short\nline") == "short line"
    long = "Proposes a method, which " + "does many things " * 20
    cut = one_line(long)
    assert len(cut) <= DESCRIPTION_MAX_CHARS and cut.endswith("…") and "\n" not in cut


def test_conform_draft_enforces_the_contract():
    claims = [Claim(f"claim\n{i}\x00") for i in range(9)]
    raw = Draft(
        short_name="bad name!",
        description="line one\nline two " + "x " * 200,
        key_points=claims,
        key_methods=claims,
        results=claims,
        limitations=[*claims, Claim("   ")],
        lessons=[Lesson(f"**L{i}**\n") for i in range(5)],
        drafter="llm:test",
        notes={"k": "v\n"},
    )
    d = conform_draft(raw)
    assert d.short_name == "BadName"
    assert "\n" not in d.description and len(d.description) <= DESCRIPTION_MAX_CHARS
    counts = [len(getattr(d, field)) for field in LIST_LIMITS]
    assert counts == [most for _, most in LIST_LIMITS.values()] == [5, 4, 4, 3, 3]
    assert d.key_points[0].text == "claim 0"
    assert d.lessons[0].text == "**L0**" and d.notes == {"k": "v"}
    assert conform_draft(d) == d


def test_conform_draft_keeps_a_looped_point_once():
    looped = [Claim("It is different."), Claim("It is  different. "), Claim("Another."), Claim("it is different.")]
    d = conform_draft(Draft(short_name="X", description="x", key_points=looped, key_methods=[], results=[],
                            limitations=[], lessons=[Lesson("**A** b."), Lesson("**A** b.")], drafter="llm:test"))
    assert [c.text for c in d.key_points] == ["It is different.", "Another."]
    assert [x.text for x in d.lessons] == ["**A** b."]


def test_paper_name_in_lessons():
    from paperdiary.stages.drafting.offline import paper_name

    assert paper_name("FlashAttention: Fast and Memory-Efficient Exact Attention") == "FlashAttention"
    assert paper_name("STaR: Self-Taught Reasoner") == "STaR"
    assert paper_name("Attention Is All You Need") == "The paper"
    assert paper_name("A Very Long Head Before: the colon") == "The paper"


def test_a_proposal_naming_the_paper_reads_like_the_diary():
    meta = PaperMeta(title="FlashAttention: Fast Exact Attention", abstract=(
        "We propose FlashAttention, an IO-aware exact attention algorithm that uses tiling to reduce memory "
        "reads and writes. We show that FlashAttention trains Transformers faster than existing baselines."))
    paper = ExtractedPaper("sha", 1, [Section("Abstract", meta.abstract, kind="abstract")])
    texts = [x.text for x in draft_offline(meta, paper).lessons]
    assert any(t.startswith("**FlashAttention**: an IO-aware exact attention algorithm") for t in texts), texts
