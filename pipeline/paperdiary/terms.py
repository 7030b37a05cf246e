"""Words and index terms: the one tokenizer and stemmer behind search, placement, drafting, themes and names.

A *word* is a run of letters and digits (apostrophes inside it kept: "don't",
"model's"), found in the text as written so that callers can point back into it
(search's highlights); ligatures and other compatibility forms are read through
NFKC ("ﬁne-tuning" is "fine-tuning"). A *term* is a word as an index keeps it:
case-folded, a possessive or contraction dropped, lightly stemmed
(:func:`stem`), and left out when it is a stop word (:data:`paperdiary.text.STOP_WORDS`),
a bare number or a single character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from paperdiary.text import STOP_WORDS

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_HYPHENATED_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*(?:-[^\W_]+(?:['’][^\W_]+)*)*")
_COMPATIBLE = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True)
class Word:
    """A word of a text: where it is, as written, and the term it indexes as ("" when none)."""

    start: int
    end: int
    surface: str  # as written, NFKC-normalised
    term: str


def fold(word: str) -> str:
    """A word case-folded and NFKC-normalised, without a possessive "'s" or a contraction ("We're" -> "we")."""
    if _COMPATIBLE.search(word):
        word = unicodedata.normalize("NFKC", word)
    word = word.casefold().replace("’", "'")
    if "'" in word:
        word = word.removesuffix("'s").split("'", 1)[0]
    return word


def stem(word: str) -> str:
    """Light suffix stripping so "policies"/"policy" and "training"/"trained"/"trains" meet.

    Deliberately small (plurals, -ing/-ed, -ation, a final -e): it must be
    predictable, and a missed match costs less than two words wrongly merged.
    Words of three letters or fewer, and words with digits or hyphens, are kept as they are.
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


def term(word: str, *, numbers: bool = False, min_length: int = 2) -> str:
    """The index term of one word, or "" for a stop word, a bare number (unless ``numbers``) or a short word."""
    folded = fold(word)
    if folded in STOP_WORDS or len(folded) < min_length or (folded.isdigit() and not numbers):
        return ""
    return stem(folded)


def words(text: str, *, hyphenated: bool = False, numbers: bool = False, min_length: int = 2) -> Iterator[Word]:
    """Every word of ``text`` in order, with its term ("" for words no index keeps).

    ``hyphenated``: "pre-training" is one word (and one term), as keyword and
    name matching want; otherwise its parts are two.
    """
    for match in (_HYPHENATED_WORD if hyphenated else _WORD).finditer(text):
        surface = match[0]
        if _COMPATIBLE.search(surface):
            surface = unicodedata.normalize("NFKC", surface)
        yield Word(match.start(), match.end(), surface, term(surface, numbers=numbers, min_length=min_length))


def terms(text: str, *, hyphenated: bool = False, numbers: bool = False, min_length: int = 2) -> list[str]:
    """The index terms of ``text``, in order: words case-folded, stemmed, without stop words (see :func:`words`)."""
    return [w.term for w in words(text, hyphenated=hyphenated, numbers=numbers, min_length=min_length) if w.term]


def normalised(text: str) -> str:
    """``text``'s words, case-folded and single-spaced: two texts equal here say the same words."""
    return " ".join(w.casefold() for w in _WORD.findall(unicodedata.normalize("NFKC", text)))
