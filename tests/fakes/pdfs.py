"""Generate realistic, LaTeX-like paper PDFs for the extraction tests and benchmarks.

The PDFs are typeset here (our own line breaking, two columns, hyphenation at
line ends) and drawn with fpdf2, so that pypdf meets what it meets in real arXiv
papers: ligature glyphs (U+FB01...), words split across lines, running headers,
page numbers, the rotated arXiv side stamp, outlines, hidden text.

Everything is deterministic: the same arguments (and seed) give the same text.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import random
import textwrap
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from fpdf import FPDF
from fpdf.enums import EncryptionMethod, TextMode

InvisibleMode = Literal["render", "white", "tiny", "offpage"]

# US Letter in points, with margins close to the usual conference styles.
PAGE_W, PAGE_H = 612.0, 792.0
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 54.0, 66.0, 64.0
GUTTER = 18.0
BODY_SIZE, LEADING, PARINDENT = 10.0, 12.0, 12.0
TITLE_SIZE = 17.0
STAMP_SIZE = 20.0  # arXiv's stamp is 20 pt Times, larger than any title

LIGATURES = {"ffi": "\ufb03", "ffl": "\ufb04", "ff": "\ufb00", "fi": "\ufb01", "fl": "\ufb02"}

# (regular, bold) font files with the ligature glyphs, best first. DejaVu comes
# from Debian's fonts-dejavu-core or matplotlib; Vera (fi/fl only) from reportlab.
_FONT_CANDIDATES: list[tuple[str, str]] = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"),
    ("matplotlib:mpl-data/fonts/ttf/DejaVuSerif.ttf", "matplotlib:mpl-data/fonts/ttf/DejaVuSerif-Bold.ttf"),
    ("reportlab:fonts/Vera.ttf", "reportlab:fonts/VeraBd.ttf"),
]


@dataclass(frozen=True)
class _FontFiles:
    regular: Path
    bold: Path
    ligatures: dict[str, str]  # only the ligatures whose glyphs the font has


def _resolve(candidate: str) -> Path | None:
    """A font path, or ``package:relative/path`` inside an installed package (found without importing it)."""
    if ":" not in candidate:
        return Path(candidate)
    package, relative = candidate.split(":", 1)
    spec = importlib.util.find_spec(package)
    return Path(spec.origin).parent / relative if spec and spec.origin else None


@functools.cache
def _fonts() -> _FontFiles:
    """The first TTF font pair found that has ligature glyphs."""
    from fontTools.ttLib import TTFont  # a dependency of fpdf2 and of pypdf[full]

    for regular_name, bold_name in _FONT_CANDIDATES:
        regular, bold = _resolve(regular_name), _resolve(bold_name)
        if regular and bold and regular.is_file() and bold.is_file():
            cmap = TTFont(str(regular)).getBestCmap()
            ligatures = {seq: glyph for seq, glyph in LIGATURES.items() if ord(glyph) in cmap}
            return _FontFiles(regular, bold, ligatures)
    raise RuntimeError(
        "No TTF font with ligature glyphs found for the test PDFs: "
        "apt-get install fonts-dejavu-core, or pip install reportlab."
    )


def ligate(text: str, ligatures: dict[str, str]) -> str:
    """Replace ff/fi/fl... by the ligature characters a LaTeX PDF would carry."""
    for sequence, glyph in ligatures.items():  # ffi/ffl before ff/fi
        text = text.replace(sequence, glyph)
    return text


# --------------------------------------------------------------------------- layout


@dataclass
class _Block:
    kind: Literal["heading", "para", "ref", "abstract_heading", "invisible"]
    text: str
    level: int = 1
    indent: bool = True


class _Typesetter:
    """Flows blocks of text into one or two columns and draws them with fpdf2."""

    def __init__(
        self,
        *,
        two_columns: bool,
        ligatures: bool,
        hyphenate: bool,
        running_header: str | None,
        page_numbers: bool,
        arxiv_stamp: str | None,
        stamp_per_glyph: bool,
        outline: bool,
        bookmark_titles: Mapping[str, str],
    ):
        fonts = _fonts()
        self.pdf = FPDF(unit="pt", format=(PAGE_W, PAGE_H))
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(MARGIN_X, MARGIN_TOP)
        self.pdf.add_font("Serif", "", str(fonts.regular))
        self.pdf.add_font("Serif", "B", str(fonts.bold))
        self.pdf.set_creation_date(datetime(2025, 6, 3, tzinfo=UTC))
        self.ligatures = fonts.ligatures if ligatures else {}
        self.hyphenate = hyphenate
        self.running_header = running_header
        self.page_numbers = page_numbers
        self.arxiv_stamp = arxiv_stamp
        self.stamp_per_glyph = stamp_per_glyph
        self.outline = outline
        self.bookmark_titles = bookmark_titles
        ncols = 2 if two_columns else 1
        width = (PAGE_W - 2 * MARGIN_X - GUTTER * (ncols - 1)) / ncols
        self.columns = [(MARGIN_X + i * (width + GUTTER), width) for i in range(ncols)]
        self.col = 0
        self.y = 0.0
        self.top = MARGIN_TOP
        self._widths: dict[tuple[str, str, float], float] = {}
        self.after_heading = True

    # -- drawing primitives
    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font("Serif", "B" if bold else "", size)

    def width(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, "B" if bold else "", size)
        if key not in self._widths:
            self.font(size, bold)
            self._widths[key] = self.pdf.get_string_width(text)
        return self._widths[key]

    def draw(self, x: float, y: float, text: str, size: float, bold: bool = False) -> None:
        self.font(size, bold)
        self.pdf.text(x, y, ligate(text, self.ligatures))

    def new_page(self) -> None:
        self.finish_page()
        self.pdf.add_page()
        page = self.pdf.page
        if self.running_header:
            self.font(8)
            w = self.pdf.get_string_width(self.running_header)
            self.pdf.text((PAGE_W - w) / 2, 40, self.running_header)
        if self.page_numbers:
            self.font(9)
            label = str(page)
            self.pdf.text((PAGE_W - self.pdf.get_string_width(label)) / 2, PAGE_H - 36, label)
        self.col = 0
        self.top = MARGIN_TOP
        self.y = self.top

    def finish_page(self) -> None:
        """Close the current page: arXiv appends its stamp to the content of page 1."""
        if self.pdf.page == 1 and self.arxiv_stamp:
            self._stamp(self.arxiv_stamp)

    def _stamp(self, stamp: str) -> None:
        """The grey arXiv stamp up the left margin; some stamps are drawn one glyph at a time."""
        x, y = 32, PAGE_H - 150
        with self.pdf.local_context(text_color=128), self.pdf.rotation(90, x, y):
            if not self.stamp_per_glyph:
                self.draw(x, y, stamp, STAMP_SIZE)
                return
            for glyph in stamp:
                self.draw(x, y, glyph, STAMP_SIZE)
                x += self.width(glyph, STAMP_SIZE) + 5  # letter-spaced: pypdf then sees separate glyphs

    def next_column(self) -> None:
        if self.col + 1 < len(self.columns):
            self.col += 1
            self.y = self.top
        else:
            self.new_page()

    def room(self, height: float) -> None:
        """Move to the next column unless ``height`` more points fit in this one."""
        if self.y + height > PAGE_H - MARGIN_BOTTOM:
            self.next_column()

    # -- line breaking
    def wrap(self, text: str, first_width: float, width: float, size: float, *, hyphenate: bool = True) -> list[str]:
        """Greedy line breaking; words that overflow are hyphenated like TeX would (not in titles)."""
        lines: list[str] = []
        line = ""
        space = self.width(" ", size)
        for word in text.split():
            limit = first_width if not lines else width
            candidate = f"{line} {word}" if line else word
            if self.width(candidate, size) <= limit:
                line = candidate
                continue
            room = limit - self.width(line, size) - (space if line else 0)
            head, tail = self._split_word(word, room, size) if hyphenate else ("", word)
            if head:
                lines.append(f"{line} {head}" if line else head)
                line = tail
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
        return lines

    def _split_word(self, word: str, room: float, size: float) -> tuple[str, str]:
        """Split ``word`` at a hyphen (kept) or inside it (with an added hyphen) to fill ``room``."""
        if not self.hyphenate:
            return "", word
        if "-" in word.strip("-"):
            # A compound breaks after its own hyphen: "self-" / "attention".
            parts = word.split("-")
            for i in range(len(parts) - 1, 0, -1):
                head = "-".join(parts[:i]) + "-"
                if self.width(head, size) <= room:
                    return head, "-".join(parts[i:])
            return "", word
        letters = word.rstrip(".,;:)")
        if len(letters) < 8 or not letters.isalpha() or not letters[1:].islower():
            return "", word  # like TeX: words with digits or inner capitals ("LatentBridge") are not split
        for k in range(len(letters) - 3, 3, -1):
            if self.width(word[:k] + "-", size) <= room:
                return word[:k] + "-", word[k:]
        return "", word

    # -- blocks
    def title_block(self, title: str, authors: Sequence[str], affiliations: Sequence[str], email: str) -> None:
        """Title, authors with superscript marks, affiliations: full width on page 1."""
        y = MARGIN_TOP + 10
        width = PAGE_W - 2 * MARGIN_X - 40
        for line in self.wrap(title, width, width, TITLE_SIZE, hyphenate=False):
            w = self.width(line, TITLE_SIZE, bold=True)
            self.draw((PAGE_W - w) / 2, y + TITLE_SIZE, line, TITLE_SIZE, bold=True)
            y += TITLE_SIZE * 1.3
        y += 14
        self._authors_line(authors, y)
        y += 15
        for line in [*affiliations, email]:
            w = self.width(line, 9)
            self.draw((PAGE_W - w) / 2, y + 9, line, 9)
            y += 11
        self.top = y + 18
        self.y = self.top

    def _authors_line(self, authors: Sequence[str], y: float) -> None:
        """Names at 11 pt, each followed by a raised 7 pt affiliation mark, as LaTeX sets them."""
        pieces: list[tuple[str, float, float]] = []  # text, size, rise
        for i, name in enumerate(authors):
            pieces.append(((", " if i else "") + name, 11.0, 0.0))
            pieces.append((str(i % 2 + 1), 7.0, 3.5))
        total = sum(self.width(t, s) for t, s, _ in pieces)
        x = (PAGE_W - total) / 2
        for text, size, rise in pieces:
            self.draw(x, y + 11 - rise, text, size)
            x += self.width(text, size)

    def place(self, block: _Block) -> None:
        handler = {
            "heading": self._heading,
            "abstract_heading": self._abstract_heading,
            "para": self._paragraph,
            "ref": self._reference,
            "invisible": self._invisible,
        }[block.kind]
        handler(block)

    def _heading(self, block: _Block) -> None:
        size = {1: 12.0, 2: 11.0}.get(block.level, BODY_SIZE)
        self.y += 8
        self.room(size + 3 * LEADING)  # no heading alone at a column's foot
        x, width = self.columns[self.col]
        lines = self.wrap(block.text, width, width, size, hyphenate=False)
        for line in lines:
            self.y += size + 2
            self.draw(x, self.y, line, size, bold=True)
        if self.outline:
            self.pdf.set_xy(x, self.y - size * len(lines) - 2)
            self.pdf.start_section(self.bookmark_titles.get(block.text, block.text), level=block.level - 1)
        self.y += 4
        self.after_heading = True

    def _abstract_heading(self, block: _Block) -> None:
        x, width = self.columns[self.col]
        self.y += 12
        w = self.width(block.text, 12, bold=True)
        self.draw(x + (width - w) / 2, self.y, block.text, 12, bold=True)
        self.y += 6
        self.after_heading = True

    def _paragraph(self, block: _Block) -> None:
        x, width = self.columns[self.col]
        indent = PARINDENT if block.indent and not self.after_heading else 0.0
        self.after_heading = False
        for i, line in enumerate(self.wrap(block.text, width - indent, width, BODY_SIZE)):
            self.room(LEADING)
            x, width = self.columns[self.col]
            self.y += LEADING
            self.draw(x + (indent if i == 0 else 0), self.y, line, BODY_SIZE)

    def _reference(self, block: _Block) -> None:
        x, width = self.columns[self.col]
        for i, line in enumerate(self.wrap(block.text, width, width - PARINDENT, 9)):
            self.room(11)
            x, _ = self.columns[self.col]
            self.y += 11
            self.draw(x + (PARINDENT if i else 0), self.y, line, 9)
        self.y += 2

    def _invisible(self, block: _Block) -> None:
        """Hidden text on the current line: a prompt-injection attempt."""
        x, _ = self.columns[self.col]
        mode = block.text.split(":", 1)[0]
        text = block.text.split(":", 1)[1]
        # local_context wraps the text in q/Q: fpdf2 does not reset the render mode after it.
        if mode == "render":
            with self.pdf.local_context(text_mode=TextMode.INVISIBLE):
                self.draw(x, self.y, text, BODY_SIZE)
        elif mode == "white":
            with self.pdf.local_context(text_color=255):
                self.draw(x, self.y, text, BODY_SIZE)
        elif mode == "tiny":
            self.draw(x, self.y, text, 0.2)
        elif mode == "offpage":
            self.draw(-2000, self.y, text, BODY_SIZE)
        else:
            raise ValueError(f"unknown invisible mode {mode!r}")


def _blocks(
    abstract: str,
    sections: Sequence[tuple[str, str]],
    references: Sequence[str],
    appendix: Sequence[tuple[str, str]],
    invisible: Iterable[str],
) -> Iterator[_Block]:
    yield _Block("abstract_heading", "Abstract")
    for paragraph in abstract.split("\n\n"):
        yield _Block("para", paragraph, indent=False)
    yield from (_Block("invisible", spec) for spec in invisible)
    for heading, body in sections:
        yield from _section_blocks(heading, body)
    if references:
        yield _Block("heading", "References", level=1)
        yield from (_Block("ref", f"[{i}] {ref}") for i, ref in enumerate(references, 1))
    for heading, body in appendix:
        yield from _section_blocks(heading, body)


def _section_blocks(heading: str, body: str) -> Iterator[_Block]:
    number = heading.split(" ", 1)[0]
    level = number.count(".") + 1 if any(c.isdigit() for c in number) or "." in number else 1
    yield _Block("heading", heading, level=level)
    for paragraph in body.split("\n\n"):
        if paragraph.strip():
            yield _Block("para", " ".join(paragraph.split()))


def make_paper_pdf(
    path: Path,
    *,
    title: str,
    authors: Sequence[str],
    abstract: str,
    sections: Sequence[tuple[str, str]],
    references: Sequence[str] = (),
    appendix: Sequence[tuple[str, str]] = (),
    two_columns: bool = True,
    outline: bool = True,
    ligatures: bool = True,
    hyphenate: bool = True,
    running_header: str | None = "Preprint. Under review.",
    page_numbers: bool = True,
    arxiv_stamp: str | None = "arXiv:2506.01939v2 [cs.LG] 3 Jun 2025",
    stamp_per_glyph: bool = False,
    bookmark_titles: Mapping[str, str] | None = None,
    pages_target: int | None = None,
    invisible_text: str | None = None,
    invisible_modes: Sequence[InvisibleMode] = ("render",),
    pdf_metadata_title: str | None = None,
    pdf_metadata_author: str | None = None,
    seed: int = 0,
) -> Path:
    """Write a LaTeX-like paper PDF to ``path`` and return ``path``.

    ``sections`` and ``appendix`` are (heading, body) pairs; headings carry their
    numbers ("3.2 Attention", "A Proofs") and bodies separate paragraphs with a
    blank line. ``bookmark_titles`` gives some headings an outline entry that
    differs from the printed heading (as TeX leftovers do). ``pages_target`` pads the body with seeded filler paragraphs until
    the body reaches about that many pages. ``invisible_text`` is drawn once per
    mode in ``invisible_modes`` right after the abstract, where no reader sees it.
    """
    path = Path(path)
    setter = _Typesetter(
        two_columns=two_columns,
        ligatures=ligatures,
        hyphenate=hyphenate,
        running_header=running_header,
        page_numbers=page_numbers,
        arxiv_stamp=arxiv_stamp,
        stamp_per_glyph=stamp_per_glyph,
        outline=outline,
        bookmark_titles=bookmark_titles or {},
    )
    pdf = setter.pdf
    if pdf_metadata_title is not None:
        pdf.set_title(pdf_metadata_title)
    if pdf_metadata_author is not None:
        pdf.set_author(pdf_metadata_author)
    setter.new_page()
    setter.title_block(
        title,
        authors,
        affiliations=["1 Department of Computer Science, University of Somewhere", "2 Example Research Lab"],
        email="{first.last}@example.edu",
    )
    invisible = [f"{mode}:{invisible_text}" for mode in invisible_modes] if invisible_text else []
    body = list(sections)
    if pages_target:
        body = _padded_sections(setter, body, references, appendix, pages_target, seed)
    for block in _blocks(abstract, body, references, appendix, invisible):
        setter.place(block)
    setter.finish_page()
    pdf.output(str(path))
    return path


def _padded_sections(
    setter: _Typesetter,
    sections: list[tuple[str, str]],
    references: Sequence[str],
    appendix: Sequence[tuple[str, str]],
    pages_target: int,
    seed: int,
) -> list[tuple[str, str]]:
    """Add filler paragraphs to the last body section so the paper reaches ``pages_target`` pages."""
    chars_per_page = 4750 if len(setter.columns) == 2 else 4850
    used = sum(len(body) for _, body in [*sections, *appendix]) + sum(len(r) + 60 for r in references)
    missing = max(0, pages_target * chars_per_page - used - 2500)  # 2500: title block and abstract
    rng = random.Random(seed)
    filler: list[str] = []
    while sum(map(len, filler)) < missing:
        filler.append(_paragraph(rng))
    if not filler or not sections:
        return sections
    last_heading, last_body = sections[-1]
    return [*sections[:-1], (last_heading, last_body + "\n\n" + "\n\n".join(filler))]


# --------------------------------------------------------------------------- title blocks

# One piece of an author line: (text, size, rise); a rise above 0 sets a superscript.
Piece = tuple[str, float, float]


def make_title_block_pdf(
    path: Path,
    *,
    title_lines: Sequence[tuple[str, float]],
    author_lines: Sequence[Sequence[Piece]] = (),
    author_columns: Sequence[Sequence[str]] = (),
    title_bold: bool = True,
    authors_bold: bool | None = None,
    title_step: float = 1.25,
    author_gap: float = 2.0,
    author_size: float = 11.0,
) -> Path:
    """A one-page paper whose title block is set as given, without PDF metadata (a local PDF).

    ``title_lines`` are (text, size), one per line, ``title_step`` times the size
    apart; ``author_lines`` (pieces with superscripts) start ``author_gap`` times the
    last title line's size below it. ``author_columns`` sets the authors side by side
    instead, one column of lines (name, affiliation, e-mail) per author, as
    LaTeX's tabular author blocks do. Then an abstract and a paragraph.
    """
    fonts = _fonts()
    pdf = FPDF(unit="pt", format=(PAGE_W, PAGE_H))
    pdf.set_auto_page_break(False)
    pdf.add_font("Serif", "", str(fonts.regular))
    pdf.add_font("Serif", "B", str(fonts.bold))
    pdf.set_creation_date(datetime(2025, 6, 3, tzinfo=UTC))
    pdf.add_page()
    authors_bold = title_bold if authors_bold is None else authors_bold

    def centred(text: str, size: float, y: float, bold: bool) -> None:
        pdf.set_font("Serif", "B" if bold else "", size)
        pdf.text((PAGE_W - pdf.get_string_width(text)) / 2, y, text)

    y = MARGIN_TOP + 20
    for i, (text, size) in enumerate(title_lines):
        y += size * title_step if i else 0
        centred(text, size, y, title_bold)
    y += title_lines[-1][1] * author_gap
    for pieces in author_lines:
        widths = []
        for text, size, _rise in pieces:
            pdf.set_font("Serif", "B" if authors_bold else "", size)
            widths.append(pdf.get_string_width(text))
        x = (PAGE_W - sum(widths)) / 2
        for (text, size, rise), width in zip(pieces, widths, strict=False):
            pdf.set_font("Serif", "B" if authors_bold and rise == 0 else "", size)
            pdf.text(x, y - rise, text)
            x += width
        y += max(size for _, size, _ in pieces) * 1.3
    if author_columns:
        width = (PAGE_W - 2 * MARGIN_X) / len(author_columns)
        for column, block in enumerate(author_columns):
            for row, text in enumerate(block):
                bold = authors_bold and row == 0
                pdf.set_font("Serif", "B" if bold else "", author_size)
                x = MARGIN_X + column * width + (width - pdf.get_string_width(text)) / 2
                pdf.text(x, y + row * author_size * 1.2, text)
        y += len(max(author_columns, key=len)) * author_size * 1.2
    y += 30
    centred("Abstract", 12, y, True)
    pdf.set_font("Serif", "", BODY_SIZE)
    for line in textwrap.wrap(" ".join(_sentence(random.Random(n)) for n in range(12)), 95):
        y += LEADING
        pdf.text(MARGIN_X, y, line)
    pdf.output(str(path))
    return Path(path)


def superscripted(names: Sequence[tuple[str, str]], size: float = 11.0, *, separator: str = ", ") -> list[Piece]:
    """An author line: each (name, marks) pair as the name then its marks raised in a smaller type."""
    pieces: list[Piece] = []
    for i, (name, marks) in enumerate(names):
        pieces.append(((separator if i else "") + name, size, 0.0))
        if marks:
            pieces.append((marks, round(size * 0.65, 2), size * 0.35))
    return pieces


# --------------------------------------------------------------------------- fonts pypdf cannot decode

# The symbols of the font below, by the codes its built-in encoding gives them (as in TeX's txsys font).
SYMBOL_CODES = {"×": 2, "±": 3, "≤": 4, "→": 5, "√": 6, "↑": 7, "↓": 8}
_SYMBOL_GLYPHS = {"×": "multiply", "±": "plusminus", "≤": "lessequal", "→": "arrowright", "√": "radical",
                  "↑": "arrowup", "↓": "arrowdown"}


def _symbol_font_program() -> bytes:
    """A CFF (Type1C) font whose built-in encoding puts ×, ±, ≤, →, √, ↑, ↓ at codes 2 to 8 (boxes for glyphs)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    names = [".notdef", *_SYMBOL_GLYPHS.values()]
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({})
    charstrings = {}
    for name in names:
        pen = T2CharStringPen(600, None)
        if name != ".notdef":
            pen.moveTo((60, 0))
            pen.lineTo((540, 0))
            pen.lineTo((540, 500))
            pen.lineTo((60, 500))
            pen.closePath()
        charstrings[name] = pen.getCharString()
    builder.setupCFF("PDSymbols", {"FullName": "PDSymbols"}, charstrings, {})
    builder.setupHorizontalMetrics({name: (600, 0) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "PDSymbols", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    cff = builder.font["CFF "].cff
    encoding = [".notdef"] * 256
    for symbol, code in SYMBOL_CODES.items():
        encoding[code] = _SYMBOL_GLYPHS[symbol]
    cff.topDictIndex[0].Encoding = encoding
    buffer = io.BytesIO()
    cff.compile(buffer, builder.font)
    return buffer.getvalue()


# The symbol font's ToUnicode covers another code only, as TeX's: pypdf reads its glyphs as control characters.
SYMBOL_TO_UNICODE = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
                     b"/CIDSystemInfo << /Registry (TeX) /Ordering (pdsymbols) /Supplement 0 >> def\n"
                     b"/CMapName /TeX-pdsymbols-0 def /CMapType 2 def\n"
                     b"1 begincodespacerange <00> <FF> endcodespacerange\n"
                     b"1 beginbfchar <C7> <1D40> endbfchar\n"
                     b"endcmap CMapName currentdict /CMap defineresource pop end end")


def make_builtin_encoding_pdf(path: Path, lines: Sequence[str]) -> Path:
    """A one-page PDF of ``lines`` in Helvetica whose ×, ±, ≤, →, √, ↑ and ↓ are set in a font pypdf cannot decode.

    As TeX's symbol fonts in real arXiv papers (FlashAttention's "×"): the symbols'
    font carries a ToUnicode map that covers some other code only, so pypdf gives
    the symbols' raw codes (control characters), while the font program's own
    encoding, which pdfium reads, names them.
    """
    def show(text: str) -> bytes:
        out = bytearray()
        for run_is_symbol, run in _symbol_runs(text):
            if run_is_symbol:
                codes = bytes(SYMBOL_CODES[c] for c in run)
                out += b"/F2 10 Tf (" + _pdf_string(codes) + b") Tj "
            else:
                out += b"/F1 10 Tf (" + _pdf_string(run.encode("latin-1")) + b") Tj "
        return bytes(out)

    content = bytearray(b"BT 14 TL 72 720 Td ")
    for line in lines:
        content += show(line) + b"T* "
    content += b"ET"
    program = _symbol_font_program()
    to_unicode = SYMBOL_TO_UNICODE
    last = max(SYMBOL_CODES.values())
    widths = b" ".join([b"600"] * (last + 1))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /PDSymbols /FirstChar 0 /LastChar %d /Widths [" % last + widths
        + b"] /FontDescriptor 7 0 R /ToUnicode 9 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + bytes(content) + b"\nendstream",
        b"<< /Type /FontDescriptor /FontName /PDSymbols /Flags 4 /FontBBox [0 -200 1000 800] /ItalicAngle 0 "
        b"/Ascent 800 /Descent -200 /CapHeight 600 /StemV 80 /FontFile3 8 0 R >>",
        b"<< /Subtype /Type1C /Length %d >>\nstream\n" % len(program) + program + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(to_unicode) + to_unicode + b"\nendstream",
    ]
    Path(path).write_bytes(_pdf_file(objects))
    return Path(path)


def _symbol_runs(text: str) -> Iterator[tuple[bool, str]]:
    run, symbol = "", False
    for char in text:
        is_symbol = char in SYMBOL_CODES
        if run and is_symbol != symbol:
            yield symbol, run
            run = ""
        run, symbol = run + char, is_symbol
    if run:
        yield symbol, run


def _pdf_string(raw: bytes) -> bytes:
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_file(objects: Sequence[bytes], *, version: bytes = b"1.4") -> bytes:
    """A PDF file of ``objects`` (numbered from 1, the first the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-" + version + b"\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --------------------------------------------------------------------------- broken PDFs


def make_encrypted_pdf(path: Path, *, user_password: str = "secret", method: str = "AES_128") -> Path:
    """A short paper encrypted with a user password (``""``: opens without one)."""
    pdf = FPDF(unit="pt", format=(PAGE_W, PAGE_H))
    pdf.set_encryption("owner-secret", user_password=user_password, encryption_method=EncryptionMethod[method])
    fonts = _fonts()
    pdf.add_font("Serif", "", str(fonts.regular))
    pdf.add_page()
    pdf.set_font("Serif", "", 10)
    y = 100.0
    for line in textwrap.wrap(_paragraph(random.Random(1)) * 3, 90):
        pdf.text(MARGIN_X, y, line)
        y += 12
    pdf.output(str(path))
    return Path(path)


def make_image_only_pdf(path: Path, *, pages: int = 2) -> Path:
    """A 'scanned' paper: pages that carry only an image, no text layer."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (850, 1100), 255)
    draw = ImageDraw.Draw(image)
    for row in range(60, 1040, 22):  # grey bars where a scan would have lines of text
        draw.rectangle((80, row, 770 - (row * 7) % 200, row + 9), fill=90)
    pdf = FPDF(unit="pt", format=(PAGE_W, PAGE_H))
    for _ in range(pages):
        pdf.add_page()
        pdf.image(image, x=0, y=0, w=PAGE_W, h=PAGE_H)
    pdf.output(str(path))
    return Path(path)


def make_truncated_pdf(path: Path, *, keep: float = 0.6) -> Path:
    """A paper PDF cut after ``keep`` of its bytes, like an interrupted download."""
    full = path.with_name(path.stem + ".full.pdf")
    make_paper_pdf(full, **generate_paper(2, seed=3))
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_corrupt_pdf(path: Path) -> Path:
    """A PDF header followed by garbage."""
    rng = random.Random(7)
    path.write_bytes(b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(4000)) + b"\n%%EOF\n")
    return path


def make_bomb_pdf(path: Path, *, expanded_mb: int = 100) -> Path:
    """A one-page PDF whose content stream inflates to ``expanded_mb`` MB (a decompression bomb)."""
    deflate = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    stream = b"".join(deflate.compress(chunk) for _ in range(expanded_mb)) + deflate.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    path.write_bytes(_pdf_file(objects, version=b"1.7"))
    return path


def make_empty_file(path: Path) -> Path:
    """A zero-byte file with a .pdf name."""
    path.write_bytes(b"")
    return path


def make_zero_page_pdf(path: Path) -> Path:
    """A well-formed PDF without any page."""
    from pypdf import PdfWriter

    with open(path, "wb") as fh:
        PdfWriter().write(fh)
    return path


# --------------------------------------------------------------------------- filler text

_METHODS = ["SparseFormer", "GradMix", "TinyRouter", "FlowNorm", "LatentBridge", "MetaPrune", "HyperLoRA"]
_TASKS = ["long-context language modeling", "image classification", "machine translation",
          "protein structure prediction", "speech recognition", "code generation"]
_DATASETS = ["ImageNet", "WMT 2014 English-German", "C4", "LibriSpeech", "HumanEval", "GLUE", "Long Range Arena"]
_BASELINES = ["the standard Transformer", "FlashAttention", "a dense baseline", "LoRA fine-tuning", "ResNet-50"]
_COMPONENTS = ["encoder", "decoder", "attention layer", "feed-forward block", "embedding table", "router"]
_SENTENCES = [
    "We propose {method}, a simple and effective approach to {task} that scales to {n1}K tokens.",
    "We show that {method} improves accuracy by {p}% on {dataset} compared to {baseline}.",
    "In contrast to prior work, our representation is learned end-to-end with a single objective.",
    "Our experiments on {dataset} demonstrate a {x}x speedup over {baseline} at equal quality.",
    "The {component} uses multi-head self-attention with {n2} heads and a hidden size of {n3}.",
    "We train all models with Adam using a learning rate of {lr} and a batch size of {n2}.",
    "This state-of-the-art result holds across {n2} random seeds with a standard deviation of {sd}.",
    "Regularization with dropout of 0.{d} is essential for generalization on small datasets.",
    "Computational efficiency matters: the memory footprint grows linearly with sequence length.",
    "Furthermore, we demonstrate that the transformation preserves the expressiveness of the {component}.",
    "Our main contribution is a characterization of when {method} outperforms {baseline}.",
    "We find that fine-tuning only {p}% of the parameters recovers most of the performance.",
    "Table {d} reports perplexity, throughput and memory for models with {n1}M to {n3}M parameters.",
    "Unfortunately, the optimization becomes unstable beyond {n1}K steps without warmup.",
]


def _sentence(rng: random.Random) -> str:
    template = rng.choice(_SENTENCES)
    return template.format(
        method=rng.choice(_METHODS), task=rng.choice(_TASKS), dataset=rng.choice(_DATASETS),
        baseline=rng.choice(_BASELINES), component=rng.choice(_COMPONENTS),
        n1=rng.choice([2, 4, 8, 16, 64]), n2=rng.choice([8, 16, 32, 64]), n3=rng.choice([512, 768, 1024, 4096]),
        p=round(rng.uniform(0.5, 12.0), 1), x=round(rng.uniform(1.2, 7.6), 1),
        lr=rng.choice(["3e-4", "1e-3", "5e-5"]), sd=round(rng.uniform(0.1, 0.9), 2), d=rng.randint(1, 9),
    )


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(4, 8)))


def generate_paper(pages: int, seed: int = 0) -> dict:
    """Keyword arguments for ``make_paper_pdf``: a plausible deep-learning paper of about ``pages`` pages."""
    rng = random.Random(seed)
    method = rng.choice(_METHODS)
    outline = [
        ("1 Introduction", 3), ("2 Related Work", 2), ("3 Method", 1), ("3.1 Problem Setup", 2),
        ("3.2 Architecture", 3), ("4 Experiments", 1), ("4.1 Setup", 2), ("4.2 Results", 3),
        ("4.3 Ablations", 2), ("5 Conclusion", 1),
    ]
    sections = [(heading, "\n\n".join(_paragraph(rng) for _ in range(n))) for heading, n in outline]
    references = [
        f"{rng.choice(['A. Smith', 'L. Chen', 'M. Garcia', 'S. Kumar'])} and "
        f"{rng.choice(['J. Doe', 'Y. Tanaka', 'R. Brown', 'E. Rossi'])}. "
        f"{rng.choice(_METHODS)}: {rng.choice(_TASKS).capitalize()} at scale. "
        f"In {rng.choice(['NeurIPS', 'ICML', 'ICLR', 'ACL'])}, {rng.randint(2015, 2025)}."
        for _ in range(min(40, 8 + 2 * pages))
    ]
    appendix = [("A Proofs", _paragraph(rng) + "\n\n" + _paragraph(rng)),
                ("B Additional Experiments", _paragraph(rng))]
    return {
        "title": f"{method}: {rng.choice(_TASKS).capitalize()} with Learned Sparse Attention",
        "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper"],
        "abstract": " ".join(_sentence(rng) for _ in range(6)),
        "sections": sections,
        "references": references,
        "appendix": appendix,
        "pages_target": pages,
        "seed": seed,
    }


def page_count(path: Path) -> int:
    """Pages of a generated PDF (for tests that check ``pages_target``)."""
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


__all__ = [
    "generate_paper",
    "ligate",
    "make_bomb_pdf",
    "make_builtin_encoding_pdf",
    "make_corrupt_pdf",
    "make_empty_file",
    "make_encrypted_pdf",
    "make_image_only_pdf",
    "make_paper_pdf",
    "make_title_block_pdf",
    "make_truncated_pdf",
    "make_zero_page_pdf",
    "page_count",
    "superscripted",
]
