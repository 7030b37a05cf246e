"""The ``paperdiary`` command: the root group, its commands, and how errors reach the user.

Each command group lives in its own module and stays thin (parse options, call
the library, print). Heavy modules (rich, pypdf, openai, arxiv) are imported
inside commands so that ``paperdiary --help`` starts fast.
"""

from __future__ import annotations

import sys
import threading

import click

from paperdiary import __version__
from paperdiary.cli.catchup import catchup
from paperdiary.cli.ci import ci
from paperdiary.cli.context import Group, Invocation, setup_logging
from paperdiary.cli.doctor import doctor
from paperdiary.cli.draft import draft
from paperdiary.cli.entries import entries
from paperdiary.cli.index import index
from paperdiary.cli.init import init
from paperdiary.cli.map import map_
from paperdiary.cli.reorganize import reorganize
from paperdiary.cli.reports import costs, show
from paperdiary.cli.search import search
from paperdiary.cli.site import site
from paperdiary.cli.stats import stats
from paperdiary.cli.review import review
from paperdiary.errors import PaperDiaryError, write_error
from paperdiary.redact import env_secrets, redact, redacted_traceback


@click.group(cls=Group, root=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperdiary")
def cli() -> None:
    """PaperDiary: turn a paper-a-day habit into a living diary.

    The global options (--diary, --debug, --json, --verbose, --trust-diary-endpoints) work before or after
    the command.
    """


for _command in (init, draft, show, costs, doctor, review, entries, index, stats, search, reorganize, map_, catchup, site, ci):
    cli.add_command(_command)


def _fail(invocation: Invocation, message: str, code: int) -> None:
    """One line on stderr (and the error as the JSON document under --json), secrets taken out; then exit."""
    message = redact(message, env_secrets())
    click.echo(message, err=True)
    if invocation.json:
        invocation.emit({"error": message.removeprefix("error: "), "exit_code": code})
    sys.exit(code)


def _show_traceback(exc: BaseException) -> None:
    """--debug: the traceback, chained exceptions and notes included, every line redacted (never re-raised raw:
    a server's error body may quote the Authorization header)."""
    click.echo(redacted_traceback(exc, env_secrets()), err=True, nl=False)


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    """A worker thread's uncaught exception: its traceback redacted, as the main thread's."""
    if args.exc_value is not None and not isinstance(args.exc_value, SystemExit):
        click.echo(f"Exception in thread {args.thread.name if args.thread else '?'}:", err=True)
        _show_traceback(args.exc_value)


def main() -> None:
    invocation = Invocation()
    setup_logging(False)
    threading.excepthook = _thread_failed
    try:
        code = cli.main(prog_name="paperdiary", standalone_mode=False, obj=invocation)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PaperDiaryError as exc:
        if invocation.debug:
            _show_traceback(exc)
        _fail(invocation, f"error: {exc}", exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _fail(invocation, "Interrupted.", 130)
    except click.ClickException as exc:  # a usage error found by click: its usage line, then the error
        exc.show()
        # An unknown option stops click's parsing before --json is seen: look for it in the arguments too.
        if invocation.json or "--json" in sys.argv[1:sys.argv.index("--") if "--" in sys.argv else None]:
            invocation.emit({"error": redact(exc.format_message(), env_secrets()), "exit_code": exc.exit_code})
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug, or the system refusing a write: one line by default, the traceback with --debug
        if invocation.debug:
            _show_traceback(exc)
        refused = _refused_write(exc, invocation)
        if refused is not None:
            _fail(invocation, f"error: {refused}", refused.exit_code)
        more = "" if invocation.debug else " (run with --debug for the traceback)"
        _fail(invocation, f"internal error: {type(exc).__name__}: {exc}{more}", 1)


def _refused_write(exc: Exception, invocation: Invocation) -> PaperDiaryError | None:
    """The one-line error for a write the system refused (full disk, read-only), wherever it escaped from."""
    if isinstance(exc, OSError):
        return write_error(exc)
    if type(exc).__module__ == "sqlite3" and invocation.loaded is not None:  # the store, written mid-command
        from paperdiary.state.store import store_write_error

        return store_write_error(exc, invocation.loaded.db_path)  # type: ignore[arg-type]
    return None
