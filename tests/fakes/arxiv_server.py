"""A look-alike of the arXiv API, PDF, source (e-print) and HTML servers, on 127.0.0.1, for tests and demos.

It speaks real HTTP and answers with the Atom XML arXiv sends, so the real
``arxiv`` client and ``requests`` run unchanged against it::

    with FakeArxiv() as fake:
        fake.add_paper("2506.01939", title="A paper", pdf_bytes=pdf)
        fake.inject("api", "status", code=503)  # the next API request gets a 503
        settings = load_settings(overrides={"arxiv_api": fake.api_url}, ...)

Like arXiv it drops unknown IDs silently, answers a malformed ID with HTTP 400
and returns entries in an order of its own. A paper's LaTeX source is served at
``/e-print/IDvN`` and its HTML rendering at ``/html/IDvN`` when given
(``eprint_bytes``, ``html``); otherwise those answer 404. Faults queue per route
("api", "pdf", "eprint" or "html") and each request consumes the next one:

- ``status``: ``code`` (429, 500, 503, ...) with optional ``headers``;
- ``hang``: wait ``seconds`` before answering, to trip client timeouts;
- ``html``: 200 with an HTML page (a captcha or maintenance page);
- ``truncate``: only the first ``bytes`` bytes of the body, with an honest Content-Length;
- ``cut``: the full Content-Length is announced, ``bytes`` bytes are sent, then the connection closes;
- ``unsized``: the PDF without a Content-Length, its end marked by closing the connection;
- ``reset``: close the connection without any response.

Standalone, for manual demos, it serves every ``<id>.pdf`` of a directory::

    python -m tests.fakes.arxiv_server --port 8777 --pdf-dir DIR
"""

from __future__ import annotations

import argparse
import hashlib
import re
import socket
import struct
import textwrap
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

Route = Literal["api", "pdf", "eprint", "html"]
_DOWNLOADS = ("pdf", "eprint", "html")
FaultKind = Literal["status", "hang", "html", "truncate", "cut", "unsized", "reset"]

_ID_RE = re.compile(
    r"(?:(?P<new>\d{4}\.\d{4,5})|(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.[A-Z]{2})?/(?P<number>\d{7}))"
    r"(?:v(?P<version>\d+))?"
)
_PDF_BODY_FAULTS = ("truncate", "cut", "unsized")
_WITHDRAWN_COMMENT = "This paper has been withdrawn by the authors."
_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>arXiv</title></head><body><h1>Please verify you are a human</h1></body></html>"
)


@dataclass
class RecordedRequest:
    """One request the fake received, for assertions on count, pacing and headers."""

    route: str  # "api", "pdf", "eprint", "html" or "other"
    path: str
    query: dict[str, str]
    headers: Message  # case-insensitive: headers["user-agent"] == headers["User-Agent"]
    time: float  # time.monotonic() when the request arrived

    @property
    def user_agent(self) -> str:
        return self.headers.get("User-Agent", "")


@dataclass
class _Version:
    arxiv_id: str
    version: int
    title: str
    authors: list[str]
    abstract: str
    pdf_bytes: bytes
    published: datetime
    updated: datetime
    categories: list[str]
    comment: str | None
    doi: str | None
    journal_ref: str | None
    withdrawn: bool
    eprint_bytes: bytes | None
    html: str | None


@dataclass
class _Fault:
    kind: FaultKind
    options: dict[str, Any] = field(default_factory=dict)


def _parse_id(text: str) -> tuple[str, int | None] | None:
    """``math.GT/0309136v2`` -> ("math/0309136", 2): the subject class is not part of the ID."""
    match = _ID_RE.fullmatch(text)
    if not match:
        return None
    arxiv_id = match["new"] or f"{match['archive']}/{match['number']}"
    return arxiv_id, int(match["version"]) if match["version"] else None


def minimal_pdf(text: str = "Hello") -> bytes:
    """A valid one-page PDF showing ``text``, built by hand so the fake needs no PDF library."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class FakeArxiv:
    """An arXiv API and PDF server on 127.0.0.1, run in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._address = (host, port)
        self._papers: dict[str, dict[int, _Version]] = {}
        self._faults: dict[str, deque[_Fault]] = {route: deque() for route in get_args(Route)}
        self._latency: dict[str, float] = {route: 0.0 for route in get_args(Route)}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        # Set on shutdown so a handler in the middle of a "hang" returns at once.
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeArxiv:
        server = ThreadingHTTPServer(self._address, _make_handler(self))
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps shutdown (once per test) quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-arxiv", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeArxiv:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeArxiv is not running: use it as a context manager")
        return f"http://{self._address[0]}:{self._server.server_port}"

    @property
    def api_url(self) -> str:
        """The query URL format the ``arxiv_api`` setting takes."""
        return f"{self.base_url}/api/query?{{}}"

    # -- content -----------------------------------------------------------

    def add_paper(
        self,
        arxiv_id: str,
        *,
        version: int = 1,
        title: str | None = None,
        authors: list[str] | None = None,
        abstract: str = "We study a problem and report results.",
        pdf_bytes: bytes | None = None,
        published: datetime | None = None,
        updated: datetime | None = None,
        categories: list[str] | None = None,
        comment: str | None = None,
        doi: str | None = None,
        journal_ref: str | None = None,
        withdrawn: bool = False,
        eprint_bytes: bytes | None = None,
        html: str | None = None,
    ) -> None:
        """Add one version of a paper; add several versions by calling again.

        ``eprint_bytes`` is what ``/e-print/`` sends (a gzipped tar or .tex, or a
        PDF as arXiv sends for papers without source); ``html`` the page ``/html/``
        sends. Without them those routes answer 404.
        """
        parsed = _parse_id(arxiv_id)
        if parsed is None or parsed[1] is not None:
            raise ValueError(f"not an unversioned arXiv ID: {arxiv_id!r}")
        arxiv_id = parsed[0]  # "math.GT/0309136" is stored as arXiv knows it: "math/0309136"
        title = title or f"Paper {arxiv_id}"
        published = published or datetime(2025, 6, 2, 17, 0, tzinfo=UTC)
        entry = _Version(
            arxiv_id=arxiv_id,
            version=version,
            title=title,
            authors=list(authors if authors is not None else ["Ada Lovelace", "Alan Turing"]),
            abstract=abstract,
            pdf_bytes=pdf_bytes if pdf_bytes is not None else minimal_pdf(title),
            published=published,
            updated=updated or published,
            categories=list(categories or ["cs.LG"]),
            # arXiv replaces the comment of a withdrawn version with the withdrawal notice.
            comment=_WITHDRAWN_COMMENT if withdrawn else comment,
            doi=doi,
            journal_ref=journal_ref,
            withdrawn=withdrawn,
            eprint_bytes=eprint_bytes,
            html=html,
        )
        with self._lock:
            self._papers.setdefault(arxiv_id, {})[version] = entry

    # -- faults and records --------------------------------------------------

    def inject(self, route: Route, kind: FaultKind, **options: Any) -> None:
        """Queue a fault for the next request on ``route`` (FIFO, one per request)."""
        if route not in self._faults:
            raise ValueError(f"route must be one of {', '.join(get_args(Route))}, not {route!r}")
        if kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(get_args(FaultKind))}")
        if kind in _PDF_BODY_FAULTS and route not in _DOWNLOADS:
            raise ValueError(f"a {kind!r} fault only applies to the download routes {_DOWNLOADS}")
        with self._lock:
            self._faults[route].append(_Fault(kind, options))

    def set_latency(self, route: Route, seconds: float) -> None:
        """Delay every answer on ``route`` by ``seconds``."""
        self._latency[route] = seconds

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def api_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == "api"]

    @property
    def pdf_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == "pdf"]

    @property
    def eprint_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == "eprint"]

    @property
    def html_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == "html"]

    # -- used by the handler -------------------------------------------------

    def _record(self, request: RecordedRequest) -> _Fault | None:
        with self._lock:
            self._requests.append(request)
            queue = self._faults.get(request.route)
            return queue.popleft() if queue else None

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _lookup(self, requested: str) -> _Version | None:
        """The version an ID names (the latest when it names none), or None."""
        parsed = _parse_id(requested)
        if parsed is None:
            return None
        arxiv_id, version = parsed
        with self._lock:
            versions = self._papers.get(arxiv_id, {})
            if not versions:
                return None
            return versions.get(version) if version else versions[max(versions)]

    def _feed(self, id_list: list[str], start: int, max_results: int) -> bytes:
        found: dict[tuple[str, int], _Version] = {}
        for requested in id_list:
            entry = self._lookup(requested)
            if entry is not None:
                found[(entry.arxiv_id, entry.version)] = entry
        # arXiv does not keep the request order; a stable hash order imitates that.
        ordered = sorted(found.values(), key=lambda e: hashlib.md5(e.arxiv_id.encode()).digest())
        page = ordered[start : start + max_results]
        return _render_feed(self.base_url, page, total=len(ordered), start=start, per_page=len(page))


def _render_feed(base_url: str, entries: list[_Version], *, total: int, start: int, per_page: int) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = "".join(_render_entry(base_url, entry) for entry in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
        ' xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
        f"  <id>{escape(base_url)}/api/query</id>\n"
        "  <title>arXiv Query Results</title>\n"
        f"  <updated>{now}</updated>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
        f"{body}</feed>\n"
    ).encode()


def _render_entry(base_url: str, e: _Version) -> str:
    vid = f"{e.arxiv_id}v{e.version}"
    # arXiv wraps abstracts at ~80 columns and pads them with whitespace.
    summary = "\n".join(textwrap.wrap(e.abstract, 78))
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{escape(e.title)}</title>",
        f"    <updated>{e.updated.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}</updated>",
        f"    <published>{e.published.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}</published>",
        f"    <summary>  {escape(summary)}\n</summary>",
        *(f"    <author>\n      <name>{escape(name)}</name>\n    </author>" for name in e.authors),
        f'    <link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link title="pdf" href={quoteattr(f"{base_url}/pdf/{vid}")} rel="related" type="application/pdf"/>',
    ]
    if e.comment:
        lines.append(f"    <arxiv:comment>{escape(e.comment)}</arxiv:comment>")
    if e.doi:
        lines.append(f"    <arxiv:doi>{escape(e.doi)}</arxiv:doi>")
        lines.append(f'    <link title="doi" href={quoteattr("https://doi.org/" + e.doi)} rel="related"/>')
    if e.journal_ref:
        lines.append(f"    <arxiv:journal_ref>{escape(e.journal_ref)}</arxiv:journal_ref>")
    scheme = 'scheme="http://arxiv.org/schemas/atom"'
    lines.append(f"    <arxiv:primary_category term={quoteattr(e.categories[0])} {scheme}/>")
    lines += [f"    <category term={quoteattr(c)} {scheme}/>" for c in e.categories]
    lines.append("  </entry>\n")
    return "\n".join(lines)


def _error_feed(message: str) -> bytes:
    """arXiv's answer to a malformed query: HTTP 400 with an Atom feed holding one error entry."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">\n'
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        "  <entry>\n    <id>http://arxiv.org/api/errors</id>\n    <title>Error</title>\n"
        f"    <summary>{escape(message)}</summary>\n  </entry>\n</feed>\n"
    ).encode()


def _gunzip_head(data: bytes) -> bytes:
    """The first bytes of gzipped ``data`` (b"" when it is not gzip)."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, 1024)
    except zlib.error:
        return b""


def _make_handler(fake: FakeArxiv) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like arXiv's front ends

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet: tests read ``fake.requests`` instead."""

        def do_GET(self) -> None:
            try:
                self._serve()
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a timeout on a "hang"): nothing left to answer.
                self.close_connection = True

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            prefixes = {"/pdf/": "pdf", "/e-print/": "eprint", "/html/": "html"}
            route = "api" if parts.path == "/api/query" else next(
                (name for prefix, name in prefixes.items() if parts.path.startswith(prefix)), "other")
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            fault = fake._record(RecordedRequest(route, parts.path, query, self.headers, time.monotonic()))
            fake._sleep(fake._latency.get(route, 0.0))
            if fault is not None and self._apply(fault, route):
                return
            if route == "api":
                self._api(query)
            elif route in _DOWNLOADS:
                self._download(route, parts.path.split("/", 2)[2], fault)
            else:
                self._send(404, b"Not found", "text/plain")

        def _apply(self, fault: _Fault, route: str) -> bool:
            """Act out a fault; True when it has answered the request by itself."""
            options = fault.options
            if fault.kind == "status":
                code = int(options.get("code", 503))
                self._send(code, f"HTTP {code}".encode(), "text/plain", options.get("headers", {}))
                return True
            if fault.kind == "hang":
                fake._sleep(float(options.get("seconds", 5.0)))
                return False  # then answer normally, as a slow server does
            if fault.kind == "html":
                self._send(200, _HTML_PAGE, "text/html; charset=utf-8")
                return True
            if fault.kind == "reset":
                self._reset()
                return True
            return False  # the PDF body faults act in _pdf

        def _api(self, query: dict[str, str]) -> None:
            ids = [i.strip() for i in query.get("id_list", "").split(",") if i.strip()]
            bad = [i for i in ids if not _ID_RE.fullmatch(i)]
            if bad:
                self._send(400, _error_feed(f"incorrect id format for {bad[0]}"), "application/atom+xml")
                return
            try:
                start = int(query.get("start", "0"))
                max_results = int(query.get("max_results", "10"))
            except ValueError:
                self._send(400, _error_feed("start and max_results must be integers"), "application/atom+xml")
                return
            body = fake._feed(ids, start, max_results)
            self._send(200, body, "application/atom+xml; charset=UTF-8")

        def _download(self, route: str, requested: str, fault: _Fault | None) -> None:
            entry = fake._lookup(requested.removesuffix(".pdf").rstrip("/"))
            body, content_type = None, "application/pdf"
            if entry is not None and not entry.withdrawn:
                if route == "pdf":
                    body = entry.pdf_bytes
                elif route == "eprint" and entry.eprint_bytes is not None:
                    body = entry.eprint_bytes
                    # arXiv's types: a PDF, a gzipped tar, a single gzipped file.
                    content_type = ("application/pdf" if body.startswith(b"%PDF-") else
                                    "application/x-eprint-tar" if b"ustar" in _gunzip_head(body) else
                                    "application/x-eprint")
                elif route == "html" and entry.html is not None:
                    body, content_type = entry.html.encode(), "text/html; charset=utf-8"
            if body is None:
                self._send(404, b"<html><body>Not found</body></html>", "text/html")
                return
            if fault is not None and fault.kind == "truncate":
                self._send(200, body[: int(fault.options.get("bytes", 100))], content_type)
            elif fault is not None and fault.kind == "cut":
                self._send_and_close(body, sent=int(fault.options.get("bytes", 100)), length=len(body))
            elif fault is not None and fault.kind == "unsized":
                self._send_and_close(body, sent=len(body), length=None)
            else:
                self._send(200, body, content_type)

        def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _send_and_close(self, body: bytes, *, sent: int, length: int | None) -> None:
            """Send the first ``sent`` bytes of a PDF announced as ``length`` bytes (None: unannounced), hang up."""
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[:sent])
            self.wfile.flush()
            self.close_connection = True

        def _reset(self) -> None:
            # SO_LINGER 0 makes close() send a TCP RST, as a crashed front end does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

    return Handler


# -- standalone demo server ----------------------------------------------------


def _pdf_facts(path: Path) -> tuple[str, list[str]]:
    """Title and authors from a PDF's metadata or first line, else the file stem."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(path)
        info = reader.metadata
        title = (info.title if info else None) or ""
        if not title.strip():
            lines = (reader.pages[0].extract_text() or "").splitlines()
            title = next((line.strip() for line in lines if line.strip()), "")
        authors = [a.strip() for a in re.split(r",| and ", (info.author if info else None) or "") if a.strip()]
        return (title.strip() or path.stem), authors
    except Exception:  # a demo nicety: any PDF pypdf cannot read just keeps its stem
        return path.stem, []


def _serve_directory(fake: FakeArxiv, pdf_dir: Path) -> int:
    count = 0
    for path in sorted(pdf_dir.glob("*.pdf")):
        # "hep-th_9901001v2.pdf" -> hep-th/9901001 version 2 (slashes cannot be in file names).
        parsed = _parse_id(path.stem.replace("_", "/", 1))
        if parsed is None:
            print(f"skipping {path.name}: the file name is not an arXiv ID")
            continue
        title, authors = _pdf_facts(path)
        published = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        fake.add_paper(
            parsed[0],
            version=parsed[1] or 1,
            title=title,
            authors=authors,
            pdf_bytes=path.read_bytes(),
            published=published,
        )
        count += 1
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a directory of PDFs as a fake arXiv.")
    parser.add_argument("--port", type=int, default=8777)
    parser.add_argument("--pdf-dir", type=Path, required=True, help="serves every <arxiv-id>.pdf in it")
    args = parser.parse_args(argv)
    with FakeArxiv(port=args.port) as fake:
        count = _serve_directory(fake, args.pdf_dir)
        print(f"Serving {count} paper(s) from {args.pdf_dir}. Use:")
        print(f"  export PAPERDIARY_ARXIV_API='{fake.api_url}'")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("bye")


if __name__ == "__main__":
    main()
