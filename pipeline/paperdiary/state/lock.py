"""The diary's write lock: one writing command at a time per diary, and who holds it.

Every command that writes the diary (``draft``, ``catchup``, the ``review``
decisions and ``apply``, ``index --write``, ``stats``, ``reorganize``, ``map``)
runs inside :func:`diary_lock`: an
exclusive ``flock`` on ``diary.lock`` in the state folder, which also records
the holder's process ID, command and start time for whoever has to wait.
Read-only commands never take it.

- **Waiting.** A second writer waits up to ``settings.lock_wait`` seconds (the
  ``on_wait`` callback is told once, with the holder), then fails with one line
  naming the holder.
- **Re-entrant per thread.** A thread that holds the lock may take it again (the
  CLI takes it around a library call that takes it too); another thread, in this
  process or another, waits like any other writer.
- **Never inherited.** ``flock`` belongs to the open file, which a forked child
  shares: a child outliving a killed parent would keep the diary locked. The
  descriptor is opened ``O_CLOEXEC`` (gone at ``exec``) and closed in every
  forked child (closing, never unlocking, which would release the parent's lock too).
- **Sweeping.** Once the lock is held, the temp files that killed writes left in
  the diary are removed (``fsutil.sweep_temp_files`` knows their names).
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from paperdiary.errors import DiaryLockedError, WriteError, write_error
from paperdiary.fsutil import refuse_state_links, sweep_temp_files
from paperdiary.settings import Settings

LOCK_NAME = "diary.lock"
_POLL_S = 0.05

_held = threading.local()  # .depth: {lock path: times this thread took it}
_open_fds: set[int] = set()  # lock descriptors this process holds: closed in forked children
_open_fds_lock = threading.Lock()


@dataclass(frozen=True)
class LockHolder:
    """Who holds the lock, as its lock file says."""

    pid: int  # 0: unknown
    command: str  # "catchup", "review apply"; "" when unknown
    started: datetime | None

    def describe(self) -> str:
        """``PID 4242: paperdiary catchup started 14:02``."""
        if not self.pid:
            return "another paperdiary process"
        when = f" started {self.started:%H:%M}" if self.started else ""
        return f"PID {self.pid}: paperdiary {self.command or '(command unknown)'}{when}"


def _close_in_child() -> None:
    for fd in _open_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    _open_fds.clear()
    _held.__dict__.clear()
    _open_fds_lock.release()


# A fork waits while a descriptor is being opened or closed, so the child's copy of _open_fds is exact.
os.register_at_fork(before=_open_fds_lock.acquire, after_in_parent=_open_fds_lock.release,
                    after_in_child=_close_in_child)


def _depths() -> dict[str, int]:
    if not hasattr(_held, "depth"):
        _held.depth = {}
    return _held.depth


@contextmanager
def diary_lock(settings: Settings, command: str, *, on_wait: Callable[[LockHolder], None] | None = None,
               wait_s: float | None = None) -> Iterator[None]:
    """Hold the diary's write lock for the ``with`` block; ``command`` is what waiters are told (``"draft"``).

    Raises ``DiaryLockedError`` when another writer keeps it longer than ``wait_s``
    (default ``settings.lock_wait``), ``WriteError`` when the state folder cannot be written.
    """
    path = settings.state_path / LOCK_NAME
    depths = _depths()
    key = str(path)
    if depths.get(key):
        depths[key] += 1
        try:
            yield
        finally:
            depths[key] -= 1
        return
    fd = _open(settings, path)
    try:
        _acquire(fd, settings, wait_s if wait_s is not None else settings.lock_wait, on_wait)
        _record_holder(fd, command)
        depths[key] = 1
        _sweep_temp_files(settings)
        yield
    finally:
        depths.pop(key, None)
        with _open_fds_lock:
            _open_fds.discard(fd)
            os.close(fd)  # releases the lock


def open_state_file(settings: Settings, name: str) -> int:
    """A descriptor of the state folder's file ``name`` (created, never truncated), never through a symlink.

    The state folder is checked for links first (``fsutil.refuse_state_links``), and the file is
    opened ``O_NOFOLLOW`` besides: a ``diary.lock`` linking to a file of the user's is refused, not
    truncated. Raises StateLinkError, or WriteError when the folder cannot be written.
    """
    refuse_state_links(settings.state_path)
    try:
        settings.state_path.mkdir(parents=True, exist_ok=True)
        return os.open(settings.state_path / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise _unwritable(settings, exc) from None


def _open(settings: Settings, path: Path) -> int:
    with _open_fds_lock:
        fd = open_state_file(settings, path.name)
        _open_fds.add(fd)
    return fd


def _unwritable(settings: Settings, exc: OSError) -> Exception:
    error = write_error(exc, settings.state_path)
    if error is None:
        return exc
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return WriteError(
            "cannot write the state folder {path} ({detail}): commands that change the diary keep their lock "
            "and store there.", path=settings.state_path, detail=error.detail,
            hint="Make it writable (chmod u+w), or set state_dir in paperdiary.toml to a writable folder "
                 "inside the diary. Read-only commands (show, costs, review list) still work.",
        )
    return error


def _acquire(fd: int, settings: Settings, wait_s: float, on_wait: Callable[[LockHolder], None] | None) -> None:
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        who = _read_holder(settings.state_path / LOCK_NAME)
        if time.monotonic() >= deadline:
            raise DiaryLockedError(
                "another {command} is running in {path}: the diary lock is held by {holder}.", path=settings.diary,
                command=who.command or "paperdiary command", holder=who.describe(),
                hint="Wait for it to finish (or stop it), then run the command again"
                     + (f"; PAPERDIARY_LOCK_WAIT (now {wait_s:g} s) sets how long to wait." if wait_s else "."),
            )
        if not told and on_wait is not None:
            on_wait(who)
            told = True
        time.sleep(_POLL_S)


def _record_holder(fd: int, command: str) -> None:
    """Write who holds the lock into its file: ``pid``, ``started`` (ISO) and ``command`` lines.

    Best effort: on a full disk waiters are told less, and the command meets the full
    disk where it writes what matters (and says so there).
    """
    record = f"pid {os.getpid()}\nstarted {datetime.now().isoformat(timespec='seconds')}\ncommand {command}\n"
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode("utf-8"), 0)
    except OSError:
        pass


def _read_holder(path: Path) -> LockHolder:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    fields = dict(line.partition(" ")[::2] for line in text.splitlines())
    try:
        pid = int(fields.get("pid", "0"))
    except ValueError:
        pid = 0
    try:
        started = datetime.fromisoformat(fields["started"]) if fields.get("started") else None
    except ValueError:
        started = None
    return LockHolder(pid, fields.get("command", "").strip(), started)


def _sweep_temp_files(settings: Settings) -> None:
    """Remove what killed atomic writes left: the README's, the queue's, the reading list's, entries', the caches'.

    fsutil keeps a temp file whose writer is alive and that is younger than a few seconds (a
    read-only command may be replaying review decisions into the queue file right now).
    """
    diary = settings.diary
    sweep_temp_files(diary, "*.md")
    for name in (settings.queue_file, settings.reading_list):
        path = diary / name
        if path.parent != diary:
            sweep_temp_files(path.parent, path.name)
    for folder in (settings.entries_path, settings.cache_path):
        if folder.is_dir():
            sweep_temp_files(folder, "*", recursive=True)
