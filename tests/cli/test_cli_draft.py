"""`paperdiary draft` end to end: the real CLI, the real arxiv client and downloader, the
arXiv look-alike on 127.0.0.1, generated PDFs, and an offline drafter."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import SHARED_PAPERS, arxiv_env, run_cli
from tests.fakes import pdfs
from tests.fakes.topic_diary import write_topic_diary

ARXIV_ID = "2506.01939"


@pytest.fixture(scope="session")
def paper_pdf(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("pdf") / "paper.pdf"
    pdfs.make_paper_pdf(path, **pdfs.generate_paper(5, seed=3))
    return path.read_bytes()


@pytest.fixture
def served(fake_arxiv, paper_pdf):
    fake_arxiv.add_paper(ARXIV_ID, version=2, title="Sparse Routing Improves Reasoning", pdf_bytes=paper_pdf,
                         authors=["Ada Lovelace", "Alan Turing"], abstract="We propose sparse routing.")
    return fake_arxiv


def env_for(fake, **extra: str) -> dict[str, str]:
    return arxiv_env(fake, retry_max_time="15", **extra)


def entries_in(diary: Path) -> list[Path]:
    return sorted((diary / "entries").rglob("*.md"))


def assert_clean_failure(result, code: int = 1) -> str:
    """Exit code, no traceback, and one error line (after the stage lines) naming the problem."""
    assert result.returncode == code, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


def test_draft_writes_entry_and_queues_lessons(diary, served) -> None:
    result = run_cli("draft", f"https://arxiv.org/abs/{ARXIV_ID}", "--date", "2025-06-11", env=env_for(served),
                     cwd=diary)
    assert result.returncode == 0, result.stderr
    [entry] = entries_in(diary)
    assert entry.parent.name == "June 2025" and entry.name.startswith("11thJune")
    text = entry.read_text(encoding="utf-8")
    assert text.startswith("# Sparse Routing Improves Reasoning\n")
    assert "Date read: 11th June 2025" in text
    assert f"[arXiv link](https://arxiv.org/abs/{ARXIV_ID})" in text
    key_points = text.split("## Key Points", 1)[1].split("## Key Methods", 1)[0]
    assert len(re.findall(r"^- .*\*\*.+\*\*", key_points, re.M)) >= 3
    assert '"version": 2' in text and '"drafter": "offline"' in text
    assert "Drafted without an LLM" in text
    queue = (diary / "LESSONS-QUEUE.md").read_text(encoding="utf-8")
    assert queue.count("- [ ] ") >= 1 and "June%202025/11thJune" in queue
    assert "Drafted entries/June 2025/11thJune" in result.stdout and "drafted offline" in result.stdout
    # Feedback: a line per stage on stderr.
    for stage in ("Fetching", "Extracting", "Drafting", "Writing"):
        assert stage in result.stderr
    # The arXiv look-alike saw our User-Agent and exactly one API and one PDF request.
    assert len(served.api_requests) == 1 and len(served.pdf_requests) == 1
    assert "paperdiary" in served.api_requests[0].user_agent


def test_second_draft_leaves_entry_untouched_and_force_writes_beside(diary, served) -> None:
    env = env_for(served)
    assert run_cli("draft", ARXIV_ID, "--date", "2025-06-11", env=env, cwd=diary).returncode == 0
    [entry] = entries_in(diary)
    entry.write_text(entry.read_text(encoding="utf-8") + "\nMy own thoughts.\n", encoding="utf-8")
    before = entry.read_bytes()
    requests_before = len(served.requests)

    again = run_cli("draft", f"arXiv:{ARXIV_ID}v2", env=env, cwd=diary)
    assert again.returncode == 0 and "Already in the diary" in again.stdout and entry.name in again.stdout
    assert entry.read_bytes() == before
    assert len(served.requests) == requests_before  # no network: the diary already had it

    forced = run_cli("draft", ARXIV_ID, "--date", "2025-06-11", "--force", env=env, cwd=diary)
    assert forced.returncode == 0, forced.stderr
    assert entry.read_bytes() == before
    assert {p.name for p in entries_in(diary)} == {entry.name, entry.stem + "-2.md"}
    assert len(served.pdf_requests) == 1  # the cached PDF was reused


def test_hand_written_entry_anywhere_is_recognised(diary, served) -> None:
    hand = diary / "June 2025" / "4thJuneSparseRouting.md"
    hand.parent.mkdir()
    hand.write_text(f"# Sparse routing\n[paper](https://arxiv.org/pdf/{ARXIV_ID}v1.pdf)\n", encoding="utf-8")
    result = run_cli("draft", ARXIV_ID, env=env_for(served), cwd=diary)
    assert result.returncode == 0
    assert "June 2025/4thJuneSparseRouting.md" in result.stdout
    assert entries_in(diary) == [] and served.requests == []


def test_json_outcome(diary, served) -> None:
    result = run_cli("--diary", str(diary), "draft", ARXIV_ID, "--json", env=env_for(served))
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["arxiv_id"] == ARXIV_ID and outcome["version"] == 2
    assert outcome["title"] == "Sparse Routing Improves Reasoning"
    assert outcome["entry_path"].startswith("entries/") and (diary / outcome["entry_path"]).is_file()
    assert outcome["description"] and "\n" not in outcome["description"]
    assert outcome["lessons_queued"] and {"id", "lesson", "theme"} <= set(outcome["lessons_queued"][0])
    assert outcome["llm"]["calls"] == 0


def test_verbose_reports_sections_pages_and_times(diary, served) -> None:
    result = run_cli("draft", ARXIV_ID, "--verbose", env=env_for(served), cwd=diary)
    assert result.returncode == 0
    assert re.search(r"pages: \d+", result.stderr) and re.search(r"sections: \d+", result.stderr)
    assert re.search(r"chars: \d+", result.stderr) and re.search(r"\d+\.\d\d s", result.stderr)


def test_diary_from_env(diary, served) -> None:
    result = run_cli("draft", ARXIV_ID, env=env_for(served, PAPERDIARY_HOME=str(diary)), cwd=diary.parent)
    assert result.returncode == 0 and len(entries_in(diary)) == 1


def test_rate_limited_then_success(diary, served) -> None:
    served.inject("api", "status", code=429, headers={"Retry-After": "1"})
    served.inject("pdf", "status", code=503)
    result = run_cli("draft", ARXIV_ID, env=env_for(served), cwd=diary)
    assert result.returncode == 0, result.stderr
    assert len(served.api_requests) == 2 and len(served.pdf_requests) == 2  # (the waits: tests/stages/test_fetch.py)


def test_hung_server_times_out_then_retries(diary, served) -> None:
    served.inject("api", "hang", seconds=5)
    result = run_cli("draft", ARXIV_ID, env=env_for(served, PAPERDIARY_HTTP_TIMEOUT="0.5"), cwd=diary)
    assert result.returncode == 0, result.stderr
    assert len(served.api_requests) == 2


@pytest.mark.parametrize(
    ("text", "code"),
    [("not-a-paper", 2), ("https://example.com/x.pdf", 2), ("2513.99999", 2)],
)
def test_bad_identifier_is_a_usage_error(diary, text: str, code: int) -> None:
    result = run_cli("draft", text, cwd=diary)
    line = assert_clean_failure(result, code)
    assert "Accepted forms" in line and text in line


def test_debug_shows_traceback(diary) -> None:
    result = run_cli("--debug", "draft", "not-a-paper", cwd=diary)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_unknown_id_is_clear_and_writes_nothing(diary, served) -> None:
    line = assert_clean_failure(run_cli("draft", "2507.00001", env=env_for(served), cwd=diary))
    assert "2507.00001" in line
    assert entries_in(diary) == [] and not (diary / "LESSONS-QUEUE.md").exists()


@pytest.mark.parametrize(
    ("maker", "needle"),
    [
        ("html", "HTML"),
        (pdfs.make_truncated_pdf, "truncated"),
        (pdfs.make_encrypted_pdf, "encrypted"),
        (pdfs.make_image_only_pdf, "OCR"),
        (pdfs.make_empty_file, "empty"),
    ],
)
def test_bad_pdfs_get_clear_errors_and_no_entry(diary, fake_arxiv, paper_pdf, tmp_path, maker, needle) -> None:
    if maker == "html":
        fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=paper_pdf)
        fake_arxiv.inject("pdf", "html")
    else:
        bad = tmp_path / "bad.pdf"
        if maker is pdfs.make_truncated_pdf:
            bad.write_bytes(paper_pdf)
            maker(bad)
        else:
            maker(bad)
        fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=bad.read_bytes())
    line = assert_clean_failure(run_cli("draft", ARXIV_ID, env=env_for(fake_arxiv), cwd=diary))
    assert needle.lower() in line.lower() and ARXIV_ID in line and ".paperdiary" not in line
    assert entries_in(diary) == [] and not (diary / "LESSONS-QUEUE.md").exists()
    if maker in (pdfs.make_truncated_pdf, pdfs.make_empty_file):
        assert not list((diary / ".paperdiary" / "cache" / "pdf").glob("*.pdf"))  # fetched afresh next time


def test_hostile_title_stays_inside_entries(diary, fake_arxiv, paper_pdf) -> None:
    fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=paper_pdf,
                         title="../../../etc/passwd <script>alert(1)</script> [x](javascript:alert(1)) 🚀" * 3)
    result = run_cli("draft", ARXIV_ID, env=env_for(fake_arxiv), cwd=diary)
    assert result.returncode == 0, result.stderr
    [entry] = entries_in(diary)
    assert entry.resolve().is_relative_to((diary / "entries").resolve())
    text = entry.read_text(encoding="utf-8")
    assert "<script" not in text and "javascript:" not in text
    assert not (diary.parent / "etc").exists()


def test_init_creates_an_empty_diary(tmp_path) -> None:
    result = run_cli("init", str(tmp_path / "new"))
    assert result.returncode == 0
    readme = (tmp_path / "new" / "README.md").read_text(encoding="utf-8")
    assert "## Interesting Methods and Lesson Learned" in readme
    # One example theme, not five taken from one person's diary.
    assert re.findall(r"^### (.+)$", readme, re.MULTILINE) == ["General"]
    assert ".paperdiary/" in (tmp_path / "new" / ".gitignore").read_text(encoding="utf-8")
    assert (tmp_path / "new" / "entries").is_dir()


def test_init_in_an_existing_diary_ignores_the_state_folder_and_keeps_its_shape(tmp_path) -> None:
    diary = tmp_path / "notes-repo"
    (diary / "notes").mkdir(parents=True)
    (diary / "README.md").write_text("# My paper notes\n\n- [GAN](notes/gan.md)\n", encoding="utf-8")
    (diary / "notes" / "gan.md").write_text("# Generative Adversarial Nets\n", encoding="utf-8")
    (diary / ".gitignore").write_text("*.pyc", encoding="utf-8")  # no final line end
    result = run_cli("init", str(diary))
    assert result.returncode == 0
    assert (diary / ".gitignore").read_text(encoding="utf-8") == \
        "*.pyc\n# PaperDiary machine state (caches, SQLite)\n.paperdiary/\n"
    assert (diary / "README.md").read_text(encoding="utf-8") == "# My paper notes\n\n- [GAN](notes/gan.md)\n"
    assert not (diary / "entries").exists()  # its notes live in notes/: no second tree beside them
    before = (diary / ".gitignore").read_bytes()
    assert run_cli("init", str(diary)).returncode == 0
    assert (diary / ".gitignore").read_bytes() == before  # ignored once, not twice


def test_init_creates_the_gitignore_of_an_existing_folder_without_one(tmp_path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "README.md").write_text("# Notes\n", encoding="utf-8")
    assert run_cli("init", str(tmp_path / "old")).returncode == 0
    assert ".paperdiary/" in (tmp_path / "old" / ".gitignore").read_text(encoding="utf-8").splitlines()


# The words of each title as printed on page 1 (STaR's PDF adds "Self-Taught Reasoner").
REAL_TITLES = {
    "1706.03762": ["Attention Is All You Need"],
    "2203.14465": ["STaR:", "Bootstrapping Reasoning With Reasoning"],
    "2205.14135": ["FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness"],
}


@pytest.mark.skipif(not SHARED_PAPERS.is_dir(), reason="shared papers not present")
@pytest.mark.parametrize("stem", sorted(REAL_TITLES))
def test_real_papers_from_local_pdf(diary, stem: str) -> None:
    pdf = SHARED_PAPERS / f"{stem}.pdf"
    if not pdf.is_file():
        pytest.skip(f"{pdf} missing")
    result = run_cli("draft", str(pdf), "--json", cwd=diary)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    text = (diary / outcome["entry_path"]).read_text(encoding="utf-8")
    title = text.splitlines()[0]
    assert title.startswith(f"# {REAL_TITLES[stem][0]}") and all(part in title for part in REAL_TITLES[stem])
    assert len(title) < 100
    key_points = text.split("## Key Points", 1)[1].split("## Key Methods", 1)[0]
    assert len(re.findall(r"^- ", key_points, re.M)) >= 3
    assert outcome["arxiv_id"] == stem  # read off the arXiv stamp


def test_a_folder_that_is_not_a_diary_is_refused(tmp_path) -> None:
    empty = tmp_path / "not-a-diary"
    empty.mkdir()
    line = assert_clean_failure(run_cli("draft", "2506.01939", cwd=empty))
    assert "is not a diary" in line and "paperdiary init" in line
    assert list(empty.iterdir()) == []  # nothing scattered there
    missing = tmp_path / "typo"
    assert_clean_failure(run_cli("--diary", str(missing), "draft", "2506.01939"))
    assert not missing.exists()


def test_draft_links_the_nearest_earlier_entries(diary: Path, served) -> None:
    write_topic_diary(diary, 3)
    before = set(diary.rglob("*.md"))
    result = run_cli("draft", ARXIV_ID, "--date", "2025-06-11", "--verbose", env=env_for(served), cwd=diary)
    assert result.returncode == 0, result.stderr
    [entry] = [p for p in set(diary.rglob("*.md")) - before if p.parent != diary]  # not the lessons queue
    assert entry.parent == diary / "June 2025"  # beside the diary's own month folders, not in a new entries/ tree
    [line] = [line for line in entry.read_text(encoding="utf-8").splitlines() if line.startswith("Related in")]
    links = re.findall(r"\]\(([^)]+)\)", line)
    assert len(links) == 3 and all((entry.parent / unquote(link)).resolve().is_file() for link in links)
    assert "related entries: 3 entries" in result.stderr
    off = run_cli("draft", ARXIV_ID, "--force", "--date", "2025-06-11", cwd=diary,
                  env=env_for(served, PAPERDIARY_RELATED_ENTRIES="false"))
    assert off.returncode == 0, off.stderr
    [second] = [p for p in set(diary.rglob("*.md")) - before - {entry} if p.parent != diary]
    assert "Related in this diary" not in second.read_text(encoding="utf-8")


@pytest.mark.parametrize(("relpaths", "expected"), [
    (("reasoning/chain-of-thought.md", "reasoning/self-consistency.md", "vision/vit.md", "speech/wav2vec.md"),
     "reasoning/sparse-routing-improves-reasoning.md"),
    (("notes/Chain of Thought.md", "notes/Self Consistency.md", "notes/Vision Transformer.md"),
     "notes/Sparse Routing Improves Reasoning.md"),
])
def test_a_draft_goes_where_the_diary_keeps_its_entries(tmp_path: Path, served, relpaths, expected) -> None:
    diary = tmp_path / "diary"
    (diary).mkdir()
    (diary / "README.md").write_text("# Notes\n\n## Interesting Methods and Lesson Learned\n### General\n",
                                     encoding="utf-8")
    for n, relpath in enumerate(relpaths, start=1):
        (diary / relpath).parent.mkdir(parents=True, exist_ok=True)
        (diary / relpath).write_text(f"# Paper {n}\n\nDate read: 2025-05-{n:02d}\n\n## Key Points\n- x\n",
                                     encoding="utf-8")
    result = run_cli("draft", ARXIV_ID, "--date", "2025-06-11", env=env_for(served), cwd=diary)
    assert result.returncode == 0, result.stderr
    assert (diary / expected).is_file(), sorted(str(p.relative_to(diary)) for p in diary.rglob("*.md"))
    assert not (diary / "entries").exists()
