"""--json on the commands that report: show, costs, doctor, index and catchup status each print one
JSON document with what the terminal form shows. Real CLI, the arXiv look-alike and the LLM server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import arxiv_env, clean_env, run_cli
from tests.fakes import pdfs
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM

ARXIV_ID = "2506.01939"
UNKNOWN_ID = "2507.00001"


@pytest.fixture(scope="session")
def paper_pdf(tmp_path_factory) -> bytes:
    return pdfs.make_paper_pdf(tmp_path_factory.mktemp("pdf") / "p.pdf", **pdfs.generate_paper(3, seed=7)).read_bytes()


@pytest.fixture
def llm():
    with FakeLLM() as fake:
        fake.script(DraftingModel())
        yield fake


def one_json(result) -> object:
    """stdout as exactly one JSON document."""
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def test_show_and_costs_json(diary: Path, fake_arxiv, llm, paper_pdf: bytes) -> None:
    fake_arxiv.add_paper(ARXIV_ID, title="Sparse Routing", pdf_bytes=paper_pdf)
    env = arxiv_env(fake_arxiv, llm)
    drafted = run_cli("--diary", str(diary), "draft", ARXIV_ID, "--json", env=env)
    assert drafted.returncode == 0, drafted.stderr
    entry_path = one_json(drafted)["entry_path"]

    shown = run_cli("show", f"arXiv:{ARXIV_ID}", "--json", "--diary", str(diary), env=env)
    assert shown.returncode == 0, shown.stderr
    [stored] = one_json(shown)
    assert stored["entry_path"] == entry_path and stored["arxiv_id"] == ARXIV_ID
    points = stored["draft"]["key_points"]
    assert points and all(point["quote"] and "verified" in point for point in points)
    assert stored["draft"]["drafter"] != "offline"

    costs = run_cli("costs", "--by", "model", "--json", "--diary", str(diary), env=env)
    assert costs.returncode == 0, costs.stderr
    report = one_json(costs)
    with sqlite3.connect(diary / ".paperdiary" / "paperdiary.db") as db:
        (calls,) = db.execute("SELECT COUNT(*) FROM llm_calls").fetchone()
    assert report["by"] == "model" and [row["key"] for row in report["rows"]] == ["fake-model"]
    assert report["rows"][0]["calls"] == report["total"]["calls"] == calls >= 1
    assert report["total"]["prompt_tokens"] > 0 and report["total"]["cost_usd"] == 0  # a local endpoint is free

    missing = run_cli("show", UNKNOWN_ID, "--json", "--diary", str(diary), env=env)
    assert missing.returncode == 2 and "no stored draft" in one_json(missing)["error"]


def test_doctor_json(diary: Path, fake_arxiv, llm) -> None:
    fake_arxiv.add_paper("1706.03762")
    result = run_cli("doctor", "--json", env=arxiv_env(fake_arxiv, llm), cwd=diary)
    assert result.returncode == 0, result.stdout + result.stderr
    report = one_json(result)
    assert report["ok"] is True
    assert [(c["name"], c["ok"]) for c in report["checks"]] == [
        ("diary", True), ("layout", True), ("arXiv API", True), ("LLM endpoint", True), ("model", True), ("structured output", True), ("context window", True),
        ("cache", True)]

    bad = run_cli("--json", "doctor", "--model", "missing-model", env=arxiv_env(fake_arxiv, llm), cwd=diary)
    assert bad.returncode == 1
    report = one_json(bad)
    model = next(c for c in report["checks"] if c["name"] == "model")
    assert report["ok"] is False and model["ok"] is False and "PAPERDIARY_MODEL" in model["detail"]

    offline = one_json(run_cli("doctor", "--json", env=arxiv_env(fake_arxiv), cwd=diary))
    assert next(c for c in offline["checks"] if c["name"] == "LLM")["ok"] is None


def test_index_json_shows_then_writes(diary: Path) -> None:
    entry = diary / "June 2025" / "11thJuneSparseRouting.md"
    entry.parent.mkdir()
    entry.write_text("# Sparse Routing\nDate read: 11th June 2025\n\n## Key Points\n- Routing helps. More.\n",
                     encoding="utf-8")
    (diary / "entries" / "stray.md").write_text("# A stray note\n", encoding="utf-8")
    readme = (diary / "README.md").read_bytes()

    shown = one_json(run_cli("index", "--json", cwd=diary))
    assert (shown["entries"], shown["months"], shown["added"], shown["written"]) == (1, 1, 1, False)
    assert shown["undated"] == ["entries/stray.md"] and shown["up_to_date"] is False
    line = "* 11th: [Sparse Routing](June%202025/11thJuneSparseRouting.md): Routing helps."
    assert f"+{line}" in shown["diff"].splitlines()
    assert (diary / "README.md").read_bytes() == readme  # showing writes nothing

    written = one_json(run_cli("index", "--write", "--json", cwd=diary))
    assert written["written"] is True and written["diff"] == ""
    assert line in (diary / "README.md").read_text(encoding="utf-8").splitlines()
    again = one_json(run_cli("index", "--json", cwd=diary))
    assert again["up_to_date"] is True and again["added"] == 0 and again["diff"] == ""


def test_catchup_status_json_and_its_old_form(diary: Path, fake_arxiv, paper_pdf: bytes, tmp_path: Path) -> None:
    fake_arxiv.add_paper(ARXIV_ID, title="Sparse Routing", pdf_bytes=paper_pdf)
    backlog = tmp_path / "backlog.txt"
    backlog.write_text(f"{ARXIV_ID} 2025-06-11\n{UNKNOWN_ID}\n", encoding="utf-8")
    env = arxiv_env(fake_arxiv)
    ran = run_cli("catchup", str(backlog), "--diary", str(diary), env=env)
    assert ran.returncode == 1, ran.stderr  # the unknown paper failed

    status = run_cli("catchup", "status", "--json", "--diary", str(diary), env=env)
    assert status.returncode == 0, status.stderr
    report = one_json(status)
    assert report["journal"] == {"done": 1, "failed": 1} and report["batches"] == []
    [(paper, error)] = report["failed"]
    assert paper == UNKNOWN_ID and UNKNOWN_ID in error
    assert status.stderr == ""

    human = run_cli("--diary", str(diary), "catchup", "status", env=env)
    assert "Journal: 2 paper(s): 1 done, 1 failed." in human.stdout
    old = run_cli("--diary", str(diary), "catchup", "--status", "--json", env=env)
    assert old.returncode == 0 and one_json(old) == report
    assert old.stderr.strip() == ("note: `paperdiary catchup --status` is deprecated and goes in the next release; "
                                  "use `paperdiary catchup status`.")


def test_catchup_takes_a_backlog_named_like_its_commands(diary: Path, tmp_path: Path) -> None:
    (tmp_path / "status").write_text(f"{ARXIV_ID} 2025-06-11\n", encoding="utf-8")
    env = clean_env(PAPERDIARY_ARXIV_API="http://127.0.0.1:9/api?{}")
    plan = run_cli("--diary", str(diary), "--json", "catchup", "./status", "--dry-run", env=env, cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert [job["paper"] for job in one_json(plan)["to_draft"]] == [ARXIV_ID]
    explicit = run_cli("--diary", str(diary), "catchup", "run", "status", "--dry-run", "--json", env=env, cwd=tmp_path)
    assert one_json(explicit) == one_json(plan)
    status = run_cli("--diary", str(diary), "catchup", "status", "--json", env=env, cwd=tmp_path)
    assert one_json(status)["journal"] == {}  # the command, not the file
