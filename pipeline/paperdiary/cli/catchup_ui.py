"""What `paperdiary catchup` shows: a live bar per stage (stderr), the plan, the closing tables, the status.

Progress goes to stderr and results to stdout, as for ``draft``. On a terminal
each stage has a bar with counts and an ETA, and finished papers scroll above
them; elsewhere (a log, CI) each finished paper is one line.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from paperdiary.runs.catchup import (
    STAGE_BARS,
    CatchupReport,
    PaperResult,
    Plan,
    StatusReport,
)
from paperdiary.runs.estimate import Estimate, sum_estimates
from paperdiary.settings import Settings
from paperdiary.cli.ui import format_cost, usage_line
from paperdiary.text import plural

_MARKS = {"drafted": "[green]✓[/]", "skipped": "[dim]–[/]", "failed": "[red]✗[/]", "left": "[yellow]…[/]",
          "waiting": "[cyan]⧗[/]"}


class StageProgress:
    """The run's progress: bars per stage on a terminal, a line per finished paper anywhere."""

    def __init__(self, console: Console):
        self.console = console
        self._bars: Progress | None = None
        self._tasks: dict[str, Any] = {}

    def start(self, totals: dict[str, int]) -> None:
        if not self.console.is_terminal:
            return
        self._bars = Progress(
            TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), TextColumn("{task.fields[streamed]}"), console=self.console,
        )
        for stage in STAGE_BARS:
            self._tasks[stage] = self._bars.add_task(stage, total=totals.get(stage, 0), streamed="")
        self._bars.start()

    def advance(self, stage: str, count: int = 1) -> None:
        if self._bars is not None:
            self._bars.advance(self._tasks[stage], count)

    def paper_finished(self, result: PaperResult) -> None:
        self._print(paper_line(result))

    def note(self, message: str) -> None:
        self._print(escape(message))

    def tokens(self, count: int) -> None:
        # From the workers' threads; rich's Progress takes its own lock and redraws at its own pace.
        if self._bars is not None:
            self._bars.update(self._tasks["draft"], streamed=f"{count:,} tokens")

    def stop(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def _print(self, line: str) -> None:
        (self._bars.console if self._bars is not None else self.console).print(line, highlight=False)


def paper_line(result: PaperResult) -> str:
    where = f" → {escape(result.entry_path)}" if result.status == "drafted" and result.entry_path else ""
    reason = f" [dim]({escape(result.reason)})[/]" if result.reason else ""
    return f"{_MARKS[result.status]} {result.status:<7} {escape(result.label)}{where}{reason}"


# -- the plan (--dry-run) ------------------------------------------------------------------------------


def print_plan(console: Console, plan: Plan, settings: Settings) -> None:
    table = Table(title="Would draft", title_justify="left", show_edge=False)
    for name in ("paper", "listed at", "date read", "estimate"):
        table.add_column(name)
    for job in plan.jobs:
        estimate = plan.estimates.get(job.key, Estimate())
        table.add_row(escape(job.label), escape(job.item.source), job.date_read.isoformat(), _estimate_cell(estimate))
    if plan.jobs:
        console.print(table)
    settled = plan.results
    if settled or plan.problems:
        other = Table(title="Not drafted", title_justify="left", show_edge=False)
        for name in ("paper", "listed at", "why"):
            other.add_column(name)
        for result in settled:
            other.add_row(f"{_MARKS[result.status]} {escape(result.label)}", escape(result.source),
                          escape(result.reason))
        for problem in plan.problems:
            other.add_row(f"{_MARKS['failed']} {escape(problem.text)}", escape(problem.source), escape(problem.reason))
        console.print(other)
    total = sum_estimates(plan.estimates.values())
    skipped = sum(r.status == "skipped" for r in plan.results)
    failed = sum(r.status == "failed" for r in plan.results) + len(plan.problems)
    console.print(f"Plan: {len(plan.jobs)} to draft, {skipped} skipped, {failed} failed.", highlight=False)
    if settings.llm_configured:
        bases = _bases(plan.estimates.values())
        console.print(
            f"Estimate: ~{total.prompt_tokens:,} prompt + ~{total.completion_tokens:,} completion tokens, "
            f"{format_cost(total.cost_usd, approx=True)} with {escape(settings.model)} ({bases}).", highlight=False)
    else:
        console.print("No LLM configured: the offline drafter costs nothing.", highlight=False)
    console.print("Dry run: nothing was fetched, drafted or written.", style="dim", highlight=False)


def _estimate_cell(estimate: Estimate) -> str:
    if estimate.basis in ("offline", "saved draft"):
        return estimate.basis
    return f"~{estimate.prompt_tokens + estimate.completion_tokens:,} tokens, {format_cost(estimate.cost_usd, approx=True)}" \
           f" ({estimate.basis})"


def _bases(estimates: Any) -> str:
    counts: dict[str, int] = {}
    for estimate in estimates:
        counts[estimate.basis] = counts.get(estimate.basis, 0) + 1
    names = {"pages": "from the cached PDF's pages", "average": "at an average paper's size",
             "saved draft": "from a saved draft, free", "chunks": "from the text"}
    return "; ".join(f"{n} {names.get(b, b)}" for b, n in counts.items()) or "nothing to draft"


# -- the closing report ------------------------------------------------------------------------------------


def print_report(console: Console, report: CatchupReport) -> None:
    counts = Table(title="Catch-up", title_justify="left", show_edge=False)
    counts.add_column("outcome")
    counts.add_column("papers", justify="right")
    for status in ("drafted", "skipped", "failed", "left", "waiting"):
        number = len(report.with_status(status)) + (len(report.problems) if status == "failed" else 0)
        if number or status in ("drafted", "failed"):
            counts.add_row(f"{_MARKS[status]} {status}", str(number))
    console.print(counts)

    failed = report.with_status("failed")
    if failed or report.problems:
        table = Table(title="Failed", title_justify="left", show_edge=False)
        for name in ("paper", "listed at", "reason"):
            table.add_column(name, overflow="fold")
        for result in failed:
            table.add_row(escape(result.label), escape(result.source), escape(result.reason))
        for problem in report.problems:
            table.add_row(escape(problem.text), escape(problem.source), escape(problem.reason))
        console.print(table)

    console.print(f"{usage_line(report.usage)} · wall time {report.wall_s:.1f} s", highlight=False)
    if report.batch is not None and (report.batch.answers or report.batch.failed):
        console.print(f"Batch API: collected {report.batch.answers} answer(s) "
                      f"({usage_line(report.batch.usage)})", highlight=False)
    if report.batches_submitted:
        waiting = len(report.with_status("waiting"))
        console.print(f"Batch API: submitted {', '.join(report.batches_submitted)}; {waiting} paper(s) wait for "
                      "it. `paperdiary catchup status` shows progress; run catchup again to collect.",
                      highlight=False)
    left = len(report.with_status("left"))
    if report.stopped:
        console.print(f"[yellow]Stopped early:[/] {escape(report.stopped)}.", highlight=False)
    if left:
        console.print(f"{left} paper(s) left: run `paperdiary catchup` again to continue.", highlight=False)


# -- status ------------------------------------------------------------------------------------------------


def print_status(console: Console, status: StatusReport) -> None:
    total = sum(status.stages.values())
    if not total and not status.batches:
        console.print("No catch-up recorded in this diary yet.")
        return
    parts = [f"{count} {stage}" for stage, count in status.stages.items()]
    console.print(f"Journal: {total} paper(s): {', '.join(parts)}.", highlight=False)
    for paper, stage in status.pending:
        console.print(f"  {_MARKS['left']} {escape(paper)}: {stage}", highlight=False)
    for paper, error in status.failed:
        console.print(f"  {_MARKS['failed']} {escape(paper)}: {escape(error)}", highlight=False)
    if status.pending:
        console.print(f"`paperdiary catchup` continues the {plural(len(status.pending), 'pending paper')}.",
                      highlight=False)
    if not status.batches:
        console.print("No Batch API batches in flight.")
        return
    table = Table(title="Batches in flight", title_justify="left", show_edge=False)
    for name in ("batch", "status", "requests", "done", "failed", "submitted"):
        table.add_column(name, no_wrap=True)
    table.add_column("papers", overflow="fold")
    for batch in status.batches:
        papers = batch.get("papers") or []
        table.add_row(escape(batch["id"]), escape(str(batch["status"])), str(batch["requests"]),
                      _count(batch.get("completed")), _count(batch.get("failed")),
                      str(batch["created_at"])[:16].replace("T", " "),
                      escape(", ".join(papers[:5]) + (f" and {len(papers) - 5} more" if len(papers) > 5 else "")))
    console.print(table)
    if status.batch_error:
        console.print(f"[yellow]Could not refresh from the server:[/] {escape(status.batch_error)}")


def _count(value: Any) -> str:
    return "?" if value is None else str(value)
