"""The GitHub Actions workflows PaperDiary writes into a diary (``.github/workflows/``), from one place.

- **Templates** are packaged files, ``prompts/workflows/NAME.yml.j2`` (``pages``: ``paperdiary site
  --workflow``; ``paperdiary``: ``paperdiary ci init``) and the texts the workflows write (the pull request's
  body, ``pull-request.md.j2``), rendered in Jinja2's immutable sandbox. GitHub's own expressions (``${{ … }}``) are
  left alone: the templates' delimiters are ``[[ … ]]`` and ``[% … %]``. A diary cannot override
  them: a workflow runs with the repository's token, so its text is PaperDiary's, not a cloned diary's.
- **Action pins** live in :data:`ACTIONS` only, for every workflow: each action by the commit hash of a
  release, its version in a comment (zizmor asks for hashes; Dependabot and Renovate update both).
- **Writing**: a workflow already there with other text is the user's: refused unless ``force``;
  the same text is left untouched. Written atomically, inside the diary's walls.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from paperdiary.errors import DiaryError
from paperdiary.fsutil import atomic_create_text, read_diary_bytes, replace_diary_file

WORKFLOWS_DIR = ".github/workflows"
PYTHON_VERSION = "3.11"
# uses: of every workflow PaperDiary writes, by the name its templates use.
ACTIONS = {
    "checkout": "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2",
    "setup_python": "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065  # v5.6.0",
    "configure_pages": "actions/configure-pages@983d7736d9b0ae728b81ab479565c72886d7745b  # v5.0.0",
    "upload_pages_artifact": "actions/upload-pages-artifact@56afc609e74202658d3ffba0e8f6dda462b719fa  # v3.0.1",
    "deploy_pages": "actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e  # v4.0.5",
    "create_pull_request": "peter-evans/create-pull-request@271a8d0340265f705b14b6d32b9829c1cb33d45e  # v7.0.8",
}


@dataclass(frozen=True)
class WrittenWorkflow:
    path: Path
    changed: bool  # False: the file already held this text


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    def packaged(name: str) -> str | None:
        resource = resources.files("paperdiary.prompts").joinpath("workflows", name)
        return resource.read_text(encoding="utf-8") if resource.is_file() else None

    return ImmutableSandboxedEnvironment(
        loader=jinja2.FunctionLoader(packaged), autoescape=False, undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        variable_start_string="[[", variable_end_string="]]", block_start_string="[%", block_end_string="%]",
        comment_start_string="[#", comment_end_string="#]",
    )


def render_workflow(name: str, **context: object) -> str:
    """The workflow ``name`` (``pages``, ``paperdiary``) as YAML text; ``actions`` and ``python_version`` are
    filled in."""
    return render_text(f"{name}.yml.j2", actions=ACTIONS, python_version=PYTHON_VERSION, **context)


def render_text(template_name: str, **context: object) -> str:
    """Any packaged template of ``prompts/workflows/`` (a workflow, the pull request's body)."""
    return _environment().get_template(template_name).render(**context)


def workflow_path(diary: Path, name: str) -> Path:
    return diary / WORKFLOWS_DIR / f"{name}.yml"


def write_workflow(diary: Path, name: str, text: str, *, force: bool = False) -> WrittenWorkflow:
    """Write ``.github/workflows/NAME.yml``; a different file already there is refused unless ``force``."""
    path = workflow_path(diary, name)
    try:
        current: bytes | None = read_diary_bytes(diary, path)
    except FileNotFoundError:
        current = None
    if current is not None:
        if current == text.encode("utf-8"):
            return WrittenWorkflow(path, changed=False)
        if not force:
            raise DiaryError(f"{WORKFLOWS_DIR}/{name}.yml already exists with other text: left as it is.",
                             hint="Compare it with the new one, or pass --force to replace it.")
        replace_diary_file(diary, path, text)
        return WrittenWorkflow(path, changed=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not atomic_create_text(path, text):  # created meanwhile by someone else: theirs
        raise DiaryError(f"{WORKFLOWS_DIR}/{name}.yml appeared while it was being written: left as it is.")
    return WrittenWorkflow(path, changed=True)
