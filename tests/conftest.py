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

REPO = Path(__file__).resolve().parent.parent
SHARED_PAPERS = Path(os.environ.get("PAPERDIARY_SHARED_PAPERS", REPO.parent / "shared" / "papers"))


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
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperdiary", *args],
        env=env if env is not None else clean_env(), cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )
