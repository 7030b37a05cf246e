"""Token-budgeted chunks of a paper, cut along section and paragraph boundaries.

A drafter that calls an LLM sends a paper in chunks no larger than a token budget.
The body that fits is sent whole, as one chunk; otherwise whole sections are packed
together up to the budget, and only a section that is larger than the budget on
its own is cut: at paragraphs, then sentences, and as a last resort inside a
sentence. Every chunk keeps the section headings as markdown lines ("## 3 Method")
so the model sees the paper's structure.

Tokens are counted as the LLM stage counts them (:mod:`paperdiary.llm.tokens`); sentences
and paragraphs are split as everywhere else (:mod:`paperdiary.text`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from paperdiary.errors import UsageError
from paperdiary.llm.tokens import count_tokens
from paperdiary.models import Chunk, ExtractedPaper, Section
from paperdiary.settings import MIN_CHUNK_TOKENS
from paperdiary.text import sentence_spans, split_paragraphs, trim_span

# MIN_CHUNK_TOKENS (settings.py owns it and checks chunk_tokens against it): below it a heading
# plus a few words no longer fit, and the cuts stop making sense to a reader or a model; any
# single character (at most 4 byte-level tokens) always fits, which the last-resort cut relies on.

_SEP = "\n\n"  # between paragraphs and sections, in the paper and in chunks
_SEP_TOKENS = 1  # what _SEP adds when joined between two pieces ("\n\n" is one token)
_MAX_CHARS_PER_TOKEN = 16  # English averages ~4; generous, so the window rarely binds

T = TypeVar("T")


# ------------------------------------------------------------------------- chunking


def chunk_paper(paper: ExtractedPaper, budget: int, *, include_back_matter: bool = False) -> list[Chunk]:
    """Cut the paper into chunks of at most ``budget`` tokens, in reading order.

    Only the body is chunked (no references or appendices) unless
    ``include_back_matter``. A paper with no text gives no chunks.
    """
    if budget < MIN_CHUNK_TOKENS:
        raise UsageError(
            f"a chunk budget of {budget} tokens is too small.",
            hint=f"Set chunk_tokens to at least {MIN_CHUNK_TOKENS}.",
        )
    sections = paper.sections if include_back_matter else paper.body_sections
    sections = [s for s in sections if s.text.strip() or _heading(s)]
    whole = _SEP.join(_render_section(s) for s in sections)
    if not whole.strip():
        return []
    tokens = count_tokens(whole)
    if tokens <= budget:
        return [Chunk(0, _titles(sections), whole, tokens)]

    blocks = [block for s in sections for block in _section_blocks(s, budget)]
    chunks: list[Chunk] = []
    for group, text, tokens in _pack(blocks, budget, lambda b: b.tokens, lambda g: _SEP.join(b.text for b in g)):
        titles = _dedupe_consecutive([t for block in group for t in block.titles])
        chunks.append(Chunk(len(chunks), titles, text, tokens))
    return chunks


class _Block:
    """Text that stays in one chunk: a whole section, or one part of a long one."""

    __slots__ = ("text", "titles", "tokens")

    def __init__(self, text: str, titles: list[str], tokens: int):
        self.text, self.titles, self.tokens = text, titles, tokens


def _heading(section: Section) -> str:
    """The section's heading as a markdown line ("## 3 Method"), or "" if untitled."""
    title = " ".join(section.title.split())
    if not title:
        return ""
    return "#" * min(max(section.level, 1) + 1, 6) + " " + title


def _render_section(section: Section) -> str:
    return _SEP.join(filter(None, [_heading(section), *split_paragraphs(section.text)]))


def _titles(sections: Sequence[Section]) -> list[str]:
    return _dedupe_consecutive([" ".join(s.title.split()) for s in sections if s.title.strip()])


def _dedupe_consecutive(items: list[str]) -> list[str]:
    return [item for i, item in enumerate(items) if i == 0 or item != items[i - 1]]


def _section_blocks(section: Section, budget: int) -> list[_Block]:
    """The section as one block if it fits, else as parts that each fit.

    Every part repeats the heading so a model reading one chunk knows where it is,
    unless the heading is so long that it would crowd out the text.
    """
    titles = _titles([section])
    text = _render_section(section)
    tokens = count_tokens(text)
    if tokens <= budget:
        return [_Block(text, titles, tokens)]

    heading = _heading(section)
    room = budget - (count_tokens(heading) + _SEP_TOKENS if heading else 0)
    if room < budget // 2:
        heading, room = "", budget
    pieces = [p for para in split_paragraphs(section.text) for p in _split_paragraph(para, room)]
    render = (lambda g: _SEP.join([heading, *g])) if heading else _SEP.join
    blocks = []
    for group, part, part_tokens in _pack(pieces, budget, count_tokens, render, overhead=budget - room):
        if part_tokens > budget:  # one piece whose tokens merged with the heading's: drop the heading
            part = group[0]
            part_tokens = count_tokens(part)
        blocks.append(_Block(part, titles, part_tokens))
    return blocks


def _split_paragraph(paragraph: str, budget: int) -> list[str]:
    """The paragraph whole if it fits, else runs of its sentences that each fit."""
    if count_tokens(paragraph) <= budget:
        return [paragraph]
    spans = [piece for span in sentence_spans(paragraph) for piece in _split_sentence(paragraph, span, budget)]

    def cut(group: list[tuple[int, int]]) -> str:  # original text, so line breaks survive
        return paragraph[group[0][0] : group[-1][1]]

    return [text for _, text, _ in _pack(spans, budget, lambda s: count_tokens(paragraph[s[0] : s[1]]), cut)]


def _split_sentence(text: str, span: tuple[int, int], budget: int) -> list[tuple[int, int]]:
    """Last resort: cut a sentence longer than the budget, at spaces where possible."""
    start, end = span
    pieces = []
    while start < end:
        cut = _longest_fitting_prefix(text, start, end, budget)
        space = max(text.rfind(" ", start, cut + 1), text.rfind("\n", start, cut + 1))
        if cut < end and space > start + (cut - start) // 2:  # a space not too far back: cut there
            cut = space
        pieces.append(trim_span(text, start, cut))
        start = trim_span(text, cut, end)[0]
    return [p for p in pieces if p[0] < p[1]]


def _longest_fitting_prefix(text: str, start: int, end: int, budget: int) -> int:
    """A large ``cut`` with ``text[start:cut]`` within budget (at least one character).

    Binary search over a window of ``_MAX_CHARS_PER_TOKEN * budget`` characters, so a
    huge run-on "sentence" (a table flattened by the PDF extractor) costs time in
    proportion to its length, not its square; a window too short only makes the
    piece smaller.
    """
    lo, hi = start + 1, min(end, start + budget * _MAX_CHARS_PER_TOKEN)
    while lo < hi:  # invariant: text[start:lo] fits (one character always does)
        mid = (lo + hi + 1) // 2
        if count_tokens(text[start:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _pack(
    units: Sequence[T],
    budget: int,
    tokens_of: Callable[[T], int],
    render: Callable[[list[T]], str],
    *,
    overhead: int = 0,
) -> list[tuple[list[T], str, int]]:
    """Greedily group consecutive units so each rendered group has at most ``budget`` tokens.

    Each unit must fit on its own. Sizes are first estimated by adding the units'
    counts (plus ``overhead`` for a heading and one token per separator); BPE can merge
    tokens across a join, so every group is then counted for real and, in the rare
    case the estimate was low, gives its last units back to the next group.
    Returns (units, rendered text, exact token count) per group.
    """
    sizes = [tokens_of(u) for u in units]
    groups = []
    start = 0
    while start < len(units):
        end, used = start + 1, overhead + sizes[start]
        while end < len(units) and used + _SEP_TOKENS + sizes[end] <= budget:
            used += _SEP_TOKENS + sizes[end]
            end += 1
        group = list(units[start:end])
        text = render(group)
        tokens = count_tokens(text)
        while tokens > budget and len(group) > 1:
            group.pop()
            text = render(group)
            tokens = count_tokens(text)
        groups.append((group, text, tokens))
        start += len(group)
    return groups
