"""`paperdiary map` end to end: the real CLI on a generated diary; without the map extra; --readme; --json; --llm."""

from __future__ import annotations

import pytest

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import clean_env, run_cli
from tests.fakes.llm_server import FakeLLM
from tests.fakes.topic_diary import write_topic_diary


@pytest.mark.slow
def test_map_prints_the_clusters_and_writes_the_page(diary: Path) -> None:
    write_topic_diary(diary, 5)
    result = run_cli("map", "--readme", cwd=diary)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "topics in 20 entries" in out and "newest entry" in out
    assert "Mapped 20 entries into" in out and "assets/topic-map.html" in out and "README.md updated" in out
    assert "new theme" in out and "queued in LESSONS-QUEUE.md" in out  # diffusion and retrieval have no theme
    assert (diary / "assets" / "topic-map.html").is_file() and (diary / "assets" / "topic-map.png").is_file()
    readme = (diary / "README.md").read_text(encoding="utf-8")
    again = run_cli("map", "--readme", "--no-suggest", cwd=diary)
    assert again.returncode == 0 and "README.md already up to date" in again.stdout
    assert (diary / "README.md").read_text(encoding="utf-8") == readme


def test_map_json_lists_clusters_with_names_and_members(diary: Path) -> None:
    written = write_topic_diary(diary, 4)
    result = run_cli("map", "--json", "--no-suggest", cwd=diary)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["entries"] == len(written) == len(document["points"])
    members = [m for c in document["clusters"] for m in c["members"]]
    assert sorted(members) == sorted(e.relpath for e in written)
    assert all(c["name"] and c["size"] == len(c["members"]) and c["newest"] in c["members"]
               for c in document["clusters"])
    assert document["outputs"] == {"html": "assets/topic-map.html", "png": "assets/topic-map.png"}
    assert set(document["timings"]) >= {"embed", "project", "cluster", "render"}
    assert document["queued"] == [] and document["theme_suggestions"] and not (diary / "LESSONS-QUEUE.md").exists()


def test_map_of_an_empty_diary_says_so(diary: Path) -> None:
    result = run_cli("map", cwd=diary)
    assert result.returncode == 1 and result.stderr.startswith("error: the diary") and "Traceback" not in result.stderr
    assert "paperdiary draft" in result.stderr


def test_without_the_map_extra_it_says_what_to_install(diary: Path) -> None:
    write_topic_diary(diary, 1)
    # scikit-learn made unimportable in the child, as if the extra were not installed.
    code = ("import sys; sys.modules['sklearn'] = None; sys.argv = ['paperdiary', 'map']; "
            "from paperdiary.cli.main import main; main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=diary, env=clean_env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    # One message for every command that needs an extra (paperdiary.extras; stats says the same).
    assert result.stderr.strip().splitlines() == [
        "error: `paperdiary map` needs scikit-learn: pip install 'paperdiary[map]'."]
    assert not (diary / "assets").exists()


@pytest.mark.slow
def test_map_llm_names_the_clusters_with_the_model(diary: Path) -> None:
    write_topic_diary(diary, 4)
    with FakeLLM() as fake:
        fake.script(lambda request: {"name": "Topic From Model"})
        env = clean_env(OPENAI_BASE_URL=fake.base_url, PAPERDIARY_MODEL="fake-model")
        result = run_cli("map", "--llm", "--json", "--no-suggest", cwd=diary, env=env)
        assert result.returncode == 0, result.stderr
        names = sorted(c["name"] for c in json.loads(result.stdout)["clusters"])
        asked = len(fake.completion_requests)
        prompt = fake.completion_requests[0].json["messages"][0]["content"]
        # Named once: the next map keeps the model's names without asking again.
        second = run_cli("map", "--llm", "--json", "--no-suggest", cwd=diary, env=env)
        assert second.returncode == 0 and len(fake.completion_requests) == asked
    assert names[0] == "Topic From Model" and names[1] == "Topic From Model (2)"
    assert asked == len(names) and "<<<TITLES" in prompt and "untrusted data" in prompt


def test_map_llm_without_a_model_is_a_usage_error(diary: Path) -> None:
    write_topic_diary(diary, 1)
    result = run_cli("map", "--llm", cwd=diary)
    assert result.returncode == 2 and "--llm needs a model" in result.stderr



@pytest.mark.slow
def test_a_suggested_theme_is_reviewed_from_the_command_line(diary: Path) -> None:
    write_topic_diary(diary, 5)
    assert run_cli("map", cwd=diary).returncode == 0
    listed = run_cli("review", "list", "--json", cwd=diary)
    items = json.loads(listed.stdout)
    assert {item["item_kind"] for item in items} == {"new theme"} and all(len(item["members"]) == 5 for item in items)
    first = items[0]
    assert first["proposal"]["kind"] == "new_theme" and first["proposal"]["theme"] == first["suggested_theme"]
    assert run_cli("review", "theme", first["id"], "My New Theme", cwd=diary).returncode == 0
    assert run_cli("review", "accept", first["id"], cwd=diary).returncode == 0
    applied = run_cli("review", "apply", cwd=diary)
    assert applied.returncode == 0, applied.stderr
    assert "\n### My New Theme\n" in (diary / "README.md").read_text(encoding="utf-8")
    edit = run_cli("review", "kind", items[1]["id"], "add", cwd=diary)
    assert edit.returncode == 2 and "suggests a new theme, not a lesson" in edit.stderr


@pytest.mark.slow
def test_map_and_stats_write_into_the_assets_folder_of_the_settings(diary: Path) -> None:
    from urllib.parse import unquote

    from tests.diary.test_map import plotted_points

    written = write_topic_diary(diary, 3)
    (diary / "paperdiary.toml").write_text('assets_dir = "docs/img"\n', encoding="utf-8")
    stats = run_cli("stats", "--readme", "--json", cwd=diary)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["files"]["written"] == [
        "docs/img/reading.png", "docs/img/plotly.min.js", "docs/img/reading.html"]
    mapped = run_cli("map", "--readme", "--json", "--no-suggest", cwd=diary)
    assert mapped.returncode == 0, mapped.stderr
    document = json.loads(mapped.stdout)
    assert document["outputs"] == {"html": "docs/img/topic-map.html", "png": "docs/img/topic-map.png"}
    assert document["written"] == ["docs/img/topic-map.html", "docs/img/topic-map.png"]  # plotly.min.js: once
    assert not (diary / "assets").exists()

    readme = (diary / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/img/[^)]+)\)", readme)
    assert sorted(links) == ["docs/img/reading.html", "docs/img/reading.png", "docs/img/topic-map.html",
                             "docs/img/topic-map.png"]
    assert all((diary / unquote(link)).is_file() for link in links)  # relative from README, at the root
    page = diary / "docs/img/topic-map.html"
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', page.read_text(encoding="utf-8"))
    assert scripts == ["plotly.min.js"]  # the one script, beside the page
    targets = sorted((page.parent / unquote(row[0])).resolve() for row in plotted_points(page.read_text("utf-8")))
    assert targets == sorted((diary / entry.relpath).resolve() for entry in written)  # relative from the page

    again = run_cli("map", "--readme", "--json", "--no-suggest", cwd=diary)
    assert again.returncode == 0 and json.loads(again.stdout)["written"] == []  # unchanged files are left alone
    assert (diary / "README.md").read_text(encoding="utf-8") == readme


def test_map_and_stats_wait_for_the_diary_lock_and_write_nothing_without_it(diary: Path) -> None:
    from paperdiary.settings import load_settings
    from paperdiary.state.lock import diary_lock

    write_topic_diary(diary, 1)
    readme = (diary / "README.md").read_bytes()
    with diary_lock(load_settings(diary, env={}), "catchup"):
        refused = [run_cli(command, "--readme", cwd=diary, env=clean_env(PAPERDIARY_LOCK_WAIT="0.3"))
                   for command in ("map", "stats")]
    for result in refused:
        assert result.returncode == 1 and "waiting for the diary lock held by PID" in result.stderr, result.stderr
        assert "error: another catchup is running in " in result.stderr
    assert not (diary / "assets").exists() and (diary / "README.md").read_bytes() == readme
