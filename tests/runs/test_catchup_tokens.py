"""`paperdiary catchup` on a terminal shows the model's answer arriving, as `draft` does: a token count
beside the draft bar that grows while the look-alike streams slowly."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import clean_env
from tests.fakes import pdfs
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def slow_llm():
    with FakeLLM() as fake:
        fake.script(DraftingModel())
        fake.stream_interval = 0.01  # a local model writing its answer piece by piece
        yield fake


def test_the_draft_bar_counts_tokens_as_they_stream(diary: Path, tmp_path: Path, fake_arxiv, slow_llm) -> None:
    pdf = pdfs.make_paper_pdf(tmp_path / "short.pdf", **pdfs.generate_paper(3, seed=41)).read_bytes()
    ids = ["2506.41001", "2506.41002"]
    for arxiv_id in ids:
        fake_arxiv.add_paper(arxiv_id, title=f"Streamed paper {arxiv_id}", pdf_bytes=pdf)
    backlog = tmp_path / "backlog.txt"
    backlog.write_text("".join(f"{arxiv_id} 2025-06-11\n" for arxiv_id in ids), encoding="utf-8")
    env = clean_env(PAPERDIARY_ARXIV_API=fake_arxiv.api_url, PAPERDIARY_ARXIV_DELAY="0", TERM="xterm", NO_COLOR="1",
                    OPENAI_BASE_URL=slow_llm.base_url, PAPERDIARY_MODEL="fake-model")
    child = pexpect.spawn(sys.executable, ["-m", "paperdiary", "--diary", str(diary), "catchup", str(backlog)],
                          env=env, encoding="utf-8", codec_errors="replace", timeout=120, dimensions=(40, 160))
    child.logfile_read = transcript = io.StringIO()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, transcript.getvalue()

    counts = [int(m[1].replace(",", "")) for m in re.finditer(r"^draft\s.*?([\d,]+) tokens",
                                                              _ANSI.sub("", transcript.getvalue()), re.M)]
    assert counts and counts[-1] > 0, transcript.getvalue()
    assert len(set(counts)) > 1 and counts == sorted(counts)  # redrawn as pieces arrive, never going back
