"""Move the diary's entries to a new layout (``paperdiary reorganize --layout PATTERN``) and rewrite every link
to them, resumable after a kill.

The layout is an ``entry_path`` pattern (``{theme}/{short_name}.md``,
``{month_year}/{ordinal_day}{month}{short_name}.md``...) below the folder that
holds the entries now (``entries_dir`` when they all live there, else the
diary root). Only notes move: the entries the catalog lists (never the README,
index pages, templates or other files that are no note). Each entry's fields
come from the catalog: its short name (the file name without a leading date
such as ``11thJune``), its arXiv ID, ``{theme}`` (the README theme citing it
most, as :func:`readme.theme_folder` files it: "1. Reinforcement Learning (RL)"
is ``Reinforcement Learning (RL)/``; else its topic folder; else
``--default-theme``), and a date only from the entry itself: a date written in
it or recorded when PaperDiary drafted it, else the day its own folder and file
name say; never the commit that added it. An entry the new layout cannot place
faithfully is left where it is, with the reason (no date of its own; dated only
by a folder and file name the move would lose; no theme; a symlinked folder on
the way).

Links follow the moved files in every markdown file of the diary (``diary/links.py``): only a link that
led to a file that moves, or one from a moved file to a file that exists, is rewritten, in its own style;
web links, scheme-less URLs, ``(TODO)`` and anchors stay byte for byte.

The plan (every rename, in an order that never overwrites: chains run from
their end, a cycle goes through a temporary name; and every file whose links
change, with its text before and after) is made again under the diary's write
lock (and the queue's) before anything moves: when it differs from the plan the
user was shown, nothing moves. It is saved in the store before the first move,
and each step is recorded as it completes. A run that was killed is finished by
the next one, from where it stopped; a file the user changed in between keeps
their text. Every destination must resolve inside the diary through real
folders: a symlinked folder is never followed, for a source or a destination.
Renames use ``git mv`` for files git tracks, so history follows them; each file
is rewritten atomically, through fsutil's diary-safe read and replace (a symlink
is followed only inside the diary, a read-only file is refused when the plan is
made, before anything moves). The store's records of the moved entries (drafts,
journal, catalog cache) follow them.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import signal
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from paperdiary.diary.catalog import Catalog, CatalogEntry, DateSource, ProblemKind
from paperdiary.diary.dates import (
    MONTHS, DateContext, folder_and_filename_date, folder_month, parse_written, resolve,
)
from paperdiary.diary.index import rename_written_lines
from paperdiary.diary.links import rewrite_links
from paperdiary.diary.queue import queue_lock
from paperdiary.diary.readme import README_NAME, theme_folder
from paperdiary.errors import DiaryError, OutsideDiaryError
from paperdiary.fsutil import read_diary_bytes, replace_diary_file, writable_target
from paperdiary.git import git, git_output
from paperdiary.settings import Settings
from paperdiary.state.journal import Journal
from paperdiary.state.lock import diary_lock
from paperdiary.state.store import Store
from paperdiary.stages.entry import layout_fields, layout_relpath, long_date
from paperdiary.text import unified_diff

PLAN_KEY = "reorganize_plan"  # in the store's catalog_meta: the plan being carried out
KILL_AFTER_ENV = "PAPERDIARY_TEST_KILL_AFTER_MOVES"  # tests: SIGKILL this process after that many moves
_DATE_FIELDS = re.compile(r"\{(?:month_year|month|year|day|ordinal_day)\}")
_MONTH = "|".join(MONTHS) + "|" + "|".join(m[:3] for m in MONTHS)
# "11thJune", "4June", "2025-06-11-": a date before a CamelCase name (not "4thMayhem...").
_DATE_PREFIX = re.compile(rf"^(?:\d{{4}}-\d{{2}}-\d{{2}}[-_ ]?|\d{{1,2}}(?i:st|nd|rd|th)?(?i:{_MONTH})(?![a-z]))")
_TEMP_SUFFIX = ".reorganize-tmp"


@dataclass(frozen=True)
class Step:
    src: str  # diary-relative paths
    dst: str


@dataclass(frozen=True)
class Rewrite:
    path: str  # where the file is once the moves are done
    before_sha256: str
    text: str  # its new text
    diff: str


@dataclass
class Plan:
    layout: str
    moves: list[tuple[str, str]]  # (old, new) of each entry that moves
    steps: list[Step]  # the renames, in the order they run (temporary hops included)
    rewrites: list[Rewrite]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why it stays)
    steps_done: int = 0
    rewrites_done: int = 0
    default_theme: str = ""

    @property
    def empty(self) -> bool:
        return not self.steps and not self.rewrites

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        return cls(layout=data["layout"], moves=[tuple(m) for m in data["moves"]],
                   steps=[Step(**s) for s in data["steps"]], rewrites=[Rewrite(**r) for r in data["rewrites"]],
                   skipped=[tuple(s) for s in data["skipped"]],
                   steps_done=data["steps_done"], rewrites_done=data["rewrites_done"],
                   default_theme=data.get("default_theme", ""))


def short_name(relpath: str) -> str:
    """The name an entry goes by in a layout: its file name without suffix and leading date."""
    stem = posixpath.basename(relpath).rpartition(".")[0] or posixpath.basename(relpath)
    return _DATE_PREFIX.sub("", stem).lstrip("-_ ") or stem


def theme_of(entry: CatalogEntry, base: str, default_theme: str) -> str:
    """The README theme citing the entry most (as a folder: :func:`theme_folder`), else its topic folder, else
    the default ("" when none)."""
    for theme in entry.themes:
        if folder := theme_folder(theme):
            return folder
    folder = entry.folder[len(base) + 1:] if base and entry.folder.startswith(base + "/") else \
        ("" if entry.folder == base else entry.folder)
    parts = tuple(folder.split("/")) if folder else ()
    if parts and folder_month(parts) is None and not re.fullmatch(r"\d{4}", parts[-1]):
        return parts[-1]
    return default_theme


def own_date(entry: CatalogEntry) -> date | None:
    """The day the entry itself says it was read: written in it or recorded when it was drafted, else the day
    its folder and file name say (``June 2025/11thJune...``); None when only git or the clock dates it."""
    if entry.date_source in (DateSource.WRITTEN, DateSource.REPAIRED, DateSource.DRAFTED) and not any(
            p.kind is ProblemKind.AMBIGUOUS_DATE for p in entry.problems):
        return entry.date_read
    folder, _, name = entry.relpath.rpartition("/")
    return folder_and_filename_date(tuple(folder.split("/")) if folder else (), name)


def _base(settings: Settings, entries: list[CatalogEntry]) -> str:
    """The folder the layout goes below: entries_dir when every entry is in it, else the diary root."""
    base = settings.entries_dir.strip("/")
    if entries and all(e.relpath.startswith(base + "/") for e in entries):
        return base
    return ""


def symlinked_folder(root: Path, relpath: str) -> str | None:
    """The first folder on the way to ``relpath`` (inside the diary) that is a symlink; None when there is none."""
    parts = relpath.split("/")[:-1]
    for n in range(1, len(parts) + 1):
        folder = "/".join(parts[:n])
        if (root / folder).is_symlink():
            return folder
    return None


def _target(entry: CatalogEntry, layout: str, base: str, default_theme: str, root: Path
            ) -> tuple[str | None, str]:
    """(new path, "") or (None, why the entry stays)."""
    if any(p.kind in (ProblemKind.SYMLINK_OUTSIDE, ProblemKind.UNREADABLE, ProblemKind.TOO_LARGE) for p in entry.problems):
        return None, "cannot be read"
    if linked := symlinked_folder(root, entry.relpath):
        return None, f"its folder {linked} is a symlink, which reorganize never follows"
    day = own_date(entry)
    uses_date = bool(_DATE_FIELDS.search(layout))
    if uses_date and day is None:
        why = ("its day is uncertain (written two ways)" if any(p.kind is ProblemKind.AMBIGUOUS_DATE
                                                                 for p in entry.problems)
               else "no date of its own (only git or the clock dates it)")
        return None, f"{why}: add a line 'Date read: 4th June 2025'"
    theme = theme_of(entry, base, default_theme)
    if "{theme}" in layout and not theme:
        return None, "no README theme cites it and its folder is no topic: pass --default-theme"
    relpath = _layout_path(layout, layout_fields(day or entry.date_read, _NAME_MARK, entry.arxiv_id, theme),
                           short_name(entry.relpath))
    if entry.relpath.lower().endswith(".markdown") and relpath.endswith(".md"):
        relpath = relpath[:-3] + entry.relpath[-9:]  # its own suffix kept
    new = f"{base}/{relpath}" if base else relpath
    if new != entry.relpath and not uses_date and day is not None and entry.date_source not in (
            DateSource.WRITTEN, DateSource.REPAIRED, DateSource.DRAFTED):
        return None, ("dated only by its folder and file name, which the move would lose: "
                      "add a line 'Date read: 4th June 2025'")
    if new != entry.relpath:
        if _settled_only_here(entry, new):
            return None, (f"its date {entry.date_text!r} reads two ways and only its folder settles which: "
                          f"write it as '{long_date(entry.date_read)}'")
        if linked := symlinked_folder(root, new):
            return None, f"the folder {linked} it would go to is a symlink, which reorganize never follows"
        if not _inside(root, new):
            return None, f"{new} would be outside the diary"
    return new, ""


_NAME_MARK = "PaperDiaryShortName0"  # stands for the short name while the layout's other fields are made path-safe


def _layout_path(layout: str, fields: dict[str, str], name: str) -> str:
    """The layout's path with the entry's own short name kept as it is on disk (it is a valid name there:
    no ":" dropped, no long name cut), the other fields made path-safe."""
    relpath = layout_relpath(layout, fields).as_posix()
    if relpath.count(_NAME_MARK) == 1 and len(relpath.rpartition("/")[2].replace(_NAME_MARK, name).encode()) <= 255:
        return relpath.replace(_NAME_MARK, name)
    return layout_relpath(layout, fields | {"short_name": name}).as_posix()


def _settled_only_here(entry: CatalogEntry, new: str) -> bool:
    """Whether the entry's written date (05/06/2025) reads two ways and its folder settles it now, but the new
    folder would not."""
    if entry.date_source is not DateSource.WRITTEN or not entry.date_text:
        return False
    written = parse_written(entry.date_text)
    if written is None or len(written.readings) < 2:
        return False
    folder = posixpath.dirname(new)
    there = resolve(written, DateContext(folder_month=folder_month(tuple(folder.split("/")) if folder else ())))
    return there is None or there.ambiguous or there.day != entry.date_read


def _inside(root: Path, relpath: str) -> bool:
    """Whether a diary-relative path, its existing folders' symlinks resolved, stays inside the diary."""
    return (root / relpath).resolve().is_relative_to(root.resolve())


def _order(moves: dict[str, str]) -> list[Step]:
    """Renames that never land on a file still to be moved: chains from their end, cycles through a temp name."""
    pending = dict(moves)
    steps: list[Step] = []
    while pending:
        free = [src for src, dst in pending.items() if dst not in pending]
        if free:
            for src in sorted(free):
                steps.append(Step(src, pending.pop(src)))
            continue
        src = sorted(pending)[0]  # a cycle: park one file under a temporary name
        temp = src + _TEMP_SUFFIX
        steps.append(Step(src, temp))
        pending[temp] = pending.pop(src)
    return steps


def make_plan(settings: Settings, layout: str, default_theme: str = "", *, store: Store | None = None,
              is_note: Callable[[str], bool] | None = None) -> Plan:
    """Where each entry goes in ``layout``, the renames in a safe order and the link rewrites; nothing is changed.

    Only the catalog's entries move (``is_note``, given a path, narrows them further), and only links that led to
    one of them are rewritten: whatever is no note (an index page, a template) stays, byte for byte, with every
    link to it."""
    layout_relpath(layout, layout_fields(date(2025, 6, 11), "Name", None))  # a bad pattern, even in an empty diary
    entries = [e for e in Catalog(settings, store=store).entries() if is_note is None or is_note(e.relpath)]
    root = settings.diary
    base = _base(settings, entries)
    wanted: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    for entry in sorted(entries, key=lambda e: e.relpath):
        new, why = _target(entry, layout, base, default_theme, root)
        if new is None:
            skipped.append((entry.relpath, why))
        elif new != entry.relpath:
            wanted[entry.relpath] = new
    staying = {e.relpath for e in entries} - set(wanted)
    moves: dict[str, str] = {}
    for old, new in wanted.items():  # two entries wanting one name, or a file already there: "-2", "-3"...
        stem, dot, suffix = new.rpartition(".")
        candidate, n = new, 1
        while candidate in staying or candidate in moves.values() or (
                candidate not in wanted and os.path.lexists(root / candidate)):
            n += 1
            candidate = f"{stem}-{n}.{suffix}" if dot else f"{new}-{n}"
        moves[old] = candidate
    steps = _order(moves)
    rewrites = _rewrites(settings, moves)
    return Plan(layout, sorted(moves.items()), steps, rewrites, skipped, default_theme=default_theme)


_MARKDOWN = (".md", ".markdown")
_NEVER_WALKED = {"node_modules", "_site", "__pycache__", "venv", "site-packages"}


def markdown_files(settings: Settings) -> list[str]:
    """Every markdown file of the diary that may link to an entry (diary-relative), hidden and state folders,
    build output and symlinked folders left out."""
    root = settings.diary
    state = settings.state_path.resolve()
    found: list[str] = []
    for folder, dirs, files in os.walk(root):  # os.walk does not follow symlinked folders
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _NEVER_WALKED
                         and (here / d).resolve() != state)
        rel = here.relative_to(root).as_posix()
        for name in sorted(files):
            if name.lower().endswith(_MARKDOWN):
                found.append(name if rel == "." else f"{rel}/{name}")
    return found


def _rewrites(settings: Settings, moves: dict[str, str]) -> list[Rewrite]:
    """The files whose links change: every markdown file of the diary (at its new path when it moves)."""
    if not moves:
        return []
    root = settings.diary
    own = [README_NAME, settings.queue_file, settings.reading_list]  # ours to write: one out of the diary is refused
    files = dict.fromkeys(own + markdown_files(settings) + list(moves))
    out: list[Rewrite] = []
    for relpath in files:
        path = root / relpath
        try:
            data = read_diary_bytes(root, path)
            text = data.decode("utf-8")
        except OutsideDiaryError:
            if relpath in own:
                raise  # a file of ours linking out of the diary is refused here, before anything moves
            continue
        except (OSError, UnicodeDecodeError):
            continue
        new_path = moves.get(relpath, relpath)
        new = rewrite_links(text, posixpath.dirname(relpath), posixpath.dirname(new_path), moves.get,
                            lambda target: os.path.lexists(root / target))
        if new != text:
            writable_target(root, path)  # so is a read-only one
            out.append(Rewrite(new_path, hashlib.sha256(data).hexdigest(), new,
                               unified_diff(text, new, new_path)))
    return out


# --------------------------------------------------------------------------- carrying it out


def pending_plan(store: Store) -> Plan | None:
    """The plan a killed run left unfinished, if any."""
    value = store.catalog_meta(PLAN_KEY)
    if not value:
        return None
    try:
        return Plan.from_json(value)
    except (ValueError, KeyError, TypeError):
        return None


def _tracked(root: Path) -> set[str] | None:
    """The files git tracks below the diary (relative to it); None outside a git repository."""
    listed = git_output(root, "ls-files", "-z", "--full-name", ".")
    prefix = git_output(root, "rev-parse", "--show-prefix")
    if listed is None or prefix is None:
        return None
    lead = prefix.strip()
    return {name[len(lead):] for name in listed.split("\0") if name and name.startswith(lead)}


def _rename(root: Path, step: Step, tracked: set[str] | None) -> None:
    src, dst = root / step.src, root / step.dst
    if dst.exists() or dst.is_symlink():
        raise DiaryError(f"cannot move {step.src} to {step.dst}: a file is already there; nothing was overwritten.",
                         hint="Move or remove that file, then run reorganize again to finish.")
    for relpath in (step.src, step.dst):  # checked again at the move: a folder may have become a symlink
        if (linked := symlinked_folder(root, relpath)) or not _inside(root, relpath):
            raise DiaryError(f"cannot move {step.src} to {step.dst}: {linked or relpath} leads out of the diary's "
                             "own folders (a symlink); nothing was moved there.",
                             hint="Replace the symlink by a real folder, then run reorganize again to finish.")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if tracked is not None and step.src in tracked:
        moved = git(root, "mv", "--", step.src, step.dst)
        if moved is not None and moved.ok:
            tracked.discard(step.src)
            tracked.add(step.dst)
            return
    os.rename(src, dst)


def _remove_empty_folders(root: Path, relpaths: list[str]) -> None:
    """Folders the moves left empty go (never the diary root, never one holding anything)."""
    folders = {posixpath.dirname(p) for p in relpaths}
    for folder in sorted(folders, key=lambda f: -f.count("/")):
        while folder:
            try:
                (root / folder).rmdir()
            except OSError:
                break
            folder = posixpath.dirname(folder)


def carry_out(settings: Settings, plan: Plan, store: Store) -> list[str]:
    """Run (or finish) a plan; returns the files left as the user changed them meanwhile."""
    root = settings.diary
    kill_after = int(os.environ.get(KILL_AFTER_ENV) or 0)
    store.save_catalog_meta(PLAN_KEY, plan.to_json())  # journaled before the first move
    tracked = _tracked(root)
    for n in range(plan.steps_done, len(plan.steps)):
        step = plan.steps[n]
        if n == plan.steps_done and not (root / step.src).exists() and (root / step.dst).exists():
            pass  # killed after this rename, before it was recorded
        else:
            _rename(root, step, tracked)
        plan.steps_done = n + 1
        store.save_catalog_meta(PLAN_KEY, plan.to_json())
        if kill_after and plan.steps_done == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    kept: list[str] = []
    for n in range(plan.rewrites_done, len(plan.rewrites)):
        rewrite = plan.rewrites[n]
        path = root / rewrite.path
        try:
            data = read_diary_bytes(root, path)
        except OSError:
            data = b""
        if hashlib.sha256(data).hexdigest() == rewrite.before_sha256:
            replace_diary_file(root, path, rewrite.text)
        elif data != rewrite.text.encode("utf-8"):
            kept.append(rewrite.path)  # changed by hand meanwhile: theirs
        plan.rewrites_done = n + 1
        store.save_catalog_meta(PLAN_KEY, plan.to_json())
    moves = [(step.src, step.dst) for step in plan.steps]
    with store.transaction():
        store.rename_entry_paths(moves)
        Journal(store).rename_entry_paths(moves)
        rename_written_lines(store, moves)
        store.save_catalog_meta(PLAN_KEY, "")
    _remove_empty_folders(root, [step.src for step in plan.steps])
    return kept


def reorganize(settings: Settings, plan: Plan, *, is_note: Callable[[str], bool] | None = None) -> list[str]:
    """Carry out a plan made by :func:`make_plan` (or finish an interrupted one), under the diary's write lock
    and the queue's. A new plan is made there first: when its moves are not the ones shown, nothing moves."""
    with diary_lock(settings, "reorganize"), queue_lock(settings), Store(settings.db_path) as store:
        pending = pending_plan(store)
        if pending is None or pending.to_json() != plan.to_json():
            fresh = make_plan(settings, plan.layout, plan.default_theme, store=store, is_note=is_note)
            if fresh.moves != plan.moves:
                raise DiaryError("the diary changed since the plan was made: nothing was moved.",
                                 hint="Run reorganize again to see the plan as things are now.")
            plan = fresh
        return carry_out(settings, plan, store)
