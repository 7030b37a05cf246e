"""A crawler for a built site: every internal link and resource of every page, checked against the files."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

_LINKING = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"), ("iframe", "src"), ("source", "src")}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        rel = dict(attrs).get("rel") or ""
        if tag == "link" and not {"stylesheet", "icon", "preload", "modulepreload", "manifest"} & set(rel.split()):
            attrs = [(n, v) for n, v in attrs if n != "href"]  # canonical, alternate: addresses, not loads
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            if (tag, name) in _LINKING:
                self.links.append((tag, value))


@dataclass
class Crawl:
    pages: int = 0
    internal: int = 0
    broken: list[tuple[str, str]] = field(default_factory=list)  # (page, url)
    broken_anchors: list[tuple[str, str]] = field(default_factory=list)
    external: list[tuple[str, str]] = field(default_factory=list)  # resources (img, script, link, iframe) off the site


def _target(site: Path, path: str) -> Path | None:
    candidate = site / path.lstrip("/")
    if candidate.is_file():
        return candidate
    if (candidate / "index.html").is_file():
        return candidate / "index.html"
    return None


def crawl(site: Path, base_path: str = "/") -> Crawl:
    """Check every ``.html`` file of ``site`` (served at ``base_path``)."""
    result = Crawl()
    parsed: dict[Path, _Page] = {}

    def parse(path: Path) -> _Page:
        if path not in parsed:
            page = _Page()
            page.feed(path.read_text(encoding="utf-8", errors="replace"))
            parsed[path] = page
        return parsed[path]

    for file in sorted(site.rglob("*.html")):
        result.pages += 1
        here = base_path.rstrip("/") + "/" + file.relative_to(site).as_posix()
        for tag, url in parse(file).links:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "mailto") or url.startswith("//"):
                if tag != "a":
                    result.external.append((here, url))
                continue
            if parts.scheme:  # data:, javascript: ...
                if tag != "a" or parts.scheme != "data":
                    result.broken.append((here, url))
                continue
            if not parts.path:
                target: Path | None = file
            else:
                joined = parts.path if parts.path.startswith("/") else posixpath.join(posixpath.dirname(here), parts.path)
                resolved = posixpath.normpath(unquote(joined))
                if not resolved.startswith(base_path.rstrip("/") + "/") and resolved != base_path.rstrip("/"):
                    result.broken.append((here, url))
                    continue
                target = _target(site, resolved[len(base_path.rstrip("/")):])
            result.internal += 1
            if target is None:
                result.broken.append((here, url))
            elif parts.fragment and target.suffix == ".html" and not parts.fragment.startswith("__"):
                if unquote(parts.fragment) not in parse(target).ids:
                    result.broken_anchors.append((here, url))
    return result
