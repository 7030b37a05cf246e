"""fsutil: temp files of killed writes are swept by their owner's rules; paths as the diary records them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperdiary.errors import OutsideDiaryError, ReadOnlyFileError
from paperdiary.fsutil import (
    _write_temp,
    atomic_write_text,
    diary_relpath,
    is_read_only,
    read_diary_bytes,
    replace_diary_file,
    resolve_inside,
    sweep_temp_files,
)


def age(path: Path, seconds: float) -> None:
    os.utime(path, (time.time() - seconds, time.time() - seconds))


def test_a_dead_writers_temp_file_goes_at_once_a_live_ones_only_when_old(tmp_path: Path) -> None:
    target = tmp_path / "LESSONS-QUEUE.md"
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from paperdiary.fsutil import _write_temp;"
                               " print(_write_temp(Path(sys.argv[1]), b'half'))", str(target)],
        capture_output=True, text=True, check=True,
    )
    dead = Path(child.stdout.strip())  # its writer has exited: no write of it is in progress
    live = _write_temp(target, b"half")  # this process's: maybe a write in progress
    assert dead.exists() and live.exists() and dead.name.startswith(".LESSONS-QUEUE.md.p")

    assert sweep_temp_files(tmp_path, target.name) == [dead]
    assert live.exists()
    age(live, 60)
    assert sweep_temp_files(tmp_path, target.name) == [live]


def test_only_temp_files_of_the_named_files_go(tmp_path: Path) -> None:
    long_name = "11thJuneAVeryLongShortNameThatGoesOnAndOnForever.md"  # its temp file's name is shortened
    folder = tmp_path / "June 2025"
    ours = [_write_temp(folder / long_name, b"x"), _write_temp(folder / "11thJuneX.md", b"x")]
    others = [_write_temp(folder / "notes.txt", b"x"), folder / ".mine.abcdefgh.tmp", folder / "plain.tmp"]
    for path in others[1:]:
        path.write_text("keep", encoding="utf-8")
    for path in ours + others:
        age(path, 60)
    assert sorted(sweep_temp_files(tmp_path, "*.md", recursive=True)) == sorted(ours)
    assert all(path.exists() for path in others)
    assert sweep_temp_files(tmp_path, "*.md") == []  # not recursive: the month folder is not looked at


def test_a_finished_write_leaves_no_temp_file(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "a.md", "text")
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]


def test_diary_relpath(tmp_path: Path) -> None:
    diary = tmp_path / "diary"
    (diary / "entries").mkdir(parents=True)
    entry = diary / "entries" / "a b.md"
    entry.write_text("x", encoding="utf-8")
    assert diary_relpath(diary, entry) == "entries/a b.md"
    assert diary_relpath(diary, diary / "entries" / ".." / "entries" / "a b.md") == "entries/a b.md"
    assert diary_relpath(diary, diary) == "."
    link = tmp_path / "link"
    link.symlink_to(diary)
    assert diary_relpath(diary, link / "entries" / "a b.md") == "entries/a b.md"  # reached through a symlink
    outside = tmp_path / "elsewhere.md"
    outside.write_text("x", encoding="utf-8")
    (diary / "entries" / "linked.md").symlink_to(outside)
    assert diary_relpath(diary, diary / "entries" / "linked.md") == "entries/linked.md"  # named where it sits
    with pytest.raises(ValueError):
        diary_relpath(diary, outside)


# --------------------------------------------------------------------------- the diary's walls


def test_resolve_inside_follows_links_that_stay_and_refuses_those_that_leave(tmp_path: Path) -> None:
    diary, outside = tmp_path / "diary", tmp_path / "secret.md"
    (diary / "notes").mkdir(parents=True)
    outside.write_text("secret", encoding="utf-8")
    (diary / "notes" / "real.md").write_text("mine", encoding="utf-8")
    (diary / "inside.md").symlink_to(Path("notes") / "real.md")
    (diary / "out.md").symlink_to(outside)
    (diary / "outdir").symlink_to(tmp_path)
    assert resolve_inside(diary, diary / "inside.md") == (diary / "notes" / "real.md").resolve()
    assert read_diary_bytes(diary, diary / "inside.md") == b"mine"
    for name in ("out.md", "outdir/secret.md"):
        with pytest.raises(OutsideDiaryError) as info:
            read_diary_bytes(diary, diary / name)
        assert info.value.name == name and info.value.target == str(outside.resolve())
        assert f"{name} is a symlink to {outside.resolve()}, outside the diary" in str(info.value)
    with pytest.raises(OutsideDiaryError, match="is outside the diary"):
        resolve_inside(diary, diary / ".." / "secret.md")


def test_replacing_through_a_link_writes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    diary = tmp_path / "diary"
    (diary / "docs").mkdir(parents=True)
    (diary / "docs" / "README.md").write_text("old", encoding="utf-8")
    (diary / "README.md").symlink_to(Path("docs") / "README.md")
    replace_diary_file(diary, diary / "README.md", "new")
    assert (diary / "README.md").is_symlink() and (diary / "docs" / "README.md").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in diary.iterdir()) == ["README.md", "docs"]  # no temp file beside the link
    (diary / "LESSONS-QUEUE.md").symlink_to(tmp_path / "elsewhere.md")  # dangling, and out of the diary
    with pytest.raises(OutsideDiaryError):
        replace_diary_file(diary, diary / "LESSONS-QUEUE.md", "x")
    assert not (tmp_path / "elsewhere.md").exists()


def test_a_file_without_write_bits_is_read_only_whoever_runs(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("mine", encoding="utf-8")
    assert not is_read_only(path)
    path.chmod(0o444)
    assert is_read_only(path)  # root may write it anyway; the user said not to
    with pytest.raises(ReadOnlyFileError) as info:
        replace_diary_file(tmp_path, path, "theirs")
    assert info.value.name == "README.md" and info.value.exit_code == 1
    assert "chmod u+w" in str(info.value) and path.read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]
