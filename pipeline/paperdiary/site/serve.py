"""A local preview of the built site (``paperdiary site --serve``): the output folder over HTTP on 127.0.0.1,
its ``404.html`` for what is not there, as GitHub Pages serves it. Search needs HTTP (a page opened from
the file system cannot load the search index), hence this."""

from __future__ import annotations

import functools
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(SimpleHTTPRequestHandler):
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code == HTTPStatus.NOT_FOUND and page.is_file():
            body = page.read_bytes()
            self.send_response(HTTPStatus.NOT_FOUND)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the terminal shows the address and how to stop


def site_server(folder: Path, port: int = 8000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for ``folder`` (not started: call ``serve_forever``); port 0 picks a free one."""
    handler = functools.partial(_Handler, directory=str(folder))
    return ThreadingHTTPServer((host, port), handler)
