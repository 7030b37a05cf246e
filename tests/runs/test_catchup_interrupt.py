"""Ctrl-C in `paperdiary catchup`, through a real pseudo-terminal: one note per press, bars that show what
was done, and no "Stopped early" when the stop stopped nothing.

The LLM look-alike holds every drafting request until the test lets it go, so the Ctrl-C always lands
while papers are in flight; a long paper keeps an extraction worker (a forked process, which the
terminal's Ctrl-C reaches too) busy at that moment.
"""

from __future__ import annotations

import io
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.conftest import clean_env
from tests.fakes import pdfs
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM

NOTE = "Stopping: finishing the papers in flight"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class HeldModel(DraftingModel):
    """Answers as DraftingModel does, once the test lets go; ``arrived`` counts the requests waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Semaphore(0)
        self.release = threading.Event()
        self.base_url = ""  # the server's, once it runs

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.arrived.release()
        self.release.wait(120)
        return super().__call__(request)


@pytest.fixture(scope="module")
def papers(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("interrupt-pdfs")
    return {
        "short": pdfs.make_paper_pdf(folder / "short.pdf", **pdfs.generate_paper(3, seed=31)).read_bytes(),
        # Seconds of extraction: its worker process is alive when the Ctrl-C comes.
        "long": pdfs.make_paper_pdf(folder / "long.pdf", **pdfs.generate_paper(400, seed=32)).read_bytes(),
    }


@pytest.fixture
def held():
    model = HeldModel()
    with FakeLLM() as fake:
        fake.script(model)
        model.base_url = fake.base_url
        yield model
    model.release.set()


def start(diary: Path, tmp_path: Path, fake_arxiv, model: HeldModel, sizes: list[str],
          papers: dict[str, bytes]) -> tuple[pexpect.spawn, io.StringIO]:
    ids = [f"2506.{40000 + n}" for n in range(len(sizes))]
    for arxiv_id, size in zip(ids, sizes, strict=False):
        fake_arxiv.add_paper(arxiv_id, title=f"Interrupted paper {arxiv_id}", pdf_bytes=papers[size])
    backlog = tmp_path / "backlog.txt"
    backlog.write_text("".join(f"{arxiv_id} 2025-06-11\n" for arxiv_id in ids), encoding="utf-8")
    env = clean_env(PAPERDIARY_ARXIV_API=fake_arxiv.api_url, PAPERDIARY_ARXIV_DELAY="0", PAPERDIARY_HTTP_TIMEOUT="10",
                    OPENAI_BASE_URL=model.base_url, PAPERDIARY_MODEL="fake-model", PAPERDIARY_LLM_TIMEOUT="120",
                    TERM="xterm", NO_COLOR="1")
    child = pexpect.spawn(sys.executable, ["-m", "paperdiary", "--diary", str(diary), "catchup", str(backlog),
                                           "--jobs", "2"], env=env, encoding="utf-8", codec_errors="replace", timeout=120,
                          dimensions=(40, 160))
    child.logfile_read = transcript = io.StringIO()
    return child, transcript


def drain_until(child: pexpect.spawn, done: Any, what: str, timeout: float = 120) -> None:
    """Read the terminal until ``done()``: a terminal nobody reads fills up, and then the run's next write to it
    (a bar's redraw, under the console's lock) blocks every thread that reports progress."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what}: {final_bars(child.logfile_read.getvalue())}"
        try:
            child.read_nonblocking(size=65536, timeout=0.05)
        except pexpect.TIMEOUT:
            pass


def wait_for_requests(child: pexpect.spawn, model: HeldModel, count: int) -> None:
    arrived = [0]

    def all_arrived() -> bool:
        while arrived[0] < count and model.arrived.acquire(blocking=False):
            arrived[0] += 1
        return arrived[0] == count

    drain_until(child, all_arrived, "the drafting requests never arrived")


def worker_processes(pid: int) -> list[int]:
    """The processes the run started (extraction workers) and theirs, from /proc."""
    children: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []  # the process ended meanwhile
    for task in tasks:
        try:
            children += [int(n) for n in (task / "children").read_text().split()]
        except OSError:
            continue  # a thread that ended meanwhile
    return children + [grandchild for child in children for grandchild in worker_processes(child)]


def final_bars(transcript: str) -> dict[str, tuple[int, int]]:
    """Each stage bar's last "done/total" as drawn on the terminal."""
    bars: dict[str, tuple[int, int]] = {}
    for row in re.split(r"[\r\n]+", _ANSI.sub("", transcript)):
        if m := re.match(r"(metadata|download|extract|draft|write)\s.*?(\d+)/(\d+)", row.strip()):
            bars[m[1]] = (int(m[2]), int(m[3]))
    return bars


def entries(diary: Path) -> list[Path]:
    return sorted((diary / "entries").rglob("*.md"))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see the extraction worker")
@pytest.mark.slow
def test_one_note_per_press_and_bars_that_show_what_was_done(diary, tmp_path, fake_arxiv, held, papers) -> None:
    child, transcript = start(diary, tmp_path, fake_arxiv, held, ["short", "short", "long"], papers)
    wait_for_requests(child, held, 2)  # both short papers are being drafted; the long one is being extracted
    drain_until(child, lambda: bool(worker_processes(child.pid)), "the long paper's extraction worker never showed up",
                timeout=60)

    child.sendintr()  # Ctrl-C, to the whole foreground process group: the worker gets it too
    child.expect_exact(NOTE)
    held.release.set()
    child.expect(pexpect.EOF)
    child.close()

    out = transcript.getvalue()
    assert out.count(NOTE) == 1, out  # once per press, not once per process that received it
    assert child.exitstatus == 130 and "Stopped early" in out  # the long paper was left for the next run
    assert len(entries(diary)) == 2
    bars = final_bars(out)
    assert bars["draft"] == (2, 3) and bars["write"] == (2, 3), bars  # what was done, not full


def test_a_stop_that_stopped_nothing_is_not_stopped_early(diary, tmp_path, fake_arxiv, held, papers) -> None:
    child, transcript = start(diary, tmp_path, fake_arxiv, held, ["short", "short"], papers)
    wait_for_requests(child, held, 2)  # every paper of the backlog is in flight
    child.sendintr()
    child.expect_exact(NOTE)
    held.release.set()
    child.expect(pexpect.EOF)
    child.close()

    out = transcript.getvalue()
    assert out.count(NOTE) == 1
    assert "Stopped early" not in out and "left" not in _ANSI.sub("", out).split("Catch-up")[-1], out
    assert child.exitstatus == 0 and len(entries(diary)) == 2  # all drafted: the run is complete
    assert final_bars(out)["write"] == (2, 2)
