"""The one-line description learnt from real TL;DRs: a sentence scorer fitted on SciTLDR.

Each sentence of an abstract (or of a hand-written entry) becomes a candidate
line: rewritten by the rules that raised ROUGE on the training papers and clipped
to one line. A linear model scores each line from a few features: where its
sentence stands, how long it is, its cue phrases ("we propose", "however"), how
much of the title it repeats, how central its words are, and the overlap with
the authors' TL;DR that its words predict (each word's learnt rate of being
kept in a TL;DR when it appears in the abstract). The best line is the
description. The weights and word rates (:data:`WEIGHTS_FILE`, JSON in the
package) were fitted by ``scripts/fit_describe.py`` on SciTLDR-A train
(Cachola et al. 2020, Apache-2.0); ``scripts/bench_describe.py`` measures them
on SciTLDR-A dev, which was never used to choose a feature, a weight or a rule.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from paperdiary.stages.drafting.phrases import FUNCTION_WORDS, VERBS
from paperdiary.terms import terms, words

WEIGHTS_FILE = "oneliner.json"
TLDR_WORDS = 19.3  # the mean length of an author's TL;DR in SciTLDR train, in words

# Cue phrases, each one feature (a sentence has it or not).
CUES: dict[str, re.Pattern[str]] = {
    "proposes": re.compile(r"\b(?:we|this (?:paper|work|study)|here,? we)\s+(?:\w+\s+)?"
                           r"(?:propose|introduce|present|develop|design|describe)s?\b", re.I),
    "this_paper": re.compile(r"\b(?:in this (?:paper|work|study)|this (?:paper|work|study)|here,? we)\b", re.I),
    "we": re.compile(r"\bwe\b", re.I),
    "opens_with_we": re.compile(r"^(?:[A-Z][\w ,-]{0,40},\s*)?we\b", re.I),
    "shows": re.compile(r"\b(?:we (?:show|find|demonstrate|observe|prove|establish)|(?:results|experiments|analysis)"
                        r" (?:show|demonstrate|indicate|suggest|reveal))\b", re.I),
    "outperforms": re.compile(r"\b(?:outperform\w*|state[- ]of[- ]the[- ]art|improv\w*|better|surpass\w*|superior)\b",
                              re.I),
    "method_words": re.compile(r"\b(?:method|approach|framework|algorithm|model|technique|architecture)s?\b", re.I),
    "novel": re.compile(r"\b(?:novel|new|first)\b", re.I),
    "contrast": re.compile(r"^(?:however|but|unfortunately|yet|although|despite|while)\b", re.I),
    "background": re.compile(r"\b(?:recent(?:ly)?|existing|previous(?:ly)?|prior|current|traditional|popular|"
                             r"widely|has been|have been|is a|are a)\b", re.I),
    "experiments": re.compile(r"\b(?:experiments?|empirical(?:ly)?|evaluat\w+|benchmarks?|datasets?)\b", re.I),
    "numbers": re.compile(r"\d"),
    "release": re.compile(r"\b(?:code|available|release[sd]?|github|open[- ]source)\b", re.I),
    "naming": re.compile(r"\b(?:called|named|dubbed|termed)\b", re.I),
    "enables": re.compile(r"\b(?:allow|enabl|lead|leads|yield|achiev|reduc|learn)\w*\b", re.I),
}
POSITIONS = 5  # one feature each for the first four sentences, one for the rest
FEATURES = ([f"position_{i}" for i in range(POSITIONS - 1)]
            + [f"position_{POSITIONS - 1}_on", "relative_position", "last", "log_words", "short", "long", "clipped",
               "title_overlap", "title_words", "centrality", "first_proposal", "expected_overlap", "expected_f1",
               "cut", "kept_share", "lead_dropped"]
            + [f"cue_{name}" for name in CUES])


def line_words(text: str) -> list[str]:
    """A line's words as the word rates count them: case-folded, stop words and numbers kept."""
    return [w.surface.casefold() for w in words(text, numbers=True, min_length=1)]


def word_class(in_title: bool, count: int) -> str:
    """The back-off class of a word without a rate of its own: in the title or not, and how often in the text."""
    return f"{'title' if in_title else 'text'}_{min(count, 3)}"


@dataclass(frozen=True)
class WordRates:
    """How often a word of the text is kept in its TL;DR: per word (common words), else per :func:`word_class`."""

    words: Mapping[str, float] = field(default_factory=dict)
    classes: Mapping[str, float] = field(default_factory=dict)

    def expected_overlap(self, line: str, text_counts: Counter[str], title: set[str]) -> float:
        return sum(self.words.get(w, self.classes.get(word_class(w in title, text_counts[w]), 0.0))
                   for w in set(line_words(line)))


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a clause end if one is near, else a word end;
    no dangling function word or punctuation left at the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = text[: limit + 1]
    cuts = [m.start() for m in re.finditer(r",\s|;\s|\s(?:which|that|while|where|so that|and|by|to|with)\s|\s\(", room)]
    cut = max((c for c in cuts if c >= 0.6 * limit), default=-1)
    if cut < 0:
        cut = room.rfind(" ")
    kept = text[: max(cut, 0)].rstrip(" ,;:(").split()
    while kept and (kept[-1].lower().strip(",;:") in FUNCTION_WORDS or kept[-1].lower() in VERBS):
        kept.pop()
    return " ".join(kept).rstrip(" ,;:(")


# Rewrite rules, each kept because it raised ROUGE-1 on SciTLDR train (scripts/fit_describe.py prints each
# one's effect). Tried and dropped there: "We propose X" -> "Proposes X" (-1.1), dropping every aside (+0.0).
_FRAMING = re.compile(r"^(?:in this (?:paper|work|study)|here|to this end|to address (?:this|these) \w+|"
                      r"in particular|specifically|to do so|to that end),\s+", re.I)
_ASIDE = re.compile(r"\s*\([^()]*\)")


def rewrite(sentence: str, limit: int | None = None) -> str:
    """A sentence as a description: its framing opener ("In this paper, ") dropped; when longer than ``limit``,
    its parenthesised asides too, then clipped to ``limit`` at a clause end; no final stop."""
    text = _FRAMING.sub("", sentence.strip())
    text = (text[:1].upper() + text[1:] if text else sentence.strip()).rstrip(".!? ")
    if limit is not None and len(text) > limit:
        text = clip(_ASIDE.sub("", text), limit).rstrip(" ,;:")
    return text


_CUT = re.compile(r",\s|;\s|\s(?:which|that|while|where|whereas|so that|and|by|to|with|using|via|through|on|in"
                  r"|for|from|compared)\s|\s\(")
_LEAD = re.compile(r"^[^,]{8,90},\s+(?=(?:we|our|this|it|they)\b)", re.I)
MIN_KEPT = 0.4  # a cut keeps at least this share of the sentence


def candidates(sentence: str, limit: int | None = None) -> list[tuple[str, bool, bool]]:
    """The lines a sentence may become: (line, cut short, leading clause dropped). The whole sentence rewritten
    (:func:`rewrite`) first, then, with its leading clause ("Building on X, we ...") dropped or not, the same
    cut at each clause or phrase boundary past :data:`MIN_KEPT` of it that fits ``limit``."""
    whole = rewrite(sentence, limit)
    out = [(whole, False, False)]
    base = _FRAMING.sub("", sentence.strip()).rstrip(".!? ")
    for text, lead in ((base, False), (_LEAD.sub("", base), True)):
        if lead and text == base:
            continue
        text = text[:1].upper() + text[1:]
        if lead and (limit is None or len(text) <= limit):
            out.append((text, False, True))
        for match in _CUT.finditer(text):
            if match.start() < MIN_KEPT * len(base) or (limit is not None and match.start() > limit):
                continue
            kept = text[: match.start()].rstrip(" ,;:(").split()
            while kept and (kept[-1].lower() in FUNCTION_WORDS or kept[-1].lower() in VERBS):
                kept.pop()
            line = " ".join(kept)
            if line and line != whole and all(line != c[0] for c in out):
                out.append((line, True, lead))
    return out


def features(sentences: Sequence[str], title: str, rates: WordRates, limit: int | None = None,
             ) -> tuple[list[str], list[list[float]]]:
    """Every candidate line of every sentence (:func:`candidates`) and its row of :data:`FEATURES`."""
    title_terms = set(terms(title))
    title_words = set(line_words(title))
    text_counts = Counter(w for s in sentences for w in set(line_words(s)))
    sentence_terms = [set(terms(s)) for s in sentences]
    n = len(sentences)
    first_proposal = next((i for i, s in enumerate(sentences) if CUES["proposes"].search(s)), None)
    lines, rows = [], []
    for i, (sentence, own) in enumerate(zip(sentences, sentence_terms, strict=True)):
        others = set().union(*(t for j, t in enumerate(sentence_terms) if j != i)) if n > 1 else set()
        for line, cut, lead in candidates(sentence, limit):
            length = len(line_words(line))
            expected = rates.expected_overlap(line, text_counts, title_words)
            row = [1.0 if i == p else 0.0 for p in range(POSITIONS - 1)]
            row += [1.0 if i >= POSITIONS - 1 else 0.0, i / (n - 1) if n > 1 else 0.0,
                    1.0 if i == n - 1 and n > 1 else 0.0,
                    math.log(1 + length), 1.0 if length < 10 else 0.0, 1.0 if length > 40 else 0.0,
                    1.0 if len(line) < len(sentence.strip().rstrip(".!? ")) - 20 else 0.0,
                    len(own & title_terms) / len(title_terms) if title_terms else 0.0,
                    min(len(own & title_terms), 5) / 5,
                    len(own & others) / len(own) if own else 0.0,
                    1.0 if i == first_proposal else 0.0,
                    expected, 2 * expected / (length + TLDR_WORDS),
                    1.0 if cut else 0.0, len(line) / max(len(sentence), 1), 1.0 if lead else 0.0]
            row += [1.0 if pattern.search(sentence) else 0.0 for pattern in CUES.values()]
            lines.append(line)
            rows.append(row)
    return lines, rows


@dataclass(frozen=True)
class SentenceScorer:
    """A linear scorer over :func:`features`: standardised by ``mean``/``scale``, then weighted."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    rates: WordRates

    def scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        return [sum(w * (x - m) / s for w, x, m, s in zip(self.weights, row, self.mean, self.scale, strict=True))
                for row in rows]

    def describe(self, sentences: Sequence[str], title: str, limit: int | None = None) -> str | None:
        """The best candidate line of ``sentences`` (the first on a tie), None when there is none."""
        sentences = [s for s in sentences if s.strip()]
        if not sentences:
            return None
        lines, rows = features(sentences, title, self.rates, limit)
        scores = self.scores(rows)
        return lines[max(range(len(lines)), key=lambda i: (scores[i], -i))] or None

    def to_json(self) -> str:
        return json.dumps({"features": FEATURES, "mean": [round(x, 6) for x in self.mean],
                           "scale": [round(x, 6) for x in self.scale], "weights": [round(x, 6) for x in self.weights],
                           "word_classes": {k: round(v, 4) for k, v in sorted(self.rates.classes.items())},
                           "word_rates": {k: round(v, 4) for k, v in sorted(self.rates.words.items())}},
                          separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> SentenceScorer:
        data = json.loads(text)
        if data["features"] != FEATURES:
            raise ValueError(f"{WEIGHTS_FILE} holds other features than this version's; run scripts/fit_describe.py")
        return cls(tuple(data["mean"]), tuple(data["scale"]), tuple(data["weights"]),
                   WordRates(data["word_rates"], data["word_classes"]))


@cache
def scorer() -> SentenceScorer:
    """The shipped scorer (read once from the package)."""
    return SentenceScorer.from_json(resources.files(__package__).joinpath(WEIGHTS_FILE).read_text(encoding="utf-8"))


def describe(sentences: Sequence[str], title: str, limit: int | None = None) -> str | None:
    """The one-line description (no final stop) of a text given as its sentences, at most ``limit`` characters;
    None when it has no sentence."""
    return scorer().describe(sentences, title, limit)
