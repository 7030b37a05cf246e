"""`paperdiary reorganize --layout PATTERN`: move the entries to a new layout, rewriting every link to them."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from paperdiary.cli.context import Command, Invocation, stdout_console

if TYPE_CHECKING:
    from paperdiary.diary.reorganize import Plan


@click.command(cls=Command)
@click.option("--layout", metavar="PATTERN",
              help="Where entries go, with the fields of entry_path: {theme} {short_name} {month_year} {month} "
                   "{year} {day} {ordinal_day} {arxiv_id}, e.g. '{theme}/{short_name}.md'.")
@click.option("--default-theme", default="", metavar="NAME",
              help="{theme} of an entry no README theme cites and whose folder is no topic.")
@click.option("--dry-run", is_flag=True, help="Show the moves and the link rewrites; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do it without asking (for scripts).")
@click.pass_obj
def reorganize(invocation: Invocation, layout: str | None, default_theme: str, dry_run: bool, yes: bool) -> None:
    """Move the entries to a new layout (git mv in a git repository) and rewrite every link to them in
    README.md, the lessons queue, the reading list and the entries. A killed run is finished by the next."""
    from paperdiary.diary.reorganize import make_plan, pending_plan, reorganize as carry_out_plan
    from paperdiary.errors import UsageError
    from paperdiary.state.store import Store

    settings = invocation.settings()
    with Store(settings.db_path) as store:
        pending = pending_plan(store)
    report: dict[str, object] = {}
    if pending is not None:
        if dry_run:
            _show(invocation, pending, "An interrupted reorganize is waiting to be finished")
            return
        with invocation.writing(settings, "reorganize"):
            kept = carry_out_plan(settings, pending)
        report["finished_interrupted"] = {"layout": pending.layout, "moves": len(pending.moves), "kept": kept}
        if not invocation.json:
            stdout_console().print(f"Finished the interrupted reorganize to {pending.layout!r}: "
                                   f"{len(pending.moves)} moves.")
    if not layout:
        if pending is not None:
            if invocation.json:
                invocation.emit(report)
            return
        raise UsageError("reorganize needs --layout.", hint="e.g. paperdiary reorganize --layout '{theme}/{short_name}.md'")
    with Store(settings.db_path) as store:
        plan = make_plan(settings, layout, default_theme, store=store)
    if plan.empty:
        if invocation.json:
            invocation.emit(report | _plan_json(plan) | {"done": False})
        else:
            _print_skipped(plan)
            stdout_console().print(f"Nothing to move: every entry is where {layout!r} puts it.")
        return
    if dry_run:
        _show(invocation, plan, "Plan", report)
        return
    if not yes:
        if invocation.json or not sys.stdin.isatty():
            raise UsageError("reorganize moves files: pass --yes to do it without asking, or --dry-run to look first.")
        _show(invocation, plan, "Plan")
        if not click.confirm(f"Move {len(plan.moves)} entries and rewrite links in {len(plan.rewrites)} files?"):
            stdout_console().print("Nothing was moved.")
            return
    with invocation.writing(settings, "reorganize"):
        kept = carry_out_plan(settings, plan)
    if invocation.json:
        invocation.emit(report | _plan_json(plan) | {"done": True, "kept": kept})
        return
    console = stdout_console()
    console.print(f"Moved {len(plan.moves)} entries; rewrote links in {len(plan.rewrites) - len(kept)} files.")
    for path in kept:
        console.print(f"[yellow]kept {path} as you changed it meanwhile: check its links.[/]")


def _plan_json(plan: Plan) -> dict[str, object]:
    return {"layout": plan.layout, "moves": [{"from": old, "to": new} for old, new in plan.moves],
            "skipped": [{"path": path, "reason": why} for path, why in plan.skipped],
            "rewrites": [{"path": r.path, "diff": r.diff} for r in plan.rewrites]}


def _print_skipped(plan: Plan) -> None:
    from rich.markup import escape

    console = stdout_console()
    for path, why in plan.skipped:
        console.print(f"[yellow]stays[/] {escape(path)}: {escape(why)}")


def _show(invocation: Invocation, plan: Plan, title: str, report: dict[str, object] | None = None) -> None:
    if invocation.json:
        invocation.emit((report or {}) | _plan_json(plan) | {"done": False})
        return
    from rich.markup import escape

    console = stdout_console()
    console.print(f"[bold]{title}[/]: {len(plan.moves)} moves to {escape(plan.layout)!s}, "
                  f"links rewritten in {len(plan.rewrites)} files")
    for old, new in plan.moves:
        console.print(f"  {escape(old)} → {escape(new)}")
    _print_skipped(plan)
    for rewrite in plan.rewrites:
        click.echo(rewrite.diff, nl=False)
