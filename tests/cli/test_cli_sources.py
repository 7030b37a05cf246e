"""`paperdiary draft` reads arXiv's own sources first: the real CLI against the arXiv look-alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import arxiv_env, run_cli
from tests.fakes import pdfs
from tests.fakes import sources as fake_sources

ARXIV_ID = "2506.01939"


def hidden_comment(diary: Path) -> dict:
    [entry] = sorted((diary / "entries").rglob("*.md"))
    match = re.search(r"<!-- paperdiary: (\{.*\}) -->", entry.read_text(encoding="utf-8"))
    assert match, entry
    return json.loads(match.group(1))


def test_an_entry_drafted_from_the_latex_source_says_so(diary, fake_arxiv, tmp_path) -> None:
    pdf = pdfs.make_paper_pdf(tmp_path / "p.pdf", **pdfs.generate_paper(2, seed=1)).read_bytes()
    fake_arxiv.add_paper(ARXIV_ID, title=fake_sources.TITLE, pdf_bytes=pdf, eprint_bytes=fake_sources.paper_tarball())
    result = run_cli("draft", ARXIV_ID, "--verbose", "--json", env=arxiv_env(fake_arxiv), cwd=diary)
    assert result.returncode == 0, result.stderr
    assert hidden_comment(diary)["source"] == "tex"
    assert fake_arxiv.pdf_requests == [] and len(fake_arxiv.eprint_requests) == 1
    fetch = json.loads(result.stdout)["stages"]["fetch"]
    assert (fetch["source"], fetch["passed_over"]) == ("tex", [])
    [entry] = sorted((diary / "entries").rglob("*.md"))
    assert "SparseRouter" in entry.read_text(encoding="utf-8")  # drafted from the LaTeX's text


def test_a_broken_tarball_falls_back_to_html_then_pdf_and_verbose_says_why(diary, fake_arxiv, tmp_path) -> None:
    pdf = pdfs.make_paper_pdf(tmp_path / "p.pdf", **pdfs.generate_paper(2, seed=1)).read_bytes()
    fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=pdf, eprint_bytes=fake_sources.broken_tarball(),
                         html=fake_sources.STUB_HTML)
    result = run_cli("draft", ARXIV_ID, "--verbose", env=arxiv_env(fake_arxiv), cwd=diary)
    assert result.returncode == 0, result.stderr
    stderr = " ".join(result.stderr.split())  # the console wraps long lines
    fetch_line = stderr[stderr.index("Fetching") : stderr.index("Extracting")]
    assert "source: pdf" in fetch_line
    assert "no tex: the e-print's gzip data is truncated" in fetch_line
    assert "no html: arXiv could not render this paper as HTML" in fetch_line
    assert hidden_comment(diary)["source"] == "pdf"
    assert [len(r) for r in (fake_arxiv.eprint_requests, fake_arxiv.html_requests, fake_arxiv.pdf_requests)] == [1, 1, 1]
