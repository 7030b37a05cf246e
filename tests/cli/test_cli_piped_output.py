"""Output without a terminal (pipes, cron, CI logs) keeps whole lines, for every command; --verbose lists
a paper's sections one per line; on a terminal, a wrapped line of the review diff keeps its +/- marker.
Real CLI subprocesses (piped) and a pseudo-terminal."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import clean_env, run_cli
from tests.diary.test_review import TACTILE, make_diary
from tests.fakes import pdfs

ARXIV_ID = "2506.01939"
FAILED_ID = "2507.00001"
# Far past 80 columns, with spaces where rich likes to break a line.
LONG_ENTRY = ("entries/November 2026/30thNovemberAVeryLongHandWrittenEntryAboutSparse Mixture Of Experts "
              "Routing For Reasoning.md")
NO_ARXIV = "http://127.0.0.1:9/api?{}"  # nothing listens there: the runs below need no network
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def long_diary(tmp_path: Path) -> Path:
    """A diary deep in folders with long names, a hand-written entry with a long name, a failed catch-up paper."""
    from paperdiary.diary.home import init_diary
    from paperdiary.state.journal import Journal
    from paperdiary.settings import load_settings
    from paperdiary.stages.identify import identify
    from paperdiary.state.store import Store
    from datetime import date

    root = tmp_path / "a folder with a rather long name" / "and another one below it, for the diary itself"
    init_diary(root)
    entry = root / LONG_ENTRY
    entry.parent.mkdir(parents=True)
    entry.write_text(f"# Sparse routing\n[arXiv](https://arxiv.org/abs/{ARXIV_ID})\n", encoding="utf-8")
    (root / "entries" / "an undated note with a long name that looks like an entry of the diary.md").write_text(
        "# A note\n", encoding="utf-8")
    settings = load_settings(root, env={})
    with Store(settings.db_path) as store:
        journal = Journal(store)
        journal.queue(FAILED_ID, identify(FAILED_ID), date(2026, 11, 30))
        journal.fail(FAILED_ID, "arXiv has no paper 2507.00001 in the listing it sent back. Check the ID for typos; "
                                f"the backlog line was {root / 'backlog.txt'}:1.")
    return root


def whole(text: str, *needles: str) -> None:
    """Each needle on one line of ``text``: nothing was wrapped in the middle of it."""
    lines = text.splitlines()
    for needle in needles:
        assert any(needle in line for line in lines), f"{needle!r} is broken across lines:\n{text}"


def test_catchup_keeps_whole_lines_when_piped(long_diary: Path) -> None:
    env = clean_env(PAPERDIARY_ARXIV_API=NO_ARXIV)
    plan = run_cli("catchup", ARXIV_ID, "--dry-run", cwd=long_diary, env=env)
    assert plan.returncode == 0, plan.stderr
    whole(plan.stdout, f"already in the diary: {LONG_ENTRY}")  # a table cell

    ran = run_cli("catchup", ARXIV_ID, cwd=long_diary, env=env)  # skipped: no network needed
    assert ran.returncode == 0, ran.stderr
    whole(ran.stderr, f"already in the diary: {LONG_ENTRY}")  # the progress lines, on stderr

    status = run_cli("catchup", "status", cwd=long_diary, env=env)
    whole(status.stdout, f"the backlog line was {long_diary / 'backlog.txt'}:1.")


@pytest.mark.parametrize(("command", "needle"), [
    (("doctor",), "{diary} (README with 1 theme)"),
    (("index",), "skipped entries/an undated note with a long name that looks like an entry of the diary.md: "
                 "no date (add a line 'Date read: 11th June 2025')"),
    (("show", "2506.09999"), "no stored draft for '2506.09999'. Draft it first: paperdiary draft 2506.09999"),
])
def test_other_commands_keep_whole_lines_when_piped(long_diary: Path, command: tuple[str, ...], needle: str) -> None:
    result = run_cli(*command, cwd=long_diary, env=clean_env(PAPERDIARY_ARXIV_API=NO_ARXIV))
    whole(result.stdout + result.stderr, needle.format(diary=long_diary))


def test_verbose_lists_the_sections_one_per_line(diary: Path, tmp_path: Path) -> None:
    paper = pdfs.make_paper_pdf(tmp_path / "paper.pdf", **pdfs.generate_paper(5, seed=3))
    result = run_cli("draft", str(paper), "--verbose", cwd=diary, env=clean_env(PAPERDIARY_ARXIV_API=NO_ARXIV))
    assert result.returncode == 0, result.stderr
    count = int(re.search(r"✓ Extracting text .*sections: (\d+)", result.stderr)[1])
    listed = re.findall(r"^ +(\d+)\. \S", result.stderr, re.M)
    assert count >= 3 and listed == [str(n) for n in range(1, count + 1)], result.stderr


def test_a_wrapped_diff_line_keeps_its_marker_on_a_terminal(diary: Path) -> None:
    make_diary(diary)
    child = pexpect.spawn(sys.executable, ["-m", "paperdiary", "review"], cwd=str(diary),
                          env=clean_env(NO_COLOR="1", TERM="xterm"), encoding="utf-8", timeout=30,
                          dimensions=(60, 64))
    child.expect_exact("@@")
    child.expect_exact("[q]uit › ")
    shown = _ANSI.sub("", child.before).split("[a]ccept")[0]  # up to the prompt (it wraps too, at 64 columns)
    rows = shown.split("\r\n")[1:-1]  # the diff's rows after its @@ header
    child.send("q")
    child.expect(pexpect.EOF)

    assert len(rows) > 4 and all(len(row) <= 64 for row in rows)
    assert all(row[:1] in ("+", "-", " ") for row in rows), rows  # no row reads as another kind of line
    added = " ".join(row[1:].strip() for row in rows if row.startswith("+"))
    assert " ".join(TACTILE.split()) in added  # every word of the lesson, on rows marked +
    context = " ".join(row.strip() for row in rows if row.startswith(" "))
    assert "randomises friction and mass in simulation" in context
