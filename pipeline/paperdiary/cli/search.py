"""`paperdiary search QUERY`: the entries and README lessons that match best, with the matches highlighted."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from paperdiary.cli.context import DATE, Command, Invocation, stdout_console

if TYPE_CHECKING:
    from paperdiary.diary.search import Hit


@click.command(cls=Command)
@click.argument("query")
@click.option("--since", type=DATE, help="Only entries read on or after this day (lessons: citing one).")
@click.option("--folder", default="", help="Only entries in this folder or below it (lessons: citing one).")
@click.option("--theme", default="", help="Only entries cited under this README theme, and its lessons.")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True, help="At most this many results.")
@click.pass_obj
def search(invocation: Invocation, query: str, since: date | None, folder: str, theme: str, limit: int) -> None:
    """Search the diary's entries (title, description, key points) and README lessons for QUERY."""
    from paperdiary.diary.search import Filters, search_diary
    from paperdiary.errors import UsageError

    if not query.strip():
        raise UsageError("the search query is empty.", hint='Give some words, e.g. paperdiary search "reward model".')
    hits = search_diary(invocation.settings(), query, Filters(since, folder, theme), limit)
    if invocation.json:
        invocation.emit({"query": query, "results": [hit.as_json() for hit in hits]})
        return
    _print(hits, query)


def _print(hits: list[Hit], query: str) -> None:
    from rich.text import Text

    console = stdout_console()
    if not hits:
        console.print(f"Nothing matches {query!r}.")
        return
    for hit in hits:
        doc = hit.document
        if doc.kind == "entry":
            head = Text(f"{doc.date_read}  ", style="dim") + Text(doc.title, style="bold") + Text(f"  {doc.path}",
                                                                                                  style="dim")
        else:
            head = Text("lesson  ", style="dim") + Text(doc.title, style="bold") + Text(f"  {doc.path}", style="dim")
        snippet = Text(hit.snippet)
        for start, end in hit.highlights:
            snippet.stylize("bold yellow", start, end)
        console.print(head)
        console.print(Text("  ") + snippet)
