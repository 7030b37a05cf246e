"""Several processes on one diary: kill -9 mid-extraction, racing drafts, migrations, apply against index.

Real CLI subprocesses against the arXiv look-alike; processes are watched through
/proc (children of a run, every process that carries a run's marker), never by
sleeping a fixed time.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from paperdiary.diary.index import update_index
from paperdiary.diary.review import Review
from paperdiary.settings import load_settings
from paperdiary.state.lock import diary_lock
from paperdiary.state.migrations import MIGRATIONS
from tests.conftest import clean_env, run_cli
from tests.diary.test_review import README as REVIEW_README
from tests.diary.test_review import TACTILE, ids, make_diary
from tests.fakes import pdfs

PROC = Path("/proc")
pytestmark = pytest.mark.skipif(not (PROC / "self" / "task").is_dir(), reason="needs Linux /proc")


def env_for(fake_arxiv, **extra: str) -> dict[str, str]:
    return clean_env(PAPERDIARY_ARXIV_API=fake_arxiv.api_url, PAPERDIARY_ARXIV_DELAY="0",
                     PAPERDIARY_HTTP_TIMEOUT="5", PAPERDIARY_RETRY_MAX_TIME="20", **extra)


def children(pid: int) -> set[int]:
    """The processes ``pid`` forked (any of its threads) that are still running."""
    found: set[int] = set()
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found.update(int(n) for n in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def processes_with(marker: str) -> set[int]:
    """Live (not zombie) processes whose environment holds ``marker``: a run and everything it forked."""
    found = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            found.add(int(entry.name))
    return found


def wait_until(condition, timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def journal(db: Path) -> dict[str, str]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return dict(conn.execute("SELECT paper, stage FROM journal").fetchall())
    except sqlite3.Error:
        return {}


def entry_files(diary: Path) -> list[Path]:
    return sorted((diary / "entries").rglob("*.md"))


# -- kill -9 while extraction workers run -----------------------------------------------------------------


@pytest.fixture(scope="session")
def heavy_pdfs(tmp_path_factory) -> list[bytes]:
    """Sixteen PDFs whose extracted text outgrows a pipe's buffer (64 KiB): a worker writing it to a parent
    that is gone blocks, unless it dies with its parent. One paper, each copy with a different comment
    after its end, so that none is served from another's extraction cache."""
    data = pdfs.make_paper_pdf(tmp_path_factory.mktemp("heavy-pdf") / "p.pdf",
                               **pdfs.generate_paper(18, seed=100)).read_bytes()
    return [data + f"% copy {n}\n".encode() for n in range(16)]


@pytest.mark.slow
def test_kill_9_mid_extraction_leaves_no_process_and_an_immediate_resume_finishes(diary, fake_arxiv, heavy_pdfs,
                                                                                   tmp_path) -> None:
    ids = [f"2507.{40000 + n:05d}" for n in range(16)]
    for arxiv_id, data in zip(ids, heavy_pdfs, strict=False):
        fake_arxiv.add_paper(arxiv_id, title=f"Heavy paper {arxiv_id}", pdf_bytes=data)
    backlog = tmp_path / "backlog.txt"
    backlog.write_text("\n".join(f"{i} 2025-06-11" for i in ids) + "\n", encoding="utf-8")
    marker = f"PAPERDIARY_TEST_RUN={uuid.uuid4().hex}"
    env = env_for(fake_arxiv, PAPERDIARY_TEST_RUN=marker.partition("=")[2])

    run = subprocess.Popen([sys.executable, "-m", "paperdiary", "--diary", str(diary), "catchup", str(backlog)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: bool(children(run.pid)) or run.poll() is not None, 60)
        assert run.poll() is None and children(run.pid), "no extraction worker seen before the run ended"
        run.kill()  # SIGKILL, while extraction workers exist
        run.wait(10)
    finally:
        if run.poll() is None:
            run.kill()

    assert wait_until(lambda: not processes_with(marker), 10), f"left behind: {processes_with(marker)}"
    resumed = run_cli("--diary", str(diary), "catchup", env=env_for(fake_arxiv), timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert set(journal(diary / ".paperdiary" / "paperdiary.db").values()) == {"done"}
    assert len(journal(diary / ".paperdiary" / "paperdiary.db")) == 16 and len(entry_files(diary)) == 16


# -- one paper, two writers ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def paper_pdf(tmp_path_factory) -> bytes:
    return pdfs.make_paper_pdf(tmp_path_factory.mktemp("paper") / "p.pdf", **pdfs.generate_paper(2, seed=7)).read_bytes()


def test_two_drafts_of_one_paper_at_once_write_one_entry(diary, fake_arxiv, paper_pdf) -> None:
    fake_arxiv.add_paper("2506.01939", title="Beyond the 80/20 Rule", pdf_bytes=paper_pdf)
    env = env_for(fake_arxiv, PAPERDIARY_LOCK_WAIT="120")
    command = [sys.executable, "-m", "paperdiary", "--diary", str(diary), "draft", "2506.01939"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(out.split(" ")[0] for out, _ in outputs)
    assert said == ["Already", "Drafted"], outputs
    assert len(entry_files(diary)) == 1


def test_catchup_and_a_draft_of_one_of_its_papers_write_one_entry(diary, fake_arxiv, paper_pdf, tmp_path) -> None:
    ids = [f"2506.0{n}001" for n in range(1, 4)]
    for arxiv_id in ids:
        fake_arxiv.add_paper(arxiv_id, title=f"Paper {arxiv_id}", pdf_bytes=paper_pdf)
    backlog = tmp_path / "backlog.txt"
    backlog.write_text("\n".join(ids) + "\n", encoding="utf-8")
    env = env_for(fake_arxiv, PAPERDIARY_LOCK_WAIT="120")
    base = [sys.executable, "-m", "paperdiary", "--diary", str(diary)]
    runs = [subprocess.Popen(base + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for args in (["catchup", str(backlog)], ["draft", ids[1]])]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    names = [p.read_text(encoding="utf-8") for p in entry_files(diary)]
    assert len(names) == 3 and sum(f"abs/{ids[1]}" in text for text in names) == 1


def test_a_second_writer_says_it_waits_then_names_the_holder(diary) -> None:
    settings = load_settings(diary, env={})
    with diary_lock(settings, "catchup"):
        refused = run_cli("--diary", str(diary), "draft", "2506.01939", env=clean_env(PAPERDIARY_LOCK_WAIT="0.3"))
        readers = [run_cli("--diary", str(diary), *args) for args in (["costs"], ["review", "list"], ["index"])]
    lines = refused.stderr.splitlines()
    assert refused.returncode == 1 and len(lines) == 2, refused.stderr
    assert re.fullmatch(r"waiting for the diary lock held by PID \d+: paperdiary catchup started \d\d:\d\d…", lines[0])
    assert lines[1].startswith("error: another catchup is running in ") and "Traceback" not in refused.stderr
    assert [r.returncode for r in readers] == [0, 0, 0], [r.stderr for r in readers]  # readers never wait


# -- two processes opening a new store -------------------------------------------------------------------------

_OPEN_STORE = "import sys; from pathlib import Path; from paperdiary.state.store import Store; Store(Path(sys.argv[1])).close()"


def test_two_processes_migrating_a_fresh_store_apply_each_migration_once(tmp_path: Path) -> None:
    for n in range(20):
        db = tmp_path / f"store-{n}" / "paperdiary.db"
        runs = [subprocess.Popen([sys.executable, "-c", _OPEN_STORE, str(db)], stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        errors = [run.communicate(timeout=60)[1] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], errors
        with sqlite3.connect(db) as conn:
            names = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert names == [name for name, _ in MIGRATIONS]


# -- review apply racing index --write ---------------------------------------------------------------------------


def _race_apply_and_index(root: Path) -> str:
    """One accepted lesson applied while ``index --write`` runs: the README both leave."""
    root.mkdir()
    settings = make_diary(root, REVIEW_README)
    with Review(settings) as review:
        review.accept([ids(settings)[TACTILE]])
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def race(work) -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    def apply() -> None:
        with Review(settings) as review:
            review.apply()

    threads = [threading.Thread(target=race, args=(work,)) for work in (apply, lambda: update_index(settings))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    return (root / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_review_apply_and_index_write_racing_lose_nothing(tmp_path: Path) -> None:
    for n in range(50):
        readme = _race_apply_and_index(tmp_path / f"diary-{n}")
        assert "Tactile fingertips" in readme and "## Full Diary" in readme and "### June 2025" in readme, n
