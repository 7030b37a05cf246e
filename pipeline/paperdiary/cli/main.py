"""The ``paperdiary`` command: the root group, its commands, and how errors reach the user.

Each command group lives in its own module and stays thin (parse options, call
the library, print). Heavy modules (rich, pypdf, openai, arxiv) are imported
inside commands so that ``paperdiary --help`` starts fast.
"""

from __future__ import annotations

import sys

import click

from paperdiary import __version__
from paperdiary.cli.catchup import catchup
from paperdiary.cli.context import Group, Invocation, setup_logging
from paperdiary.cli.doctor import doctor
from paperdiary.cli.draft import draft
from paperdiary.cli.index import index
from paperdiary.cli.init import init
from paperdiary.cli.map import map_
from paperdiary.cli.reports import costs, show
from paperdiary.cli.review import review
from paperdiary.errors import PaperDiaryError
from paperdiary.redact import env_secrets, redact


@click.group(cls=Group, root=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperdiary")
def cli() -> None:
    """PaperDiary: turn a paper-a-day habit into a living diary.

    The global options (--diary, --debug, --json, --verbose) work before or after the command.
    """


for _command in (init, draft, show, costs, doctor, review, index, catchup, map_):
    cli.add_command(_command)


def _fail(invocation: Invocation, message: str, code: int) -> None:
    """One line on stderr (and the error as the JSON document under --json), secrets taken out; then exit."""
    message = redact(message, env_secrets())
    click.echo(message, err=True)
    if invocation.json:
        invocation.emit({"error": message.removeprefix("error: "), "exit_code": code})
    sys.exit(code)


def main() -> None:
    invocation = Invocation()
    setup_logging(False)
    try:
        code = cli.main(prog_name="paperdiary", standalone_mode=False, obj=invocation)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PaperDiaryError as exc:
        if invocation.debug:
            raise
        _fail(invocation, f"error: {exc}", exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _fail(invocation, "Interrupted.", 130)
    except click.ClickException as exc:  # a usage error found by click: its usage line, then the error
        exc.show()
        if invocation.json:
            invocation.emit({"error": redact(exc.format_message(), env_secrets()), "exit_code": exc.exit_code})
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: one line by default, the traceback with --debug
        if invocation.debug:
            raise
        _fail(invocation, f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", 1)
