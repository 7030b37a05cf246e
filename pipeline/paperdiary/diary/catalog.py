"""The diary's catalog: every markdown entry, hand-written or drafted, in any layout, as one typed record each.

This is the one module that reads the diary's entries. It walks the catalog
roots (the whole diary by default), leaving out the README, the lessons queue,
the reading list, the prompts, state and assets folders, hidden and tool folders
(``assets/`` and ``docs/`` wherever they are), project documents (CONTRIBUTING.md, LICENSE.md...) and whatever
``catalog_ignore`` names, and gives each markdown file a :class:`CatalogEntry`.

Where a field comes from, first found wins:

* date read: a date written in the file (``Date read: 4th June 2025``, ``30/05/2025``... day-first or
  month-first settled by the month folder, else by the neighbours in the folder; an obvious typo repaired),
  the date stored when PaperDiary drafted it, the git commit that first added it (renames followed),
  its month folder and file-name day (``June 2025/11thJune...md``), and last its mtime;
* description: the drafted one (store record, or the entry's hidden comment), the entry's first real
  sentence, and, when a describer is given, one written by the model;
* themes and lessons: the README lessons that cite the entry.

What each file says is cached by path in the state folder's SQLite store,
checked by (size, mtime_ns), then by sha256: a warm catalog stats every file
and reads none that is unchanged. When the state folder cannot be written the
catalog still works, uncached.
"""

from __future__ import annotations

import hashlib
import logging
import json
import os
import re
import sqlite3
import stat
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from paperdiary.diary.dates import (
    DateContext, Order, ResolvedDate, WrittenDate, folder_and_filename_date, folder_month, neighbour_order, resolve,
    written_dates,
)
from paperdiary.diary.describe import inline_text, one_line, read_entry_text
from paperdiary.diary.git_dates import GitHead, first_commit_dates, git_head, staged_renames
from paperdiary.diary.readme import README_NAME, Readme, ReadmeError, iter_lessons
from paperdiary.errors import DiaryError, OutsideDiaryError, WriteError
from paperdiary.fsutil import atomic_create_text
from paperdiary.settings import Settings
from paperdiary.stages.entry import is_paper_checklist
from paperdiary.state.store import CatalogFileRow, EntryRecord, Store

log = logging.getLogger(__name__)

PARSER_VERSION = 4  # bump when _Facts changes shape or meaning: cached facts of older versions are read again
_MARKDOWN_SUFFIXES = (".md", ".markdown")
# And every hidden folder. "docs" is a site's pages (GitHub Pages, MkDocs), not entries.
_SKIP_DIRS = {"node_modules", "assets", "docs", "__pycache__", "venv", "site-packages"}
# Project documents beside the entries: never entries (compared without suffix, case-folded).
_NOT_ENTRIES = {"readme", "contributing", "license", "licence", "changelog", "changes", "history", "code_of_conduct",
                "code-of-conduct", "security", "authors", "contributors", "notice", "support", "funding",
                "governance", "citation", "todo"}
# A file changed this recently may change again within the same mtime tick: its (size, mtime) is not trusted.
_RACY_NS = 2_000_000_000
_GIT_META = "git_first_commits"


class DateSource(str, Enum):
    """Where an entry's date read came from, most trusted first."""

    WRITTEN = "written-in-file"
    REPAIRED = "repaired-typo"
    DRAFTED = "drafted-record"
    GIT = "git-first-commit"
    FOLDER = "folder-and-filename"
    MTIME = "mtime"


class DescriptionSource(str, Enum):
    DRAFTED = "drafted"
    FIRST_SENTENCE = "first-sentence"
    LLM = "llm"
    NONE = "none"


class ProblemKind(str, Enum):
    NO_DATE = "no-date"
    AMBIGUOUS_DATE = "ambiguous-date"
    BAD_DATE = "bad-date"
    DUPLICATE_ARXIV_ID = "duplicate-arxiv-id"
    UNREADABLE = "unreadable"
    NOT_UTF8 = "not-utf8"
    SYMLINK_OUTSIDE = "symlink-outside"


@dataclass(frozen=True)
class Problem:
    """Something the user may want to fix, about one file of the diary."""

    relpath: str
    kind: ProblemKind
    message: str  # one line: what is wrong and what to do

    def as_json(self) -> dict[str, str]:
        return {"path": self.relpath, "kind": self.kind.value, "message": self.message}


@dataclass(frozen=True)
class CatalogEntry:
    """One entry of the diary as the catalog sees it."""

    relpath: str  # relative to the diary root, forward slashes, as on disk
    title: str  # plain text: its first "#"/"##" heading that is not a section name, else the file stem
    date_read: date
    date_source: DateSource
    date_text: str  # the date as written in the file, when it came from there
    arxiv_id: str | None  # the paper it is about, without version
    links: tuple[str, ...]  # other source links near the top (a blog post's URL)
    folder: str  # its folder relative to the diary root ("" at the root)
    description: str  # one line, plain text; "" when none was found
    description_source: DescriptionSource
    themes: tuple[str, ...]  # README themes with a lesson citing it, the one citing it most first
    lessons: tuple[str, ...]  # those lessons' text
    drafted: bool  # PaperDiary's hidden comment is in it
    sha256: str  # of its content; "" when it was not read
    problems: tuple[Problem, ...] = ()
    key_points: str = ""  # plain text of its Key Points section, else of its opening (what search reads)
    key_point_items: tuple[str, ...] = ()  # its "Key Points" items, plain text (what the topic map embeds)
    named_arxiv_ids: tuple[str, ...] = ()  # every paper it names anywhere (links, "arXiv:"), in order
    added: str = ""  # when PaperDiary drafted it (ISO, UTC), from the store's record; "" for a hand-written one

    @property
    def outside(self) -> bool:
        """A symlink to a file outside the diary: never read, never listed in the README."""
        return any(p.kind is ProblemKind.SYMLINK_OUTSIDE for p in self.problems)

    @property
    def dated(self) -> bool:
        """Dated by something better than its file's mtime (which a checkout or a copy resets)."""
        return self.date_source is not DateSource.MTIME

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.relpath, "title": self.title, "date_read": self.date_read.isoformat(),
            "date_source": self.date_source.value, "date_text": self.date_text, "arxiv_id": self.arxiv_id,
            "links": list(self.links), "folder": self.folder, "description": self.description,
            "description_source": self.description_source.value, "themes": list(self.themes),
            "lessons": list(self.lessons), "drafted": self.drafted, "sha256": self.sha256,
            "problems": [{"kind": p.kind.value, "message": p.message} for p in self.problems],
            "key_points": self.key_points, "key_point_items": list(self.key_point_items),
            "named_arxiv_ids": list(self.named_arxiv_ids),
        }


@dataclass(frozen=True)
class DescribeRequest:
    """An entry without a description, for a model to describe. ``markdown`` is untrusted data."""

    relpath: str
    title: str
    markdown: str


class Describer(Protocol):
    """Writes the one-line description of an entry that has none; None when it cannot."""

    def __call__(self, request: DescribeRequest) -> str | None: ...


@dataclass
class CatalogStats:
    """What the last read cost: how many files were found, read (hashed) and parsed."""

    files: int = 0
    read: int = 0
    parsed: int = 0
    cached: bool = False  # the cache in the state folder was used
    git_log: bool = False  # git's history was read (no cached first-commit dates for this HEAD)


# --------------------------------------------------------------------------- what a file says


@dataclass(frozen=True)
class _Facts:
    """What one version of a file says, independent of its place: cached by content hash."""

    title: str
    description: str
    drafted: bool
    drafted_description: str
    arxiv_id: str
    named_ids: tuple[str, ...]  # every arXiv ID the text names
    links: tuple[str, ...]
    dates: tuple[WrittenDate, ...]
    unread_dates: tuple[str, ...]  # date lines that hold no readable date
    not_utf8: bool
    key_points: str
    key_point_items: tuple[str, ...]
    checklist: bool  # a checklist of papers (a backlog, a reading list): never an entry

    def to_json(self) -> str:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["dates"] = [w.as_json() for w in self.dates]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def cached(cls, row: CatalogFileRow | None) -> _Facts | None:
        """The facts a cache row holds; None when there is none, or of an older parser, or damaged."""
        if row is None or row.parser != PARSER_VERSION:
            return None
        try:
            data = json.loads(row.facts_json)
            data["dates"] = tuple(WrittenDate.from_json(w) for w in data["dates"])
            for name in ("links", "unread_dates", "named_ids", "key_point_items"):
                data[name] = tuple(data[name])
            return cls(**data)
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def read(cls, data: bytes) -> _Facts:
        try:
            text, not_utf8 = data.decode("utf-8-sig"), False
        except UnicodeDecodeError:
            text, not_utf8 = data.decode("utf-8", "replace"), True
        said = read_entry_text(text)
        dates, unread = written_dates(text)
        drafted_id = re.sub(r"v\d+$", "", said.drafted.arxiv_id) if said.drafted else ""
        single = said.all_arxiv_ids[0] if len(said.all_arxiv_ids) == 1 else ""
        return cls(
            title=said.title,
            description=said.description,
            drafted=said.drafted is not None,
            drafted_description=said.drafted.description if said.drafted else "",
            arxiv_id=drafted_id or next(iter(said.head_arxiv_ids), "") or single,
            named_ids=tuple(dict.fromkeys(([drafted_id] if drafted_id else []) + list(said.all_arxiv_ids))),
            links=said.links,
            dates=tuple(dates),
            unread_dates=tuple(unread),
            not_utf8=not_utf8,
            key_points=said.key_points,
            checklist=is_paper_checklist(text),
            key_point_items=said.key_point_items,
        )


@dataclass
class _File:
    """A markdown file found in the diary, and what is known of it so far."""

    relpath: str
    path: Path
    size: int
    mtime_ns: int
    outside: bool = False  # a symlink pointing outside the diary: never read
    facts: _Facts | None = None
    sha256: str = ""
    error: str = ""  # why it could not be read

    @property
    def folder(self) -> str:
        return self.relpath.rpartition("/")[0]

    @property
    def parts(self) -> tuple[str, ...]:
        """Its folders, outermost first."""
        return tuple(self.folder.split("/")) if self.folder else ()

    @property
    def name(self) -> str:
        return self.relpath.rpartition("/")[2]

    @property
    def stem(self) -> str:
        return self.name.rpartition(".")[0] or self.name


# --------------------------------------------------------------------------- ignore globs


def _glob_segment(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[" and (end := pattern.find("]", i + 2)) > 0:
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


class _Ignore:
    """``catalog_ignore``: gitignore-style globs. Without a "/" a glob matches a name at any depth
    (``drafts``, ``*.tmp.md``); with one it matches the path from the diary root (``/archive/**``,
    ``June 2025/old-*.md``); a trailing "/" matches folders only."""

    def __init__(self, patterns: tuple[str, ...]):
        self.names: list[tuple[re.Pattern[str], bool]] = []
        self.paths: list[tuple[re.Pattern[str], bool]] = []
        for pattern in patterns:
            folders_only = pattern.endswith("/")
            pattern = pattern.strip("/") if "/" in pattern.rstrip("/") else pattern.rstrip("/")
            if "/" not in pattern and not pattern.startswith("**"):
                self.names.append((re.compile(_glob_segment(pattern)), folders_only))
                continue
            segments = pattern.lstrip("/").split("/")
            regex = ""
            for n, segment in enumerate(segments):
                last = n == len(segments) - 1
                if segment == "**":
                    regex += ".*" if last else "(?:[^/]*/)*"
                else:
                    regex += _glob_segment(segment) + ("" if last else "/")
            self.paths.append((re.compile(regex), folders_only))

    def __call__(self, relpath: str, name: str, is_dir: bool) -> bool:
        return any(p.fullmatch(name) for p, folders in self.names if is_dir or not folders) or any(
            p.fullmatch(relpath) for p, folders in self.paths if is_dir or not folders)


# --------------------------------------------------------------------------- the catalog


class Catalog:
    """Every entry of a diary. ``entries()`` reads the diary once; the other views reuse that read.

    ``store``: an open store to read drafted records from and keep the cache in
    (default: the diary's own, opened and closed here). ``llm_describe``: fills in
    the descriptions of entries that have none (see :class:`Describer`).
    """

    def __init__(self, settings: Settings, *, store: Store | None = None, llm_describe: Describer | None = None):
        self.settings = settings
        self.root = settings.diary.resolve()
        self._store = store
        self._describe = llm_describe
        self._entries: list[CatalogEntry] | None = None
        self._walk_problems: list[Problem] = []
        self.stats = CatalogStats()

    # ---- views

    def entries(self) -> list[CatalogEntry]:
        """Every entry, sorted by (date read, path)."""
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def problems(self) -> list[Problem]:
        """Every problem found: the entries' own, and the folders the walk refused."""
        return [p for e in self.entries() for p in e.problems] + self._walk_problems

    def by_arxiv_id(self) -> dict[str, list[CatalogEntry]]:
        """Entries by the paper they are about (two entries of one paper: a list of two)."""
        return _by_paper(self.entries())

    def papers(self, *, not_entries: Iterable[Path] = ()) -> dict[str, str]:
        """Every arXiv ID the entries name -> the path of the entry about that paper, else of the first
        entry naming it anywhere (an entry that cites a paper counts as having it).

        Reads only what the files say (cached by hash), not dates, the README or git: cheap
        enough for every ``draft``'s check for an entry it would duplicate. ``not_entries``: files
        that are no entry whatever they look like (the backlog files catch-up is reading).
        """
        if self._entries is not None:
            named = [(e.relpath, e.arxiv_id or "", e.named_arxiv_ids) for e in self._entries]
        else:
            files = self._walk()
            store, owned = self._open_store()
            try:
                self._read_files(files, store)
            finally:
                if owned and store is not None:
                    store.close()
            named = [(f.relpath, f.facts.arxiv_id, f.facts.named_ids) for f in files
                     if f.facts and not f.facts.checklist]
        skip = {Path(path).resolve() for path in not_entries}
        if skip:
            named = [item for item in named if (self.root / item[0]).resolve() not in skip]
        found: dict[str, str] = {}
        for relpath, about, _ in sorted(named):
            if about:
                found.setdefault(about, relpath)
        for relpath, _, ids in sorted(named):
            for arxiv_id in ids:
                found.setdefault(arxiv_id, relpath)
        return found

    def fingerprint(self) -> str:
        """A digest of everything ``entries()`` depends on, from the files' stat alone: paths, sizes and
        mtimes of the entries and the README, the settings that shape the walk, and git's HEAD.

        Equal digests mean equal catalogs, so a cache built over the catalog (search's index) can be
        trusted without reading it. A file changed within the last moments makes the digest unique:
        its mtime may not yet show a second edit.
        """
        digest = hashlib.sha256(repr((self.settings.catalog_roots, self.settings.catalog_ignore,
                                      self.settings.entries_dir, self.settings.lessons_heading)).encode())
        now_ns = time.time_ns()
        readme = self.root / README_NAME
        try:
            info = readme.stat()
            stamps = [(README_NAME, info.st_size, info.st_mtime_ns)]
        except OSError:
            stamps = []
        stamps += [(f.relpath, f.size, f.mtime_ns) for f in self._walk()]
        for relpath, size, mtime_ns in stamps:
            if now_ns - mtime_ns <= _RACY_NS:
                mtime_ns = now_ns  # not to be trusted yet
            digest.update(f"{relpath}\0{size}\0{mtime_ns}\n".encode("utf-8", "surrogateescape"))
        head = git_head(self.root)
        digest.update(repr(head).encode())
        return digest.hexdigest()

    # ---- reading

    def _read(self) -> list[CatalogEntry]:
        if not self.root.is_dir():
            raise DiaryError(f"the diary folder {self.root} does not exist.", hint="Pass --diary or set PAPERDIARY_HOME.")
        self.stats = CatalogStats()
        files = self._walk()
        self.stats.files = len(files)
        store, owned = self._open_store()
        try:
            self._read_files(files, store)
            files = [f for f in files if not (f.facts and f.facts.checklist)]
            records = self._records(store)
            stated = self._resolve_dates(files)
            undated = [f for f, said in zip(files, stated, strict=False) if said is None and _nfc(f.relpath) not in records]
            git = self._git_dates(store, {f.relpath for f in undated}) if undated else {}
        finally:
            if owned and store is not None:
                store.close()
        cites = self._citations()
        built = [self._entry(f, records, git, cites, said) for f, said in zip(files, stated, strict=False)]
        entries = self._flag_duplicates(built)
        return sorted(entries, key=lambda e: (e.date_read, e.relpath))

    def _walk(self) -> list[_File]:
        """The markdown files of the catalog roots, minus everything that is never an entry."""
        settings, root = self.settings, self.root
        never = {self._setting_path(settings.state_dir), self._setting_path(settings.prompts_dir),
                 self._setting_path(settings.assets_dir)}
        never_files = {self._setting_path(settings.queue_file), self._setting_path(settings.reading_list)}
        ignored = _Ignore(settings.catalog_ignore)
        found: dict[str, _File] = {}
        self._walk_problems = []
        stack: list[str] = []  # folders to list, relative to the root ("" = the root)
        for name in settings.catalog_roots or ("",):
            start = (root / name).resolve()
            if not start.is_dir() or not start.is_relative_to(root):
                raise DiaryError(f"catalog root {name!r} is not a folder of the diary {root}.",
                                 hint="Fix catalog_roots in paperdiary.toml (folders relative to the diary).")
            stack.append("" if start == root else start.relative_to(root).as_posix())
        while stack:
            folder = stack.pop()
            try:
                children = list(os.scandir(root / folder))
            except OSError:
                continue  # an unreadable folder holds nothing we can list
            for child in children:
                relpath = f"{folder}/{child.name}" if folder else child.name
                if child.name.startswith(".") or relpath in never:
                    continue
                try:
                    info = child.stat(follow_symlinks=False)
                except OSError:
                    continue
                target = Path(child.path).resolve() if stat.S_ISLNK(info.st_mode) else None
                is_dir = target.is_dir() if target is not None else stat.S_ISDIR(info.st_mode)
                if is_dir:
                    if child.name in _SKIP_DIRS or ignored(relpath, child.name, True):
                        continue
                    if target is None:
                        stack.append(relpath)
                    elif not target.is_relative_to(root):
                        self._walk_problems.append(Problem(relpath, ProblemKind.SYMLINK_OUTSIDE,
                                                           "a folder symlink pointing outside the diary: not followed."))
                    continue  # a folder symlink inside the diary: its target is walked itself
                stem, _, suffix = child.name.rpartition(".")
                if (f".{suffix.lower()}" not in _MARKDOWN_SUFFIXES or stem.casefold() in _NOT_ENTRIES
                        or relpath in never_files or relpath in found or ignored(relpath, child.name, False)):
                    continue
                outside = target is not None and not target.is_relative_to(root)
                if outside:
                    log.warning("%s is a symlink to %s, outside the diary: skipped unread.", relpath, target)
                size, mtime_ns = info.st_size, info.st_mtime_ns
                if target is not None and not outside:
                    try:
                        target_info = target.stat()
                        size, mtime_ns = target_info.st_size, target_info.st_mtime_ns
                    except OSError:
                        pass  # a dangling link: reading it will say so
                found[relpath] = _File(relpath, Path(child.path), size, mtime_ns, outside=outside)
        return sorted(found.values(), key=lambda f: f.relpath)

    def _setting_path(self, value: str) -> str:
        """A path setting (state_dir, queue_file...) relative to the diary root, as the walk spells paths."""
        try:
            return (self.root / value).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return ""  # outside the diary: nothing the walk meets

    def _open_store(self) -> tuple[Store | None, bool]:
        """(store, opened here). None when the state folder cannot be written: the catalog goes uncached."""
        if self._store is not None:
            return self._store, False
        state = self.settings.state_path
        try:
            if not state.exists():
                state.mkdir()
                # A hand-kept diary never ran `init`: keep the new folder out of its git status.
                atomic_create_text(state / ".gitignore", "*\n")
            return Store(self.settings.db_path), True
        except (OSError, sqlite3.Error, WriteError):  # WriteError: the store refused (read-only, full disk)
            return None, False

    def _read_files(self, files: list[_File], store: Store | None) -> None:
        """Facts of every file: from the cache when its (size, mtime) or hash says unchanged, else read."""
        cache: dict[str, CatalogFileRow] = {}
        if store is not None:
            try:
                cache = store.catalog_files()
                self.stats.cached = True
            except sqlite3.Error:
                store = None
        now_ns = time.time_ns()
        changed: list[CatalogFileRow] = []
        for f in files:
            if f.outside:
                continue
            row = cache.get(f.relpath)
            cached = _Facts.cached(row)
            if cached and row and (row.size, row.mtime_ns) == (f.size, f.mtime_ns):
                f.facts, f.sha256 = cached, row.sha256
                continue
            try:
                data = f.path.read_bytes()
            except OSError as exc:
                f.error = exc.strerror or type(exc).__name__
                continue
            self.stats.read += 1
            f.sha256 = hashlib.sha256(data).hexdigest()
            if cached and row and row.sha256 == f.sha256:
                f.facts = cached  # touched, not changed: no parse
            else:
                f.facts = _Facts.read(data)
                self.stats.parsed += 1
            trusted = now_ns - f.mtime_ns > _RACY_NS
            changed.append(CatalogFileRow(f.relpath, f.size, f.mtime_ns if trusted else -1, f.sha256,
                                          PARSER_VERSION, f.facts.to_json()))
        gone = sorted(set(cache) - {f.relpath for f in files})
        if store is not None and (changed or gone):
            try:
                store.save_catalog_files(changed, gone)
            except sqlite3.Error:
                self.stats.cached = False  # a read-only store: the catalog is right, just not cached

    def _records(self, store: Store | None) -> dict[str, EntryRecord]:
        """The drafter's records by entry path (NFC, as the README cites paths)."""
        if store is None:
            return {}
        try:
            return {unicodedata.normalize("NFC", r.path): r for r in store.entries()}
        except sqlite3.Error:
            return {}

    def _git_dates(self, store: Store | None, wanted: set[str]) -> dict[str, date]:
        """First-commit dates of the diary's markdown files, cached per HEAD commit; a file renamed in the
        index and not committed yet (``reorganize``'s ``git mv``) has the date of the file it was."""
        head = git_head(self.root)
        if head is None:
            return {}
        dates = self._committed_dates(store, head)
        if wanted - set(dates):
            for new, old in staged_renames(self.root, head).items():
                if old in dates:
                    dates.setdefault(new, dates[old])
        return dates

    def _committed_dates(self, store: Store | None, head: GitHead) -> dict[str, date]:
        if store is not None:
            try:
                cached = json.loads(store.catalog_meta(_GIT_META) or "{}")
            except (sqlite3.Error, ValueError):
                cached = {}
            if cached.get("head") == [head.commit, head.prefix]:
                return {path: date.fromisoformat(day) for path, day in cached["dates"].items()}
        dates = first_commit_dates(self.root, head)
        self.stats.git_log = True
        if store is not None:
            value = {"head": [head.commit, head.prefix], "dates": {p: d.isoformat() for p, d in dates.items()}}
            try:
                store.save_catalog_meta(_GIT_META, json.dumps(value, ensure_ascii=False))
            except sqlite3.Error:
                pass  # read-only: git is asked again next time
        return dates

    def _resolve_dates(self, files: list[_File]) -> list[tuple[ResolvedDate, WrittenDate] | None]:
        """The date each file states, read in its context: its month folder, then its folder's other entries."""

        def first(f: _File, context: DateContext) -> tuple[ResolvedDate, WrittenDate] | None:
            for written in f.facts.dates if f.facts else ():
                if resolved := resolve(written, context):
                    return resolved, written
            return None

        months = {f.relpath: folder_month(f.parts) for f in files}
        found = [first(f, DateContext(months[f.relpath])) for f in files]
        anchors: dict[str, list[date]] = defaultdict(list)
        orders: dict[str, list[Order]] = defaultdict(list)
        for f, result in zip(files, found, strict=False):
            if result and not result[0].ambiguous:
                anchors[f.folder].append(result[0].day)
                orders[f.folder].append(result[1].order)
        for n, (f, result) in enumerate(zip(files, found, strict=False)):
            if f.facts and f.facts.dates and (result is None or result[0].ambiguous):
                context = DateContext(months[f.relpath], tuple(anchors[f.folder]), neighbour_order(orders[f.folder]))
                found[n] = first(f, context) or result
        return found

    def _citations(self) -> dict[str, list[tuple[str, str]]]:
        """Entry path (NFC) -> (theme, lesson text) of every README lesson citing it."""
        readme = self.root / README_NAME
        try:
            model = Readme.read(readme, self.settings.lessons_heading, diary_root=self.root)
        except (ReadmeError, OutsideDiaryError):
            return {}
        cites: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for theme, _, lesson in iter_lessons(model):
            for path in lesson.cites:
                cites[path].append((theme.name, inline_text(lesson.text)))
        return cites

    def _entry(self, f: _File, records: dict[str, EntryRecord], git: dict[str, date],
               cites: dict[str, list[tuple[str, str]]],
               stated: tuple[ResolvedDate, WrittenDate] | None) -> CatalogEntry:
        facts, key = f.facts, _nfc(f.relpath)
        record = records.get(key)
        problems: list[Problem] = []

        def problem(kind: ProblemKind, message: str) -> None:
            problems.append(Problem(f.relpath, kind, message))

        if f.outside:
            problem(ProblemKind.SYMLINK_OUTSIDE, "a symlink pointing outside the diary: not read.")
        elif f.error:
            problem(ProblemKind.UNREADABLE, f"cannot be read ({f.error}): fix or remove it.")
        elif facts and facts.not_utf8:
            problem(ProblemKind.NOT_UTF8, "is not UTF-8: read with the odd bytes replaced; save it as UTF-8.")

        day, source, date_text = self._date(f, record, git, stated, problem)
        description, description_source = self._description(f, record)
        lesson_cites = cites.get(key, [])
        counts = Counter(theme for theme, _ in lesson_cites)
        return CatalogEntry(
            relpath=f.relpath,
            title=(facts.title if facts else "") or f.stem,
            date_read=day,
            date_source=source,
            date_text=date_text,
            arxiv_id=(facts.arxiv_id if facts else "") or (record.arxiv_id if record else None) or None,
            links=facts.links if facts else (),
            folder=f.folder,
            description=description,
            description_source=description_source,
            themes=tuple(sorted(counts, key=lambda theme: -counts[theme])),  # stable: ties in README order
            lessons=tuple(dict.fromkeys(text for _, text in lesson_cites)),
            drafted=bool(facts and facts.drafted),
            sha256=f.sha256,
            problems=tuple(problems),
            key_points=facts.key_points if facts else "",
            key_point_items=facts.key_point_items if facts else (),
            named_arxiv_ids=facts.named_ids if facts else (),
            added=record.created_at if record else "",
        )

    def _date(self, f: _File, record: EntryRecord | None, git: dict[str, date],
              stated: tuple[ResolvedDate, WrittenDate] | None,
              problem: Callable[[ProblemKind, str], None]) -> tuple[date, DateSource, str]:
        facts = f.facts
        if stated is not None:
            resolved, written = stated
            if resolved.ambiguous:
                other = date(resolved.day.year, resolved.day.day, resolved.day.month)
                problem(ProblemKind.AMBIGUOUS_DATE,
                        f"{written.text!r} could be {_long(resolved.day)} or {_long(other)}: read day-first. "
                        "Write the month as a word (4th June 2025).")
            return resolved.day, DateSource.REPAIRED if resolved.repaired else DateSource.WRITTEN, written.text
        if facts and facts.dates:
            problem(ProblemKind.BAD_DATE, f"{facts.dates[0].text!r} is not a valid date; fix it in the file.")
        elif facts and facts.unread_dates:
            problem(ProblemKind.BAD_DATE, f"no date in the line {facts.unread_dates[0]!r}; write one like 4th June 2025.")
        if record is not None:
            try:
                return date.fromisoformat(record.date_read), DateSource.DRAFTED, ""
            except ValueError:
                pass
        if (day := git.get(f.relpath)) is not None:
            return day, DateSource.GIT, ""
        if (day := folder_and_filename_date(f.parts, f.name)) is not None:
            return day, DateSource.FOLDER, ""
        problem(ProblemKind.NO_DATE, "no date found: dated by its modification time. "
                                     "Add a line 'Date read: 4th June 2025'.")
        return date.fromtimestamp(f.mtime_ns / 1e9), DateSource.MTIME, ""

    def _description(self, f: _File, record: EntryRecord | None) -> tuple[str, DescriptionSource]:
        facts = f.facts
        if record is not None and record.description.strip():
            return one_line(record.description), DescriptionSource.DRAFTED
        if facts and facts.drafted_description:
            return one_line(facts.drafted_description), DescriptionSource.DRAFTED
        if facts and facts.description:
            return facts.description, DescriptionSource.FIRST_SENTENCE
        if self._describe is not None and facts is not None:
            try:
                markdown = f.path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return "", DescriptionSource.NONE
            title = facts.title or f.stem
            if written := (self._describe(DescribeRequest(f.relpath, title, markdown)) or "").strip():
                return one_line(written), DescriptionSource.LLM
        return "", DescriptionSource.NONE

    @staticmethod
    def _flag_duplicates(entries: list[CatalogEntry]) -> list[CatalogEntry]:
        by_id = _by_paper(entries)
        out = []
        for entry in entries:
            twins = [e.relpath for e in by_id.get(entry.arxiv_id or "", []) if e is not entry]
            if twins:
                flagged = Problem(entry.relpath, ProblemKind.DUPLICATE_ARXIV_ID,
                                  f"arXiv {entry.arxiv_id} also has the entry {', '.join(twins)}; keep one.")
                entry = replace(entry, problems=entry.problems + (flagged,))
            out.append(entry)
        return out


def entry_for_paper(settings: Settings, arxiv_id: str, *, store: Store | None = None) -> Path | None:
    """The entry about (else naming) this paper anywhere in the diary, hand-written ones included."""
    relpath = Catalog(settings, store=store).papers().get(arxiv_id)
    return settings.diary / relpath if relpath is not None else None


def paper_index(settings: Settings, *, store: Store | None = None, not_entries: Iterable[Path] = ()
                ) -> dict[str, Path]:
    """Every arXiv ID the diary's entries name -> the entry :func:`entry_for_paper` gives, in one read.

    IDs come without version; old-style ones without subject class (``math.GT/0309136`` ->
    ``math/0309136``), as ``identify`` gives them.
    """
    return {arxiv_id: settings.diary / relpath
            for arxiv_id, relpath in Catalog(settings, store=store).papers(not_entries=not_entries).items()}


def _by_paper(entries: list[CatalogEntry]) -> dict[str, list[CatalogEntry]]:
    found: dict[str, list[CatalogEntry]] = defaultdict(list)
    for entry in entries:
        if entry.arxiv_id:
            found[entry.arxiv_id].append(entry)
    return dict(found)


def _nfc(relpath: str) -> str:
    return unicodedata.normalize("NFC", relpath)


def _long(day: date) -> str:
    return f"{day.day} {day:%B}"
