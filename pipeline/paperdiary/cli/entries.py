"""`paperdiary entries`: the diary's catalog listed (date, title, folder, paper or source, description),
with the problems found."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from paperdiary.cli.context import Command, Invocation, stdout_console

if TYPE_CHECKING:
    from rich.console import Console

    from paperdiary.diary.catalog import Catalog, Describer
    from paperdiary.settings import Settings
    from paperdiary.state.store import Store


@click.command(cls=Command)
@click.option("--llm", "use_llm", is_flag=True,
              help="Have the model write the descriptions the entries lack (cached: each costs one call once).")
@click.pass_obj
def entries(invocation: Invocation, use_llm: bool) -> None:
    """List every entry of the diary as the catalog reads it, and the problems found (no date, ambiguous
    date, two entries of one paper, unreadable file, symlink out of the diary)."""
    from paperdiary.diary.catalog import Catalog
    from paperdiary.state.store import Store, open_for_reading

    settings = invocation.settings()
    # Listing only reads (a read-only state folder will do: the catalog then goes uncached); --llm writes answers.
    with Store(settings.db_path) if use_llm else open_for_reading(settings.db_path) as store:
        catalog = Catalog(settings, store=store, llm_describe=_describer(settings, store) if use_llm else None)
        found = catalog.entries()
    if invocation.json:
        invocation.emit({"entries": [entry.as_json() for entry in found],
                         "problems": [problem.as_json() for problem in catalog.problems()],
                         "non_notes": [other.as_json() for other in catalog.non_notes()]})
        return
    _print(catalog)


def _describer(settings: Settings, store: Store) -> Describer:
    from paperdiary.diary.llm_describe import LLMDescriber
    from paperdiary.errors import UsageError
    from paperdiary.llm.client import LLMClient

    if not settings.llm_configured:
        raise UsageError("--llm needs a model.", hint="Set PAPERDIARY_MODEL (and OPENAI_BASE_URL), or drop --llm.")
    return LLMDescriber(settings, LLMClient(settings, store))


def _print(catalog: Catalog) -> None:
    from rich.markup import escape
    from rich.table import Table

    console = stdout_console()
    found = catalog.entries()
    if not found:
        console.print("No entries found.")
        _print_non_notes(console, catalog)
        return
    table = Table(box=None, pad_edge=False)
    for column in ("date", "title", "folder", "paper", "description"):
        table.add_column(column, overflow="fold")
    for entry in found:
        day = f"{entry.date_read:%Y-%m-%d}"
        if entry.date_source.value != "written-in-file":
            day += f" ({entry.date_source.value})"
        paper = f"arXiv {entry.arxiv_id}" if entry.arxiv_id else (entry.links[0] if entry.links else "")
        description = entry.description or "—"
        if entry.description_source.value not in ("drafted", "first-sentence"):
            description += f" ({entry.description_source.value})"
        title = ("! " if entry.problems else "") + entry.title
        if console.is_terminal:
            table.add_row(escape(day), escape(title), escape(entry.folder or "."), escape(paper), escape(description))
        else:  # piped: one line per entry, tab-separated, for grep and cut
            click.echo("\t".join((day, title, entry.relpath, paper, description)))
    if console.is_terminal:
        console.print(table)
    problems = catalog.problems()
    console.print(f"\n{len(found)} entr{'ies' if len(found) != 1 else 'y'}, "
                  f"{len(problems)} problem{'s' if len(problems) != 1 else ''}")
    for problem in problems:
        console.print(f"[yellow]![/] {escape(problem.relpath)}: {escape(problem.message)}")
    _print_non_notes(console, catalog)


def _print_non_notes(console: Console, catalog: Catalog) -> None:
    """The markdown files taken for no note, each with why: a wrong one is fixed by a setting or a rename."""
    from rich.markup import escape

    others = catalog.non_notes()
    if others:
        console.print(f"\nnot notes ({len(others)}):")
    for other in others:
        console.print(f"  - {escape(other.relpath)}: {escape(other.reason)}")
