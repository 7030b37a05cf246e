"""arXiv's HTML rendering of a paper (LaTeXML) -> ExtractedPaper.

LaTeXML marks everything with classes: the title ``h1.ltx_title_document``, the
abstract ``div.ltx_abstract``, sections ``section.ltx_section`` (``ltx_subsection``,
``ltx_appendix``, ``ltx_bibliography``...) headed by ``h2.ltx_title``, paragraphs
``p.ltx_p``, captions ``figcaption``; math is MathML whose ``alttext`` holds the
LaTeX, which is what is kept. Citations, footnotes, table cells, navigation and
the page's header and footer are left out. The standard library's HTML parser
is enough for this regular markup.

arXiv answers 200 with a stub page for papers it could not render: a page is
taken only when it is a LaTeXML document with real paragraphs
(:func:`is_latexml_paper`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from paperdiary.models import ExtractedPaper, Section, SectionKind
from paperdiary.stages.colour import (
    BLACK,
    MIN_OPACITY,
    MIN_TYPE_PT,
    RGB,
    WHITE,
    blend,
    css_colour,
    css_points,
    legible,
)
from paperdiary.stages.sources.eprint import UnusableSource
from paperdiary.stages.sources.tex import math_text

MIN_BODY_CHARS = 500

_SECTION_LEVELS = {"ltx_chapter": 1, "ltx_section": 1, "ltx_appendix": 1, "ltx_bibliography": 1,
                   "ltx_subsection": 2, "ltx_subsubsection": 3}
# Elements whose whole content is left out.
_SKIPPED_CLASSES = frozenset(
    "ltx_cite ltx_note ltx_role_footnote ltx_tag_note ltx_page_header ltx_page_footer ltx_page_navbar "
    "ltx_authors ltx_dates ltx_TOC ltx_tabular ltx_ERROR ltx_rdf ltx_listing ltx_algorithm_line_number "
    "ltx_tag_equation ltx_tag_equationgroup ltx_classification ltx_keywords ltx_acknowledgements_title".split()
)
_SKIPPED_TAGS = frozenset("script style nav header footer button svg noscript head".split())
_BLOCKS = frozenset("p div li figcaption dd dt blockquote h1 h2 h3 h4 h5 h6 table tr".split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_FAILED_CONVERSION = re.compile(r"Conversion to HTML had a Fatal error|HTML is not available for the source",
                                re.IGNORECASE)


# Declarations that hide an element outright, whatever its colours.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|content-visibility\s*:\s*hidden"
    r"|(?:text-indent|left|top|margin-left|margin-top)\s*:\s*-\d{3,}(?:\.\d+)?\s*(?:px|pt|em|rem)"
    r"|clip\s*:\s*rect\(\s*0(?:px)?[\s,]+0(?:px)?[\s,]+0(?:px)?[\s,]+0(?:px)?\s*\)"
    r"|transform\s*:\s*scale\(\s*0(?:\.0\d*)?\s*\)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Ink:
    """The colours an element's text is drawn in and on (inherited down the tree)."""

    colour: RGB = BLACK
    background: RGB = WHITE

    @property
    def seen(self) -> bool:
        return legible(self.colour, self.background)


def _declarations(style: str) -> dict[str, str]:
    out = {}
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        if value.strip():
            out[name.strip().lower()] = value.strip().removesuffix("!important").strip()
    return out


def _styled(style: str | None, ink: _Ink) -> _Ink | None:
    """The ink of an element of ``style`` inside one of ``ink``; None when it hides all it holds.

    Hidden with all it holds: not shown, moved off the page, transparent, type
    under 1.5 pt. Text in a colour whose contrast against its background is too
    low (#fafafa on white; black on black) is not seen either (:attr:`_Ink.seen`),
    but an element inside may set a colour that is. LaTeXML writes ``\\textcolor`` as ``--ltx-fg-color`` in newer
    releases, ``color`` in older ones.
    """
    if not style:
        return ink
    if _HIDDEN_STYLE.search(style):
        return None
    values = _declarations(style)
    size = values.get("font-size")
    if size is not None and (points := css_points(size)) is not None and points < MIN_TYPE_PT:
        return None
    opacity = values.get("opacity")
    try:
        if opacity is not None and float(opacity.removesuffix("%")) / (100 if opacity.endswith("%") else 1) \
                < MIN_OPACITY:
            return None
    except ValueError:
        pass
    background = ink.background
    for name in ("--ltx-bg-color", "background-color", "background"):
        if name in values and (parsed := css_colour(values[name].split()[0] if name == "background"
                                                     else values[name])):
            background = blend(parsed[0], background, parsed[1])
            break
    colour = ink.colour
    for name in ("--ltx-fg-color", "color"):
        if name in values and (parsed := css_colour(values[name])):
            if parsed[1] < MIN_OPACITY:
                return None
            colour = blend(parsed[0], background, parsed[1])
            break
    return _Ink(colour, background)


def is_latexml_paper(html: str) -> str | None:
    """None when ``html`` looks like a rendered paper, else why it is not (a stub, an error page)."""
    if _FAILED_CONVERSION.search(html):
        return "arXiv could not render this paper as HTML"
    if "ltx_document" not in html and "ltx_page_main" not in html:
        return "the page is not a LaTeXML rendering (a stub page?)"
    if "ltx_para" not in html and "ltx_p" not in html:
        return "the rendering has no paragraphs"
    return None


def read_latexml(html: str, sha: str) -> ExtractedPaper:
    """The paper a LaTeXML page holds; raises UnusableSource for a stub or an empty rendering."""
    problem = is_latexml_paper(html)
    if problem:
        raise UnusableSource(problem)
    parser = _LatexmlParser()
    parser.feed(html)
    parser.close()
    sections = parser.sections()
    if sum(len(s.text) for s in sections if s.kind in ("abstract", "body")) < MIN_BODY_CHARS:
        raise UnusableSource("the HTML rendering gives almost no text")
    return ExtractedPaper(sha256=sha, pages=0, sections=sections, title=parser.title or None,
                          authors=parser.authors, source="html")


@dataclass
class _Open:
    tag: str
    classes: frozenset[str]
    skipped: bool = False  # this element starts a left-out stretch
    ink: _Ink = _Ink()  # the colours its text is drawn in and on
    role: str = ""  # "title", "abstract", "section", "heading", "caption", "author", "math"


@dataclass
class _Draft:
    title: str
    level: int
    kind: SectionKind
    paragraphs: list[str] = field(default_factory=list)


class _LatexmlParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Open] = []
        self.skip_depth = 0  # > 0 inside left-out elements
        self.parts: list[_Draft] = []
        self.kinds: list[SectionKind] = []  # the kind of each open <section>
        self.title = ""
        self.authors: list[str] = []
        self._text: list[str] = []  # the paragraph being read
        self._heading: list[str] | None = None  # the heading being read
        self._title: list[str] | None = None
        self._author: list[str] | None = None

    # -- parsing
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = frozenset((values.get("class") or "").split())
        if tag == "math":
            ink = _styled(values.get("style"), self.stack[-1].ink if self.stack else _Ink())
            if not self.skip_depth and ink is not None and ink.seen:
                self._math(values.get("alttext") or "", values.get("display") == "block")
            if tag not in _VOID:
                self._push(_Open(tag, classes, skipped=True, role="math"))
            return
        if tag in _VOID:
            if tag == "br" and self._author is not None:
                self._author.append("\n")  # the name's line ends: an affiliation follows
            elif tag == "br" and not self.skip_depth:
                self._add(" ")
            return
        ink = _styled(values.get("style"), self.stack[-1].ink if self.stack else _Ink())
        opened = _Open(tag, classes, ink=ink or _Ink())
        if self.skip_depth or tag in _SKIPPED_TAGS or classes & _SKIPPED_CLASSES or ink is None or "hidden" in values:
            if "ltx_authors" in classes:
                self._author = []
            opened.skipped = True
        elif tag == "h1" and "ltx_title_document" in classes:
            opened.role, self._title = "title", []
        elif tag == "section" and classes & _SECTION_LEVELS.keys():
            opened.role = "section"
            self._open_section(classes)
        elif re.fullmatch(r"h[1-6]", tag) and "ltx_title" in classes and "ltx_title_document" not in classes:
            opened.role, self._heading = "heading", []
        elif tag == "div" and "ltx_abstract" in classes:
            opened.role = "abstract"
            self._end_paragraph()
            self.parts.append(_Draft("Abstract", 1, "abstract"))
        elif tag in _BLOCKS:
            self._end_paragraph()
        if "ltx_personname" in classes and self._author is not None:
            opened.role = "author"
        self._push(opened)

    def _push(self, opened: _Open) -> None:
        if opened.skipped:
            self.skip_depth += 1
        self.stack.append(opened)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(o.tag == tag for o in self.stack):
            return
        while self.stack:
            opened = self.stack.pop()
            self._close(opened)
            if opened.tag == tag:
                break

    def _close(self, opened: _Open) -> None:
        if opened.role == "author" and self._author is not None:
            self._read_author("".join(self._author))
            self._author = []
        if opened.skipped:
            self.skip_depth -= 1
            if "ltx_authors" in opened.classes:
                self._author = None
            return
        if opened.role == "title" and self._title is not None:
            self.title = " ".join("".join(self._title).split())
            self._title = None
        elif opened.role == "heading" and self._heading is not None:
            self._name_section(" ".join("".join(self._heading).split()))
            self._heading = None
        elif opened.role == "section":
            self._end_paragraph()
            if self.kinds:
                self.kinds.pop()
        elif opened.tag in _BLOCKS or opened.role == "abstract":
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._author is not None and any(o.role == "author" for o in self.stack):
            if not any(o.tag == "span" and "ltx_contact" in o.classes for o in self.stack):
                self._author.append(data)
            return
        if self.skip_depth or (self.stack and not self.stack[-1].ink.seen):
            return
        self._add(data)

    def _add(self, text: str) -> None:
        for target in (self._title, self._heading):
            if target is not None:
                target.append(text)
                return
        self._text.append(text)

    def _math(self, latex: str, display: bool) -> None:
        self._add(math_text(latex, display=display))

    # -- sections
    def _open_section(self, classes: frozenset[str]) -> None:
        self._end_paragraph()
        name = next(c for c in _SECTION_LEVELS if c in classes)
        parent: SectionKind = self.kinds[-1] if self.kinds else "body"
        kind: SectionKind = "references" if name == "ltx_bibliography" else (
            "appendix" if name == "ltx_appendix" or parent == "appendix" else parent if parent != "references"
            else "appendix")
        if kind == "body" and any(p.kind == "references" for p in self.parts):
            kind = "appendix"  # as in the PDF: what follows the references is appendix
        self.kinds.append(kind)
        self.parts.append(_Draft("", _SECTION_LEVELS[name], kind))

    def _name_section(self, title: str) -> None:
        title = re.sub(r"^Appendix\s+([A-Z])\s+", r"\1 ", title)
        if self.parts and not self.parts[-1].title and not self.parts[-1].paragraphs:
            self.parts[-1].title = title
        elif self.parts and self.parts[-1].kind == "abstract":
            return  # the abstract's own "Abstract" heading

    def _end_paragraph(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        text = re.sub(r"\s+([.,;:!?)])", r"\1", text).replace("( ", "(")
        if not text or re.fullmatch(r"[\W_]*", text):
            return
        if not self.parts:
            self.parts.append(_Draft("Front matter", 1, "front"))
        self.parts[-1].paragraphs.append(text)

    def _read_author(self, text: str) -> None:
        """The names on a ``ltx_personname``'s first line (affiliations and e-mails follow on later ones)."""
        first_line = text.strip().split("\n", 1)[0]
        for name in re.split(r",|\band\b|\s{2,}", first_line):
            name = " ".join(name.split()).strip(" *†‡∗")
            words = name.split()
            if 2 <= len(words) <= 5 and all(w[:1].isupper() for w in words) and name not in self.authors:
                self.authors.append(name)

    def sections(self) -> list[Section]:
        out = []
        for part in self.parts:
            title = part.title or ("Abstract" if part.kind == "abstract" else "Untitled section")
            out.append(Section(title, "\n\n".join(part.paragraphs), part.kind, part.level, 0))
        return [s for s in out if s.text or s.kind == "body"]
