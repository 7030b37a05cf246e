"""`paperdiary init`: create an empty diary, offer to make it a git repository, say what to run next."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path

import click

from paperdiary.cli.context import Command, Invocation

FIRST_PAPER = "1706.03762"  # Attention Is All You Need: a first entry anyone can check


class GitState(StrEnum):
    """Where the new diary stands with git, for the closing lines and --json."""

    INSIDE = "inside a repository"  # already versioned: nothing to do
    INITIALISED = "initialised"  # `git init` ran here
    NOT_A_REPOSITORY = "not a repository"  # declined, --no-git, or not asked (no terminal)
    FAILED = "git init failed"  # git is missing or refused


@click.command(cls=Command)
@click.argument("directory", type=click.Path(file_okay=False), required=False)
@click.option("--git/--no-git", "git", default=None,
              help="Make DIRECTORY a git repository when it is not inside one (default: ask on a terminal, "
                   "else don't).")
@click.pass_obj
def init(invocation: Invocation, directory: str | None, git: bool | None) -> None:
    """Create a new, empty diary in DIRECTORY (default: --diary, else the current folder); existing files are kept."""
    from paperdiary.diary.home import init_diary

    root = Path(directory or invocation.diary or ".")
    created, kept = init_diary(root)
    if not invocation.json:
        for path in created:
            click.echo(f"created {path}")
        for path in kept:
            click.echo(f"kept    {path} (already there, left untouched)")
    state = _git(root, git, ask=not invocation.json and sys.stdin.isatty() and sys.stdout.isatty())
    if invocation.json:
        invocation.emit({"diary": str(root), "created": [str(p) for p in created], "kept": [str(p) for p in kept],
                         "git": str(state), "next": next_commands(root)})
        return
    if state is GitState.INITIALISED:
        click.echo(f"initialised a git repository in {root}")
    elif state is GitState.FAILED:
        click.echo(f"git init failed in {root} (is git installed?); the diary works without it.")
    elif state is GitState.NOT_A_REPOSITORY and git is None:
        click.echo(f"{root} is not a git repository yet: `git init {shlex.quote(str(root))}` (or init --git) "
                   "makes it one, to keep the diary's history.")
    click.echo("Next:")
    for command, why in zip(next_commands(root), ("a first entry: Attention Is All You Need",
                                                  "if something fails: checks arXiv and the LLM endpoint"), strict=False):
        click.echo(f"  {command:<44} # {why}")


def _git(root: Path, wanted: bool | None, *, ask: bool) -> GitState:
    """Make the diary a repository when asked to (--git, or yes on a terminal); never without asking."""
    from paperdiary.diary.home import git_init, in_git_repository

    if in_git_repository(root):
        return GitState.INSIDE
    if wanted is None and ask:
        wanted = click.confirm(f"{root} is not in a git repository. Make it one (git init)?", default=False)
    if not wanted:
        return GitState.NOT_A_REPOSITORY
    return GitState.INITIALISED if git_init(root) else GitState.FAILED


def next_commands(root: Path) -> list[str]:
    """The two commands to run next: a first draft (from inside the diary), then doctor if it fails."""
    here = root.resolve() == Path.cwd().resolve()
    draft = f"paperdiary draft {FIRST_PAPER}"
    return [draft if here else f"cd {shlex.quote(str(root))} && {draft}", "paperdiary doctor"]
