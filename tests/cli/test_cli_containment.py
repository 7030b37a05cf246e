"""A hostile diary stays inside its walls: sandboxed templates, path settings and symlinks that cannot lead
out of it, read-only files refused rather than replaced, and no terminal escape reaching the screen or README.

Each case is what someone who clones a stranger's diary and runs `paperdiary` could meet.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from paperdiary.diary.queue import QueueFile
from tests.conftest import arxiv_env, clean_env, run_cli
from tests.diary.test_review import README, TACTILE, ids, make_diary, readme_text
from tests.fakes import pdfs

ARXIV_ID = "2506.01939"


@pytest.fixture(scope="module")
def paper_pdf(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("pdf") / "paper.pdf"
    return pdfs.make_paper_pdf(path, **pdfs.generate_paper(5, seed=3)).read_bytes()


@pytest.fixture
def served(fake_arxiv, paper_pdf):
    fake_arxiv.add_paper(ARXIV_ID, version=2, title="Sparse Routing Improves Reasoning", pdf_bytes=paper_pdf)
    return fake_arxiv


def env_for(fake, **extra: str) -> dict[str, str]:
    return arxiv_env(fake, retry_max_time="10", **extra)


def one_error_line(result, code: int) -> str:
    """The exit code, no traceback, and one ``error:`` line, the last one."""
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    return errors[0]


def files_of(diary: Path) -> dict[str, bytes]:
    """Every file of the diary (not links, not the state folder) with its bytes: to show that nothing was written."""
    return {p.relative_to(diary).as_posix(): p.read_bytes() for p in sorted(diary.rglob("*"))
            if p.is_file() and not p.is_symlink() and ".paperdiary" not in p.parts}


def make_read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # 0444; CI runs as root, where only the bits tell


# --------------------------------------------------------------------------- templates


def test_a_template_that_reaches_for_python_is_refused_without_side_effect(diary, served, tmp_path) -> None:
    marker = tmp_path / "pwned"
    (diary / "prompts").mkdir()
    (diary / "prompts" / "entry.md.j2").write_text(
        "# {{ title }}\n{% set _ = cycler.__init__.__globals__.os.system('id > " + str(marker) + "') %}\n",
        encoding="utf-8")
    before = files_of(diary)
    line = one_error_line(run_cli("draft", ARXIV_ID, env=env_for(served), cwd=diary), 2)
    assert "prompts/entry.md.j2, line 2" in line and "sandbox" in line
    assert not marker.exists()
    assert files_of(diary) == before  # no entry, no queue


def test_a_template_with_a_syntax_error_names_its_file_and_line(diary, served) -> None:
    (diary / "prompts").mkdir()
    (diary / "prompts" / "entry.md.j2").write_text("# {{ title }}\n\n{% if offline %}\nno end\n", encoding="utf-8")
    line = one_error_line(run_cli("draft", ARXIV_ID, env=env_for(served), cwd=diary), 2)
    assert "prompts/entry.md.j2, line 4 has a syntax error" in line
    assert not list((diary / "entries").rglob("*.md"))


def test_a_template_symlinked_out_of_the_diary_is_not_read(diary, served, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT {{ title }}\n", encoding="utf-8")
    (diary / "prompts").mkdir()
    (diary / "prompts" / "entry.md.j2").symlink_to(secret)
    line = one_error_line(run_cli("draft", ARXIV_ID, env=env_for(served), cwd=diary), 1)
    assert "prompts/entry.md.j2 is a symlink to" in line and "outside the diary" in line
    assert not any(b"TOP-SECRET" in data for data in files_of(diary).values())


# --------------------------------------------------------------------------- path settings


@pytest.mark.parametrize(("setting", "value"), [("queue_file", "{outside}/queue.md"), ("state_dir", "../x"),
                                                ("entries_dir", "~/entries"), ("prompts_dir", "../prompts")])
def test_a_path_setting_that_leaves_the_diary_is_refused(diary, served, setting: str, value: str) -> None:
    outside = diary.parent / "outside"
    outside.mkdir()
    value = value.format(outside=outside)
    (diary / "paperdiary.toml").write_text(f"{setting} = {json.dumps(value)}\n", encoding="utf-8")
    before = files_of(diary)
    for args in (("draft", ARXIV_ID), ("review", "list"), ("index", "--write")):
        line = one_error_line(run_cli(*args, env=env_for(served), cwd=diary), 2)
        assert f"setting {setting!r} in {diary / 'paperdiary.toml'}" in line and "inside the diary" in line
    assert files_of(diary) == before
    assert list(outside.iterdir()) == [] and not (diary.parent / "x").exists()


def test_a_path_setting_from_the_environment_names_its_variable(diary) -> None:
    result = run_cli("review", "list", env=clean_env(PAPERDIARY_QUEUE_FILE="/tmp/q.md"), cwd=diary)
    assert "setting 'queue_file' in $PAPERDIARY_QUEUE_FILE is '/tmp/q.md'" in one_error_line(result, 2)


# --------------------------------------------------------------------------- symlinks


def test_a_queue_symlinked_out_of_the_diary_is_refused_not_replaced(diary, served, tmp_path) -> None:
    target = tmp_path / "elsewhere.md"
    target.write_text("someone else's file\n", encoding="utf-8")
    (diary / "LESSONS-QUEUE.md").symlink_to(target)
    for args in (("draft", ARXIV_ID), ("review", "add", "A lesson of mine."), ("review", "list")):
        line = one_error_line(run_cli(*args, env=env_for(served), cwd=diary), 1)
        assert "LESSONS-QUEUE.md is a symlink to" in line and "outside the diary" in line
    assert (diary / "LESSONS-QUEUE.md").is_symlink()
    assert target.read_text(encoding="utf-8") == "someone else's file\n"
    assert not list((diary / "entries").rglob("*.md"))  # the draft stopped before its entry


def test_a_queue_symlinked_inside_the_diary_is_updated_through_the_link(diary) -> None:
    (diary / "notes").mkdir()
    (diary / "LESSONS-QUEUE.md").symlink_to(Path("notes") / "queue.md")
    result = run_cli("review", "add", "A lesson of mine.", cwd=diary)
    assert result.returncode == 0, result.stderr
    assert (diary / "LESSONS-QUEUE.md").is_symlink()
    assert "A lesson of mine." in (diary / "notes" / "queue.md").read_text(encoding="utf-8")
    assert [p.name for p in (diary / "notes").iterdir()] == ["queue.md"]  # no temp file left beside it


def test_a_readme_symlinked_out_is_refused_inside_is_written_through(diary, tmp_path) -> None:
    settings = make_diary(diary)
    assert run_cli("review", "accept", ids(settings)[TACTILE], cwd=diary).returncode == 0
    outside = tmp_path / "real-README.md"
    outside.write_bytes((diary / "README.md").read_bytes())
    (diary / "README.md").unlink()
    (diary / "README.md").symlink_to(outside)
    for args in (("review", "apply"), ("index", "--write"), ("review", "list")):
        line = one_error_line(run_cli(*args, cwd=diary), 1)
        assert "README.md is a symlink to" in line
    assert outside.read_text(encoding="utf-8") == README and (diary / "README.md").is_symlink()

    (diary / "README.md").unlink()
    (diary / "docs").mkdir()
    (diary / "docs" / "README.md").write_text(README, encoding="utf-8")
    (diary / "README.md").symlink_to(Path("docs") / "README.md")
    applied = run_cli("review", "apply", cwd=diary)
    assert applied.returncode == 0, applied.stderr
    assert (diary / "README.md").is_symlink() and TACTILE in (diary / "docs" / "README.md").read_text(encoding="utf-8")


def test_an_entry_symlinked_out_of_the_diary_is_skipped_by_every_reader(diary, served, tmp_path) -> None:
    outside = tmp_path / "private.md"
    outside.write_text(f"# Private Title\nDate read: 3rd June 2025\n\nhttps://arxiv.org/abs/{ARXIV_ID}\n\n"
                       "## Key Points\n- Private first sentence.\n", encoding="utf-8")
    (diary / "entries" / "June 2025").mkdir(parents=True)
    (diary / "entries" / "June 2025" / "3rdJunePrivate.md").symlink_to(outside)
    warning = "entries/June 2025/3rdJunePrivate.md is a symlink to"

    index = run_cli("index", "--write", cwd=diary)
    assert index.returncode == 0, index.stderr
    assert "Private" not in readme_text(diary) and warning in index.stderr

    backlog = diary.parent / "backlog.txt"
    backlog.write_text(f"{ARXIV_ID}\n", encoding="utf-8")
    plan = run_cli("catchup", str(backlog), "--dry-run", "--json", env=env_for(served), cwd=diary)
    assert plan.returncode == 0, plan.stderr
    assert warning in plan.stderr and "Private" not in plan.stdout and "already in the diary" not in plan.stdout

    drafted = run_cli("draft", ARXIV_ID, env=env_for(served), cwd=diary)  # not "already in the diary"
    assert drafted.returncode == 0, drafted.stderr
    assert drafted.stdout.startswith("Drafted entries/") and warning in drafted.stderr
    assert outside.read_text(encoding="utf-8").startswith("# Private Title")


def test_an_entries_folder_symlinked_out_is_refused_inside_works(diary, served, tmp_path) -> None:
    (diary / "entries" / ".gitkeep").unlink()
    (diary / "entries").rmdir()
    outside = tmp_path / "outside-entries"
    outside.mkdir()
    (diary / "entries").symlink_to(outside)
    line = one_error_line(run_cli("draft", ARXIV_ID, env=env_for(served), cwd=diary), 2)
    assert "setting 'entries_dir' (its default) is 'entries', a symlink to" in line and "Replace the symlink" in line
    assert list(outside.iterdir()) == []

    (diary / "entries").unlink()
    (diary / "archive" / "entries").mkdir(parents=True)
    (diary / "entries").symlink_to(Path("archive") / "entries")
    drafted = run_cli("draft", ARXIV_ID, "--date", "2025-06-11", env=env_for(served), cwd=diary)
    assert drafted.returncode == 0, drafted.stderr
    [entry] = (diary / "archive" / "entries").rglob("*.md")
    assert entry.parent.name == "June 2025" and (diary / "entries").is_symlink()


# --------------------------------------------------------------------------- read-only files


def test_a_read_only_readme_is_refused_not_replaced(diary) -> None:
    settings = make_diary(diary)
    assert run_cli("review", "accept", ids(settings)[TACTILE], cwd=diary).returncode == 0
    make_read_only(diary / "README.md")
    for args in (("review", "apply"), ("index", "--write")):
        line = one_error_line(run_cli(*args, cwd=diary), 1)
        assert line == ("error: README.md is read-only: make it writable (chmod u+w README.md) and run the command "
                        "again, or leave it as it is; nothing was written.")
    assert readme_text(diary) == README and not os.stat(diary / "README.md").st_mode & 0o222
    assert [p for p in diary.iterdir() if p.name.endswith(".tmp")] == []


def test_a_read_only_queue_is_refused_before_anything_is_written(diary, served) -> None:
    settings = make_diary(diary)
    queue = diary / "LESSONS-QUEUE.md"
    before = queue.read_bytes()
    make_read_only(queue)
    entries_before = sorted((diary / "entries").rglob("*.md"))
    for args in (("review", "accept", ids(settings)[TACTILE]), ("review", "add", "Mine."),
                 ("draft", ARXIV_ID)):
        line = one_error_line(run_cli(*args, env=env_for(served), cwd=diary), 1)
        assert "LESSONS-QUEUE.md is read-only" in line
    assert queue.read_bytes() == before
    assert sorted((diary / "entries").rglob("*.md")) == entries_before  # draft wrote no entry either


# --------------------------------------------------------------------------- what the queue says


ESCAPES = "\x1b[31mRed\x1b[0m \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \u202eesrever"


def test_escape_sequences_in_a_queued_lesson_are_neither_shown_nor_applied(diary) -> None:
    make_diary(diary)
    queue = diary / "LESSONS-QUEUE.md"
    queue.write_text(queue.read_text(encoding="utf-8").replace(TACTILE, f"{TACTILE} {ESCAPES}"), encoding="utf-8")
    [tactile] = [item.id for item in QueueFile.parse(queue.read_text(encoding="utf-8")).items if "Red" in item.text]
    listed = run_cli("review", "list", cwd=diary)
    assert listed.returncode == 0 and "Red click esrever" in listed.stdout
    assert run_cli("review", "accept", tactile, cwd=diary).returncode == 0
    diff = run_cli("review", "diff", cwd=diary)
    applied = run_cli("review", "apply", cwd=diary)
    assert applied.returncode == 0, applied.stderr
    readme = readme_text(diary)
    assert "Red click esrever" in readme
    for output in (listed.stdout, listed.stderr, diff.stdout, applied.stdout, readme):
        assert "\x1b" not in output and "\x07" not in output and "evil.example" not in output and "\u202e" not in output


def test_a_ticked_box_inside_a_code_fence_is_code_not_a_lesson(diary) -> None:
    make_diary(diary)
    queue = diary / "LESSONS-QUEUE.md"
    fenced = ("\nHow to accept, for my phone:\n\n```markdown\n- [x] **Fake** lesson from an example.\n"
              "  - id: `deadbeef`\n  - theme: Robotics\n```\n")
    queue.write_text(queue.read_text(encoding="utf-8") + fenced, encoding="utf-8")
    listed = json.loads(run_cli("review", "list", "--json", cwd=diary).stdout)
    assert "deadbeef" not in [item["id"] for item in listed] and all(item["status"] == "pending" for item in listed)
    applied = run_cli("review", "apply", cwd=diary)
    assert applied.returncode == 0 and "Fake" not in readme_text(diary)
    assert queue.read_text(encoding="utf-8").endswith(fenced)  # the user's example stays as written
