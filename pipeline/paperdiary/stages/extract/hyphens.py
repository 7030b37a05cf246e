"""Words hyphenated at line ends: re-joined, unless the document spells them with a hyphen elsewhere."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise


_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_SPLIT_WORD = re.compile(r"([^\W\d_]+)[-\u2010]$")  # U+2010 HYPHEN too; a soft hyphen (U+00AD) always joins
_NEXT_WORD = re.compile(r"([^\W\d_]+)(-?)")
# A hyphen left inside a line by a line end pypdf did not see ("embeddi- ngs", "com- parable"); not a suspended
# compound's ("first- and second-order", "pre- or post-training").
_INLINE_SPLIT = re.compile(r"\b([^\W\d_]{2,})[-\u2010] ((?!(?:and|or|to|nor|vs|versus|as)\b)[^\W\d_]+)(-?)")


# Halves that make compounds in papers' prose ("self-", "multi-"; "-based", "-aware"): kept when unsure.
_COMPOUND_PREFIXES = frozenset(
    "self non multi cross semi well state end high low large small long short fine coarse half "
    "one two three four zero few many open real intra anti quasi pseudo meta".split()
)
_COMPOUND_SUFFIXES = frozenset(
    "based aware level scale wise specific free like style driven forward trained tuned tuning agnostic "
    "dependent independent oriented efficient intensive bound grained sized shot off".split()
)


@dataclass
class Vocabulary:
    """How the document spells words away from line ends: plain and hyphenated."""

    words: Counter[str] = field(default_factory=Counter)
    hyphenated: Counter[str] = field(default_factory=Counter)  # "self-attention", also pairs of longer compounds

    @classmethod
    def of(cls, texts: list[str]) -> Vocabulary:
        vocab = cls()
        previous_split = False
        for text in texts:
            tokens = _WORD.findall(_INLINE_SPLIT.sub(" ", text))  # "com- parable" is what is to be decided
            splits = bool(_SPLIT_WORD.search(text))
            # Skip the halves of a word split across lines: they are what we must decide about.
            usable = tokens[1 if previous_split else 0 : len(tokens) - (1 if splits else 0)]
            for token in usable:
                vocab.add(token.lower())
            previous_split = splits
        return vocab

    def has_stem(self, word: str) -> bool:
        """Whether some word of the document starts like ``word`` ("aligned" -> "aligning")."""
        if len(word) < 4:
            return False
        stem = word[:5]
        i = bisect_left(self._sorted_words, stem)
        return i < len(self._sorted_words) and self._sorted_words[i].startswith(stem)

    @cached_property
    def _sorted_words(self) -> list[str]:
        return sorted(self.words)

    def add(self, token: str) -> None:
        parts = token.split("-")
        self.words.update(parts if len(parts) > 1 else [token])
        for a, b in pairwise(parts):
            self.hyphenated[f"{a}-{b}"] += 1


def keep_hyphen(first: str, second: str, vocab: Vocabulary, *, compound_continues: bool = False) -> bool:
    """Whether ``first-`` at a line end and ``second`` on the next line form a hyphenated word.

    ``compound_continues``: the next line's word goes on with another hyphen
    ("English-" / "to-German"). The document's own spelling elsewhere decides
    first; then a capitalised second half ("Transformer-" / "Based") or an acronym
    keeps the hyphen; then two halves that are words of their own ("sequence-" /
    "aligned") or usual compound parts ("feed-" / "forward") keep it, while a half
    that is no word ("repre-" / "sentation") joins.
    """
    if compound_continues:
        return True
    a, b = first.lower(), second.lower()
    hyphenated, joined = vocab.hyphenated[f"{a}-{b}"], vocab.words[a + b]
    if hyphenated or joined:
        return hyphenated >= joined
    if second[:1].isupper() or len(first) == 1 or any(c.isupper() for c in first[1:]):  # "k-means", "IO-aware"
        return True
    if len(a) >= 3 and b in _COMPOUND_SUFFIXES:
        return True
    first_is_word = (len(a) >= 3 and vocab.words[a] > 0) or a in _COMPOUND_PREFIXES
    return first_is_word and ((len(b) >= 3 and vocab.words[b] > 0) or vocab.has_stem(b))


def join_inline_splits(text: str, vocab: Vocabulary) -> str:
    """``text`` with the words split by a hyphen and a space ("com- parable") re-joined or hyphenated."""
    if "- " not in text and "\u2010 " not in text:
        return text

    def mend(match: re.Match[str]) -> str:
        first, second, more = match.groups()
        if not second[:1].islower():
            return match.group()
        joiner = "-" if keep_hyphen(first, second, vocab, compound_continues=bool(more)) else ""
        return f"{first}{joiner}{second}{more}"

    return _INLINE_SPLIT.sub(mend, text)


def join_lines(texts: list[str], vocab: Vocabulary) -> str:
    """Join the wrapped lines of a paragraph, re-joining words hyphenated at line ends (also those pypdf
    left inside a line)."""
    if not texts:
        return ""
    pieces = [texts[0]]
    for text in texts[1:]:
        previous = pieces[-1]
        if previous.endswith("\u00ad"):
            pieces[-1] = previous[:-1]
        elif (split := _SPLIT_WORD.search(previous)) and (word := _NEXT_WORD.match(text)):
            if not keep_hyphen(split.group(1), word.group(1), vocab, compound_continues=bool(word.group(2))):
                pieces[-1] = previous[:-1]
        elif not previous.endswith(("-", "\u2010", "—", "–", "/")):
            pieces.append(" ")
        pieces.append(text)
    return join_inline_splits("".join(pieces), vocab)
