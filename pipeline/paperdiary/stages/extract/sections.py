"""Sections from the PDF's outline, else from heading patterns; references and appendices marked.

Numbered headings must follow one another (1 -> 1.1 -> 2), appendices may be
lettered (A, A.1, B); the unnumbered ones (Abstract, References,
Acknowledgements, ALL-CAPS titles) are found either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperdiary.models import Section, SectionKind
from paperdiary.stages.extract.hyphens import Vocabulary
from paperdiary.stages.extract.layout import Layout, Line, paragraphs
from paperdiary.text import TITLE_SMALL_WORDS


@dataclass
class _Heading:
    line: int  # index into the document's lines
    title: str
    level: int = 1
    kind: SectionKind | None = None  # "abstract", "references", "appendix"; None: decided by position
    rest: str | None = None  # text after a run-in heading ("Acknowledgements We thank...")
    consumes: int = 1  # lines that print the heading: 2 for a title over two lines, 0 for a page fallback


ABSTRACT = re.compile(r"^abstract\b[\s.:—–-]*(.*)$", re.IGNORECASE)
_REFERENCES = re.compile(r"^(?:\d{1,2}\.?\s+)?(references|bibliography|literature cited)\s*$", re.IGNORECASE)
_ACKNOWLEDGEMENTS = re.compile(r"^(?:\d{1,2}\.?\s+)?(acknowledge?ments?)\b[\s.:—–-]*(.*)$", re.IGNORECASE)
_APPENDIX = re.compile(
    r"^(?:appendix|appendices|supplementary materials?)(?:\s+([A-Z])\b)?[\s.:—–-]*(.{0,80})$", re.IGNORECASE
)
NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.{0,90})$")
_LETTERED = re.compile(r"^([A-H])((?:\.\d{1,2}){0,3})\s+(\S.{0,90})$")
_ALL_CAPS_SINGLE = frozenset(
    "INTRODUCTION BACKGROUND METHOD METHODS METHODOLOGY APPROACH EXPERIMENTS RESULTS EVALUATION "
    "DISCUSSION CONCLUSION CONCLUSIONS LIMITATIONS ANALYSIS ACKNOWLEDGMENTS ACKNOWLEDGEMENTS".split()
)


def titleish(title: str) -> bool:
    """Looks like a section title: short, starts with a capital, mostly words, not a sentence."""
    words = title.split()
    if not 1 <= len(words) <= 12 or not title[0].isupper() or title.endswith((".", ",", ";")):
        return False
    if re.search(r"[=<>≤≥±∑∫{}]|\d\s*%|\s\d+(?:\.\d+)?\s+\d", title):  # formulas, table rows
        return False
    letters = sum(c.isalpha() for c in title)
    if letters < 3 or letters < 0.6 * len(title.replace(" ", "")):
        return False
    lowercase = [w for w in words[1:] if w[:1].islower() and w.lower() not in TITLE_SMALL_WORDS]
    return len(lowercase) <= max(2, len(words) // 2)  # sentence case is fine, running prose is not


def _next_number(previous: tuple[int, ...] | None, number: tuple[int, ...]) -> bool:
    """Whether ``number`` may follow ``previous`` (1 -> 1.1 -> 1.2 -> 2; one skip allowed)."""
    if previous is None:
        return len(number) == 1 and number[0] <= 2
    if number == (*previous, 1):
        return True
    for depth in range(len(previous)):
        if number[:depth] == previous[:depth] and len(number) == depth + 1:
            return previous[depth] < number[depth] <= previous[depth] + 2
    return False


class PatternHeadings:
    """Finds headings in the text when the PDF has no outline; also finds the unnumbered ones."""

    def __init__(self, lines: list[Line], layout: Layout):
        self.lines = lines
        self.layout = layout

    def find(self, *, numbered: bool) -> list[_Heading]:
        headings: list[_Heading] = []
        number: tuple[int, ...] | None = None
        letter: tuple[str, tuple[int, ...]] | None = None
        after_references = False
        for index, line in enumerate(self.lines):
            if not self._heading_shaped(index):
                continue
            heading = self._unnumbered(index, line, headings)
            if heading is None and numbered:
                heading, number, letter = self._numbered(index, line, number, letter, after_references)
            if heading is not None:
                after_references = after_references or heading.kind == "references"
                if heading.kind == "appendix" and not after_references:
                    letter = letter or ("@", ())  # an explicit appendix lets lettered headings start
                headings.append(heading)
        return headings

    def _heading_shaped(self, index: int) -> bool:
        line = self.lines[index]
        if not line.upright or len(line.text) > 100:
            return False
        return index == 0 or not self.lines[index - 1].text.endswith(("-", ","))

    def _not_small(self, line: Line) -> bool:
        """Numbered headings are set at least as large as the body (unlike affiliations, captions)."""
        return line.size >= self.layout.body_size - 0.6

    def _unnumbered(self, index: int, line: Line, found: list[_Heading]) -> _Heading | None:
        """Abstract (first only), References, Acknowledgements, Appendix, ALL-CAPS headings."""
        text = line.text
        kinds = {h.kind for h in found}
        # Run-in forms ("Abstract—We...", "Acknowledgements We thank...") go on with a capital.
        if not found and (m := ABSTRACT.match(text)) and (not m.group(1) or m.group(1)[:1].isupper()):
            return _Heading(index, "Abstract", kind="abstract", rest=m.group(1) or None)
        if "references" not in kinds and (m := _REFERENCES.match(text)):
            return _Heading(index, m.group(1).title(), kind="references")
        if (m := _ACKNOWLEDGEMENTS.match(text)) and (not m.group(2) or m.group(2)[:1].isupper()):
            return _Heading(index, m.group(1).capitalize(), rest=m.group(2) or None)
        if (m := _APPENDIX.match(text)) and (not m.group(2) or titleish(m.group(2))):
            return _Heading(index, text, kind="appendix")
        if text.isupper() and self._not_small(line) and self._all_caps_heading(line):
            return _Heading(index, text)
        return None

    def _all_caps_heading(self, line: Line) -> bool:
        words = line.text.split()
        if not all(w.isalpha() and len(w) >= 2 for w in words) or len(words) > 6:
            return False
        if len(words) == 1:
            return words[0] in _ALL_CAPS_SINGLE
        return line.bold or line.size > self.layout.body_size + 0.5

    def _numbered(
        self,
        index: int,
        line: Line,
        number: tuple[int, ...] | None,
        letter: tuple[str, tuple[int, ...]] | None,
        after_references: bool,
    ) -> tuple[_Heading | None, tuple[int, ...] | None, tuple[str, tuple[int, ...]] | None]:
        """A "3.2 Title" heading (monotonic numbers) or, in appendices, "B.1 Title"; returns new counters."""
        if not self._not_small(line):
            return None, number, letter
        if (m := NUMBERED.match(line.text)) and titleish(m.group(2)):
            candidate = tuple(int(n) for n in m.group(1).split("."))
            if _next_number(number, candidate):
                kind: SectionKind | None = "appendix" if after_references else None
                return _Heading(index, line.text, level=len(candidate), kind=kind), candidate, letter
        if (after_references or letter) and (m := _LETTERED.match(line.text)) and titleish(m.group(3)):
            lettered = (m.group(1), tuple(int(n) for n in m.group(2).strip(".").split(".") if n))
            emphasised = line.bold or line.size > self.layout.body_size + 0.5
            if emphasised and _next_letter(letter, lettered):
                heading = _Heading(index, line.text, level=1 + len(lettered[1]), kind="appendix")
                return heading, number, lettered
        return None, number, letter


def _next_letter(previous: tuple[str, tuple[int, ...]] | None, candidate: tuple[str, tuple[int, ...]]) -> bool:
    """A -> A.1 -> A.2 -> B; the first lettered heading must be A (or the letter after "@")."""
    letter, sub = candidate
    if previous is None or previous[0] == "@":
        return letter == "A" and not sub
    if letter == previous[0]:
        return _next_number(previous[1] or (0,), sub) if sub else False
    return ord(letter) == ord(previous[0]) + 1 and not sub


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _section_number(text: str) -> str | None:
    m = re.match(r"^((?:\d{1,2}|[A-H])(?:\.\d{1,2})*)\.?\s", text)
    return m.group(1) if m else None


def outline_headings(lines: list[Line], entries: list[tuple[str, int, int]]) -> list[_Heading]:
    """Headings from the PDF outline, each found on its page; [] when the outline does not match the text."""
    page_starts: dict[int, int] = {}
    for index, line in enumerate(lines):
        page_starts.setdefault(line.page, index)
    headings: list[_Heading] = []
    matched = 0
    start = 0
    for title, page, depth in entries:
        heading = _find_outline_heading(lines, title, page, depth, start)
        if heading is None:
            fallback = page_starts.get(page)
            if fallback is None or fallback < start:
                continue
            heading = _Heading(fallback, title, level=depth + 1, consumes=0)
        else:
            matched += 1
        heading.kind = _kind_of_title(heading.title)
        headings.append(heading)
        start = heading.line + heading.consumes
    return headings if matched >= max(2, len(entries) // 2) else []


def _find_outline_heading(lines: list[Line], title: str, page: int, depth: int, start: int) -> _Heading | None:
    """The line on ``page`` (or the next) that prints the bookmark's title.

    Tried in turn: the same text (also over two lines); the same section number
    and first word (bookmarks may carry TeX leftovers: "Comparison with rabe2021self");
    a run-in heading that starts a paragraph ("Acknowledgements We thank...").
    """
    window = [i for i in range(start, len(lines)) if page <= lines[i].page <= page + 1]
    want = _key(title)
    for i in window:
        text = lines[i].text
        if _key(text) == want or (_section_number(text) and _key(text.split(None, 1)[-1]) == want):
            return _Heading(i, text, level=depth + 1)
        if i + 1 < len(lines) and _key(text + lines[i + 1].text) == want:
            return _Heading(i, f"{text} {lines[i + 1].text}", level=depth + 1, consumes=2)
    number = _section_number(title)
    first_word = _key(title.split()[1]) if number and len(title.split()) > 1 else None
    for i in window:
        words = lines[i].text.split()
        if number and first_word and len(words) > 1 and words[0].rstrip(".") == number and _key(words[1]) == first_word:
            return _Heading(i, lines[i].text, level=depth + 1)
    for i in window:
        text = lines[i].text
        if len(want) >= 6 and text[: len(title)].lower() == title.lower() and text[len(title) : len(title) + 1] == " ":
            return _Heading(i, title, level=depth + 1, rest=text[len(title) :].strip())
    return None


def _kind_of_title(title: str) -> SectionKind | None:
    """The kind a bookmark's title implies: "References" is references, "Appendix B" appendix..."""
    if _REFERENCES.match(title):
        return "references"
    if re.fullmatch(r"abstract", title.strip(), re.IGNORECASE):
        return "abstract"
    return "appendix" if _APPENDIX.match(title) else None


def merge_headings(outline: list[_Heading], patterns: list[_Heading]) -> list[_Heading]:
    """Outline headings plus the unnumbered ones the outline lacks (Abstract, References...)."""
    taken = {h.line for h in outline}
    extra = [h for h in patterns if h.line not in taken]
    return sorted(outline + extra, key=lambda h: (h.line, h.consumes > 0))


def _kinds(headings: list[_Heading]) -> list[SectionKind]:
    """Section kind per heading: everything after the references is appendix."""
    kinds: list[SectionKind] = []
    after_references = False
    for heading in headings:
        kind: SectionKind = "appendix" if after_references else heading.kind or "body"
        after_references = after_references or kind == "references"
        kinds.append(kind)
    return kinds


def build_sections(
    lines: list[Line], headings: list[_Heading], layout: Layout, vocab: Vocabulary, title: str | None
) -> list[Section]:
    sections: list[Section] = []
    first = headings[0].line if headings else len(lines)
    if first > 0:
        kind: SectionKind = "front" if headings else "body"
        sections.append(Section(title or "Front matter", paragraphs(lines[:first], layout, vocab), kind, 1, 0))
    for i, (heading, kind) in enumerate(zip(headings, _kinds(headings), strict=False)):
        end = headings[i + 1].line if i + 1 < len(headings) else len(lines)
        body = lines[heading.line + heading.consumes : end]
        if heading.rest:
            body = [Line(heading.rest, lines[heading.line].page, size=lines[heading.line].size), *body]
        text = paragraphs(body, layout, vocab)
        sections.append(Section(heading.title, text, kind, heading.level, lines[heading.line].page))
    return sections
