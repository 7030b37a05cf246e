"""Merge stage: where a reviewed lesson belongs in the README.

For each lesson the merger proposes ONE change, with a reason and a confidence:

* ``duplicate`` - the README already has it: a lesson that cites the same entry
  and says the same thing, or near-identical text. No change.
* ``extend`` - an existing lesson states the same idea: cite the new paper
  beside the old one.
* ``add`` - a new numbered item under the best-fitting theme.
* ``new_theme`` - nothing fits: a new theme, named after the drafter's suggestion
  when that is not an existing theme, else after the lesson's salient words.

It only proposes; :func:`apply_proposal` turns a proposal into a new
:class:`~paperdiary.diary.readme.Readme`, and writing the file is the caller's business.

Ranking is offline and deterministic. Themes are ranked by BM25 over one
document per theme (its name, weighted up, its lessons, and the titles and first
lines of the entries they cite); lessons are compared with TF-IDF cosine
similarity. Both use the same light stemming and stop words. The drafter's
suggested theme is a prior: a bonus, which a clearly better-matching theme
overcomes. The index over a README is built once and cached by the README's
hash, so each further lesson costs well under a millisecond.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from paperdiary.diary.queue import QueuedLesson
from paperdiary.diary.readme import Readme, ReadmeLesson, Theme, cited_path, entry_link, iter_lessons, plain_text
from paperdiary.errors import OutsideDiaryError, ReadmeError
from paperdiary.fsutil import diary_relpath, read_diary_bytes
from paperdiary.templates import md_inline
from paperdiary.text import STOP_WORDS, clean_text
from paperdiary.themes import keyword_score

ProposalKind = Literal["add", "extend", "new_theme", "duplicate"]
EntrySummary = Callable[[str], str | None]
"""Given an entry's diary-relative path, its title and first lines (None when unknown)."""

# --------------------------------------------------------------------------- tuning
# Tuned on tests/fixtures/readmes (see scripts/bench_merge.py for the hold-out check).

NAME_WEIGHT = 3.0  # a theme's name words count as this many occurrences in its document
TITLE_WEIGHT = 0.5  # query weight of words from the source entry's title and description
KEY_PHRASE_WEIGHT = 1.5  # query weight of words in the lesson's **bold key phrase**
BM25_K1 = 1.2
BM25_B = 0.75
# A theme's match is its BM25 score as a share of the best score the lesson's words could get
# (every word in the theme, saturated): 0..1, comparable across themes and lessons. Held-out
# fixture lessons score 0.02-0.2 in their own theme.
# The suggested theme's bonus on that scale: a theme must match this much better to beat it.
PRIOR_BONUS = 0.05
# Each keyword of a theme (paperdiary.themes: hand-picked for the usual themes, else the words of
# its name) that the lesson uses adds this much, up to two: lexical overlap with a theme's few
# lessons misses words like "reward" or "robot" that say which theme a lesson belongs to.
KEYWORD_BONUS = 0.04
# Coverage = share of the lesson's idf-weighted words that a theme's document contains.
# Without a suggestion, a new theme only when even the best theme shares next to nothing with
# the lesson: coverage does not separate off-topic lessons from novel in-theme ones well (on
# the fixtures and a real README, < 0.03 sends 7/74 held-out lessons and 5/20 off-topic ones
# to a new theme; < 0.08, 25/74 and 10/20), and a wrong new theme costs more than a wrong place.
NEW_THEME_COVERAGE = 0.03
# When the drafter suggested a theme the README lacks, an existing theme must cover this much
# of the lesson to be preferred to creating the suggested one.
SUGGESTED_NEW_COVERAGE = 0.2
# Cosine similarities between lessons. Same-idea paraphrases score about 0.35-0.6, unrelated
# lessons in the same theme under 0.25; near-identical text (a re-drafted paper) over 0.85.
EXTEND_SIMILARITY = 0.4
DUPLICATE_SAME_SOURCE = 0.3  # the lesson already cites this entry and says much the same
DUPLICATE_SIMILARITY = 0.85
NEIGHBOURS = 3
ALTERNATIVES = 5

_WORD = re.compile(r"[^\W_]+")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_DATED_STEM = re.compile(rf"^\d{{1,2}}(?:st|nd|rd|th)?(?:{'|'.join(_MONTHS)})?(?=[A-Z0-9])", re.IGNORECASE)


# --------------------------------------------------------------------------- text


def stem(word: str) -> str:
    """Light suffix stripping so "policies"/"policy" and "training"/"trained"/"trains" meet.

    Deliberately small (plurals, -ing/-ed, -ation, a final -e): it must be
    predictable, and a missed match costs less than two words wrongly merged.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ations", "ation", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            root = word[: -len(suffix)]
            if any(v in root for v in "aeiouy"):
                word = root + ("at" if suffix.startswith("ation") else "")
                if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                    word = word[:-1]  # "planning" -> "plann" -> "plan"
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]  # "encode", "encoded", "encoding" -> "encod"
    return word


def _words(text: str) -> list[tuple[str, str]]:
    """(surface word, index term) pairs, stop words and bare numbers dropped."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for surface in _WORD.findall(text):
        folded = surface.casefold()
        if folded in STOP_WORDS or folded.isdigit() or len(folded) < 2:
            continue
        out.append((surface, stem(folded)))
    return out


def terms(text: str) -> list[str]:
    """The index terms of a text: words, case-folded, stemmed, without stop words."""
    return [term for _, term in _words(text)]


def _normalised(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def entry_summary(markdown: str) -> str:
    """An entry's title, its one-line description (PaperDiary's hidden comment) and first content line."""
    title = ""
    first = ""
    for line in markdown.splitlines():
        stripped = line.strip()
        if not title and stripped.startswith("# "):
            title = stripped[2:].strip()
            continue
        if first or not stripped or stripped.startswith(("#", ">", "<!--", "[", "Date read", "Source:")):
            continue
        first = re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", stripped)
    description = ""
    if m := re.search(r"<!--\s*paperdiary:\s*(\{.*?\})\s*-->", markdown, re.DOTALL):
        try:
            description = str(json.loads(m[1]).get("description") or "")
        except (ValueError, AttributeError):
            pass
    return " ".join(part for part in (title, description, first[:300]) if part)


def disk_entries(diary_root: Path) -> EntrySummary:
    """An :data:`EntrySummary` that reads entries from the diary (None for a missing or unreadable file)."""
    root = Path(diary_root)

    def summary(relpath: str) -> str | None:
        try:
            data = read_diary_bytes(root, root / relpath)
        except (OSError, ValueError, OutsideDiaryError):  # missing, unreadable, or leading out of the diary
            return None
        return entry_summary(data.decode("utf-8", errors="replace"))

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
    similarity: float  # cosine, 0..1


@dataclass(frozen=True)
class Proposal:
    """One proposed README change.

    ``text`` is what would be written: the new lesson's markdown without its
    list number (``add``, ``new_theme``; the number comes from the list when
    applied), the citation to add (``extend``), or "" (``duplicate``).
    ``theme``/``theme_key``/``lesson_index`` locate the lesson extended or
    duplicated, or the theme added to; ``new_theme_name`` is set for
    ``new_theme`` only. ``alternatives`` ranks the existing themes, best first,
    with their match (share of the ideal BM25 score, 0..1, plus the prior bonus
    for the suggested theme); ``neighbours`` are the most similar existing lessons.
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


# --------------------------------------------------------------------------- index


@dataclass(frozen=True)
class _Query:
    weights: dict[str, float]  # term -> query weight
    surfaces: dict[str, str]  # term -> first surface form seen, for names and reasons
    lesson_vector: dict[str, float]  # unit TF-IDF vector of the lesson text alone
    normalised: str


class MergeIndex:
    """Everything ranking needs from one README, built once and reused for every lesson."""

    def __init__(self, readme: Readme, entries: EntrySummary | None = None):
        self.readme = readme
        summaries: dict[str, str | None] = {}

        def summary(path: str) -> str | None:
            if entries is None:
                return None
            if path not in summaries:
                summaries[path] = entries(path)
            return summaries[path]

        self.themes: list[Theme] = list(readme.all_themes())
        self._docs: list[dict[str, float]] = []  # term frequencies of each theme's document
        for theme in self.themes:
            doc: dict[str, float] = {}
            words = [(term, NAME_WEIGHT) for term in terms(theme.name)]
            for lesson in theme.lessons:
                words += [(term, 1.0) for term in terms(plain_text(lesson.body))]
                for path in lesson.cites:
                    words += [(term, 1.0) for term in terms(summary(path) or "")]
            for term, weight in words:
                doc[term] = doc.get(term, 0.0) + weight
            self._docs.append(doc)
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._avg_length = (sum(self._lengths) / len(self._lengths) or 1.0) if self._lengths else 1.0
        theme_df = Counter(term for doc in self._docs for term in doc)
        n = len(self._docs)
        self._theme_idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in theme_df.items()}
        self._unseen_theme_idf = math.log(1 + (n + 0.5) / 0.5)

        # Lesson vectors: the lesson's own words, paper names (link text) left out.
        self.lessons: list[tuple[Theme, int, ReadmeLesson]] = list(iter_lessons(readme))
        lesson_terms = [Counter(terms(plain_text(lesson.body, link_labels=False))) for _, _, lesson in self.lessons]
        lesson_df = Counter(term for tf in lesson_terms for term in tf)
        self._lesson_count = len(self.lessons)
        self._lesson_idf = {term: math.log(1 + self._lesson_count / df) for term, df in lesson_df.items()}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for number, tf in enumerate(lesson_terms):
            vector = _unit({term: (1 + math.log(count)) * self._lesson_idf[term] for term, count in tf.items()})
            for term, weight in vector.items():
                self._postings.setdefault(term, []).append((number, weight))
        self._normalised = [_normalised(plain_text(lesson.body, link_labels=False)) for _, _, lesson in self.lessons]
        self._citing: dict[str, set[int]] = {}  # entry path -> numbers of the lessons citing it
        for number, (_, _, lesson) in enumerate(self.lessons):
            for path in lesson.cites:
                self._citing.setdefault(path, set()).add(number)
        self._summary = summary

    # ---- ranking

    def _query(self, item: MergeItem) -> _Query:
        weights: dict[str, float] = {}
        surfaces: dict[str, str] = {}
        text = plain_text(item.text, link_labels=False)
        key_phrase = " ".join(a or b for a, b in _BOLD.findall(item.text))
        title = item.title if item.title is not None else (self._summary(item.source_entry) or "")
        for source, weight in ((text, 1.0), (key_phrase, KEY_PHRASE_WEIGHT - 1.0), (title, TITLE_WEIGHT),
                               (item.description or "", TITLE_WEIGHT)):
            for surface, term in _words(source):
                weights[term] = weights.get(term, 0.0) + weight
                surfaces.setdefault(term, surface)
        counts = Counter(terms(text))
        unseen = math.log(1 + max(self._lesson_count, 1))
        vector = _unit({t: (1 + math.log(c)) * self._lesson_idf.get(t, unseen) for t, c in counts.items()})
        return _Query(weights, surfaces, vector, _normalised(text))

    def _theme_scores(self, query: _Query) -> list[tuple[float, float]]:
        """(BM25 score, coverage) per theme; coverage = share of the query's idf weight the theme has."""
        total = sum(w * self._theme_idf.get(t, self._unseen_theme_idf) for t, w in query.weights.items()) or 1.0
        out = []
        for doc, length in zip(self._docs, self._lengths, strict=True):
            score = covered = 0.0
            norm = BM25_K1 * (1 - BM25_B + BM25_B * length / self._avg_length)
            for term, weight in query.weights.items():
                tf = doc.get(term)
                if tf:
                    idf = self._theme_idf[term]
                    score += weight * idf * tf * (BM25_K1 + 1) / (tf + norm)
                    covered += weight * idf
            out.append((score, covered / total))
        return out

    def _neighbours(self, query: _Query) -> list[tuple[float, int]]:
        """(cosine similarity, lesson number) for lessons sharing a word, most similar first."""
        dots: dict[int, float] = {}
        for term, weight in query.lesson_vector.items():
            for number, lesson_weight in self._postings.get(term, ()):
                dots[number] = dots.get(number, 0.0) + weight * lesson_weight
        for number, normalised in enumerate(self._normalised):
            if normalised and normalised == query.normalised:
                dots[number] = 1.0  # identical words: identical lesson, whatever the stemmer makes of them
        return sorted(((min(dot, 1.0), number) for number, dot in dots.items()), key=lambda x: (-x[0], x[1]))

    # ---- deciding

    def propose(self, item: MergeItem, *, readme_dir: str = "") -> Proposal:
        """One proposal for ``item`` against this index's README (see the module docs)."""
        new_text, citation = placement_texts(item, readme_dir)
        query = self._query(item)
        source = cited_path(item.source_entry)

        similar = self._neighbours(query)
        scored = self._theme_scores(query)
        suggested = " ".join((item.suggested_theme or "").split())
        named = self.readme.find_themes(suggested) if suggested else []
        # The suggestion is a prior when it names one theme; naming none, it proposes a new one.
        prior = next(i for i, t in enumerate(self.themes) if t.key == named[0].key) if len(named) == 1 else None
        suggested_is_new = bool(suggested) and not named
        ranked = self._rank(query, scored, prior, item.text)

        def make(kind: ProposalKind, theme: Theme | None, lesson_index: int | None, new_theme_name: str | None,
                 text: str, reason: str, confidence: float) -> Proposal:
            return Proposal(
                kind, theme.name if theme else None, theme.key if theme else None, lesson_index, new_theme_name,
                text, reason, round(min(1.0, max(0.0, confidence)), 3),
                alternatives=tuple((self.themes[i].name, round(match, 3)) for match, i in ranked[:ALTERNATIVES]),
                neighbours=tuple(self._neighbour(sim, number) for sim, number in similar[:NEIGHBOURS]),
            )

        # 1. The same idea already in the README: duplicate or extend.
        citing = self._citing.get(source, set())
        same_source = [(sim, n) for sim, n in similar if n in citing]
        if same_source and same_source[0][0] >= DUPLICATE_SAME_SOURCE:
            sim, number = same_source[0]
            theme, index, reason = self._on_lesson(number, sim, "already cites this entry and says the same", query)
            return make("duplicate", theme, index, None, "", reason, 0.5 + sim / 2)
        if similar and similar[0][0] >= DUPLICATE_SIMILARITY:
            sim, number = similar[0]
            theme, index, reason = self._on_lesson(number, sim, "says nearly the same thing", query)
            return make("duplicate", theme, index, None, "", reason, sim)
        if citation and similar and similar[0][0] >= EXTEND_SIMILARITY:  # a lesson without a source cites nothing
            sim, number = similar[0]
            theme, index, reason = self._on_lesson(number, sim, "states the same idea: cite the paper beside it", query)
            confidence = 0.5 + 0.5 * (sim - EXTEND_SIMILARITY) / (DUPLICATE_SIMILARITY - EXTEND_SIMILARITY)
            return make("extend", theme, index, None, citation, reason, confidence)

        # 2. Nothing fits: a new theme.
        best_coverage = max((coverage for _, coverage in scored), default=0.0)
        if not ranked or (suggested_is_new and best_coverage < SUGGESTED_NEW_COVERAGE) or (
            not suggested and best_coverage < NEW_THEME_COVERAGE
        ):
            name = suggested if suggested_is_new else self._salient_name(item)
            origin = "the drafter's suggestion" if suggested_is_new else "named after the lesson's rarest words"
            closest = (f"; the closest, {self.themes[ranked[0][1]].name!r}, has {best_coverage:.0%} of its key words"
                       if ranked else "")
            limit = SUGGESTED_NEW_COVERAGE if suggested_is_new else NEW_THEME_COVERAGE
            reason = f"No theme fits{closest}; new theme {name!r}, {origin}."
            return make("new_theme", None, None, name, new_text, reason, 1.0 - 0.5 * best_coverage / limit)

        # 3. A new item under the best theme.
        match, index = ranked[0]
        theme = self.themes[index]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        shared = self._shared(query, index)
        words = f"shares {shared}" if shared else "no words in common"
        if prior == index and second > match - PRIOR_BONUS:
            why = [f"The drafter's suggestion {theme.name!r} ({words}): no theme matches clearly better"]
        else:
            why = [f"Fits {theme.name!r} best ({words})"]
            if prior == index:
                why.append("as the drafter suggested")
            elif prior is not None:
                why.append(f"clearly better than the suggested {self.themes[prior].name!r}")
            elif suggested_is_new:
                why.append(f"well enough not to open the suggested new theme {suggested!r}")
        if len(ranked) > 1:
            why.append(f"next: {self.themes[ranked[1][1]].name!r}")
        # Confident when the theme holds much of the lesson's vocabulary and clearly beats the next one.
        margin = (match - second) / match if match > 0 else 0.0
        confidence = 0.2 + 0.4 * min(1.0, scored[index][1] / 0.4) + 0.4 * margin
        return make("add", theme, None, None, new_text, "; ".join(why) + ".", confidence)

    def _rank(self, query: _Query, scored: list[tuple[float, float]], prior: int | None,
              text: str) -> list[tuple[float, int]]:
        """(match + prior and keyword bonuses, theme number), best first; ties keep document order."""
        ideal = sum(w * self._theme_idf.get(t, self._unseen_theme_idf) for t, w in query.weights.items())
        ideal *= BM25_K1 + 1
        plain = plain_text(text, link_labels=False)
        matches = [(score / ideal if ideal else 0.0) + (PRIOR_BONUS if i == prior else 0.0)
                   + KEYWORD_BONUS * min(2.0, keyword_score(plain, self.themes[i].name))
                   for i, (score, _) in enumerate(scored)]
        return sorted(((m, i) for i, m in enumerate(matches)), key=lambda x: (-x[0], x[1]))

    def _neighbour(self, similarity: float, number: int) -> Neighbour:
        theme, index, _ = self.lessons[number]
        return Neighbour(theme.name, theme.key, index, round(similarity, 3))

    def _on_lesson(self, number: int, similarity: float, what: str, query: _Query) -> tuple[Theme, int, str]:
        """(theme, index, reason) for a proposal about an existing lesson."""
        theme, index, lesson = self.lessons[number]
        common = set(query.lesson_vector) & set(terms(plain_text(lesson.body, link_labels=False)))
        ranked = sorted(common, key=lambda t: (-query.lesson_vector[t], t))[:4]
        shared = ", ".join(query.surfaces.get(t, t) for t in ranked)
        return theme, index, (f"Lesson {index + 1} of {theme.name!r} {what} "
                              f"(similarity {similarity:.2f}; shares {shared or 'little'}).")

    def _shared(self, query: _Query, index: int) -> str:
        doc = self._docs[index]
        hits = sorted((t for t in query.weights if t in doc), key=lambda t: -query.weights[t] * self._theme_idf[t])
        return ", ".join(query.surfaces[t] for t in hits[:4])

    def _salient_name(self, item: MergeItem) -> str:
        """Up to three of the lesson's rarest words (in the README), from its key phrase if it has one."""
        key_phrase = " ".join(a or b for a, b in _BOLD.findall(item.text))
        words = _words(key_phrase) or _words(plain_text(item.text, link_labels=False))
        if not words:
            return "New Theme"
        order = {term: n for n, (_, term) in reversed(list(enumerate(words)))}
        rarest = sorted(order, key=lambda t: (-self._theme_idf.get(t, self._unseen_theme_idf), order[t]))[:3]
        surfaces = {term: surface for surface, term in reversed(words)}
        return " ".join(_title_word(surfaces[t]) for t in sorted(rarest, key=order.__getitem__))


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
    link = entry_link(item.source_entry, readme_dir)
    citation = f"[{md_inline(citation_label(item))}]({link})"
    return (lesson_text if link in lesson_text else f"{lesson_text} ({citation})"), citation


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {t: w / norm for t, w in vector.items()} if norm else {}


def _title_word(word: str) -> str:
    return word if any(c.isupper() for c in word) else word[:1].upper() + word[1:]


# --------------------------------------------------------------------------- entry points

_CACHE_SIZE = 8
_cache: OrderedDict[tuple[Hashable, ...], MergeIndex] = OrderedDict()
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
    readme: Readme, *, diary_root: Path, readme_dir: str | None = None, entries: EntrySummary | None = None
) -> MergeIndex:
    """The ranking index for this README, from a small cache keyed by the README's hash.

    ``readme_dir`` (the README's folder relative to the diary root) defaults to
    the one ``readme`` was parsed with. ``entries`` gives entry titles and first
    lines; by default they are read from ``diary_root`` once per README version.
    Pass your own (e.g. ``lambda path: None``) to stay off the disk.
    """
    readme_dir = readme.readme_dir if readme_dir is None else readme_dir
    key = (readme.digest, readme.heading, readme_dir, str(Path(diary_root).resolve()), entries)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    if readme.readme_dir != readme_dir:
        # Citations must resolve against the README's real folder; the structure (and so
        # every theme key and lesson index a proposal holds) does not depend on it.
        readme = Readme.parse(readme.render(), readme.heading, readme_dir=readme_dir)
    index = MergeIndex(readme, entries if entries is not None else disk_entries(diary_root))
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
) -> Proposal:
    """Propose one README change for ``item``. Never writes anything.

    ``readme_path`` (absolute, or relative to ``diary_root``) decides how links
    are written: relative to the README's folder, percent-encoded.
    """
    if isinstance(item, QueuedLesson):
        item = MergeItem.from_queued(item)
    readme_dir = readme_dir_of(diary_root, readme_path)
    index = index_for(readme, diary_root=diary_root, readme_dir=readme_dir, entries=entries)
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
