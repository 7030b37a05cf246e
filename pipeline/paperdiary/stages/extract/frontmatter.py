"""The title and authors read off page 1's geometry: the largest upright font before the abstract, then names.

The title goes on over the lines that follow it in its own type (a title on two
lines) or in a slightly smaller one (a subtitle), set close below it; it never
takes an author line, whatever its type size: a line of names, names with
superscript marks (affiliations, footnotes) or e-mail addresses, or a line set
further below than the title's own line spacing.
"""

from __future__ import annotations

import re

from paperdiary.stages.extract.clean import BANNER, STAMP, normalize_line
from paperdiary.stages.extract.hyphens import Vocabulary, join_lines
from paperdiary.stages.extract.layout import Line, letters
from paperdiary.stages.extract.sections import ABSTRACT, NUMBERED, titleish


_AFFILIATION = re.compile(
    r"\b(?:universit\w*|institut\w*|college|school|department|dept|laborator\w*|labs?|research|centre|center|"
    r"inc|corp\w*|ltd|gmbh|google|deepmind|microsoft|meta|facebook|openai|amazon|apple|nvidia|ibm|brain|ai|"
    r"academy|faculty|hospital|foundation|company)\b",
    re.IGNORECASE,
)
_NAME_PARTICLES = frozenset("van von der den de del della di da du dos la le bin al ibn y".split())


def looks_like_name(name: str) -> bool:
    tokens = name.split()
    if not 2 <= len(tokens) <= 5:
        return False
    for token in tokens:
        if token.lower() in _NAME_PARTICLES:
            continue
        if not re.fullmatch(r"[^\W\d_][^\W\d_'’.\-]*\.?|[^\W\d_]\.(?:-?[^\W\d_]\.)*", token) or not token[0].isupper():
            return False
    return not _AFFILIATION.search(name)


_LINE_GAP = 1.5  # the largest baseline distance between two lines of one title, in units of the upper one's size
_SUBTITLE = 0.8  # a subtitle's type is at least this fraction of the title's
_MARKS = re.compile(r"[\d*∗†‡§¶♯♭⋆,a-e]+")  # what superscripts after a name say: affiliations, footnotes


def _title_lines(lines: list[Line]) -> tuple[list[Line], int]:
    """The title's lines on page 1: the largest upright font before the abstract, not a banner or the stamp.

    Returns them and the index of the line after them.
    """
    abstract = next((i for i, line in enumerate(lines) if ABSTRACT.match(line.text)), len(lines))
    candidates = [
        (i, line)
        for i, line in enumerate(lines[:abstract])
        if line.upright and letters(line.text) >= 3 and not BANNER.match(line.text) and not STAMP.search(line.text)
    ]
    if not candidates:
        return [], 0
    largest = max(line.size for _, line in candidates)
    start = next(i for i, line in candidates if line.size >= largest - 0.5)
    run = [lines[start]]
    end = start + 1
    while end < abstract and _continues_title(run, lines[end], largest):
        run.append(lines[end])
        end += 1
    return run, end


def _continues_title(run: list[Line], line: Line, largest: float) -> bool:
    """Whether ``line`` carries on the title ``run``: same type or a subtitle's, close below, not an author line."""
    previous = run[-1]
    if not line.upright or letters(line.text) < 3 or line.bold != previous.bold or is_author_line(line):
        return False
    same_type = abs(line.size - previous.size) <= 0.5
    subtitle = previous.size >= largest - 0.5 and _SUBTITLE * largest <= line.size < previous.size
    if not (same_type or subtitle):
        return False
    if previous.y is not None and line.y is not None and line.page == previous.page:
        step = previous.y - line.y
        return 0 < step <= _LINE_GAP * previous.size
    return True


def is_author_line(line: Line) -> bool:
    """A line of the author block: e-mail addresses, names marked with superscripts, or a list of names."""
    if "@" in line.text:
        return True
    marks = [text for text, size in line.spans if size < _SUBTITLE * line.size and _MARKS.fullmatch(text.strip())]
    unmarked = _drop_marks(line)
    names = _author_names(unmarked)
    if marks and (names or len(marks) >= 2):
        return True  # "Tri Dao†, Daniel Y. Fu†" / "Bo Peng¹ Eric Alcaide² Quentin Anthony³"
    return len(names) >= 2 or (bool(names) and bool(re.search(r",\s*$|\band\s*$", unmarked)))


def title_and_authors(lines: list[Line], vocab: Vocabulary) -> tuple[str | None, list[str]]:
    """Title and author names read off page 1's geometry (its lines before furniture removal)."""
    title_lines, end = _title_lines(lines)
    if not title_lines:
        return None, []
    main = [line for line in title_lines if line.size >= title_lines[0].size - 0.5]
    title = join_lines([normalize_line(_drop_marks(line)) for line in main], vocab)
    subtitle = title_lines[len(main) :]
    if subtitle:
        title += " — " + join_lines([normalize_line(_drop_marks(line)) for line in subtitle], vocab)
    authors: list[str] = []
    for line in lines[end : end + 25]:
        numbered = NUMBERED.match(line.text)
        if ABSTRACT.match(line.text) or (numbered and titleish(numbered.group(2))):
            break
        authors.extend(_names_on(line))
    return title.strip(" .") or None, list(dict.fromkeys(authors))


def _names_on(line: Line) -> list[str]:
    """The names on an author line; names set apart only by their superscript marks are split at those."""
    names = _author_names(_drop_marks(line))
    if names or not any(size < _SUBTITLE * line.size for _, size in line.spans):
        return names
    pieces: list[str] = []
    current: list[str] = []
    for text, size in line.spans:
        if size < _SUBTITLE * line.size:
            pieces.append("".join(current))
            current = []
        else:
            current.append(text)
    pieces.append("".join(current))
    found = [_author_names(piece) for piece in pieces if piece.strip()]
    return [name for names in found for name in names] if found and all(found) else []


def _drop_marks(line: Line) -> str:
    """The line without superscripts (footnote and affiliation marks are set in a smaller font)."""
    return "".join(text for text, size in line.spans if size >= _SUBTITLE * line.size) or line.text


def _author_names(text: str) -> list[str]:
    """The names on an author line, or [] when it is not one (affiliation, e-mail, date...)."""
    text = normalize_line(text)
    if "@" in text or re.search(r"\d", text) or BANNER.match(text) or len(text) > 150:
        return []
    text = re.sub(r"[*∗†‡§¶♯♭⋆]+", "", text)
    names = [n.strip(" .") for n in re.split(r"\s*(?:,|;|\band\b|&|·)\s*", text)]
    names = [n for n in names if n]
    return names if names and all(looks_like_name(n) for n in names) else []
