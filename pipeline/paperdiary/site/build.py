"""``paperdiary site`` as a library call: the diary read, its pages written as a docs tree, built by Zensical,
finished (feed, search index) and published to the output folder.

Steps, each timed and reported:

1. **read**: the catalog's entries, the README (its introduction, lessons by theme, the rest), the reading
   stats and, with the ``map`` extra, the topic map (embeddings cached in the store, as ``paperdiary map``);
2. **render**: every entry, the README and each note they link to, as GitHub renders markdown, sanitised
   (``render.py``); their links resolved to the site (``targets.py``), the files they show copied;
3. **write**: the docs tree, ``mkdocs.yml`` and the theme's additions into ``STATE/site/`` (only files
   whose bytes change are rewritten, so Zensical's cache skips the rest);
4. **zensical**: ``python -m zensical build`` on that tree;
5. **finish**: ``feed.xml``, the search index kept to entries, themes and the home page;
6. **publish**: the build copied beside the output folder, then swapped in (a reader never sees half a
   site); an output folder PaperDiary did not make is never replaced. The first time the output folder
   is inside the diary, ``.gitignore`` gets a line for it.

Nothing is read from outside the diary: entries, README and linked files go through
``fsutil.resolve_inside``; the generator reads only the tree written here.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from paperdiary.diary.catalog import Catalog, CatalogEntry
from paperdiary.diary.readme import README_NAME, Readme, Theme, iter_lessons
from paperdiary.diary.stats import reading_stats
from paperdiary.errors import DiaryError, OutsideDiaryError, PaperDiaryError, ReadmeError, SiteError
from paperdiary.extras import missing_packages
from paperdiary.fsutil import atomic_write_bytes, read_diary_bytes, resolve_inside
from paperdiary.settings import Settings
from paperdiary.site import config, pages
from paperdiary.site.feed import FEED_NAME, FeedItem, atom_feed
from paperdiary.site.paths import SitePaths, docs_file, slug
from paperdiary.site.render import Rendered, github_anchor, render_markdown
from paperdiary.site.targets import LinkTable, Missing

if TYPE_CHECKING:
    from paperdiary.diary.map.build import TopicMap
    from paperdiary.state.store import Store

MARKER = ".paperdiary-site"  # in the output folder: PaperDiary made it, so a rebuild may replace it
SITE_STATE = "site"  # the state folder's subfolder holding mkdocs.yml, the docs tree and the build
RELATED_COUNT = 3
LATEST_ON_HOME = 5
_NOT_SEARCHED = ("diary/", "topics/", "topic-map/", "reading/", "readme/", "themes/")  # listings: their entries are
_GITIGNORED_FLAG = "gitignore-added"  # in STATE/site: the line was added once; if the user removes it, it stays out


class SiteReporter(Protocol):
    def step_started(self, step: str, label: str) -> None: ...

    def step_finished(self, step: str, seconds: float) -> None: ...

    def note(self, text: str) -> None: ...


class SilentReporter:
    def step_started(self, step: str, label: str) -> None:
        pass

    def step_finished(self, step: str, seconds: float) -> None:
        pass

    def note(self, text: str) -> None:
        pass


@dataclass(frozen=True)
class SiteOptions:
    out: Path
    base_url: str  # absolute, ending with "/": sitemap, feed and canonical links use it
    topic_map: bool = True  # draw the topic map and its topic pages when the map extra is installed


@dataclass
class SiteOutcome:
    out: Path
    base_url: str
    pages: int = 0
    entries: int = 0
    files: int = 0  # copied from the diary (images, PDFs...)
    size: int = 0  # bytes of the published site
    missing: list[Missing] = field(default_factory=list)  # links that point nowhere: kept as text
    notes: list[str] = field(default_factory=list)  # what was left out and why (no map extra, ...)
    timings: dict[str, float] = field(default_factory=dict)
    gitignore: str | None = None  # the line added to .gitignore this time
    topic_map: bool = False
    plots: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "base_url": self.base_url, "pages": self.pages, "entries": self.entries,
                "files": self.files, "size_bytes": self.size, "topic_map": self.topic_map, "plots": self.plots,
                "missing_links": [{"source": m.source, "url": m.url, "reason": m.reason} for m in self.missing],
                "notes": self.notes, "gitignore_added": self.gitignore, "timings": self.timings}


@dataclass
class _Sources:
    """What the diary says, read once."""

    entries: list[CatalogEntry]  # readable, inside the diary
    site_name: str
    readme: Readme | None  # the lessons model, when the README has a lessons section
    readme_text: str | None  # the README as written, when there is one
    topic_map: TopicMap | None = None
    reading_html: str | None = None
    map_html: str | None = None
    stats: Any = None


def build_site(settings: Settings, store: Store | None, options: SiteOptions,
               reporter: SiteReporter | None = None) -> SiteOutcome:
    """Build the diary's site into ``options.out``. Raises SiteError (the generator failed, or the output
    folder is not one PaperDiary made) and the diary's own errors (an unreadable README...)."""
    reporter = reporter or SilentReporter()
    outcome = SiteOutcome(out=options.out, base_url=options.base_url)
    out = _check_out(settings, options.out)
    work = settings.state_path / SITE_STATE
    work.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def step(name: str, label: str) -> Iterator[None]:
        reporter.step_started(name, label)
        started = time.perf_counter()
        yield
        outcome.timings[name] = round(time.perf_counter() - started, 3)
        reporter.step_finished(name, outcome.timings[name])

    with step("read", "Reading the diary"):
        sources = _read(settings, store, options, outcome)
    for text in outcome.notes:
        reporter.note(text)
    with step("render", f"Rendering {len(sources.entries)} entries"):
        docs = _Docs(settings, sources, outcome)
        site_pages, files = docs.compose()
    with step("write", "Writing the docs tree"):
        nav = _nav(sources)
        _write_tree(work, settings, sources, site_pages, files, nav, options.base_url)
    with step("zensical", f"Building {len(site_pages)} pages with Zensical"):
        _run_zensical(work)
    with step("finish", "Feed and search index"):
        build = work / config.BUILD_DIR
        _finish(build, sources, docs, options.base_url)
    with step("publish", f"Publishing to {out}"):
        _publish(build, out)
        outcome.gitignore = _gitignore(settings, out, work)
    outcome.pages = len(site_pages)
    outcome.entries = len(sources.entries)
    outcome.files = len(files)
    outcome.size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return outcome


# --------------------------------------------------------------------------- read


def _read(settings: Settings, store: Store | None, options: SiteOptions, outcome: SiteOutcome) -> _Sources:
    root = settings.diary
    entries = [e for e in Catalog(settings, store=store).entries() if not e.outside and e.sha256]
    readme_path = root / README_NAME
    readme_text: str | None = None
    model: Readme | None = None
    if readme_path.exists() or readme_path.is_symlink():
        readme_text = read_diary_bytes(root, readme_path).decode("utf-8", errors="replace")
        try:
            model = Readme.read(readme_path, settings.lessons_heading, diary_root=root)
        except ReadmeError:
            model = None  # no lessons section: the home page is the README as it is
    sources = _Sources(entries, _site_name(readme_text, root), model, readme_text)

    if missing := missing_packages("stats"):
        outcome.notes.append(f"reading plots left out: the map extra is not installed ({', '.join(missing)} "
                             "missing): pip install 'paperdiary[site]'")
    else:
        from paperdiary.diary.plots import html_text

        sources.stats = reading_stats(entries)
        if sources.stats.total:
            sources.reading_html = html_text(sources.stats)
            outcome.plots = True
    if not options.topic_map:
        outcome.notes.append("topic map left out (--no-map)")
    elif missing := missing_packages("map"):
        outcome.notes.append(f"topic map left out: the map extra is not installed ({', '.join(missing)} missing)")
    elif len(entries) < 3:
        outcome.notes.append("topic map left out: fewer than 3 entries")
    elif store is not None:
        sources.topic_map = _topic_map(settings, store, entries, outcome)
    return sources


def _site_name(readme_text: str | None, root: Path) -> str:
    if readme_text:
        for line in readme_text.splitlines():
            m = re.match(r"^ {0,3}# +(.+?)(?: +#+)? *$", line)
            if m:
                from paperdiary.diary.readme import plain_text

                name = plain_text(m[1]).strip()
                if name:
                    return name
    return root.resolve().name or "Paper diary"


def _topic_map(settings: Settings, store: Store, entries: list[CatalogEntry], outcome: SiteOutcome
               ) -> TopicMap | None:
    from paperdiary.diary.map.build import build_map
    from paperdiary.diary.map.embed import embedder_for

    try:
        topic_map = build_map(settings, store, embedder_for(settings, store), entries=entries)
    except (PaperDiaryError, ValueError) as exc:
        outcome.notes.append(f"topic map left out: {exc}")
        return None
    outcome.topic_map = True
    return topic_map


# --------------------------------------------------------------------------- render


class _Docs:
    """Every page of the site, composed: rendered documents with their links resolved, and the listings."""

    def __init__(self, settings: Settings, sources: _Sources, outcome: SiteOutcome):
        self.settings, self.sources, self.outcome = settings, sources, outcome
        self.root = settings.diary
        specials = {}
        assets = posixpath.normpath(settings.assets_dir.replace("\\", "/"))
        if sources.reading_html is not None:
            specials[f"{assets}/reading.html"] = "reading/"
        if sources.topic_map is not None:
            specials[f"{assets}/topic-map.html"] = "topic-map/"
        repository = github_repository(self.root)
        self.links = LinkTable(self.root, hidden=(posixpath.normpath(settings.state_dir),), specials=specials,
                               own_repo=(repository[0].casefold(), repository[1].casefold()) if repository else None)
        self.entries = {e.relpath: e for e in sources.entries}
        self.by_nfc = {unicodedata.normalize("NFC", e.relpath): e for e in sources.entries}
        self.rendered: dict[str, Rendered] = {}  # diary path -> its rendered body (entries and notes)
        self.titles: dict[str, str] = {}  # notes' titles
        self.home_ids: frozenset[str] = frozenset()
        self.readme_ids: frozenset[str] = frozenset()
        self.has_readme_page = False
        self.paths: SitePaths | None = None
        self.theme_pages: dict[str, str] = {}  # theme or sub-theme name -> its (top-level) theme page
        self.topic_pages: dict[int, str] = {}

    # ---- documents

    def _render_file(self, relpath: str, title: str | None) -> Rendered | None:
        try:
            text = read_diary_bytes(self.root, self.root / relpath).decode("utf-8", errors="replace")
        except (OSError, OutsideDiaryError) as exc:
            self.outcome.notes.append(f"{relpath} left out: {exc}")
            return None
        return render_markdown(text, self.links.hook(relpath), drop_title=title, served=self.links.served)

    def _render_notes(self) -> None:
        """The linked markdown files that are not entries, and those they link to, until none is new."""
        while pending := sorted(self.links.documents - set(self.rendered) - set(self.entries)):
            for relpath in pending:
                title = _note_title(self.root, relpath)
                rendered = self._render_file(relpath, title)
                self.rendered[relpath] = rendered or Rendered("<p><em>Could not be read.</em></p>", frozenset(), False)
                self.titles[relpath] = title

    def compose(self) -> tuple[list[pages.Page], dict[str, str]]:
        """The pages (site path, title, HTML) and the files to copy (site path -> diary path)."""
        sources = self.sources
        for entry in sources.entries:
            rendered = self._render_file(entry.relpath, entry.title)
            if rendered is not None:
                self.rendered[entry.relpath] = rendered
        home, readme_page, theme_parts, lessons = self._render_readme()
        self._render_notes()

        published = set(self.rendered)
        self.paths = paths = SitePaths(self.links.folders, published, self.links.files)
        self._name_themes(theme_parts)
        self._name_topics()
        self.outcome.missing = self.links.missing

        site_pages: list[pages.Page] = []

        def resolved(text: str, page: str) -> str:
            return self.links.substitute(text, page, paths, self._home_for)

        # home and README
        site_pages.append(pages.Page("", sources.site_name, resolved(self._home_body(home, theme_parts), ""),
                                     math=home.math, description=_first_sentence(home.html)))
        if readme_page is not None:
            site_pages.append(pages.Page("readme/", "README", resolved(readme_page.html, "readme/"),
                                         math=readme_page.math))
        # entries
        lessons_of = self._lessons_by_entry(lessons)
        related = self._related()
        for entry in sources.entries:
            site = paths.page(entry.relpath)
            body = self.rendered.get(entry.relpath)
            if site is None or body is None:
                continue
            context = pages.EntryContext(
                theme_pages=self.theme_pages, topic=self._topic_of(entry.relpath),
                lessons=[(theme, resolved(fragment, site)) for theme, fragment in lessons_of.get(entry.relpath, [])],
                related=related.get(entry.relpath, []))
            text = "\n".join([pages.entry_header(entry, site, context), '<div class="pd-body">',
                              resolved(body.html, site), "</div>", pages.entry_footer(site, context, self._site_of)])
            site_pages.append(pages.Page(site, entry.title, text, description=entry.description, math=body.math))
        # notes the diary links to
        for relpath, title in self.titles.items():
            site = paths.page(relpath)
            if site is not None:
                note = self.rendered[relpath]
                site_pages.append(pages.Page(site, title, resolved(note.html, site), math=note.math))
        # listings
        site_pages.append(pages.Page("diary/", "Full Diary",
                                     pages.full_diary(sources.entries, "diary/", self._site_of)))
        site_pages += self._theme_pages(theme_parts, resolved)
        site_pages += self._topic_and_map_pages()
        if sources.reading_html is not None and sources.stats is not None:
            reading = pages.reading_summary(sources.stats) + "\n" + pages.chart("charts/reading.html", "reading/",
                                                                               "Reading plots", height=640)
            site_pages.append(pages.Page("reading/", "Reading", reading))
        site_pages += self._folder_pages()
        files = {site: relpath for relpath, site in paths.files().items()}
        return site_pages, files

    # ---- the README

    def _render_readme(self) -> tuple[Rendered, Rendered | None, list[tuple[Theme, Rendered]],
                                      list[tuple[Theme, Any, Rendered]]]:
        """The home page's body, the README page (the whole README, when the home page shows only part of it),
        each top-level theme's body (its lessons), and each lesson rendered."""
        sources, hook = self.sources, self.links.hook(README_NAME, readme=True)
        served = self.links.served
        model, text = sources.readme, sources.readme_text
        if text is None:
            empty = Rendered("", frozenset(), False)
            return empty, None, [], []
        whole = render_markdown(text, hook, drop_title=sources.site_name, served=served)
        if model is None:
            self.home_ids = whole.ids
            return whole, None, [], []
        section = "".join(model.section_heading) + "".join(model.intro) + "".join(
            line for theme in model.themes for line in theme.lines())
        home = render_markdown("".join(model.preamble) + section, hook, drop_title=sources.site_name, served=served)
        self.home_ids, self.readme_ids = home.ids, whole.ids
        readme_page = whole if whole.ids - home.ids else None
        self.has_readme_page = readme_page is not None
        themes = [(theme, render_markdown("".join(theme.lines()), hook, drop_title=theme.name, served=served))
                  for theme in model.themes]
        lessons = [(theme, lesson, render_markdown(lesson.body, hook, served=served))
                   for theme, _, lesson in iter_lessons(model)]
        return home, readme_page, themes, lessons

    def _home_for(self, fragment: str) -> str:
        anchor = fragment.removeprefix("#")
        if anchor and anchor not in self.home_ids and anchor in self.readme_ids and self.has_readme_page:
            return "readme/"
        return ""

    def _home_body(self, home: Rendered, themes: list[tuple[Theme, Rendered]]) -> str:
        body = home.html
        seen: dict[str, int] = {}
        for theme in self._all_themes():
            anchor = github_anchor(theme.name, seen)
            target = self.theme_pages.get(theme.name)
            if target is None or theme.level != min(t.level for t in self._all_themes()):
                continue
            more = (f'<p class="pd-theme-more">{pages.link(target, "", f"{theme.name}: its lessons and entries")}'
                    "</p>")
            body = re.sub(rf'(<h\d id="{re.escape(anchor)}">.*?</h\d>)', r"\1" + "\n" + more.replace("\\", "\\\\"),
                          body, count=1, flags=re.S)
        latest = pages.newest_first(self.sources.entries)[:LATEST_ON_HOME]
        if latest:
            body += ('\n<h2 id="pd-latest">Latest entries</h2>\n' + pages.entry_list(latest, "", self._site_of)
                     + f'\n<p>{pages.link("diary/", "", "The full diary")}</p>')
        return body

    def _all_themes(self) -> list[Theme]:
        model = self.sources.readme
        return [t for top in model.themes for t in top.walk()] if model is not None else []

    def _name_themes(self, themes: list[tuple[Theme, Rendered]]) -> None:
        taken: set[str] = set()
        for theme, _ in themes:
            name, n = slug(theme.name), 1
            while name in taken:
                n += 1
                name = f"{slug(theme.name)}-{n}"
            taken.add(name)
            for sub in theme.walk():
                self.theme_pages.setdefault(sub.name, f"themes/{name}/")

    def _theme_pages(self, themes: list[tuple[Theme, Rendered]], resolved: Callable[[str, str], str]
                     ) -> list[pages.Page]:
        out: list[pages.Page] = []
        index = []
        for theme, rendered in themes:
            site = self.theme_pages[theme.name]
            if not site.startswith("themes/") or any(p.path == site for p in out):
                continue
            cited = {path for sub in theme.walk() for lesson in sub.lessons for path in lesson.cites}
            entries = [self.by_nfc[p] for p in sorted(cited) if p in self.by_nfc]
            lessons = sum(len(sub.lessons) for sub in theme.walk())
            out.append(pages.Page(site, theme.name, pages.theme_page(resolved(rendered.html, site), entries, site,
                                                                     self._site_of), math=rendered.math))
            index.append((site, theme.name, f"{lessons} lesson{'s' if lessons != 1 else ''}, "
                                            f"{len(entries)} entr{'ies' if len(entries) != 1 else 'y'}"))
        if self.sources.readme is not None:
            out.append(pages.Page("themes/", "Themes", "<p>The README's lessons, by theme.</p>\n"
                                  + pages.index_list(index, "themes/")))
        return out

    def _lessons_by_entry(self, lessons: list[tuple[Theme, Any, Rendered]]) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for theme, lesson, rendered in lessons:
            for path in lesson.cites:
                entry = self.by_nfc.get(path)
                if entry is not None:
                    found[entry.relpath].append((theme.name, rendered.html))
        return found

    # ---- topics and related entries

    def _name_topics(self) -> None:
        topic_map = self.sources.topic_map
        taken: set[str] = set()
        for cluster in topic_map.clusters if topic_map is not None else ():
            name, n = slug(cluster.name), 1
            while name in taken:
                n += 1
                name = f"{slug(cluster.name)}-{n}"
            taken.add(name)
            self.topic_pages[cluster.id] = f"topics/{name}/"

    def _topic_of(self, relpath: str) -> tuple[str, str] | None:
        topic_map = self.sources.topic_map
        if topic_map is None:
            return None
        for cluster in topic_map.clusters:
            if relpath in cluster.members:
                return cluster.name, self.topic_pages[cluster.id]
        return None

    def _topic_and_map_pages(self) -> list[pages.Page]:
        topic_map = self.sources.topic_map
        if topic_map is None:
            return []
        out = []
        index = []
        for cluster in topic_map.clusters:
            site = self.topic_pages[cluster.id]
            members = [self.entries[p] for p in cluster.members if p in self.entries]
            out.append(pages.Page(site, cluster.name, pages.topic_page(cluster.keywords, members, site, self._site_of,
                                                                         "topic-map/")))
            index.append((site, cluster.name, f"{len(members)} entr{'ies' if len(members) != 1 else 'y'}"))
        out.append(pages.Page("topics/", "Topics", "<p>The topic map's clusters: entries close in meaning.</p>\n"
                              + pages.index_list(index, "topics/")))
        self.sources.map_html = self._map_html(topic_map)
        body = (pages.chart("charts/topic-map.html", "topic-map/", "Topic map", height=720)
                + f"\n<p>{topic_map.method}. Topics:</p>\n" + pages.index_list(index, "topic-map/"))
        out.append(pages.Page("topic-map/", "Topic map", body))
        return out

    def _map_html(self, topic_map: TopicMap) -> str:
        """The topic map's offline page for ``charts/``: a click opens the entry's page on the site, in the
        whole window (the map is shown in a frame)."""
        from paperdiary.diary.map.render import map_html

        points = []
        for point in topic_map.points:
            site = self._site_of(point.relpath)
            points.append(replace(point, relpath=f"{site}index.html" if site is not None else ""))
        page = map_html(replace(topic_map, points=tuple(points)), "charts")
        return page.replace("window.location.href = ", "window.top.location.href = ")

    def _related(self) -> dict[str, list[CatalogEntry]]:
        """Each entry's nearest entries: by the topic map's reduced embeddings, else by the themes they share."""
        entries = self.sources.entries
        topic_map = self.sources.topic_map
        found: dict[str, list[CatalogEntry]] = {}
        if topic_map is not None and len(topic_map.points) > 1:
            import numpy as np

            vectors = np.asarray(topic_map.reduced, dtype=np.float64)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            unit = vectors / np.maximum(norms, 1e-12)
            similarity = unit @ unit.T
            np.fill_diagonal(similarity, -np.inf)
            for n, point in enumerate(topic_map.points):
                order = np.argsort(-similarity[n], kind="stable")[:RELATED_COUNT]
                found[point.relpath] = [self.entries[topic_map.points[k].relpath] for k in order
                                        if topic_map.points[k].relpath in self.entries]
            return found
        by_theme: dict[str, list[CatalogEntry]] = defaultdict(list)
        for entry in entries:
            for theme in entry.themes:
                by_theme[theme].append(entry)
        for entry in entries:
            scores: dict[str, int] = defaultdict(int)
            for theme in entry.themes:
                for other in by_theme[theme]:
                    if other.relpath != entry.relpath:
                        scores[other.relpath] += 1
            ranked = sorted(scores, key=lambda p: (-scores[p], abs((self.entries[p].date_read - entry.date_read).days), p))
            found[entry.relpath] = [self.entries[p] for p in ranked[:RELATED_COUNT]]
        return found

    # ---- folders

    def _folder_pages(self) -> list[pages.Page]:
        paths = self.paths
        assert paths is not None
        out = []
        for folder in sorted(self.links.folders):
            site = paths.folder(folder)
            if site is None:
                continue
            inside = [p for p in self.rendered if posixpath.dirname(p) == folder]
            entries = [self.entries[p] for p in inside if p in self.entries]
            documents = [(s, self.titles[p]) for p in inside if p in self.titles and (s := paths.page(p))]
            files = [(s, posixpath.basename(p)) for p, s in paths.files().items() if posixpath.dirname(p) == folder]
            folders = [(s, posixpath.basename(f)) for f in sorted(self.links.folders)
                       if posixpath.dirname(f) == folder and (s := paths.folder(f))]
            out.append(pages.Page(site, posixpath.basename(folder),
                                  pages.folder_page(entries, documents, files, folders, site, self._site_of)))
        return out

    def _site_of(self, relpath: str) -> str | None:
        assert self.paths is not None
        return self.paths.page(relpath)

    def feed_items(self) -> list[FeedItem]:
        items = []
        for entry in self.sources.entries:
            site = self._site_of(entry.relpath)
            if site is not None and entry.dated:
                items.append(FeedItem(entry.title, site, entry.date_read, entry.added, entry.description,
                                      entry.lessons, entry.arxiv_id))
        return items


def github_repository(diary: Path) -> tuple[str, str] | None:
    """(owner, name) of the diary's ``origin`` remote when it is on github.com."""
    from paperdiary.git import git_output

    remote = (git_output(diary, "remote", "get-url", "origin") or "").strip()
    m = re.match(r"^(?:https://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
                 r"(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?$", remote)
    return (m["owner"], m["repo"]) if m else None


def github_pages_url(diary: Path) -> str | None:
    """The GitHub Pages address of the diary's repository (``https://you.github.io/repo/``), when on github.com."""
    repository = github_repository(diary)
    if repository is None:
        return None
    owner, repo = repository
    if repo.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{repo}/"


def _note_title(root: Path, relpath: str) -> str:
    """A linked note's title: its first ``#``/``##`` heading, else its file name."""
    try:
        text = read_diary_bytes(root, root / relpath).decode("utf-8", errors="replace")
    except (OSError, OutsideDiaryError):
        text = ""
    for line in text.splitlines()[:40]:
        m = re.match(r"^ {0,3}#{1,2} +(.+?)(?: +#+)? *$", line)
        if m:
            from paperdiary.diary.readme import plain_text

            if title := plain_text(m[1]).strip():
                return title
    return posixpath.basename(relpath).rsplit(".", 1)[0]


def _first_sentence(html_text: str) -> str:
    m = re.search(r"<p>(.*?)</p>", html_text, re.S)
    text = re.sub(r"<[^>]+>", "", m[1]) if m else ""
    import html

    return " ".join(html.unescape(text).split())[:200]


# --------------------------------------------------------------------------- write


def _nav(sources: _Sources) -> list[config.NavItem]:
    nav = [config.NavItem("Home", "index.md"), config.NavItem("Full Diary", "diary.md")]
    if sources.readme is not None:
        nav.append(config.NavItem("Themes", "themes.md"))
    if sources.topic_map is not None:
        nav += [config.NavItem("Topics", "topics.md"), config.NavItem("Topic map", "topic-map.md")]
    if sources.reading_html is not None:
        nav.append(config.NavItem("Reading", "reading.md"))
    return nav


def _front_matter(page: pages.Page) -> str:
    import yaml

    # No table of contents in the right column: the pages' headings are HTML, which the theme's TOC does not read.
    meta: dict[str, Any] = {"title": page.title, "hide": ["toc"]}
    if page.description:
        meta["description"] = page.description
    if page.math:
        meta["pd_math"] = True
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000) + "---\n"


def _write_tree(work: Path, settings: Settings, sources: _Sources, site_pages: Sequence[pages.Page],
                files: dict[str, str], nav: list[config.NavItem], base_url: str) -> None:
    """The docs tree, ``mkdocs.yml`` and the overrides, written where they changed; stale files removed."""
    import yaml

    wanted: dict[Path, bytes] = {}
    docs = work / config.DOCS_DIR
    for page in site_pages:
        text = f"{_front_matter(page)}\n<div class=\"pd-page\">\n{page.body}\n</div>\n"
        wanted[docs / docs_file(page.path)] = text.encode("utf-8")
    for site, relpath in files.items():
        wanted[docs / site] = read_diary_bytes(settings.diary, settings.diary / relpath)
    for name, data in config.static_files().items():
        wanted[docs / config.STATIC_DIR / name] = data
    for name, data in config.mathjax_files().items():
        wanted[docs / config.STATIC_DIR / "mathjax" / name] = data
    if sources.reading_html is not None or sources.map_html is not None:
        from plotly.offline import get_plotlyjs

        wanted[docs / "charts" / "plotly.min.js"] = get_plotlyjs().encode("utf-8")
    if sources.reading_html is not None:
        wanted[docs / "charts" / "reading.html"] = sources.reading_html.encode("utf-8")
    if sources.map_html is not None:
        wanted[docs / "charts" / "topic-map.html"] = sources.map_html.encode("utf-8")
    for name, data in config.overrides().items():
        wanted[work / config.OVERRIDES_DIR / name] = data
    document = config.config_document(sources.site_name, base_url, _first_line(sources), nav)
    wanted[work / config.CONFIG_NAME] = yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")

    for folder in (docs, work / config.OVERRIDES_DIR):
        if folder.exists():
            for path in sorted(folder.rglob("*"), reverse=True):
                if path.is_file() and path not in wanted:
                    path.unlink()
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
    for path, data in wanted.items():
        try:
            unchanged = path.read_bytes() == data
        except OSError:
            unchanged = False
        if not unchanged:
            atomic_write_bytes(path, data)


def _first_line(sources: _Sources) -> str:
    return f"A paper diary: {len(sources.entries)} entries."


# --------------------------------------------------------------------------- zensical


def _run_zensical(work: Path) -> None:
    build = work / config.BUILD_DIR
    if build.exists():
        shutil.rmtree(build)  # the cache keeps rendering cheap; a fresh folder keeps no page that went
    command = [sys.executable, "-m", "zensical", "build", "-f", str(work / config.CONFIG_NAME)]
    env = {**os.environ, "NO_COLOR": "1"}
    try:
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, env=env, timeout=900)
    except subprocess.TimeoutExpired:
        raise SiteError("Zensical took more than 15 minutes to build the site: stopped.",
                        hint="Run again with --debug to see where it stops.") from None
    if done.returncode != 0 or not (build / "index.html").is_file():
        said = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()][-5:]
        raise SiteError(f"Zensical could not build the site (exit {done.returncode}): " + " | ".join(said),
                        hint=f"Its configuration and pages are in {work}.")


# --------------------------------------------------------------------------- finish and publish


def _finish(build: Path, sources: _Sources, docs: _Docs, base_url: str) -> None:
    atomic_write_bytes(build / FEED_NAME, atom_feed(sources.site_name, base_url, docs.feed_items(),
                                                    subtitle=_first_line(sources)).encode("utf-8"))
    (build / ".nojekyll").write_bytes(b"")  # for a site published from a branch: no Jekyll pass over it
    icon = build / "assets" / "images" / "favicon.png"
    if icon.is_file() and not (build / "favicon.ico").exists():  # asked for by pages without an icon (the charts)
        shutil.copyfile(icon, build / "favicon.ico")
    index = build / "search.json"
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
        items = data["items"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # another index format: left as Zensical wrote it
    data["items"] = [item for item in items if not str(item.get("location", "")).startswith(_NOT_SEARCHED)
                     and not _folder_location(str(item.get("location", "")), docs)]
    atomic_write_bytes(index, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _folder_location(location: str, docs: _Docs) -> bool:
    from urllib.parse import unquote

    paths = docs.paths
    page = unquote(location.split("#", 1)[0])
    return paths is not None and any(paths.folder(f) == page for f in docs.links.folders)


def _check_out(settings: Settings, out: Path) -> Path:
    """The output folder, absolute; refused when it is the diary (or holds it) or a folder PaperDiary did not make."""
    out = Path(os.path.abspath(out))
    root = settings.diary.resolve()
    if out.is_symlink():
        raise SiteError(f"the output folder {out} is a symlink: refused.", hint="Give a real folder as --out.")
    if root == out.resolve() or root.is_relative_to(out.resolve()):
        raise SiteError(f"the output folder {out} is the diary or holds it: refused.",
                        hint="Use a folder of its own, e.g. --out site.")
    state = settings.state_path.resolve()
    if out.resolve().is_relative_to(state) or (out.resolve().is_relative_to(root) and
                                               any(p.startswith(".") for p in out.resolve().relative_to(root).parts)):
        raise SiteError(f"the output folder {out} is hidden or inside the state folder: refused.",
                        hint="Use a visible folder, e.g. --out site.")
    if out.exists():
        if not out.is_dir():
            raise SiteError(f"the output folder {out} is a file: refused.", hint="Choose another --out.")
        if not (out / MARKER).is_file() and any(out.iterdir()):
            raise SiteError(f"{out} already exists and PaperDiary did not build it: nothing was replaced.",
                            hint="Choose another --out, or empty that folder.")
    return out


def _publish(build: Path, out: Path) -> None:
    """Copy the build beside ``out``, then swap it in: the old site stays whole until the new one is."""
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    fresh = parent / f".{out.name}.new-{os.getpid()}"
    old = parent / f".{out.name}.old-{os.getpid()}"
    for stale in (fresh, old):
        shutil.rmtree(stale, ignore_errors=True)
    try:
        shutil.copytree(build, fresh)
        (fresh / MARKER).write_text("Built by `paperdiary site`: rebuilt in full each time.\n", encoding="utf-8")
        if out.exists():
            os.rename(out, old)
        os.rename(fresh, out)
    except OSError as exc:
        shutil.rmtree(fresh, ignore_errors=True)
        if old.exists() and not out.exists():
            os.rename(old, out)
        raise DiaryError(f"cannot write the site to {out}: {exc.strerror or exc}.",
                         hint="Check that the folder is writable and the disk not full.") from None
    shutil.rmtree(old, ignore_errors=True)


def _gitignore(settings: Settings, out: Path, work: Path) -> str | None:
    """Add the output folder to the diary's .gitignore the first time a site is built inside the diary."""
    root = settings.diary.resolve()
    if not out.resolve().is_relative_to(root) or (work / _GITIGNORED_FLAG).exists():
        return None
    relative = out.resolve().relative_to(root).as_posix()
    line = f"/{relative}/"
    try:
        gitignore = resolve_inside(settings.diary, settings.diary / ".gitignore")
    except OutsideDiaryError:
        return None  # never written through a link out of the diary
    current = gitignore.read_text(encoding="utf-8", errors="replace") if gitignore.exists() else ""
    if {line, line.lstrip("/"), line.rstrip("/"), line.strip("/")} & {s.strip() for s in current.splitlines()}:
        (work / _GITIGNORED_FLAG).write_text(line + "\n", encoding="utf-8")
        return None
    with gitignore.open("a", encoding="utf-8") as handle:  # appending keeps the user's lines
        if current and not current.endswith("\n"):
            handle.write("\n")
        handle.write(f"# The diary's site (`paperdiary site`): built, not written by hand\n{line}\n")
    (work / _GITIGNORED_FLAG).write_text(line + "\n", encoding="utf-8")
    return line
