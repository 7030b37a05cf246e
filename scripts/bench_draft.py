"""Benchmark the drafting pipeline against local servers: generated papers of 5, 20 and 60 pages.

Runs the real pipeline (arxiv client, PDF download, pypdf extraction, chunking, the
openai client) against the arXiv look-alike and the OpenAI-compatible test server,
with a simulated LLM latency. Prints, per paper: LLM calls, prompt and completion
tokens, and wall time per stage; and checks that a paper fitting the token budget
takes exactly one drafting call.

Usage: python scripts/bench_draft.py [--latency 0.5] [--chunk-tokens 12000] [--pages 5 20 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperdiary.diary.home import init_diary  # noqa: E402
from paperdiary.settings import load_settings  # noqa: E402
from paperdiary.runs.workflow import draft_paper  # noqa: E402
from tests.fakes import pdfs  # noqa: E402
from tests.fakes.arxiv_server import FakeArxiv  # noqa: E402
from tests.fakes.llm_answers import DraftingModel  # noqa: E402
from tests.fakes.llm_server import FakeLLM  # noqa: E402

STAGES = ("fetch", "extract", "chunk", "draft", "write")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.5, help="simulated seconds per LLM call")
    parser.add_argument("--chunk-tokens", type=int, default=12000)
    parser.add_argument("--jobs", type=int, default=4, help="concurrent map calls")
    parser.add_argument("--pages", type=int, nargs="+", default=[5, 20, 60])
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-draft-"))
    print(f"LLM latency {args.latency} s, chunk budget {args.chunk_tokens} tokens, {args.jobs} concurrent calls")
    header = f"{'pages':>5} {'body tok':>8} {'chunks':>6} {'calls':>5} {'prompt':>8} {'compl':>6} " + \
        " ".join(f"{s:>8}" for s in STAGES) + f" {'total':>7}  path"
    failures = []
    with FakeArxiv() as arxiv, FakeLLM() as llm:
        llm.script(DraftingModel())
        llm.simulated_latency = args.latency
        for n, pages in enumerate(args.pages):
            arxiv_id = f"2506.{10000 + n:05d}"
            pdf = pdfs.make_paper_pdf(work / f"{pages}.pdf", **pdfs.generate_paper(pages, seed=pages))
            arxiv.add_paper(arxiv_id, pdf_bytes=pdf.read_bytes(), title=f"A {pages}-page paper")
            diary = work / f"diary-{pages}"
            init_diary(diary)
            settings = load_settings(diary, env={}, overrides={
                "arxiv_api": arxiv.api_url, "arxiv_delay": 0, "model": "fake-model", "base_url": llm.base_url,
                "chunk_tokens": args.chunk_tokens, "llm_concurrency": args.jobs})
            before = len(llm.completion_requests)
            start = time.perf_counter()
            outcome = draft_paper(settings, arxiv_id)
            total = time.perf_counter() - start
            calls = len(llm.completion_requests) - before
            chunks = outcome.stages["chunk"]["chunks"]
            if n == 0:
                print(header)
            times = " ".join(f"{outcome.stages[s]['seconds']:>7.2f}s" for s in STAGES)
            print(f"{pdfs.page_count(pdf):>5} {outcome.stages['chunk']['tokens']:>8} {chunks:>6} {calls:>5} "
                  f"{outcome.usage.prompt_tokens:>8} {outcome.usage.completion_tokens:>6} {times} {total:>6.2f}s  "
                  f"{outcome.stages['draft']['notes']['path']}")
            if chunks == 1 and calls != 1:
                failures.append(f"{pages} pages fit the budget but took {calls} calls")
    for failure in failures:
        print("FAIL:", failure)
    print("A paper that fits the budget takes exactly one drafting call:", "yes" if not failures else "NO")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
