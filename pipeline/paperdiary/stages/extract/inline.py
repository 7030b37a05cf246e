"""A line's text read off its pieces' geometry: sub- and superscripts, stacked fractions, footnote marks.

pypdf gives a line as pieces of text with the size and origin each is set at,
but joins them as if they sat on one baseline: ``1/√d_k`` comes out ``1√dk``,
``QK^T`` as ``QKT``, and a footnote mark ``GPT-3,¹`` as ``GPT-3,1``. Here the
pieces are read as a reader reads them:

* a piece set smaller than the one before it, lowered, is a subscript
  (``d_k``, ``d_model``, ``x_{i+1}``); raised, a superscript (``QK^T``, ``10^6``);
* a raised group followed by a lowered one that starts back to its left is a
  fraction stacked over a rule (``1/√d_k``, ``(a+b)/2``);
* a raised mark (digits, ``*``, ``†``...) after a word or punctuation is a
  footnote mark, not an exponent, and goes; so does the mark that opens a
  footnote's own line.

Pieces whose origin pypdf does not report are read as they come.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from paperdiary.stages.extract.layout import Line, same_size

_SCRIPT = 0.85  # a script is set at most this fraction of the size of what it follows
_SUPERSCRIPT_RISE = 0.2  # raised by at least this fraction of the base size
_SUBSCRIPT_DROP = 0.08  # lowered by at least this fraction
_BACK = 0.5  # points: a piece starting this far left of where the one before it ends is stacked under it
_NUMERATOR_RISE, _DENOMINATOR_DROP = 0.25, 0.3  # fractions of the type size, off the baseline
_MARKS = re.compile(r"[\d,*∗†‡§¶⋆♯]+")
# What an exponent is raised from: a number ("10", "·10"), a one-letter variable, a bracket closing a short formula.
_NAMED_PART = re.compile(r"\b(?:Appendix|Section|Sec\.|Table|Figure|Fig\.|Part|Type|Phase|Stage)\s+[A-Z]$")
_EXPONENT_BASE = re.compile(r"\W?(?:\d+(?:\.\d+)?|[A-Za-z]|[^\s()]{0,8}\)|[^\s\[\]]{0,8}\])")


@dataclass
class _Piece:
    text: str
    size: float
    x: float | None
    y: float | None


def compose(line: Line) -> str:
    """The text of ``line`` with its scripts, fractions and footnote marks read from the spans' geometry."""
    spans, origins = line.spans, line.origins
    plain = "".join(text for text, _ in spans) if spans else line.text
    if len(spans) < 2 or len(origins) != len(spans) or line.size <= 0:
        return plain
    # pypdf reports empty pieces at meaningless places, and a piece of spaces is only a gap.
    pieces = [_Piece(text, size, *(origin if origin and text.strip() else (None, None)))
              for (text, size), origin in zip(spans, origins, strict=True) if text]
    if _one_size(pieces, line.size):
        return plain  # one size throughout: nothing is set as a script
    if _opening_mark(pieces):
        pieces = pieces[1:]  # a footnote's own number: "⁴To illustrate..."
        if _one_size(pieces, line.size):
            return "".join(p.text for p in pieces).lstrip()
    base_y = next((p.y for p in pieces if p.y is not None and same_size(p.size, line.size) and p.text.strip()), None)
    if base_y is None:
        return plain
    return _Reader(line.size, base_y).read(pieces)


def _one_size(pieces: list[_Piece], size: float) -> bool:
    """Whether every placed piece is set in ``size``: nothing on the line is a script."""
    return all(p.y is None or same_size(p.size, size) for p in pieces)


def _opening_mark(pieces: list[_Piece]) -> bool:
    """Whether the line opens with a raised mark (a digit, ∗, †...) set smaller than the text after it."""
    first, after = pieces[0], next((p for p in pieces[1:] if p.y is not None), None)
    if after is None or after.y is None or first.y is None:
        return False
    return (bool(_MARKS.fullmatch(first.text.strip())) and first.size < _SCRIPT * after.size
            and first.y - after.y > _SUPERSCRIPT_RISE * after.size)


class _Reader:
    def __init__(self, size: float, base_y: float):
        self.size = size
        self.base_y = base_y

    def read(self, pieces: list[_Piece]) -> str:
        out: list[str] = []
        segment = 0  # where the pieces not yet written start
        i = 0
        while i < len(pieces):
            fraction = self._fraction_at(pieces, i)
            if fraction is None:
                i += 1
                continue
            start, middle, end = fraction
            out.append(_scripts(pieces[segment:start], out))
            numerator = _scripts(pieces[start:middle], [])
            denominator = _scripts(pieces[middle:end], [])
            lead = " " if numerator[:1].isspace() or (out and out[-1][-1:].isspace()) else ""
            _trim(out)
            out.append(f"{lead}{_grouped(numerator)}/{_grouped(denominator)}")
            i = segment = end
        out.append(_scripts(pieces[segment:], out))
        return _tidy_after_scripts("".join(out))

    def _fraction_at(self, pieces: list[_Piece], i: int) -> tuple[int, int, int] | None:
        """(numerator start, denominator start, end) of a fraction whose numerator starts at ``i``.

        A numerator is raised by a quarter of the type size or more; its denominator
        starts back to the left of where the numerator's last piece starts, lower down,
        and goes below the baseline. A sub- and superscript stacked on one variable
        (``x_i^2``) start at the same place.
        """
        first = pieces[i]
        if first.y is None or first.x is None or first.y - self.base_y < _NUMERATOR_RISE * self.size:
            return None
        if not any(c.isalnum() for c in first.text):
            return None  # a tall delimiter or operator (⌈, ∑, √) whose glyph sits high, not a numerator
        j = i + 1
        while j < len(pieces) and self._still_above(pieces[j], pieces[i:j]):
            if pieces[j].y is None and pieces[j].text.strip():
                return None
            j += 1
        if j >= len(pieces):
            return None
        below = pieces[j]
        assert below.x is not None and below.y is not None
        if below.x >= _last_x(pieces[i:j]) - _BACK or below.y > first.y - 0.2 * self.size:
            return None  # not stacked under the numerator
        k = j + 1
        while k < len(pieces) and not self._back_on_the_line(pieces[k]):
            k += 1
        if not any(p.y is not None and p.y - self.base_y < -_DENOMINATOR_DROP * self.size for p in pieces[j:k]):
            return None
        return i, j, k

    def _still_above(self, piece: _Piece, numerator: list[_Piece]) -> bool:
        """Whether ``piece`` goes on the numerator: to the right of it and raised (or placed nowhere)."""
        if piece.y is None or piece.x is None:
            return True
        return piece.x >= _last_x(numerator) - _BACK and piece.y - self.base_y > 0.1 * self.size

    def _back_on_the_line(self, piece: _Piece) -> bool:
        """Text set in the line's own type on its baseline again: the fraction is over."""
        if piece.y is None:
            return bool(piece.text.strip())
        return piece.size >= 0.95 * self.size and abs(piece.y - self.base_y) < 0.15 * self.size


def _last_x(pieces: list[_Piece]) -> float:
    return max((p.x for p in pieces if p.x is not None), default=0.0)


def _right_edge(pieces: list[_Piece]) -> float:
    """Roughly where a run of pieces ends: the last origin plus half an em per character."""
    last = pieces[-1]
    return (last.x or 0.0) + 0.5 * last.size * len(last.text.strip())


@dataclass
class _Level:
    """A script being written: its mark, the size and baseline it is set at, its text so far."""

    kind: str
    size: float
    y: float
    text: str = ""

    def holds(self, piece: _Piece) -> bool:
        return piece.y is not None and abs(self.size - piece.size) < 0.3 and abs(self.y - piece.y) < 0.3


def _scripts(pieces: list[_Piece], before: list[str]) -> str:
    """Pieces on one level, with the sub- and superscripts among them marked ``_x`` and ``^x``
    (``R^{B_r×B_c}``: a script's own scripts nest inside it).

    ``before``: what is written before them on the line (a footnote mark is told by what it follows).
    """
    out: list[str] = []
    base: _Piece | None = None
    levels: list[_Level] = []
    dropping: _Level | None = None  # a footnote mark going, which may come in more than one piece

    def close(depth: int) -> None:
        """Write out the scripts deeper than ``depth`` (0: all of them)."""
        while len(levels) > depth:
            level = levels.pop()
            written = level.kind + _braced(level.text) if level.text else ""
            if levels:
                levels[-1].text += written
            else:
                out.append(written)

    for piece in pieces:
        text = piece.text.strip()
        if dropping is not None and dropping.holds(piece):
            continue
        dropping = None
        depth = next((d for d in range(len(levels), 0, -1) if levels[d - 1].holds(piece)), 0)
        if depth:
            close(depth)
            levels[-1].text += text
            continue
        reference = _Piece("", levels[-1].size, None, levels[-1].y) if levels else base
        kind = _script_kind(piece, reference)
        if kind is None and levels:
            close(0)
            kind = _script_kind(piece, base)
        if kind is None:
            close(0)
            if piece.y is not None and text:
                base = piece
            out.append(piece.text)
            continue
        if not levels and kind == "^" and _MARKS.fullmatch(text) and _is_footnote_mark(
                base, "".join(before) + "".join(out), text):
            _trim(out)
            dropping = _Level(kind, piece.size, piece.y or 0.0)
            continue
        if not levels:
            if out:
                _trim(out)
            else:
                _trim(before)
        levels.append(_Level(kind, piece.size, piece.y or 0.0, text))
    close(0)
    return "".join(out)


def _script_kind(piece: _Piece, base: _Piece | None) -> str | None:
    """"^" when ``piece`` is set smaller than ``base`` and raised off its baseline, "_" lowered, else None."""
    if base is None or piece.y is None or base.y is None or not piece.text.strip():
        return None
    if piece.size >= _SCRIPT * base.size:
        return None
    rise = piece.y - base.y
    if rise > _SUPERSCRIPT_RISE * base.size:
        return "^"
    if rise < -_SUBSCRIPT_DROP * base.size:
        return "_"
    return None


def _is_footnote_mark(base: _Piece | None, preceding: str, mark: str) -> bool:
    """A raised mark after a word or punctuation is a footnote's; after a number or a variable an exponent.

    ``base``: the piece the mark is raised from; ``preceding``: the line so far.
    """
    if base is None or not preceding.strip():
        return True  # the mark opening a footnote's own line
    text = base.text.strip()
    if any("\U0001d400" <= c <= "\U0001d7ff" for c in text):
        return False  # math italic letters (𝑁, 𝑑): an exponent
    token = unicodedata.normalize("NFKC", text).split()[-1] if text.split() else ""
    if mark[0] in "*∗†‡§¶⋆♯":
        return not re.fullmatch(r"[A-Za-z]", token)
    if _NAMED_PART.search(unicodedata.normalize("NFKC", preceding)):
        return True  # "Appendix B¹": a footnote on a part's letter
    return not _EXPONENT_BASE.fullmatch(token)


def _braced(text: str) -> str:
    """``model`` stays, ``i+1`` becomes ``{i+1}``: a script of more than letters and digits is braced."""
    return text if re.fullmatch(r"[\w′']+", text) else f"{{{text}}}"


def _grouped(text: str) -> str:
    """A numerator or denominator in parentheses when it is more than one term."""
    text = text.strip()
    return f"({text})" if re.search(r"\s|[+\-−·]", text) and not re.fullmatch(r"\(.*\)", text) else text


def _trim(out: list[str]) -> None:
    """Drop the white space at the end of what is written (a script sits right against its base)."""
    while out and not out[-1].strip():
        out.pop()
    if out:
        out[-1] = out[-1].rstrip()


def _tidy_after_scripts(text: str) -> str:
    """No space between a script or a fraction and the punctuation after it ("d_k ." -> "d_k.")."""
    return re.sub(r"(?<=[\w)}√])\s+(?=[.,;:)](?:\s|$))", "", text)
