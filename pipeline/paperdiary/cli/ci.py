"""`paperdiary ci`: drafting from a phone through a GitHub Action.

    paperdiary ci init                 write .github/workflows/paperdiary.yml and say what to set on GitHub
    paperdiary ci event                (a workflow step) what started the run, and whether it drafts
    paperdiary ci pr-body SUMMARY      (a workflow step) the pull request's title and body
    paperdiary ci answer-issue N       (a workflow step) comment the pull request on the issue and close it
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click

from paperdiary.cli.context import Command, Group, Invocation

LABEL = "paper"
WORKFLOW = "paperdiary"


@click.group(cls=Group)
def ci() -> None:
    """Draft from your phone: a GitHub Action drafts what you add to the reading list (or an issue labelled
    `paper`) and opens a pull request."""


@ci.command("init", cls=Command)
@click.option("--branch", help="The branch whose reading list is drafted (default: the current one, else main).")
@click.option("--force", is_flag=True, help="Replace a paperdiary.yml that has other text.")
@click.pass_obj
def init(invocation: Invocation, branch: str | None, force: bool) -> None:
    """Write .github/workflows/paperdiary.yml, then print what it does and the repository settings to change."""
    from paperdiary.git import git_output
    from paperdiary.workflows import WORKFLOWS_DIR, render_workflow, write_workflow

    settings = invocation.settings()
    branch = branch or (git_output(settings.diary, "symbolic-ref", "--short", "HEAD") or "").strip() or "main"
    text = render_workflow(WORKFLOW, branch=branch, reading_list=settings.reading_list, label=LABEL,
                           package="paperdiary")
    with invocation.writing(settings, "ci"):
        written = write_workflow(settings.diary, WORKFLOW, text, force=force)
    relpath = f"{WORKFLOWS_DIR}/{WORKFLOW}.yml"
    if invocation.json:
        invocation.emit({"workflow": relpath, "changed": written.changed, "branch": branch, "label": LABEL})
        return
    click.echo(f"{relpath}: {'written' if written.changed else 'already up to date'}. It drafts, and opens a pull "
               "request with the entries, the ticked reading list and the queued lessons, on:")
    click.echo(f"  - a push to {branch} that changes {settings.reading_list};")
    click.echo(f"  - an issue labelled '{LABEL}' by you or a collaborator (its arXiv links are the papers), "
               "which it then answers with the pull request and closes;")
    click.echo("  - Actions -> Draft new papers -> Run workflow, with the papers to draft.")
    click.echo("Two settings to change on GitHub, once:")
    click.echo("  1. Settings -> Actions -> General -> Workflow permissions: tick \"Allow GitHub Actions to create "
               "and approve pull requests\".")
    click.echo("  2. To draft with a model: Settings -> Secrets and variables -> Actions: the secret OPENAI_API_KEY and "
               "the variable PAPERDIARY_MODEL (and OPENAI_BASE_URL for another endpoint); without them, the offline "
               "drafter.")
    click.echo(f"Then commit and push it (git add .github && git commit -m 'Draft from the phone' && git push), and "
               f"create the label '{LABEL}' under Issues -> Labels.")


@ci.command("event", cls=Command)
@click.option("--label", default=LABEL, show_default=True, help="The issue label that asks for a draft.")
@click.option("--papers-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where the issue's body (or the papers input) goes, for catchup --from-issue-body.")
@click.pass_obj
def event(invocation: Invocation, label: str, papers_file: Path) -> None:
    """Read the GitHub event (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH; the issue's body in ISSUE_BODY, the input in
    PAPERS_INPUT) and write the step's outputs: draft, source, branch, issue."""
    from paperdiary.errors import UsageError
    from paperdiary.runs.github import read_event, write_outputs

    settings = invocation.settings()
    name = os.environ.get("GITHUB_EVENT_NAME", "")
    event_path = os.environ.get("GITHUB_EVENT_PATH", "")
    if not name or not event_path:
        raise UsageError("GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set.",
                         hint="`paperdiary ci event` is a step of the workflow `paperdiary ci init` writes.")
    try:
        payload = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read the event payload {event_path}: {exc}.") from None
    decision = read_event(settings, name, payload if isinstance(payload, dict) else {}, os.environ,
                          label=label, papers_file=papers_file)
    output = os.environ.get("GITHUB_OUTPUT")
    write_outputs(Path(output) if output else None, decision.outputs())
    if invocation.json:
        invocation.emit(decision.outputs() | {"reason": decision.reason})
    else:
        click.echo(decision.reason)


@ci.command("pr-body", cls=Command)
@click.argument("summary", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where the pull request's body goes (markdown).")
@click.pass_obj
def pr_body(invocation: Invocation, summary: Path, out: Path) -> None:
    """Write the pull request's body from `paperdiary --json catchup`'s SUMMARY (drafted, skipped, failed with
    reasons, tokens, cost, and the queued lessons); its title goes to the step's output `title`."""
    from paperdiary.fsutil import atomic_write_text
    from paperdiary.runs.github import pull_request_text, read_summary, write_outputs

    settings = invocation.settings()
    text = pull_request_text(settings, read_summary(summary))
    atomic_write_text(out, text.body)
    output = os.environ.get("GITHUB_OUTPUT")
    write_outputs(Path(output) if output else None, {"title": text.title})
    if invocation.json:
        invocation.emit({"title": text.title, "body": str(out)})
    else:
        click.echo(f"{text.title} ({out})")


@ci.command("answer-issue", cls=Command)
@click.argument("issue", type=click.IntRange(min=1))
@click.option("--pr-url", default="", help="The pull request's address (empty: no pull request was opened).")
@click.option("--body", "body", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The pull request's body: the comment when no pull request was opened.")
def answer_issue(issue: int, pr_url: str, body: Path) -> None:
    """Comment the pull request on ISSUE and close it (with `gh`, GH_TOKEN); with no pull request (nothing new
    was drafted), comment what happened and leave the issue open."""
    from paperdiary.errors import UsageError

    repo = ["--repo", os.environ["GITHUB_REPOSITORY"]] if os.environ.get("GITHUB_REPOSITORY") else []
    if pr_url:
        command = ["gh", "issue", "close", str(issue), *repo, "--comment", f"Drafted in {pr_url}: review and merge it."]
    else:
        command = ["gh", "issue", "comment", str(issue), *repo, "--body-file", str(body)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run gh to answer issue #{issue}: {exc}.", hint="GitHub's runners have gh.") from None
    if done.returncode:
        raise UsageError(f"gh could not answer issue #{issue}: {done.stderr.strip() or done.returncode}.")
    click.echo(f"Issue #{issue}: {'closed with a link to ' + pr_url if pr_url else 'answered; left open'}.")
