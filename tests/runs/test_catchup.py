"""`paperdiary catchup` end to end: the real pipeline against the arXiv look-alike and the LLM server.

In-process runs (``run_catchup``) where faults need fast retries; real CLI
subprocesses for exit codes, input forms, and the kill -9 test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from paperdiary.runs.catchup import CatchupOptions, CatchupReport, Plan, catchup_status, run_catchup
from paperdiary.settings import load_settings
from paperdiary.stages.identify import identify
from paperdiary.state.journal import Journal, Stage
from paperdiary.state.store import Store
from paperdiary.runs.workflow import draft_paper
from tests.conftest import clean_env, run_cli
from tests.fakes import pdfs
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM, Reply
from tests.fakes.topic_diary import write_topic_diary

TITLE = "Catch-up paper {:02d}"
_TITLE_RE = re.compile(r"Catch-up paper (\d\d)")
DRAFTED_AT = re.compile(r'"drafted": "[^"]*"')


# -- fixtures and helpers -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pdf_set(tmp_path_factory) -> list[bytes]:
    """Three small papers: served under many IDs (text extraction is then cached per PDF)."""
    folder = tmp_path_factory.mktemp("catchup-pdfs")
    return [pdfs.make_paper_pdf(folder / f"{n}.pdf", **pdfs.generate_paper(3, seed=20 + n)).read_bytes()
            for n in range(3)]


@pytest.fixture(scope="session")
def corrupt_pdf(tmp_path_factory) -> bytes:
    return pdfs.make_corrupt_pdf(tmp_path_factory.mktemp("corrupt") / "bad.pdf").read_bytes()


@pytest.fixture
def llm():
    with FakeLLM() as fake:
        fake.script(DraftingModel())
        yield fake


def arxiv_id(n: int) -> str:
    return f"2506.{30000 + n:05d}"


def serve(fake_arxiv, pdf_set: list[bytes], count: int, *, start: int = 0) -> list[str]:
    ids = []
    for n in range(start, start + count):
        fake_arxiv.add_paper(arxiv_id(n), title=TITLE.format(n), pdf_bytes=pdf_set[n % len(pdf_set)])
        ids.append(arxiv_id(n))
    return ids


def write_backlog(folder: Path, ids: list[str], *, dates: bool = True, extra: str = "") -> Path:
    path = folder / "backlog.txt"
    lines = [f"{pid} 2025-06-{1 + n % 3:02d}" if dates else pid for n, pid in enumerate(ids)]
    path.write_text("# my backlog\n" + "\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def settings_for(diary: Path, fake_arxiv, llm=None, **overrides: Any):
    values: dict[str, Any] = {"arxiv_api": fake_arxiv.api_url, "arxiv_delay": 0, "http_timeout": 5,
                              "retry_max_time": 20}
    if llm is not None:
        values |= {"model": "fake-model", "base_url": llm.base_url, "llm_timeout": 5}
    return load_settings(diary, overrides=values | overrides, env={})


def priced(diary: Path, input_usd: float, output_usd: float) -> None:
    """Give the fake model a price (per million tokens): a local endpoint is free otherwise."""
    (diary / "paperdiary.toml").write_text(f'[prices."fake-model"]\ninput = {input_usd}\noutput = {output_usd}\n',
                                            encoding="utf-8")


def catchup(settings, *inputs: Any, **options: Any) -> CatchupReport:
    report = run_catchup(settings, CatchupOptions(inputs=[str(i) for i in inputs], **options))
    assert isinstance(report, CatchupReport)
    return report


def entries(diary: Path) -> dict[str, str]:
    """Entries by path, with the drafting timestamp masked (it is the only thing that may differ)."""
    return {p.relative_to(diary).as_posix(): DRAFTED_AT.sub('"drafted": "-"', p.read_text(encoding="utf-8"))
            for p in sorted((diary / "entries").rglob("*.md"))}


def papers_asked(requests) -> list[int]:
    """The paper numbers the recorded LLM requests were about (from the title in the prompt)."""
    numbers = []
    for request in requests:
        text = "\n".join(str(m.get("content")) for m in (request.json or {}).get("messages", []))
        numbers.extend(int(m) for m in set(_TITLE_RE.findall(text)))
    return numbers


def statuses(report: CatchupReport) -> dict[str, str]:
    return {r.label: r.status for r in report.results}


def env_for(fake_arxiv, llm=None, **extra: str) -> dict[str, str]:
    values = {"PAPERDIARY_ARXIV_API": fake_arxiv.api_url, "PAPERDIARY_ARXIV_DELAY": "0",
              "PAPERDIARY_HTTP_TIMEOUT": "5", "PAPERDIARY_RETRY_MAX_TIME": "20"}
    if llm is not None:
        values |= {"OPENAI_BASE_URL": llm.base_url, "PAPERDIARY_MODEL": "fake-model"}
    return clean_env(**(values | extra))


# -- acceptance: 30 papers with faults, then a rerun ------------------------------------------------------


def test_thirty_papers_with_faults_then_a_rerun_does_nothing(diary, fake_arxiv, llm, pdf_set, corrupt_pdf,
                                                             tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 28)
    fake_arxiv.add_paper(arxiv_id(28), title=TITLE.format(28), pdf_bytes=corrupt_pdf)
    unknown = arxiv_id(99)  # valid form, unknown to arXiv
    backlog = write_backlog(tmp_path, ids[:14] + [arxiv_id(28)] + ids[14:] + [unknown])
    # At most five faults in all, so no single request can exhaust its six tries.
    llm.inject("rate_limit", retry_after=0.2)
    for _ in range(3):
        llm.inject("status", code=500)  # a burst of server errors
    llm.inject("rate_limit", retry_after=0.2)

    report = catchup(settings_for(diary, fake_arxiv, llm), backlog)

    assert report.exit_code == 1
    assert len(report.with_status("drafted")) == 28
    failed = {r.label: r.reason for r in report.with_status("failed")}
    assert set(failed) == {arxiv_id(28), unknown}
    assert "corrupt" in failed[arxiv_id(28)].lower() and unknown in failed[unknown]
    written = entries(diary)
    assert len(written) == 28 and len({text for text in written.values()}) == 28
    for pid in ids:  # every good paper has its own entry
        assert sum(f"abs/{pid})" in text for text in written.values()) == 1
    assert len(fake_arxiv.api_requests) == 1  # metadata for all 30 in one query
    queue = (diary / "LESSONS-QUEUE.md").read_text(encoding="utf-8")
    assert queue.count("- [ ] ") == 2 * 28

    calls, api, pdf_requests = len(llm.completion_requests), len(fake_arxiv.api_requests), len(fake_arxiv.pdf_requests)
    again = catchup(settings_for(diary, fake_arxiv, llm), backlog)
    assert len(llm.completion_requests) == calls  # zero LLM calls
    assert (len(fake_arxiv.api_requests), len(fake_arxiv.pdf_requests)) == (api, pdf_requests)
    assert again.with_status("drafted") == [] and len(again.with_status("skipped")) == 28
    assert {r.label for r in again.with_status("failed")} == {arxiv_id(28), unknown}
    assert all(r.earlier for r in again.with_status("failed")) and again.exit_code == 1
    assert entries(diary) == written and (diary / "LESSONS-QUEUE.md").read_text(encoding="utf-8") == queue


def test_rate_limit_slows_every_worker(diary, fake_arxiv, llm, pdf_set, tmp_path, retry_sleeps) -> None:
    ids = serve(fake_arxiv, pdf_set, 8)
    llm.simulated_latency = 0.05
    llm.inject("rate_limit", retry_after=3)
    catchup(settings_for(diary, fake_arxiv, llm), write_backlog(tmp_path, ids), jobs=4)
    requests = llm.completion_requests
    assert len(requests) == 9 and len(entries(diary)) == 8
    # The worker that met the 429 waits the 3 s asked; every request starting within those 3 s waits at the
    # endpoint's gate for the rest of them (no wait is slept in tests: each is recorded instead). The threads
    # record their waits in any order: a worker at the gate may record its wait before the one that met the 429.
    assert retry_sleeps.count(3.0) == 1
    at_the_gate = [wait for wait in retry_sleeps if wait != 3.0]
    assert at_the_gate and all(0 < wait < 3.0 for wait in at_the_gate)


# -- acceptance: kill -9 mid-run, then resume ------------------------------------------------------------


def _journal_stages(db: Path) -> dict[str, str]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return dict(conn.execute("SELECT paper, stage FROM journal").fetchall())
    except sqlite3.Error:
        return {}


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_diary(tmp_path, fake_arxiv, llm, pdf_set) -> None:
    from paperdiary.diary.home import init_diary

    count = 12
    ids = serve(fake_arxiv, pdf_set, count)
    backlog = write_backlog(tmp_path, ids)  # three dates: entries collide on names and get -2, -3...
    llm.simulated_latency = 0.25
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    init_diary(reference)
    init_diary(crashed)

    catchup(settings_for(reference, fake_arxiv, llm), backlog, jobs=2)
    llm.clear_requests()

    command = [sys.executable, "-m", "paperdiary", "--diary", str(crashed), "catchup", str(backlog), "--jobs", "2"]
    env = env_for(fake_arxiv, llm)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = crashed / ".paperdiary" / "paperdiary.db"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if sum(stage == "done" for stage in _journal_stages(db).values()) >= 3:
                break
            time.sleep(0.02)
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    at_kill = _journal_stages(db)
    finished = {key for key, stage in at_kill.items() if stage in ("drafted", "writing", "written", "done")}
    assert 3 <= len(finished) < count
    before_resume = len(llm.completion_requests)

    resumed = run_cli("--diary", str(crashed), "catchup", str(backlog), "--jobs", "2", env=env)
    assert resumed.returncode == 0, resumed.stderr

    assert entries(crashed) == entries(reference)
    assert (crashed / "LESSONS-QUEUE.md").read_text(encoding="utf-8") == \
        (reference / "LESSONS-QUEUE.md").read_text(encoding="utf-8")
    leftovers = [p for p in crashed.rglob("*") if p.name.endswith(".tmp") and ".paperdiary" not in p.parts]
    assert leftovers == []
    asked_after = set(papers_asked(llm.completion_requests[before_resume:]))
    assert not asked_after & {ids.index(key) for key in finished}  # nothing finished is paid for again
    assert set(_journal_stages(db).values()) == {"done"}


@pytest.mark.slow
def test_ctrl_c_finishes_papers_in_flight_and_fails_none(diary, fake_arxiv, llm, pdf_set, tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 10)
    llm.simulated_latency = 0.3
    command = [sys.executable, "-m", "paperdiary", "--diary", str(diary), "catchup",
               str(write_backlog(tmp_path, ids)), "--jobs", "2"]
    # A new session, signalled as a whole: a terminal's Ctrl-C reaches the extraction workers too.
    process = subprocess.Popen(command, env=env_for(fake_arxiv, llm), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    db = diary / ".paperdiary" / "paperdiary.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and \
            sum(stage == "done" for stage in _journal_stages(db).values()) < 2:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Stopping: finishing the papers in flight" in err and "failed" not in _journal_stages(db).values()
    assert "run `paperdiary catchup` again to continue" in out
    resumed = run_cli("--diary", str(diary), "catchup", env=env_for(fake_arxiv, llm))  # no input: the journal's
    assert resumed.returncode == 0, resumed.stderr
    assert len(entries(diary)) == 10 and set(_journal_stages(db).values()) == {"done"}


# -- plan, inputs, usage ------------------------------------------------------------------------------------


def test_dry_run_plans_and_estimates_without_touching_anything(diary, tmp_path) -> None:
    hand = diary / "entries" / "mine.md"
    hand.write_text(f"# Mine\n[paper](https://arxiv.org/abs/{arxiv_id(1)})\n", encoding="utf-8")
    cached = diary / ".paperdiary" / "cache" / "pdf" / f"{arxiv_id(2)}v1.pdf"
    cached.parent.mkdir(parents=True)
    pdfs.make_paper_pdf(cached, **pdfs.generate_paper(3, seed=5))
    backlog = tmp_path / "b.txt"
    backlog.write_text(f"{arxiv_id(0)} 2025-06-01\n{arxiv_id(1)}\narXiv:{arxiv_id(2)}v1  # cached\n"
                       f"https://arxiv.org/abs/{arxiv_id(0)}\nnonsense\n", encoding="utf-8")
    # Unreachable servers: a dry run must not need them.
    env = clean_env(PAPERDIARY_ARXIV_API="http://127.0.0.1:9/api?{}", OPENAI_BASE_URL="https://llm.invalid/v1",
                    PAPERDIARY_MODEL="gpt-4o-mini")

    result = run_cli("--diary", str(diary), "catchup", str(backlog), "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "already in the diary: entries/mine.md" in out and "listed again (b.txt:1 is kept)" in out
    assert "not a paper identifier" in out and "Plan: 2 to draft, 2 skipped, 1 failed." in out
    assert re.search(r"Estimate: ~[\d,]+ prompt \+ ~[\d,]+ completion tokens, ~\$0\.\d+ with gpt-4o-mini", out)
    assert "1 from the cached PDF's pages" in out and "1 at an average paper's size" in out

    plan = json.loads(run_cli("--diary", str(diary), "catchup", str(backlog), "--dry-run", "--json",
                              env=env).stdout)
    assert [p["paper"] for p in plan["to_draft"]] == [arxiv_id(0), f"{arxiv_id(2)}v1"]
    assert plan["to_draft"][0]["date_read"] == "2025-06-01"
    assert plan["to_draft"][1]["estimate"]["basis"] == "pages" and plan["estimate"]["cost_usd"] > 0
    assert _journal_stages(diary / ".paperdiary" / "paperdiary.db") == {}  # nothing recorded
    assert [p.name for p in (diary / "entries").rglob("*.md")] == ["mine.md"]
    assert not (diary / "LESSONS-QUEUE.md").exists()


def test_inputs_from_stdin_arguments_and_bibtex(diary, fake_arxiv, pdf_set, tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 4)
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{a, title = {A}, eprint = {%s}, archivePrefix = {arXiv}}\n"
        "@misc{b, title = {B}, url = {https://arxiv.org/abs/%s}}\n"
        "@book{c, title = {Not on arXiv}}\n" % (ids[2], ids[3]), encoding="utf-8")
    env = env_for(fake_arxiv)
    result = subprocess.run(
        [sys.executable, "-m", "paperdiary", "--diary", str(diary), "catchup", "-", ids[1], str(bib), "--json"],
        input=f"{ids[0]} 2025-06-11 # from a pipe\n{ids[1]}\n", env=env, capture_output=True, text=True,
        timeout=120,
    )
    outcome = json.loads(result.stdout)
    assert result.returncode == 1  # the BibTeX entry without arXiv is reported as failed
    assert outcome["counts"] == {"drafted": 4, "skipped": 1, "failed": 1, "left": 0, "waiting": 0}
    assert [p for p in outcome["problems"] if p["source"] == "refs.bib: c"]
    drafted = {p["paper"]: p["entry_path"] for p in outcome["papers"] if p["status"] == "drafted"}
    assert set(drafted) == set(ids) and "June 2025/11thJune" in drafted[ids[0]]


def test_nothing_to_do_is_a_usage_error(diary) -> None:
    result = run_cli("--diary", str(diary), "catchup")
    assert result.returncode == 2 and "nothing to catch up on" in result.stderr


def test_cli_progress_report_and_exit_code(diary, fake_arxiv, pdf_set, tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 2)
    backlog = write_backlog(tmp_path, ids + [arxiv_id(99)])
    result = run_cli("--diary", str(diary), "catchup", str(backlog), env=env_for(fake_arxiv))
    assert result.returncode == 1, result.stderr
    assert re.search(rf"✓ drafted {ids[0]} → entries/June 2025/1stJune", result.stderr)
    assert f"✗ failed  {arxiv_id(99)}" in result.stderr
    assert re.search(r"drafted\s+│\s+2", result.stdout) and re.search(r"failed\s+│\s+1", result.stdout)
    assert "arXiv has no paper" in result.stdout and "wall time" in result.stdout
    status = run_cli("--diary", str(diary), "catchup", "--status")
    assert status.returncode == 0 and "Journal: 3 paper(s): 2 done, 1 failed." in status.stdout


# -- failures, retries, budget ---------------------------------------------------------------------------------


class Moody(DraftingModel):
    """Refuses one paper and answers garbage for another (twice: the repair too), until cured."""

    def __init__(self) -> None:
        super().__init__()
        self.cured = False

    def __call__(self, request: dict[str, Any]) -> Any:
        text = request["messages"][-1]["content"]
        if not self.cured and TITLE.format(1) in text:
            return Reply(content=None, refusal="I cannot help with that paper.")
        if not self.cured and (TITLE.format(2) in text or "could not be used" in text):
            return Reply(content="not JSON at all")
        return super().__call__(request)


def test_refusal_and_invalid_answer_fail_alone_and_retry_failed_retries_only_them(
        diary, fake_arxiv, pdf_set, tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 5)
    backlog = write_backlog(tmp_path, ids)
    model = Moody()
    with FakeLLM() as llm:
        llm.script(model)
        settings = settings_for(diary, fake_arxiv, llm)
        report = catchup(settings, backlog)
        failed = {r.label: r.reason for r in report.with_status("failed")}
        assert set(failed) == {ids[1], ids[2]} and len(report.with_status("drafted")) == 3
        assert "refused" in failed[ids[1]] and "could not produce the structure" in failed[ids[2]]

        model.cured = True
        llm.clear_requests()
        retried = catchup(settings, backlog, retry_failed=True)
        assert sorted(papers_asked(llm.completion_requests)) == [1, 2]
        assert {r.label for r in retried.with_status("drafted")} == {ids[1], ids[2]}
        assert retried.exit_code == 0 and len(entries(diary)) == 5


def test_max_cost_stops_new_llm_work_and_says_what_is_left(diary, fake_arxiv, llm, pdf_set, tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 6)
    backlog = write_backlog(tmp_path, ids)
    priced(diary, 2.0, 2.0)
    settings = settings_for(diary, fake_arxiv, llm)
    report = catchup(settings, backlog, max_cost=0.03, jobs=1)
    drafted, left = report.with_status("drafted"), report.with_status("left")
    assert 1 <= len(drafted) < 6 and len(drafted) + len(left) == 6
    assert "--max-cost" in (report.stopped or "") and report.exit_code == 0
    assert report.usage.cost_usd is not None and report.usage.cost_usd <= 0.03
    rest = catchup(settings, backlog)
    assert len(rest.with_status("drafted")) == len(left) and len(entries(diary)) == 6


def test_max_cost_needs_a_known_price(diary, fake_arxiv, tmp_path) -> None:
    settings = load_settings(diary, overrides={"model": "mystery-model"}, env={})
    with pytest.raises(Exception, match="needs a price"):
        run_catchup(settings, CatchupOptions(inputs=["2506.00001"], max_cost=1.0))


def test_offline_drafter_and_local_pdfs(diary, fake_arxiv, pdf_set, tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 2)
    local = tmp_path / "mine.pdf"
    local.write_bytes(pdf_set[2])
    backlog = tmp_path / "b.txt"
    backlog.write_text(f"{ids[0]} 2025-06-01\nmine.pdf 2025-06-02\n{ids[1]}\n", encoding="utf-8")
    report = catchup(settings_for(diary, fake_arxiv), backlog)
    assert [(r.label, r.status) for r in report.results] == \
        [(ids[0], "drafted"), ("mine.pdf", "drafted"), (ids[1], "drafted")]
    texts = entries(diary)
    assert len(texts) == 3 and all("Drafted without an LLM" in text for text in texts.values())
    assert any(path.startswith("entries/June 2025/2ndJune") for path in texts)
    assert catchup(settings_for(diary, fake_arxiv), backlog).with_status("drafted") == []


def test_catchup_links_the_nearest_earlier_entries_like_draft(diary, fake_arxiv, pdf_set, tmp_path) -> None:
    write_topic_diary(diary, 2)
    ids = serve(fake_arxiv, pdf_set, 3)
    report = catchup(settings_for(diary, fake_arxiv), write_backlog(tmp_path, ids[:2]))
    assert [r.status for r in report.results] == ["drafted", "drafted"]
    for result in report.results:
        entry = diary / result.entry_path
        [line] = [line for line in entry.read_text(encoding="utf-8").splitlines() if line.startswith("Related in")]
        links = re.findall(r"\]\(([^)]+)\)", line)
        assert len(links) == 3 and all((entry.parent / unquote(link)).resolve().is_file() for link in links)
    off = catchup(settings_for(diary, fake_arxiv, related_entries=False), ids[2])
    [result] = off.results
    assert result.status == "drafted" and "Related in" not in (diary / result.entry_path).read_text(encoding="utf-8")


# -- finishing order: resume from the journal ------------------------------------------------------------------


def test_saved_draft_is_finished_without_any_llm_call(diary, fake_arxiv, llm, pdf_set, tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 3)
    settings = settings_for(diary, fake_arxiv, llm)
    catchup(settings, write_backlog(tmp_path, ids))
    first = entries(diary)
    with Store(settings.db_path) as store:
        journal = Journal(store)
        rows = journal.rows()
        # As if killed (1) after saving the draft, (2) right after creating the entry, (3) before queuing lessons.
        lost = rows[ids[0]].entry_path
        (diary / lost).unlink()
        row = rows[ids[0]]
        journal.save_draft(ids[0], identify(row.raw), row.meta, row.date_read, draft_json=row.draft_json,
                           drafter=row.drafter)
        journal.writing(ids[1], rows[ids[1]].entry_path)
        journal.written(ids[2], rows[ids[2]].entry_path)
    (diary / "LESSONS-QUEUE.md").unlink()
    llm.clear_requests()

    report = catchup(settings, write_backlog(tmp_path, ids))
    assert llm.completion_requests == [] and statuses(report) == {i: "drafted" for i in ids}
    assert entries(diary) == first  # same paths: no "-2" beside an adopted entry
    assert (diary / "LESSONS-QUEUE.md").read_text(encoding="utf-8").count("- [ ] ") == 6


def test_single_draft_resumes_from_its_saved_draft(diary, fake_arxiv, llm, pdf_set) -> None:
    [paper] = serve(fake_arxiv, pdf_set, 1)
    settings = settings_for(diary, fake_arxiv, llm)
    outcome = draft_paper(settings, paper, date_read=date(2025, 6, 11))
    with Store(settings.db_path) as store:
        journal = Journal(store)
        assert journal.row(paper).stage == Stage.DONE
        journal.writing(paper, outcome.entry_path)  # killed between choosing the path and linking the file
    (diary / outcome.entry_path).unlink()
    requests = len(llm.completion_requests)
    again = draft_paper(settings, paper)
    assert len(llm.completion_requests) == requests and again.entry_path == outcome.entry_path
    assert again.stages["write"]["resumed"] is True
    assert "Date read: 11th June 2025" in (diary / again.entry_path).read_text(encoding="utf-8")  # the saved day


# -- Batch API -----------------------------------------------------------------------------------------------


def test_batch_api_submits_then_a_later_run_collects_at_half_price(diary, fake_arxiv, llm, pdf_set,
                                                                   tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 3)
    backlog = write_backlog(tmp_path, ids)
    priced(diary, 2.0, 4.0)
    settings = settings_for(diary, fake_arxiv, llm)

    first = catchup(settings, backlog, batch_api=True)
    assert statuses(first) == {i: "waiting" for i in ids} and first.exit_code == 0
    assert llm.completion_requests == [] and len(first.batches_submitted) == 1
    upload = next(r for r in llm.requests if r.path == "/v1/files")
    assert upload.headers.get("Content-Type", "").startswith("multipart/form-data")
    batch_create = next(r for r in llm.requests if r.path == "/v1/batches").json
    assert batch_create["completion_window"] == "24h" and batch_create["endpoint"] == "/v1/chat/completions"

    status = catchup_status(settings)
    assert [b["id"] for b in status.batches] == first.batches_submitted
    assert status.batches[0]["status"] == "in_progress" and status.batches[0]["papers"] == sorted(ids)
    shown = run_cli("--diary", str(diary), "catchup", "--status", env=env_for(fake_arxiv, llm))
    assert first.batches_submitted[0] in shown.stdout and "Batches in flight" in shown.stdout

    second = catchup(settings, backlog)  # no flag needed to collect
    assert statuses(second) == {i: "drafted" for i in ids} and llm.completion_requests == []
    assert second.batch is not None and second.batch.answers == 3
    with Store(settings.db_path) as store:
        paid = [c for c in store.llm_calls() if c["status"] == "ok" and c["purpose"] != "window probe"]
        assert len(paid) == 3 and all(c["batch"] == 1 for c in paid)
        for call in paid:  # half the standard price
            assert call["cost_usd"] == pytest.approx((call["prompt_tokens"] * 2 + call["completion_tokens"] * 4)
                                                     / 2 / 1e6)
        assert store.batches(open_only=True) == []
    assert len(entries(diary)) == 3


def test_batch_api_long_paper_takes_two_rounds(diary, fake_arxiv, llm, tmp_path) -> None:
    long_pdf = pdfs.make_paper_pdf(tmp_path / "long.pdf", **pdfs.generate_paper(8, seed=9)).read_bytes()
    fake_arxiv.add_paper(arxiv_id(0), title=TITLE.format(0), pdf_bytes=long_pdf)
    llm.batch_statuses = ["completed"]
    settings = settings_for(diary, fake_arxiv, llm, chunk_tokens=1500)
    backlog = write_backlog(tmp_path, [arxiv_id(0)])

    maps = catchup(settings, backlog, batch_api=True)
    reduce = catchup(settings, backlog, batch_api=True)
    done = catchup(settings, backlog)
    assert [r.status for r in (maps.results + reduce.results + done.results)] == ["waiting", "waiting", "drafted"]
    assert llm.completion_requests == [], [r.json["messages"][-1]["content"][:300] for r in llm.completion_requests]
    with Store(settings.db_path) as store:
        purposes = [c["purpose"] for c in store.llm_calls() if c["batch"]]
    assert purposes.count("reduce") == 1 and purposes.count("map") > 1
    assert "map-reduce over" in next(iter(entries(diary).values()))


def test_batch_answer_that_is_unusable_fails_its_paper(diary, fake_arxiv, pdf_set, tmp_path) -> None:
    ids = serve(fake_arxiv, pdf_set, 2)
    backlog = write_backlog(tmp_path, ids)
    with FakeLLM() as llm:
        model = Moody()
        llm.script(model)
        llm.batch_statuses = ["completed"]
        settings = settings_for(diary, fake_arxiv, llm)
        catchup(settings, backlog, batch_api=True)
        report = catchup(settings, backlog)
        assert statuses(report) == {ids[0]: "drafted", ids[1]: "failed"}
        assert "Batch API" in report.with_status("failed")[0].reason
        model.cured = True
        retried = catchup(settings, backlog, retry_failed=True)
        assert llm.completion_requests and statuses(retried)[ids[1]] == "drafted"


def test_lock_keeps_a_second_run_out(diary, fake_arxiv, tmp_path) -> None:
    import fcntl

    state = diary / ".paperdiary"
    with open(state / "diary.lock", "w") as held:  # as a running catch-up holds it
        held.write("pid 4242\nstarted 2025-06-11T14:02:00\ncommand catchup\n")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(Exception, match="another catchup is running") as refused:
            run_catchup(settings_for(diary, fake_arxiv, lock_wait=0.2), CatchupOptions(inputs=["2506.00001"]))
        assert "PID 4242: paperdiary catchup started 14:02" in str(refused.value)


def test_status_counts_the_journal_by_stage(diary, fake_arxiv) -> None:
    settings = settings_for(diary, fake_arxiv)
    with Store(settings.db_path) as store:
        journal = Journal(store)
        for key in ("2506.00001", "2506.00002", "2506.00003", "2506.00004"):
            journal.queue(key, identify(key), date(2025, 6, 1))
        journal.mark("2506.00001", Stage.DOWNLOADED)
        journal.fail("2506.00002", "the PDF is corrupt")
        journal.mark("2506.00004", Stage.DONE)
    status = catchup_status(settings)
    assert list(status.stages.items()) == [("done", 1), ("failed", 1), ("queued", 1), ("downloaded", 1)]
    assert status.failed == [("2506.00002", "the PDF is corrupt")]
    shown = run_cli("--diary", str(diary), "catchup", "--status", env=env_for(fake_arxiv))
    assert "Journal: 4 paper(s): 1 done, 1 failed, 1 queued, 1 downloaded." in shown.stdout


def test_dry_run_returns_a_plan(diary, fake_arxiv) -> None:
    plan = run_catchup(settings_for(diary, fake_arxiv), CatchupOptions(inputs=["2506.00001"], dry_run=True))
    assert isinstance(plan, Plan) and [j.label for j in plan.jobs] == ["2506.00001"]
    assert fake_arxiv.requests == [] and os.path.exists(diary / ".paperdiary" / "paperdiary.db")


def test_stale_temp_files_of_a_killed_write_are_swept(diary, fake_arxiv) -> None:
    from paperdiary.fsutil import _write_temp

    folder = diary / "entries" / "June 2025"
    stale = [_write_temp(folder / "11thJuneX.md", b"half"), _write_temp(diary / "LESSONS-QUEUE.md", b"half")]
    mine = diary / ".mynotes.abcdefgh.tmp"  # looks alike, but is not one of ours
    mine.write_text("keep", encoding="utf-8")
    for path in (*stale, mine):
        os.utime(path, (time.time() - 60, time.time() - 60))
    run_catchup(settings_for(diary, fake_arxiv), CatchupOptions(inputs=["2506.00001"]))  # unknown: fails alone
    assert [p.exists() for p in stale] == [False, False] and mine.exists()
