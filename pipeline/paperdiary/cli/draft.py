"""`paperdiary draft`: one paper in, one entry and its queued lessons out."""

from __future__ import annotations

import shlex
from datetime import date
from typing import TYPE_CHECKING

import click

from paperdiary.cli.context import DATE, Command, Invocation, stderr_console
from paperdiary.text import plural

if TYPE_CHECKING:
    from paperdiary.runs.workflow import DraftOutcome


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
    try:
        with invocation.writing(settings, "draft"):
            outcome = draft_paper(settings, paper, date_read=date_read, force=force, reporter=reporter)
    finally:
        if reporter is not None:
            reporter.close()
    if invocation.json:
        invocation.emit(outcome.as_json())
        return
    if not outcome.created:
        click.echo(f"Already in the diary: {outcome.entry_path} (left untouched; --force drafts a new one beside it)")
        return
    unverified = (f" · {outcome.unverified} of {outcome.claims} claims unverified: paperdiary show "
                  f"{outcome.arxiv_id or shlex.quote(outcome.entry_path)}") if outcome.unverified else ""
    click.echo(f"Drafted {outcome.entry_path} · {lessons_line(outcome, settings.queue_file)} · "
               f"{usage_summary(outcome.drafter, outcome.usage)}{unverified}")


def lessons_line(outcome: DraftOutcome, queue_file: str) -> str:
    """"2 lessons queued for review in Q", and when some or all were not, why: a re-draft proposes known ones."""
    queued = len(outcome.lessons_queued)
    line = f"{plural(queued, 'lesson')} queued for review in {queue_file}"
    if not outcome.lessons_drafted:
        return line + " (the draft proposed none)"
    known = outcome.lessons_drafted - queued
    if known:
        line += f" ({known}{' more' if queued else ''} already there or decided in review)"
    return line
