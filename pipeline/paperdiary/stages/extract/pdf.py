"""Reading a PDF with pypdf: the visible text of every page as lines with their geometry, the outline, the metadata.

pypdf's plain mode reads two-column pages column by column; its visitor callbacks
report where each piece of text sits and in which font, which the cleaning and
sectioning steps need. Text nobody sees is dropped (:mod:`.visibility`); glyphs
pypdf cannot decode are taken from pdfium's reading of the page (:mod:`.glyphs`).
pypdf's own warnings go to the debug log, never to the user's terminal.
"""

from __future__ import annotations

import io
import logging
import math
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, EmptyFileError, FileNotDecryptedError, LimitReachedError

from paperdiary.errors import CorruptPdfError, EmptyPdfError, EncryptedPdfError, ExtractionError
from paperdiary.stages.extract.clean import normalize_line
from paperdiary.stages.extract.frontmatter import looks_like_name
from paperdiary.stages.extract.glyphs import GlyphNames, PdfiumText, repair, undecodable
from paperdiary.stages.extract.inline import compose
from paperdiary.stages.extract.layout import Line, Page
from paperdiary.stages.extract.visibility import VisibilityScan, blank_hidden_text, mult

log = logging.getLogger(__name__)


@dataclass
class RawPdf:
    """What pypdf reads off a PDF: the visible lines of every page, the outline, the document information."""

    pages: list[Page]
    outline: list[tuple[str, int, int]]  # (title, 0-based page, depth) of the bookmarks
    title: str | None  # from the document information, when it looks like a real title
    authors: list[str]
    glyphs_recovered: int = 0  # undecodable glyphs of pypdf's replaced by pdfium's


def read_raw(path: Path, data: bytes) -> RawPdf:
    """Read the PDF ``data`` (from ``path``) with pypdf, quietly. Raises an ExtractionError naming ``path``."""
    with _quiet_pypdf():
        reader = _open_reader(path, data)
        pdfium = PdfiumText(data)
        try:
            pages = _read_pages(path, reader)
            recovered = _recover_glyphs(pages, pdfium)
        finally:
            pdfium.close()
        return RawPdf(pages, _outline_entries(reader), *_metadata(reader), glyphs_recovered=recovered)


def _recover_glyphs(pages: list[Page], pdfium: PdfiumText) -> int:
    """On every page whose text holds undecodable glyphs, take them from pdfium; then read each line's
    scripts and fractions off its spans (:func:`.inline.compose`); drop the spans past page 1."""
    recovered = 0
    for index, page in enumerate(pages):
        if any(undecodable(line.text) for line in page.lines):
            reference = pdfium.page(index)
            if reference is not None:
                recovered += repair(page.lines, reference)
        for line in page.lines:
            line.text = compose(line)
            if index != 0:  # spans are only used to read the title and authors off page 1
                line.spans, line.origins = [], []
    return recovered


class _QuietHandler(logging.Handler):
    """Re-log pypdf's and fontTools' records as this module's DEBUG records (seen only with --debug)."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s: %s", record.name, record.getMessage())


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Keep pypdf's log lines and warnings out of the user's terminal while extracting.

    Not thread-safe (``warnings.catch_warnings`` is global); extraction runs in its
    own process anyway.
    """
    saved = []
    handler = _QuietHandler()
    for name in ("pypdf", "fontTools"):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, logger.handlers[:]))
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield
        for warning in caught:
            log.debug("warning while extracting: %s", warning.message)
    finally:
        for logger, level, propagate, handlers in saved:
            logger.handlers = handlers
            logger.propagate = propagate
            logger.setLevel(level)


def _corrupt(path: Path, detail: str) -> CorruptPdfError:
    return CorruptPdfError("{subject} is truncated or corrupt ({detail}).", path=path, detail=detail,
                           hint="Download it again.")


def _pdf_error(path: Path, exc: Exception) -> ExtractionError:
    """Translate an exception raised by pypdf into a one-line ExtractionError."""
    if isinstance(exc, LimitReachedError):
        return CorruptPdfError(
            "{subject} is corrupt or hostile: it expands beyond pypdf's safety limits (a decompression bomb?).",
            path=path,
            hint="Get the PDF from another source.",
        )
    if isinstance(exc, FileNotDecryptedError):
        return _encrypted(path)
    if isinstance(exc, EmptyFileError):
        return EmptyPdfError("{subject} is empty.", path=path, hint="Download it again.")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _corrupt(path, detail[:200])


def _encrypted(path: Path) -> EncryptedPdfError:
    return EncryptedPdfError(
        "{subject} is encrypted with a password.", path=path,
        hint="Save an unencrypted copy (e.g. `qpdf --decrypt --password=PASSWORD in.pdf out.pdf`) and use that.",
    )


def _open_reader(path: Path, data: bytes) -> PdfReader:
    """Open the PDF, decrypting with the empty password when it has one; check it has pages."""
    if b"%PDF-" not in data[:1024]:
        raise _corrupt(path, "no %PDF- header: not a PDF")
    if b"%%EOF" not in data[-4096:]:
        raise _corrupt(path, "no %%EOF marker at its end")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _encrypted(path)
        page_count = len(reader.pages)
    except ExtractionError:
        raise
    except DependencyError as exc:  # AES without the cryptography package
        raise EncryptedPdfError(
            "{subject} is encrypted with AES, which needs the cryptography package.", path=path,
            hint="pip install cryptography",
        ) from exc
    except Exception as exc:  # (pypdf raises more than PyPdfError on broken files)
        raise _pdf_error(path, exc) from exc
    if page_count == 0:
        raise EmptyPdfError("{subject} has no pages.", path=path, hint="Download it again.")
    return reader


def _read_pages(path: Path, reader: PdfReader) -> list[Page]:
    """Visible text of every page; a page pypdf cannot read is skipped, unless all are."""
    pages: list[Page] = []
    failures = 0
    for index, page in enumerate(reader.pages):
        try:
            pages.append(_read_page(reader, page, index))
        except LimitReachedError as exc:
            raise _pdf_error(path, exc) from exc
        except Exception as exc:  # (any pypdf failure on one broken page)
            failures += 1
            log.warning("%s: page %d could not be read (%s); it is skipped.", path, index + 1, exc)
            pages.append(Page(lines=[]))
    if failures == len(pages):
        raise _corrupt(path, "no page could be read")
    return pages


def _read_page(reader: PdfReader, page: Any, index: int) -> Page:
    """Text of one page without invisible text.

    Pass 1 extracts everything while tracking, per text-showing operator, whether
    it is visible. If some is not, pass 2 extracts again with those operators'
    strings blanked, which keeps pypdf's reading order (columns) intact.
    """
    scan = VisibilityScan(_page_box(page), page)
    names = GlyphNames()
    lines = _LineBuilder(index, names)
    text = page.extract_text(visitor_operand_before=scan.before, visitor_operand_after=scan.after, visitor_text=lines)
    if not scan.finish():
        return Page(lines.finish())
    blank_hidden_text(reader, page, scan)
    visible = _LineBuilder(index, names)
    visible_text = page.extract_text(visitor_text=visible)
    dropped = _non_space(text) - _non_space(visible_text)
    return Page(visible.finish(), hidden_chars=max(dropped, 0))


def _page_box(page: Any) -> tuple[float, float, float, float] | None:
    """The visible area (crop box, else media box); None when both are degenerate."""
    for box in (page.cropbox, page.mediabox):
        left, bottom, right, top = (float(v) for v in (box.left, box.bottom, box.right, box.top))
        if right - left >= 36 and top - bottom >= 36:
            return left, bottom, right, top
    return None


def _non_space(text: str) -> int:
    return len(text) - sum(text.count(c) for c in " \n\t\r")


_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|medi|[-+,]?(?:cmbx|bx|sfbx)\d*|\bbf\b", re.IGNORECASE)


def _font_is_bold(font: Any) -> bool:
    try:
        name = str(font.get("/BaseFont", "")) if font else ""
    except AttributeError:
        return False
    return bool(_BOLD_FONT.search(name))


class _LineBuilder:
    """``visitor_text`` callback: splits pypdf's output into lines with position and font size.

    pypdf hands every piece of its output to this callback, newlines included, so
    the lines built here are exactly the lines of ``extract_text()``.
    """

    def __init__(self, page: int, names: GlyphNames):
        self.page = page
        self.names = names
        self.lines: list[Line] = []
        self._current = Line("", page)
        self._weights: Counter[tuple[float, bool]] = Counter()
        self._bold: dict[int, bool] = {}  # by id() of the font dictionary, alive while the page is read

    def __call__(self, text: str, cm: list[float], tm: list[float], font: Any, font_size: float) -> None:
        if not text:
            return
        m = mult(tm, cm)
        size = round(abs(font_size) * math.hypot(m[2], m[3]), 2)
        bold = self._bold.get(id(font))
        if bold is None:
            bold = self._bold[id(font)] = _font_is_bold(font)
        text = self.names.decode(text, font)
        for i, piece in enumerate(text.split("\n")):
            if i:
                self._end_line()
            if not piece:
                continue
            line = self._current
            if line.x is None and not line.text.strip() and piece.strip() and i == 0:
                # Where a line's first visible glyph sits; unknown after a newline inside a piece.
                line.x, line.y, line.upright = m[4], m[5], m[0] > 0 and abs(m[1]) < 1e-3 * abs(m[0])
            line.text += piece
            line.spans.append((piece, size))
            line.origins.append((m[4], m[5]) if i == 0 else None)
            self._weights[(size, bold)] += len(piece.strip())

    def _end_line(self) -> None:
        line = self._current
        if line.text.strip():
            if self._weights:
                sizes: Counter[float] = Counter()
                bold_chars = 0
                for (size, bold), count in self._weights.items():
                    sizes[size] += count
                    bold_chars += count if bold else 0
                line.size = sizes.most_common(1)[0][0]
                line.bold = bold_chars * 2 > sum(sizes.values())
            self.lines.append(line)
        self._current = Line("", self.page)
        self._weights = Counter()

    def finish(self) -> list[Line]:
        self._end_line()
        return self.lines


def _outline_entries(reader: PdfReader) -> list[tuple[str, int, int]]:
    """(title, 0-based page, depth) of the PDF's bookmarks, in order; [] when it has none or they are broken."""
    entries: list[tuple[str, int, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            title = normalize_line(str(getattr(item, "title", "") or ""))
            page = reader.get_destination_page_number(item)
            if title and page is not None and page >= 0:
                entries.append((title, page, depth))

    try:
        walk(reader.outline, 0)
    except Exception as exc:  # (a broken outline only costs us the outline)
        log.debug("ignoring a broken outline: %s", exc)
        return []
    return entries


def _metadata(reader: PdfReader) -> tuple[str | None, list[str]]:
    """Title and authors from the document information, when they look like real ones."""
    try:
        info: Any = reader.metadata or {}
        title = _meaningful_title(info.get("/Title"))
        authors = _meaningful_authors(info.get("/Author"))
    except Exception as exc:  # (broken /Info dictionaries are common and harmless)
        log.debug("ignoring unreadable metadata: %s", exc)
        return None, []
    return title, authors


_JUNK_TITLES = {"untitled", "title", "no title", "paper", "document", "main", "manuscript", "arxiv", "slides"}
_FILE_NAME = re.compile(r"\.(?:pdf|docx?|tex|dvi|ps|rtf|odt|pptx?|indd)\s*$|^microsoft \w+ - |^untitled\b", re.I)


def _meaningful_title(value: Any) -> str | None:
    """The metadata title, unless it is empty, a placeholder or a file name."""
    title = normalize_line(str(value or ""))
    if len(title) < 4 or " " not in title or title.lower() in _JUNK_TITLES or _FILE_NAME.search(title):
        return None
    return title if sum(c.isalpha() for c in title) >= 4 else None


def _meaningful_authors(value: Any) -> list[str]:
    names = [normalize_line(n) for n in re.split(r"\s*(?:;|,|\band\b|&)\s*", str(value or ""))]
    names = [n for n in names if n]
    return names if names and all(looks_like_name(n) for n in names) else []


def page_count(path: Path) -> int | None:
    """How many pages a PDF has (from its page tree, no text read); None when pypdf cannot read it."""
    try:
        return len(PdfReader(path).pages)
    except Exception:  # noqa: BLE001 - (pypdf raises more than PyPdfError on broken files)
        return None
