"""Files and paths in the diary: atomic writes (a reader, or a crash, sees the old file or the new one,
never half), the temp files they leave behind when killed, paths as the diary records them, and the
diary's walls: a symlink is followed only to a target inside the diary, a read-only file is refused."""

from __future__ import annotations

import os
import posixpath
import re
import shlex
import stat
import tempfile
import time
from fnmatch import fnmatchcase
from pathlib import Path, PurePath
from urllib.parse import quote

from paperdiary.errors import OutsideDiaryError, ReadOnlyFileError, StateLinkError

# mkstemp makes files 0600; a diary file should get the mode any new file gets here.
_UMASK = os.umask(0)
os.umask(_UMASK)

# A temp file is "." + the target's name (stem cut to 40 characters, suffix kept) + ".p" + the writing
# process's ID + "." + mkstemp's 8 random characters + ".tmp": hidden, beside its target (so the
# rename stays on one file system), and telling whether its writer is still alive. (Temp files of
# earlier versions have no process ID.)
_TEMP_NAME = re.compile(r"^\.(?P<target>.+?)(?:\.p(?P<pid>\d+))?\.[a-z0-9_]{8}\.tmp$")
_TEMP_STEM_CHARS = 40
STALE_TEMP_AGE_S = 2.0  # older than any write in progress (a write takes milliseconds)


def diary_relpath(diary: Path, path: Path) -> str:
    """``path`` relative to the diary root, with forward slashes: how entries are recorded, linked and shown.

    A path below the diary as given keeps its own name (a symlinked entry is named where it
    sits); any other (relative to the working folder, through a symlink, with ``..``) is
    resolved first. Raises ValueError when it is outside the diary.
    """
    if path.is_absolute() and ".." not in path.parts and path.is_relative_to(diary):
        return path.relative_to(diary).as_posix()
    return path.resolve().relative_to(diary.resolve()).as_posix()


def relative_link(target: str | PurePath, from_dir: str | PurePath = "") -> str:
    """A markdown or HTML link from a file in the folder ``from_dir`` to ``target``, both relative to the diary root.

    Relative, and percent-encoded the way GitHub's editor writes it (spaces -> ``%20``,
    non-ASCII as UTF-8 bytes): ``June 2025/4thJuneProlongedRL.md`` -> ``June%202025/4thJuneProlongedRL.md``;
    from ``assets``, ``../June%202025/4thJuneProlongedRL.md``.
    """
    base = PurePath(from_dir).as_posix() if str(from_dir) else "."
    return quote(posixpath.relpath(PurePath(target).as_posix(), base), safe="/")


def _diary_name(diary: Path, path: Path) -> str | None:
    """``path`` as the diary names it (relative, symlinks not followed), or None when the name itself leaves it."""
    root = Path(os.path.normpath(Path(diary).absolute()))
    given = Path(os.path.normpath(root / path))  # ".." taken literally, as the name says
    return given.relative_to(root).as_posix() if given.is_relative_to(root) else None


def resolve_inside(diary: Path, path: Path) -> Path:
    """The file ``path`` really is (symlinks followed, its folders' too), when that is inside the diary.

    Every reader and writer of a diary file goes through here, so a cloned diary's
    symlink cannot make PaperDiary read a file outside it (and copy it into an entry
    or the README) nor write one. Raises OutsideDiaryError naming the file as the
    diary does and where it leads.
    """
    target = Path(path).resolve()
    if target.is_relative_to(Path(diary).resolve()):
        return target
    name = _diary_name(diary, path)
    if name is None:
        raise OutsideDiaryError("{name} is outside the diary: refused, neither read nor written.",
                                name=str(path), target=str(target), hint="Name a file inside the diary.")
    raise OutsideDiaryError(
        "{name} is a symlink to {target}, outside the diary: refused, neither read nor written.",
        name=name, target=str(target),
        hint="Replace the link with the file itself, or point it at a file inside the diary.",
    )


def refuse_state_links(state: Path) -> None:
    """Refuse a state folder that is a symlink or holds one anywhere below it (StateLinkError).

    The state folder is PaperDiary's own, so nothing in it is ever a link; one there came with a
    cloned diary, to have the lock, the store or a cache file read or written elsewhere
    (``.paperdiary/cache -> ~``). One walk, without following links, before any of it is opened.
    """
    pending = [state]
    while pending:
        folder = pending.pop()
        if folder.is_symlink():
            _state_link(folder)
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            continue  # unreadable: opening what is in it fails by itself, with its own message
        for entry in entries:
            if entry.is_symlink():
                _state_link(Path(entry.path))
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))


def _state_link(path: Path) -> None:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    shown = os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    raise StateLinkError(
        "{name} is a symlink (to {target}): PaperDiary's state is never read or written through a link, so "
        "nothing was done.", name=shown, target=target,
        hint=f"Remove the link ({shlex.join(['rm', shown])}): the state folder is PaperDiary's own and is rebuilt.")


def is_read_only(path: Path) -> bool:
    """Whether ``path`` is read-only, by its mode bits: ``os.access`` says yes to root whatever they say."""
    mode = path.stat().st_mode
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return True
    return os.geteuid() != 0 and not os.access(path, os.W_OK)


def writable_target(diary: Path, path: Path) -> Path:
    """The real file behind ``path`` that a command may replace: inside the diary and not read-only.

    Raises OutsideDiaryError or ReadOnlyFileError (a file the user made read-only is
    refused, not replaced); a file that does not exist yet may be created.
    """
    target = resolve_inside(diary, path)
    try:
        read_only = is_read_only(target)
    except FileNotFoundError:
        return target
    if read_only:
        shown = os.path.relpath(target) if target.is_relative_to(Path.cwd()) else str(target)
        raise ReadOnlyFileError(
            "{name} is read-only: make it writable ({command}) and run the command again, or leave it as it is; "
            "nothing was written.",
            name=_diary_name(diary, path) or str(path), command=f"chmod u+w {shlex.quote(shown)}",
        )
    return target


def read_diary_bytes(diary: Path, path: Path) -> bytes:
    """A diary file's bytes, read through a symlink only when it stays inside the diary."""
    return resolve_inside(diary, path).read_bytes()


def replace_diary_file(diary: Path, path: Path, content: str | bytes) -> None:
    """Replace (or create) a diary file (README, the queue, an entry, an asset) atomically; refuse it when
    read-only or when it leads out of the diary. ``content``: text (written as UTF-8) or bytes.

    Through a symlink inside the diary, the target gets the content (its temp file
    written beside it and renamed over it) and the link stays a link.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    atomic_write_bytes(writable_target(diary, path), data)


def _temp_target(name: str) -> str:
    """The target part of a temp file's name for a file named ``name`` (or a glob of names)."""
    stem, dot, suffix = name.rpartition(".")
    return name[:_TEMP_STEM_CHARS] if not dot or not stem else f"{stem[:_TEMP_STEM_CHARS]}.{suffix}"


def sweep_temp_files(folder: Path, names: str, *, recursive: bool = False,
                     min_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Remove the temp files that killed atomic writes of files named ``names`` (a glob) in ``folder`` left behind.

    A temp file goes when the process that wrote it is gone, or when it is older
    than ``min_age_s`` (a younger one of a live process may be a write in
    progress). ``recursive``: the folders below too. Returns the files removed.
    """
    wanted = _temp_target(names)
    now = time.time()
    removed: list[Path] = []
    folders = [Path(d) for d, _, _ in os.walk(folder)] if recursive else [folder]
    for here in folders:
        try:
            candidates = os.listdir(here)
        except OSError:
            continue
        for name in candidates:
            match = _TEMP_NAME.match(name)
            if match is None or not fnmatchcase(match["target"], wanted):
                continue
            path = here / name
            try:
                if _writer_gone(match["pid"]) or now - path.stat().st_mtime > min_age_s:
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue
    return removed


def _writer_gone(pid_text: str | None) -> bool:
    """Whether the process that wrote a temp file has ended (False when unknown, or when it is this one)."""
    pid = int(pid_text) if pid_text else 0
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, but belongs to another user
        return False
    return False


def _write_temp(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{_temp_target(path.name)}.p{os.getpid()}.",
                               suffix=".tmp")
    try:
        try:
            mode = path.stat().st_mode & 0o7777  # replacing a file keeps its mode
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a full disk names the file being written, not its temp copy
        raise
    return Path(tmp)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    # newline="" semantics: the text is written exactly as given (CRLF kept).
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_create_text(path: Path, text: str) -> bool:
    """Create ``path`` atomically, never replacing an existing file.

    Returns False (and writes nothing) when ``path`` already exists. A hard link
    from a complete temp file makes "exists" and "complete" the same moment.
    """
    tmp = _write_temp(path, text.encode("utf-8"))
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True
