"""What the system refuses ends in one line: a read-only state folder, a full disk, settings out of range,
a queue file that is not UTF-8, and temp files of killed runs swept by the next writing command.

Real CLI, the arXiv look-alike and the LLM server; real read-only and full file systems (tests/fakes/mounts.py).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import arxiv_env, run_cli
from tests.fakes import pdfs
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM
from tests.fakes.mounts import fill, read_only, small_disk

ARXIV_ID = "2506.01939"
OTHER_ID = "2506.02002"


@pytest.fixture(scope="session")
def paper_pdf(tmp_path_factory) -> bytes:
    return pdfs.make_paper_pdf(tmp_path_factory.mktemp("pdf") / "p.pdf", **pdfs.generate_paper(3, seed=7)).read_bytes()


def one_line(result) -> str:
    """The error: one line on stderr (after the stage lines of work started or done before it), no traceback."""
    lines = [line for line in result.stderr.splitlines() if not line.startswith("✓ ") and not line.endswith("…")]
    assert len(lines) == 1 and "Traceback" not in result.stderr and "internal error" not in result.stderr, \
        result.stderr
    return lines[0]


def snapshot(diary: Path) -> dict[str, bytes]:
    """Every file of the diary outside its state folder, by path."""
    return {p.relative_to(diary).as_posix(): p.read_bytes() for p in sorted(diary.rglob("*"))
            if p.is_file() and ".paperdiary" not in p.parts}


@pytest.mark.slow
def test_read_only_state_folder_reports_work_and_writers_say_what_to_do(diary: Path, fake_arxiv, paper_pdf) -> None:
    fake_arxiv.add_paper(ARXIV_ID, title="Sparse Routing", pdf_bytes=paper_pdf)
    fake_arxiv.add_paper(OTHER_ID, title="Another", pdf_bytes=paper_pdf)
    with FakeLLM() as llm:
        llm.script(DraftingModel())
        env = arxiv_env(fake_arxiv, llm)
        drafted = run_cli("--diary", str(diary), "draft", ARXIV_ID, env=env)
        assert drafted.returncode == 0, drafted.stderr
        state = diary / ".paperdiary"
        with read_only(state):
            costs = run_cli("--diary", str(diary), "costs", "--json", env=env)
            shown = run_cli("--diary", str(diary), "show", ARXIV_ID, env=env)
            listed = run_cli("--diary", str(diary), "review", "list", "--json", env=env)
            refused = run_cli("--diary", str(diary), "draft", OTHER_ID, env=env)
            refused_review = run_cli("--diary", str(diary), "review", "reject", "abcd", env=env)
    assert costs.returncode == 0, costs.stderr
    assert json.loads(costs.stdout)["total"]["calls"] >= 1
    assert shown.returncode == 0 and "Key Points" in shown.stdout, shown.stderr
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) >= 1, listed.stderr
    for result in (refused, refused_review):
        line = one_line(result)
        assert result.returncode == 1 and f"cannot write the state folder {state}" in line and "writable" in line


def test_a_full_disk_is_one_line_and_nothing_half_written(tmp_path: Path, fake_arxiv, paper_pdf) -> None:
    from paperdiary.diary.home import init_diary

    fake_arxiv.add_paper(ARXIV_ID, title="Sparse Routing", pdf_bytes=paper_pdf)
    fake_arxiv.add_paper(OTHER_ID, title="Another", pdf_bytes=paper_pdf)
    env = arxiv_env(fake_arxiv)
    with small_disk(tmp_path / "disk", 2048) as disk:
        diary = disk / "diary"
        init_diary(diary)
        assert run_cli("--diary", str(diary), "draft", ARXIV_ID, env=env).returncode == 0
        (diary / "README.md").write_text((diary / "README.md").read_text(encoding="utf-8") + "x" * 300_000,
                                         encoding="utf-8")  # a README too large to write a second copy of
        filler = fill(disk)
        before = snapshot(diary)
        results = [run_cli("--diary", str(diary), *args, env=env) for args in (["draft", OTHER_ID],
                                                                                ["index", "--write"])]
        after = snapshot(diary)
        filler.unlink()
    for result in results:
        line = one_line(result)
        assert result.returncode == 1 and "no space left" in line and "Free some disk space" in line, line
    assert after == before  # no entry, no half-written README or queue, no temp file left


@pytest.mark.parametrize("setting, value", [("http_timeout", "-1"), ("http_timeout", "nan"), ("llm_timeout", "inf"),
                                            ("arxiv_delay", "-3"), ("chunk_tokens", "0")])
def test_a_setting_out_of_range_is_one_line_naming_it_and_its_file(diary: Path, setting: str, value: str) -> None:
    (diary / "paperdiary.toml").write_text(f"{setting} = {value}\n", encoding="utf-8")
    result = run_cli("--diary", str(diary), "costs")  # any command: settings are checked when loaded
    line = one_line(result)
    assert result.returncode == 2 and repr(setting) in line and str(diary / "paperdiary.toml") in line
    assert "must be" in line


def test_a_queue_file_turned_non_utf8_during_a_draft_keeps_the_entry_and_its_lessons(diary: Path, fake_arxiv,
                                                                                        paper_pdf) -> None:
    fake_arxiv.add_paper(ARXIV_ID, title="Sparse Routing", pdf_bytes=paper_pdf)
    queue = diary / "LESSONS-QUEUE.md"
    with FakeLLM() as llm:
        model = DraftingModel()

        def answer(request):  # the queue is saved in another encoding from a phone while the model answers
            queue.write_bytes("# Lessons queue\n\n- [ ] caf\xe9 lesson\n".encode("latin-1"))
            return model(request)

        llm.script(answer)
        env = arxiv_env(fake_arxiv, llm)
        failed = run_cli("--diary", str(diary), "draft", ARXIV_ID, env=env)
        line = one_line(failed)
        assert failed.returncode == 1 and str(queue) in line and "UTF-8" in line
        entries = list((diary / "entries").rglob("*.md"))
        assert len(entries) == 1  # the entry stays

        queue.write_text("# Lessons queue\n\n- [ ] café lesson\n", encoding="utf-8")  # fixed as the line says
        calls = len(llm.completion_requests)
        again = run_cli("--diary", str(diary), "draft", ARXIV_ID, env=env)
    assert again.returncode == 0, again.stderr
    assert len(llm.completion_requests) == calls and list((diary / "entries").rglob("*.md")) == entries
    text = queue.read_text(encoding="utf-8")
    assert "café lesson" in text and text.count("- [ ] ") >= 2  # the user's item and the paper's lessons


def test_writing_commands_sweep_temp_files_of_killed_runs(diary: Path) -> None:
    stale = diary / f".README.md.p{2**22 + 12345}.k1ll3d00.tmp"  # a 2 MB partial README of a killed run
    stale.write_bytes(b"# half\n" * 300_000)
    old = diary / ".README.md.abcd1234.tmp"  # an older version's name, without a process ID
    old.write_bytes(b"half")
    os.utime(old, (time.time() - 60, time.time() - 60))
    result = run_cli("--diary", str(diary), "index", "--write")
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and not old.exists()
