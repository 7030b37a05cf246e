"""`paperdiary catchup`: draft a whole backlog in one resumable run, and `catchup status`.

    paperdiary catchup backlog.txt        = paperdiary catchup run backlog.txt
    paperdiary catchup                    continue what an earlier run left (the journal)
    paperdiary catchup status             the journal and the Batch API batches in flight

``run`` is the default command: whatever is not a command name is a backlog, so a
backlog file literally named ``status`` (or ``run``) is passed as ``./status``.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date
from pathlib import Path

import click

from paperdiary.cli.context import DATE, DefaultCommandGroup, Invocation, deprecated, stderr_console, stdout_console


@click.group(cls=DefaultCommandGroup, default="run", when_empty=True,
             subcommand_metavar="[run | status] [BACKLOG | - | PAPER]...")
def catchup() -> None:
    """Draft every paper of a backlog in one pipelined run that can be stopped and resumed.

    `paperdiary catchup BACKLOG...` runs the default command, `run`; with no backlog it continues
    the papers an earlier run left. A backlog file named like a command is passed as ./status.
    """


@catchup.command("run")
@click.argument("inputs", nargs=-1, metavar="[BACKLOG | - | PAPER]...")
@click.option("--dry-run", is_flag=True,
              help="Print what would be drafted and skipped, and the estimated tokens and cost; change nothing.")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=64), default=4, show_default=True,
              help="Papers drafted at once (and LLM requests in flight).")
@click.option("--max-cost", type=click.FloatRange(min=0), metavar="USD",
              help="Stop starting new LLM work before the estimated cost would pass USD.")
@click.option("--retry-failed", is_flag=True, help="Also retry the papers that failed in earlier runs.")
@click.option("--batch-api", is_flag=True,
              help="Send drafting requests through the OpenAI Batch API (half price; answers within 24 h).")
@click.option("--date", "date_read", type=DATE, help="Date read for papers listed without one (default: today).")
@click.option("--model", help="LLM model (default: the diary's setting or PAPERDIARY_MODEL; none: offline drafter).")
@click.option("--from-issue-body", "issue_body", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also draft the papers named anywhere in FILE's text (a GitHub issue's body): its arXiv links, "
                   "arXiv: references and IDs.")
@click.option("--status", "old_status", is_flag=True, hidden=True)  # the old form of `catchup status`
@click.pass_obj
def run_backlog(invocation: Invocation, inputs: tuple[str, ...], dry_run: bool, jobs: int, max_cost: float | None,
                retry_failed: bool, batch_api: bool, date_read: date | None, model: str | None, issue_body: Path | None,
                 old_status: bool) -> int:
    """Draft every paper of BACKLOG... (the default command).

    BACKLOG is a text file with one paper per line (IDENTIFIER [YYYY-MM-DD] [# comment]) or a BibTeX
    file; - reads standard input; anything else is one paper. With none, catchup continues the papers
    an earlier run left. Exit codes: 0 all drafted or skipped, 1 some paper failed, 2 usage error.
    """
    from paperdiary.cli.catchup_ui import StageProgress, print_plan, print_report
    from paperdiary.runs.catchup import CatchupOptions, Plan, run_catchup
    from paperdiary.runs.workflow import drafter_name

    if old_status:
        deprecated("catchup --status", "catchup status")
        return _status(invocation, model)
    settings = invocation.settings(model=model)
    options = CatchupOptions(inputs=list(inputs), date_read=date_read, jobs=jobs, max_cost=max_cost,
                             retry_failed=retry_failed, batch_api=batch_api, dry_run=dry_run,
                              issue_body=issue_body)
    progress = None if invocation.json else StageProgress(stderr_console())
    with nullcontext() if dry_run else invocation.writing(settings, "catchup"):  # a dry run changes nothing
        outcome = run_catchup(settings, options, progress=progress)
    if invocation.json:
        invocation.emit(outcome.as_json() | {"drafter": drafter_name(settings)})
    elif isinstance(outcome, Plan):
        print_plan(stdout_console(), outcome, settings)
    else:
        print_report(stdout_console(), outcome)
    return 0 if isinstance(outcome, Plan) else outcome.exit_code


@catchup.command()
@click.option("--model", help="The model whose endpoint is asked about the batches (default: the configured one).")
@click.pass_obj
def status(invocation: Invocation, model: str | None) -> int:
    """Show the journal (papers by stage; the pending and failed ones by name) and the Batch API batches in flight."""
    return _status(invocation, model)


def _status(invocation: Invocation, model: str | None) -> int:
    from paperdiary.cli.catchup_ui import print_status
    from paperdiary.runs.catchup import catchup_status

    report = catchup_status(invocation.settings(model=model))
    if invocation.json:
        invocation.emit({"journal": report.stages, "pending": report.pending, "failed": report.failed,
                         "batches": report.batches, "batch_error": report.batch_error})
    else:
        print_status(stdout_console(), report)
    return 0
