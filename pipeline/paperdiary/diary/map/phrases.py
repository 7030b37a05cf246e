"""Cluster names a person would write: two to four words, the noun phrase that sets a cluster apart.

The candidates are the phrases of the members' titles and descriptions: runs of
words between stop words and punctuation ("Unsupervised Domain Adaptation" in
"Unsupervised Domain Adaptation via Self-Training"), and the runs' shorter
pieces, of one to four words. Each cluster is one document; a phrase scores its
share of the cluster's entries that use it times ``log(1 + clusters / clusters
using it)`` (c-TF-IDF counted in entries, so one paper repeating a phrase does
not name a topic), and must be used by two entries when the cluster has two.

The name is the best phrase of two to four words; a shorter piece gives way to a
longer phrase around it that most of its entries use ("Unsupervised Domain" to
"Unsupervised Domain Adaptation"); a single word with no such phrase is joined
with the next best word ("Audio and Speech"). Names are distinct: clusters choose
in order of their best score, each taking its best phrase no other took.
Text is NFKC-normalised first, so a PDF's ligatures ("eﬃcient") stay one word.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

from paperdiary.text import STOP_WORDS, TITLE_SMALL_WORDS

MAX_WORDS = 4
# Words that say what a paper is, not what it is about: they end a phrase and never start or name one.
_PAPER_WORDS = frozenset(
    "paper papers study survey novel framework frameworks towards toward via using use based improving improve "
    "improved rethinking revisiting exploring understanding simple efficient effective better beyond unified "
    "general generalized benchmark towards analysis notes note important deep neural network networks model models "
    "learning task tasks data large approach method methods results result problem problems performance "
    "state art et al submitted arxiv".split())
# Words a phrase may hold inside ("Deep Reinforcement Learning") but not be named by alone.
_ALONE_ONLY_INSIDE = frozenset("deep neural network networks model models learning data large task tasks".split())
_BREAK = STOP_WORDS - _ALONE_ONLY_INSIDE | _PAPER_WORDS - _ALONE_ONLY_INSIDE
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*|[.,;:!?()\[\]{}\"|/]")
_ADJECTIVE = re.compile(r"(?:able|ible|ive|ous|ful|less)$")  # never the last word of a name
_CAMEL = re.compile(r"[A-Z]+s?|[A-Z]?[a-z]+(?:[A-Z][a-z0-9]*)+|[A-Z][a-z]+[A-Z]+")  # GAN, GANs, ImageNet, PointNet
_ACRONYMS = frozenset("rl llm llms vla gan gans vae vaes ppo dpo grpo nlp cnn rnn mlp moe rag".split())


def _key(word: str) -> str:
    """Plurals meet ("networks"/"network"); nothing else is folded."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def phrases(text: str) -> list[tuple[str, str]]:
    """(key, surface) of every candidate phrase of ``text``: runs between stop words, and their pieces."""
    text = unicodedata.normalize("NFKC", text)
    runs: list[list[str]] = [[]]
    for token in _TOKEN.findall(text):
        if not token[0].isalpha() or token.lower() in _BREAK or len(token) < 2:
            runs.append([])
        else:
            runs[-1].append(token)
    out = []
    for run in runs:
        while run and (run[0].lower().endswith("ing") and "-" not in run[0] and len(run) > 1):
            run = run[1:]  # a title's leading verb: "Learning Transferable Features"
        for size in range(1, min(MAX_WORDS, len(run)) + 1):
            for start in range(len(run) - size + 1):
                words = run[start:start + size]
                if words[0].lower() in _ALONE_ONLY_INSIDE or words[-1].lower() in ("deep", "large") \
                        or _ADJECTIVE.search(words[-1].lower()):
                    continue  # "Network Pruning" yes; "Networks", "Deep", "Generative" alone no
                # "Test-Time Adaptation" and "test time adaptation" are one phrase.
                out.append((" ".join(_key(w) for w in words).replace("-", " "), " ".join(words)))
    return out


def phrase_names(clusters: Sequence[Sequence[str]]) -> list[str]:
    """A distinct name for each cluster (its entries' titles and descriptions), "Miscellaneous" when none fits."""
    used: list[Counter[str]] = []
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for texts in clusters:
        counts: Counter[str] = Counter()
        for text in texts:
            found = phrases(text)
            counts.update({key for key, _ in found})
            for key, surface in found:
                surfaces[key][surface] += 1
        used.append(counts)
    spread = Counter(key for counts in used for key in counts)
    ranked = [_candidates(counts, len(texts), spread, len(clusters)) for counts, texts in zip(used, clusters,
                                                                                             strict=True)]
    names = ["Miscellaneous"] * len(clusters)
    taken: set[str] = set()
    for n in sorted(range(len(clusters)), key=lambda n: -(ranked[n][0][0] if ranked[n] else 0.0)):
        for _, key in ranked[n]:
            name = _title(key, surfaces)
            if name.casefold() not in taken:
                names[n] = name
                taken.add(name.casefold())
                break
    return names


def _candidates(counts: Counter[str], size: int, spread: Counter[str], clusters: int) -> list[tuple[float, str]]:
    """The cluster's names, best first: phrases of two to four words, and pairs of single words."""
    needed = 2 if size >= 2 and any(n >= 2 for n in counts.values()) else 1
    score = {key: (n / max(1, size)) * math.log(1 + clusters / spread[key])
             for key, n in counts.items() if n >= needed}
    phrases_ = {key: s for key, s in score.items() if " " in key}
    # A phrase gives way to a longer one around it that most of its entries use.
    for key in sorted(phrases_, key=lambda k: k.count(" ")):
        if key not in phrases_:
            continue
        longer = [other for other in phrases_ if other != key and f" {key} " in f" {other} "
                  and counts[other] >= 0.6 * counts[key]]
        if longer:
            best = max(longer, key=lambda other: (counts[other], other.count(" "), other))
            phrases_[best] = max(phrases_[best], phrases_[key])
            phrases_[key] *= 0.5  # still a name, when the longer one is another cluster's
    words = sorted(((s, key) for key, s in score.items() if " " not in key), key=lambda t: (-t[0], t[1]))
    pairs = [(min(words[0][0], s) * 0.9, f"{words[0][1]}\n{key}") for s, key in words[1:3]] if words else []
    alone = [(s * 0.3, key) for s, key in words]  # one word, the last resort
    return sorted([(s, key) for key, s in phrases_.items()] + pairs + alone, key=lambda t: (-round(t[0], 9), t[1]))


def _title(key: str, surfaces: dict[str, Counter[str]]) -> str:
    """The phrase as its entries write it most, in title case; acronyms and mixed case kept."""
    parts = [sorted(surfaces[k].items(), key=lambda pair: (-pair[1], pair[0]))[0][0] for k in key.split("\n")]

    def word(w: str, first: bool) -> str:
        if w.lower() in _ACRONYMS:
            return w.upper()
        if not first and w.lower() in TITLE_SMALL_WORDS:
            return w.lower()
        if _CAMEL.fullmatch(w):
            return w  # "GANs", "BERT", "ImageNet"
        return "-".join(piece[:1].upper() + piece[1:].lower() for piece in w.split("-"))

    return " and ".join(" ".join(word(w, i == 0) for i, w in enumerate(part.split())) for part in parts)
