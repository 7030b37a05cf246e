"""A newcomer's first run (issue 13): `init` says what to run next and offers git; a draft that cannot
work fails at once, in one line that says what to change; the current stage shows from the start;
commands run inside `entries/` find the diary above. Real CLI subprocesses and pseudo-terminals."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.cli.test_cli_draft import assert_clean_failure, env_for
from tests.conftest import clean_env, run_cli
from tests.fakes import pdfs

ARXIV_ID = "2506.01939"
UNRESOLVABLE = "http://arxiv.invalid/api/query"  # RFC 2606: .invalid resolves nowhere
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def outside_git(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment where git looks no higher than ``tmp_path``: the folders made there are in no repository."""
    return clean_env(GIT_CEILING_DIRECTORIES=str(tmp_path), **extra)


# -- init ----------------------------------------------------------------------------------------------------


def test_init_ends_with_the_two_commands_to_run_next(tmp_path: Path) -> None:
    result = run_cli("init", "my diary", cwd=tmp_path, env=outside_git(tmp_path))
    assert result.returncode == 0, result.stderr
    *_, intro, draft, doctor = result.stdout.splitlines()
    assert intro == "Next:"
    assert draft.split("#")[0].strip() == "cd 'my diary' && paperdiary draft 1706.03762"
    assert doctor.split("#")[0].strip() == "paperdiary doctor"
    # Not asked (no terminal): no repository made, but the way to make one said.
    assert "`git init 'my diary'`" in result.stdout and not (tmp_path / "my diary" / ".git").exists()

    here = run_cli("init", cwd=tmp_path / "my diary", env=outside_git(tmp_path))  # again, from inside
    assert here.stdout.splitlines()[-2].split("#")[0].strip() == "paperdiary draft 1706.03762"


@needs_git
def test_init_git_flags_for_scripts(tmp_path: Path) -> None:
    made = run_cli("init", "with-git", "--git", cwd=tmp_path, env=outside_git(tmp_path))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "with-git" / ".git").is_dir() and "initialised a git repository in with-git" in made.stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", ".paperdiary/paperdiary.db"], cwd=tmp_path / "with-git")
    assert ignored.returncode == 0  # the state folder is kept out from the start

    quiet = run_cli("init", "without", "--no-git", cwd=tmp_path, env=outside_git(tmp_path))
    assert not (tmp_path / "without" / ".git").exists() and "git init" not in quiet.stdout

    inside = run_cli("init", "with-git/sub", cwd=tmp_path, env=outside_git(tmp_path))  # already versioned
    assert not (tmp_path / "with-git" / "sub" / ".git").exists() and "git init" not in inside.stdout


@needs_git
@pytest.mark.parametrize(("answer", "repository"), [("y", True), ("", False)])
def test_init_asks_on_a_terminal(tmp_path: Path, answer: str, repository: bool) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "paperdiary", "init", "new"], cwd=str(tmp_path),
                          env=outside_git(tmp_path, TERM="xterm"), encoding="utf-8", timeout=30)
    child.expect_exact("new is not in a git repository. Make it one (git init)? [y/N]: ")
    child.sendline(answer)
    child.expect_exact("Next:")
    child.expect_exact("cd new && paperdiary draft 1706.03762")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (tmp_path / "new" / ".git").is_dir() is repository


# -- a first draft that cannot work ------------------------------------------------------------------------------


def test_an_unresolvable_arxiv_host_fails_at_once_naming_host_and_setting(diary: Path) -> None:
    started = time.monotonic()
    result = run_cli("draft", ARXIV_ID, cwd=diary, env=clean_env(PAPERDIARY_ARXIV_API=UNRESOLVABLE))
    elapsed = time.monotonic() - started
    line = assert_clean_failure(result)
    assert "arxiv.invalid" in line and "arxiv_api" in line and "PAPERDIARY_ARXIV_API" in line
    assert "tries" not in line  # a name that does not resolve is not retried
    assert elapsed < 10  # loosely: the retries it no longer makes took 15 s and more

    # The same for an LLM endpoint: doctor names it at once instead of counting tries.
    doctor = run_cli("doctor", cwd=diary, env=clean_env(PAPERDIARY_ARXIV_API=UNRESOLVABLE, PAPERDIARY_MODEL="m",
                                                         OPENAI_BASE_URL="http://llm.invalid/v1"))
    [endpoint] = [line for line in doctor.stdout.splitlines() if line.startswith("✗ LLM endpoint:")]
    assert "cannot resolve" in endpoint and "llm.invalid" in endpoint and "OPENAI_BASE_URL" in endpoint
    assert not [line for line in doctor.stdout.splitlines() if line.startswith("✗") and "tries" in line]


def test_a_model_without_key_or_endpoint_fails_before_any_work(diary: Path, fake_arxiv, tmp_path: Path) -> None:
    fake_arxiv.add_paper(ARXIV_ID)
    env = env_for(fake_arxiv, PAPERDIARY_MODEL="gpt-4o-mini")
    line = assert_clean_failure(run_cli("draft", ARXIV_ID, cwd=diary, env=env), code=2)
    assert "'gpt-4o-mini'" in line and "OPENAI_API_KEY" in line and "OPENAI_BASE_URL" in line
    backlog = tmp_path / "backlog.txt"
    backlog.write_text(f"{ARXIV_ID}\n", encoding="utf-8")
    caught_up = run_cli("catchup", str(backlog), cwd=diary, env=env)
    assert caught_up.returncode == 2 and "OPENAI_API_KEY" in caught_up.stderr
    assert fake_arxiv.requests == []  # nothing fetched for a run that could not draft

    doctor = run_cli("doctor", cwd=diary, env=env)
    assert doctor.returncode == 1
    assert any(line.startswith("✗ LLM endpoint:") and "OPENAI_API_KEY" in line for line in doctor.stdout.splitlines())


def test_the_stage_shows_when_it_starts_not_when_it_ends(diary: Path, fake_arxiv) -> None:
    fake_arxiv.add_paper(ARXIV_ID)
    fake_arxiv.inject("api", "hang", seconds=3)  # arXiv takes its time
    process = subprocess.Popen([sys.executable, "-m", "paperdiary", "draft", ARXIV_ID], cwd=diary,
                               env=env_for(fake_arxiv, PAPERDIARY_HTTP_TIMEOUT="30"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.strip() == f"Fetching {ARXIV_ID}…"  # the line comes before arXiv answers, not after
        assert process.poll() is None
    finally:
        process.kill()
        process.wait(10)


def test_a_failing_stage_on_a_terminal_leaves_its_error_on_a_line_of_its_own(diary: Path) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "paperdiary", "draft", ARXIV_ID], cwd=str(diary),
                          env=clean_env(PAPERDIARY_ARXIV_API=UNRESOLVABLE, TERM="xterm", NO_COLOR="1"),
                          encoding="utf-8", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    rows = re.split(r"[\r\n]+", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before))
    [error] = [row for row in rows if "error:" in row]
    assert error.startswith("error: cannot resolve arxiv.invalid")  # not after the spinner's "Fetching…"


# -- where the diary is -------------------------------------------------------------------------------------------


def test_run_inside_entries_the_diary_above_is_found(diary: Path, tmp_path: Path) -> None:
    paper = pdfs.make_paper_pdf(tmp_path / "paper.pdf", **pdfs.generate_paper(3, seed=3))
    month = diary / "entries" / "June 2025"
    month.mkdir(parents=True)
    drafted = run_cli("draft", str(paper), "--date", "2025-06-11", cwd=month,
                      env=clean_env(PAPERDIARY_ARXIV_API="http://127.0.0.1:9/api?{}"))
    assert drafted.returncode == 0, drafted.stderr
    assert drafted.stdout.startswith("Drafted entries/June 2025/11thJune")
    assert not (month / "entries").exists() and not (month / ".paperdiary").exists()
    status = run_cli("catchup", "status", cwd=diary / "entries")
    assert status.returncode == 0 and "Journal: 1 paper(s): 1 done." in status.stdout

    elsewhere = tmp_path / "notes" / "deep"  # no diary anywhere above: refused as before
    elsewhere.mkdir(parents=True)
    line = assert_clean_failure(run_cli("catchup", "status", cwd=elsewhere))
    assert "is not a diary" in line and str(elsewhere) in line
