"""Names for clusters: offline from their most distinctive words (c-TF-IDF), or by the LLM from their titles.

c-TF-IDF treats each cluster as one document (its entries' texts joined) and
scores a term (a word, or two adjacent words) by its frequency in the cluster
times ``log(1 + A / f)``, where ``A`` is the average number of terms per cluster
and ``f`` the term's frequency over all clusters: words every cluster uses score
low, words that one cluster uses much score high. Words are compared by the
merger's light stem (``policies``/``policy``), shown in their commonest form,
and a term must appear in two of a cluster's entries (when it has two): one
paper's pet word does not name a topic. Stop words are ``paperdiary.text``'s.

With ``--llm`` the configured model names each cluster from its titles: they
reach it between data markers, as untrusted text; its answer is one short line,
cached like every LLM call, and a cluster it cannot name keeps its keywords.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from paperdiary.settings import Settings
from paperdiary.templates import DiaryPrompts, data_marker, render
from paperdiary.terms import Word, fold, stem, words
from paperdiary.text import STOP_WORDS, TITLE_SMALL_WORDS

if TYPE_CHECKING:
    from paperdiary.llm.client import LLMClient

NAME_TERMS = 2  # a name is its cluster's two most distinctive terms
KEYWORDS = 6  # keywords listed per cluster
MAX_NAME_CHARS = 60
PHRASE_SHARE = 0.5  # a topic's name is a two-word phrase scoring at least this share of its best word
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s)[\s*_(\[\"']*$")  # what precedes a sentence's first word
# Words that say an entry is a paper, not what it is about.
_GENERIC = STOP_WORDS | frozenset(
    "model models learning paper study based large task tasks data performance improve improves improved "
    "state art novel framework existing demonstrate achieve achieves better present presents key keep keeps "
    "make makes help helps need needs reach reaches remain remains stay stays times".split())


@dataclass(frozen=True)
class ClusterWords:
    name: str  # the top terms, capitalised: "Diffusion, Denoising"
    keywords: tuple[str, ...]  # most distinctive first


def _words(text: str) -> list[Word]:
    """The text's words that open with a letter, hyphenated ones whole (:func:`paperdiary.terms.words`)."""
    return [w for w in words(text, hyphenated=True) if w.surface[:1].isalpha()]


def _terms(text: str) -> list[tuple[str, str]]:
    """(stemmed key, surface form) of the words and two-word phrases of ``text``, stop words left out."""
    tokens = [fold(w.surface) for w in _words(text)]
    out: list[tuple[str, str]] = []
    previous: str | None = None
    for token in tokens:
        if token in _GENERIC or len(token) < 3:
            previous = None
            continue
        key = stem(token)
        out.append((key, token))
        if previous is not None:
            out.append((f"{stem(previous)} {key}", f"{previous} {token}"))
        previous = token
    return out


def keyword_names(clusters: Sequence[Sequence[str]]) -> list[ClusterWords]:
    """For each cluster (its entries' texts), its name and keywords by c-TF-IDF."""
    ranked, surfaces = _ranked_terms(clusters)
    names = []
    for terms in ranked:
        chosen: list[str] = []
        for _, key in sorted(terms, key=lambda term: (-term[0], term[1])):
            # A word inside a chosen phrase, or a phrase around a chosen word, says nothing new.
            if any(key in other.split() or other in key.split() for other in chosen):
                continue
            chosen.append(key)
            if len(chosen) == KEYWORDS:
                break
        keywords = tuple(_surface(surfaces[key]) for key in chosen)
        names.append(ClusterWords(_name(keywords[:NAME_TERMS]) or "Miscellaneous", keywords))
    return names


def topic_name(texts: Sequence[str], background: Sequence[Sequence[str]]) -> str | None:
    """A short name for what ``texts`` are about, set against ``background`` clusters (None: no word to use).

    The terms are ranked by c-TF-IDF as :func:`keyword_names` ranks them, leaving out
    names (words the texts write capitalised, never in lower case, somewhere other than at
    a sentence's start, such as a paper's "Evo" or "AlphaGeometry"; acronyms stay, in
    capitals). The best two-word phrase is the name when it scores at least
    :data:`PHRASE_SHARE` of the best term, else the best term; ties go to the term the
    texts use first (a sentence's subject before its details).
    """
    ranked, surfaces = _ranked_terms([texts, *background])
    lower = {w.surface for text in texts for w in _words(text) if w.surface.islower()}
    names = {w.surface.lower() for text in texts for w in _words(text) if not w.surface.isupper()
             and w.surface.lower() not in lower and not _SENTENCE_START.search(text[:w.start])}
    order = {key: n for n, (key, _) in reversed(list(enumerate(t for text in texts for t in _terms(text))))}
    terms = sorted(((score, key) for score, key in ranked[0]
                    if not any(word in names for word in _surface(surfaces[key]).split())),
                   key=lambda term: (-round(term[0], 9), -term[1].count(" "), order.get(term[1], 0)))
    if not terms:
        return None
    best_score = terms[0][0]
    phrase = next((key for score, key in terms if " " in key and score >= PHRASE_SHARE * best_score), None)
    acronyms = {w.surface.lower(): w.surface for text in texts for w in _words(text)
                if w.surface.isupper() and w.surface.lower() not in lower}
    name = _name([_surface(surfaces[phrase or terms[0][1]])])
    return " ".join(acronyms.get(word.lower(), word) for word in name.split())


def _ranked_terms(clusters: Sequence[Sequence[str]]) -> tuple[list[list[tuple[float, str]]], dict[str, Counter[str]]]:
    """Per cluster, its (c-TF-IDF score, stemmed term) pairs, unordered; and each term's surface forms."""
    counts: list[Counter[str]] = []
    entry_counts: list[Counter[str]] = []
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for texts in clusters:
        tf: Counter[str] = Counter()
        df: Counter[str] = Counter()
        for text in texts:
            terms = _terms(text)
            tf.update(key for key, _ in terms)
            df.update({key for key, _ in terms})
            for key, surface in terms:
                surfaces[key][surface] += 1
        counts.append(tf)
        entry_counts.append(df)
    total = Counter[str]()
    for tf in counts:
        total.update(tf)
    average = sum(sum(tf.values()) for tf in counts) / max(1, len(counts))
    ranked = []
    for texts, tf, df in zip(clusters, counts, entry_counts, strict=True):
        size = sum(tf.values()) or 1
        needed = 2 if len(texts) >= 2 else 1
        ranked.append([((tf[key] / size) * math.log(1 + average / total[key]), key) for key in tf if df[key] >= needed])
    return ranked, surfaces


def _surface(forms: Counter[str]) -> str:
    return sorted(forms.items(), key=lambda pair: (-pair[1], pair[0]))[0][0]


def _name(terms: Sequence[str]) -> str:
    def title(term: str) -> str:
        return " ".join(word.upper() if word in _ACRONYMS else word if n and word in TITLE_SMALL_WORDS
                        else word[:1].upper() + word[1:] for n, word in enumerate(term.split()))

    return ", ".join(title(term) for term in terms)


_ACRONYMS = frozenset("rl llm llms vla gan gans vae vaes ppo dpo grpo nlp cnn rnn mlp moe rag".split())


def clean_name(text: str) -> str:
    """A cluster name from outside (the model, the queue): one short line, no markup."""
    text = " ".join(re.sub(r"[#*_`<>\[\]]", " ", text).split()).strip(" .:;,-\"'")
    if len(text) > MAX_NAME_CHARS:
        text = text[:MAX_NAME_CHARS].rsplit(" ", 1)[0]
    return text


# --------------------------------------------------------------------------- the LLM's names


class ClusterNameAnswer(BaseModel):
    name: str = Field(description="The topic these papers share, in 1 to 5 words, title case.")


class LLMClusterNamer:
    """Names a cluster from its entries' titles with the configured model (cached by the LLM client).

    Errors are the client's: with ``--llm`` asked for, an unreachable model stops the map.
    """

    TITLES = 25  # the cluster's newest titles shown: enough to see the topic, few enough to stay cheap

    def __init__(self, settings: Settings, client: LLMClient):
        self.settings = settings
        self.client = client

    def __call__(self, titles: Sequence[str], keywords: Sequence[str]) -> str | None:
        shown = [" ".join(title.split()) for title in titles[: self.TITLES]]
        nonce = data_marker("\n".join(shown))
        prompt = render("cluster_name.j2", DiaryPrompts.of(self.settings), nonce=nonce,
                        titles=shown, keywords=list(keywords))
        answer = self.client.structured([{"role": "user", "content": prompt}], ClusterNameAnswer,
                                        purpose="map-name").value
        return clean_name(answer.name) or None
