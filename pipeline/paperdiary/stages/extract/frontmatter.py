"""The title and authors read off page 1's geometry: the largest upright font before the abstract, then names."""

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
    run: list[Line] = []
    end = 0
    for i, line in candidates:
        if line.size >= largest - 0.5:
            run.append(line)
            end = i + 1
        elif run:
            break
    subtitle = lines[end] if end < len(lines) else None
    if subtitle is not None and subtitle.upright and subtitle.bold == run[-1].bold and 0.8 * largest <= subtitle.size:
        run.append(subtitle)  # "STaR: Self-Taught Reasoner" / "Bootstrapping Reasoning With Reasoning"
        end += 1
    return run, end


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
        authors.extend(_author_names(_drop_marks(line)))
    return title.strip(" .") or None, list(dict.fromkeys(authors))


def _drop_marks(line: Line) -> str:
    """The line without superscripts (footnote and affiliation marks are set in a smaller font)."""
    return "".join(text for text, size in line.spans if size >= 0.8 * line.size) or line.text


def _author_names(text: str) -> list[str]:
    """The names on an author line, or [] when it is not one (affiliation, e-mail, date...)."""
    text = normalize_line(text)
    if "@" in text or re.search(r"\d", text) or BANNER.match(text) or len(text) > 150:
        return []
    text = re.sub(r"[*∗†‡§¶♯♭⋆]+", "", text)
    names = [n.strip(" .") for n in re.split(r"\s*(?:,|;|\band\b|&|·)\s*", text)]
    names = [n for n in names if n]
    return names if names and all(looks_like_name(n) for n in names) else []
