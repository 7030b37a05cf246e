"""Running untrusted or runaway work in a child process: killed when its time is up, its memory capped.

Some work cannot be interrupted from a thread: pypdf on a page with a huge content
stream, a diary's template looping a billion times or building a string of gigabytes
in one call. :func:`run_isolated` forks a child for it (on Linux: milliseconds), waits
for the answer at most ``timeout`` seconds, then kills it.

The child dies with its parent: the kernel kills it (``PR_SET_PDEATHSIG``) when the
thread that forked it ends, a ``kill -9`` of the parent included. It closes every
descriptor it inherited but its own pipe end at once (the diary lock's is closed at
fork by ``state/lock.py``), so nothing of a killed run stays behind, and no lock; and
a pipe another thread had open at the fork is not held open by it either. (Held, it
would stall that thread: ``subprocess.run`` in another thread, a git call or the
``uname`` the openai client runs for its headers, waits for its pipes' last writer to
close, which was this child, for as long as the child worked.)
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import resource
import selectors
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_PR_SET_NAME = 15


class ChildTimeout(Exception):
    """The child did not answer within its time: it was killed."""


class ChildDied(Exception):
    """The child ended without answering (killed, out of memory, a crash in C code)."""

    def __init__(self, exitcode: int | None):
        super().__init__(f"exit code {exitcode}")
        self.exitcode = exitcode


class ChildCrashed(RuntimeError):
    """The child's work raised an exception that could not be sent back as it was: ``details`` is its traceback."""

    def __init__(self, details: str):
        super().__init__(details)
        self.details = details


def run_isolated(target: Callable[..., T], *args: Any, timeout: float, name: str,
                 errors: type[BaseException] | tuple[type[BaseException], ...] = Exception,
                 memory_bytes: int | None = None) -> T:
    """``target(*args)`` run in a child process named ``name``: its value, or the exception it raised.

    An exception of ``errors`` comes back as itself (it must pickle); any other is a bug,
    raised here as ChildCrashed with the child's traceback. ``memory_bytes``: how much more
    address space than it started with the child may take (beyond it, a MemoryError there).
    Raises ChildTimeout after ``timeout`` seconds, ChildDied when the child ends without an answer.
    """
    if not sys.platform.startswith("linux"):  # fork is unsafe or missing there: multiprocessing's spawn
        return _run_spawned(target, args, timeout, name, errors, memory_bytes)
    parent = os.getpid()
    receiver, sender = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(receiver)
            _close_inherited(keep=sender)
            _set_name(name)
            with os.fdopen(sender, "wb") as conn:
                _child_main(_PipeSender(conn), None, parent, memory_bytes, errors, target, args)
            code = 0
        finally:
            os._exit(code)
    os.close(sender)  # only the child writes: EOF on the receiver then means the child ended
    try:
        answer = _read_answer(receiver, timeout)
    finally:
        os.close(receiver)
        exit_code = _reap(pid)
    if answer is None:
        raise ChildDied(exit_code)
    return _unpack(*answer)


class _PipeSender:
    """The child's end of the answer pipe, with the ``send``/``close`` of a multiprocessing connection."""

    def __init__(self, conn: Any):
        self._conn = conn

    def send(self, value: Any) -> None:
        data = pickle.dumps(value)  # before writing: what does not pickle sends nothing, then its traceback
        self._conn.write(data)
        self._conn.flush()

    def close(self) -> None:
        self._conn.close()


def _read_answer(fd: int, timeout: float) -> tuple[str, Any] | None:
    """The child's pickled answer, read until the child closes the pipe; None when it sent nothing."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise ChildTimeout()
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    if not chunks:
        return None
    try:
        answer: tuple[str, Any] = pickle.loads(b"".join(chunks))
    except (pickle.UnpicklingError, EOFError):  # cut short: the child was killed while it wrote
        return None
    return answer


def _reap(pid: int) -> int | None:
    """Kill the child if it still runs, and wait for it (no zombie is left): its exit code."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            done, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def _close_inherited(keep: int) -> None:
    """Close every descriptor but stdin, stdout, stderr and ``keep`` (see the module's docstring)."""
    for name in os.listdir("/proc/self/fd"):  # the listing's own descriptor is closed already: EBADF
        fd = int(name)
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _set_name(name: str) -> None:
    """The child's name, as ``ps`` and ``/proc/PID/comm`` show it (at most 15 bytes there)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _run_spawned(target: Callable[..., T], args: tuple[Any, ...], timeout: float, name: str,
                 errors: type[BaseException] | tuple[type[BaseException], ...], memory_bytes: int | None) -> T:
    """:func:`run_isolated` where there is no safe fork: a spawned multiprocessing child (its pipes are its own)."""
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_main, name=name, daemon=True,
                        args=(sender, receiver, os.getpid(), memory_bytes, errors, target, args))
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise ChildTimeout()
        status, payload = receiver.recv()
    except EOFError:
        child.join(5)
        raise ChildDied(child.exitcode) from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    return _unpack(status, payload)


def _unpack(status: str, payload: Any) -> Any:
    """The child's answer as the caller gets it: the value, or the exception raised here."""
    if status == "ok":
        return payload
    if status == "error":
        raise payload
    raise ChildCrashed(payload)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent ends; exit now if the parent is already gone.

    The death signal fires when the *thread* that forked us ends: that thread waits for
    this child, so that is when the parent ends or gives up on it anyway.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl in this libc: the parent check below still holds
            pass
    if os.getppid() != parent:  # the parent died between fork and prctl
        os._exit(1)


def _cap_memory(extra: int) -> None:
    """Let this process grow by ``extra`` bytes of address space at most (a bigger allocation fails at once)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + extra, resource.RLIM_INFINITY))
    except (OSError, ValueError):  # no /proc or no limit to set: the time limit still holds
        pass


def _child_main(conn: Any, parent_end: Any, parent: int, memory_bytes: int | None,
                errors: type[BaseException] | tuple[type[BaseException], ...], target: Callable[..., Any],
                args: tuple[Any, ...]) -> None:
    """Child process: run, then send ("ok", value), ("error", exception) or ("crash", traceback)."""
    _die_with_parent(parent)
    if parent_end is not None:  # spawned: the parent's end of the pipe came along; held, a send to a
        parent_end.close()  # parent that had died would block forever instead of failing
    if memory_bytes is not None:
        _cap_memory(memory_bytes)
    result: tuple[str, Any]
    try:
        result = ("ok", target(*args))
    except errors as exc:  # sent to the parent, which raises it there
        result = ("error", exc)
    except BaseException:  # noqa: BLE001 - a bug: the parent raises it with this process's traceback
        result = ("crash", traceback.format_exc())
    try:
        conn.send(result)
    except Exception:  # noqa: BLE001 - what does not pickle goes as its traceback
        sent = result[1]
        conn.send(("crash", "".join(traceback.format_exception(sent)) if isinstance(sent, BaseException)
                   else traceback.format_exc()))
    conn.close()
