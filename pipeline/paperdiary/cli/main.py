"""The ``paperdiary`` command: a thin click layer over the library.

Heavy modules (rich, pypdf, openai, arxiv) are imported inside commands so that
``paperdiary --help`` starts fast.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from pathlib import Path

import click

from paperdiary import __version__
from paperdiary.errors import PaperDiaryError
from paperdiary.redact import RedactingFilter, env_secrets, redact


class _Context:
    def __init__(self, diary: str | None, debug: bool):
        self.diary = diary
        self.debug = debug

    def settings(self, *, need_diary: bool = True, **overrides: object):
        """The diary's settings; unless told otherwise, refuse a folder that is not a diary."""
        from paperdiary.diary.home import require_diary
        from paperdiary.settings import load_settings

        settings = load_settings(self.diary, overrides=overrides)
        if need_diary:
            require_diary(settings)
        return settings


def _setup_logging(debug: bool) -> None:
    root = logging.getLogger()
    # Without a handler Python's last-resort handler would print library warnings (pypdf's) to stderr.
    handler = logging.StreamHandler(sys.stderr) if debug else logging.NullHandler()
    handler.addFilter(RedactingFilter(env_secrets()))  # libraries' debug logs may quote headers
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def _stdout():
    from rich.console import Console

    # Piped output keeps whole lines (for grep and scripts); a terminal wraps at its width.
    return Console(highlight=False, soft_wrap=not sys.stdout.isatty())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--diary", type=click.Path(file_okay=False), envvar="PAPERDIARY_HOME",
              help="The diary folder (holding README.md and entries/). Default: the current folder.")
@click.option("--debug", is_flag=True, help="Show debug logs and full tracebacks.")
@click.version_option(__version__, prog_name="paperdiary")
@click.pass_context
def cli(ctx: click.Context, diary: str | None, debug: bool) -> None:
    """PaperDiary: turn a paper-a-day habit into a living diary."""
    _setup_logging(debug)
    ctx.obj = _Context(diary, debug)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False), default=".")
def init(directory: str) -> None:
    """Create a new, empty diary in DIRECTORY (existing files are kept)."""
    from paperdiary.diary.home import init_diary

    created, kept = init_diary(Path(directory))
    for path in created:
        click.echo(f"created {path}")
    for path in kept:
        click.echo(f"kept    {path} (already there, left untouched)")


@cli.command()
@click.argument("paper")
@click.option("--date", "date_read", metavar="YYYY-MM-DD", help="The day you read it (default: today).")
@click.option("--force", is_flag=True, help="Draft again even if the diary has an entry (written beside it).")
@click.option("--verbose", "-v", is_flag=True, help="Show sections, pages, characters and time per stage.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON object.")
@click.option("--model", help="LLM model (default: the diary's setting or PAPERDIARY_MODEL; none: offline drafter).")
@click.pass_obj
def draft(obj: _Context, paper: str, date_read: str | None, force: bool, verbose: bool, as_json: bool,
          model: str | None) -> None:
    """Draft a diary entry for PAPER (an arXiv ID or link, or a local PDF)."""
    from paperdiary.cli.ui import ConsoleReporter, usage_summary
    from paperdiary.runs.workflow import draft_paper

    day = _parse_date(date_read)
    settings = obj.settings(model=model)
    console = _stderr()
    outcome = draft_paper(
        settings, paper, date_read=day, force=force,
        reporter=ConsoleReporter(console, verbose=verbose) if not as_json else None,
    )
    if as_json:
        click.echo(json.dumps(outcome.as_json(), ensure_ascii=False))
        return
    if not outcome.created:
        click.echo(f"Already in the diary: {outcome.entry_path} (left untouched; --force drafts a new one beside it)")
        return
    n = len(outcome.lessons_queued)
    click.echo(
        f"Drafted {outcome.entry_path} · {n} lesson{'s' if n != 1 else ''} queued for review in "
        f"{settings.queue_file} · {usage_summary(outcome.drafter, outcome.usage)}"
    )


@cli.command()
@click.argument("paper")
@click.pass_obj
def show(obj: _Context, paper: str) -> None:
    """Show the stored draft behind PAPER's entry: each claim with its supporting quote."""
    from paperdiary.cli.show import show_drafts

    show_drafts(obj.settings(), paper, _stdout())


@cli.command()
@click.option("--by", type=click.Choice(["day", "model", "paper"]), default="day", show_default=True)
@click.pass_obj
def costs(obj: _Context, by: str) -> None:
    """Sum LLM tokens and estimated cost by day, model or paper."""
    from paperdiary.cli.show import show_costs

    show_costs(obj.settings(), by, _stdout())


@cli.command()
@click.option("--model", help="Check this model instead of the configured one.")
@click.pass_obj
def doctor(obj: _Context, model: str | None) -> None:
    """Check the diary, the arXiv API, the LLM endpoint and model, and the cache."""
    from paperdiary.cli.doctor import run_checks

    ok = run_checks(obj.settings(need_diary=False, model=model), _stdout())
    if not ok:
        sys.exit(1)


@cli.command()
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--list", "list_", is_flag=True, help="List the queued lessons with their proposals.")
@click.option("--json", "as_json", is_flag=True, help="List as JSON (id, lesson, proposal kind and theme, ...).")
@click.option("--accept", is_flag=True, help="Accept the lessons ID... where proposed (ticks their boxes).")
@click.option("--reject", is_flag=True, help="Reject the lessons ID... (they leave the queue).")
@click.option("--theme", "themes", nargs=2, multiple=True, metavar="ID NAME",
              help="Place lesson ID under theme NAME (a new theme if the README has none of that name).")
@click.option("--kind", "kinds", nargs=2, multiple=True, metavar="ID KIND",
              help="Place lesson ID as KIND: add, extend or new_theme.")
@click.option("--diff", is_flag=True, help="Show the README diff of the accepted lessons not yet applied.")
@click.option("--apply", "apply_", is_flag=True, help="Write the accepted lessons into README.md.")
@click.option("--add", "add_text", metavar="TEXT", help="Queue a lesson of your own, placed like the others.")
@click.option("--source", metavar="ENTRY", help="With --add: its entry (a path, or a drafted paper's arXiv ID).")
@click.option("--llm", "use_llm", is_flag=True,
              help="Let the configured LLM rerank each proposal's theme and polish its wording (cached).")
@click.pass_obj
def review(obj: _Context, ids: tuple[str, ...], list_: bool, as_json: bool, accept: bool, reject: bool,
           themes: tuple[tuple[str, str], ...], kinds: tuple[tuple[str, str], ...], diff: bool, apply_: bool,
           add_text: str | None, source: str | None, use_llm: bool) -> None:
    """Review the queued lessons and merge them into the README's themes.

    Without options, walks the undecided lessons one key at a time.
    """
    from paperdiary.cli.review import ReviewRequest, run_review

    request = ReviewRequest(ids, accept, reject, themes, kinds, list_, as_json, diff, apply_, add_text, source,
                            use_llm)
    run_review(obj.settings(), request, _stdout())


@cli.command()
@click.option("--write", is_flag=True, help="Write the section into README.md (default: show the diff).")
@click.option("--heading", default="## Full Diary", show_default=True, help="The README section to keep.")
@click.pass_obj
def index(obj: _Context, write: bool, heading: str) -> None:
    """Show (or --write) the README's chronological Full Diary section, one line per entry."""
    from paperdiary.diary.index import run_index

    run_index(obj.settings(), heading, write=write, console=_stdout())


@cli.command()
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
@click.option("--status", "show_status", is_flag=True,
              help="Show the journal and the Batch API batches in flight, then exit.")
@click.option("--date", "date_read", metavar="YYYY-MM-DD", help="Date read for papers listed without one (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome (or the plan) as one JSON object.")
@click.option("--model", help="LLM model (default: the diary's setting or PAPERDIARY_MODEL; none: offline drafter).")
@click.pass_obj
def catchup(obj: _Context, inputs: tuple[str, ...], dry_run: bool, jobs: int, max_cost: float | None,
            retry_failed: bool, batch_api: bool, show_status: bool, date_read: str | None, as_json: bool,
            model: str | None) -> int:
    """Draft every paper of a backlog in one pipelined run that can be stopped and resumed.

    BACKLOG is a text file with one paper per line (IDENTIFIER [YYYY-MM-DD] [# comment]) or a BibTeX
    file; - reads standard input; anything else is one paper. With none, catchup continues the papers
    an earlier run left. Exit codes: 0 all drafted or skipped, 1 some paper failed, 2 usage error.
    """
    from paperdiary.runs.catchup import CatchupOptions
    from paperdiary.cli.catchup import run_command

    options = CatchupOptions(inputs=list(inputs), date_read=_parse_date(date_read), jobs=jobs, max_cost=max_cost,
                             retry_failed=retry_failed, batch_api=batch_api, dry_run=dry_run)
    return run_command(obj.settings(model=model), options, show_status=show_status, as_json=as_json,
                       stdout=_stdout(), stderr=_stderr())


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        from paperdiary.errors import UsageError

        raise UsageError(f"--date {value!r} is not a date.", hint="Use YYYY-MM-DD, e.g. --date 2025-06-11.") from None


def _fail(message: str, code: int) -> None:
    """One line on stderr (and a JSON object on stdout under --json), secrets taken out; then exit."""
    message = redact(message, env_secrets())
    click.echo(message, err=True)
    if "--json" in sys.argv[1:]:
        click.echo(json.dumps({"error": message.removeprefix("error: "), "exit_code": code}))
    sys.exit(code)


def main() -> None:
    debug = "--debug" in sys.argv[1:]
    try:
        code = cli.main(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PaperDiaryError as exc:
        if debug:
            raise
        _fail(f"error: {exc}", exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: one line by default, the traceback with --debug
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", 1)
