"""Settings precedence: defaults < paperdiary.toml < env < flags; secrets stay out of files and output."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdiary.errors import SettingsError
from paperdiary.settings import DEFAULT_ARXIV_API, load_settings, redacted


def write_toml(diary: Path, text: str) -> None:
    (diary / "paperdiary.toml").write_text(text, encoding="utf-8")


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={})
    assert s.diary == tmp_path.resolve()
    assert s.arxiv_api == DEFAULT_ARXIV_API and s.arxiv_delay == 3.0
    assert s.state_path == tmp_path.resolve() / ".paperdiary"
    assert not s.llm_configured


def test_precedence(tmp_path: Path) -> None:
    write_toml(tmp_path, 'arxiv_delay = 5\nmodel = "from-toml"\nchunk_tokens = 100\n')
    env = {"PAPERDIARY_MODEL": "from-env", "PAPERDIARY_CHUNK_TOKENS": "200"}
    s = load_settings(tmp_path, overrides={"chunk_tokens": 300, "model": None}, env=env)
    assert (s.arxiv_delay, s.model, s.chunk_tokens) == (5.0, "from-env", 300)


def test_diary_from_env(tmp_path: Path) -> None:
    assert load_settings(None, env={"PAPERDIARY_HOME": str(tmp_path)}).diary == tmp_path.resolve()


def test_arxiv_api_env_and_plain_url(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={"PAPERDIARY_ARXIV_API": "http://127.0.0.1:9/api/query"})
    assert s.arxiv_api == "http://127.0.0.1:9/api/query?{}"


def test_openai_env_conventions(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={"OPENAI_BASE_URL": "http://h/v1", "OPENAI_API_KEY": "sk-abc"})
    assert s.base_url == "http://h/v1" and s.api_key == "sk-abc"
    assert "sk-abc" not in repr(s) and "sk-abc" not in str(redacted(s))


def test_api_key_refused_in_toml(tmp_path: Path) -> None:
    write_toml(tmp_path, 'api_key = "sk-in-git"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path, env={})
    assert "sk-in-git" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [("arxiv_delay = 'soon'\n", "arxiv_delay"), ("nonsense = 1\n", "nonsense"), ("[[broken\n", "not valid TOML"),
     ("[prices]\nx = 3\n", "[prices]")],
)
def test_bad_toml_names_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    write_toml(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path, env={})
    assert needle in str(info.value) and info.value.exit_code == 2


def test_bad_env_value(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PAPERDIARY_HTTP_TIMEOUT"):
        load_settings(tmp_path, env={"PAPERDIARY_HTTP_TIMEOUT": "fast"})


def test_prices_table(tmp_path: Path) -> None:
    write_toml(tmp_path, '[prices."my-model"]\ninput = 0.5\noutput = 1.5\n')
    assert load_settings(tmp_path, env={}).prices == {"my-model": {"input": 0.5, "output": 1.5}}


def test_catalog_lists_from_toml_or_env_stay_inside_the_diary(tmp_path: Path) -> None:
    write_toml(tmp_path, 'catalog_roots = ["entries", "Robotics"]\ncatalog_ignore = ["/archive/**"]\n')
    s = load_settings(tmp_path, env={"PAPERDIARY_CATALOG_IGNORE": "docs/, *.draft.md"})
    assert (s.catalog_roots, s.catalog_ignore) == (("entries", "Robotics"), ("docs/", "*.draft.md"))
    write_toml(tmp_path, 'catalog_roots = "Robotics"\n')  # one folder needs no list
    assert load_settings(tmp_path, env={}).catalog_roots == ("Robotics",)
    for value in ('["../elsewhere"]', '["/etc"]', '["~/notes"]', "[1, 2]", "3"):
        write_toml(tmp_path, f"catalog_roots = {value}\n")
        with pytest.raises(SettingsError, match="catalog_roots") as info:
            load_settings(tmp_path, env={})
        assert info.value.exit_code == 2


@pytest.mark.parametrize(("name", "value"), [("queue_file", "/abs/path/queue.md"), ("state_dir", "../x"),
                                             ("entries_dir", "~/entries"), ("reading_list", "a/../../b.md"),
                                             ("prompts_dir", "/etc")])
def test_a_path_setting_must_stay_inside_the_diary(tmp_path: Path, name: str, value: str) -> None:
    write_toml(tmp_path, f"{name} = {value!r}\n")
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path, env={})
    message = str(info.value)
    assert f"setting {name!r} in {tmp_path.resolve() / 'paperdiary.toml'} is {value!r}" in message
    assert "inside the diary" in message and info.value.exit_code == 2
    with pytest.raises(SettingsError, match=f"PAPERDIARY_{name.upper()}"):
        load_settings(tmp_path / "elsewhere", env={f"PAPERDIARY_{name.upper()}": value})


def test_a_folder_setting_through_a_symlink_must_land_inside(tmp_path: Path) -> None:
    diary = tmp_path / "diary"
    (diary / "archive").mkdir(parents=True)
    (diary / "entries").symlink_to(Path("archive"))
    (diary / "state").symlink_to(tmp_path)
    assert load_settings(diary, env={}).entries_dir == "entries"  # a link within the diary is fine
    with pytest.raises(SettingsError, match="'state_dir' in \\$PAPERDIARY_STATE_DIR is 'state', a symlink to"):
        load_settings(diary, env={"PAPERDIARY_STATE_DIR": "state"})


def test_sources_order_from_toml_and_env(tmp_path: Path) -> None:
    assert load_settings(tmp_path, env={}).sources == ("tex", "html", "pdf")
    write_toml(tmp_path, 'sources = ["html", "pdf"]\narxiv_eprint_url = "http://mirror/e-print/{}"\n')
    s = load_settings(tmp_path, env={})
    assert s.sources == ("html", "pdf") and s.arxiv_eprint_url == "http://mirror/e-print/{}"
    assert load_settings(tmp_path, env={"PAPERDIARY_SOURCES": "PDF, tex"}).sources == ("pdf", "tex")


@pytest.mark.parametrize("value", ['["tex", "docx"]', "[]", '["pdf", "pdf"]'])
def test_bad_sources_are_refused_in_one_line(tmp_path: Path, value: str) -> None:
    write_toml(tmp_path, f"sources = {value}\n")
    with pytest.raises(SettingsError, match="setting 'sources'") as caught:
        load_settings(tmp_path, env={})
    assert "tex, html, pdf" in str(caught.value) and "\n" not in str(caught.value)
