"""run_isolated: the child's answer, error, crash, death and time limit, and the descriptors it keeps."""

from __future__ import annotations

import os
import sys
import time

import pytest

from paperdiary.isolate import ChildCrashed, ChildDied, ChildTimeout, run_isolated

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork path is Linux's")


def _open_descriptors() -> list[int]:
    return sorted(int(n) for n in os.listdir("/proc/self/fd"))


def _raise_value_error(text: str) -> None:
    raise ValueError(text)


def _raise_key_error() -> None:
    raise KeyError("a bug")


def _exit_now() -> None:
    os._exit(7)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def test_the_answer_an_error_and_a_crash_come_back() -> None:
    assert run_isolated(sum, [1, 2, 3], timeout=30, name="pd-test") == 6
    with pytest.raises(ValueError, match="bad page"):
        run_isolated(_raise_value_error, "bad page", timeout=30, name="pd-test", errors=ValueError)
    with pytest.raises(ChildCrashed, match="KeyError: 'a bug'"):
        run_isolated(_raise_key_error, timeout=30, name="pd-test", errors=ValueError)


def test_a_child_that_dies_or_overruns_is_reported_and_reaped() -> None:
    with pytest.raises(ChildDied) as died:
        run_isolated(_exit_now, timeout=30, name="pd-test")
    assert died.value.exitcode == 7
    with pytest.raises(ChildTimeout):
        run_isolated(_sleep, 60, timeout=0.5, name="pd-test")
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind, not even a zombie


@linux_only
def test_the_child_holds_no_descriptor_of_the_parents() -> None:
    # A pipe another thread had open at the fork, held by the child, would keep that thread's subprocess.run
    # (a git call, the uname the openai client runs) waiting for as long as the child works.
    read_end, write_end = os.pipe()
    try:
        inherited = run_isolated(_open_descriptors, timeout=30, name="pd-test")
    finally:
        os.close(read_end)
        os.close(write_end)
    assert read_end not in inherited and write_end not in inherited
    assert len([fd for fd in inherited if fd > 2]) <= 2  # its answer pipe, and the listing's own descriptor
