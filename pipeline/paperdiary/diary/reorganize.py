"""Move the diary's entries to a new layout (``paperdiary reorganize --layout PATTERN``) and rewrite every link
to them, resumable after a kill.

The layout is an ``entry_path`` pattern (``{theme}/{short_name}.md``,
``{month_year}/{ordinal_day}{month}{short_name}.md``...) below the folder that
holds the entries now (``entries_dir`` when they all live there, else the
diary root). Each entry's fields come from the catalog: its date read, its
short name (the file name without a leading date such as ``11thJune``), its
arXiv ID, and ``{theme}``: the README theme citing it most, else its topic
folder, else ``--default-theme``. An entry the new layout cannot place
faithfully is left where it is, with the reason (dated only by its old folder
and file name, or by nothing; no theme).

The plan (every rename, in an order that never overwrites: chains run from
their end, a cycle goes through a temporary name; and every file whose links
change, with its text before and after) is saved in the store before the
first move, and each step is recorded as it completes. A run that was killed
is finished by the next one, from where it stopped; a file the user changed
in between keeps their text. Renames use ``git mv`` for files git tracks, so
history follows them; each file is rewritten atomically, through fsutil's diary-safe
read and replace (a symlink is followed only inside the diary, a read-only file is refused
when the plan is made, before anything moves). The store's records
of the moved entries (drafts, journal, catalog cache) follow them.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import signal
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from paperdiary.diary.catalog import Catalog, CatalogEntry, DateSource, ProblemKind
from paperdiary.diary.dates import MONTHS, folder_month
from paperdiary.diary.index import rename_written_lines
from paperdiary.diary.links import rewrite_links
from paperdiary.diary.readme import README_NAME
from paperdiary.errors import DiaryError
from paperdiary.fsutil import read_diary_bytes, replace_diary_file, writable_target
from paperdiary.settings import Settings
from paperdiary.state.journal import Journal
from paperdiary.state.lock import diary_lock
from paperdiary.state.store import Store
from paperdiary.stages.entry import layout_fields, layout_relpath
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
                   steps_done=data["steps_done"], rewrites_done=data["rewrites_done"])


def short_name(relpath: str) -> str:
    """The name an entry goes by in a layout: its file name without suffix and leading date."""
    stem = posixpath.basename(relpath).rpartition(".")[0] or posixpath.basename(relpath)
    return _DATE_PREFIX.sub("", stem).lstrip("-_ ") or stem


def theme_of(entry: CatalogEntry, base: str, default_theme: str) -> str:
    """The README theme citing the entry most, else its topic folder, else the default ("" when none)."""
    if entry.themes:
        return entry.themes[0]
    folder = entry.folder[len(base) + 1:] if base and entry.folder.startswith(base + "/") else \
        ("" if entry.folder == base else entry.folder)
    parts = tuple(folder.split("/")) if folder else ()
    if parts and folder_month(parts) is None and not re.fullmatch(r"\d{4}", parts[-1]):
        return parts[-1]
    return default_theme


def _base(settings: Settings, entries: list[CatalogEntry]) -> str:
    """The folder the layout goes below: entries_dir when every entry is in it, else the diary root."""
    base = settings.entries_dir.strip("/")
    if entries and all(e.relpath.startswith(base + "/") for e in entries):
        return base
    return ""


def _target(entry: CatalogEntry, layout: str, base: str, default_theme: str) -> tuple[str | None, str]:
    """(new path, "") or (None, why the entry stays)."""
    if any(p.kind in (ProblemKind.SYMLINK_OUTSIDE, ProblemKind.UNREADABLE) for p in entry.problems):
        return None, "cannot be read"
    uses_date = bool(_DATE_FIELDS.search(layout))
    if entry.date_source is DateSource.MTIME and uses_date:
        return None, "no date to file it by: add a line 'Date read: 4th June 2025'"
    theme = theme_of(entry, base, default_theme)
    if "{theme}" in layout and not theme:
        return None, "no README theme cites it and its folder is no topic: pass --default-theme"
    fields = layout_fields(entry.date_read, short_name(entry.relpath), entry.arxiv_id, theme)
    relpath = layout_relpath(layout, fields).as_posix()
    if entry.relpath.lower().endswith(".markdown") and relpath.endswith(".md"):
        relpath = relpath[:-3] + entry.relpath[-9:]  # its own suffix kept
    new = f"{base}/{relpath}" if base else relpath
    if new != entry.relpath and entry.date_source is DateSource.FOLDER:
        return None, ("dated only by its folder and file name, which the move would lose: "
                      "add a line 'Date read: 4th June 2025' (or commit it to git)")
    return new, ""


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


def make_plan(settings: Settings, layout: str, default_theme: str = "", *, store: Store | None = None) -> Plan:
    """Where each entry goes in ``layout``, the renames in a safe order and the link rewrites; nothing is changed."""
    layout_relpath(layout, layout_fields(date(2025, 6, 11), "Name", None))  # a bad pattern, even in an empty diary
    entries = Catalog(settings, store=store).entries()
    base = _base(settings, entries)
    wanted: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    for entry in sorted(entries, key=lambda e: e.relpath):
        new, why = _target(entry, layout, base, default_theme)
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
                candidate not in wanted and (settings.diary / candidate).exists()):
            n += 1
            candidate = f"{stem}-{n}.{suffix}" if dot else f"{new}-{n}"
        moves[old] = candidate
    steps = _order(moves)
    rewrites = _rewrites(settings, entries, moves)
    return Plan(layout, sorted(moves.items()), steps, rewrites, skipped)


def _rewrites(settings: Settings, entries: list[CatalogEntry], moves: dict[str, str]) -> list[Rewrite]:
    """The files whose links change: README, the queue, the reading list and the entries (at their new paths)."""
    if not moves:
        return []
    others = [README_NAME, settings.queue_file, settings.reading_list]
    files = dict.fromkeys(others + [e.relpath for e in entries if e.sha256])
    out: list[Rewrite] = []
    for relpath in files:
        path = settings.diary / relpath
        try:  # a file linking out of the diary is refused here, before anything moves
            data = read_diary_bytes(settings.diary, path)
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        new_path = moves.get(relpath, relpath)
        new = rewrite_links(text, posixpath.dirname(relpath), posixpath.dirname(new_path), moves.get)
        if new != text:
            writable_target(settings.diary, path)  # so is a read-only one
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
    try:
        done = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--full-name", "."], capture_output=True,
                              timeout=60, check=False, env=os.environ | {"GIT_OPTIONAL_LOCKS": "0"})
        prefix = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-prefix"], capture_output=True,
                                timeout=60, check=False, text=True)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or prefix.returncode != 0:
        return None
    lead = prefix.stdout.strip()
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return {name[len(lead):] for name in names if name and name.startswith(lead)}


def _rename(root: Path, step: Step, tracked: set[str] | None) -> None:
    src, dst = root / step.src, root / step.dst
    if dst.exists() or dst.is_symlink():
        raise DiaryError(f"cannot move {step.src} to {step.dst}: a file is already there; nothing was overwritten.",
                         hint="Move or remove that file, then run reorganize again to finish.")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if tracked is not None and step.src in tracked:
        done = subprocess.run(["git", "-C", str(root), "mv", "--", step.src, step.dst], capture_output=True,
                              text=True, timeout=60, check=False)
        if done.returncode == 0:
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


def reorganize(settings: Settings, plan: Plan) -> list[str]:
    """Carry out a plan made by :func:`make_plan`, under the diary's write lock."""
    with diary_lock(settings, "reorganize"), Store(settings.db_path) as store:
        return carry_out(settings, plan, store)
