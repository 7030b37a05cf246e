"""Creating a diary (README with a lessons section, entries/, a git-ignored state folder), finding it, locking it."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from paperdiary.errors import DiaryError
from paperdiary.fsutil import atomic_create_text, resolve_inside
from paperdiary.diary.readme import DEFAULT_THEMES, README_NAME
from paperdiary.settings import Settings
from paperdiary.templates import render


def init_diary(directory: Path) -> tuple[list[Path], list[Path]]:
    """Create what a diary needs; never touch a file that is already there.

    Returns (created, kept).
    """
    settings = Settings(diary=directory)
    directory.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    kept: list[Path] = []

    readme = render(
        "diary-README.md.j2", None, name=directory.resolve().name or "PaperDiary",
        entries_dir=settings.entries_dir, themes=DEFAULT_THEMES,
    )
    gitkeep = settings.entries_path / ".gitkeep"
    settings.entries_path.mkdir(exist_ok=True)
    for path, text in ((directory / README_NAME, readme), (gitkeep, "")):
        (created if atomic_create_text(path, text) else kept).append(path)

    gitignore = resolve_inside(directory, directory / ".gitignore")  # appended to: never through a link out
    ignore_line = f"{settings.state_dir}/"
    current = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if ignore_line not in current.splitlines():
        with gitignore.open("a", encoding="utf-8") as handle:  # appending keeps the user's lines
            if current and not current.endswith("\n"):
                handle.write("\n")
            handle.write(f"# PaperDiary machine state (caches, SQLite)\n{ignore_line}\n")
        created.append(gitignore) if not current else kept.append(gitignore)
    settings.state_path.mkdir(exist_ok=True)
    return created, kept


def require_diary(settings: Settings) -> None:
    """A diary is a folder with README.md or the entries folder: refuse anything else.

    Drafting into a mistyped --diary path would otherwise scatter a new tree there.
    """
    root = settings.diary
    if (root / README_NAME).is_file() or settings.entries_path.is_dir():
        return
    where = "does not exist" if not root.exists() else f"has no {README_NAME} or {settings.entries_dir}/"
    raise DiaryError(
        f"{root} is not a diary: it {where}.",
        hint=f"Create one with `paperdiary init {root}`, or point --diary (PAPERDIARY_HOME) at yours.",
    )


@contextmanager
def diary_write_lock(settings: Settings) -> Iterator[None]:
    """Hold the diary's write lock while a command rewrites README.md or moves entries (index --write,
    stats --readme, reorganize): two of them at once would each write over the other's work.

    The one place these commands take it. Without a writable state folder there is no lock to take,
    and the command goes on (atomic writes still keep each file whole).
    """
    try:
        settings.state_path.mkdir(parents=True, exist_ok=True)
        handle = open(settings.state_path / "diary.lock", "w")
    except OSError:
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DiaryError("another paperdiary command is changing this diary right now.",
                             hint="Wait for it to finish, then run this again.") from None
        yield
