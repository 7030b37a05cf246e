"""The workflows PaperDiary writes (`ci init`'s paperdiary.yml, `site --workflow`'s pages.yml) pass actionlint
and zizmor (its most demanding persona, offline) with no finding above informational; `ci init` says what to
set on GitHub, keeps a workflow the user changed, and pins every action by hash from the one table."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from paperdiary.workflows import ACTIONS
from tests.conftest import run_cli

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:  # the test extra installs both; CI must not skip them
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(f"{name} is not installed (pip install -e '.[test]')")
    return found


@pytest.fixture(scope="module")
def workflows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lint") / "diary"
    assert run_cli("init", str(root), "--git").returncode == 0
    for args in (("ci", "init"), ("site", "--workflow")):
        done = run_cli(*args, cwd=root)
        assert done.returncode == 0, done.stderr
    return root / ".github" / "workflows"


def test_both_workflows_are_written(workflows: Path) -> None:
    assert sorted(p.name for p in workflows.iterdir()) == ["pages.yml", "paperdiary.yml"]


def test_actionlint_finds_nothing(workflows: Path) -> None:
    done = subprocess.run([tool("actionlint"), "-no-color", *sorted(map(str, workflows.iterdir()))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_above_informational(workflows: Path) -> None:
    done = subprocess.run([tool("zizmor"), "--offline", "--persona", "auditor", "--format", "json", str(workflows)],
                          capture_output=True, text=True, timeout=120)
    findings = json.loads(done.stdout)
    assert isinstance(findings, list)
    serious = [(f["ident"], f["determinations"]["severity"]) for f in findings
               if f["determinations"]["severity"].lower() not in ("informational", "unknown")]
    assert serious == [], done.stdout


def test_every_action_is_pinned_by_hash_from_the_one_table(workflows: Path) -> None:
    used = [step["uses"] for path in workflows.iterdir()
            for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values() for step in job["steps"]
            if "uses" in step]
    assert len(used) >= 6
    assert all(re.fullmatch(r"[\w\-]+/[\w\-]+@[0-9a-f]{40}", u) for u in used), used
    pinned = {pin.split("  #")[0] for pin in ACTIONS.values()}
    assert set(used) <= pinned


def test_ci_init_says_what_to_set_and_keeps_a_changed_workflow(tmp_path: Path) -> None:
    root = tmp_path / "diary"
    assert run_cli("init", str(root), "--git").returncode == 0
    first = run_cli("ci", "init", "--branch", "main", cwd=root)
    assert first.returncode == 0, first.stderr
    assert "Allow GitHub Actions to create and approve pull requests" in first.stdout
    assert "OPENAI_API_KEY" in first.stdout and "PAPERDIARY_MODEL" in first.stdout
    path = root / ".github/workflows/paperdiary.yml"
    text = path.read_text(encoding="utf-8")
    assert "      - \"main\"" in text and "READING-LIST.md" in text
    again = run_cli("ci", "init", "--branch", "main", cwd=root)
    assert again.returncode == 0 and "already up to date" in again.stdout
    path.write_text(text + "# mine\n", encoding="utf-8")
    refused = run_cli("ci", "init", "--branch", "main", cwd=root)
    assert refused.returncode != 0 and "already exists" in refused.stderr and "Traceback" not in refused.stderr
    assert path.read_text(encoding="utf-8").endswith("# mine\n")
    assert run_cli("ci", "init", "--branch", "main", "--force", cwd=root).returncode == 0
    assert path.read_text(encoding="utf-8") == text
