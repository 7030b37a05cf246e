"""Read-only reports: the stored draft behind an entry, and LLM costs."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from paperdiary.llm.costs import summarise
from paperdiary.errors import PaperDiaryError, UsageError
from paperdiary.stages.identify import identify
from paperdiary.settings import Settings
from paperdiary.state.store import Store

_SECTIONS = (("key_points", "Key Points"), ("key_methods", "Key Methods"), ("results", "Results"),
             ("limitations", "Limitations"), ("lessons", "Lessons"))


def _lookup_key(paper: str) -> str:
    """An arXiv ID in any pasted form, or else the text itself (an entry path)."""
    try:
        ref = identify(paper)
    except PaperDiaryError:
        return paper
    return ref.arxiv_id or paper


def show_drafts(settings: Settings, paper: str, console: Console) -> None:
    with Store(settings.db_path) as store:
        drafts = store.drafts_for(_lookup_key(paper))
    if not drafts:
        raise UsageError(f"no stored draft for {paper!r}.", hint="Draft it first: paperdiary draft " + paper)
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


def show_costs(settings: Settings, by: str, console: Console) -> None:
    with Store(settings.db_path) as store:
        rows = summarise(store, by)  # type: ignore[arg-type]
    if not rows:
        console.print("No LLM calls recorded yet.")
        return
    table = Table(show_footer=True)
    table.add_column(by, footer="total")
    for name in ("calls", "cached", "prompt tokens", "completion tokens", "cost (USD)"):
        table.add_column(name, justify="right")
    totals = [0, 0, 0, 0, 0.0]
    unpriced = False
    for row in rows:
        values = [row.calls, row.cached_calls, row.prompt_tokens, row.completion_tokens, row.cost_usd]
        totals = [a + b for a, b in zip(totals, values)]
        unpriced |= bool(row.unpriced_calls)
        cost = f"{row.cost_usd:.4f}" + ("+?" if row.unpriced_calls else "")
        tokens = f"{row.prompt_tokens:,}" + ("~" if row.estimated else "")
        table.add_row(escape(row.key), str(row.calls), str(row.cached_calls), tokens, f"{row.completion_tokens:,}", cost)
    for column, total in zip(table.columns[1:], totals):
        column.footer = f"{total:.4f}" if isinstance(total, float) else f"{total:,}"
    console.print(table)
    if unpriced:
        console.print("+? some calls used a model with no known price: add it under [prices] in paperdiary.toml.")
