"""`reorganize` on diaries in the shapes real ones have: only notes move, only links that led to a moved file
change (and always to valid CommonMark), scheme-less URLs, TODO and anchors stay byte for byte, {theme} is a
heading's name without its number, symlinked folders are never followed."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from paperdiary.diary.catalog import Catalog
from paperdiary.diary.reorganize import make_plan, reorganize
from paperdiary.errors import DiaryError
from paperdiary.settings import load_settings
from paperdiary.state.store import Store
from tests.diary.real_diary import git
from tests.conftest import run_cli
from tests.diary.commonmark import link_destinations
from tests.diary.test_reorganize import MONTHS, THEMES, broken_links, snapshot

README = """\
# Notes

## Interesting Methods and Lesson Learned
### 1. Reinforcement Learning (RL)
1. Forking tokens matter ([80/20](July%202025/11thJulyTokens.md), [arXiv](arxiv.org/abs/2506.01939)).

### II) Robotics / Control
- Chunks help ([ACT](<July 2025/20thJulyACT.md>)); more in [other topics](papers_in_other_topics.md).

## Full Diary
### July 2025
* 20th: [ACT](July%202025/20thJulyACT.md#results) ([on GitHub](https://github.com/me/notes/blob/main/July%202025/20thJulyACT.md))
* 11th: [80/20](July%202025/11thJulyTokens.md) [later](TODO) [top](#notes) [web](https://example.org/x)
"""
FILES = {
    "README.md": README,
    "papers_in_other_topics.md": "# Papers in other topics\n- [80/20](July%202025/11thJulyTokens.md)\n",
    "July 2025/11thJulyTokens.md": "# Beyond the 80/20 Rule\nDate read: 11th July 2025\n\n"
                                   "[paper](arxiv.org/abs/2506.01939) [code](TODO) [ACT](20thJulyACT.md) "
                                   "[index](../papers_in_other_topics.md) [gone](nowhere.md) [me](#beyond)\n",
    "July 2025/20thJulyACT.md": "# ACT\nDate read: 20th July 2025\n\nChunks. [80/20](<11thJulyTokens.md>)\n",
}


def make(root: Path) -> None:
    for relpath, text in FILES.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")
    (root / ".gitignore").write_text(".paperdiary/\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "notes")


def links_of(root: Path) -> dict[str, Counter[str]]:
    return {p.relative_to(root).as_posix(): Counter(link_destinations(p.read_text(encoding="utf-8")))
            for p in root.rglob("*.md") if ".git" not in p.parts}


def dangling(root: Path) -> Counter[str]:
    """The destinations of the links that lead nowhere, read as CommonMark."""
    return Counter(line.partition(" -> ")[2] for line in broken_links(root))


def test_only_notes_move_and_only_links_to_moved_files_change(tmp_path: Path) -> None:
    make(tmp_path)
    before = snapshot(tmp_path)
    led_nowhere = dangling(tmp_path)
    assert led_nowhere == Counter({"arxiv.org/abs/2506.01939": 2, "TODO": 2, "nowhere.md": 1})
    settings = load_settings(tmp_path, env={})

    def is_note(relpath: str) -> bool:  # as the catalog tells notes from index pages
        return relpath != "papers_in_other_topics.md"

    with Store(settings.db_path) as store:
        assert "papers_in_other_topics.md" in {e.relpath for e in Catalog(settings, store=store).entries()}
        plan = make_plan(settings, THEMES, store=store, is_note=is_note)
    assert dict(plan.moves) == {"July 2025/11thJulyTokens.md": "Reinforcement Learning (RL)/Tokens.md",
                                "July 2025/20thJulyACT.md": "Robotics _ Control/ACT.md"}
    reorganize(settings, plan, is_note=is_note)
    after = snapshot(tmp_path)
    assert dangling(tmp_path) == led_nowhere  # every link that resolved still does
    assert after["papers_in_other_topics.md"] != before["papers_in_other_topics.md"]  # its link followed the note
    assert "papers_in_other_topics.md" in after  # but it did not move
    readme = after["README.md"].decode()
    # Web links, a scheme-less URL, TODO and anchors: byte for byte; links to moved notes in the file's styles.
    for kept in ("(arxiv.org/abs/2506.01939)", "(TODO)", "(#notes)", "(https://example.org/x)",
                 "(papers_in_other_topics.md)"):
        assert readme.count(kept) == README.count(kept), kept
    assert "[ACT](<Robotics _ Control/ACT.md>)" in readme  # the angle style where written so
    assert "[ACT](Robotics%20_%20Control/ACT.md#results)" in readme  # %20 elsewhere, the fragment kept
    # The note as this repository's page on GitHub: its path follows, the rest as written.
    assert "([on GitHub](https://github.com/me/notes/blob/main/Robotics%20_%20Control/ACT.md))" in readme
    tokens = after["Reinforcement Learning (RL)/Tokens.md"].decode()
    assert "[paper](arxiv.org/abs/2506.01939) [code](TODO) [ACT](../Robotics%20_%20Control/ACT.md) " \
           "[index](../papers_in_other_topics.md) [gone](nowhere.md) [me](#beyond)" in tokens
    # Every link PaperDiary wrote is a CommonMark link: as many links in each file as before.
    now_links = {p: sum(c.values()) for p, c in links_of(tmp_path).items()}
    assert now_links["README.md"] == len(link_destinations(README)) == 10
    assert not any(" " in href and not href.startswith("<") for c in links_of(tmp_path).values() for href in c)
    status = git(tmp_path, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert status and all(line[:2] in ("R ", "RM", " M") for line in status), status
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "by theme")

    back = run_cli("reorganize", "--layout", MONTHS, "--yes", "--json", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert dangling(tmp_path) == led_nowhere
    restored = snapshot(tmp_path)
    assert restored["README.md"] == before["README.md"]  # every link back as it was written
    assert restored["July 2025/11thJulyTokens.md"] == before["July 2025/11thJulyTokens.md"]


def test_an_entry_without_a_day_of_its_own_keeps_its_name_and_says_why(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "undated.md").write_text("# Undated\n\nRead some day.\n", encoding="utf-8")
    (tmp_path / "loose" / "ambiguous.md").write_text("# Ambiguous\nDate: 05/06/2025\n\nWords.\n", encoding="utf-8")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "more", when="2025-08-23T09:00:00+00:00")
    done = run_cli("reorganize", "--layout", MONTHS, "--dry-run", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    moves = {m["from"]: m["to"] for m in report["moves"]}
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "loose/undated.md" not in moves and "no date of its own" in reasons["loose/undated.md"]
    assert not any("23rdAugust" in to for to in moves.values())  # never the commit's day
    assert "loose/ambiguous.md" not in moves
    assert re.search(r"uncertain|reads two ways", reasons["loose/ambiguous.md"]), reasons["loose/ambiguous.md"]


def test_a_symlinked_folder_is_never_followed(tmp_path: Path) -> None:
    make(tmp_path)
    dangling_at_start = dangling(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    (outside / "Robotics _ Control").mkdir(parents=True)
    os.symlink(outside / "Robotics _ Control", tmp_path / "Robotics _ Control")  # where ACT would go
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "a link")
    done = run_cli("reorganize", "--layout", THEMES, "--yes", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert re.search(r"symlink", reasons["July 2025/20thJulyACT.md"])
    assert list(outside.rglob("*")) == [outside / "Robotics _ Control"]  # nothing written through it
    assert (tmp_path / "July 2025/20thJulyACT.md").exists() and dangling(tmp_path) == dangling_at_start


def test_the_plan_is_made_again_under_the_lock_and_nothing_moves_when_it_changed(tmp_path: Path) -> None:
    make(tmp_path)
    settings = load_settings(tmp_path, env={})
    with Store(settings.db_path) as store:
        plan = make_plan(settings, THEMES, "Unsorted", store=store)
    before = snapshot(tmp_path)
    # Between the plan shown and the "yes": the diarist files a new note, which the new plan would move too.
    new = b"# New\nDate read: 25th July 2025\n\nAfter [ACT](20thJulyACT.md).\n"
    (tmp_path / "July 2025" / "25thJulyNew.md").write_bytes(new)
    with pytest.raises(DiaryError, match="changed since the plan was made"):
        reorganize(settings, plan)
    assert snapshot(tmp_path) == before | {"July 2025/25thJulyNew.md": new}  # nothing moved


def test_links_written_after_the_plan_follow_the_moves_too(tmp_path: Path) -> None:
    """The plan's moves still hold, but a file changed: its links are rewritten as it is now, not as it was."""
    make(tmp_path)
    settings = load_settings(tmp_path, env={})
    with Store(settings.db_path) as store:
        plan = make_plan(settings, THEMES, store=store, is_note=lambda relpath: relpath != "papers_in_other_topics.md")
    (tmp_path / "README.md").write_text(README + "\n## Later\n- [ACT again](July%202025/20thJulyACT.md)\n",
                                        encoding="utf-8")
    reorganize(settings, plan, is_note=lambda relpath: relpath != "papers_in_other_topics.md")
    assert (tmp_path / "README.md").read_text(encoding="utf-8").endswith(
        "- [ACT again](Robotics%20_%20Control/ACT.md)\n")
