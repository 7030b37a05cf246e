"""`paperdiary search`: BM25 over entries and README lessons, the expected hit first, filters, snippets, the cache."""

from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path

import pytest

from paperdiary.diary.search import Filters, load_index, search_diary, terms
from paperdiary.settings import load_settings
from tests.conftest import run_cli
from tests.diary.real_diary import make_diary


@pytest.fixture(scope="module")
def diary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search") / "diary"
    make_diary(root)
    return root


def first(diary: Path, query: str, **filters: object) -> list[tuple[str, str]]:
    hits = search_diary(load_settings(diary, env={}), query, Filters(**filters))
    return [(hit.document.kind, hit.document.path if hit.document.kind == "entry" else hit.document.title)
            for hit in hits]


def test_title_words_find_their_entry_first(diary: Path) -> None:
    assert first(diary, "bimanual manipulation")[0] == ("entry", "Robotics/act chunking.md")
    assert first(diary, "Kinetix")[0] == ("entry", "June 2025/21stJuneKinetix.md")


def test_words_only_in_key_points_find_their_entry_first(diary: Path) -> None:
    assert first(diary, "zebrafish") == [("entry", "Reinforcement Learning/TokenEntropy.md")]
    assert first(diary, "reference resets stable")[0] == ("entry", "June 2025/4thJuneProRL.md")


def test_a_lessons_words_find_the_lesson_first(diary: Path) -> None:
    assert first(diary, "simulated kinetic worlds endless")[0] == ("lesson", "Robotics")
    assert first(diary, "forking tokens learning signal")[0] == ("lesson", "Reinforcement Learning")


def test_filters(diary: Path) -> None:
    everything = first(diary, "reinforcement learning")
    assert ("entry", "June 2025/4thJuneProRL.md") in everything
    since = first(diary, "reinforcement learning", since=date(2025, 6, 10))
    assert ("entry", "June 2025/4thJuneProRL.md") not in since and ("entry", "Reinforcement Learning/TokenEntropy.md") \
        in since
    in_folder = first(diary, "robot", folder="Robotics")
    assert in_folder and all(path.startswith("Robotics/") for kind, path in in_folder if kind == "entry")
    assert ("lesson", "Robotics") in in_folder  # it cites an entry in Robotics/
    themed = first(diary, "tasks", theme="open-endedness and auto curriculums")
    assert set(themed) == {("entry", "Open-Endedness/AbsoluteZero.md"), ("lesson", "Open-Endedness and Auto Curriculums")}


def test_the_cli_gives_snippets_with_the_matches_offsets(diary: Path) -> None:
    result = run_cli("search", "chunks of actions", "--json", "--limit", "2", cwd=diary)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["results"]) == 2
    # The entry, and the lesson citing it ("Action chunking": the same terms, stemmed).
    entry, lesson = sorted(report["results"], key=lambda hit: hit["kind"])
    assert (entry["kind"], entry["path"], entry["date_read"]) == ("entry", "Robotics/act chunking.md", "2025-05-30")
    assert {entry["snippet"][start:end].lower() for start, end in entry["highlights"]} == {"chunks", "actions"}
    assert (lesson["kind"], lesson["themes"]) == ("lesson", ["Robotics"])
    assert {lesson["snippet"][start:end].lower() for start, end in lesson["highlights"]} == {"action", "chunking"}
    shown = run_cli("search", "zebrafish", cwd=diary)
    assert "Reinforcement Learning/TokenEntropy.md" in shown.stdout and "zebrafish result" in shown.stdout
    empty = run_cli("search", "  ", cwd=diary)
    assert empty.returncode == 2 and "query is empty" in empty.stderr


def test_the_index_is_cached_until_the_diary_changes(tmp_path: Path) -> None:
    make_diary(tmp_path, commit=False)
    settings = load_settings(tmp_path, env={})
    an_hour_ago = time.time() - 3600
    for path in tmp_path.rglob("*.md"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    load_index(settings)
    cache = settings.cache_path / "search-index.json"
    built = cache.stat().st_mtime_ns
    assert search_diary(settings, "zebrafish") and cache.stat().st_mtime_ns == built  # warm: not rebuilt
    entry = tmp_path / "Blogs/scaling-post.md"
    entry.write_text(entry.read_text(encoding="utf-8") + "\nA platypus appears.\n", encoding="utf-8")
    os.utime(entry, (an_hour_ago + 60, an_hour_ago + 60))
    assert [hit.document.path for hit in search_diary(settings, "platypus")] == ["Blogs/scaling-post.md"]


def test_terms_fold_case_plurals_and_stop_words() -> None:
    assert terms("The Tokens of a Model's rewards") == ["token", "model", "reward"]
