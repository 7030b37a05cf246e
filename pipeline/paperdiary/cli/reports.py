"""Read-only reports: `paperdiary show` (the stored draft behind an entry) and `paperdiary costs`."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from paperdiary.cli.context import Command, Invocation, stdout_console

if TYPE_CHECKING:
    from rich.console import Console

    from paperdiary.errors import UsageError
    from paperdiary.llm.costs import CostRow
    from paperdiary.settings import Settings

_SECTIONS = (("key_points", "Key Points"), ("key_methods", "Key Methods"), ("results", "Results"),
             ("limitations", "Limitations"), ("lessons", "Lessons"))


@click.command(cls=Command)
@click.argument("paper")
@click.pass_obj
def show(invocation: Invocation, paper: str) -> None:
    """Show the stored draft behind PAPER's entry (an arXiv ID or link, a local PDF, or the entry's path)."""
    from paperdiary.runs.workflow import stored_drafts

    settings = invocation.settings()
    drafts = stored_drafts(settings, paper)
    if not drafts:
        raise _no_draft(settings, paper)
    if invocation.json:
        fields = ("entry_path", "arxiv_id", "created_at", "draft")
        invocation.emit([{key: row[key] for key in fields} for row in drafts])
    else:
        print_drafts(stdout_console(), drafts)


@click.command(cls=Command)
@click.option("--by", type=click.Choice(["day", "model", "paper"]), default="day", show_default=True)
@click.pass_obj
def costs(invocation: Invocation, by: str) -> None:
    """Sum LLM tokens and estimated cost by day, model or paper."""
    from paperdiary.llm.costs import summarise
    from paperdiary.state.store import open_for_reading

    with open_for_reading(invocation.settings().db_path) as store:
        rows = summarise(store, by)  # type: ignore[arg-type]
    if invocation.json:
        invocation.emit({"by": by, "rows": [asdict(row) for row in rows], "total": _total(rows)})
    else:
        print_costs(stdout_console(), by, rows)


def _no_draft(settings: Settings, paper: str) -> UsageError:
    """Why there is nothing to show: an entry written without a stored draft, or no entry at all."""
    from paperdiary.errors import PaperDiaryError, UsageError
    from paperdiary.fsutil import diary_relpath
    from paperdiary.diary.catalog import entry_for_paper
    from paperdiary.stages.identify import identify

    try:
        arxiv_id = identify(paper).arxiv_id
    except PaperDiaryError:
        arxiv_id = None
    entry = entry_for_paper(settings, arxiv_id) if arxiv_id else None
    if entry is not None:
        return UsageError(f"no stored draft for {paper!r}: its entry {diary_relpath(settings.diary, entry)} was "
                          "written by hand, or drafted before drafts were kept.")
    return UsageError(f"no stored draft for {paper!r}.", hint="Draft it first: paperdiary draft " + paper)


def _total(rows: list[CostRow]) -> dict[str, Any]:
    return {
        "calls": sum(row.calls for row in rows),
        "cached_calls": sum(row.cached_calls for row in rows),
        "failed_calls": sum(row.failed_calls for row in rows),
        "prompt_tokens": sum(row.prompt_tokens for row in rows),
        "completion_tokens": sum(row.completion_tokens for row in rows),
        "cost_usd": sum(row.cost_usd for row in rows),
        "unpriced_calls": sum(row.unpriced_calls for row in rows),
        "estimated": any(row.estimated for row in rows),
    }


def print_drafts(console: Console, drafts: list[dict[str, Any]]) -> None:
    from rich.markup import escape

    for row in drafts:
        draft = row["draft"]
        console.print(f"[bold]{escape(row['entry_path'])}[/]  drafter: {escape(draft['drafter'])}, {row['created_at']}")
        for key, value in draft.get("notes", {}).items():
            console.print(f"  {key}: {escape(str(value))}", style="dim")
        for field, heading in _SECTIONS:
            items = draft.get(field) or []
            if not items:
                continue
            console.print(f"\n[bold]{heading}[/]")
            for item in items:
                mark = "[green]✓[/]" if item.get("verified", True) else "[yellow]⚠ unverified[/]"
                console.print(f"{mark} {escape(item['text'])}")
                if item.get("quote"):
                    console.print(f"    “{escape(item['quote'])}”", style="dim")
        console.print()


def print_costs(console: Console, by: str, rows: list[CostRow]) -> None:
    from rich.markup import escape
    from rich.table import Table

    if not rows:
        console.print("No LLM calls recorded yet.")
        return
    total = _total(rows)
    table = Table(show_footer=True)
    table.add_column(by, footer="total")
    footers = [f"{total['calls']:,}", f"{total['cached_calls']:,}", f"{total['prompt_tokens']:,}",
               f"{total['completion_tokens']:,}", f"{total['cost_usd']:.4f}"]
    for name, footer in zip(("calls", "cached", "prompt tokens", "completion tokens", "cost (USD)"), footers, strict=False):
        table.add_column(name, justify="right", footer=footer)
    for row in rows:
        cost = f"{row.cost_usd:.4f}" + ("+?" if row.unpriced_calls else "")
        tokens = f"{row.prompt_tokens:,}" + ("~" if row.estimated else "")
        table.add_row(escape(row.key), str(row.calls), str(row.cached_calls), tokens, f"{row.completion_tokens:,}", cost)
    console.print(table)
    if total["unpriced_calls"]:
        console.print("+? some calls used a model with no known price: add it under [prices] in paperdiary.toml.")
