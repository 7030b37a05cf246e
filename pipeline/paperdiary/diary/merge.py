"""Merge stage: where a reviewed lesson belongs in the README.

For each lesson the merger proposes ONE change, with a reason and a confidence:

* ``duplicate`` - the README already states this claim: an existing lesson is
  close to it both in words and in meaning (citing the same paper is not enough:
  one paper makes several claims). No change.
* ``extend`` - a lesson of the theme it belongs to states the same idea: cite
  the new paper beside it.
* ``add`` - a new numbered item under the best-fitting theme.
* ``new_theme`` - no theme fits (no theme is likely enough; in a young diary
  by meaning, also when "no theme fits" is so much likelier that a new theme
  costs less than the likeliest theme): a new theme, named after the drafter's
  suggestion when that is no existing theme, else after the lesson's topic (the
  most distinctive words its lesson and its entry share, against the themes).

It only proposes; :func:`apply_proposal` turns a proposal into a new
:class:`~paperdiary.diary.readme.Readme`, and writing the file is the caller's business.

Placement weighs several kinds of evidence per theme (:class:`ThemeEvidence`):
BM25 over the theme's document (its name, weighted up, its lessons, and the
titles, descriptions and key points of the entries they cite), the theme's
keywords, the theme's closest lesson in words, whether the theme already cites
the lesson's entry, and, with an embedder (WordLlama from the ``map`` extra,
vectors cached in the store by text), the lesson's closeness in meaning to the
theme's lessons, its name and its closest lesson, the source entry's closeness to
the entries the theme cites, and the votes of the source entry's nearest cited
entries. A weighted sum per theme, and a constant score for "no theme fits", go
through a softmax: the weights (and so its temperature) were fitted by maximum
likelihood on the training split of a labelled set (tests/fixtures/placement;
``scripts/fit_merge.py``), so a theme's probability is calibrated: of proposals
at 0.8, about eight in ten land where the diarist would put them
(``scripts/bench_merge.py`` prints the reliability table). There is one fitted
model per situation (:data:`MODELS`): by meaning or by words alone (without an
embedder, and the reason says so), the source entry known or not; and a second
set (:data:`YOUNG_MODELS`) for a young diary, whose themes have few lessons, fitted
on young versions of the training split, weighing the themes' names and thinness
and the drafter's suggestion. Nothing is learnt at run time.

The drafter's suggested theme is a prior (a fixed bonus to its odds), which a
clearly better-matching theme overcomes. The index over a README is built once
and cached by the README's hash; each further lesson costs a few milliseconds.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal, Protocol

from paperdiary.bm25 import BM25
from paperdiary.diary.catalog import Catalog, CatalogEntry
from paperdiary.diary.map.embed import Embedder, embed_texts, unit_rows
from paperdiary.diary.queue import QueuedLesson
from paperdiary.diary.readme import Readme, ReadmeLesson, Theme, cited_path, iter_lessons, plain_text
from paperdiary.errors import PaperDiaryError, ReadmeError
from paperdiary.extras import install_hint, missing_packages
from paperdiary.fsutil import diary_relpath, relative_link
from paperdiary.settings import Settings
from paperdiary.templates import md_inline
from paperdiary.terms import normalised as normalised_words
from paperdiary.terms import terms
from paperdiary.terms import words as term_words
from paperdiary.text import clean_text
from paperdiary.themes import keyword_score, theme_title

if TYPE_CHECKING:
    import numpy as np

    from paperdiary.state.store import Store

log = logging.getLogger(__name__)

ProposalKind = Literal["add", "extend", "new_theme", "duplicate"]
EntrySummary = Callable[[str], str | None]
"""Given an entry's diary-relative path, its title, description and key points (None when unknown)."""

# --------------------------------------------------------------------------- tuning

NAME_WEIGHT = 3.0  # a theme's name words count as this many occurrences in its BM25 document
TITLE_WEIGHT = 0.5  # query weight of words from the source entry (title, description, key points)
KEY_PHRASE_WEIGHT = 1.5  # query weight of words in the lesson's **bold key phrase**
NEAREST_ENTRIES = 5  # the source entry's nearest cited entries that vote for their themes
KEY_POINTS = 6  # key points of an entry read into its summary

# The drafter's suggestion multiplies a theme's odds by e**PRIOR_LOGIT = 4; a suggested theme the README
# lacks multiplies the odds of "no theme fits" alike. Chosen, not fitted: the labelled lessons carry no
# drafter's suggestion. The offline drafter's keyword guess (right on 49 of the 81 training examples it
# names a theme for) fits to a weight of only 0.2, being mostly the keyword evidence again; an LLM
# drafter's suggestion knows the paper and is worth more.
PRIOR_LOGIT = math.log(4)

# Claim similarity between two lessons: the cosine of their words (TF-IDF) and, with an embedder, of
# their meaning. On the training split, a lesson restating its paper's lesson scores >= 0.51 in words and
# >= 0.54 in meaning, another claim of the same paper <= 0.21 and <= 0.44; the same idea from another
# paper is an extension (0.18-0.56 in words), which lessons merely on the same topic also reach: extend
# only from 0.4 in words, as before, and not when the meaning differs.
DUPLICATE_WORDS = 0.35  # with DUPLICATE_MEANING, a lesson citing the same entry states the same claim
DUPLICATE_MEANING = 0.5
DUPLICATE_SIMILARITY = 0.85  # near-identical words (a re-drafted paper): the same claim, whatever the source
EXTEND_WORDS = 0.4  # a lesson of the chosen theme this close (and EXTEND_MEANING) states the same idea
EXTEND_MEANING = 0.3
NEIGHBOURS = 3
WRONG_NEW_THEME_COST = 2.0  # a wrongly opened theme is twice the work to undo of a misplaced lesson
ALTERNATIVES = 5

_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_DATED_STEM = re.compile(rf"^\d{{1,2}}(?:st|nd|rd|th)?(?:{'|'.join(_MONTHS)})?(?=[A-Z0-9])", re.IGNORECASE)


# --------------------------------------------------------------------------- text

def entry_summary(entry: CatalogEntry) -> str:
    """An entry's title, its one-line description and its key points (the catalog's record of it).

    Without a "Key Points" section, its description stands for them.
    """
    points = [point[:300] for point in entry.key_point_items[:KEY_POINTS]]
    return " ".join(part for part in (entry.title, entry.description, *points) if part)


def catalog_entries(catalog: Catalog) -> EntrySummary:
    """An :data:`EntrySummary` from the diary's catalog, read once on the first call (None for a path the
    catalog has no entry at: missing, unreadable, out of the diary, or no note)."""
    summaries: dict[str, str] | None = None

    def summary(relpath: str) -> str | None:
        nonlocal summaries
        if summaries is None:
            summaries = {unicodedata.normalize("NFC", e.relpath): entry_summary(e) for e in catalog.entries()
                         if not e.outside}
        return summaries.get(unicodedata.normalize("NFC", relpath))

    return summary


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class MergeItem:
    """A lesson to place: its text, the entry it comes from, and what drafting knew."""

    text: str  # one sentence of markdown, key phrase in **bold**
    source_entry: str  # the entry's path relative to the diary root
    suggested_theme: str | None = None  # the drafter's guess: a prior, not the answer
    title: str | None = None  # the paper's title (else read from the entry)
    description: str | None = None  # the entry's one-line description
    short_name: str | None = None  # link text for the citation (else from the title or file name)

    @classmethod
    def from_queued(cls, queued: QueuedLesson, *, title: str | None = None, description: str | None = None,
                    short_name: str | None = None) -> MergeItem:
        return cls(queued.lesson.text, queued.source_entry, queued.lesson.theme, title, description, short_name)


@dataclass(frozen=True)
class Neighbour:
    """An existing lesson close to the new one."""

    theme: str
    theme_key: tuple[int, ...]
    lesson_index: int  # 0-based, within the theme
    similarity: float  # cosine of their words (TF-IDF), 0..1
    meaning: float | None = None  # cosine of their embeddings; None without an embedder


@dataclass(frozen=True)
class Proposal:
    """One proposed README change.

    ``text`` is what would be written: the new lesson's markdown without its
    list number (``add``, ``new_theme``; the number comes from the list when
    applied), the citation to add (``extend``), or "" (``duplicate``).
    ``theme``/``theme_key``/``lesson_index`` locate the lesson extended or
    duplicated, or the theme added to; ``new_theme_name`` is set for
    ``new_theme`` only. ``confidence`` is the calibrated probability that the
    lesson belongs where proposed (that theme; for a new theme, that no theme
    fits); a duplicate's is at least the similarity of its words to the lesson
    already there. ``alternatives`` ranks the existing themes, best first, with
    their probability; ``neighbours`` are the most similar existing lessons.
    """

    kind: ProposalKind
    theme: str | None
    theme_key: tuple[int, ...] | None
    lesson_index: int | None
    new_theme_name: str | None
    text: str
    reason: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    neighbours: tuple[Neighbour, ...] = ()


class Reranker(Protocol):
    """An optional second opinion (e.g. an LLM) that may revise the offline proposal.

    It receives the README, the item and the offline proposal (whose
    ``alternatives`` and ``neighbours`` are the candidates) and returns the
    proposal to show: :class:`~paperdiary.diary.rerank.LLMReranker` asks the configured model.
    """

    def __call__(self, readme: Readme, item: MergeItem, proposal: Proposal, /) -> Proposal: ...


@dataclass(frozen=True)
class ThemeEvidence:
    """What ties a lesson to one theme, each on its own scale. A :class:`PlacementModel`'s weights combine them.

    The first three need only words; the rest come from an embedder (0 without one).
    """

    words: float  # BM25 over the theme's document, as a share of the best score the lesson's words could get
    keywords: float  # the theme's keywords (paperdiary.themes) in the lesson: 0.5 per keyword, at most 1
    closest_words: float  # TF-IDF cosine with the theme's closest lesson
    meaning: float = 0.0  # cosine with the mean of the theme's lessons
    entries: float = 0.0  # cosine of the source entry with the mean of the entries the theme cites
    votes: float = 0.0  # share of the similarity of the source entry's nearest cited entries that the theme cites
    name: float = 0.0  # cosine with the theme's name
    # A young theme (few lessons) has little evidence but its name: these speak for it in proportion.
    thin: float = 0.0  # 1 / (1 + the theme's lessons)
    thin_keywords: float = 0.0  # thin x the theme's keywords in the lesson (1) and its entry (1/2), at most 1
    thin_name: float = 0.0  # thin x the cosine of the lesson with the theme's name (with an embedder)

    def score(self, weights: dict[str, float]) -> float:
        return sum(weight * getattr(self, name) for name, weight in weights.items())


EVIDENCE = tuple(f.name for f in fields(ThemeEvidence))


@dataclass(frozen=True)
class PlacementModel:
    """Fitted weights for one situation (see :data:`MODELS`).

    A theme scores the weighted sum of its :class:`ThemeEvidence`, "no theme fits" scores
    ``no_theme``, and their softmax is the probability of each: a multinomial logistic
    regression, fitted by maximum likelihood (non-negative weights, a small L2 penalty
    chosen by cross-validation) on the placement set's training split and its README's
    lessons each held out in turn, so the probabilities are calibrated. A new theme is
    proposed when no theme's probability reaches ``new_theme_below``: the threshold of
    least cost on the same examples, a wrongly opened theme counting double (its heading
    is more work to undo than a misplaced lesson).
    """

    weights: dict[str, float]
    no_theme: float
    new_theme_below: float


# Fitted by scripts/fit_merge.py, one per situation: (placing by meaning, the lesson's source entry known:
# its title, description, key points). What is known changes how much each piece of evidence says.
MODELS: dict[tuple[bool, bool], PlacementModel] = {
    (True, True): PlacementModel(
        {"words": 12.117, "keywords": 2.566, "closest_words": 4.460, "meaning": 0.705, "entries": 12.925,
         "votes": 0.572, "name": 3.371}, 8.314, 0.23),
    (True, False): PlacementModel(
        {"words": 8.682, "keywords": 2.970, "closest_words": 8.333, "meaning": 5.821, "entries": 4.635,
         "votes": 0.092, "name": 2.999}, 4.702, 0.11),
    (False, True): PlacementModel({"words": 20.698, "keywords": 3.135, "closest_words": 6.029}, 2.826, 0.14),
    (False, False): PlacementModel({"words": 21.296, "keywords": 3.498, "closest_words": 5.467}, 1.857, 0.15),
}

# A young diary (most themes of at most YOUNG_LESSONS lessons) has its own models, fitted on young versions of
# the training split (scripts/fit_merge.py): there the themes' lessons say little, their names and the
# drafter's suggestion more, and "no theme fits" must not win merely because every theme is thin.
YOUNG_LESSONS = 2
YOUNG_MODELS: dict[tuple[bool, bool], PlacementModel] = {
    (True, True): PlacementModel(
        {"words": 9.016, "keywords": 0.426, "closest_words": 6.245, "meaning": 0.000, "entries": 6.519,
         "votes": 3.295, "name": 2.914, "thin": 5.862, "thin_keywords": 1.287, "thin_name": 1.285}, 7.761, 0.05),
    (True, False): PlacementModel(
        {"words": 2.642, "keywords": 0.834, "closest_words": 9.343, "meaning": 1.290, "entries": 2.689,
         "votes": 0.000, "name": 4.213, "thin": 2.141, "thin_keywords": 0.539, "thin_name": 1.526}, 3.920, 0.05),
    (False, True): PlacementModel(
        {"words": 16.699, "keywords": 0.878, "closest_words": 7.846, "thin": 1.443, "thin_keywords": 1.512},
        3.024, 0.04),
    (False, False): PlacementModel(
        {"words": 8.483, "keywords": 1.569, "closest_words": 10.648, "thin": 1.275, "thin_keywords": 0.604},
        2.512, 0.05),
}


def is_young(themes: Sequence[Theme]) -> bool:
    """Whether a README's themes are young: the median theme has at most YOUNG_LESSONS lessons."""
    sizes = sorted(len(theme.lessons) for theme in themes)
    return bool(sizes) and sizes[(len(sizes) - 1) // 2] <= YOUNG_LESSONS


@dataclass(frozen=True)
class Placement:
    """Where a lesson fits: a probability per theme (README order) and for "no theme fits"."""

    evidence: tuple[ThemeEvidence, ...]
    probabilities: tuple[float, ...]
    no_theme: float
    model: PlacementModel
    by_meaning: bool  # embeddings were used

    def ranked(self) -> list[tuple[float, int]]:
        """(probability, theme number), best first; ties keep README order."""
        return sorted(((p, i) for i, p in enumerate(self.probabilities)), key=lambda x: (-x[0], x[1]))


def softmax_placement(evidence: Sequence[ThemeEvidence], *, by_meaning: bool, entry_known: bool,
                      prior: int | None = None, prior_new: bool = False, young: bool = False) -> Placement:
    """The calibrated probabilities of each theme and of none, from the model fitted for the situation."""
    model = (YOUNG_MODELS if young else MODELS)[(by_meaning, entry_known)]
    scores = [e.score(model.weights) + (PRIOR_LOGIT if i == prior else 0.0) for i, e in enumerate(evidence)]
    scores.append(model.no_theme + (PRIOR_LOGIT if prior_new else 0.0))
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return Placement(tuple(evidence), tuple(x / total for x in exps[:-1]), exps[-1] / total, model, by_meaning)


# --------------------------------------------------------------------------- index


@dataclass(frozen=True)
class _Query:
    weights: dict[str, float]  # term -> query weight
    surfaces: dict[str, str]  # term -> first surface form seen, for names and reasons
    lesson_vector: dict[str, float]  # unit TF-IDF vector of the lesson text alone
    normalised: str
    text: str  # the lesson's plain text, without link labels
    entry_text: str  # what is known of its source entry: title, description, key points ("" when nothing)


class _Meaning:
    """The README's lessons, cited entries and theme names as unit vectors, for one embedder."""

    def __init__(self, embedder: Embedder, store: Store | None, lesson_texts: list[str],
                 lesson_themes: list[int], entry_texts: list[str], entry_themes: list[set[int]],
                 theme_names: list[str]):
        import numpy as np

        self.embedder = embedder
        self.store = store
        self._memo: dict[str, np.ndarray] = {}
        themes = len(theme_names)
        vectors = self.embed(lesson_texts + entry_texts + theme_names)
        self.lessons = vectors[:len(lesson_texts)]
        self.entries = vectors[len(lesson_texts):len(lesson_texts) + len(entry_texts)]
        self.names = vectors[len(lesson_texts) + len(entry_texts):]
        self.lesson_theme = np.asarray(lesson_themes, dtype=np.int64)
        self.entry_cited_by = np.zeros((len(entry_texts), themes), dtype=np.float32)
        for row, cited_by in enumerate(entry_themes):
            self.entry_cited_by[row, sorted(cited_by)] = 1.0
        self.lesson_centroids = unit_rows(np.stack([
            self.lessons[self.lesson_theme == t].sum(axis=0) if (self.lesson_theme == t).any()
            else np.zeros(vectors.shape[1], dtype=np.float32) for t in range(themes)])) if themes else vectors[:0]
        self.entry_sums = self.entry_cited_by.T @ self.entries  # per theme, the sum of the entries it cites

    def entry_centroids(self, leave_out: int | None) -> np.ndarray:
        """Per theme, the mean direction of the entries it cites, but entry ``leave_out`` (a row).

        A theme citing no other entry is represented by its lessons.
        """
        import numpy as np

        sums, counts = self.entry_sums, self.entry_cited_by.sum(axis=0)
        if leave_out is not None:
            sums = sums - np.outer(self.entry_cited_by[leave_out], self.entries[leave_out])
            counts = counts - self.entry_cited_by[leave_out]
        return np.where((counts > 0)[:, None], unit_rows(sums), self.lesson_centroids)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts``: from this index's memo, else the store's cache, else the embedder."""
        import numpy as np

        todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if todo:
            for text, vector in zip(todo, embed_texts(todo, self.embedder, self.store), strict=True):
                self._memo[text] = vector
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


class MergeIndex:
    """Everything ranking needs from one README, built once and reused for every lesson.

    ``entries`` gives what is known of an entry (title, description, key points);
    ``embedder`` (with ``store`` caching its vectors) adds placement by meaning. Without
    an embedder, or when it fails, placement is by words alone and the reasons say so.
    """

    def __init__(self, readme: Readme, entries: EntrySummary | None = None, embedder: Embedder | None = None,
                 *, store: Store | None = None):
        self.readme = readme
        summaries: dict[str, str | None] = {}

        def summary(path: str) -> str | None:
            if entries is None:
                return None
            if path not in summaries:
                summaries[path] = entries(path)
            return summaries[path]

        self.themes: list[Theme] = list(readme.all_themes())
        self.young = is_young(self.themes)
        self._docs: list[dict[str, float]] = []  # term frequencies of each theme's document
        cited_by: dict[str, set[int]] = {}  # entry path -> numbers of the themes citing it
        for number, theme in enumerate(self.themes):
            doc: dict[str, float] = {}
            words = [(term, NAME_WEIGHT) for term in terms(theme_title(theme.name))]
            for lesson in theme.lessons:
                words += [(term, 1.0) for term in terms(plain_text(lesson.body))]
                for path in lesson.cites:
                    words += [(term, 1.0) for term in terms(summary(path) or "")]
                    cited_by.setdefault(path, set()).add(number)
            for term, weight in words:
                doc[term] = doc.get(term, 0.0) + weight
            self._docs.append(doc)
        self._bm25 = BM25.of(self._docs)
        self._cited_by = cited_by

        # Lesson vectors: the lesson's own words, paper names (link text) left out.
        self.lessons: list[tuple[Theme, int, ReadmeLesson]] = list(iter_lessons(readme))
        self._lesson_texts = [plain_text(lesson.body, link_labels=False) for _, _, lesson in self.lessons]
        lesson_terms = [Counter(terms(text)) for text in self._lesson_texts]
        lesson_df = Counter(term for tf in lesson_terms for term in tf)
        self._lesson_count = len(self.lessons)
        self._lesson_idf = {term: math.log(1 + self._lesson_count / df) for term, df in lesson_df.items()}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for number, tf in enumerate(lesson_terms):
            vector = _unit({term: (1 + math.log(count)) * self._lesson_idf[term] for term, count in tf.items()})
            for term, weight in vector.items():
                self._postings.setdefault(term, []).append((number, weight))
        self._normalised = [normalised_words(text) for text in self._lesson_texts]
        theme_number = {theme.key: number for number, theme in enumerate(self.themes)}
        self._lesson_theme = [theme_number[theme.key] for theme, _, _ in self.lessons]
        self._citing: dict[str, set[int]] = {}  # entry path -> numbers of the lessons citing it
        for number, (_, _, lesson) in enumerate(self.lessons):
            for path in lesson.cites:
                self._citing.setdefault(path, set()).add(number)
        self._summary = summary

        self.meaning: _Meaning | None = None
        self.words_only = (f"no embedding model (the map extra is not installed: {install_hint('review')})"
                           if missing_packages("review") else "no embedding model given")
        if embedder is not None:
            cited = list(cited_by)
            # An entry the diary cannot tell about (missing, hand-written without a description) is known
            # by what the lessons citing it say.
            known = [summary(path) or " ".join([_entry_name(path)] + [self._lesson_texts[n] for n in
                                                                      sorted(self._citing[path])]) for path in cited]
            try:
                self.meaning = _Meaning(
                    embedder, store, self._lesson_texts, self._lesson_theme, known, [cited_by[path] for path in cited],
                    [theme_title(theme.name) for theme in self.themes])
            except (PaperDiaryError, OSError) as exc:
                log.warning("placing lessons by their words alone: the embedder failed: %s", exc)
                self.words_only = f"the embedder failed ({exc})"
            else:
                self._entry_row = {path: row for row, path in enumerate(cited)}

    # ---- evidence

    def _query(self, item: MergeItem) -> _Query:
        weights: dict[str, float] = {}
        surfaces: dict[str, str] = {}
        text = plain_text(item.text, link_labels=False)
        key_phrase = " ".join(a or b for a, b in _BOLD.findall(item.text))
        # What the entry says (title, description, key points), else what the item knows of it.
        summary = self._summary(item.source_entry) if item.source_entry.strip() else None
        entry_text = summary or " ".join(part for part in (item.title, item.description) if part)
        for source, weight in ((text, 1.0), (key_phrase, KEY_PHRASE_WEIGHT - 1.0), (entry_text, TITLE_WEIGHT)):
            for word in term_words(source):
                if word.term:
                    weights[word.term] = weights.get(word.term, 0.0) + weight
                    surfaces.setdefault(word.term, word.surface)
        counts = Counter(terms(text))
        unseen = math.log(1 + max(self._lesson_count, 1))
        vector = _unit({t: (1 + math.log(c)) * self._lesson_idf.get(t, unseen) for t, c in counts.items()})
        return _Query(weights, surfaces, vector, normalised_words(text), text, entry_text)

    def _word_scores(self, query: _Query) -> list[float]:
        """Each theme's BM25 score as a share of the best the query's words could get (all there, saturated)."""
        scores = self._bm25.scores(query.weights)
        ideal = self._bm25.ideal(query.weights)
        return [scores.get(number, 0.0) / ideal for number in range(len(self.themes))]

    def _word_neighbours(self, query: _Query) -> dict[int, float]:
        """Lesson number -> cosine of its words with the lesson's, for lessons sharing a word."""
        dots: dict[int, float] = {}
        for term, weight in query.lesson_vector.items():
            for number, lesson_weight in self._postings.get(term, ()):
                dots[number] = dots.get(number, 0.0) + weight * lesson_weight
        for number, normalised in enumerate(self._normalised):
            if normalised and normalised == query.normalised:
                dots[number] = 1.0  # identical words: identical lesson, whatever the stemmer makes of them
        return {number: min(dot, 1.0) for number, dot in dots.items()}

    def evidence(self, item: MergeItem) -> tuple[list[ThemeEvidence], dict[int, tuple[float, float | None]]]:
        """Each theme's evidence for ``item``, and its similarity to each lesson: number -> (words, meaning).

        Lessons neither sharing a word nor (with embeddings) close in meaning are left out.
        """
        query = self._query(item)
        return self._evidence(query, cited_path(item.source_entry))

    def _evidence(self, query: _Query,
                  source: str) -> tuple[list[ThemeEvidence], dict[int, tuple[float, float | None]]]:
        words = self._word_neighbours(query)
        closest_words = [0.0] * len(self.themes)
        for number, similarity in words.items():
            of = self._lesson_theme[number]
            closest_words[of] = max(closest_words[of], similarity)
        lexical = []
        for i, (theme, share) in enumerate(zip(self.themes, self._word_scores(query), strict=True)):
            thin = 1.0 / (1 + len(theme.lessons))
            named = min(1.0, 0.5 * keyword_score(query.text, theme.name, context=query.entry_text))
            lexical.append(ThemeEvidence(words=share, keywords=min(1.0, 0.5 * keyword_score(query.text, theme.name)),
                                         closest_words=closest_words[i], thin=thin, thin_keywords=thin * named))
        similar: dict[int, tuple[float, float | None]] = {n: (s, None) for n, s in words.items()}
        if self.meaning is None or not self.themes:
            return lexical, similar
        import numpy as np

        meaning = self.meaning
        lesson, entry = meaning.embed([query.text, query.entry_text or query.text])
        to_lessons = meaning.lessons @ lesson if len(meaning.lessons) else np.zeros(0, dtype=np.float32)
        # The source entry compared with the entries the themes cite, itself left out: that a theme cites
        # this very paper says nothing of where another of its claims goes (fitted, it weighed nothing).
        own = self._entry_row.get(source) if source else None
        votes = np.zeros(len(self.themes), dtype=np.float32)
        if len(meaning.entries):
            to_entries = meaning.entries @ entry
            if own is not None:
                to_entries[own] = -np.inf
            nearest = np.argsort(-to_entries, kind="stable")[:NEAREST_ENTRIES]
            weight = np.clip(to_entries[nearest], 0.0, None)
            if weight.sum() > 0:
                votes = (weight @ meaning.entry_cited_by[nearest]) / weight.sum()
        to_centroids = meaning.lesson_centroids @ lesson
        to_entry_centroids = meaning.entry_centroids(own) @ entry
        to_names = meaning.names @ lesson
        for number, value in enumerate(to_lessons):
            similar[number] = (words.get(number, 0.0), float(value))
        return [replace(e, meaning=float(to_centroids[i]), entries=float(to_entry_centroids[i]),
                        votes=float(votes[i]), name=float(to_names[i]),
                        thin_name=e.thin * max(0.0, float(to_names[i])))
                for i, e in enumerate(lexical)], similar

    # ---- deciding

    def propose(self, item: MergeItem, *, readme_dir: str = "") -> Proposal:
        """One proposal for ``item`` against this index's README (see the module docs)."""
        new_text, citation = placement_texts(item, readme_dir)
        query = self._query(item)
        source = cited_path(item.source_entry)
        evidence, similar = self._evidence(query, source)
        by_meaning = self.meaning is not None and bool(self.themes)

        suggested = " ".join((item.suggested_theme or "").split())
        named = self.readme.find_themes(suggested) if suggested else []
        # The suggestion is a prior when it names one theme; naming none, it proposes a new one.
        prior = next(i for i, t in enumerate(self.themes) if t.key == named[0].key) if len(named) == 1 else None
        suggested_is_new = bool(suggested) and not named
        placement = softmax_placement(evidence, by_meaning=by_meaning, entry_known=bool(query.entry_text), prior=prior,
                                      prior_new=suggested_is_new, young=self.young)
        ranked = placement.ranked()
        neighbours = sorted(similar.items(), key=lambda kv: (-_claim(*kv[1]), kv[0]))
        how = "" if by_meaning else f" Words only: {self.words_only}."

        def make(kind: ProposalKind, theme: Theme | None, lesson_index: int | None, new_theme_name: str | None,
                 text: str, reason: str, confidence: float) -> Proposal:
            return Proposal(
                kind, theme.name if theme else None, theme.key if theme else None, lesson_index, new_theme_name,
                text, reason + how, round(min(1.0, max(0.0, confidence)), 3),
                alternatives=tuple((self.themes[i].name, round(p, 3)) for p, i in ranked[:ALTERNATIVES]),
                neighbours=tuple(self._neighbour(number, *sims) for number, sims in neighbours[:NEIGHBOURS]),
            )

        # 1. The same claim already in the README.
        citing = self._citing.get(source, set())
        for number, (words, meaning) in neighbours:
            if not _same_claim(words, meaning, same_source=number in citing):
                continue
            theme, index, reason = self._on_lesson(
                number, words, meaning, "already cites this entry and says the same" if number in citing
                else "says nearly the same thing", query)
            probability = placement.probabilities[self._lesson_theme[number]]
            # Near-identical words are evidence of their own that the claim is there.
            return make("duplicate", theme, index, None, "", reason, max(probability, words))

        # 2. No theme fits: a new theme. The young models were calibrated with suggestions of existing themes
        # only; a drafter naming a theme the README lacks is held to the mature model's threshold. In a young
        # diary by meaning, also when "no theme fits" is so much likelier that a new theme costs less.
        below = placement.model.new_theme_below
        if self.young and suggested_is_new:
            below = max(below, MODELS[(by_meaning, bool(query.entry_text))].new_theme_below)
        if not ranked or ranked[0][0] < below or (self.young and by_meaning and _none_is_cheaper(placement)):
            name = suggested if suggested_is_new else self.topic_name(item, query)
            origin = ("the drafter's suggestion" if suggested_is_new
                      else "named after the topic its lesson and entry share")
            closest = (f": the closest, {self.themes[ranked[0][1]].name!r}, has probability {ranked[0][0]:.2f} "
                       f"against {placement.no_theme:.2f} for none" if ranked else "")
            reason = f"No theme is close{closest}; new theme {name!r}, {origin}."
            return make("new_theme", None, None, name, new_text, reason, placement.no_theme)

        # 3. The best theme: extend a lesson of it stating the same idea, else a new item.
        probability, index = ranked[0]
        theme = self.themes[index]
        if citation:  # a lesson without a source cites nothing
            for number, (words, meaning) in neighbours:
                if self._lesson_theme[number] == index and _same_idea(words, meaning):
                    _, lesson_index, reason = self._on_lesson(
                        number, words, meaning, "states the same idea: cite the paper beside it", query)
                    return make("extend", theme, lesson_index, None, citation, reason, probability)
        why = [self._fits(theme, index, placement, query, prior, suggested_is_new, suggested)]
        if len(ranked) > 1:
            why.append(f"next: {self.themes[ranked[1][1]].name!r} ({ranked[1][0]:.2f})")
        return make("add", theme, None, None, new_text, "; ".join(why) + ".", probability)

    def _fits(self, theme: Theme, index: int, placement: Placement, query: _Query, prior: int | None,
              suggested_is_new: bool, suggested: str) -> str:
        """Why ``theme``: the evidence that counted most, and the drafter's suggestion."""
        shared = self._shared(query, index)
        evidence = placement.evidence[index]
        said = [f"shares {shared}" if shared else "no words in common"]
        if placement.by_meaning:
            said.append(f"close in meaning to its lessons ({evidence.meaning:.2f})")
            if evidence.votes >= 0.5:
                said.append("its lessons cite the entries nearest to this one")
        probability = placement.probabilities[index]
        ranked = placement.ranked()
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        if prior == index and second * math.exp(PRIOR_LOGIT) > probability:
            return (f"The drafter's suggestion {theme.name!r} ({', '.join(said)}): no theme matches clearly better; "
                    f"probability {probability:.2f}")
        why = f"Fits {theme.name!r} best ({', '.join(said)}; probability {probability:.2f})"
        if prior == index:
            return why + ", as the drafter suggested"
        if prior is not None:
            return why + f", clearly better than the suggested {self.themes[prior].name!r}"
        if suggested_is_new:
            return why + f", well enough not to open the suggested new theme {suggested!r}"
        return why

    def _neighbour(self, number: int, words: float, meaning: float | None) -> Neighbour:
        theme, index, _ = self.lessons[number]
        return Neighbour(theme.name, theme.key, index, round(words, 3),
                         None if meaning is None else round(meaning, 3))

    def _on_lesson(self, number: int, words: float, meaning: float | None, what: str,
                   query: _Query) -> tuple[Theme, int, str]:
        """(theme, index, reason) for a proposal about an existing lesson."""
        theme, index, lesson = self.lessons[number]
        common = set(query.lesson_vector) & set(terms(self._lesson_texts[number]))
        ranked = sorted(common, key=lambda t: (-query.lesson_vector[t], t))[:4]
        shared = ", ".join(query.surfaces.get(t, t) for t in ranked)
        similarity = f"similarity {words:.2f}" + (f", in meaning {meaning:.2f}" if meaning is not None else "")
        return theme, index, (f"Lesson {index + 1} of {theme.name!r} {what} "
                              f"({similarity}; shares {shared or 'little'}).")

    def _shared(self, query: _Query, index: int) -> str:
        doc = self._docs[index]
        hits = sorted((t for t in query.weights if t in doc), key=lambda t: -query.weights[t] * self._bm25.idf(t))
        return ", ".join(query.surfaces[t] for t in hits[:4])

    def topic_name(self, item: MergeItem, query: _Query | None = None) -> str:
        """A new theme's name: the most distinctive words the lesson and its entry share, against the themes."""
        from paperdiary.diary.map.name import topic_name

        query = query or self._query(item)
        texts = [query.text] + ([query.entry_text] if query.entry_text else [])
        background = [[self._lesson_texts[n] for n, t in enumerate(self._lesson_theme) if t == number]
                      + [self._summary(path) or "" for path, cited in self._cited_by.items() if number in cited]
                      for number in range(len(self.themes))]
        name = topic_name(texts, background) or (topic_name([query.text], background) if query.entry_text else None)
        return name or "New Theme"


def _none_is_cheaper(placement: Placement) -> bool:
    """Whether a new theme costs less than the likeliest theme, by the calibrated probabilities: a wrong new
    theme costs WRONG_NEW_THEME_COST, a misplaced lesson 1 (the costs the thresholds were fitted with).

    In a young diary the fitted threshold never fires (every theme is thin, so no theme's probability is
    tiny), yet "no theme fits" can be much likelier than any theme: a lesson on a topic the diary lacks.
    Asked only when placing by meaning: by words alone, a lesson sharing no word with any theme may be
    off-topic or merely put differently ("ablate one thing at a time" under "Experiments").
    """
    best = max(placement.probabilities, default=0.0)
    return WRONG_NEW_THEME_COST * (1.0 - placement.no_theme) < 1.0 - best


def _claim(words: float, meaning: float | None) -> float:
    """One number for how close two lessons' claims are: their words, and their meaning when known."""
    return words if meaning is None else (words + meaning) / 2


def _same_claim(words: float, meaning: float | None, *, same_source: bool) -> bool:
    """Whether an existing lesson already states the new lesson's claim (one paper makes several)."""
    if words >= DUPLICATE_SIMILARITY:
        return True
    return same_source and words >= DUPLICATE_WORDS and (meaning is None or meaning >= DUPLICATE_MEANING)


def _same_idea(words: float, meaning: float | None) -> bool:
    return words >= EXTEND_WORDS and (meaning is None or meaning >= EXTEND_MEANING)


def _entry_name(path: str) -> str:
    """An entry known by nothing but its path: its file name's words ("11thJuneTokenEntropy.md" -> "Token Entropy")."""
    stem_name = _DATED_STEM.sub("", PurePosixPath(path).stem, count=1)
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem_name)


def citation_label(item: MergeItem) -> str:
    """Link text in the user's way: a short name ("ProRL"), the paper's name before a colon, or the file's."""
    if item.short_name and item.short_name.strip():
        return item.short_name.strip()
    title = item.title or ""
    head, colon, _ = title.partition(":")
    if colon and 0 < len(head.split()) <= 4:
        return head.strip()
    stem_name = PurePosixPath(item.source_entry).stem
    return _DATED_STEM.sub("", stem_name, count=1) or stem_name


def placement_texts(item: MergeItem, readme_dir: str = "") -> tuple[str, str]:
    """What placing ``item`` writes: (the lesson as a new item, citing its entry; the citation alone).

    Links are relative to the README's folder. A lesson without a source entry
    (one the user wrote) cites nothing: its citation is "".
    """
    lesson_text = clean_text(item.text)  # no escape sequence or control character reaches the README
    if not lesson_text:
        raise ReadmeError("a lesson to merge needs some text.")
    if not item.source_entry.strip():
        return lesson_text, ""
    link = relative_link(item.source_entry, readme_dir)
    citation = f"[{md_inline(citation_label(item))}]({link})"
    return (lesson_text if link in lesson_text else f"{lesson_text} ({citation})"), citation


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {t: w / norm for t, w in vector.items()} if norm else {}


# --------------------------------------------------------------------------- entry points

_CACHE_SIZE = 8
_cache: OrderedDict[tuple[object, ...], MergeIndex] = OrderedDict()
_cache_lock = threading.Lock()


def readme_dir_of(diary_root: Path, readme_path: Path) -> str:
    """The README's folder relative to the diary root ("" at the root)."""
    root = Path(diary_root).resolve()
    path = Path(readme_path) if Path(readme_path).is_absolute() else root / readme_path
    try:
        rel = diary_relpath(root, path.resolve().parent)
    except ValueError:
        raise ReadmeError(f"{readme_path} is not inside the diary {diary_root}.") from None
    return "" if rel == "." else rel


def index_for(
    readme: Readme, *, diary_root: Path, readme_dir: str | None = None, entries: EntrySummary | None = None,
    embedder: Embedder | None = None, store: Store | None = None,
) -> MergeIndex:
    """The ranking index for this README, from a small cache keyed by the README's hash.

    ``readme_dir`` (the README's folder relative to the diary root) defaults to
    the one ``readme`` was parsed with. ``entries`` gives entry titles, descriptions
    and key points; by default they are read from ``diary_root`` once per README
    version. Pass your own (e.g. ``lambda path: None``) to stay off the disk.
    ``embedder`` places by meaning too (its vectors cached in ``store``); without
    one, placement is by words alone.
    """
    readme_dir = readme.readme_dir if readme_dir is None else readme_dir
    key = (readme.digest, readme.heading, readme_dir, str(Path(diary_root).resolve()), entries, embedder)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    if readme.readme_dir != readme_dir:
        # Citations must resolve against the README's real folder; the structure (and so
        # every theme key and lesson index a proposal holds) does not depend on it.
        readme = Readme.parse(readme.render(), readme.heading, readme_dir=readme_dir)
    if entries is None:
        entries = catalog_entries(Catalog(Settings(diary=Path(diary_root)), store=store))
    index = MergeIndex(readme, entries, embedder, store=store)
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def propose(
    readme: Readme,
    item: MergeItem | QueuedLesson,
    *,
    diary_root: Path,
    readme_path: Path,
    entries: EntrySummary | None = None,
    reranker: Reranker | None = None,
    embedder: Embedder | None = None,
    store: Store | None = None,
) -> Proposal:
    """Propose one README change for ``item``. Never writes anything but cached embeddings (into ``store``).

    ``readme_path`` (absolute, or relative to ``diary_root``) decides how links
    are written: relative to the README's folder, percent-encoded.
    """
    if isinstance(item, QueuedLesson):
        item = MergeItem.from_queued(item)
    readme_dir = readme_dir_of(diary_root, readme_path)
    index = index_for(readme, diary_root=diary_root, readme_dir=readme_dir, entries=entries, embedder=embedder,
                      store=store)
    proposal = index.propose(item, readme_dir=readme_dir)
    if reranker is not None:
        proposal = reranker(index.readme, item, proposal)
        proposal = replace(proposal, confidence=min(1.0, max(0.0, proposal.confidence)))
    return proposal


def apply_proposal(readme: Readme, proposal: Proposal) -> Readme:
    """The README with the proposal applied (unchanged for a duplicate). Raises ReadmeError when stale."""
    if proposal.kind == "duplicate":
        return readme
    if proposal.kind == "new_theme":
        if not proposal.new_theme_name:
            raise ReadmeError("a new-theme proposal needs a theme name.")
        return readme.add_theme(proposal.new_theme_name, proposal.text)
    if proposal.theme_key is None or proposal.theme is None:
        raise ReadmeError(f"a proposal to {proposal.kind} needs a theme.")
    theme = readme.theme(proposal.theme_key)
    if theme.name != proposal.theme:
        raise ReadmeError(
            f"the README changed since the proposal: {proposal.theme!r} is no longer theme {proposal.theme_key}.",
            hint="Propose again.",
        )
    if proposal.kind == "add":
        return readme.add_lesson(theme, proposal.text)
    if proposal.lesson_index is None:
        raise ReadmeError("an extend proposal needs a lesson.")
    return readme.extend_lesson(theme, proposal.lesson_index, proposal.text)
