"""Benchmark catch-up's pipelining: does a run take as long as its slowest stage, not the sum of all?

Runs the real catch-up (arxiv client, PDF downloads, pypdf extraction in worker
processes, chunking, the openai client, entry writing) on N generated papers
against the arXiv look-alike and the OpenAI-compatible test server, which answers
each completion after LATENCY seconds; JOBS drafting workers.

Each stage's busy time is the sum of its per-paper work; the ideal wall time is
the slowest stage's busy time divided by how many workers it has. Prints the wall
time, the ideal, their ratio and the arXiv API requests made, and exits non-zero
when the ratio is above 1.25 or metadata took more than ceil(N/100) API requests.

The arXiv look-alike runs with arxiv_delay 0: the polite pacing (one request per
3 s, arXiv's terms) is for the real arXiv, where downloads would then be the
slowest stage. A few distinct PDFs are served under N IDs with N titles, so every
paper makes its own LLM requests (extraction results are cached per PDF). Both
servers run in a process of their own, as real ones would: in the benchmark's
process they would compete with the pipeline for its interpreter lock.

The wall time is the catch-up run's, in a process that has already imported the
pipeline's modules and loaded the tokenizer: that start-up (about a second,
mostly ``import openai``) is paid once per process whatever the backlog's size,
has nothing to overlap with, and is printed on a line of its own.

Usage: python scripts/bench_catchup.py [N] [LATENCY] [JOBS]    (default 50 0.5 4)
"""

from __future__ import annotations

import argparse
import importlib
import math
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperdiary.runs.catchup import CatchupOptions, CatchupReport, run_catchup  # noqa: E402
from paperdiary.diary.home import init_diary  # noqa: E402
from paperdiary.settings import load_settings  # noqa: E402
from tests.fakes import pdfs  # noqa: E402
from tests.fakes.arxiv_server import FakeArxiv  # noqa: E402
from tests.fakes.llm_answers import DraftingModel  # noqa: E402
from tests.fakes.llm_server import FakeLLM  # noqa: E402

MAX_RATIO = 1.25
DISTINCT_PDFS = 3


def serve(conn: Any, ids: list[str], papers: list[bytes], latency: float) -> None:
    """Child process: run both servers until told to stop, then report the requests they saw."""
    with FakeArxiv() as arxiv, FakeLLM() as llm:
        llm.script(DraftingModel())
        llm.simulated_latency = latency
        for n, arxiv_id in enumerate(ids):
            arxiv.add_paper(arxiv_id, title=f"Benchmark paper number {n}", pdf_bytes=papers[n % len(papers)])
        conn.send((arxiv.api_url, llm.base_url))
        conn.recv()  # "stop"
        conn.send((len(arxiv.api_requests), len(arxiv.pdf_requests), len(llm.completion_requests)))


def start_up() -> float:
    """Seconds to import the modules a run needs and load the tokenizer (a one-off per process)."""
    start = time.perf_counter()
    # Imported for their cost: openai, pydantic models and templates; pypdf; arxiv and requests.
    for module in ("paperdiary.stages.drafting.llm", "paperdiary.stages.extract", "paperdiary.stages.fetch"):
        importlib.import_module(module)
    from paperdiary.llm.tokens import count_tokens

    count_tokens("start-up")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=50, help="papers in the backlog")
    parser.add_argument("latency", type=float, nargs="?", default=0.5, help="simulated seconds per LLM call")
    parser.add_argument("jobs", type=int, nargs="?", default=4, help="drafting workers (--jobs)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-catchup-"))
    papers = [pdfs.make_paper_pdf(work / f"{n}.pdf", **pdfs.generate_paper(5, seed=n)).read_bytes()
              for n in range(DISTINCT_PDFS)]
    ids = [f"2506.{20000 + n:05d}" for n in range(args.n)]
    backlog = work / "backlog.txt"
    backlog.write_text("".join(f"{arxiv_id} 2025-06-{1 + n % 28:02d}\n" for n, arxiv_id in enumerate(ids)))

    conn, child_conn = multiprocessing.Pipe()
    servers = multiprocessing.get_context("fork").Process(
        target=serve, args=(child_conn, ids, papers, args.latency), daemon=True)
    servers.start()
    try:
        api_url, llm_url = conn.recv()
        diary = work / "diary"
        init_diary(diary)
        settings = load_settings(diary, env={}, overrides={
            "arxiv_api": api_url, "arxiv_delay": 0, "model": "fake-model", "base_url": llm_url})
        warm = start_up()
        report = run_catchup(settings, CatchupOptions(inputs=[str(backlog)], jobs=args.jobs))
        assert isinstance(report, CatchupReport)
        conn.send("stop")
        api_requests, pdf_requests, calls = conn.recv()
    finally:
        servers.kill()
        servers.join(5)

    drafted = len(report.with_status("drafted"))
    stage, ideal = max(((s, report.busy_s[s] / report.workers[s]) for s in report.busy_s), key=lambda x: x[1])
    ratio = report.wall_s / ideal if ideal else float("inf")
    allowed_api = math.ceil(args.n / 100)

    print(f"{args.n} papers, {args.latency} s LLM latency, {args.jobs} jobs: {drafted} drafted, {calls} LLM calls")
    print("stage      busy (s)  workers  busy/workers (s)")
    for name, busy in report.busy_s.items():
        print(f"{name:<9} {busy:>9.2f} {report.workers[name]:>8} {busy / report.workers[name]:>17.2f}")
    print(f"start-up           {warm:.2f} s (imports and tokenizer, once per process; not in the wall time)")
    print(f"wall time          {report.wall_s:.2f} s")
    print(f"ideal              {ideal:.2f} s (slowest stage: {stage})")
    print(f"ratio              {ratio:.3f} (at most {MAX_RATIO})")
    print(f"arXiv API requests {api_requests} (at most ceil(N/100) = {allowed_api}); PDF downloads "
          f"{pdf_requests}")
    failures = []
    if drafted != args.n:
        failures.append(f"only {drafted} of {args.n} papers drafted")
    if ratio > MAX_RATIO:
        failures.append(f"ratio {ratio:.3f} > {MAX_RATIO}")
    if api_requests > allowed_api:
        failures.append(f"{api_requests} arXiv API requests > {allowed_api}")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
