"""`paperdiary index`: the README's chronological Full Diary section, shown as a diff or written."""

from __future__ import annotations

import click

from paperdiary.cli.context import Command, Invocation, stdout_console


@click.command(cls=Command)
@click.option("--write", is_flag=True, help="Write the section into README.md (default: show the diff).")
@click.option("--refresh", is_flag=True,
              help="Rewrite the lines PaperDiary wrote with each entry's title and description now "
                   "(lines you edited are kept).")
@click.option("--heading", default=None, metavar="HEADING",
              help="The README's index section (default: index_heading, else the index the README keeps, "
                   "found by its words or shape, else '## Full Diary').")
@click.pass_obj
def index(invocation: Invocation, write: bool, refresh: bool, heading: str | None) -> None:
    """Show (or --write) the README's chronological Full Diary section, one line per entry."""
    from paperdiary.diary.index import plan_index, update_index

    settings = invocation.settings()
    if write:
        with invocation.writing(settings, "index --write"):
            plan, written = update_index(settings, heading, refresh=refresh)
    else:
        plan, written = plan_index(settings, heading, refresh=refresh), False
    result = plan.result
    if invocation.json:
        invocation.emit({"file": plan.readme.name, "heading": plan.heading, "section_found": result.section_found,
                         "section_heading": result.section_heading, "section_lines": list(result.section_lines),
                         "entries": result.entries, "months": result.months, "added": result.added,
                         "refreshed": result.refreshed, "undated": plan.undated, "up_to_date": plan.up_to_date,
                         "written": written, "diff": "" if plan.up_to_date or written else plan.diff()})
        return

    from rich.text import Text

    console = stdout_console()
    for relpath in plan.undated:
        console.print(Text(f"skipped {relpath}: no date (add a line 'Date read: 11th June 2025')", style="yellow"))
    summary = (f"{result.entries} entr{'ies' if result.entries != 1 else 'y'} in {result.months} "
               f"month{'s' if result.months != 1 else ''}, {result.added} not listed before"
               + (f", {result.refreshed} refreshed" if result.refreshed else ""))
    found = result.section_found
    section = (result.section_heading.lstrip("# ") or "The README's index") if found else plan.heading.lstrip("# ")
    if plan.up_to_date:
        console.print(f"{section} is up to date ({summary}).")
    elif written:
        console.print(f"Wrote {section} in {plan.readme.name}: {summary}.")
    else:
        click.echo(plan.diff(), nl=False)  # plain, for piping into a pager or `git apply`
        console.print(Text(f"{summary}; paperdiary index --write{' --refresh' if refresh else ''} writes it.",
                           style="dim"))
