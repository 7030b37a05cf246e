"""Terminal feedback: a line per stage with a spinner while it runs, on stderr.

stdout is kept for results (the closing line, or --json), so scripts can pipe it.
Without a terminal (a log, cron, CI) there is no spinner: each stage prints a line
when it starts, so a slow or stuck stage shows at once, and one when it is done.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from paperdiary.models import LLMUsage


class ConsoleReporter:
    """Shows each stage as it runs; ``verbose`` adds what the stage found and how long it took.

    ``close()`` (after a failure too) stops the spinner, so an error line starts a line of its own.
    """

    def __init__(self, console: Console, *, verbose: bool = False):
        self.console = console
        self.verbose = verbose
        self._status: Status | None = None
        self._label = ""

    def stage_started(self, stage: str, label: str) -> None:
        self._label = label
        if self.console.is_terminal:
            self._status = self.console.status(escape(f"{label}…"))
            self._status.start()
        else:
            self.console.print(escape(f"{label}…"), highlight=False)

    def stage_progress(self, stage: str, note: str) -> None:
        if self._status is not None:
            self._status.update(f"{self._label}… {note}")

    def stage_finished(self, stage: str, seconds: float, detail: dict[str, Any]) -> None:
        self.close()
        line = f"[green]✓[/] {escape(self._label)}"
        if self.verbose:
            line += f" [dim]({seconds:.2f} s{escape(_describe(detail))})[/]"
        self.console.print(line, highlight=False)
        if self.verbose:
            for number, title in enumerate(detail.get("sections") or [], 1):  # one per line: a list to read
                self.console.print(f"    {number:>2}. {escape(title)}", style="dim", highlight=False)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _describe(detail: dict[str, Any]) -> str:
    parts = []
    if "source" in detail:
        passed = "; ".join(f"no {reason}" for reason in detail.get("passed_over", []))
        parts.append(f"source: {detail['source']}" + (f" ({passed})" if passed else ""))
    for key in ("pages", "chars", "chunks", "tokens", "drafter", "lessons"):
        if key in detail:
            parts.append(f"{key}: {detail[key]}")
    if detail.get("sections"):
        parts.append(f"sections: {len(detail['sections'])}")  # listed below the line
    parts.extend(f"{key}: {value}" for key, value in detail.get("notes", {}).items())
    return "; " + "; ".join(parts) if parts else ""


def usage_summary(drafter: str, usage: LLMUsage) -> str:
    """The closing line's account of the drafting: offline, or LLM calls, tokens and cost."""
    if drafter == "offline":
        return "drafted offline (no LLM configured)"
    return usage_line(usage)


def usage_line(usage: LLMUsage) -> str:
    """"3 LLM calls (1 from cache), 12,345 prompt + 678 completion tokens, $0.0123"."""
    calls = f"{usage.calls} LLM call{'s' if usage.calls != 1 else ''}"
    if usage.cached_calls:
        calls += f" ({usage.cached_calls} from cache)"
    tokens = f"{usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion tokens"
    if usage.estimated:
        tokens += " (some estimated)"
    return f"{calls}, {tokens}, {format_cost(usage.cost_usd)}"


def format_cost(cost: float | None, *, approx: bool = False) -> str:
    if cost is None:
        return "cost unknown (no price for this model)"
    return f"{'~' if approx else ''}${cost:.4f}"
