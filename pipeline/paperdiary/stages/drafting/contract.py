"""The Draft contract: what every drafter hands the entry stage, and the limits it is held to.

A drafter (:class:`Drafter`: the offline extractive one, or the LLM one) turns a
paper into a :class:`Draft`, then runs it through :func:`conform_draft`, which
cleans every text onto one line, trims each list to its limit and makes the
short name a safe file-name stem. It trims but never fills: a paper that
supports fewer items than a list's minimum leaves the list short, and the entry
template shows a placeholder instead.

All text in a draft came from a paper or a model and is untrusted: it is reduced
to plain, single-spaced text without control characters here; the entry
template escapes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from paperdiary.models import Chunk, ExtractedPaper, LLMUsage, PaperMeta
from paperdiary.text import ONE_LINE_MAX_CHARS, TITLE_SMALL_WORDS, clean_text, one_line, to_ascii

OFFLINE_DRAFTER = "offline"
DESCRIPTION_MAX_CHARS = ONE_LINE_MAX_CHARS
SHORT_NAME_MAX_CHARS = 40
# A bullet or lesson is a sentence or two; a quote, a passage. Longer ones (a runaway model) are cut, so an
# entry stays a page whatever the answer held: a claim at a clause or word end ("…"), a quote plainly (a
# verbatim prefix is still verbatim), a theme to a heading's length.
CLAIM_MAX_CHARS = 600
QUOTE_MAX_CHARS = 1000
THEME_MAX_CHARS = 80
SHORT_NAME_FALLBACK = "Paper"
# (fewest wanted, most allowed) items per list of a Draft.
LIST_LIMITS = {
    "key_points": (3, 5),
    "key_methods": (2, 4),
    "results": (2, 4),
    "limitations": (0, 3),
    "lessons": (1, 3),
}

_SHORT_NAME_OK = re.compile(rf"[A-Za-z0-9]{{1,{SHORT_NAME_MAX_CHARS}}}")


@dataclass
class Lesson:
    """A candidate one-sentence lesson for the README."""

    text: str  # one sentence, key phrase in **bold**
    theme: str | None = None
    why: str | None = None
    quote: str | None = None
    verified: bool = True


@dataclass
class Claim:
    """A bullet of the entry, with the verbatim quote that supports it when known."""

    text: str
    quote: str | None = None
    verified: bool = True


@dataclass
class Draft:
    """What a drafter produces; rendered into an entry by the entry template."""

    short_name: str  # CamelCase, used in the file name
    description: str  # one line, for the diary's chronological index
    key_points: list[Claim]
    key_methods: list[Claim]
    results: list[Claim]
    limitations: list[Claim]
    lessons: list[Lesson]
    drafter: str  # OFFLINE_DRAFTER or llm_drafter(model)
    notes: dict[str, str] = field(default_factory=dict)  # e.g. path taken, coverage
    usage: LLMUsage = field(default_factory=LLMUsage)

    def unverified(self) -> tuple[int, int]:
        """(claims whose quote was not found in the paper, all claims): the bullets and the lessons."""
        claims: list[Claim | Lesson] = [*self.key_points, *self.key_methods, *self.results, *self.limitations, *self.lessons]
        return sum(not claim.verified for claim in claims), len(claims)


class Drafter(Protocol):
    """Turns one paper into a conformed Draft. ``chunks`` are the chunk stage's cut of the body."""

    def draft(self, meta: PaperMeta, paper: ExtractedPaper, chunks: list[Chunk]) -> Draft: ...


def llm_drafter(model: str | None) -> str:
    """``Draft.drafter`` of a draft written by ``model``."""
    return f"llm:{model}"


# --------------------------------------------------------------------------- short names


def short_name(title: str) -> str:
    """CamelCase file-name stem for a paper: ASCII letters and digits, 1-40 chars.

    "Attention Is All You Need" -> "AttentionIsAllYouNeed"; a short name before a
    colon wins ("FlashAttention: Fast and ..." -> "FlashAttention"). Accents are
    transliterated, everything else non-alphanumeric dropped; never empty.
    """
    ascii_title = to_ascii(title)
    shouting = not any(c.islower() for c in ascii_title)  # "ATTENTION IS ALL YOU NEED"
    words = _words(title_name(ascii_title) or ascii_title)
    words = [w.capitalize() if shouting else w[0].upper() + w[1:] for w in words]
    return _fit_words(words, SHORT_NAME_MAX_CHARS) or SHORT_NAME_FALLBACK


def title_name(title: str) -> str | None:
    """The name a title opens with before a colon ("FlashAttention: Fast and ..." -> "FlashAttention"), if any.

    A head counts as a name when it is one to three words with a letter, and words follow the colon.
    """
    head, colon, tail = title.partition(":")
    if colon and 1 <= len(head.split()) <= 3 and any(c.isalpha() for c in head) and _words(tail):
        return head.strip()
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+", text)


def _fit_words(words: list[str], limit: int) -> str:
    """Join words, dropping small words and then trailing words until it fits."""
    if len("".join(words)) > limit:
        words = words[:1] + [w for w in words[1:] if w.lower() not in TITLE_SMALL_WORDS]
    name = ""
    for word in words:
        if len(name) + len(word) > limit:
            break
        name += word
    return name or "".join(words)[:limit]


# --------------------------------------------------------------------------- conforming


_Said = TypeVar("_Said", "Claim", "Lesson")


def conform_draft(draft: Draft, limits: Mapping[str, tuple[int, int]] = LIST_LIMITS) -> Draft:
    """``draft`` held to the contract: clean one-line texts, list limits, a valid short name.

    Every drafter runs its output through this; it trims but never fills, so lists
    may stay below their minimum when a paper does not support more. A text said
    twice in one list (a small model looping) is kept once.
    """
    def once(items: list[_Said]) -> list[_Said]:
        seen: set[str] = set()
        kept = []
        for item in items:
            key = " ".join(item.text.lower().split())
            if item.text and key not in seen:
                seen.add(key)
                kept.append(item)
        return kept

    def claims(field: str) -> list[Claim]:
        items = [replace(c, text=one_line(c.text, CLAIM_MAX_CHARS), quote=_clean_optional(c.quote))
                 for c in getattr(draft, field)]
        return once(items)[: limits[field][1]]

    lessons = [
        replace(x, text=one_line(x.text, CLAIM_MAX_CHARS), why=_clean_optional(x.why, CLAIM_MAX_CHARS),
                quote=_clean_optional(x.quote), theme=_clean_optional(x.theme, THEME_MAX_CHARS))
        for x in draft.lessons
    ]
    name = draft.short_name if _SHORT_NAME_OK.fullmatch(draft.short_name) else short_name(draft.short_name)
    return replace(
        draft,
        short_name=name,
        description=one_line(draft.description, DESCRIPTION_MAX_CHARS),
        key_points=claims("key_points"),
        key_methods=claims("key_methods"),
        results=claims("results"),
        limitations=claims("limitations"),
        lessons=once(lessons)[: limits["lessons"][1]],
        notes={str(k): clean_text(str(v)) for k, v in draft.notes.items()},
    )


def _clean_optional(text: str | None, limit: int = QUOTE_MAX_CHARS) -> str | None:
    """Clean text of at most ``limit`` characters (cut plainly), with None for missing or blank."""
    return (clean_text(text)[:limit].rstrip() or None) if text else None
