"""Files and paths in the diary: atomic writes (a reader, or a crash, sees the old file or the new one,
never half), the temp files they leave behind when killed, and paths as the diary records them."""

from __future__ import annotations

import os
import re
import tempfile
import time
from fnmatch import fnmatchcase
from pathlib import Path

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
