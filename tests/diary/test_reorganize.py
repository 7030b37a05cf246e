"""`paperdiary reorganize`: month folders to theme folders and back, byte for byte, no link ever broken,
resumable after a kill, a no-op the second time."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from paperdiary.diary.reorganize import KILL_AFTER_ENV, short_name
from paperdiary.settings import load_settings
from paperdiary.state.store import EntryRecord, Store
from tests.conftest import clean_env, run_cli
from tests.diary.commonmark import link_destinations
from tests.diary.real_diary import git

THEMES = "{theme}/{short_name}.md"
MONTHS = "{month_year}/{ordinal_day}{month}{short_name}.md"

README = """\
# Diary

## Interesting Methods and Lesson Learned
### Reinforcement Learning
1. **Forking tokens** matter ([80/20](June%202025/11thJuneTokenEntropy.md)).
2. **Long RL** widens reasoning ([ProRL](June%202025/4thJuneProRL.md), [80/20](June%202025/11thJuneTokenEntropy.md)).

### Robotics
1. **Action chunks** smooth motion ([ACT](<May 2025/30thMayACT.md>)).
2. Kinetic worlds give endless tasks ([Kinetix](June%202025/20thJuneKinetix.md#results)).

## Full Diary
### June 2025
* 4th: [ProRL](June%202025/4thJuneProRL.md): long RL.
"""
FILES = {
    "README.md": README,
    "READING-LIST.md": "# To read\n- [again](June 2025/4thJuneProRL.md) raw spaces, as typed on a phone\n",
    "LESSONS-QUEUE.md": "# Queue\n- [ ] **Chunks** help. <!-- id: 1234abcd -->\n  - entry: [ACT](May%202025/30thMayACT.md)\n",
    "June 2025/11thJuneTokenEntropy.md": "# Beyond the 80/20 Rule\nDate read: 11th June 2025\n\nBuilds on "
                                         "[ACT](../May%202025/30thMayACT.md) and [ProRL](4thJuneProRL.md).\n\n"
                                         "![entropy](fig.png)\n\n[ref]: 4thJuneProRL.md\n\n```\n[not a link](x.md)\n```\n",
    "June 2025/fig.png": "not really a png",
    "June 2025/4thJuneProRL.md": "## ProRL\n**Date:** 4th June 2025\n\nLonger RL training, see "
                                 "[the tokens paper](11thJuneTokenEntropy.md#key-points).\n",
    "June 2025/7thJuneBitterLesson.md": "# The Bitter Lesson\nDate: 07/06/2025\n\nGeneral methods win.\n",
    "June 2025/20thJuneKinetix.md": "# Kinetix\n\nGPU physics worlds, no date written here.\n",
    "May 2025/30thMayACT.md": "# ACT\n30/05/2025\n\nChunks of actions. Read with [80/20](<../June 2025/11thJuneTokenEntropy.md>).\n",
}


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {".git", ".paperdiary"} & set(p.relative_to(root).parts)}


def broken_links(root: Path) -> list[str]:
    """Every relative link of every markdown file that leads nowhere, read as GitHub reads them (CommonMark)."""
    broken = []
    for path in root.rglob("*.md"):
        if {".git", ".paperdiary"} & set(path.relative_to(root).parts):
            continue
        for href in link_destinations(path.read_text(encoding="utf-8")):
            target = unquote(re.split(r"[?#]", href, maxsplit=1)[0])
            if not target or re.match(r"[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
                continue
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(root)} -> {href}")
    return broken


def make(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for relpath, text in FILES.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(text.encode("utf-8"))
    (root / ".gitignore").write_text(".paperdiary/\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "month folders")
    settings = load_settings(root, env={})
    with Store(settings.db_path) as store:
        store.record_entry(EntryRecord("June 2025/4thJuneProRL.md", "2505.24864", 1, "ProRL", "", "offline",
                                       "2025-06-04", "now"))


def reorganize(root: Path, *args: str, env: dict[str, str] | None = None):
    return run_cli("reorganize", *args, cwd=root, env=env)


def test_short_names_drop_the_date() -> None:
    assert [short_name(p) for p in ("June 2025/11thJuneTokenEntropy.md", "x/2025-06-11-notes.md", "x/azr.md",
                                    "x/4thMayhem.md", "x/11thJune.md")] == [
        "TokenEntropy", "notes", "azr", "4thMayhem", "11thJune"]


def test_month_folders_to_themes_and_back_is_byte_for_byte(tmp_path: Path) -> None:
    make(tmp_path)
    before = snapshot(tmp_path)
    first = git(tmp_path, "rev-parse", "HEAD").strip()

    shown = reorganize(tmp_path, "--layout", THEMES, "--default-theme", "Blogs", "--dry-run")
    assert shown.returncode == 0, shown.stderr
    assert "June 2025/4thJuneProRL.md → Reinforcement Learning/ProRL.md" in shown.stdout
    assert "+2. **Long RL** widens reasoning ([ProRL](Reinforcement%20Learning/ProRL.md)" in shown.stdout
    assert snapshot(tmp_path) == before  # a dry run changes nothing

    moved = reorganize(tmp_path, "--layout", THEMES, "--default-theme", "Blogs", "--yes", "--json")
    assert moved.returncode == 0, moved.stderr
    report = json.loads(moved.stdout)
    assert {(m["from"], m["to"]) for m in report["moves"]} == {
        ("June 2025/11thJuneTokenEntropy.md", "Reinforcement Learning/TokenEntropy.md"),
        ("June 2025/4thJuneProRL.md", "Reinforcement Learning/ProRL.md"),
        ("May 2025/30thMayACT.md", "Robotics/ACT.md"),
    }
    # Dated only by its folder and file name (git's day is not the entry's), or by a date that only its
    # month folder reads one way: they stay, and say why.
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "folder and file name" in reasons["June 2025/20thJuneKinetix.md"]
    assert "'07/06/2025' reads two ways" in reasons["June 2025/7thJuneBitterLesson.md"]
    assert "7th June 2025" in reasons["June 2025/7thJuneBitterLesson.md"]
    assert broken_links(tmp_path) == []
    after = snapshot(tmp_path)
    assert "[ACT](<Robotics/ACT.md>)" in after["README.md"].decode()  # the angle style kept
    # A raw space makes no link on GitHub: not a link, not rewritten.
    assert after["READING-LIST.md"] == before["READING-LIST.md"]
    assert "(June%202025/20thJuneKinetix.md#results)" in after["README.md"].decode()  # it stayed
    assert "([80/20](Reinforcement%20Learning/TokenEntropy.md))" in after["README.md"].decode()
    token = after["Reinforcement Learning/TokenEntropy.md"].decode()
    assert "![entropy](../June%202025/fig.png)" in token and "[ref]: ProRL.md" in token
    assert "[not a link](x.md)" in token  # code is not rewritten
    assert not (tmp_path / "May 2025").exists() and (tmp_path / "June 2025/fig.png").exists()
    with Store(load_settings(tmp_path, env={}).db_path) as store:
        assert [r.path for r in store.entries()] == ["Reinforcement Learning/ProRL.md"]
    status = git(tmp_path, "status", "--porcelain")
    assert 'RM "May 2025/30thMayACT.md" -> Robotics/ACT.md' in status  # git mv (its links then rewritten)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "by theme", when="2025-07-01T09:00:00+00:00")

    again = reorganize(tmp_path, "--layout", THEMES, "--default-theme", "Blogs", "--yes")
    assert again.returncode == 0 and "Nothing to move" in again.stdout
    assert snapshot(tmp_path) == after  # the second run changes nothing

    back = reorganize(tmp_path, "--layout", MONTHS, "--yes")
    assert back.returncode == 0, back.stderr
    assert broken_links(tmp_path) == []
    assert snapshot(tmp_path) == before  # byte for byte, every file
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "by month again", when="2025-07-02T09:00:00+00:00")
    assert git(tmp_path, "status", "--porcelain") == "" and git(tmp_path, "diff", first, "HEAD") == ""


def test_a_kill_between_moves_is_finished_by_the_next_run(tmp_path: Path) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    make(whole)
    shutil.copytree(whole, killed, symlinks=True)
    assert reorganize(whole, "--layout", THEMES, "--default-theme", "Blogs", "--yes").returncode == 0

    stopped = reorganize(killed, "--layout", THEMES, "--default-theme", "Blogs", "--yes",
                         env=clean_env(**{KILL_AFTER_ENV: "2"}))
    assert stopped.returncode == -9  # SIGKILL after the second move
    half = snapshot(killed)
    assert sum(path.startswith(("Robotics/", "Blogs/", "Reinforcement Learning/")) for path in half) == 2
    waiting = reorganize(killed, "--dry-run")
    assert "An interrupted reorganize is waiting" in waiting.stdout
    finished = reorganize(killed, "--yes")  # no layout: finish what was started
    assert finished.returncode == 0, finished.stderr
    assert "Finished the interrupted reorganize" in finished.stdout
    assert snapshot(killed) == snapshot(whole) and broken_links(killed) == []
    assert "Nothing to move" in reorganize(killed, "--layout", THEMES, "--default-theme", "Blogs", "--yes").stdout


def test_what_cannot_be_placed_stays_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Diary\n", encoding="utf-8")
    for relpath, text in {"June 2025/4thJuneUncommitted.md": "# Dated by its folder only\n",
                          "Loose/nodate.md": "# No date\n", "Loose/dated.md": "# Dated\nDate: 2025-06-02\n",
                          "at-root.md": "# At the root\nDate: 2025-06-03\n"}.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text, encoding="utf-8")
    by_month = json.loads(reorganize(tmp_path, "--layout", MONTHS, "--dry-run", "--json").stdout)
    assert {m["from"]: m["to"] for m in by_month["moves"]} == {"Loose/dated.md": "June 2025/2ndJunedated.md",
                                                              "at-root.md": "June 2025/3rdJuneat-root.md"}
    assert "no date" in {s["path"]: s["reason"] for s in by_month["skipped"]}["Loose/nodate.md"]
    by_theme = json.loads(reorganize(tmp_path, "--layout", THEMES, "--dry-run", "--json").stdout)
    reasons = {s["path"]: s["reason"] for s in by_theme["skipped"]}
    assert "--default-theme" in reasons["at-root.md"] and "--default-theme" in reasons["June 2025/4thJuneUncommitted.md"]
    assert {m["from"]: m["to"] for m in by_theme["moves"]} == {}  # Loose/ is a topic folder: they stay there
    themed = json.loads(reorganize(tmp_path, "--layout", THEMES, "--default-theme", "Misc", "--dry-run", "--json").stdout)
    assert "folder and file name" in {s["path"]: s["reason"] for s in themed["skipped"]}["June 2025/4thJuneUncommitted.md"]
    assert {m["from"]: m["to"] for m in themed["moves"]} == {"at-root.md": "Misc/at-root.md"}
    refused = reorganize(tmp_path, "--layout", MONTHS)  # not a terminal, no --yes: nothing moves
    assert refused.returncode == 2 and "--yes" in refused.stderr and (tmp_path / "Loose/dated.md").exists()
    bad = reorganize(tmp_path, "--layout", "{nope}/{short_name}.md", "--dry-run")
    assert bad.returncode == 2 and "{nope}" in bad.stderr and "Traceback" not in bad.stderr


def test_files_it_rewrites_stay_inside_the_diary_and_read_only_ones_are_refused(tmp_path: Path) -> None:
    make(tmp_path)
    # A read-only queue is refused before anything moves.
    queue = tmp_path / "LESSONS-QUEUE.md"
    queue.chmod(0o444)
    before = snapshot(tmp_path)
    refused = reorganize(tmp_path, "--layout", THEMES, "--default-theme", "Blogs", "--yes")
    assert refused.returncode == 1 and "LESSONS-QUEUE.md is read-only" in refused.stderr, refused.stderr
    assert snapshot(tmp_path) == before and "Traceback" not in refused.stderr
    queue.chmod(0o644)

    moved = reorganize(tmp_path, "--layout", THEMES, "--default-theme", "Blogs", "--yes")
    assert moved.returncode == 0, moved.stderr
    assert broken_links(tmp_path) == [] and "Robotics/ACT.md" in queue.read_text(encoding="utf-8")

    # A reading list linking out of the diary is neither read nor written.
    outside = tmp_path.parent / f"{tmp_path.name}-list.md"
    outside.write_text("- [again](Robotics/ACT.md)\n", encoding="utf-8")
    (tmp_path / "READING-LIST.md").unlink()
    (tmp_path / "READING-LIST.md").symlink_to(outside)
    out = reorganize(tmp_path, "--layout", MONTHS, "--yes")
    assert out.returncode == 1 and "READING-LIST.md is a symlink to" in out.stderr, out.stderr
    assert outside.read_text(encoding="utf-8") == "- [again](Robotics/ACT.md)\n" and (tmp_path / "Robotics/ACT.md").exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX renames")
def test_a_cycle_of_names_goes_through_a_temporary_name(tmp_path: Path) -> None:
    from paperdiary.diary.reorganize import Step, _order

    steps = _order({"a.md": "b.md", "b.md": "a.md", "c.md": "d.md"})
    assert steps[0] == Step("c.md", "d.md") and len(steps) == 4
    names = {"a.md": "A", "b.md": "B", "c.md": "C"}
    for step in steps:
        names[step.dst] = names.pop(step.src)
    assert names == {"b.md": "A", "a.md": "B", "d.md": "C"}


def test_the_full_diary_lines_the_tool_wrote_follow_their_entries(tmp_path: Path) -> None:
    make(tmp_path)
    assert run_cli("index", "--write", cwd=tmp_path).returncode == 0
    assert reorganize(tmp_path, "--layout", THEMES, "--default-theme", "Blogs", "--yes").returncode == 0
    assert json.loads(run_cli("index", "--json", cwd=tmp_path).stdout)["up_to_date"]
    entry = tmp_path / "Robotics/ACT.md"
    entry.write_text(entry.read_text(encoding="utf-8").replace("# ACT", "# ACT 2"), encoding="utf-8")
    refreshed = json.loads(run_cli("index", "--refresh", "--json", cwd=tmp_path).stdout)
    assert refreshed["refreshed"] == 1 and "+* 30th: [ACT 2](Robotics/ACT.md)" in refreshed["diff"], refreshed


def test_on_a_terminal_it_asks_first(tmp_path: Path) -> None:
    import sys

    import pexpect

    make(tmp_path)
    before = snapshot(tmp_path)

    def spawn() -> pexpect.spawn:
        return pexpect.spawn(sys.executable, ["-m", "paperdiary", "reorganize", "--layout", THEMES,
                                              "--default-theme", "Blogs"], cwd=str(tmp_path),
                             env=clean_env(NO_COLOR="1", TERM="xterm"), encoding="utf-8", timeout=60,
                             dimensions=(60, 200))

    child = spawn()
    child.expect(r"Move 3 entries and rewrite links in \d+ files\? \[y/N\]")
    child.sendline("n")
    child.expect("Nothing was moved.")
    child.expect(pexpect.EOF)
    assert snapshot(tmp_path) == before
    child = spawn()
    child.expect(r"\[y/N\]")
    child.sendline("y")
    child.expect("Moved 3 entries")
    child.expect(pexpect.EOF)
    assert (tmp_path / "Robotics/ACT.md").exists() and broken_links(tmp_path) == []
