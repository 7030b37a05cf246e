"""Extract clean text and sections from a paper PDF.

    extract_pdf(path, timeout=..., cache_dir=...) -> ExtractedPaper   # worker process + cache
    read_pdf(path) -> ExtractedPaper                                   # the work itself, in-process

pypdf runs in a worker process with a time limit, because some real pages take
minutes (huge content streams) and pypdf cannot be interrupted from a thread.
Results are cached as JSON by the PDF's SHA-256.

From pypdf's plain-mode text (which reads two-column pages column by column) and
the geometry its visitor callbacks report, the text is cleaned:

* text nobody sees (render mode 3/7, white, tiny, off the page) is dropped: it is
  a prompt-injection vector for the LLM stage;
* NFKC (ligatures), the arXiv side stamp, page numbers, running headers and
  footers and conference banners are removed;
* words hyphenated at line ends are re-joined unless the document spells them
  with a hyphen elsewhere; wrapped lines are joined into paragraphs;
* the text is split into sections from the PDF outline, or from heading patterns.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import multiprocessing
import os
import re
import sys
import tempfile
import traceback
import unicodedata
import warnings
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import pypdf
from pypdf import PdfReader
from pypdf.errors import DependencyError, EmptyFileError, FileNotDecryptedError, LimitReachedError
from pypdf.generic import ArrayObject, ByteStringObject, ContentStream, DecodedStreamObject, NameObject

from paperdiary.errors import (
    CorruptPdfError,
    EmptyPdfError,
    EncryptedPdfError,
    ExtractionError,
    ExtractionTimeoutError,
    ImageOnlyPdfError,
    PaperDiaryError,
)
from paperdiary.models import ExtractedPaper, Section, SectionKind

log = logging.getLogger(__name__)

# Bump when the extractor's output changes, so that cached results are redone.
FORMAT_VERSION = 1
_CACHE_KEY = f"{FORMAT_VERSION}/pypdf-{pypdf.__version__}"

# A document with fewer letters than this per page has no usable text layer.
_MIN_LETTERS_PER_PAGE = 20


# =========================================================================== public API


def extract_pdf(path: Path, *, timeout: float = 120.0, cache_dir: Path | None = None) -> ExtractedPaper:
    """Extract ``path`` in a worker process killed after ``timeout`` seconds, cached under ``cache_dir``.

    The cache lives in ``cache_dir / "text" / "<sha256>.json"``; a hit does not
    touch pypdf. Raises an ``ExtractionError`` subclass naming the file.
    """
    path = Path(path)
    data = _read_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    cache_file = Path(cache_dir) / "text" / f"{sha}.json" if cache_dir is not None else None
    if cache_file is not None:
        cached = _load_cached(cache_file, sha)
        if cached is not None:
            return cached
    paper = _run_in_worker(path, data, sha, timeout)
    if cache_file is not None:
        _store_cached(cache_file, paper)
    return paper


def read_pdf(path: Path) -> ExtractedPaper:
    """Extract ``path`` in this process, without cache or time limit."""
    path = Path(path)
    data = _read_bytes(path)
    return _parse(path, data, hashlib.sha256(data).hexdigest())


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExtractionError("no such PDF file: {subject}.", path=path, hint="Check the path.") from None
    except OSError as exc:
        raise ExtractionError("cannot read {subject}: {detail}.", path=path, detail=exc.strerror,
                              hint="Check the file's permissions.") from None
    if not data or data.isspace():
        raise EmptyPdfError("{subject} is empty (0 bytes of PDF).", path=path, hint="Download it again.")
    return data


# =========================================================================== worker process


def _mp_context() -> multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext:
    # fork starts in milliseconds; macOS and Windows need spawn (fork is unsafe or missing there).
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _run_in_worker(path: Path, data: bytes, sha: str, timeout: float) -> ExtractedPaper:
    """Run ``_parse`` in a child process; kill it when ``timeout`` runs out."""
    ctx = _mp_context()
    receiver, sender = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_worker_main, args=(sender, path, data, sha), name="paperdiary-extract", daemon=True)
    worker.start()
    sender.close()  # only the child writes: EOF on the receiver then means the child died
    try:
        if not receiver.poll(timeout):
            raise ExtractionTimeoutError(
                f"extracting {{subject}} took longer than {timeout:g} s and was stopped.", path=path,
                hint="Some PDFs hold huge pages; raise extract_timeout (PAPERDIARY_EXTRACT_TIMEOUT) to wait longer.",
            )
        status, payload = receiver.recv()
    except EOFError:
        worker.join(5)
        raise ExtractionError(
            f"the process extracting {{subject}} died (exit code {worker.exitcode}).", path=path,
            hint="The PDF may be malformed or too large for memory; try another copy of it.",
        ) from None
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        worker.join(5)
    if status == "ok":
        return payload
    if status == "error":
        raise payload
    raise RuntimeError(f"extracting {path} failed with an internal error:\n{payload}")


def _worker_main(conn: Any, path: Path, data: bytes, sha: str) -> None:
    """Child process: parse, then send ("ok", paper), ("error", PaperDiaryError) or ("crash", traceback)."""
    try:
        result: tuple[str, Any] = ("ok", _parse(path, data, sha))
    except PaperDiaryError as exc:  # pickles: (template,) in args, the fields and hint in __dict__
        result = ("error", exc)
    except BaseException:  # a bug in this module: the parent re-raises it with the child's traceback
        result = ("crash", traceback.format_exc())
    conn.send(result)
    conn.close()


# =========================================================================== cache


def _load_cached(cache_file: Path, sha: str) -> ExtractedPaper | None:
    """The cached extraction, or None when missing, unreadable or made by another extractor version."""
    try:
        record = json.loads(cache_file.read_text(encoding="utf-8"))
        if record.get("extractor") != _CACHE_KEY or record["paper"]["sha256"] != sha:
            return None
        fields = dict(record["paper"])
        fields["sections"] = [Section(**s) for s in fields["sections"]]
        return ExtractedPaper(**fields)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.debug("ignoring unreadable text cache %s: %s", cache_file, exc)
        return None


def _store_cached(cache_file: Path, paper: ExtractedPaper) -> None:
    """Write atomically (temp file + os.replace) so a killed run never leaves half a cache file."""
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    record = {"extractor": _CACHE_KEY, "paper": asdict(paper)}
    fd, tmp = tempfile.mkstemp(dir=cache_file.parent, prefix=cache_file.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, ensure_ascii=False)
        os.replace(tmp, cache_file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# =========================================================================== reading with pypdf


@dataclass
class _Line:
    """One line of pypdf's plain-mode output, with the geometry of its first glyph."""

    text: str
    page: int
    x: float | None = None
    y: float | None = None
    size: float = 0.0  # font size in points that carries most of the line's characters
    bold: bool = False
    upright: bool = True
    spans: list[tuple[str, float]] = field(default_factory=list)  # (text, size) pieces, for page 1 only


@dataclass
class _Page:
    lines: list[_Line]
    hidden_chars: int = 0


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


def _parse(path: Path, data: bytes, sha: str) -> ExtractedPaper:
    """The whole extraction of one PDF, in-process."""
    with _quiet_pypdf():
        reader = _open_reader(path, data)
        pages = _read_pages(path, reader)
        outline = _outline_entries(reader)
        meta_title, meta_authors = _metadata(reader)
    if sum(_letters(line.text) for page in pages for line in page.lines) < _MIN_LETTERS_PER_PAGE * len(pages):
        raise ImageOnlyPdfError(
            "{subject} has no text layer (scanned images?).", path=path,
            hint="Run OCR first, e.g. `ocrmypdf in.pdf out.pdf`, and give PaperDiary the result.",
        )
    return _assemble(sha, pages, outline, meta_title, meta_authors)


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


def _read_pages(path: Path, reader: PdfReader) -> list[_Page]:
    """Visible text of every page; a page pypdf cannot read is skipped, unless all are."""
    pages: list[_Page] = []
    failures = 0
    for index, page in enumerate(reader.pages):
        try:
            pages.append(_read_page(reader, page, index))
        except LimitReachedError as exc:
            raise _pdf_error(path, exc) from exc
        except Exception as exc:  # (any pypdf failure on one broken page)
            failures += 1
            log.warning("%s: page %d could not be read (%s); it is skipped.", path, index + 1, exc)
            pages.append(_Page(lines=[]))
    if failures == len(pages):
        raise _corrupt(path, "no page could be read")
    return pages


def _read_page(reader: PdfReader, page: Any, index: int) -> _Page:
    """Text of one page without invisible text.

    Pass 1 extracts everything while tracking, per text-showing operator, whether
    it is visible. If some is not, pass 2 extracts again with those operators'
    strings blanked, which keeps pypdf's reading order (columns) intact.
    """
    scan = _VisibilityScan(_page_box(page), page)
    lines = _LineBuilder(index)
    text = page.extract_text(visitor_operand_before=scan.before, visitor_operand_after=scan.after, visitor_text=lines)
    if not scan.hidden:
        return _Page(lines.finish())
    _blank_hidden_text(reader, page, scan)
    visible = _LineBuilder(index)
    visible_text = page.extract_text(visitor_text=visible)
    dropped = _non_space(text) - _non_space(visible_text)
    return _Page(visible.finish(), hidden_chars=max(dropped, 0))


def _page_box(page: Any) -> tuple[float, float, float, float] | None:
    """The visible area (crop box, else media box); None when both are degenerate."""
    for box in (page.cropbox, page.mediabox):
        left, bottom, right, top = (float(v) for v in (box.left, box.bottom, box.right, box.top))
        if right - left >= 36 and top - bottom >= 36:
            return left, bottom, right, top
    return None


def _non_space(text: str) -> int:
    return len(text) - sum(text.count(c) for c in " \n\t\r")


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def _mult(m: list[float], n: list[float]) -> list[float]:
    """Product of two PDF affine matrices [a b c d e f]."""
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


_TEXT_SHOWING = {b"Tj", b"TJ", b"'", b'"'}
_STATE_OPERATORS = {b"q", b"Q", b"Tr", b"Tf", b"g", b"rg", b"k", b"G", b"RG", b"K", b"cs", b"CS", b"sc", b"scn",
                    b"SC", b"SCN"}
_DEVICE_SPACES = {"/DeviceGray": 1, "/CalGray": 1, "/DeviceRGB": 3, "/CalRGB": 3, "/DeviceCMYK": 4}


@dataclass
class _GraphicsState:
    """The part of the PDF graphics state that decides whether text is seen."""

    render_mode: int = 0
    font_size: float = 0.0
    fill_white: bool = False
    stroke_white: bool = False
    fill_components: int | None = 1  # components of the fill colour space; None: not a plain colour
    stroke_components: int | None = 1


@dataclass
class _Frame:
    """A content stream being interpreted: the page's, or a form XObject's."""

    resources: Any
    slot: tuple[Any, str] | None  # (the /XObject dictionary, name) holding this form; None for the page
    op_index: int = -1


class _VisibilityScan:
    """``visitor_operand_before``/``after`` callbacks that find text-showing operators nobody sees."""

    def __init__(self, box: tuple[float, float, float, float] | None, page: Any):
        self.box = box
        self.state = _GraphicsState()
        self.stack: list[_GraphicsState] = []
        self.frames = [_Frame(resources=_resources(page), slot=None)]
        # Hidden operator indices per stream: None for the page's, else (id of the /XObject dictionary, name).
        self.hidden: dict[tuple[int, str] | None, set[int]] = {}
        self.slots: dict[tuple[int, str], tuple[Any, str]] = {}

    def before(self, operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        frame = self.frames[-1]
        frame.op_index += 1
        if operator in _TEXT_SHOWING:
            if not self._visible(cm, tm):
                key = None
                if frame.slot is not None:
                    key = (id(frame.slot[0]), frame.slot[1])
                    self.slots[key] = frame.slot
                self.hidden.setdefault(key, set()).add(frame.op_index)
        elif operator == b"Do":
            self.frames.append(self._form_frame(frame, operands))
        elif operator in _STATE_OPERATORS:
            self._update_state(operator, operands, frame)

    def after(self, operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        if operator == b"Do" and len(self.frames) > 1:
            self.frames.pop()

    def _form_frame(self, parent: _Frame, operands: list[Any]) -> _Frame:
        """The frame for a form XObject's own operators, which pypdf visits between Do's callbacks."""
        try:
            xobjects = parent.resources["/XObject"].get_object()
            name = str(operands[0])
            form = xobjects[name].get_object()
            resources = form.get("/Resources", parent.resources).get_object()
            return _Frame(resources=resources, slot=(xobjects, name))
        except (KeyError, IndexError, AttributeError, TypeError):
            return _Frame(resources=parent.resources, slot=None)

    def _update_state(self, operator: bytes, operands: list[Any], frame: _Frame) -> None:
        state = self.state
        numbers = [float(o) for o in operands if isinstance(o, (int, float))]
        if operator == b"q":
            self.stack.append(_GraphicsState(**vars(state)))
        elif operator == b"Q":
            if self.stack:
                self.state = self.stack.pop()
        elif operator == b"Tr" and numbers:
            state.render_mode = int(numbers[0])
        elif operator == b"Tf" and numbers:
            state.font_size = numbers[-1]
        elif operator in (b"g", b"rg", b"k"):
            state.fill_white, state.fill_components = _is_white(numbers, len(numbers)), len(numbers)
        elif operator in (b"G", b"RG", b"K"):
            state.stroke_white, state.stroke_components = _is_white(numbers, len(numbers)), len(numbers)
        elif operator == b"cs" and operands:
            state.fill_components = _components(frame.resources, operands[0])
            state.fill_white = False
        elif operator == b"CS" and operands:
            state.stroke_components = _components(frame.resources, operands[0])
            state.stroke_white = False
        elif operator in (b"sc", b"scn"):
            state.fill_white = _is_white(numbers, state.fill_components)
        elif operator in (b"SC", b"SCN"):
            state.stroke_white = _is_white(numbers, state.stroke_components)

    def _visible(self, cm: list[float], tm: list[float]) -> bool:
        state = self.state
        mode = state.render_mode
        if mode in (3, 7):  # invisible, or clipping only
            return False
        fills, strokes = mode in (0, 2, 4, 6), mode in (1, 2, 5, 6)
        if (not fills or state.fill_white) and (not strokes or state.stroke_white):
            return False
        m = _mult(tm, cm)
        if abs(state.font_size) * math.hypot(m[2], m[3]) < 1.0:  # below 1 pt nobody reads it
            return False
        if len(self.frames) > 1 or self.box is None:
            return True  # pypdf does not apply a form's matrix, so positions inside forms are not page positions
        x0, y0, x1, y1 = self.box
        slack = max(abs(state.font_size) * math.hypot(m[0], m[1]), 1.0)
        return x0 - slack <= m[4] <= x1 + slack and y0 - slack <= m[5] <= y1 + slack


def _resources(page: Any) -> Any:
    try:
        return page["/Resources"].get_object()
    except (KeyError, AttributeError):
        return {}


def _components(resources: Any, name: Any) -> int | None:
    """Number of colour components of a colour space, when white can be told from them."""
    name = str(name)
    if name in _DEVICE_SPACES:
        return _DEVICE_SPACES[name]
    try:
        space = resources["/ColorSpace"][name].get_object()
        if isinstance(space, ArrayObject) and str(space[0]) == "/ICCBased":
            return int(space[1].get_object()["/N"])
        if isinstance(space, ArrayObject) and str(space[0]) in _DEVICE_SPACES:
            return _DEVICE_SPACES[str(space[0])]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        pass
    return None  # Separation, Indexed, Pattern...: a tint of 1 may well be black


def _is_white(values: list[float], components: int | None) -> bool:
    if components is None or len(values) != components:
        return False
    if components == 4:  # CMYK: no ink
        return all(v <= 0.01 for v in values)
    return all(v >= 0.99 for v in values)


def _blank_hidden_text(reader: PdfReader, page: Any, scan: _VisibilityScan) -> None:
    """Empty the strings of the hidden text operators, in the page and in form XObjects."""
    for key, indices in scan.hidden.items():
        if key is None:
            stream = ContentStream(page["/Contents"].get_object(), reader, "bytes")
            _blank_operations(stream, indices)
            page[NameObject("/Contents")] = stream
            continue
        xobjects, name = scan.slots[key]
        form = xobjects[name].get_object()
        stream = ContentStream(form, reader, "bytes")
        _blank_operations(stream, indices)
        # A plain decoded copy: set_data on the original only supports Flate-encoded streams.
        copy = DecodedStreamObject()
        copy.update({k: v for k, v in form.items() if k not in ("/Filter", "/DecodeParms", "/Length")})
        copy.set_data(stream.get_data())
        xobjects[NameObject(name)] = copy


def _blank_operations(stream: ContentStream, indices: set[int]) -> None:
    operations = stream.operations
    for index in indices:
        if index < len(operations):
            operands, operator = operations[index]
            operations[index] = ([_blank(o) for o in operands], operator)
    stream.operations = operations


def _blank(operand: Any) -> Any:
    if isinstance(operand, ArrayObject):
        return ArrayObject()
    if isinstance(operand, (str, bytes)) and not isinstance(operand, NameObject):
        return ByteStringObject(b"")
    return operand


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

    def __init__(self, page: int):
        self.page = page
        self.lines: list[_Line] = []
        self._current = _Line("", page)
        self._weights: Counter[tuple[float, bool]] = Counter()
        self._bold: dict[int, bool] = {}  # by id() of the font dictionary, alive while the page is read

    def __call__(self, text: str, cm: list[float], tm: list[float], font: Any, font_size: float) -> None:
        if not text:
            return
        m = _mult(tm, cm)
        size = round(abs(font_size) * math.hypot(m[2], m[3]), 2)
        bold = self._bold.get(id(font))
        if bold is None:
            bold = self._bold[id(font)] = _font_is_bold(font)
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
        self._current = _Line("", self.page)
        self._weights = Counter()

    def finish(self) -> list[_Line]:
        self._end_line()
        if self.page != 0:  # spans are only used to read the title and authors off page 1
            for line in self.lines:
                line.spans = []
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
    return names if names and all(_looks_like_name(n) for n in names) else []


# =========================================================================== cleaning


def normalize_line(text: str) -> str:
    """NFKC (ligatures, compatibility forms), no control characters, single spaces.

    A soft hyphen survives only at the end, where it tells ``join_lines`` to join.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    soft_end = text.endswith("\u00ad")
    text = "".join(c if c.isprintable() else " " for c in text.replace("\u00ad", ""))
    return " ".join(text.split()) + ("\u00ad" if soft_end else "")


_STAMP = re.compile(
    r"arXiv:\s*(\d{4}\.\d{4,5}(?:\s*v\s*\d+)?|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(?:\s*v\s*\d+)?)"
    r"\s*\[[^\]]{2,25}\]\s*\d{1,2}\s*[A-Z][a-z]{2}\s*\d{4}"
)
_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?|[ivxlc]{1,7}|[-–—]\s*\d{1,4}\s*[-–—]", re.IGNORECASE
)
_BANNER = re.compile(
    r"^(?:published as a (?:conference|workshop) paper at|under review as a conference paper|"
    r"preprint\b|proceedings of|\d+(?:st|nd|rd|th) conference on|accepted (?:at|to|as|in)\b|"
    r"workshop on\b|copyright\b|©|to appear in\b|in submission to\b)",
    re.IGNORECASE,
)
_LETTER_SPACED = re.compile(r"(?:\S ){10}")  # "a r X i v : 1 7 0 6 ..."
_EDGE_LINES = 3  # how many lines at a page's top and foot can be furniture


def _normalize_pages(pages: list[_Page]) -> None:
    """NFKC every line, drop empty ones (in place)."""
    for page in pages:
        for line in page.lines:
            line.text = normalize_line(line.text)
        page.lines = [line for line in page.lines if line.text]


def _remove_stamp(pages: list[_Page]) -> str | None:
    """Remove the arXiv side stamp and return its ID.

    pypdf gives the stamp as a line ("arXiv:1706.03762v5 [cs.CL] 6 Dec 2017"), as a
    letter-spaced line ("a r X i v : 1 7 0 6 ...") or as a run of one-glyph lines.
    """
    stamp_id = None
    for page in pages:
        kept: list[_Line] = []
        lines = page.lines
        i = 0
        while i < len(lines):
            run_end = i
            while run_end < len(lines) and len(lines[run_end].text) <= 2:
                run_end += 1
            if run_end - i >= 12 and (match := _STAMP.search("".join(line.text for line in lines[i:run_end]))):
                stamp_id = stamp_id or _stamp_id(match)
                i = run_end
                continue
            line = lines[i]
            i += 1
            line.text, found = _cut_stamp(line.text)
            stamp_id = stamp_id or found
            if line.text:
                kept.append(line)
        page.lines = kept
    return stamp_id


def _cut_stamp(text: str) -> tuple[str, str | None]:
    """The line without the stamp, and the stamp's ID; the stamp may be letter-spaced inside it."""
    if match := _STAMP.search(text):
        return (text[: match.start()] + text[match.end() :]).strip(), _stamp_id(match)
    if not _LETTER_SPACED.search(text):
        return text, None
    # Match on the text without spaces, then map the match back onto the line.
    kept = [i for i, c in enumerate(text) if c != " "]
    if not (match := _STAMP.search("".join(text[i] for i in kept))):
        return text, None
    start, end = kept[match.start()], kept[match.end() - 1] + 1
    return (text[:start] + text[end:]).strip(), _stamp_id(match)


def _stamp_id(match: re.Match[str]) -> str:
    return re.sub(r"\s+", "", match.group(1))


def _edge_indices(page: _Page) -> list[int]:
    n = len(page.lines)
    return sorted(set(range(min(_EDGE_LINES, n))) | set(range(max(0, n - _EDGE_LINES), n)))


def _furniture_key(line: _Line) -> tuple[str, int | None]:
    """Text with digits masked, and height on the page: a running header recurs at the same place."""
    height = None if line.y is None else round(line.y / 4)
    return re.sub(r"\d+", "#", " ".join(line.text.lower().split())), height


def _remove_furniture(pages: list[_Page]) -> None:
    """Remove page numbers, banners and running headers/footers from the pages' top and foot lines.

    A running header is a top or foot line that recurs, digits aside, at the same
    height on many pages; a line ending inside a word or sentence ("unsta-") is text.
    """
    recurring: Counter[tuple[str, int | None]] = Counter()
    for page in pages:
        recurring.update({_furniture_key(page.lines[i]) for i in _edge_indices(page)})
    threshold = max(3, math.ceil(0.3 * len(pages)))

    def furniture(line: _Line) -> bool:
        if _PAGE_NUMBER.fullmatch(line.text) or _BANNER.match(line.text):
            return True
        return recurring[_furniture_key(line)] >= threshold and not line.text.endswith(("-", ","))

    for page in pages:
        drop = {i for i in _edge_indices(page) if furniture(page.lines[i])}
        page.lines = [line for i, line in enumerate(page.lines) if i not in drop]


def _move_footnotes(lines: list[_Line], body_size: float) -> list[_Line]:
    """Move a page's footnotes past the paragraph that runs over onto the next page.

    pypdf emits footnotes after the page's last body line: left there, they would
    cut that paragraph in two. Footnotes are the small print ending a page, between
    a body line that does not end a sentence and a lowercase body line.
    """
    out = list(lines)
    i = 0
    while i + 1 < len(out):
        if out[i].page == out[i + 1].page or not _is_small(out[i], body_size):
            i += 1
            continue
        start = i
        while start > 0 and out[start - 1].page == out[i].page and _is_small(out[start - 1], body_size):
            start -= 1
        before, after = (out[start - 1] if start else None), out[i + 1]
        if before is None or not _continues(before, after, body_size):
            i += 1
            continue
        run = out[start : i + 1]
        del out[start : i + 1]
        target = start  # after the line that ends the continued paragraph's sentence, else at the page end
        while target < len(out) and out[target].page == after.page:
            target += 1
            if _ENDS_SENTENCE.search(out[target - 1].text):
                break
        out[target:target] = run
        i = target + len(run)
    return out


def _continues(before: _Line, after: _Line, body_size: float) -> bool:
    """Whether ``after`` carries on the sentence of ``before`` (both body text)."""
    body = abs(before.size - body_size) < 0.5 and abs(after.size - body_size) < 0.5
    return body and not _ENDS_SENTENCE.search(before.text) and after.text[:1].islower()


def _is_small(line: _Line, body_size: float) -> bool:
    return 0 < line.size < body_size - 0.8


# --------------------------------------------------------------------------- de-hyphenation


_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_SPLIT_WORD = re.compile(r"([^\W\d_]+)[-\u2010]$")  # U+2010 HYPHEN too; a soft hyphen (U+00AD) always joins
_NEXT_WORD = re.compile(r"([^\W\d_]+)(-?)")
# Halves that make compounds in papers' prose ("self-", "multi-"; "-based", "-aware"): kept when unsure.
_COMPOUND_PREFIXES = frozenset(
    "self non multi cross semi well state end high low large small long short fine coarse half "
    "one two three four zero few many open real intra anti quasi pseudo meta".split()
)
_COMPOUND_SUFFIXES = frozenset(
    "based aware level scale wise specific free like style driven forward trained tuned tuning agnostic "
    "dependent independent oriented efficient intensive bound grained sized shot off".split()
)


@dataclass
class Vocabulary:
    """How the document spells words away from line ends: plain and hyphenated."""

    words: Counter[str] = field(default_factory=Counter)
    hyphenated: Counter[str] = field(default_factory=Counter)  # "self-attention", also pairs of longer compounds

    @classmethod
    def of(cls, texts: list[str]) -> Vocabulary:
        vocab = cls()
        previous_split = False
        for text in texts:
            tokens = _WORD.findall(text)
            splits = bool(_SPLIT_WORD.search(text))
            # Skip the halves of a word split across lines: they are what we must decide about.
            usable = tokens[1 if previous_split else 0 : len(tokens) - (1 if splits else 0)]
            for token in usable:
                vocab.add(token.lower())
            previous_split = splits
        return vocab

    def has_stem(self, word: str) -> bool:
        """Whether some word of the document starts like ``word`` ("aligned" -> "aligning")."""
        if len(word) < 4:
            return False
        stem = word[:5]
        i = bisect_left(self._sorted_words, stem)
        return i < len(self._sorted_words) and self._sorted_words[i].startswith(stem)

    @cached_property
    def _sorted_words(self) -> list[str]:
        return sorted(self.words)

    def add(self, token: str) -> None:
        parts = token.split("-")
        self.words.update(parts if len(parts) > 1 else [token])
        for a, b in pairwise(parts):
            self.hyphenated[f"{a}-{b}"] += 1


def keep_hyphen(first: str, second: str, vocab: Vocabulary, *, compound_continues: bool = False) -> bool:
    """Whether ``first-`` at a line end and ``second`` on the next line form a hyphenated word.

    ``compound_continues``: the next line's word goes on with another hyphen
    ("English-" / "to-German"). The document's own spelling elsewhere decides
    first; then a capitalised second half ("Transformer-" / "Based") or an acronym
    keeps the hyphen; then two halves that are words of their own ("sequence-" /
    "aligned") or usual compound parts ("feed-" / "forward") keep it, while a half
    that is no word ("repre-" / "sentation") joins.
    """
    if compound_continues:
        return True
    a, b = first.lower(), second.lower()
    hyphenated, joined = vocab.hyphenated[f"{a}-{b}"], vocab.words[a + b]
    if hyphenated or joined:
        return hyphenated >= joined
    if second[:1].isupper() or len(first) == 1 or any(c.isupper() for c in first[1:]):  # "k-means", "IO-aware"
        return True
    if len(a) >= 3 and b in _COMPOUND_SUFFIXES:
        return True
    first_is_word = (len(a) >= 3 and vocab.words[a] > 0) or a in _COMPOUND_PREFIXES
    return first_is_word and ((len(b) >= 3 and vocab.words[b] > 0) or vocab.has_stem(b))


def join_lines(texts: list[str], vocab: Vocabulary) -> str:
    """Join the wrapped lines of a paragraph, re-joining words hyphenated at line ends."""
    if not texts:
        return ""
    pieces = [texts[0]]
    for text in texts[1:]:
        previous = pieces[-1]
        if previous.endswith("\u00ad"):
            pieces[-1] = previous[:-1]
        elif (split := _SPLIT_WORD.search(previous)) and (word := _NEXT_WORD.match(text)):
            if not keep_hyphen(split.group(1), word.group(1), vocab, compound_continues=bool(word.group(2))):
                pieces[-1] = previous[:-1]
        elif not previous.endswith(("-", "\u2010", "—", "–", "/")):
            pieces.append(" ")
        pieces.append(text)
    return "".join(pieces)


# --------------------------------------------------------------------------- paragraphs

_ENDS_SENTENCE = re.compile(r"[.!?:][\"'”’)\]]*$")
_OPENERS = "0123456789([“\"‘'∗*†‡§"  # besides capitals, what a new paragraph may start with
_BULLET = re.compile(r"^[•◦▪‣∙·*–]\s")
_ENUMERATION = re.compile(r"^(?:\(?(?:[ivx]{1,4}|[a-h]|\d{1,2})\)|\d{1,2}\.)\s+[A-Z(]")


@dataclass
class _Layout:
    """Per-document numbers the paragraph rules compare against."""

    body_size: float
    leading: float
    full_length: dict[int, int]  # page -> characters in a full line
    x_counts: dict[int, Counter[int]]  # page -> how many lines start at each x (rounded)

    @classmethod
    def of(cls, lines: list[_Line]) -> _Layout:
        sizes: Counter[float] = Counter()
        for line in lines:
            sizes[line.size] += len(line.text)
        body_size = sizes.most_common(1)[0][0] if sizes else 10.0
        steps = [
            a.y - b.y
            for a, b in pairwise(lines)
            if a.page == b.page and a.y is not None and b.y is not None and abs(a.size - body_size) < 0.5
            and abs(b.size - body_size) < 0.5 and 0.8 * body_size < a.y - b.y < 2.5 * body_size
        ]
        leading = sorted(steps)[len(steps) // 2] if steps else 1.2 * body_size
        by_page: dict[int, list[int]] = {}
        x_counts: dict[int, Counter[int]] = {}
        for line in lines:
            if abs(line.size - body_size) < 0.5:
                by_page.setdefault(line.page, []).append(len(line.text))
                if line.x is not None:
                    x_counts.setdefault(line.page, Counter())[round(line.x)] += 1
        full = {page: sorted(lengths)[int(0.8 * (len(lengths) - 1))] for page, lengths in by_page.items()}
        return cls(body_size, leading, full, x_counts)

    def short(self, line: _Line) -> bool:
        return len(line.text) < 0.75 * self.full_length.get(line.page, 80)

    def indented(self, line: _Line) -> bool:
        """Starts 3-25 pt right of an x where more lines of its page start (a paragraph indent)."""
        if line.x is None:
            return False
        counts = self.x_counts.get(line.page, Counter())
        x = round(line.x)
        mine = sum(counts[x + d] for d in (-1, 0, 1))
        return any(counts[m] >= 3 and counts[m] > mine for m in range(x - 25, x - 2))

    def gap(self, before: _Line, after: _Line) -> float:
        """Vertical space between two lines in units of leading (0 across pages and columns)."""
        if before.page != after.page or before.y is None or after.y is None or after.y >= before.y:
            return 0.0
        return (before.y - after.y) / self.leading


def _paragraph_break(before: _Line, after: _Line, layout: _Layout) -> bool:
    """Whether ``after`` starts a new paragraph (pypdf gives no blank lines: judge by layout)."""
    if _BULLET.match(after.text) or abs(before.size - after.size) > 1.0:
        return True
    if _ENUMERATION.match(after.text) and before.text.endswith((".", ":", ";")):
        return True  # "1. We..." after a finished sentence; not "...a batch size of" / "8. We show"
    gap = layout.gap(before, after)
    if gap > 2.0:
        return True
    if not _ENDS_SENTENCE.search(before.text) or not (after.text[0].isupper() or after.text[0] in _OPENERS):
        return False
    return layout.short(before) or layout.indented(after) or gap > 1.3


def _paragraphs(lines: list[_Line], layout: _Layout, vocab: Vocabulary) -> str:
    """Text with one paragraph per line-joined run, paragraphs separated by a blank line."""
    paragraphs: list[list[str]] = []
    for i, line in enumerate(lines):
        if i == 0 or _paragraph_break(lines[i - 1], line, layout):
            paragraphs.append([])
        paragraphs[-1].append(line.text)
    return "\n\n".join(join_lines(p, vocab) for p in paragraphs)


# =========================================================================== sections


@dataclass
class _Heading:
    line: int  # index into the document's lines
    title: str
    level: int = 1
    kind: SectionKind | None = None  # "abstract", "references", "appendix"; None: decided by position
    rest: str | None = None  # text after a run-in heading ("Acknowledgements We thank...")
    consumes: int = 1  # lines that print the heading: 2 for a title over two lines, 0 for a page fallback


_ABSTRACT = re.compile(r"^abstract\b[\s.:—–-]*(.*)$", re.IGNORECASE)
_REFERENCES = re.compile(r"^(?:\d{1,2}\.?\s+)?(references|bibliography|literature cited)\s*$", re.IGNORECASE)
_ACKNOWLEDGEMENTS = re.compile(r"^(?:\d{1,2}\.?\s+)?(acknowledge?ments?)\b[\s.:—–-]*(.*)$", re.IGNORECASE)
_APPENDIX = re.compile(
    r"^(?:appendix|appendices|supplementary materials?)(?:\s+([A-Z])\b)?[\s.:—–-]*(.{0,80})$", re.IGNORECASE
)
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.{0,90})$")
_LETTERED = re.compile(r"^([A-H])((?:\.\d{1,2}){0,3})\s+(\S.{0,90})$")
_ALL_CAPS_SINGLE = frozenset(
    "INTRODUCTION BACKGROUND METHOD METHODS METHODOLOGY APPROACH EXPERIMENTS RESULTS EVALUATION "
    "DISCUSSION CONCLUSION CONCLUSIONS LIMITATIONS ANALYSIS ACKNOWLEDGMENTS ACKNOWLEDGEMENTS".split()
)
_SMALL_WORDS = frozenset("a an and as at by for from in of on or the to via vs with without under over into".split())


def _titleish(title: str) -> bool:
    """Looks like a section title: short, starts with a capital, mostly words, not a sentence."""
    words = title.split()
    if not 1 <= len(words) <= 12 or not title[0].isupper() or title.endswith((".", ",", ";")):
        return False
    if re.search(r"[=<>≤≥±∑∫{}]|\d\s*%|\s\d+(?:\.\d+)?\s+\d", title):  # formulas, table rows
        return False
    letters = sum(c.isalpha() for c in title)
    if letters < 3 or letters < 0.6 * len(title.replace(" ", "")):
        return False
    lowercase = [w for w in words[1:] if w[:1].islower() and w.lower() not in _SMALL_WORDS]
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


class _PatternHeadings:
    """Finds headings in the text when the PDF has no outline; also finds the unnumbered ones."""

    def __init__(self, lines: list[_Line], layout: _Layout):
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

    def _not_small(self, line: _Line) -> bool:
        """Numbered headings are set at least as large as the body (unlike affiliations, captions)."""
        return line.size >= self.layout.body_size - 0.6

    def _unnumbered(self, index: int, line: _Line, found: list[_Heading]) -> _Heading | None:
        """Abstract (first only), References, Acknowledgements, Appendix, ALL-CAPS headings."""
        text = line.text
        kinds = {h.kind for h in found}
        # Run-in forms ("Abstract—We...", "Acknowledgements We thank...") go on with a capital.
        if not found and (m := _ABSTRACT.match(text)) and (not m.group(1) or m.group(1)[:1].isupper()):
            return _Heading(index, "Abstract", kind="abstract", rest=m.group(1) or None)
        if "references" not in kinds and (m := _REFERENCES.match(text)):
            return _Heading(index, m.group(1).title(), kind="references")
        if (m := _ACKNOWLEDGEMENTS.match(text)) and (not m.group(2) or m.group(2)[:1].isupper()):
            return _Heading(index, m.group(1).capitalize(), rest=m.group(2) or None)
        if (m := _APPENDIX.match(text)) and (not m.group(2) or _titleish(m.group(2))):
            return _Heading(index, text, kind="appendix")
        if text.isupper() and self._not_small(line) and self._all_caps_heading(line):
            return _Heading(index, text)
        return None

    def _all_caps_heading(self, line: _Line) -> bool:
        words = line.text.split()
        if not all(w.isalpha() and len(w) >= 2 for w in words) or len(words) > 6:
            return False
        if len(words) == 1:
            return words[0] in _ALL_CAPS_SINGLE
        return line.bold or line.size > self.layout.body_size + 0.5

    def _numbered(
        self,
        index: int,
        line: _Line,
        number: tuple[int, ...] | None,
        letter: tuple[str, tuple[int, ...]] | None,
        after_references: bool,
    ) -> tuple[_Heading | None, tuple[int, ...] | None, tuple[str, tuple[int, ...]] | None]:
        """A "3.2 Title" heading (monotonic numbers) or, in appendices, "B.1 Title"; returns new counters."""
        if not self._not_small(line):
            return None, number, letter
        if (m := _NUMBERED.match(line.text)) and _titleish(m.group(2)):
            candidate = tuple(int(n) for n in m.group(1).split("."))
            if _next_number(number, candidate):
                kind: SectionKind | None = "appendix" if after_references else None
                return _Heading(index, line.text, level=len(candidate), kind=kind), candidate, letter
        if (after_references or letter) and (m := _LETTERED.match(line.text)) and _titleish(m.group(3)):
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


def _outline_headings(lines: list[_Line], entries: list[tuple[str, int, int]]) -> list[_Heading]:
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


def _find_outline_heading(lines: list[_Line], title: str, page: int, depth: int, start: int) -> _Heading | None:
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


def _merge(outline: list[_Heading], patterns: list[_Heading]) -> list[_Heading]:
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


def _build_sections(
    lines: list[_Line], headings: list[_Heading], layout: _Layout, vocab: Vocabulary, title: str | None
) -> list[Section]:
    sections: list[Section] = []
    first = headings[0].line if headings else len(lines)
    if first > 0:
        kind: SectionKind = "front" if headings else "body"
        sections.append(Section(title or "Front matter", _paragraphs(lines[:first], layout, vocab), kind, 1, 0))
    for i, (heading, kind) in enumerate(zip(headings, _kinds(headings))):
        end = headings[i + 1].line if i + 1 < len(headings) else len(lines)
        body = lines[heading.line + heading.consumes : end]
        if heading.rest:
            body = [_Line(heading.rest, lines[heading.line].page, size=lines[heading.line].size), *body]
        text = _paragraphs(body, layout, vocab)
        sections.append(Section(heading.title, text, kind, heading.level, lines[heading.line].page))
    return sections


# =========================================================================== title and authors

_AFFILIATION = re.compile(
    r"\b(?:universit\w*|institut\w*|college|school|department|dept|laborator\w*|labs?|research|centre|center|"
    r"inc|corp\w*|ltd|gmbh|google|deepmind|microsoft|meta|facebook|openai|amazon|apple|nvidia|ibm|brain|ai|"
    r"academy|faculty|hospital|foundation|company)\b",
    re.IGNORECASE,
)
_NAME_PARTICLES = frozenset("van von der den de del della di da du dos la le bin al ibn y".split())


def _looks_like_name(name: str) -> bool:
    tokens = name.split()
    if not 2 <= len(tokens) <= 5:
        return False
    for token in tokens:
        if token.lower() in _NAME_PARTICLES:
            continue
        if not re.fullmatch(r"[^\W\d_][^\W\d_'’.\-]*\.?|[^\W\d_]\.(?:-?[^\W\d_]\.)*", token) or not token[0].isupper():
            return False
    return not _AFFILIATION.search(name)


def _title_lines(lines: list[_Line]) -> tuple[list[_Line], int]:
    """The title's lines on page 1: the largest upright font before the abstract, not a banner or the stamp.

    Returns them and the index of the line after them.
    """
    abstract = next((i for i, line in enumerate(lines) if _ABSTRACT.match(line.text)), len(lines))
    candidates = [
        (i, line)
        for i, line in enumerate(lines[:abstract])
        if line.upright and _letters(line.text) >= 3 and not _BANNER.match(line.text) and not _STAMP.search(line.text)
    ]
    if not candidates:
        return [], 0
    largest = max(line.size for _, line in candidates)
    run: list[_Line] = []
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


def _title_and_authors(lines: list[_Line], vocab: Vocabulary) -> tuple[str | None, list[str]]:
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
        numbered = _NUMBERED.match(line.text)
        if _ABSTRACT.match(line.text) or (numbered and _titleish(numbered.group(2))):
            break
        authors.extend(_author_names(_drop_marks(line)))
    return title.strip(" .") or None, list(dict.fromkeys(authors))


def _drop_marks(line: _Line) -> str:
    """The line without superscripts (footnote and affiliation marks are set in a smaller font)."""
    return "".join(text for text, size in line.spans if size >= 0.8 * line.size) or line.text


def _author_names(text: str) -> list[str]:
    """The names on an author line, or [] when it is not one (affiliation, e-mail, date...)."""
    text = normalize_line(text)
    if "@" in text or re.search(r"\d", text) or _BANNER.match(text) or len(text) > 150:
        return []
    text = re.sub(r"[*∗†‡§¶♯♭⋆]+", "", text)
    names = [n.strip(" .") for n in re.split(r"\s*(?:,|;|\band\b|&|·)\s*", text)]
    names = [n for n in names if n]
    return names if names and all(_looks_like_name(n) for n in names) else []


# =========================================================================== assembly


def _assemble(
    sha: str, pages: list[_Page], outline: list[tuple[str, int, int]], meta_title: str | None, meta_authors: list[str]
) -> ExtractedPaper:
    """From pages of lines to the cleaned, sectioned paper."""
    _normalize_pages(pages)
    first_page = list(pages[0].lines)
    stamp_id = _remove_stamp(pages)
    _remove_furniture(pages)
    lines = [line for page in pages for line in page.lines]
    layout = _Layout.of(lines)
    lines = _move_footnotes(lines, layout.body_size)
    vocab = Vocabulary.of([line.text for line in lines])
    page_title, page_authors = _title_and_authors(first_page, vocab)
    title = meta_title or page_title
    patterns = _PatternHeadings(lines, layout)
    headings = _outline_headings(lines, outline) if outline else []
    # The outline lacks unnumbered headings (Abstract, References...): patterns add those.
    headings = _merge(headings, patterns.find(numbered=False)) if headings else patterns.find(numbered=True)
    return ExtractedPaper(
        sha256=sha,
        pages=len(pages),
        sections=_build_sections(lines, headings, layout, vocab, title),
        title=title,
        authors=meta_authors or page_authors,
        invisible_chars_dropped=sum(page.hidden_chars for page in pages),
        arxiv_stamp_id=stamp_id,
    )
