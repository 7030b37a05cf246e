"""Extraction in a worker process with a time limit, and its cache.

pypdf runs in a child process killed when the time is up, because some real
pages take minutes (huge content streams) and pypdf cannot be interrupted from
a thread; a LaTeX source or an HTML rendering is read the same way. Results are
cached as JSON by the file's SHA-256, per extractor version.

A worker dies with its parent: on Linux the kernel kills it (``PR_SET_PDEATHSIG``)
when the thread that forked it ends, a ``kill -9`` of the parent included; it
holds no descriptor of the parent's but its own pipe end (the diary lock's is
closed at fork by ``state/lock.py``), so nothing of a killed run stays behind.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2

from paperdiary.errors import EmptyPdfError, ExtractionError, ExtractionTimeoutError, PaperDiaryError
from paperdiary.fsutil import atomic_write_text
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


def _mp_context() -> multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext:
    # fork starts in milliseconds; macOS and Windows need spawn (fork is unsafe or missing there).
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _run_in_worker(path: Path, data: bytes, sha: str, timeout: float, source: SourceKind,
                   max_source_bytes: int) -> ExtractedPaper:
    """Run ``_parse`` in a child process; kill it when ``timeout`` runs out."""
    ctx = _mp_context()
    receiver, sender = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_worker_main, args=(sender, receiver, os.getpid(), path, data, sha, source,
                                                     max_source_bytes),
                         name="paperdiary-extract", daemon=True)
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


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent ends; exit now if the parent is already gone.

    The death signal fires when the *thread* that forked us ends: the extracting thread
    waits for this worker, so that is when the parent ends or gives up on it anyway.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl in this libc: the parent check below still holds
            pass
    if os.getppid() != parent:  # the parent died between fork and prctl
        os._exit(1)


def _worker_main(conn: Any, parent_end: Any, parent: int, path: Path, data: bytes, sha: str, source: SourceKind,
                 max_source_bytes: int) -> None:
    """Child process: parse, then send ("ok", paper), ("error", PaperDiaryError) or ("crash", traceback)."""
    _die_with_parent(parent)
    # The parent's end of the pipe, inherited by the fork: while we held it, a send to a parent that
    # had died would block forever instead of failing.
    parent_end.close()
    try:
        result: tuple[str, Any] = ("ok", _parse(path, data, sha, source, max_source_bytes))
    except PaperDiaryError as exc:  # pickles: (template,) in args, the fields and hint in __dict__
        result = ("error", exc)
    except BaseException:  # a bug in the extractor: the parent re-raises it with the child's traceback
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
    """Write atomically, so a killed run never leaves half a cache file."""
    record = {"extractor": _CACHE_KEY, "paper": asdict(paper)}
    atomic_write_text(cache_file, json.dumps(record, ensure_ascii=False))
