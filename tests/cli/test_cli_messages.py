"""Messages that used to mislead (issue 13): each says what is so. Real CLI subprocesses against the arXiv
look-alike and the LLM server."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from paperdiary.settings import RETRY_ATTEMPTS
from tests.cli.test_cli_draft import env_for
from tests.conftest import clean_env, run_cli
from tests.fakes import pdfs
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM

ARXIV_ID = "2506.01939"  # also the arXiv stamp the generated PDFs carry
REFUSED = "http://127.0.0.1:9"  # nothing listens there: connections are refused at once


@pytest.fixture(scope="module")
def paper_pdf(tmp_path_factory) -> Path:
    return pdfs.make_paper_pdf(tmp_path_factory.mktemp("pdf") / "paper.pdf", **pdfs.generate_paper(3, seed=11))


@pytest.fixture
def llm():
    with FakeLLM() as fake:
        fake.script(DraftingModel())
        yield fake


def drafted_entry(result) -> str:
    assert result.returncode == 0, result.stderr
    return re.match(r"Drafted (entries/\S+ \d{4}/\S+\.md)", result.stdout)[1]


# -- show --------------------------------------------------------------------------------------------------------


def test_show_a_drafted_local_pdf(diary: Path, tmp_path: Path) -> None:
    unstamped = pdfs.make_paper_pdf(tmp_path / "mine.pdf", arxiv_stamp=None, **pdfs.generate_paper(3, seed=12))
    entry = drafted_entry(run_cli("draft", str(unstamped), cwd=diary, env=clean_env()))
    shown = run_cli("show", str(unstamped), cwd=diary)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{entry}  drafter: offline") and "Key Points" in shown.stdout
    by_path = run_cli("show", str(diary / entry), cwd=tmp_path, env=clean_env(PAPERDIARY_HOME=str(diary)))
    assert by_path.returncode == 0 and by_path.stdout == shown.stdout  # the entry's path works from anywhere


def test_show_a_local_pdf_of_a_paper_the_diary_has(diary: Path, fake_arxiv, paper_pdf: Path) -> None:
    fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=paper_pdf.read_bytes())
    entry = drafted_entry(run_cli("draft", ARXIV_ID, cwd=diary, env=env_for(fake_arxiv)))
    again = run_cli("draft", str(paper_pdf), cwd=diary, env=env_for(fake_arxiv))  # the same paper, as a PDF
    assert again.stdout.startswith(f"Already in the diary: {entry}")
    shown = run_cli("show", str(paper_pdf), cwd=diary)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{entry}  drafter: offline")


def test_show_of_a_hand_written_entry_says_so(diary: Path) -> None:
    hand = diary / "entries" / "mine.md"
    hand.write_text(f"# Mine\n[paper](https://arxiv.org/abs/{ARXIV_ID})\n", encoding="utf-8")
    result = run_cli("show", ARXIV_ID, cwd=diary)
    assert result.returncode == 2 and "entries/mine.md was written by hand" in result.stderr
    assert "Draft it first" not in result.stderr


# -- doctor --------------------------------------------------------------------------------------------------------


def test_doctor_with_a_mistyped_diary_creates_nothing(tmp_path: Path, diary: Path) -> None:
    typo = tmp_path / "diray"
    result = run_cli("doctor", "--diary", str(typo), env=clean_env(PAPERDIARY_ARXIV_API=f"{REFUSED}/api?{{}}",
                                                                   PAPERDIARY_RETRY_MAX_TIME="1"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"✗ diary: {typo} is not a diary")
    assert not any(line.startswith("✓ cache") for line in lines) and "– cache: none: not a diary" in lines
    assert not typo.exists()


def test_doctor_counts_tries_as_draft_does_and_its_plurals_agree(diary: Path, llm) -> None:
    # arXiv refuses every connection: the probe makes every try (the 8 s budget holds the short back-off)
    env = clean_env(PAPERDIARY_ARXIV_API=f"{REFUSED}/api?{{}}", PAPERDIARY_RETRY_MAX_TIME="8",
                    OPENAI_BASE_URL=llm.base_url, PAPERDIARY_MODEL="fake-model")
    result = run_cli("doctor", cwd=diary, env=env)
    [arxiv] = [line for line in result.stdout.splitlines() if line.startswith("✗ arXiv API:")]
    assert f"failed {RETRY_ATTEMPTS} tries (connection refused)" in arxiv
    assert f"{llm.base_url} answered, 1 model" in result.stdout  # not "1 models"

    env |= {"OPENAI_BASE_URL": f"{REFUSED}/v1"}
    unreachable = run_cli("doctor", cwd=diary, env=env)
    [endpoint] = [line for line in unreachable.stdout.splitlines() if line.startswith("✗ LLM endpoint:")]
    assert f"{RETRY_ATTEMPTS} tries" in endpoint


def test_costs_name_the_doctor_probe(diary: Path, fake_arxiv, llm) -> None:
    fake_arxiv.add_paper("1706.03762")
    env = env_for(fake_arxiv, OPENAI_BASE_URL=llm.base_url, PAPERDIARY_MODEL="fake-model")
    assert run_cli("doctor", cwd=diary, env=env).returncode == 0
    costs = run_cli("costs", "--by", "paper", "--json", cwd=diary, env=env)
    # doctor's structured-output probe, and the window probe this server (no window route) was sent
    assert [row["key"] for row in json.loads(costs.stdout)["rows"]] == ["(doctor probe)", "(window probe)"]
    assert "(doctor probe)" in run_cli("costs", "--by", "paper", cwd=diary, env=env).stdout


# -- draft and catchup -----------------------------------------------------------------------------------------------


def test_no_lessons_queued_says_why(diary: Path, fake_arxiv, paper_pdf: Path) -> None:
    fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=paper_pdf.read_bytes())
    env = env_for(fake_arxiv)
    first = run_cli("draft", ARXIV_ID, "--json", cwd=diary, env=env)
    proposed = len(json.loads(first.stdout)["lessons_queued"])
    assert proposed >= 1
    again = run_cli("draft", ARXIV_ID, "--force", cwd=diary, env=env)  # the same lessons again
    assert again.returncode == 0, again.stderr
    assert f"0 lessons queued for review in LESSONS-QUEUE.md ({proposed} already there or decided in review)" \
        in again.stdout


def test_catchup_calls_a_paper_drafted_by_draft_already_in_the_diary(diary: Path, fake_arxiv, paper_pdf: Path,
                                                                     tmp_path: Path) -> None:
    fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=paper_pdf.read_bytes())
    env = env_for(fake_arxiv)
    entry = drafted_entry(run_cli("draft", ARXIV_ID, cwd=diary, env=env))
    backlog = tmp_path / "backlog.txt"
    backlog.write_text(f"{ARXIV_ID}\n", encoding="utf-8")
    result = run_cli("catchup", str(backlog), "--json", cwd=diary, env=env)
    [paper] = json.loads(result.stdout)["papers"]
    assert paper["status"] == "skipped" and paper["reason"] == f"already in the diary: {entry}"


def test_catchup_status_names_the_pending_papers(diary: Path) -> None:
    from paperdiary.settings import load_settings
    from paperdiary.stages.identify import identify
    from paperdiary.state.journal import Journal, Stage
    from paperdiary.state.store import Store

    with Store(load_settings(diary, env={}).db_path) as store:
        journal = Journal(store)
        for key in ("2506.00001", "2506.00002", "2506.00003"):
            journal.queue(key, identify(key), date(2025, 6, 1))
        journal.mark("2506.00002", Stage.DOWNLOADED)
        journal.fail("2506.00003", "the PDF is corrupt")
    shown = run_cli("catchup", "status", cwd=diary)
    assert "  … 2506.00001: queued" in shown.stdout and "  … 2506.00002: downloaded" in shown.stdout
    assert "  ✗ 2506.00003: the PDF is corrupt" in shown.stdout
    assert "`paperdiary catchup` continues the 2 pending papers." in shown.stdout
    report = json.loads(run_cli("catchup", "status", "--json", cwd=diary).stdout)
    assert report["pending"] == [["2506.00001", "queued"], ["2506.00002", "downloaded"]]
