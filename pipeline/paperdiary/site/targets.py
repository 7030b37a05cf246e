"""What each relative link of the diary points at, and its URL on the site once every page has one.

Rendering a document (an entry, the README, a note it links to) asks :meth:`LinkTable.hook`
for each ``href`` and ``src``. A link is resolved against the document's folder (``/…``
from the diary root, as on GitHub) to a file or folder of the diary, through
``fsutil.resolve_inside``: a target that leads out of the diary (``..`` past the root,
a symlink out), a hidden one (``.git/``, the state folder) or one that does not exist
points nowhere, and the link is kept as text. Found targets are recorded (markdown
documents become pages, folders get a listing, other files are copied) and the
link becomes a placeholder; :meth:`LinkTable.substitute` turns placeholders into
relative URLs once :class:`~paperdiary.site.paths.SitePaths` has fixed every path.
External links (with a scheme) and same-page ``#anchors`` are left as written.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import unquote

from paperdiary.diary.readme import README_NAME
from paperdiary.errors import OutsideDiaryError
from paperdiary.fsutil import resolve_inside
from paperdiary.site.paths import SitePaths, href, is_markdown
from paperdiary.site.render import LinkHook, external

MAX_FILE_MB = 50  # a linked file larger than this is not copied to the site (GitHub Pages sites stay small)
_PLACEHOLDER = re.compile(r'(?P<attr>href|src)="pd-link-(?P<n>\d+)"')
_OWN_URL = re.compile(r"^https?://(?:(?:www\.)?github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)/(?:blob|raw|tree)/"
                      r"[^/?#]+/|raw\.githubusercontent\.com/(?P<owner2>[\w.-]+)/(?P<repo2>[\w.-]+)/[^/?#]+/)"
                      r"(?P<path>[^?#]*)(?:\?[^#]*)?(?P<fragment>#.*)?$", re.I)
_SPLIT = re.compile(r"^(?P<path>[^?#]*)(?P<query>\?[^#]*)?(?P<fragment>#.*)?$", re.S)


class Kind(str, Enum):
    PAGE = "page"  # a markdown document: an entry, or a note the diary links to
    FILE = "file"  # copied as it is (an image, a PDF)
    FOLDER = "folder"  # a listing of what the site publishes from it
    HOME = "home"  # README.md at the root, or the diary root itself
    SPECIAL = "special"  # a page the site makes itself (the reading plots, the topic map)


@dataclass(frozen=True)
class Target:
    kind: Kind
    path: str  # diary-relative; for SPECIAL, the site path
    fragment: str  # "#key-points" or ""


@dataclass(frozen=True)
class Missing:
    source: str  # the document holding the link, diary-relative
    url: str  # as written
    reason: str


@dataclass
class LinkTable:
    """Every link of every rendered document, and what the site must publish for them."""

    root: Path
    hidden: tuple[str, ...]  # diary-relative folders never published (the state folder), besides dot-folders
    specials: dict[str, str] = field(default_factory=dict)  # diary path -> site path of a page that replaces it
    targets: list[Target] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    documents: set[str] = field(default_factory=set)  # markdown documents linked (entries among them)
    files: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)
    too_large: set[str] = field(default_factory=set)
    own_repo: tuple[str, str] | None = None  # (owner, name) on github.com: its blob/raw URLs are the diary's files

    def own_path(self, url: str) -> str | None:
        """``/path#fragment`` of a github.com URL of the diary's own repository (``…/blob/main/notes/x.md``,
        ``raw.githubusercontent.com/…``), or None for any other URL."""
        if self.own_repo is None:
            return None
        m = _OWN_URL.match(url)
        if m is None:
            return None
        owner, repo = m["owner"] or m["owner2"], m["repo"] or m["repo2"]
        if (owner.casefold(), repo.casefold().removesuffix(".git")) != self.own_repo:
            return None
        return "/" + m["path"] + (m["fragment"] or "")

    def served(self, url: str) -> bool:
        """Whether the site serves this image itself (a file of the diary), rather than fetching it."""
        return not external(url) or self.own_path(url) is not None

    def hook(self, source: str, *, readme: bool = False) -> LinkHook:
        """The link hook for rendering the diary document ``source``; ``readme``: its bare ``#anchors`` are the
        README's, which the site splits between the home page and the README page."""
        folder = posixpath.dirname(source)

        def resolve(url: str, tag: str) -> str | None:
            if url.startswith("#"):
                return self._placeholder(Target(Kind.HOME, README_NAME, url)) if readme else url
            written_url = url
            cleaned = unquote(url).lstrip("\ufeff\u200b")  # a byte-order mark pasted before a URL
            if cleaned != unquote(url) and external(cleaned):
                url = cleaned
            if external(url):
                own = self.own_path(url)
                if own is None:
                    return None if tag == "img" else url  # a page fetches nothing from elsewhere
                url = own
            m = _SPLIT.match(url)
            assert m is not None  # the pattern matches any string
            written = unquote(m["path"].replace("\\", "/"))
            fragment = m["fragment"] or ""
            if not written:
                return url  # "?query" alone
            target, reason = self._locate(written, folder, tag)
            if target is None:
                self.missing.append(Missing(source, written_url, reason))
                return None
            return self._placeholder(Target(target.kind, target.path, fragment))

        return resolve

    def _placeholder(self, target: Target) -> str:
        self.targets.append(target)
        return f"pd-link-{len(self.targets) - 1}"

    def _locate(self, written: str, folder: str, tag: str) -> tuple[Target | None, str]:
        joined = written.lstrip("/") if written.startswith("/") else posixpath.join(folder, written)
        path = posixpath.normpath(joined) if joined else "."
        if path == ".." or path.startswith("../"):
            return None, "outside the diary"
        path = "" if path == "." else path
        parts = path.split("/") if path else []
        if any(part.startswith(".") for part in parts) or any(path == h or path.startswith(h + "/") for h in self.hidden):
            return None, "a hidden or state folder"
        try:
            real = resolve_inside(self.root, self.root / path)
        except OutsideDiaryError:
            return None, "a symlink out of the diary"
        if not real.exists():
            nfc = unicodedata.normalize("NFC", path)
            nfd = unicodedata.normalize("NFD", path)
            for other in (nfc, nfd):
                if other != path and (self.root / other).exists():
                    return self._locate("/" + other, "", tag)
            return None, "not in the diary"
        if real.is_dir():
            if tag == "img":
                return None, "a folder, not an image"
            if not path:
                return Target(Kind.HOME, "", ""), ""
            self.folders.add(path)
            return Target(Kind.FOLDER, path, ""), ""
        if path in self.specials:
            return Target(Kind.SPECIAL, self.specials[path], ""), ""
        if is_markdown(path):
            if tag == "img":
                return None, "a markdown file, not an image"
            if path == README_NAME:
                return Target(Kind.HOME, "", ""), ""
            self.documents.add(path)
            return Target(Kind.PAGE, path, ""), ""
        if real.stat().st_size > MAX_FILE_MB * 1024 * 1024:
            self.too_large.add(path)
            return None, f"larger than {MAX_FILE_MB} MB"
        self.files.add(path)
        return Target(Kind.FILE, path, ""), ""

    def substitute(self, html: str, page: str, paths: SitePaths, home: Callable[[str], str]) -> str:
        """``html`` of the page at site path ``page`` with its placeholders as relative URLs.
        ``home(fragment)``: the site path holding a README anchor (the home page or the README page)."""

        def url(m: re.Match[str]) -> str:
            target = self.targets[int(m["n"])]
            if target.kind is Kind.HOME:
                site: str | None = home(target.fragment)
            elif target.kind is Kind.PAGE:
                site = paths.page(target.path)
            elif target.kind is Kind.FILE:
                site = paths.file(target.path)
            elif target.kind is Kind.FOLDER:
                site = paths.folder(target.path)
            else:
                site = target.path
            if site is None:  # a document that could not be published: the link stays as text
                return ""
            if site == page and target.fragment:
                return f'{m["attr"]}="{target.fragment}"'
            return f'{m["attr"]}="{href(site, page)}{_attribute(target.fragment)}"'

        return _PLACEHOLDER.sub(url, html)


def _attribute(fragment: str) -> str:
    return fragment.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
