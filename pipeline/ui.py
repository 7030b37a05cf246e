"""Terminal feedback: a line per stage with a spinner while it runs, on stderr.

stdout is kept for results (the closing line, or --json), so scripts can pipe it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console


class ConsoleReporter:
    """Shows each stage as it runs; ``verbose`` adds what the stage found and how long it took."""

    def __init__(self, console: Console, *, verbose: bool = False):
        self.console = console
        self.verbose = verbose
        self._status = None
        self._label = ""

    def stage_started(self, stage: str, label: str) -> None:
        self._label = label
        if self.console.is_terminal:
            self._status = self.console.status(f"{label}…")
            self._status.start()

    def stage_finished(self, stage: str, seconds: float, detail: dict[str, Any]) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        line = f"[green]✓[/] {self._label}"
        if self.verbose:
            line += f" [dim]({seconds:.2f} s{_describe(detail)})[/]"
        self.console.print(line, highlight=False)


def _describe(detail: dict[str, Any]) -> str:
    parts = []
    for key in ("pages", "chars", "chunks", "tokens", "drafter", "lessons"):
        if key in detail:
            parts.append(f"{key}: {detail[key]}")
    if detail.get("sections"):
        parts.append(f"sections: {len(detail['sections'])} ({', '.join(detail['sections'][:12])})")
    return "; " + "; ".join(parts) if parts else ""
