"""Running untrusted or runaway work in a child process: killed when its time is up, its memory capped.

Some work cannot be interrupted from a thread: pypdf on a page with a huge content
stream, a diary's template looping a billion times or building a string of gigabytes
in one call. :func:`run_isolated` forks a child for it (on Linux: milliseconds), waits
for the answer at most ``timeout`` seconds, then kills it.

The child dies with its parent: the kernel kills it (``PR_SET_PDEATHSIG``) when the
thread that forked it ends, a ``kill -9`` of the parent included; it holds no
descriptor of the parent's but its own pipe end (the diary lock's is closed at fork
by ``state/lock.py``), so nothing of a killed run stays behind, and no lock.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import resource
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


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


def _mp_context() -> multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext:
    # fork starts in milliseconds; macOS and Windows need spawn (fork is unsafe or missing there).
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def run_isolated(target: Callable[..., T], *args: Any, timeout: float, name: str,
                 errors: type[BaseException] | tuple[type[BaseException], ...] = Exception,
                 memory_bytes: int | None = None) -> T:
    """``target(*args)`` run in a child process named ``name``: its value, or the exception it raised.

    An exception of ``errors`` comes back as itself (it must pickle); any other is a bug,
    raised here as ChildCrashed with the child's traceback. ``memory_bytes``: how much more
    address space than it started with the child may take (beyond it, a MemoryError there).
    Raises ChildTimeout after ``timeout`` seconds, ChildDied when the child ends without an answer.
    """
    ctx = _mp_context()
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_main, name=name, daemon=True,
                        args=(sender, receiver, os.getpid(), memory_bytes, errors, target, args))
    child.start()
    sender.close()  # only the child writes: EOF on the receiver then means the child died
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
    # The parent's end of the pipe, inherited by the fork: while we held it, a send to a parent that
    # had died would block forever instead of failing.
    parent_end.close()
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
