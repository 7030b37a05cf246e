"""Placement on the labelled set (tests/fixtures/placement): beats plain BM25, traps behave, confidence means something.

The merger's weights were fitted on the set's training split (``scripts/fit_merge.py``); accuracy is
judged on the test split. "By meaning" is the merger with the offline WordLlama embedder, "words" the
merger without it (as without the ``map`` extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from paperdiary.diary.lessons import queue_lessons
from paperdiary.diary.map.embed import WordLlamaEmbedder
from paperdiary.diary.map.name import topic_name
from paperdiary.diary.catalog import read_entry
from paperdiary.diary.merge import MergeIndex, MergeItem, Proposal, entry_summary, is_young
from paperdiary.diary.readme import Readme
from paperdiary.diary.review import Review
from paperdiary.errors import DiaryError
from paperdiary.settings import load_settings
from paperdiary.stages.drafting.contract import Lesson
from paperdiary.state.store import Store
from tests.diary.placement_set import (
    HeldOutLesson,
    bm25_theme,
    load_placement_set,
    reliability,
    right_place,
    write_diary,
    young_diary,
)

SET = load_placement_set()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LESSONS = {lesson.id: lesson for lesson in SET.lessons}


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> WordLlamaEmbedder:
    return WordLlamaEmbedder(tmp_path_factory.mktemp("wordllama"))


@pytest.fixture(scope="module")
def placed(embedder: WordLlamaEmbedder) -> dict[str, dict[str, Proposal]]:
    """Every held-out lesson proposed against the README: by meaning, and by words alone."""
    readme = SET.readme()
    indexes = {"meaning": MergeIndex(readme, SET.summary, embedder), "words": MergeIndex(readme, SET.summary)}
    return {mode: {lesson.id: index.propose(lesson.item()) for lesson in SET.lessons}
            for mode, index in indexes.items()}


def right(proposals: dict[str, Proposal], lessons: Sequence[HeldOutLesson]) -> int:
    return sum(right_place(proposals[lesson.id], lesson.theme) for lesson in lessons)


def test_the_set_is_as_described() -> None:
    readme = SET.readme()
    themes = list(readme.all_themes())
    numbered = [t for t in themes if t.name[0].isdigit()]
    assert len(themes) >= 8 and 0 < len(numbered) < len(themes)
    lessons = [lesson for theme in themes for lesson in theme.lessons]
    assert len(lessons) >= 60 and all(lesson.cites and set(lesson.cites) <= set(SET.entries) for lesson in lessons)
    assert len(SET.lessons) >= 40 and all(lesson.source in SET.entries for lesson in SET.lessons)
    assert {lesson.theme for lesson in SET.lessons} - {None} <= {t.name for t in themes}
    assert len(SET.split("test")) >= 40 and len(SET.split("train")) >= 30


def test_placement_beats_plain_bm25_on_the_test_split(placed: dict[str, dict[str, Proposal]]) -> None:
    test = SET.split("test")
    readme = SET.readme()
    bm25 = sum(bm25_theme(readme, lesson.text) == lesson.theme for lesson in test)
    assert right(placed["meaning"], test) > bm25
    assert right(placed["words"], test) >= bm25
    # Among lessons with a theme to go to (BM25 never opens one), too.
    existing = [lesson for lesson in test if lesson.theme is not None]
    assert right(placed["meaning"], existing) > sum(bm25_theme(readme, x.text) == x.theme for x in existing)


def test_generic_words_do_not_pull_a_lesson_to_the_wrong_theme(placed: dict[str, dict[str, Proposal]]) -> None:
    # "This study shows the problem ... we need an approach": the Evaluation theme's lessons talk like that.
    trapped = [lesson for lesson in SET.lessons if lesson.trap == "generic words"]
    assert len(trapped) >= 6
    readme = SET.readme()
    assert sum(bm25_theme(readme, lesson.text) == lesson.theme for lesson in trapped) < len(trapped)
    assert [lesson.id for lesson in trapped if not right_place(placed["meaning"][lesson.id], lesson.theme)] == []


def test_another_claim_of_the_same_paper_is_no_duplicate(placed: dict[str, dict[str, Proposal]]) -> None:
    # The README's FlashAttention lesson is about its runtime; this one about its IO complexity.
    io = LESSONS["h24"]
    assert "IO complexity" in io.text and io.trap == "same paper, different claim"
    for mode in ("meaning", "words"):
        proposal = placed[mode]["h24"]
        assert (proposal.kind, proposal.theme) == ("add", "4. Efficient Attention and Inference")
        runtime = proposal.neighbours[0]
        assert runtime.lesson_index == 0 and runtime.similarity < 0.35  # the runtime lesson: close in topic only
    others = [lesson for lesson in SET.lessons if lesson.trap == "same paper, different claim"]
    assert all(placed[mode][lesson.id].kind == "add" for lesson in others for mode in ("meaning", "words"))


def test_the_same_claim_is_already_there(placed: dict[str, dict[str, Proposal]]) -> None:
    duplicates = [lesson for lesson in SET.lessons if lesson.kind == "duplicate"]
    assert len(duplicates) >= 4
    for mode in ("meaning", "words"):
        for lesson in duplicates:
            proposal = placed[mode][lesson.id]
            assert (proposal.kind, proposal.theme, proposal.lesson_index) == (
                "duplicate", lesson.theme, lesson.neighbour - 1), (mode, lesson.id)
            assert proposal.text == "" and "already cites this entry and says the same" in proposal.reason


def test_extend_only_beside_a_similar_lesson_of_the_chosen_theme(placed: dict[str, dict[str, Proposal]]) -> None:
    readme = SET.readme()
    for proposals in placed.values():
        for proposal in proposals.values():
            if proposal.kind == "extend":
                assert proposal.lesson_index is not None and proposal.theme_key is not None
                extended = readme.theme(proposal.theme_key).lessons[proposal.lesson_index]
                assert extended is not None and proposal.theme == readme.theme(proposal.theme_key).name
    for lesson_id in ("h12", "h35", "h46", "h55"):  # the same idea from another paper
        lesson = LESSONS[lesson_id]
        proposal = placed["meaning"][lesson_id]
        assert (proposal.kind, proposal.theme, proposal.lesson_index) == ("extend", lesson.theme, lesson.neighbour - 1)


def test_a_bold_phrase_is_no_theme(placed: dict[str, dict[str, Proposal]], embedder: WordLlamaEmbedder) -> None:
    key_size = LESSONS["h21"]
    assert key_size.text.startswith("**Attention key size**")
    for mode in ("meaning", "words"):
        assert (placed[mode]["h21"].kind, placed[mode]["h21"].theme) == ("add", key_size.theme)
    # Even made to open a theme, it is named after what the lesson and its entry are about.
    index = MergeIndex(SET.readme(), SET.summary, embedder)
    assert index.topic_name(key_size.item()) not in ("Attention Key Size", "Attention Key", "Key Size")
    # Bold phrases naming another theme ("**Self improvement through rewards**" in an RL lesson) mislead nothing.
    named = [lesson for lesson in SET.lessons if lesson.trap == "bold phrase names another theme"]
    assert len(named) >= 4 and all(right_place(placed["meaning"][x.id], x.theme) for x in named)


def test_a_new_theme_only_when_none_fits_named_after_its_topic(placed: dict[str, dict[str, Proposal]]) -> None:
    weather = placed["meaning"]["h75"]  # GraphCast: no theme of the README is about weather
    assert (weather.kind, weather.new_theme_name) == ("new_theme", "Global Weather")
    assert 0 < weather.confidence < 1 and "named after the topic its lesson and entry share" in weather.reason
    for proposals in placed.values():
        opened = [(lesson_id, p) for lesson_id, p in proposals.items() if p.kind == "new_theme"]
        assert all(0 < p.confidence < 1 for _, p in opened)  # a guess is never certain
        # Lessons with a theme to go to rarely open one (a wrong theme heading is costly).
        wrong = [lesson_id for lesson_id, _ in opened if LESSONS[lesson_id].theme is not None]
        assert len(wrong) <= 2
    new = [lesson for lesson in SET.lessons if lesson.theme is None]
    assert sum(placed["meaning"][lesson.id].kind == "new_theme" for lesson in new) >= len(new) // 3


def test_confidence_is_calibrated_on_the_test_split(placed: dict[str, dict[str, Proposal]]) -> None:
    test = SET.split("test")
    for proposals in placed.values():
        pairs = [(proposals[lesson.id].confidence, right_place(proposals[lesson.id], lesson.theme)) for lesson in test]
        rows, ece = reliability(pairs)
        assert ece < 0.15, rows
        confident = [ok for confidence, ok in pairs if confidence >= 0.8]
        unsure = [ok for confidence, ok in pairs if confidence < 0.5]
        assert sum(confident) / len(confident) > 0.9 and sum(unsure) / len(unsure) < 0.6
        # The alternatives are the themes' probabilities: they never add up past one.
        assert all(sum(p for _, p in proposals[x.id].alternatives) <= 1.0 + 1e-3 for x in test)


def test_topic_names_skip_paper_names_and_keep_acronyms() -> None:
    background = [["Agents learn from rewards."], ["Robots grasp objects."]]
    assert topic_name(["**Differential privacy** bounds what a trained network reveals about a record."],
                      background) == "Differential Privacy"
    lesson = "**DNA language models**: Evo, trained on genomes, predicts the effect of mutations on DNA."
    entry = "Sequence modeling with Evo. Evo is a genomic model of DNA at single-nucleotide resolution."
    name = topic_name([lesson, entry], background)
    assert name is not None and "Evo" not in name and "DNA" in name
    assert topic_name(["the a of"], background) is None


# --------------------------------------------------------------------------- without embeddings


def test_without_an_embedder_the_merger_proposes_by_words_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    index = MergeIndex(SET.readme(), SET.summary)
    proposal = index.propose(LESSONS["h13"].item())
    assert (proposal.kind, proposal.theme) == ("add", "2. Self Improvement")
    assert proposal.reason.endswith("Words only: no embedding model given.")
    assert all(n.meaning is None for n in proposal.neighbours)
    # Without the map extra installed, the reason says what to install.
    monkeypatch.setattr("paperdiary.diary.merge.missing_packages", lambda command: ["wordllama"])
    bare = MergeIndex(SET.readme(), SET.summary).propose(LESSONS["h13"].item())
    assert "the map extra is not installed: pip install 'paperdiary[map]'" in bare.reason
    assert bare.theme == proposal.theme


class BrokenEmbedder:
    name = "broken"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise DiaryError("the embedding endpoint said no.")


def test_a_failing_embedder_leaves_placement_by_words() -> None:
    index = MergeIndex(SET.readme(), SET.summary, BrokenEmbedder())
    proposal = index.propose(LESSONS["h13"].item())
    assert proposal.theme == "2. Self Improvement"
    assert "Words only: the embedder failed (the embedding endpoint said no.)" in proposal.reason


class CountingEmbedder:
    """WordLlama, counting the texts it is asked to embed."""

    def __init__(self, inner: WordLlamaEmbedder):
        self.inner = inner
        self.name = inner.name
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.embed(texts)


def test_embeddings_are_cached_in_the_store(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    counting = CountingEmbedder(embedder)
    with Store(tmp_path / "paperdiary.db") as store:
        first = MergeIndex(SET.readme(), SET.summary, counting, store=store)
        built = counting.texts
        assert built >= 78 + 10  # the lessons, the cited entries and the theme names
        item = LESSONS["h56"].item()
        proposal = first.propose(item)
        asked = counting.texts
        assert asked - built == 2  # the lesson and its entry
        again = MergeIndex(SET.readme(), SET.summary, counting, store=store)
        assert again.propose(item) == proposal and counting.texts == asked  # all from the store


# --------------------------------------------------------------------------- through review


def test_review_places_by_meaning_in_a_written_diary(tmp_path: Path) -> None:
    root = tmp_path / "diary"
    root.mkdir()
    write_diary(root)
    settings = load_settings(root, env={})
    ruler, key_size = LESSONS["h56"], LESSONS["h21"]  # RULER talks like an evaluation lesson
    for lesson in (ruler, key_size):
        queue_lessons(settings, [Lesson(lesson.text, theme=None)], lesson.source, None)
    with Review(settings) as review:
        planned = {p.item.queued.source: p.proposal for p in review.plan().items}
    assert planned[ruler.source].theme == ruler.theme and "Words only" not in planned[ruler.source].reason
    assert planned[key_size.source].theme == key_size.theme
    with Review(settings, embedder=None) as review:  # by words alone, RULER goes astray
        words = {p.item.queued.source: p.proposal for p in review.plan().items}
    assert words[ruler.source].theme != ruler.theme and "Words only" in words[ruler.source].reason


def test_review_without_the_map_extra_still_proposes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("paperdiary.diary.review.missing_packages", lambda command: ["wordllama"])
    root = tmp_path / "diary"
    root.mkdir()
    write_diary(root)
    settings = load_settings(root, env={})
    lesson = LESSONS["h13"]
    queue_lessons(settings, [Lesson(lesson.text, theme=None)], lesson.source, None)
    with Review(settings) as review:
        assert review.embedder is None
        [planned] = review.plan().items
    assert planned.proposal is not None and planned.proposal.theme == lesson.theme
    assert "Words only" in planned.proposal.reason


def test_entry_summary_reads_every_key_point() -> None:
    entry = SET.entries[LESSONS["h24"].source]
    summary = entry_summary(read_entry(entry.path, entry.markdown()))
    assert summary.startswith(entry.title + " " + entry.description)
    assert all(point in summary for point in entry.key_points)
    assert MergeItem("x", entry.path).source_entry in SET.entries


def test_a_young_diary_gets_no_theme_it_already_has(embedder: WordLlamaEmbedder) -> None:
    """Themes of 0-2 lessons (the young models, fitted on young versions of the training split only): the
    lessons cut from them never open a new theme, and land better than BM25 or the drafter's guess alone."""
    young, cut = young_diary(SET)
    assert is_young(list(young.all_themes())) and not is_young(list(SET.readme().all_themes()))
    assert {len(theme.lessons) for theme in young.all_themes()} == {0, 1, 2}
    bm25 = sum(bm25_theme(young, item.text) == theme for item, theme in cut)
    suggestion = sum(item.suggested_theme == theme for item, theme in cut)
    for index in (MergeIndex(young, SET.summary, embedder), MergeIndex(young, SET.summary)):
        proposals = [(index.propose(item), theme) for item, theme in cut]
        assert [p.theme for p, _ in proposals if p.kind == "new_theme"] == []
        placed = sum(p.theme == theme for p, theme in proposals)
        assert placed > bm25 and placed > suggestion, (placed, bm25, suggestion)
        # A theme with no lesson yet is still found, by its name and the drafter's suggestion.
        empty = {theme.name for theme in young.all_themes() if not theme.lessons}
        assert any(p.theme == theme for p, theme in proposals if theme in empty)


def test_a_young_diary_opens_a_new_theme_for_a_lesson_on_a_topic_it_lacks(embedder: WordLlamaEmbedder) -> None:
    """In a young diary (tests/fixtures/young: four themes of 0-2 lessons) every theme is thin, so no theme's
    probability is tiny; a lesson far from all of them still opens a new theme, because "no theme fits" is then
    so much likelier that a new theme costs less than the likeliest theme, while an on-topic lesson is added."""
    readme = Readme.parse((FIXTURES / "young" / "README.md").read_text(encoding="utf-8"))
    index = MergeIndex(readme, lambda path: None, embedder)
    assert index.young
    off_topic = [
        MergeItem("**Legumes feed the soil**: rotating legumes with wheat restores soil nitrogen and raises "
                  "harvests over a decade of field trials.", "July 2025/1stJulySoil.md"),
        MergeItem("**Folding from sequence**: predicting a protein's three-dimensional structure from its "
                  "amino-acid sequence reaches laboratory accuracy.", "July 2025/2ndJulyFold.md"),
    ]
    for item in off_topic:
        proposal = index.propose(item)
        assert proposal.kind == "new_theme", proposal
        assert proposal.new_theme_name and proposal.new_theme_name not in {t.name for t in readme.all_themes()}
        # The reason says why: no theme is close, and how close the closest is.
        closest, probability = proposal.alternatives[0]
        assert f"No theme is close: the closest, {closest!r}, has probability {probability:.2f}" in proposal.reason
        assert proposal.confidence > 2 * probability
    on_topic = index.propose(MergeItem(
        "**Clip the policy ratio**: clipping the importance ratio keeps policy-gradient updates stable in RL "
        "fine-tuning.", "July 2025/4thJulyPPO.md"))
    assert (on_topic.kind, on_topic.theme) == ("add", "Reinforcement Learning")
