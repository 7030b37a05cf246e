"""Where each part of the diary lives on the site, and the relative links between them.

A diary path (``June 2025/11thJuneX.md``, ``notes/imgs/Fig 1.png``) becomes a site
path: every segment slugged (lower case, runs of anything but letters, digits,
``_``, ``.`` and ``-`` made one ``-``; letters of any script kept), a markdown
document a folder of its own (``june-2025/11thjunex/``), any other file keeping
its suffix. Two diary names that slug alike, or a name the site itself uses at
its root (``assets``, ``themes``...), get ``-2``, ``-3``... in the order of their
sorted diary paths, so the same diary gives the same URLs every time.

Links between site paths are relative (the site works at any base URL, GitHub
Pages' ``/REPO/`` included) and percent-encoded (non-ASCII letters as UTF-8); they are
written between docs-tree files, which Zensical turns into page URLs.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

_UNSAFE = re.compile(r"[^\w.-]+")
# Names the site's own pages and files take at its root (see pages.py and Zensical's output).
RESERVED_ROOT = frozenset({
    "assets", "pd", "search", "themes", "topics", "diary", "reading", "topic-map", "readme", "charts",
    "404", "404.html", "sitemap.xml", "sitemap.xml.gz", "feed.xml", "search.json", "index", "index.html",
    "objects.inv", "llms.txt",
})
MARKDOWN_SUFFIXES = (".md", ".markdown")


def slug(name: str) -> str:
    """One segment of a site path: ``"June 2025"`` -> ``"june-2025"``, ``"TTT++: When?"`` -> ``"ttt-when"``."""
    text = _UNSAFE.sub("-", unicodedata.normalize("NFKC", name)).casefold()
    text = re.sub(r"-{2,}", "-", text).strip("-.")
    return text or "page"


def is_markdown(relpath: str) -> bool:
    return relpath.lower().endswith(MARKDOWN_SUFFIXES)


class SitePaths:
    """Diary paths -> site paths, fixed once for a build from every path the site publishes.

    A page's site path ends with ``/`` (``notes/elmo/``; the home page is ``""``); a file's does not.
    """

    def __init__(self, folders: Iterable[str], pages: Iterable[str], files: Iterable[str]):
        self._folders: dict[str, str] = {"": ""}
        self._taken: dict[str, set[str]] = {"": set(RESERVED_ROOT)}  # site folder -> names used in it
        self._paths: dict[str, str] = {}
        wanted_folders = set(folders)
        pages, files = sorted(set(pages)), sorted(set(files))
        for path in [*pages, *files]:
            parent = posixpath.dirname(path)
            while parent:
                wanted_folders.add(parent)
                parent = posixpath.dirname(parent)
        for folder in sorted(wanted_folders, key=lambda p: (p.count("/"), p)):
            self._folder(folder)
        for path in pages:
            parent = self._folders[posixpath.dirname(path)]
            stem = posixpath.basename(path).rsplit(".", 1)[0]
            self._paths[path] = self._join(parent, self._claim(parent, slug(stem))) + "/"
        for path in files:
            parent = self._folders[posixpath.dirname(path)]
            name = posixpath.basename(path)
            stem, dot, suffix = name.rpartition(".")
            wanted = f"{slug(stem)}.{slug(suffix)}" if dot and stem else slug(name)
            self._paths[path] = self._join(parent, self._claim(parent, wanted))

    @staticmethod
    def _join(parent: str, name: str) -> str:
        return f"{parent}/{name}" if parent else name

    def _claim(self, site_folder: str, wanted: str) -> str:
        taken = self._taken.setdefault(site_folder, {"index"})
        name, n = wanted, 1
        while name.casefold() in taken:
            n += 1
            stem, dot, suffix = wanted.rpartition(".")
            name = f"{stem}-{n}.{suffix}" if dot and stem and "/" not in suffix and len(suffix) <= 5 else f"{wanted}-{n}"
        taken.add(name.casefold())
        return name

    def _folder(self, folder: str) -> str:
        if folder not in self._folders:
            parent = self._folder(posixpath.dirname(folder))
            self._folders[folder] = self._join(parent, self._claim(parent, slug(posixpath.basename(folder))))
        return self._folders[folder]

    def page(self, relpath: str) -> str | None:
        """The site path of a markdown document of the diary (``notes/elmo/``), None when it is not published."""
        return self._paths.get(relpath) if is_markdown(relpath) else None

    def file(self, relpath: str) -> str | None:
        """The site path of another file of the diary, copied to the site; None when it is not published."""
        return None if is_markdown(relpath) else self._paths.get(relpath)

    def folder(self, relpath: str) -> str | None:
        """The site path of a folder's page (``notes/``), for a folder the site publishes."""
        site = self._folders.get(relpath)
        return None if site is None or relpath == "" else site + "/"

    def files(self) -> dict[str, str]:
        """Every published file that is not a page: diary path -> site path."""
        return {path: site for path, site in self._paths.items() if not site.endswith("/")}


def docs_file(site_path: str) -> str:
    """The docs-tree file Zensical turns into the page at ``site_path``: ``notes/elmo/`` -> ``notes/elmo.md``
    (a folder's page ``notes/`` -> ``notes.md``), the home page ``""`` -> ``index.md``."""
    return f"{site_path.rstrip('/')}.md" if site_path else "index.md"


def href(target: str, from_page: str) -> str:
    """The link from the page at ``from_page`` to the site path ``target``, as the docs tree writes it: relative
    to the page's docs file, a page by its ``.md`` file (Zensical turns it into the page's URL, relative and
    percent-encoded, as MkDocs does), a file by its path."""
    goal = docs_file(target) if target.endswith("/") or target == "" else target
    here = posixpath.dirname(docs_file(from_page)) or "."
    return quote(posixpath.relpath(goal, here), safe="/.-_~")
