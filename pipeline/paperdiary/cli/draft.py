"""`paperdiary draft`: one paper in, one entry and its queued lessons out."""

from __future__ import annotations

import shlex
from datetime import date

import click

from paperdiary.cli.context import DATE, Command, Invocation, stderr_console


@click.command(cls=Command)
@click.argument("paper")
@click.option("--date", "date_read", type=DATE, help="The day you read it (default: today).")
@click.option("--force", is_flag=True, help="Draft again even if the diary has an entry (written beside it).")
@click.option("--model", help="LLM model (default: the diary's setting or PAPERDIARY_MODEL; none: offline drafter).")
@click.pass_obj
def draft(invocation: Invocation, paper: str, date_read: date | None, force: bool, model: str | None) -> None:
    """Draft a diary entry for PAPER (an arXiv ID or link, or a local PDF)."""
    from paperdiary.cli.ui import ConsoleReporter, usage_summary
    from paperdiary.runs.workflow import draft_paper

    settings = invocation.settings(model=model)
    reporter = None if invocation.json else ConsoleReporter(stderr_console(), verbose=invocation.verbose)
    with invocation.writing(settings, "draft"):
        outcome = draft_paper(settings, paper, date_read=date_read, force=force, reporter=reporter)
    if invocation.json:
        invocation.emit(outcome.as_json())
        return
    if not outcome.created:
        click.echo(f"Already in the diary: {outcome.entry_path} (left untouched; --force drafts a new one beside it)")
        return
    n = len(outcome.lessons_queued)
    unverified = (f" · {outcome.unverified} of {outcome.claims} claims unverified: paperdiary show "
                  f"{outcome.arxiv_id or shlex.quote(outcome.entry_path)}") if outcome.unverified else ""
    click.echo(
        f"Drafted {outcome.entry_path} · {n} lesson{'s' if n != 1 else ''} queued for review in "
        f"{settings.queue_file} · {usage_summary(outcome.drafter, outcome.usage)}{unverified}"
    )
