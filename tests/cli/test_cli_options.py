"""The command line's shape: global options before or after the command, one JSON document under
--json (errors too), and the default command of `catchup`. Real CLI subprocesses, offline drafter."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from paperdiary.diary.home import init_diary
from tests.conftest import clean_env, run_cli
from tests.fakes import pdfs
from tests.fakes.topic_diary import write_topic_diary

DRAFTED_AT = re.compile(r'"drafted": "[^"]*"')
NO_ARXIV = "http://127.0.0.1:9/api?{}"  # nothing listens there: a local PDF needs no network


@pytest.fixture(scope="session")
def paper(tmp_path_factory) -> Path:
    return pdfs.make_paper_pdf(tmp_path_factory.mktemp("pdf") / "paper.pdf", **pdfs.generate_paper(3, seed=3))


def offline_env(**extra: str) -> dict[str, str]:
    return clean_env(PAPERDIARY_ARXIV_API=NO_ARXIV, **extra)


def entries(diary: Path) -> dict[str, str]:
    """Entries by path, the drafting time masked (the only thing two drafts of one paper differ in)."""
    return {p.relative_to(diary).as_posix(): DRAFTED_AT.sub('"drafted": "-"', p.read_text(encoding="utf-8"))
            for p in sorted((diary / "entries").rglob("*.md"))}


def without_timings(outcome: dict) -> dict:
    return {key: value for key, value in outcome.items() if key != "stages"} | {"stages": sorted(outcome["stages"])}


def test_global_options_after_the_command_act_as_before_it(tmp_path: Path, paper: Path) -> None:
    after, before, plain = (tmp_path / name for name in ("after", "before", "plain"))
    for diary in (after, before, plain):
        init_diary(diary)
    elsewhere = tmp_path / "elsewhere"  # the current folder is not a diary: only --diary can name it
    elsewhere.mkdir()

    late = run_cli("draft", str(paper), "--diary", str(after), "--debug", "--json", "--date", "2025-06-11",
                   env=offline_env(), cwd=elsewhere)
    early = run_cli("--diary", str(before), "--debug", "--json", "draft", str(paper), "--date", "2025-06-11",
                    env=offline_env(), cwd=elsewhere)
    human = run_cli("--diary", str(plain), "draft", str(paper), "--date", "2025-06-11", env=offline_env(),
                    cwd=elsewhere)
    for result in (late, early, human):
        assert result.returncode == 0, result.stderr

    late_outcome, early_outcome = json.loads(late.stdout), json.loads(early.stdout)
    assert late_outcome["entry_path"].startswith("entries/June 2025/11thJune")
    assert without_timings(late_outcome) == without_timings(early_outcome)
    assert late_outcome["drafter"] == "offline" and late_outcome["lessons_queued"]
    assert entries(after) == entries(before) == entries(plain) != {}
    assert f"Drafted {late_outcome['entry_path']}" in human.stdout
    assert list(elsewhere.iterdir()) == []


def test_diary_after_the_command_wins_over_paperdiary_home(tmp_path: Path, paper: Path) -> None:
    home, chosen = tmp_path / "home", tmp_path / "chosen"
    init_diary(home)
    init_diary(chosen)
    result = run_cli("draft", str(paper), "--diary", str(chosen), env=offline_env(PAPERDIARY_HOME=str(home)),
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(entries(chosen)) == 1 and entries(home) == {}


def test_debug_and_verbose_after_the_command(diary: Path, paper: Path) -> None:
    debug = run_cli("draft", "not-a-paper", "--debug", cwd=diary)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    verbose = run_cli("--verbose", "draft", str(paper), env=offline_env(), cwd=diary)
    assert verbose.returncode == 0, verbose.stderr
    assert re.search(r"pages: \d+", verbose.stderr) and re.search(r"\d+\.\d\d s", verbose.stderr)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("draft", "not-a-paper", "--json"), 2, "Accepted forms"),  # the library's error
        (("--json", "draft", "2506.01939", "--date", "2025-13-40"), 2, "is not a date"),  # click's usage error
        (("review", "accept", "--json"), 2, "Missing argument"),
        (("costs", "--json", "--by", "week"), 2, "'week' is not one of"),
        (("entries", "--json", "--llm"), 2, "--llm needs a model"),
        (("stats", "--json", "--readme", "--write"), 2, "No such option"),
        (("search", " ", "--json"), 2, "the search query is empty"),
        (("reorganize", "--json"), 2, "reorganize needs --layout"),
        (("reorganize", "--dry-run", "--json", "--layout", "{nope}.md"), 2, "{nope}"),
        (("map", "--json"), 1, "has no entries to map"),
    ],
)
def test_errors_under_json_are_one_json_document(diary: Path, args: tuple[str, ...], code: int, needle: str) -> None:
    result = run_cli(*args, cwd=diary)
    assert result.returncode == code
    error = json.loads(result.stdout)
    assert error["exit_code"] == code and needle in error["error"] and "\n" not in result.stdout.strip()
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_reports_under_json_are_one_json_document(diary: Path) -> None:
    write_topic_diary(diary, 2)
    for args, key in [(("entries",), "entries"), (("stats",), "per_month"), (("search", "diffusion"), "results"),
                      (("reorganize", "--dry-run", "--layout", "{year}/{short_name}.md"), "moves"),
                      (("map", "--no-suggest"), "clusters")]:
        result = run_cli(*args, "--json", cwd=diary)
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("\n") == 1 and json.loads(result.stdout)[key], args  # one document, one line


def test_a_folder_that_is_not_a_diary_is_a_json_error(tmp_path: Path) -> None:
    result = run_cli("index", "--json", "--diary", str(tmp_path / "typo"))
    assert result.returncode == 1
    assert "is not a diary" in json.loads(result.stdout)["error"]
    assert not (tmp_path / "typo").exists()


def test_init_json_lists_what_it_created_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "new"
    first = run_cli("init", "--json", str(target))
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert {Path(p).name for p in created["created"]} == {"README.md", ".gitkeep", ".gitignore"}
    assert created["kept"] == []
    again = json.loads(run_cli("--diary", str(target), "init", "--json").stdout)  # --diary names the folder too
    assert again["created"] == [] and {Path(p).name for p in again["kept"]} == {"README.md", ".gitkeep"}


def test_help_is_quick_to_read_and_hides_the_old_forms() -> None:
    root = run_cli("--help")
    assert root.returncode == 0
    for command in ("catchup", "costs", "doctor", "draft", "index", "init", "review", "show"):
        assert re.search(rf"^  {command}\s", root.stdout, re.M), root.stdout
    review = run_cli("review", "--help").stdout
    assert "old-flags" not in review and "--accept" not in review
    for command in ("list", "accept", "reject", "theme", "kind", "add", "diff", "apply"):
        assert re.search(rf"^  {command}\s", review, re.M), review
    catchup = run_cli("catchup", "--help").stdout
    assert "--status" not in catchup and "--dry-run" in catchup and re.search(r"^  status\s", catchup, re.M)
    assert "--diary" in run_cli("review", "accept", "--help").stdout  # every command takes the global options
