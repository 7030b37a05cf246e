"""Shared fixtures: a fresh diary, the arXiv look-alike, and running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Timing-based deadlines make property tests flaky on a loaded 2-core CI machine.
settings.register_profile("paperdiary", deadline=None, print_blob=True)
settings.load_profile("paperdiary")

# No test waits for a retry's back-off: the retry policy (paperdiary/retry.py) computes, logs and counts
# every wait but does not sleep it, here and in every `paperdiary` subprocess a test starts.
os.environ["PAPERDIARY_RETRY_WAITS"] = "0"

REPO = Path(__file__).resolve().parent.parent
SHARED_PAPERS = Path(os.environ.get("PAPERDIARY_SHARED_PAPERS", REPO.parent / "shared" / "papers"))


@pytest.fixture(scope="session", autouse=True)
def no_user_config(tmp_path_factory: pytest.TempPathFactory):
    """The machine's ~/.config/paperdiary/config.toml stays out of every test (and of the CLIs they run):
    XDG_CONFIG_HOME is an empty folder; a test that wants a user config passes an XDG_CONFIG_HOME of its own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
        yield


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits every retry policy made from here on would have slept, in order (none is slept)."""
    from paperdiary import retry

    sleeps: list[float] = []
    monkeypatch.setattr(retry, "default_sleep", lambda: sleeps.append)
    return sleeps


@pytest.fixture
def diary(tmp_path: Path) -> Path:
    from paperdiary.diary.home import init_diary

    root = tmp_path / "diary"
    init_diary(root)
    return root


@pytest.fixture
def fake_arxiv():
    from tests.fakes.arxiv_server import FakeArxiv

    with FakeArxiv() as fake:
        yield fake


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI run: no user settings or keys leak in from the machine, and no terminal
    size (pytest-xdist's workers set COLUMNS and LINES, which rich would take over a pseudo-terminal's)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAPERDIARY_", "OPENAI_")) and k not in ("COLUMNS", "LINES")}
    env["PAPERDIARY_RETRY_WAITS"] = "0"
    env.update(extra)
    return env


def arxiv_env(arxiv, llm=None, *, retry_max_time: str = "5", **extra: str) -> dict[str, str]:
    """``clean_env`` for a CLI run against the arXiv look-alike (and, given ``llm``, the LLM server)."""
    values = {"PAPERDIARY_ARXIV_API": arxiv.api_url, "PAPERDIARY_ARXIV_DELAY": "0", "PAPERDIARY_HTTP_TIMEOUT": "2",
              "PAPERDIARY_RETRY_MAX_TIME": retry_max_time}
    if llm is not None:
        values |= {"OPENAI_BASE_URL": llm.base_url, "PAPERDIARY_MODEL": "fake-model"}
    return clean_env(**(values | extra))


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperdiary", *args],
        env=env if env is not None else clean_env(), cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )
