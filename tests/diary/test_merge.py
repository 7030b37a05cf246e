"""The merger: one proposal per lesson (add, extend, new_theme, duplicate), offline and deterministic."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from paperdiary.diary.catalog import Catalog, read_entry
from paperdiary.diary.merge import (
    MergeIndex,
    MergeItem,
    Proposal,
    apply_proposal,
    catalog_entries,
    entry_summary,
    index_for,
    propose,
)
from paperdiary.diary.queue import QueuedLesson
from paperdiary.diary.readme import Readme
from paperdiary.errors import ReadmeError
from paperdiary.settings import Settings
from paperdiary.stages.drafting.contract import Lesson
from paperdiary.text import split_lines

FIXTURES = Path(__file__).parent.parent / "fixtures" / "readmes"
DIARY = Path("/diary")  # never read: every test passes its own entry provider


def no_entries(path: str) -> str | None:
    return None


def readme(name: str = "seedlike.md") -> Readme:
    return Readme.parse((FIXTURES / name).read_bytes().decode("utf-8"))


def place(item: MergeItem | QueuedLesson, doc: Readme | None = None, *, readme_path: str = "README.md",
          entries: Callable[[str], str | None] = no_entries) -> Proposal:
    return propose(doc or readme(), item, diary_root=DIARY, readme_path=Path(readme_path), entries=entries)


def inserted_lines(old: Readme, new: Readme) -> list[str]:
    a, b = split_lines(old.render()), split_lines(new.render())
    ops = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    assert [op[0] for op in ops] == ["insert"], ops
    return b[ops[0][3] : ops[0][4]]


# --------------------------------------------------------------------------- the four kinds


def test_add_to_the_best_fitting_theme() -> None:
    item = MergeItem("**Grouped-query attention** shares key and value heads across query heads, shrinking the "
                     "KV cache during decoding.", "July 2025/30thJulyGroupedQueryAttention.md",
                     title="GQA: Training Generalized Multi-Query Transformer Models")
    proposal = place(item)
    assert (proposal.kind, proposal.theme, proposal.theme_key) == ("add", "Language Models", (0,))
    assert proposal.text.endswith("([GQA](July%202025/30thJulyGroupedQueryAttention.md))")
    assert proposal.alternatives[0][0] == "Language Models" and len(proposal.alternatives) == 5
    assert 0 <= proposal.confidence <= 1 and "Language Models" in proposal.reason
    doc = readme()
    assert inserted_lines(doc, apply_proposal(doc, proposal)) == [f"7. {proposal.text}\n"]


def test_extend_a_lesson_stating_the_same_idea() -> None:
    item = MergeItem("**Rotary embedding interpolation** lets a pretrained model read much longer context windows "
                     "after a brief fine-tune on long documents.", "August 2025/1stAugustYaRN.md")
    proposal = place(item)
    assert (proposal.kind, proposal.theme, proposal.lesson_index) == ("extend", "Language Models", 1)
    assert proposal.text == "[YaRN](August%202025/1stAugustYaRN.md)"
    assert proposal.neighbours[0].lesson_index == 1 and proposal.neighbours[0].similarity >= 0.4
    doc = readme()
    extended = apply_proposal(doc, proposal)
    lesson = extended.theme("Language Models").lessons[1]
    assert lesson.cites[-1] == "August 2025/1stAugustYaRN.md"
    assert lesson.lines[1] == (
        "You only need a short fine-tune on long documents afterwards. ([YaRN](August%202025/1stAugustYaRN.md))\n")


def test_new_theme_when_nothing_fits() -> None:
    item = MergeItem("**Differential privacy** bounds what a trained network can reveal about any one record.",
                     "August 2025/2ndAugustDPSGD.md")
    proposal = place(item)
    assert proposal.kind == "new_theme" and proposal.theme is None
    assert proposal.new_theme_name == "Differential Privacy"  # the key phrase's rarest words
    doc = readme()
    applied = apply_proposal(doc, proposal)
    assert applied.themes[-1].name == "Differential Privacy"
    assert applied.render().index("### Differential Privacy") < applied.render().index("## Tools I Use")

    # A suggested theme the README lacks names the new theme, unless an existing theme fits well.
    protein = MergeItem("**Protein structure prediction** from amino-acid sequences with equivariant networks "
                        "reaches near experimental accuracy.", "August 2025/3rdAugustFold.md",
                        suggested_theme="Biology")
    proposal = place(protein)
    assert (proposal.kind, proposal.new_theme_name) == ("new_theme", "Biology")
    assert "drafter's suggestion" in proposal.reason
    speculative = MergeItem("**Speculative sampling** lets a large language model accept several draft tokens "
                            "per forward pass of the large model.", "August 2025/4thAugustSpec.md",
                            suggested_theme="Inference")
    assert place(speculative).kind in ("add", "extend")


def test_duplicate_of_an_existing_lesson() -> None:
    same_source = MergeItem("A small draft model proposes several tokens that the large model then verifies.",
                            "July 2025/11thJulySpeculativeDecoding.md")
    proposal = place(same_source)
    assert (proposal.kind, proposal.theme, proposal.lesson_index, proposal.text) == (
        "duplicate", "Language Models", 2, "")
    assert "already cites this entry" in proposal.reason
    doc = readme()
    assert apply_proposal(doc, proposal) is doc

    redrafted = MergeItem("**Benchmark contamination**: LeakCheck found test questions of popular benchmarks "
                          "verbatim in pre-training corpora.", "July 2025/26thJulyContaminationAudit-2.md")
    proposal = place(redrafted)
    assert (proposal.kind, proposal.theme, proposal.lesson_index) == ("duplicate", "Evaluation", 0)
    assert proposal.confidence >= 0.85


# --------------------------------------------------------------------------- prior, determinism, links


def test_suggested_theme_is_a_prior_not_the_answer() -> None:
    weak = MergeItem("**Curriculum ordering** of examples from easy to hard speeds up learning.",
                     "August 2025/5thAugustCurriculum.md")
    assert place(weak).theme == "Language Models"  # a thin lexical edge
    prior = place(replace(weak, suggested_theme="Agents and Planning"))
    assert (prior.kind, prior.theme) == ("add", "Agents and Planning")
    assert "suggestion" in prior.reason

    vision = MergeItem("**Vision transformers** need large image datasets or strong augmentation before they beat "
                       "convolutional networks on image classification.", "August 2025/6thAugustViT.md",
                       suggested_theme="Evaluation")
    strong = place(vision)
    assert (strong.kind, strong.theme) == ("add", "Computer Vision")
    assert "better than the suggested 'Evaluation'" in strong.reason
    # Loose names work for the suggestion too.
    assert place(replace(weak, suggested_theme="agents & planning")).theme == "Agents and Planning"


def test_proposals_are_deterministic() -> None:
    items = [
        MergeItem("**Flow matching** with optimal transport paths needs fewer sampling steps.", "a/b.md"),
        MergeItem("Reviewers prefer longer answers.", "a/c.md", suggested_theme="Evaluation"),
        MergeItem("**Tool calls** decided by the agent itself.", "a/d.md"),
    ]
    first = [place(item) for item in items]
    fresh = [MergeIndex(readme(), no_entries).propose(item) for item in reversed(items)][::-1]
    assert first == fresh == [place(item) for item in items]


def test_links_from_the_readme_folder_with_spaces_and_unicode() -> None:
    doc = readme("crlf_emoji_html.md")
    item = MergeItem("**Tactile sensing** lets a robot hand grasp fragile objects without crushing them.",
                     "entries/Juin 2025/3rdJuinÉté.md", suggested_theme="Robotics", short_name="Été")
    at_root = place(item, doc)
    assert at_root.text.endswith("([Été](entries/Juin%202025/3rdJuin%C3%89t%C3%A9.md))")
    nested = place(item, doc, readme_path="notes/README.md")
    assert nested.text.endswith("([Été](../entries/Juin%202025/3rdJuin%C3%89t%C3%A9.md))")
    # The README cites that entry (percent-encoded): the same idea from it is a duplicate, even
    # when the path arrives decomposed (NFD, as macOS file names do).
    again = MergeItem("Domain randomisation of friction, mass and lighting in simulation makes sim-to-real work.",
                      unicodedata.normalize("NFD", "entries/Juin 2025/3rdJuinÉté.md"))
    proposal = place(again, doc)
    assert (proposal.kind, proposal.theme, proposal.lesson_index) == ("duplicate", "🤖 Robotics", 2)
    applied = apply_proposal(doc, at_root)
    assert applied.render().endswith(doc.render()[-200:])  # the CRLF tail is untouched
    assert f"{at_root.text}\r\n" in applied.render()


def test_entry_titles_from_the_provider_inform_the_themes() -> None:
    doc = Readme.parse("## Lessons\n### Alpha\n1. One idea ([A](e/a.md)).\n### Beta\n1. Another idea ([B](e/b.md)).\n")
    titles = {"e/a.md": "Protein folding with equivariant networks", "e/b.md": "Weather forecasting with graphs"}
    item = MergeItem("**Folding proteins** from sequence alone.", "e/c.md")
    proposal = place(item, doc, entries=titles.get)
    assert (proposal.kind, proposal.theme) == ("add", "Alpha")


def test_the_catalog_gives_the_merger_title_description_and_key_points(tmp_path: Path) -> None:
    entry = tmp_path / "entries" / "June 2025" / "11thJuneTokenEntropyRLVR.md"
    entry.parent.mkdir(parents=True)
    entry.write_text("# Beyond the 80/20 Rule: High-Entropy Minority Tokens\nDate read: 11th June 2025\n\n"
                     "[arXiv link](https://arxiv.org/abs/2506.01939)\n\n"
                     "## Key Points\n- Forking tokens steer reasoning.\n"
                     '<!-- paperdiary: {"arxiv_id": "2506.01939", "description": "RLVR on high-entropy tokens"} -->\n',
                     encoding="utf-8")
    (tmp_path / "entries" / "notes.md").write_text("## My Git Notes\n\nCommands I forget.\n", encoding="utf-8")
    summaries = catalog_entries(Catalog(Settings(diary=tmp_path)))
    assert summaries("entries/June 2025/11thJuneTokenEntropyRLVR.md") == (
        "Beyond the 80/20 Rule: High-Entropy Minority Tokens RLVR on high-entropy tokens "
        "Forking tokens steer reasoning.")
    assert summaries("entries/missing.md") is None
    assert summaries("entries/notes.md") is None  # a cheat sheet is no entry
    assert entry_summary(read_entry("x.md", "no title\n")) == "no title"  # a short opening line is its title


def test_queued_lessons_are_accepted() -> None:
    queued = QueuedLesson("abcd1234", Lesson("**Masked image modelling** of hidden patches learns image features.",
                                             theme="Computer Vision"), "July 2025/31stJulyMaskedPatches.md")
    proposal = place(queued)
    assert proposal.theme == "Computer Vision"


def test_index_is_built_once_per_readme() -> None:
    doc = readme()
    first = index_for(doc, diary_root=DIARY, entries=no_entries)
    assert index_for(Readme.parse(doc.render()), diary_root=DIARY, entries=no_entries) is first
    edited = doc.add_lesson("Evaluation", "x")
    assert index_for(edited, diary_root=DIARY, entries=no_entries) is not first


def test_stale_proposals_are_refused() -> None:
    doc = readme()
    item = MergeItem("**Gradient noise** grows with batch size.", "a/b.md", suggested_theme="Optimisation and Training")
    proposal = place(item)
    assert proposal.theme == "Optimisation and Training"
    reordered = Readme.parse(doc.render().replace("### Optimisation and Training", "### Optimisation"))
    with pytest.raises(ReadmeError, match="changed since the proposal"):
        apply_proposal(reordered, proposal)


def test_reranker_hook_may_revise_the_proposal() -> None:
    def rerank(doc: Readme, item: MergeItem, proposal: Proposal) -> Proposal:
        theme, _ = proposal.alternatives[1]
        key = doc.theme(theme).key
        return replace(proposal, kind="add", theme=theme, theme_key=key, lesson_index=None, confidence=7.0)

    item = MergeItem("**Grouped-query attention** shrinks the KV cache.", "a/gqa.md")
    proposal = propose(readme(), item, diary_root=DIARY, readme_path=Path("README.md"), entries=no_entries,
                       reranker=rerank)
    assert proposal.theme != "Language Models" and proposal.confidence == 1.0


def test_a_readme_without_themes_gets_a_new_theme() -> None:
    doc = Readme.parse("# D\n\n## Lessons\n")
    proposal = place(MergeItem("**Anything** at all.", "e/a.md", suggested_theme="Robotics"), doc)
    assert (proposal.kind, proposal.new_theme_name, proposal.confidence) == ("new_theme", "Robotics", 1.0)
    assert apply_proposal(doc, proposal).render() == "# D\n\n## Lessons\n### Robotics\n1. " + proposal.text + "\n"


def test_an_ambiguous_suggestion_is_no_prior_and_no_new_theme() -> None:
    doc = Readme.parse("## Lessons\n### Robotics\n1. Grasping with suction cups.\n"
                       "### Vision\n#### Robotics\n1. Cameras on the wrist.\n")
    item = MergeItem("**Tactile robotics**: fingertip sensors detect slip.", "e/x.md", suggested_theme="robotics")
    proposal = place(item, doc)
    assert proposal.kind == "add" and proposal.theme == "Robotics"
    assert "suggest" not in proposal.reason
