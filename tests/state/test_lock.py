"""The diary's write lock (pipeline/paperdiary/state/lock.py): one writer, a brief wait, who holds it, never inherited."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from paperdiary.errors import DiaryLockedError, WriteError
from paperdiary.fsutil import _write_temp
from paperdiary.settings import load_settings
from paperdiary.state.lock import LockHolder, diary_lock
from tests.fakes.mounts import read_only


@pytest.fixture
def settings(tmp_path: Path):
    (tmp_path / "README.md").write_text("# Diary\n", encoding="utf-8")
    return load_settings(tmp_path, overrides={"lock_wait": 5}, env={})


def hold_in_thread(settings, command: str, release: threading.Event) -> threading.Event:
    """Take the lock in another thread (a writer of its own) until ``release`` is set; returns 'taken'."""
    taken = threading.Event()

    def hold() -> None:
        with diary_lock(settings, command):
            taken.set()
            release.wait(30)

    threading.Thread(target=hold, daemon=True).start()
    assert taken.wait(10)
    return taken


def test_a_second_writer_waits_is_told_who_holds_it_and_gets_it_when_released(settings) -> None:
    release = threading.Event()
    hold_in_thread(settings, "catchup", release)
    told: list[LockHolder] = []

    def on_wait(holder: LockHolder) -> None:
        told.append(holder)
        release.set()  # the holder finishes while we wait

    with diary_lock(settings, "draft", on_wait=on_wait):
        record = (settings.state_path / "diary.lock").read_text(encoding="utf-8")
    assert len(told) == 1 and told[0].pid == os.getpid() and told[0].command == "catchup"
    assert told[0].describe().startswith(f"PID {os.getpid()}: paperdiary catchup started ")
    assert "command draft" in record  # the new holder's own record


def test_a_writer_that_waits_too_long_gets_one_line_naming_the_holder(settings) -> None:
    release = threading.Event()
    hold_in_thread(settings, "review apply", release)
    try:
        with pytest.raises(DiaryLockedError) as refused, diary_lock(settings, "draft", wait_s=0.2):
            pass
    finally:
        release.set()
    message = str(refused.value)
    assert "another review apply is running in" in message and f"PID {os.getpid()}: paperdiary review apply" in message
    assert "\n" not in message


def test_the_same_thread_may_take_it_again(settings) -> None:
    with diary_lock(settings, "draft"), diary_lock(settings, "draft", wait_s=0):
        pass
    with diary_lock(settings, "index --write", wait_s=0):  # and it is free afterwards
        pass


def test_a_forked_child_does_not_keep_the_diary_locked(settings, tmp_path: Path) -> None:
    """A process that took the lock and forked a long-lived child, then died: the lock is free."""
    child_pid = tmp_path / "child.pid"
    script = f"""
import os, sys, time
from paperdiary.settings import load_settings
from paperdiary.state.lock import diary_lock
settings = load_settings({str(settings.diary)!r}, env={{}})
with diary_lock(settings, "catchup"):
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    open({str(child_pid)!r}, "w").write(str(pid))
    os._exit(0)  # dies holding the lock, as kill -9 would leave it
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    child = int(child_pid.read_text())
    try:
        assert Path(f"/proc/{child}").exists()  # the child outlives its parent...
        with diary_lock(settings, "draft", wait_s=0):  # ...without holding the lock
            pass
    finally:
        os.kill(child, 9)


def test_taking_the_lock_sweeps_temp_files_of_killed_writes(settings) -> None:
    diary = settings.diary
    dead = diary / ".README.md.p999999999.abcd1234.tmp"  # its writer is gone: stale however young
    dead.write_bytes(b"half a README" * 100_000)
    old_entry = _write_temp(diary / "entries" / "June 2025" / "11thJuneX.md", b"half")
    os.utime(old_entry, (time.time() - 60, time.time() - 60))
    live = _write_temp(diary / "LESSONS-QUEUE.md", b"being written right now")  # ours, and young
    mine = diary / ".notes.abcdefgh.tmp"  # not one of ours
    mine.write_text("keep", encoding="utf-8")
    with diary_lock(settings, "index --write"):
        pass
    assert (dead.exists(), old_entry.exists(), live.exists(), mine.exists()) == (False, False, True, True)


def test_an_unwritable_state_folder_is_one_line_naming_it(settings) -> None:
    settings.state_path.mkdir()
    with read_only(settings.state_path), pytest.raises(WriteError) as refused, diary_lock(settings, "draft"):
        pass
    message = str(refused.value)
    assert str(settings.state_path) in message and "writable" in message and "\n" not in message
