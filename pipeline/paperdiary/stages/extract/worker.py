"""Extraction in a worker process with a time limit, and its cache.

pypdf runs in a child process killed when the time is up, because some real
pages take minutes (huge content streams) and pypdf cannot be interrupted from
a thread; a LaTeX source or an HTML rendering is read the same way. Results are
cached as JSON by the file's SHA-256, per extractor version.

The worker is ``isolate.run_isolated``'s: it dies with its parent, a ``kill -9``
included, so nothing of a killed run stays behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path

import pypdf
import pypdfium2

from paperdiary.errors import EmptyPdfError, ExtractionError, ExtractionTimeoutError, PaperDiaryError
from paperdiary.fsutil import atomic_write_text
from paperdiary.isolate import ChildCrashed, ChildDied, ChildTimeout, run_isolated
from paperdiary.models import ExtractedPaper, Section, SourceKind
from paperdiary.stages.extract.assemble import parse
from paperdiary.stages.sources import UnusableSource, read_source

log = logging.getLogger(__name__)


# Bump when the extractor's output changes, so that cached results are redone.
FORMAT_VERSION = 3
_CACHE_KEY = f"{FORMAT_VERSION}/pypdf-{pypdf.__version__}/pdfium-{pypdfium2.version.PYPDFIUM_INFO}"
SOURCE_MAX_BYTES = 100 * 1024 * 1024  # a LaTeX source's decompressed size, unless the caller says otherwise


def extract_pdf(path: Path, *, timeout: float = 120.0, cache_dir: Path | None = None) -> ExtractedPaper:
    """Extract the PDF ``path`` in a worker process killed after ``timeout`` seconds, cached under ``cache_dir``."""
    return extract_file(path, "pdf", timeout=timeout, cache_dir=cache_dir)


def extract_file(path: Path, source: SourceKind, *, timeout: float = 120.0, cache_dir: Path | None = None,
                 max_source_bytes: int = SOURCE_MAX_BYTES) -> ExtractedPaper:
    """Extract ``path`` (a PDF, an arXiv e-print, a LaTeXML page) in a time-limited worker process, cached.

    The cache lives in ``cache_dir / "text" / "<sha256>.json"``; a hit reads no
    file but the cache. Raises an ``ExtractionError`` subclass naming the file.
    """
    path = Path(path)
    data = _read_bytes(path, source)
    sha = hashlib.sha256(data).hexdigest()
    cache_file = Path(cache_dir) / "text" / f"{sha}.json" if cache_dir is not None else None
    if cache_file is not None:
        cached = _load_cached(cache_file, sha)
        if cached is not None and cached.source == source:
            return cached
    paper = _run_in_worker(path, data, sha, timeout, source, max_source_bytes)
    if cache_file is not None:
        _store_cached(cache_file, paper)
    return paper


def read_pdf(path: Path) -> ExtractedPaper:
    """Extract ``path`` in this process, without cache or time limit."""
    path = Path(path)
    data = _read_bytes(path)
    return parse(path, data, hashlib.sha256(data).hexdigest())


def _parse(path: Path, data: bytes, sha: str, source: SourceKind, max_source_bytes: int) -> ExtractedPaper:
    """The extraction itself, whatever the source."""
    if source == "pdf":
        return parse(path, data, sha)
    try:
        return read_source(source, data, sha, max_bytes=max_source_bytes)
    except UnusableSource as exc:
        what = "LaTeX source" if source == "tex" else "HTML rendering"
        raise ExtractionError(f"the {what} {{subject}} gives no text ({{detail}}).", path=path, detail=exc.reason,
                              hint='Read the PDF instead: set sources = ["pdf"] (PAPERDIARY_SOURCES=pdf).') from None


def _read_bytes(path: Path, source: SourceKind = "pdf") -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExtractionError("no such PDF file: {subject}.", path=path, hint="Check the path.") from None
    except OSError as exc:
        raise ExtractionError("cannot read {subject}: {detail}.", path=path, detail=exc.strerror,
                              hint="Check the file's permissions.") from None
    if source == "pdf" and (not data or data.isspace()):
        raise EmptyPdfError("{subject} is empty (0 bytes of PDF).", path=path, hint="Download it again.")
    return data


def _run_in_worker(path: Path, data: bytes, sha: str, timeout: float, source: SourceKind,
                   max_source_bytes: int) -> ExtractedPaper:
    """Run ``_parse`` in a child process; kill it when ``timeout`` runs out."""
    try:
        return run_isolated(_parse, path, data, sha, source, max_source_bytes, timeout=timeout,
                            name="paperdiary-extract", errors=PaperDiaryError)
    except ChildTimeout:
        raise ExtractionTimeoutError(
            f"extracting {{subject}} took longer than {timeout:g} s and was stopped.", path=path,
            hint="Some PDFs hold huge pages; raise extract_timeout (PAPERDIARY_EXTRACT_TIMEOUT) to wait longer.",
        ) from None
    except ChildDied as died:
        raise ExtractionError(
            f"the process extracting {{subject}} died (exit code {died.exitcode}).", path=path,
            hint="The PDF may be malformed or too large for memory; try another copy of it.",
        ) from None
    except ChildCrashed as crashed:
        raise RuntimeError(f"extracting {path} failed with an internal error:\n{crashed.details}") from None


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
    """Write atomically, so a killed run never leaves half a cache file."""
    record = {"extractor": _CACHE_KEY, "paper": asdict(paper)}
    atomic_write_text(cache_file, json.dumps(record, ensure_ascii=False))
