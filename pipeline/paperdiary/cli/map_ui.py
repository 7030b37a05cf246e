"""What `paperdiary map` shows in the terminal: progress of its steps, the clusters' table, a closing summary."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from paperdiary.diary.map.make import MapOutcome


class ProgressReporter:
    """A map's steps as they run (a bar for the embedding), on stderr when it is a terminal; a MapReporter."""

    def __init__(self, console: Console, *, enabled: bool = True):
        self.enabled = enabled and console.is_terminal
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self.task: TaskID | None = None
        self.label = ""

    def __enter__(self) -> ProgressReporter:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.enabled:
            self.progress.stop()

    def step_started(self, step: str, label: str, total: int | None = None) -> None:
        if self.enabled:
            self.label = label
            self.task = self.progress.add_task(label, total=total)

    def advance(self, done: int) -> None:
        if self.enabled and self.task is not None:
            self.progress.advance(self.task, done)

    def step_finished(self, step: str, seconds: float) -> None:
        if self.enabled and self.task is not None:
            self.progress.remove_task(self.task)
            self.progress.console.print(Text(f"✓ {self.label} ({seconds:.2f} s)", style="green"))
            self.task = None


def print_outcome(console: Console, outcome: MapOutcome, diary: Path, queue_file: str, *, verbose: bool = False) -> None:
    topic_map = outcome.topic_map
    kind = "topics" if topic_map.topics or len(topic_map.clusters) < 2 else "groups"
    table = Table(title=f"{len(topic_map.clusters)} {kind} in {len(topic_map.points)} entries", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("topic")
    table.add_column("entries", justify="right")
    table.add_column("newest entry")
    for cluster in sorted(topic_map.clusters, key=lambda c: (-len(c.members), c.id)):
        newest = topic_map.point(cluster.newest)
        table.add_row(str(cluster.id), Text(cluster.name), str(len(cluster.members)),
                      Text(f"{newest.date_read:%d %b %Y} · {newest.title}"))
    unclustered = sum(p.cluster_id is None for p in topic_map.points)
    console.print(table)
    if unclustered:
        console.print(f"{unclustered} entr{'ies' if unclustered != 1 else 'y'} left unclustered.", style="dim")
    for split in outcome.splits:
        parts = ", ".join(f"{name} ({n})" for _, name, n in split.parts)
        console.print(Text(f"Theme {split.theme!r} is split across distant clusters: {parts}.", style="yellow"))
    queued = {item.id for item in outcome.queued}
    for suggestion in outcome.suggestions:
        state = ("not queued: --no-suggest" if not outcome.suggest else "queued" if suggestion.queued().id in queued
                 else "already queued or decided in review")
        console.print(Text(f"No theme covers the cluster {suggestion.name!r} ({len(suggestion.members)} entries): "
                           f"a new theme, {state}."))
    if kind == "groups":
        console.print(Text("No clear topics: the clustering is no better than chance (the same vectors shuffled "
                           "cluster as well), so no new theme is suggested. The map is drawn all the same.",
                           style="yellow"))
    if verbose:
        console.print(Text(f"{topic_map.method}; embedder {topic_map.embedder}; seconds: "
                           + ", ".join(f"{k} {v:.2f}" for k, v in outcome.timings.items()), style="dim"))
    summary = (f"Mapped {len(topic_map.points)} entries into {len(topic_map.clusters)} {kind}: "
               f"{outcome.files.html.relative_to(diary).as_posix()}, {outcome.files.png.relative_to(diary).as_posix()}")
    if outcome.readme_changed is not None:
        summary += "; README.md " + ("updated" if outcome.readme_changed else "already up to date")
    if outcome.queued:
        summary += (f"; {len(outcome.queued)} new theme{'s' if len(outcome.queued) != 1 else ''} queued in "
                    f"{queue_file} (paperdiary review)")
    console.print(Text(summary + "."))
