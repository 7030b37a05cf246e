"""What every command shares: the global options, the invocation's state, consoles, JSON output.

The global options (``--diary``, ``--debug``, ``--json``, ``--verbose``) belong to
every command, not only to the root, so they work before or after the subcommand:
``paperdiary draft X --diary D`` is ``paperdiary --diary D draft X``. Commands
declared with :class:`Command` (or under a :class:`Group`) get them; each one,
wherever it is typed, records its value in the one :class:`Invocation` object of the
invocation.

rich is imported inside functions here: ``paperdiary --help`` must not load it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from paperdiary.redact import RedactingFilter, env_secrets

if TYPE_CHECKING:
    from rich.console import Console

    from paperdiary.settings import Settings


class Invocation:
    """The invocation's global options, wherever they were typed, and the settings they lead to."""

    def __init__(self) -> None:
        self.diary: str | None = None
        self.debug = False
        self.json = False
        self.verbose = False
        self.loaded: Settings | None = None  # the settings last loaded: errors name the diary's files by them

    def settings(self, *, need_diary: bool = True, **overrides: object) -> Settings:
        """The diary's settings; unless told otherwise, refuse a folder that is not a diary.

        Without --diary (or PAPERDIARY_HOME), the diary is the current folder, or when that is
        not one, the diary above it (run from ``entries/June 2025/``, the tool finds its diary).
        """
        from paperdiary.diary.home import diary_above, is_diary, require_diary
        from paperdiary.settings import load_settings

        settings = load_settings(self.diary, overrides=overrides)
        if self.diary is None and not is_diary(settings) and (above := diary_above(settings.diary)):
            settings = load_settings(above, overrides=overrides)
        self.loaded = settings
        if need_diary:
            require_diary(settings)
        return settings

    @contextmanager
    def writing(self, settings: Settings, command: str) -> Iterator[None]:
        """Hold the diary's write lock for a command that changes the diary; a wait for it is said on stderr."""
        from paperdiary.state.lock import LockHolder, diary_lock

        def announce(holder: LockHolder) -> None:
            click.echo(f"waiting for the diary lock held by {holder.describe()}…", err=True)

        with diary_lock(settings, command, on_wait=announce):
            yield

    def emit(self, document: Any) -> None:
        """The command's one JSON document on stdout."""
        click.echo(json.dumps(document, ensure_ascii=False, default=str))


class _StderrHandler(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record comes (a progress display may wrap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_logging(debug: bool) -> None:
    """Where log records go: with --debug every library's debug log; without, PaperDiary's own warnings,
    one ``warning: ...`` line each (a library's, such as pypdf's font complaints, stay out of sight).
    Either way every record is redacted first: libraries' debug logs quote URLs and headers."""
    root = logging.getLogger()
    handler = _StderrHandler()
    if not debug:
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        handler.addFilter(lambda record: record.name.split(".")[0] == "paperdiary")
    handler.addFilter(RedactingFilter(env_secrets()))
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Record a global option in the invocation's state; unset ones leave what another position set."""
    invocation = ctx.ensure_object(Invocation)
    if param.name == "diary":
        if value is not None:
            invocation.diary = value
    elif value:
        setattr(invocation, param.name or "", True)
        if param.name == "debug":
            setup_logging(True)


def _global_params(*, root: bool) -> list[click.Option]:
    return [
        click.Option(["--diary"], type=click.Path(file_okay=False), expose_value=False, callback=_remember,
                     envvar="PAPERDIARY_HOME" if root else None,  # read once, at the root
                     help="The diary folder (holding README.md and entries/). Default: PAPERDIARY_HOME, "
                          "else the current folder."),
        click.Option(["--debug"], is_flag=True, expose_value=False, callback=_remember,
                     help="Show debug logs and full tracebacks."),
        click.Option(["--json"], is_flag=True, expose_value=False, callback=_remember,
                     help="Print the outcome (errors too) as one JSON document on stdout."),
        click.Option(["--verbose", "-v"], is_flag=True, expose_value=False, callback=_remember,
                     help="More detail (draft: sections, pages, characters and time per stage)."),
    ]


class Command(click.Command):
    """A command that takes the global options too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_params(root=False))


class Group(click.Group):
    """A command group that takes the global options, as do the commands declared under it."""

    command_class = Command

    def __init__(self, *args: Any, root: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_params(root=root))


Group.group_class = Group


class DefaultCommandGroup(Group):
    """A group that runs ``default`` when the first argument is not one of its commands.

    ``paperdiary catchup backlog.txt`` is ``paperdiary catchup run backlog.txt``;
    with ``when_empty`` a bare ``paperdiary catchup`` runs the default too, otherwise
    the group's own callback (``invoke_without_command``) does. The group's own
    options may come first (``catchup --json status``); ``--`` ends them.
    """

    def __init__(self, *args: Any, default: str, when_empty: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default
        self.when_empty = when_empty

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        at = self._first_argument(ctx, args)
        if (args[at] not in self.commands) if at < len(args) else self.when_empty:
            args = [*args[:at], self.default, *args[at:]]
        return super().parse_args(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The group's options, then those of its default command (unless hidden), then the commands."""
        click.Command.format_options(self, ctx, formatter)
        command = self.commands.get(self.default)
        if command is not None and not command.hidden:
            own = {name for param in self.get_params(ctx) for name in param.opts}
            rows = [record for param in command.get_params(ctx) if isinstance(param, click.Option)
                    and not set(param.opts) & own and (record := param.get_help_record(ctx)) is not None]
            with formatter.section(f"Options of `{self.default}`, the default command"):
                formatter.write_dl(rows)
        self.format_commands(ctx, formatter)

    def _first_argument(self, ctx: click.Context, args: list[str]) -> int:
        """Where the first argument that is not one of the group's own options is."""
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (param.is_flag or param.count)
        at = 0
        while at < len(args):
            name, has_value, _ = args[at].partition("=")
            if name not in takes_value:
                return at
            at += 2 if takes_value[name] and not has_value else 1
        return at


def deprecated(old: str, *new: str) -> None:
    """The one-line note an old form prints on stderr for the release that still accepts it."""
    forms = ", then ".join(f"`paperdiary {form}`" for form in new)
    click.echo(f"note: `paperdiary {old}` is deprecated and goes in the next release; use {forms}.", err=True)


# How wide a table may grow without a terminal: wide enough that no cell wraps (rich assumes 80 columns).
_PIPE_WIDTH = 10_000


def stdout_console() -> Console:
    return _console(stderr=False, highlight=False)


def stderr_console() -> Console:
    return _console(stderr=True, highlight=True)


def _console(*, stderr: bool, highlight: bool) -> Console:
    """A terminal wraps at its width; piped output (grep, cron, CI logs) keeps whole lines, tables' rows too."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=highlight)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, highlight=highlight, soft_wrap=True, width=_PIPE_WIDTH)


class DateType(click.ParamType):
    """A YYYY-MM-DD option value, as a :class:`datetime.date`."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            self.fail(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2025-06-11.", param, ctx)


DATE = DateType()
