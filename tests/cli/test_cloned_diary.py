"""Issue 18: a cloned diary cannot hurt whoever runs PaperDiary in it.

Each test sets up one attack a stranger's diary can carry (a template, its paperdiary.toml, symlinks in
.paperdiary/, path settings, diary files pointing out, runaway sizes, a shipped .git/config, a read-only
state folder) and shows what it aimed at untouched: the outside file, the user's key, the README's lessons.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from paperdiary.errors import SettingsError, TemplateError
from paperdiary.settings import load_settings
from tests.cli.test_cli_containment import ARXIV_ID, env_for, files_of, one_error_line
from tests.conftest import clean_env, run_cli
from tests.diary.test_review import README, TACTILE, ids, make_diary, readme_text
from tests.fakes import pdfs
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM

KEY = "local-Zq81vXn3Lp0sYt7W"  # the user's key: no diary-chosen server may see it


@pytest.fixture(scope="module")
def paper_pdf(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("pdf") / "paper.pdf"
    return pdfs.make_paper_pdf(path, **pdfs.generate_paper(5, seed=3)).read_bytes()


@pytest.fixture
def served(fake_arxiv, paper_pdf):
    fake_arxiv.add_paper(ARXIV_ID, version=2, title="Sparse Routing Improves Reasoning", pdf_bytes=paper_pdf)
    return fake_arxiv


def entries_of(diary: Path) -> list[Path]:
    return sorted((diary / "entries").rglob("*.md")) if (diary / "entries").exists() else []


# --------------------------------------------------------------------------- 1. template names


@pytest.mark.parametrize("name", ["/proc/self/environ", "../../../../../../../../proc/self/environ",
                                  "../../secret.txt"])
def test_a_diary_template_cannot_include_a_file_outside_its_prompts(diary, served, tmp_path, name: str) -> None:
    (tmp_path / "secret.txt").write_text(f"OPENAI_API_KEY={KEY}\n", encoding="utf-8")
    (diary / "prompts").mkdir()
    (diary / "prompts" / "entry.md.j2").write_text("# {{ title }}\n{% include '" + name + "' %}\n", encoding="utf-8")
    before = files_of(diary)
    result = run_cli("draft", ARXIV_ID, env=env_for(served, OPENAI_API_KEY=KEY), cwd=diary)
    line = one_error_line(result, 2)
    assert "prompts/entry.md.j2" in line and "relative" in line
    assert files_of(diary) == before and entries_of(diary) == []
    assert KEY not in result.stdout + result.stderr


def test_a_diary_prompt_including_the_environment_sends_nothing_to_the_model(diary, served) -> None:
    (diary / "prompts").mkdir()
    (diary / "prompts" / "draft_system.j2").write_text("{% include '/proc/self/environ' %}", encoding="utf-8")
    with FakeLLM() as llm:
        llm.script(DraftingModel())
        result = run_cli("draft", ARXIV_ID, cwd=diary, env=env_for(
            served, OPENAI_API_KEY=KEY, OPENAI_BASE_URL=llm.base_url, PAPERDIARY_MODEL="fake-model"))
        sent = [r.json for r in llm.completion_requests]
    one_error_line(result, 2)
    assert not any(KEY in str(body) for body in sent)


# --------------------------------------------------------------------------- 9. templates: time and size


def _diary_template(diary: Path, text: str):
    from paperdiary.templates import DiaryPrompts

    (diary / "prompts").mkdir(exist_ok=True)
    (diary / "prompts" / "entry.md.j2").write_text(text, encoding="utf-8")
    settings = load_settings(diary, env={})
    return settings, DiaryPrompts.of(settings)


def test_a_template_that_loops_forever_is_stopped_and_the_lock_released(diary, monkeypatch) -> None:
    from paperdiary import templates
    from paperdiary.state.lock import diary_lock

    settings, prompts = _diary_template(
        diary, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    monkeypatch.setattr(templates, "RENDER_TIMEOUT_S", 1.0)
    with pytest.raises(TemplateError, match=r"prompts/entry\.md\.j2 ran longer than 1 s"):
        with diary_lock(settings, "draft"):
            templates.render("entry.md.j2", prompts, title="T")
    with diary_lock(settings, "draft"):  # released: taken again at once
        pass


def test_a_template_that_writes_gigabytes_is_refused(diary) -> None:
    from paperdiary import templates

    _, prompts = _diary_template(
        diary, "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}{% endfor %}")
    with pytest.raises(TemplateError, match=r"prompts/entry\.md\.j2 writes more than"):
        templates.render("entry.md.j2", prompts, title="T")


# --------------------------------------------------------------------------- 2. endpoints and the key


def test_a_diary_chosen_model_server_never_sees_the_users_key(diary, served) -> None:
    with FakeLLM() as attacker:
        attacker.script(DraftingModel())
        (diary / "paperdiary.toml").write_text(f'model = "fake-model"\nbase_url = "{attacker.base_url}"\n',
                                               encoding="utf-8")
        env = env_for(served, OPENAI_API_KEY=KEY)
        line = one_error_line(run_cli("draft", ARXIV_ID, env=env, cwd=diary), 2)
        assert "paperdiary.toml sets model" in line and "127.0.0.1" in line and "--trust-diary-endpoints" in line
        assert attacker.requests == [] and entries_of(diary) == []
        # The attack, once the user allows the diary's servers: the key does go there.
        assert run_cli("--trust-diary-endpoints", "draft", ARXIV_ID, env=env, cwd=diary).returncode == 0
        assert attacker.completion_requests[0].headers["Authorization"] == f"Bearer {KEY}"


def test_a_diary_chosen_embedder_never_sees_the_users_key(diary, served, tmp_path) -> None:
    with FakeLLM() as attacker, FakeLLM() as mine:
        mine.script(DraftingModel())
        (diary / "paperdiary.toml").write_text(
            f'embedder = "text-embedding-3-small"\nembedder_url = "{attacker.base_url}"\n', encoding="utf-8")
        env = env_for(served, OPENAI_API_KEY=KEY, OPENAI_BASE_URL=mine.base_url, PAPERDIARY_MODEL="fake-model")
        line = one_error_line(run_cli("draft", ARXIV_ID, env=env, cwd=diary), 2)
        assert "sets embedder" in line and "127.0.0.1" in line
        assert attacker.requests == [] and mine.requests == []  # refused before anything was sent
        # The user's own config trusting this diary lets it through.
        config = tmp_path / "xdg" / "paperdiary"
        config.mkdir(parents=True)
        (config / "config.toml").write_text(f'trusted_diaries = ["{diary}"]\n', encoding="utf-8")
        trusted = run_cli("draft", ARXIV_ID, env={**env, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}, cwd=diary)
        assert trusted.returncode == 0, trusted.stderr


def test_trust_is_never_taken_from_the_diarys_own_file(diary) -> None:
    (diary / "paperdiary.toml").write_text("trust_diary_endpoints = true\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="trust_diary_endpoints"):
        load_settings(diary, env={})


# --------------------------------------------------------------------------- 3. symlinks in .paperdiary/


@pytest.mark.parametrize("name", ["diary.lock", "queue.lock", "paperdiary.db", "cache"])
def test_a_symlink_in_the_state_folder_writes_nothing_outside(diary, served, tmp_path, name: str) -> None:
    state = diary / ".paperdiary"
    state.mkdir(exist_ok=True)
    outside = tmp_path / "outside"
    if name == "cache":
        outside.mkdir()
    else:
        outside.write_bytes(b"the user's own file\n")
    link = state / name
    if link.is_dir() and not link.is_symlink():
        link.rmdir()
    elif link.exists() or link.is_symlink():
        link.unlink()
    link.symlink_to(outside)
    result = run_cli("draft", ARXIV_ID, env=env_for(served), cwd=diary)
    line = one_error_line(result, 1)
    assert f"{name} is a symlink" in line
    if name == "cache":
        assert list(outside.iterdir()) == []
    else:
        assert outside.read_bytes() == b"the user's own file\n"
    assert entries_of(diary) == []


# --------------------------------------------------------------------------- 7. path settings


@pytest.mark.parametrize("toml", ['queue_file = "README.md"', 'queue_file = ".git/config"',
                                  'reading_list = "LESSONS-QUEUE.md"', 'queue_file = ".paperdiary/paperdiary.db"'])
def test_a_path_setting_naming_another_files_place_is_refused(diary, toml: str) -> None:
    (diary / "paperdiary.toml").write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(SettingsError):
        load_settings(diary, env={})


def test_a_queue_named_readme_cannot_eat_the_lessons(diary) -> None:
    settings = make_diary(diary)
    assert run_cli("review", "accept", ids(settings)[TACTILE], cwd=diary).returncode == 0
    (diary / "paperdiary.toml").write_text('queue_file = "README.md"\n', encoding="utf-8")
    line = one_error_line(run_cli("review", "apply", cwd=diary), 2)
    assert "queue_file" in line and "README.md" in line
    assert readme_text(diary) == README


# --------------------------------------------------------------------------- 8. diary files pointing out


def test_a_reading_list_naming_a_pdf_outside_the_diary_drafts_nothing(diary, tmp_path, paper_pdf) -> None:
    from paperdiary.runs.backlog import read_backlog

    private = tmp_path / "private.pdf"
    private.write_bytes(paper_pdf)
    listed = diary / "READING-LIST.md"
    listed.write_text(f"- {private}\n", encoding="utf-8")
    inside = read_backlog([str(listed)], diary=diary)
    assert inside.items == [] and "outside the diary" in inside.problems[0].reason
    mine = tmp_path / "mine.md"  # the user's own list, or the path on the command line: allowed
    mine.write_text(f"- {private}\n", encoding="utf-8")
    assert len(read_backlog([str(mine)], diary=diary).items) == 1
    assert len(read_backlog([str(private)], diary=diary).items) == 1


def test_a_queue_source_out_of_the_diary_never_becomes_a_readme_link(diary) -> None:
    settings = make_diary(diary)
    queue = settings.queue_path
    queue.write_text(re.sub(r"\]\([^)]*\.md\)", "](../../../../etc/passwd)", queue.read_text(encoding="utf-8")),
                     encoding="utf-8")
    assert "../../../../etc/passwd" in queue.read_text(encoding="utf-8")
    assert run_cli("review", "accept", ids(settings)[TACTILE], cwd=diary).returncode == 0
    result = run_cli("review", "apply", cwd=diary)
    assert result.returncode == 0, result.stderr
    text = readme_text(diary)
    assert "Tactile fingertips" in text and "etc/passwd" not in text
    assert "ShapeSafe" in text and "CurriQ" in text  # the lessons there before are intact


# --------------------------------------------------------------------------- 9. sizes


def test_a_huge_readme_is_refused_by_review_at_once(diary) -> None:
    make_diary(diary)
    readme = diary / "README.md"
    big = README + ("filler line of prose in the README\n" * 90_000)  # ~3 MB
    readme.write_text(big, encoding="utf-8")
    line = one_error_line(run_cli("review", "--list", cwd=diary), 1)
    assert "README.md is 3." in line and "more than review reads" in line
    assert readme.read_text(encoding="utf-8") == big


def test_a_huge_entry_is_a_catalog_problem_not_read(diary) -> None:
    from paperdiary.diary.catalog import Catalog, ProblemKind

    (diary / "entries").mkdir(exist_ok=True)
    (diary / "entries" / "huge.md").write_text("# Huge\n" + "word " * 1_200_000, encoding="utf-8")  # ~6 MB
    (diary / "entries" / "small.md").write_text("# Small\nDate read: 3rd June 2025\n", encoding="utf-8")
    catalog = Catalog(load_settings(diary, env={}))
    kinds = {p.kind for p in catalog.problems() if p.relpath == "entries/huge.md"}
    assert ProblemKind.TOO_LARGE in kinds
    assert catalog.stats.read == catalog.stats.files - 1  # every file but the huge one was read


@pytest.mark.slow
def test_a_runaway_model_answer_is_refused_not_written(diary, served) -> None:
    with FakeLLM() as llm:
        for _ in range(12):  # every try, every rung of the structured-output ladder
            llm.queue_reply("x" * 1_200_000)
        result = run_cli("draft", ARXIV_ID, cwd=diary, env=env_for(
            served, OPENAI_API_KEY=KEY, OPENAI_BASE_URL=llm.base_url, PAPERDIARY_MODEL="fake-model"))
    line = one_error_line(result, 1)
    assert "answered more than" in line
    assert entries_of(diary) == []


def test_a_runaway_bullet_is_cut_to_a_sentence_or_two() -> None:
    from paperdiary.stages.drafting.contract import CLAIM_MAX_CHARS, Claim, Draft, Lesson, conform_draft

    long = "word " * 20_000
    draft = Draft(short_name="X", description="d", key_points=[Claim(long)], key_methods=[], results=[], limitations=[],
                  lessons=[Lesson(long, theme=long)], drafter="offline")
    cut = conform_draft(draft)
    assert len(cut.key_points[0].text) <= CLAIM_MAX_CHARS and len(cut.lessons[0].text) <= CLAIM_MAX_CHARS
    assert cut.lessons[0].theme is not None and len(cut.lessons[0].theme) <= 80


# --------------------------------------------------------------------------- 10. a shipped git config


def test_a_shipped_fsmonitor_command_never_runs(diary, tmp_path) -> None:
    marker = tmp_path / "ran"
    (diary / "entries").mkdir(exist_ok=True)
    (diary / "entries" / "a.md").write_text("# A\nDate read: 3rd June 2025\n", encoding="utf-8")
    git = ["git", "-C", str(diary)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "x"], check=True)
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    hook.chmod(0o755)
    subprocess.run([*git, "config", "core.fsmonitor", str(hook)], check=True)
    subprocess.run([*git, "status", "--short"], capture_output=True, check=True)
    assert marker.exists()  # the attack: plain git runs it
    marker.unlink()
    for args in (("entries",), ("index",), ("reorganize", "--dry-run")):
        run_cli(*args, cwd=diary, env=clean_env())
    assert not marker.exists()


# --------------------------------------------------------------------------- 12. read-only state


def test_read_only_commands_work_with_a_read_only_state_folder(diary) -> None:
    from tests.fakes.mounts import read_only

    make_diary(diary)
    assert run_cli("entries", cwd=diary).returncode == 0  # the store exists, with its cache
    with read_only(diary / ".paperdiary"):
        doctor = run_cli("doctor", cwd=diary)  # arXiv is unreachable here: that line fails, not the state's
        assert "✓ cache" in doctor.stdout and "Traceback" not in doctor.stderr, doctor.stdout + doctor.stderr
        runs = [doctor, *(run_cli(*args, cwd=diary) for args in (("entries",), ("catchup", "status")))]
    assert [run.returncode for run in runs[1:]] == [0, 0], [run.stdout + run.stderr for run in runs]
    assert not any("cannot write" in run.stdout + run.stderr for run in runs)


# --------------------------------------------------------------------------- 13. partial failures


def test_a_full_disk_after_the_readme_is_written_says_so_and_a_rerun_applies_nothing_twice(diary, monkeypatch) -> None:
    import errno

    from paperdiary.diary import review as review_module
    from paperdiary.diary.review import Review
    from paperdiary.errors import WriteError, write_error

    settings = make_diary(diary)
    real_replace = review_module.replace_diary_file

    def queue_disk_full(root: Path, path: Path, text: str) -> None:
        if path == settings.queue_path:  # the README fits; the queue after it does not
            raise write_error(OSError(errno.ENOSPC, "No space left on device", str(path)))  # type: ignore[misc]
        real_replace(root, path, text)

    with Review(settings) as review:
        review.accept([ids(settings)[TACTILE]])
        monkeypatch.setattr(review_module, "replace_diary_file", queue_disk_full)
        with pytest.raises(WriteError) as raised:
            review.apply()
    message = str(raised.value)
    assert "README.md was written in full with 1 lesson" in message and "nothing was half-written" not in message
    assert readme_text(diary).count("Tactile fingertips") == 1
    monkeypatch.setattr(review_module, "replace_diary_file", real_replace)
    with Review(settings) as review:  # as the message says: run it again
        review.apply()
    assert readme_text(diary).count("Tactile fingertips") == 1
    assert TACTILE not in settings.queue_path.read_text(encoding="utf-8")


def test_a_catchup_that_cannot_write_its_downloads_stops_with_one_line_not_a_crash(diary, served) -> None:
    from tests.fakes.mounts import read_only

    cache = diary / ".paperdiary" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    with read_only(cache):  # a download cannot be saved: every paper would fail alike
        result = run_cli("catchup", ARXIV_ID, env=env_for(served), cwd=diary)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output and "internal error" not in output.lower(), output
    assert "TypeError" not in output and "cannot write" in output, output
    assert entries_of(diary) == []
    status = run_cli("catchup", "status", "--json", cwd=diary)  # left for the next run, not failed
    assert status.returncode == 0 and json.loads(status.stdout)["failed"] == [], status.stdout
