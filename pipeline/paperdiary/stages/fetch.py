"""Fetch stage: PaperRef -> FetchedPaper (arXiv metadata plus the file to read the text from).

Metadata comes through the ``arxiv`` package, batched: one API query per up to
100 IDs. Then the paper's best source, in the ``sources`` setting's order: its
LaTeX source (``/e-print/``), arXiv's HTML rendering (``/html/``), the PDF; a
source that is missing or unusable (a PDF in place of the source, a broken
archive, a stub page) is passed over with its reason, and remembered for a
week beside the cache so that later runs do not ask again. Downloads go with
``requests`` into the state cache, once per version; the cache names are this
module's (``pdf_cache_path``, ``source_cache_path``, ``unusable_marker_path``).

Every request, API or download, goes through one session that paces them to
one per ``settings.arxiv_delay`` seconds, as arXiv asks.

Retries live in one layer, this one: the arxiv client runs with
``num_retries=0`` and every request (API or PDF) goes through ``_retrying``,
which runs the retry policy the LLM client uses too (``paperdiary/retry.py``):
transient failures (429, 5xx, timeouts, dropped connections) are retried with
jittered exponential back-off, or after as long as the server's ``Retry-After``
says, all within ``settings.retry_max_time``. Only PaperDiaryError subclasses
leave this module.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import arxiv
import requests

from paperdiary import __version__
from paperdiary.errors import DownloadTooLargeError, FetchError, NotAPdfError, PaperNotFoundError, write_error
from paperdiary.fsutil import atomic_write_bytes, atomic_write_text
from paperdiary.models import FetchedPaper, PaperMeta, PaperRef, SourceKind
from paperdiary.retry import RetryNote, RetryPolicy
from paperdiary.retry_after import is_name_resolution_failure, parse_retry_after
from paperdiary.settings import Settings, require_trusted_endpoints
from paperdiary.stages.sources import UnusableSource, read_source
from paperdiary.stages.sources.eprint import EprintKind, eprint_kind
from paperdiary.stages.sources.latexml import is_latexml_paper
from paperdiary.text import plural

USER_AGENT = f"paperdiary/{__version__} (+https://github.com/paperdiary)"
BATCH_SIZE = 100  # IDs per API query; they all go into one GET URL, and arXiv answers 414 past ~650
PDF_MAGIC = b"%PDF-"
_CHUNK_BYTES = 64 * 1024
_ROUTES = {"tex": "e-print", "html": "html"}  # a source kind -> its path on arXiv's PDF host
# How long a version's missing or unusable source is remembered: arXiv adds HTML renderings within days.
UNUSABLE_FOR_S = 7 * 24 * 3600
_HASH_CHUNK_BYTES = 1024 * 1024

_VERSIONED_ID = re.compile(r"(?P<id>.+?)v(?P<version>\d+)")
_PDF_URL_VERSION = re.compile(r"v(?P<version>\d+)(?:\.pdf)?/?$")
# arXiv replaces a withdrawn version's comment with a notice: "This paper has been
# withdrawn by the author(s)", "Withdrawn", "Paper withdrawn due to an error". A
# "withdrawn" in passing ("replaces a withdrawn preprint") must not hide a live paper.
_WITHDRAWN = re.compile(
    r"\b(?:has been|is|was) withdrawn\b|^\W*(?:(?:this |the )?(?:paper|article|submission|manuscript) )?withdrawn\b",
    re.IGNORECASE,
)
# Substrings of requests' connection errors -> the short reason users see.
_CONNECTION_REASONS = (
    ("refused", "connection refused"),
    ("reset", "connection reset"),
    ("aborted", "connection dropped"),
    ("incompleteread", "connection closed mid-answer"),
)

T = TypeVar("T")
_BodyCheck = Callable[[bytearray, requests.Response, str, str], None]


class _Transient(Exception):
    """A failure worth retrying. ``reason`` ("HTTP 503", "no answer within 30 s") ends up in the final error."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Session(requests.Session):
    """A Session that paces requests and puts a timeout and our User-Agent on every one.

    The arxiv client calls ``session.get(url, headers={"user-agent": ...})``
    without a timeout; this is the one place where both can be fixed, and where
    API queries and downloads share arXiv's pace (``interval`` seconds between
    the starts of two requests). It also keeps the last response, because
    ``arxiv.HTTPError`` carries only the status code and the retry policy needs
    the response's ``Retry-After``.
    """

    def __init__(self, timeout: float, interval: float):
        super().__init__()
        self.timeout = timeout
        self.interval = interval
        self.headers["User-Agent"] = USER_AGENT
        self.last_response: requests.Response | None = None
        self._last_start: float | None = None

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        # Drop a caller's User-Agent (arxiv.py sends its own) so the session's names our tool.
        headers = kwargs.get("headers") or {}
        kwargs["headers"] = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
        if self._last_start is not None:
            time.sleep(max(0.0, self._last_start + self.interval - time.monotonic()))
        start = time.monotonic()
        self.last_response = None
        self.last_response = super().request(method, url, **kwargs)
        # Paced from the last request arXiv answered: a connection that failed asked nothing of it,
        # so retrying a refused or unreachable host waits only for the back-off.
        self._last_start = start
        return self.last_response


class ArxivFetcher:
    """Fetches arXiv metadata, sources and PDFs, politely and with bounded retries.

    One fetcher holds one session, which paces every request (API or download)
    to one per ``settings.arxiv_delay`` seconds. Not thread-safe: arXiv asks for
    one connection at a time, so share one fetcher and call it serially.

    ``retry``: the retry policy (default: ``settings.retry_max_time``, a back-off of base ``backoff``
    seconds, at most 60 s). ``retry_waits`` records every wait taken between tries, in seconds.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        log: Callable[[str], None] | None = None,
        backoff: float = 1.0,
        retry: RetryPolicy | None = None,
    ):
        require_trusted_endpoints(settings, ("arxiv_api", "arxiv_eprint_url", "arxiv_html_url"))
        self.settings = settings
        self.retry = retry or RetryPolicy.for_settings(settings, backoff=backoff, max_backoff=60)
        self.retry_waits: list[float] = []
        self._log = log or (lambda message: None)
        self._session = _Session(settings.http_timeout, settings.arxiv_delay)
        # The session paces every request, the API's included: the client must not wait a second time.
        self._client = arxiv.Client(page_size=BATCH_SIZE, delay_seconds=0, num_retries=0)
        self._client.query_url_format = settings.arxiv_api
        # Private attribute, but the client offers no other way to set a timeout.
        self._client._session = self._session
        self._api_host = urlsplit(settings.arxiv_api).netloc or settings.arxiv_api

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._session.close()

    def __enter__(self) -> ArxivFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------

    def fetch_metadata(self, refs: Sequence[PaperRef]) -> dict[str, PaperMeta]:
        """Metadata for the arXiv refs among ``refs``, keyed by unversioned ``ref.arxiv_id``.

        One API query per up to 100 distinct IDs, never one per paper. A ref with
        a version gets that version's metadata, one without gets the latest.
        IDs arXiv does not know are absent from the result; withdrawn papers are
        present (see ``is_withdrawn``).
        """
        wanted: dict[str, str] = {}  # ID as queried (maybe versioned) -> unversioned ID
        for ref in refs:
            if ref.arxiv_id is not None:
                wanted.setdefault(ref.versioned_id or ref.arxiv_id, ref.arxiv_id)
        known = set(wanted.values())
        queried = list(wanted)
        found: dict[str, PaperMeta] = {}
        for start in range(0, len(queried), BATCH_SIZE):
            for meta in self._query(queried[start : start + BATCH_SIZE]):
                if meta.arxiv_id in known:
                    found[meta.arxiv_id] = meta
        return found

    def fetch(self, ref: PaperRef) -> FetchedPaper:
        """Metadata and PDF for one ref (a local PDF is hashed, not copied).

        Raises PaperNotFoundError for an unknown or withdrawn ID.
        """
        if ref.arxiv_id is None:
            return local_paper(ref)
        return self.fetch_with_meta(ref, self.fetch_metadata([ref]).get(ref.arxiv_id))

    def fetch_with_meta(self, ref: PaperRef, meta: PaperMeta | None) -> FetchedPaper:
        """The best source of an arXiv ``ref`` whose metadata came from ``fetch_metadata`` (None: unknown to arXiv).

        Lets a caller query metadata for many refs at once, then download one by
        one. Raises PaperNotFoundError for an unknown or withdrawn ID.
        """
        if meta is None:
            raise PaperNotFoundError(
                "arXiv has no paper {paper}.", paper=ref.label,
                hint="Check the ID for typos" + (" and that this version exists." if ref.version else "."),
            )
        if is_withdrawn(meta):
            hint = "There is no PDF to summarise."
            if meta.version and meta.version > 1:
                hint += f" Earlier versions may still be there: try {meta.arxiv_id}v{meta.version - 1}."
            notice = (meta.comment or "").rstrip(". ")
            raise PaperNotFoundError("arXiv paper {paper} has been withdrawn ({detail}).", paper=ref.label,
                                     detail=notice, hint=hint)
        return self.best_source(meta)

    def best_source(self, meta: PaperMeta) -> FetchedPaper:
        """The first usable source of ``settings.sources``; the others passed over are said in ``passed_over``.

        A failure of the last source in the order is raised as it is (a PDF that
        cannot be downloaded says so); earlier ones only pass over to the next.
        """
        passed_over: list[str] = []
        kinds: tuple[str, ...] = self.settings.sources
        for position, kind in enumerate(kinds):
            last = position == len(kinds) - 1
            remembered = None if last else self._remembered_unusable(meta, kind)
            try:
                if remembered is not None:
                    raise UnusableSource(f"{remembered} (remembered from an earlier run)")
                fetched = {"tex": self._latex_source, "html": self._html_rendering, "pdf": self.download_pdf}[kind](meta)
            except UnusableSource as exc:
                reason = exc.reason
                if remembered is None:
                    self._remember_unusable(meta, kind, reason)
            except FetchError as exc:
                if last:
                    raise
                reason = str(exc.message)
                if isinstance(exc, PaperNotFoundError):  # HTTP 404/410: not there, unlike a network failure
                    self._remember_unusable(meta, kind, reason)
            else:
                fetched.passed_over = passed_over
                return fetched
            self._log(f"{_label(meta)}: no {kind} ({reason})")
            passed_over.append(f"{kind}: {reason}")
        raise FetchError(
            "no source of {paper} could be used ({detail}).", paper=_label(meta), detail="; ".join(passed_over),
            hint='Add "pdf" to the sources setting (PAPERDIARY_SOURCES), or pass a PDF of the paper.',
        )

    def _remembered_unusable(self, meta: PaperMeta, kind: str) -> str | None:
        """Why this version's ``kind`` could not be used on an earlier run, if it was tried lately, alike.

        A paper without LaTeX source or HTML rendering would otherwise cost those requests (and, for an
        e-print that is the PDF, a whole download) on every run. HTML renderings appear late for some
        papers, so a note is trusted for UNUSABLE_FOR_S only, and only for the same URL and size limit.
        """
        where = self._unusable_note(meta, kind)
        if where is None:
            return None
        marker, asked = where
        try:
            if time.time() - marker.stat().st_mtime > UNUSABLE_FOR_S:
                return None
            note = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(note, dict) or note.get("asked") != asked or not isinstance(note.get("reason"), str):
            return None
        return note["reason"]

    def _remember_unusable(self, meta: PaperMeta, kind: str, reason: str) -> None:
        where = self._unusable_note(meta, kind)
        if where is None:
            return
        marker, asked = where
        try:
            atomic_write_text(marker, json.dumps({"asked": asked, "reason": reason}))
        except OSError:
            pass  # a read-only cache: the next run asks again

    def _unusable_note(self, meta: PaperMeta, kind: str) -> tuple[Path, dict[str, Any]] | None:
        """Where the note of an unusable source goes, and what it was asked under (URL, size limit)."""
        marker = unusable_marker_path(self.settings, meta, kind)
        template = self.settings.arxiv_eprint_url if kind == "tex" else self.settings.arxiv_html_url
        url = _source_url(template, meta, _ROUTES.get(kind, ""))
        if marker is None or url is None:
            return None
        return marker, {"url": url, "source_max_mb": self.settings.source_max_mb}

    def download_pdf(self, meta: PaperMeta) -> FetchedPaper:
        """The PDF ``meta.pdf_url`` points to, from the cache or downloaded into it.

        A given version is downloaded once. Without a known version the cached file
        may be an older "latest", so it is downloaded again.
        """
        label = _label(meta)
        if not meta.pdf_url or not meta.arxiv_id:
            raise FetchError(
                "arXiv lists no PDF for {paper}.", paper=label,
                hint="Download the PDF yourself and pass its path instead of the ID.",
            )
        version = meta.version or _version_from_url(meta.pdf_url)
        path = pdf_cache_path(self.settings, meta.arxiv_id, version)
        if version is not None and _is_pdf_file(path):
            self._log(f"{label}: using the cached PDF {path}")
            return FetchedPaper(meta=meta, path=path, sha256=sha256_file(path), downloaded=False)

        url = meta.pdf_url
        self._log(f"{label}: downloading {url}")
        data = self._retrying(
            lambda: self._get(url, label, "PDF", require=_require_pdf),
            what=f"The PDF server ({url})", paper=label, url=url,
            hint="Try again later, or download the PDF yourself and pass its path.",
        )
        self._store(path, data, label, "PDF")
        return FetchedPaper(meta=meta, path=path, sha256=hashlib.sha256(data).hexdigest(), downloaded=True)

    def _latex_source(self, meta: PaperMeta) -> FetchedPaper:
        """The paper's LaTeX source, from the cache or ``/e-print/``; UnusableSource when there is none to read.

        An e-print that is the PDF itself (no source was submitted) goes to the PDF
        cache, so that the PDF, if it comes to that, is not downloaded again.
        """
        label = _label(meta)
        url = _source_url(self.settings.arxiv_eprint_url, meta, _ROUTES["tex"])
        if url is None or not meta.arxiv_id:
            raise UnusableSource("no URL for the LaTeX source")
        path = source_cache_path(self.settings, meta.arxiv_id, meta.version, "tex")
        data, downloaded = self._cached_or_downloaded(path, meta, url, "LaTeX source")
        if eprint_kind(data) is EprintKind.PDF:
            self._store(pdf_cache_path(self.settings, meta.arxiv_id, meta.version), data, label, "PDF")
            raise UnusableSource("arXiv has no LaTeX source for it (its e-print is the PDF)")
        return self._usable(meta, path, data, "tex", downloaded)

    def _html_rendering(self, meta: PaperMeta) -> FetchedPaper:
        """arXiv's HTML rendering of the paper, from the cache or ``/html/IDvN``; UnusableSource for a stub page."""
        url = _source_url(self.settings.arxiv_html_url, meta, _ROUTES["html"])
        if url is None or not meta.arxiv_id:
            raise UnusableSource("no URL for the HTML rendering")
        path = source_cache_path(self.settings, meta.arxiv_id, meta.version, "html")
        data, downloaded = self._cached_or_downloaded(path, meta, url, "HTML rendering")
        problem = is_latexml_paper(data.decode("utf-8", errors="replace"))
        if problem:
            raise UnusableSource(problem)
        return self._usable(meta, path, data, "html", downloaded)

    def _cached_or_downloaded(self, path: Path, meta: PaperMeta, url: str, what: str) -> tuple[bytes, bool]:
        """The bytes of a version's source: from the cache, else downloaded (not cached until found usable)."""
        if meta.version is not None and path.is_file():
            self._log(f"{_label(meta)}: using the cached {what} {path}")
            return path.read_bytes(), False
        label = _label(meta)
        self._log(f"{label}: downloading {url}")
        data = self._retrying(
            lambda: self._get(url, label, what),
            what=f"arXiv's {what} server ({url})", paper=label, url=url, hint="Try again later.",
        )
        return data, True

    def _usable(self, meta: PaperMeta, path: Path, data: bytes, kind: SourceKind, downloaded: bool) -> FetchedPaper:
        """Read the source once (it is quick) to know it gives the paper's text; then cache it."""
        sha = hashlib.sha256(data).hexdigest()
        read_source(kind, data, sha, max_bytes=int(self.settings.source_max_mb * 1024 * 1024))
        if downloaded:
            self._store(path, data, _label(meta), "LaTeX source" if kind == "tex" else "HTML rendering")
        return FetchedPaper(meta=meta, path=path, sha256=sha, downloaded=downloaded, source=kind)

    def _store(self, path: Path, data: bytes, label: str, what: str) -> None:
        try:
            atomic_write_bytes(path, data)
        except OSError as exc:
            if (refused := write_error(exc, path)) is not None:  # a full disk, a read-only folder: not this paper's
                raise refused from exc
            raise FetchError(
                f"cannot write the {what} of {{paper}} to {{detail}}.", paper=label,
                detail=f"{path}: {exc.strerror or exc}",
                hint=f"Check free disk space and the permissions of {path.parent}.",
            ) from exc

    # -- API ---------------------------------------------------------------------

    def _query(self, ids: list[str]) -> list[PaperMeta]:
        """One batch of IDs -> their metadata, through one (retried) API request."""
        search = arxiv.Search(id_list=ids, max_results=len(ids))
        results = self._retrying(
            lambda: self._run_search(search, ids),
            what=f"The arXiv API ({self._api_host}) for {_describe(ids)}", paper=_describe(ids), url=self._api_host,
            hint="Try again later, or set PAPERDIARY_ARXIV_API to another endpoint.",
        )
        return [_to_meta(result) for result in results]

    def _run_search(self, search: arxiv.Search, ids: list[str]) -> list[arxiv.Result]:
        """One API request; failures come out sorted into _Transient and final FetchErrors."""
        try:
            results = list(self._client.results(search))
        except arxiv.HTTPError as exc:
            raise self._api_status_error(exc.status, ids) from exc
        except arxiv.UnexpectedEmptyPageError as exc:
            raise _Transient("an unexpectedly empty page") from exc
        except requests.RequestException as exc:
            raise _network_failure(
                exc, self.settings.http_timeout, self._api_host, service="the arXiv API",
                unresolved_hint=f"Check the setting arxiv_api (PAPERDIARY_ARXIV_API, now "
                                f"{self.settings.arxiv_api.removesuffix('?{}')}) and your network connection.",
            ) from exc
        response = self._session.last_response
        content_type = response.headers.get("Content-Type", "") if response is not None else ""
        # An HTML page (captcha, proxy login, maintenance) parses as an empty feed:
        # without this check every ID would look unknown.
        if "html" in content_type.lower():
            raise FetchError(
                "The arXiv API ({url}) answered with an HTML page instead of an Atom feed.", url=self._api_host,
                hint="Check PAPERDIARY_ARXIV_API and your network (a proxy or captive portal?).",
            )
        return results

    def _api_status_error(self, status: int, ids: list[str]) -> Exception:
        if _is_transient_status(status):
            return _transient_status(status, self._session.last_response)
        if status == 400:
            return FetchError(
                "The arXiv API rejected the query for {paper} (HTTP 400: a malformed ID?).", paper=_describe(ids),
                url=self._api_host,
                hint="Check the IDs: 2506.01939 or hep-th/9901001, optionally with a version like v2.",
            )
        return FetchError(
            f"The arXiv API ({{url}}) refused the query for {{paper}} (HTTP {status}).", paper=_describe(ids),
            url=self._api_host,
            hint="Check PAPERDIARY_ARXIV_API.",
        )

    # -- downloads -----------------------------------------------------------------

    def _get(self, url: str, label: str, what: str, *, require: _BodyCheck | None = None) -> bytes:
        """One download attempt: the whole body of ``what`` ("PDF", "LaTeX source"...), in memory, checked."""
        try:
            with self._session.get(url, stream=True) as response:
                status = response.status_code
                if _is_transient_status(status):
                    raise _transient_status(status, response)
                if status in (404, 410):
                    raise PaperNotFoundError(
                        f"{{url}} has no {what} for {{paper}} (HTTP {status}).", paper=label, url=url,
                        hint="Check the ID and version; the paper may have been withdrawn.",
                    )
                if not 200 <= status < 300:
                    raise FetchError(
                        f"{{url}} refused to send the {what} of {{paper}} (HTTP {status}).", paper=label, url=url,
                        hint="Download the PDF yourself and pass its path.",
                    )
                return self._read_body(response, url, label, what, require)
        except requests.RequestException as exc:
            raise _network_failure(
                exc, self.settings.http_timeout, url, service="the PDF's server",
                unresolved_hint="Check your network connection (the PDF's address came from the arXiv API), or "
                                "download the PDF yourself and pass its path.",
            ) from exc

    def _read_body(self, response: requests.Response, url: str, label: str, what: str,
                   require: _BodyCheck | None) -> bytes:
        """Stream the body, enforcing the size cap and ``require`` (the %PDF- signature) as early as possible."""
        limit = int(self.settings.pdf_max_mb * 1024 * 1024)
        declared = _content_length(response)
        if declared is not None and declared > limit:
            raise self._too_large(label, url, declared, what)
        body = bytearray()
        checked = require is None
        for chunk in response.iter_content(_CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                raise self._too_large(label, url, None, what)
            if not checked and require is not None and len(body) >= len(PDF_MAGIC):
                require(body, response, url, label)
                checked = True
        # urllib3 normally raises on a short body first; this also covers servers it trusts.
        if declared is not None and len(body) < declared:
            raise _Transient(f"the connection closed after {len(body)} of {declared} bytes")
        if not checked and require is not None:
            require(body, response, url, label)
        return bytes(body)

    def _too_large(self, label: str, url: str, size: int | None, what: str) -> DownloadTooLargeError:
        size_text = f" ({size:,} bytes)" if size is not None else ""
        return DownloadTooLargeError(
            f"The {what} of {{paper}} ({{url}}) is over the {self.settings.pdf_max_mb:g} MB limit{size_text}.",
            paper=label, url=url,
            hint="Raise PAPERDIARY_PDF_MAX_MB, or download it yourself and pass its path.",
        )

    # -- retries -----------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], T], *, what: str, paper: str, url: str, hint: str) -> T:
        """Run ``attempt``, retrying on _Transient; give up with a FetchError naming ``what`` (about ``paper``)."""
        def give_up(error: BaseException, tries: int) -> None:
            if isinstance(error, _Transient):
                raise FetchError(f"{what} failed {plural(tries, 'try', 'tries')} ({{detail}}).", paper=paper,
                                 url=url, detail=error.reason, hint=hint) from error

        def on_retry(note: RetryNote) -> None:
            self.retry_waits.append(note.wait)
            reason = note.error.reason if isinstance(note.error, _Transient) else "an error"
            self._log(f"{what}: {reason}; try {note.attempt + 1} of {note.attempts} in {note.wait:.1f} s")

        return self.retry.run(attempt, transient=lambda error: isinstance(error, _Transient),
                              retry_after=lambda error: error.retry_after if isinstance(error, _Transient) else None,
                              on_retry=on_retry, give_up=give_up)


# -- module helpers --------------------------------------------------------------


def is_withdrawn(meta: PaperMeta) -> bool:
    """True when arXiv's comment says this version was withdrawn."""
    return bool(meta.comment and _WITHDRAWN.search(meta.comment))


def pdf_cache_path(settings: Settings, arxiv_id: str, version: int | None) -> Path:
    """Where the PDF of ``arxiv_id`` is cached: that version's, or (None) the latest at download time."""
    return settings.cache_path / "pdf" / (f"{_file_id(arxiv_id)}v{version}.pdf" if version is not None
                                          else f"{_file_id(arxiv_id)}.pdf")


def source_cache_path(settings: Settings, arxiv_id: str, version: int | None, kind: SourceKind) -> Path:
    """Where a paper's LaTeX source (the e-print as arXiv sent it) or HTML rendering is cached."""
    folder, suffix = {"tex": ("source", ".eprint"), "html": ("html", ".html"), "pdf": ("pdf", ".pdf")}[kind]
    name = f"{_file_id(arxiv_id)}v{version}" if version is not None else _file_id(arxiv_id)
    return settings.cache_path / folder / f"{name}{suffix}"


def unusable_marker_path(settings: Settings, meta: PaperMeta, kind: str) -> Path | None:
    """Where a version's unusable LaTeX source or HTML rendering is noted (None: not noted for this paper)."""
    if kind not in _ROUTES or not meta.arxiv_id or meta.version is None:
        return None  # "the latest version" may change: ask each time
    path = source_cache_path(settings, meta.arxiv_id, meta.version, kind)  # type: ignore[arg-type]
    return path.with_name(path.name + ".unusable")


def _source_url(template: str, meta: PaperMeta, route: str) -> str | None:
    """A source's URL: the setting's template ("{}" for the versioned ID), else ``/route/ID`` on the PDF's host."""
    if not meta.arxiv_id:
        return None
    versioned = f"{meta.arxiv_id}v{meta.version}" if meta.version else meta.arxiv_id
    if template:
        return template.replace("{}", versioned) if "{}" in template else f"{template.rstrip('/')}/{versioned}"
    if not meta.pdf_url:
        return None
    parts = urlsplit(meta.pdf_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{route}/{versioned}", "", ""))


def cached_pdf(settings: Settings, arxiv_id: str, version: int | None) -> Path | None:
    """The cached PDF of that version, or without a version the newest version cached; None when none is."""
    if version is not None:
        path = pdf_cache_path(settings, arxiv_id, version)
        return path if path.is_file() else None
    folder = pdf_cache_path(settings, arxiv_id, None).parent
    found = sorted(folder.glob(f"{_file_id(arxiv_id)}v*.pdf"), key=lambda path: path.stat().st_mtime)
    return found[-1] if found else None


def _file_id(arxiv_id: str) -> str:
    return arxiv_id.replace("/", "_")  # old-style IDs: hep-th/9901001


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def local_paper(ref: PaperRef) -> FetchedPaper:
    """A user's own PDF: hashed in place, with empty metadata (the extractor reads the title)."""
    path = ref.local_pdf
    if path is None:
        raise FetchError("{paper!r} names neither an arXiv ID nor a local PDF.", paper=ref.raw,
                         hint="Pass one of those.")
    try:
        sha = sha256_file(path)
    except FileNotFoundError:
        raise FetchError("no such PDF file: {paper}.", paper=str(path), hint="Check the path.") from None
    except OSError as exc:
        raise FetchError(
            "cannot read {paper}: {detail}.", paper=str(path), detail=str(exc.strerror or exc),
            hint="Check that it is a readable file.",
        ) from exc
    return FetchedPaper(meta=PaperMeta(title=""), path=path, sha256=sha, downloaded=False)


def _to_meta(result: arxiv.Result) -> PaperMeta:
    arxiv_id, version = _split_version(result.get_short_id())
    return PaperMeta(
        title=_collapse(result.title) or "",
        authors=[author.name for author in result.authors],
        abstract=_collapse(result.summary) or "",
        arxiv_id=arxiv_id,
        version=version,
        published=result.published,
        updated=result.updated,
        categories=list(result.categories),
        primary_category=result.primary_category or None,
        comment=_collapse(result.comment),
        doi=result.doi or None,
        journal_ref=_collapse(result.journal_ref),
        pdf_url=result.pdf_url,
    )


def _split_version(short_id: str) -> tuple[str, int | None]:
    """``2506.01939v2`` -> ("2506.01939", 2); ``hep-th/9901001v1`` keeps its slash."""
    match = _VERSIONED_ID.fullmatch(short_id)
    if match is None:
        return short_id, None
    return match["id"], int(match["version"])


def _version_from_url(url: str) -> int | None:
    match = _PDF_URL_VERSION.search(urlsplit(url).path)
    return int(match["version"]) if match else None


def _collapse(text: str | None) -> str | None:
    """Collapse the line wrapping arXiv puts in abstracts and comments; None for empty."""
    collapsed = " ".join((text or "").split())
    return collapsed or None


def _label(meta: PaperMeta) -> str:
    if meta.arxiv_id and meta.version:
        return f"{meta.arxiv_id}v{meta.version}"
    return meta.arxiv_id or repr(meta.title)


def _describe(ids: list[str]) -> str:
    """The IDs of a batch, shortened for a one-line message."""
    if len(ids) <= 3:
        return ", ".join(ids)
    return f"{', '.join(ids[:3])} and {len(ids) - 3} more"


def _is_transient_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _transient_status(status: int, response: requests.Response | None) -> _Transient:
    retry_after = _retry_after(response)
    reason = f"HTTP {status}" + (f", Retry-After {retry_after:g} s" if retry_after is not None else "")
    return _Transient(reason, retry_after)


def _retry_after(response: requests.Response | None) -> float | None:
    """Seconds the server asked us to wait, if it did."""
    return parse_retry_after(response.headers.get("Retry-After")) if response is not None else None


def _network_failure(exc: requests.RequestException, timeout: float, target: str, *, service: str,
                     unresolved_hint: str) -> Exception:
    """Sort a requests failure: timeouts and dropped connections are transient, the rest final.

    A host name that does not resolve is final too: a typo or no network, which retrying does not
    mend (it only kept a first run silent for a minute). ``unresolved_hint`` says what to check then.
    """
    if is_name_resolution_failure(exc):
        host = urlsplit(target).hostname if "//" in target else target
        return FetchError(f"cannot resolve {{url}}, the host name of {service} (no such host, or no network).",
                          url=host, hint=unresolved_hint)
    if isinstance(exc, requests.Timeout):
        return _Transient(f"no answer within {timeout:g} s")
    if isinstance(exc, requests.exceptions.SSLError):
        return FetchError("TLS failed for {url}: {detail}.", url=target, detail=str(exc),
                          hint="Check the URL and your network.")
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        text = str(exc).lower()
        reason = next((r for needle, r in _CONNECTION_REASONS if needle in text), "connection failed")
        return _Transient(reason)
    return FetchError("cannot request {url}: {detail}.", url=target, detail=str(exc),
                      hint="Check PAPERDIARY_ARXIV_API.")


def _content_length(response: requests.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _require_pdf(head: bytes | bytearray, response: requests.Response, url: str, label: str) -> None:
    """Raise NotAPdfError unless the body starts with %PDF-."""
    if bytes(head[: len(PDF_MAGIC)]) == PDF_MAGIC:
        return
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type.lower() or head.lstrip()[:1] == b"<":
        sent = "an HTML page"
    elif not head:
        sent = "an empty body"
    else:
        sent = f"{content_type or 'data'} starting with {bytes(head[:16])!r}"
    raise NotAPdfError(
        "{url} sent {detail} instead of the PDF of {paper}.", paper=label, url=url, detail=sent,
        hint="arXiv may be showing a captcha or an error page: open the URL in a browser, "
        "save the PDF and pass its path.",
    )


def _is_pdf_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(PDF_MAGIC)) == PDF_MAGIC
    except OSError:
        return False
