"""A small local GitHub Actions runner for the workflow `paperdiary ci init` writes.

It reads the YAML, evaluates the job's and the steps' ``if:`` and every ``${{ … }}`` as GitHub does (the part
of the expression language the workflow uses: contexts, literals, ``== != && || !``, ``contains``,
``fromJSON``, ``success()``), and runs each ``run:`` script with bash as a runner would (``bash --noprofile
--norc -eo pipefail``), with ``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH`` (the payload, a JSON file),
``GITHUB_OUTPUT`` (read back into ``steps.<id>.outputs``) and ``RUNNER_TEMP``. The ``uses:`` steps are
stood in for: checkout (the fixture repository is the workspace), setup-python (this interpreter), and
create-pull-request (commits the changes to its branch, as the action does, and answers a PR address).
``pip install`` and ``gh`` are shims on PATH that record what they were asked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PR_URL = "https://github.com/ada-reads/diary/pull/7"


# -- expressions ----------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),])"
                    r"|(?P<name>[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*|\[\d+\])*))")


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value != 0.0


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


class Expression:
    def __init__(self, text: str, contexts: dict[str, Any]):
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise ValueError(f"cannot read the expression at {text[position:]!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.at = 0
        self.contexts = contexts

    def value(self) -> Any:
        result = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.at]}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.at]
        if expected is not None and token[1] != expected:
            raise ValueError(f"expected {expected}, got {token[1]}")
        self.at += 1
        return token

    def _or(self) -> Any:
        return self._operators(("||",), self._and, lambda left, _, right: left if _truthy(left) else right)

    def _and(self) -> Any:
        return self._operators(("&&",), self._compare, lambda left, _, right: right if _truthy(left) else left)

    def _compare(self) -> Any:
        return self._operators(("==", "!="), self._unary,
                               lambda left, op, right: _equal(left, right) == (op == "=="))

    def _operators(self, ops: tuple[str, ...], operand: Callable[[], Any],
                   combine: Callable[[Any, str, Any], Any]) -> Any:
        """One precedence level: ``operand (op operand)*``, left to right."""
        left = operand()
        while self._peek() in ops:
            op = self._take()[1]
            left = combine(left, op, operand())
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not _truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            value = self._or()
            self._take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "name":
            if self._peek() == "(":
                self._take("(")
                args = []
                while self._peek() != ")":
                    args.append(self._or())
                    if self._peek() == ",":
                        self._take(",")
                self._take(")")
                return self._call(text, args)
            if text in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[text]
            return self._lookup(text)
        raise ValueError(f"unexpected {text}")

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "contains":
            haystack, needle = args
            if isinstance(haystack, list):
                return any(_equal(item, needle) for item in haystack)
            return str(needle).lower() in str(haystack or "").lower()
        if name == "fromJSON":
            return json.loads(args[0])
        if name in ("success", "always"):
            return True
        raise ValueError(f"the local runner does not know {name}()")

    def _lookup(self, path: str) -> Any:
        value: Any = self.contexts
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


def evaluate(text: str, contexts: dict[str, Any]) -> Any:
    return Expression(text, contexts).value()


def interpolate(text: str, contexts: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value = evaluate(match[1], contexts)
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def _yaml_text(value: Any) -> str:
    """A YAML scalar as the runner passes it on: booleans as ``true``/``false``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def condition(text: Any, contexts: dict[str, Any]) -> bool:
    if text is None:
        return True
    text = str(text).strip()
    inner = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    return _truthy(evaluate(inner[1] if inner else text, contexts))


# -- the run --------------------------------------------------------------------------------------------


@dataclass
class StepRun:
    name: str
    ran: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRun:
    started: bool  # the job's if: let it run
    steps: list[StepRun] = field(default_factory=list)
    pull_requests: list[dict[str, str]] = field(default_factory=list)  # create-pull-request's inputs
    gh_calls: list[list[str]] = field(default_factory=list)
    pip_installs: list[list[str]] = field(default_factory=list)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.name == name)


def _shims(folder: Path) -> Path:
    """``python`` that records ``-m pip install`` (this interpreter has PaperDiary), ``gh`` that records."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    python = bin_dir / "python"
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then printf "%s\\n" "$*" >> "$SHIM_LOG/pip"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n', encoding="utf-8")
    gh = bin_dir / "gh"
    gh.write_text(f'#!{sys.executable}\nimport json, os, sys\n'
                  'with open(os.path.join(os.environ["SHIM_LOG"], "gh"), "a") as f:\n'
                  '    f.write(json.dumps(sys.argv[1:]) + "\\n")\n', encoding="utf-8")
    for shim in (python, gh):
        shim.chmod(0o755)
    return bin_dir


def _read_outputs(path: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    n = 0
    while n < len(lines):
        line = lines[n]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, n + 1)
            outputs[name] = "\n".join(lines[n + 1:end])
            n = end + 1
            continue
        name, _, value = line.partition("=")
        outputs[name] = value
        n += 1
    return outputs


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def run_job(workflow: Path, repo: Path, event_name: str, payload: dict[str, Any], work: Path, *,
            base_env: dict[str, str], secrets: dict[str, str] | None = None,
            variables: dict[str, str] | None = None, timeout: float = 300) -> JobRun:
    """Run the workflow's one job for the event, in order, on the repository ``repo``."""
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    (name, job), = document["jobs"].items()
    work.mkdir(parents=True, exist_ok=True)
    event_path = work / "event.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    temp = work / "runner-temp"
    temp.mkdir(exist_ok=True)
    logs = work / "shim-log"
    logs.mkdir(exist_ok=True)
    bin_dir = _shims(work)
    contexts: dict[str, Any] = {
        "github": {"event_name": event_name, "event": payload, "token": "ghs_local-test-token", "run_id": "4242",
                   "repository": "ada-reads/diary", "ref": "refs/heads/main"},
        "inputs": payload.get("inputs", {}) if event_name == "workflow_dispatch" else {},
        "secrets": secrets or {}, "vars": variables or {}, "runner": {"temp": str(temp)}, "steps": {},
    }
    result = JobRun(started=condition(job.get("if"), contexts))
    if not result.started:
        return result
    env_base = base_env | {
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{base_env.get('PATH', '')}",
        "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REPOSITORY": "ada-reads/diary",
        "GITHUB_RUN_ID": "4242", "GITHUB_WORKSPACE": str(repo), "RUNNER_TEMP": str(temp), "SHIM_LOG": str(logs),
        "CI": "true", "GITHUB_ACTIONS": "true",
    }
    for index, step in enumerate(job["steps"]):
        label = step.get("name", f"step {index}")
        if not condition(step.get("if"), contexts):
            result.steps.append(StepRun(label, ran=False))
            continue
        if "uses" in step:
            run = _uses(step, repo, contexts, result)
        else:
            output = work / f"output-{index}"
            output.write_text("", encoding="utf-8")
            env = env_base | {k: interpolate(_yaml_text(v), contexts) for k, v in (step.get("env") or {}).items()}
            env["GITHUB_OUTPUT"] = str(output)
            script = work / f"step-{index}.sh"
            script.write_text(interpolate(step["run"], contexts), encoding="utf-8")  # as GitHub does: the danger
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=repo,
                                  env=env, capture_output=True, text=True, timeout=timeout)
            run = StepRun(label, True, done.returncode, done.stdout, done.stderr, _read_outputs(output))
        result.steps.append(run)
        if "id" in step:
            contexts["steps"][step["id"]] = {"outputs": run.outputs}
        if run.returncode != 0:
            break
    if (logs / "gh").exists():
        result.gh_calls = [json.loads(line) for line in (logs / "gh").read_text(encoding="utf-8").splitlines()]
    if (logs / "pip").exists():
        result.pip_installs = [line.split() for line in (logs / "pip").read_text(encoding="utf-8").splitlines()]
    return result


def _uses(step: dict[str, Any], repo: Path, contexts: dict[str, Any], result: JobRun) -> StepRun:
    action = step["uses"].split("@")[0]
    inputs = {k: interpolate(_yaml_text(v), contexts) for k, v in (step.get("with") or {}).items()}
    label = step.get("name", action)
    if action == "actions/checkout":
        assert inputs.get("persist-credentials") == "false", "the token must not stay in .git/config"
        return StepRun(label, True)
    if action == "actions/setup-python":
        return StepRun(label, True)
    if action == "peter-evans/create-pull-request":
        result.pull_requests.append(inputs)
        if not _git(repo, "status", "--porcelain").strip():
            return StepRun(label, True, outputs={"pull-request-operation": "none"})
        _git(repo, "checkout", "-q", "-B", inputs["branch"])
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=github-actions[bot]", "-c", "user.email=bot@example.invalid", "commit", "-q",
             "-m", inputs.get("commit-message") or "[create-pull-request] automated change")
        return StepRun(label, True, outputs={"pull-request-url": PR_URL, "pull-request-number": "7",
                                             "pull-request-operation": "created"})
    raise AssertionError(f"the local runner does not stand in for {action}")
