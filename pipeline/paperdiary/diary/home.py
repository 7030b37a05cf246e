"""Creating a diary (README with a lessons section, entries/, a git-ignored state folder), and finding one."""

from __future__ import annotations

from pathlib import Path

from paperdiary.diary.readme import EXAMPLE_THEME, README_NAME, Readme
from paperdiary.git import git_output
from paperdiary.errors import DiaryError, ReadmeError
from paperdiary.fsutil import atomic_create_text, resolve_inside
from paperdiary.settings import SETTINGS_FILE, Settings
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
        entries_dir=settings.entries_dir, themes=(EXAMPLE_THEME,),
    )
    # An existing diary keeps its own shape: no entries/ folder beside the notes it already has.
    existing = (directory / README_NAME).exists()
    if not existing or settings.entries_path.is_dir():
        gitkeep = settings.entries_path / ".gitkeep"
        settings.entries_path.mkdir(exist_ok=True)
        (created if atomic_create_text(gitkeep, "") else kept).append(gitkeep)
    (created if atomic_create_text(directory / README_NAME, readme) else kept).append(directory / README_NAME)

    gitignore = resolve_inside(directory, directory / ".gitignore")  # appended to: never through a link out
    ignore_line = f"{settings.state_dir}/"
    current = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if not ignores_state(current, settings.state_dir):
        with gitignore.open("a", encoding="utf-8") as handle:  # appending keeps the user's lines
            if current and not current.endswith("\n"):
                handle.write("\n")
            handle.write(f"# PaperDiary machine state (caches, SQLite)\n{ignore_line}\n")
        created.append(gitignore) if not current else kept.append(gitignore)
    settings.state_path.mkdir(exist_ok=True)
    return created, kept


def ignores_state(gitignore: str, state_dir: str) -> bool:
    """Whether a .gitignore's text already has a line ignoring the state folder (``.paperdiary``, ``/.paperdiary/``...)."""
    wanted = state_dir.strip("/")
    return any(line.strip().strip("/") in (wanted, f"{wanted}/*", f"**/{wanted}") for line in gitignore.splitlines())


def in_git_repository(folder: Path) -> bool:
    """Whether ``folder`` is inside a git work tree (False too when git is not installed)."""
    return (git_output(folder, "rev-parse", "--is-inside-work-tree") or "").strip() == "true"


def git_init(folder: Path) -> bool:
    """Make ``folder`` a git repository (its .gitignore already keeps the state folder out); False when git fails."""
    return git_output(folder, "init", "--quiet") is not None


def is_diary(settings: Settings) -> bool:
    """A diary is a folder with README.md or the entries folder."""
    return (settings.diary / README_NAME).is_file() or settings.entries_path.is_dir()


def diary_above(folder: Path) -> Path | None:
    """The nearest folder above ``folder`` that is unmistakably a diary, or None.

    Unmistakably: a README.md with a lessons section, a paperdiary.toml or a state
    folder (.paperdiary/). So a command run inside ``entries/`` or a month folder finds
    the diary it belongs to, and a README.md of some other project is not taken for one.
    """
    for parent in folder.resolve().parents:
        if (parent / SETTINGS_FILE).is_file() or Settings(diary=parent).state_path.is_dir():
            return parent
        readme = parent / README_NAME
        if readme.is_file():
            try:
                Readme.read(readme)
            except ReadmeError:
                continue
            return parent
    return None


def require_diary(settings: Settings) -> None:
    """Refuse a folder that is not a diary (``is_diary``).

    Drafting into a mistyped --diary path would otherwise scatter a new tree there.
    """
    root = settings.diary
    if is_diary(settings):
        return
    where = "does not exist" if not root.exists() else f"has no {README_NAME} or {settings.entries_dir}/"
    raise DiaryError(
        f"{root} is not a diary: it {where}.",
        hint=f"Create one with `paperdiary init {root}`, or point --diary (PAPERDIARY_HOME) at yours.",
    )
