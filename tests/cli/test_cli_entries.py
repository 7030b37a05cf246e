"""`paperdiary entries`: the catalog listed with its problems; --llm describes entries that have no sentence."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import clean_env, run_cli
from tests.diary.real_diary import make_diary
from tests.fakes.llm_server import FakeLLM

LINK_ONLY = "# Only a link\nDate: 2025-06-09\n[paper](https://arxiv.org/abs/2506.05555)\n\n- Speedup: 3.5x\n"


def test_entries_lists_the_catalog_with_its_problems(tmp_path: Path) -> None:
    expected = make_diary(tmp_path)
    (tmp_path / "Misc" / "ambiguous.md").write_text("# Alone\nDate: 03/04/2025\n\nA lonely entry.\n", encoding="utf-8")
    (tmp_path / "Misc" / "outside.md").symlink_to(tmp_path.parent)
    (tmp_path / "Misc" / "broken.md").symlink_to(tmp_path / "Misc" / "missing.md")
    listed = run_cli("entries", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    by_path = {entry["path"]: entry for entry in report["entries"]}
    assert set(expected) <= set(by_path)
    prorl = by_path["June 2025/4thJuneProRL.md"]
    assert (prorl["date_read"], prorl["arxiv_id"], prorl["folder"]) == ("2025-06-04", "2505.24864", "June 2025")
    assert by_path["Blogs/bitter-lesson.md"]["links"] == ["http://www.incompleteideas.net/IncIdeas/BitterLesson.html"]
    assert by_path["Misc/no-date.md"]["date_source"] == "git-first-commit"
    kinds = {(p["path"], p["kind"]) for p in report["problems"]}
    assert kinds >= {("June 2025/4thJuneProRL.md", "duplicate-arxiv-id"),
                     ("Reinforcement Learning/prorl-again.md", "duplicate-arxiv-id"),
                     ("Misc/ambiguous.md", "ambiguous-date"), ("Misc/broken.md", "unreadable")}
    assert ("Misc/outside.md", "symlink-outside") in kinds or not (tmp_path / "Misc/outside.md").is_file()

    text = run_cli("entries", cwd=tmp_path)  # piped: one tab-separated line per entry, then the problems
    assert text.returncode == 0, text.stderr
    line = next(line for line in text.stdout.splitlines() if "\tJune 2025/21stJuneKinetix.md\t" in line)
    assert line.split("\t")[0] == "2025-06-21" and "physics tasks" in line
    assert "(git-first-commit)" in next(line for line in text.stdout.splitlines() if "Misc/no-date.md" in line)
    assert re.search(r"! June 2025/4thJuneProRL.md: arXiv 2505.24864 also has the entry", text.stdout)


class Describer:
    """A model that describes the entry it is shown, and records what it saw."""

    def __init__(self, answer: str = "A paper that makes models 3.5x faster with one trick."):
        self.answer = answer

    def __call__(self, request: dict) -> dict:
        return {"description": self.answer}


def _described(diary: Path, llm: FakeLLM) -> dict:
    env = clean_env(PAPERDIARY_MODEL="fake-model", OPENAI_BASE_URL=llm.base_url)
    result = run_cli("entries", "--llm", "--json", cwd=diary, env=env)
    assert result.returncode == 0, result.stderr
    return {entry["path"]: entry for entry in json.loads(result.stdout)["entries"]}


def test_llm_describes_only_entries_without_a_sentence_once(tmp_path: Path) -> None:
    make_diary(tmp_path, commit=False)
    (tmp_path / "Robotics" / "link-only.md").write_text(LINK_ONLY, encoding="utf-8")
    with FakeLLM() as llm:
        llm.script(Describer())
        first = _described(tmp_path, llm)
        assert len(llm.completion_requests) == 1
        again = _described(tmp_path, llm)
        assert len(llm.completion_requests) == 1  # answered from the LLM cache
        request = llm.completion_requests[0].json
    entry = first["Robotics/link-only.md"]
    assert (entry["description"], entry["description_source"]) == (
        "A paper that makes models 3.5x faster with one trick.", "llm")
    assert again["Robotics/link-only.md"] == entry
    assert first["Blogs/bitter-lesson.md"]["description_source"] == "first-sentence"
    assert "untrusted data" in request["messages"][0]["content"]
    assert re.search(r"<<<ENTRY [0-9a-f]+>>>\n# Only a link\n", request["messages"][-1]["content"])


def test_an_llm_description_that_invents_a_number_or_a_link_is_thrown_away(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Diary\n", encoding="utf-8")
    (tmp_path / "link-only.md").write_text(LINK_ONLY, encoding="utf-8")
    for answer in ("It is 42% better than anything.", "See https://evil.example.org now."):
        with FakeLLM() as llm:
            llm.script(Describer(answer))
            entry = _described(tmp_path, llm)["link-only.md"]
        assert (entry["description"], entry["description_source"]) == ("", "none")
    with FakeLLM() as llm:
        llm.script(Describer("<script>x</script> A **bold** [claim](javascript:alert(1)) made 3.5x faster."))
        entry = _described(tmp_path, llm)["link-only.md"]
    assert entry["description"].endswith(" A bold claim made 3.5x faster.")  # markup gone, words kept
    assert "<" not in entry["description"] and "javascript" not in entry["description"]


def test_entries_llm_needs_a_model(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Diary\n", encoding="utf-8")
    result = run_cli("entries", "--llm", cwd=tmp_path)
    assert result.returncode == 2 and "--llm needs a model" in result.stderr and "Traceback" not in result.stderr
