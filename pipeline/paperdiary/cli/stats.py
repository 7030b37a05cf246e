"""`paperdiary stats`: papers per week and month, the running total, streaks and busiest topics; the plots
reading.png and reading.html in the assets folder; with --readme, the image and a link in README.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from paperdiary.cli.context import Command, Invocation, stdout_console

if TYPE_CHECKING:
    from paperdiary.diary.plots import PlotFiles
    from paperdiary.diary.stats import ReadingStats

_WEEKS_SHOWN = 12


@click.command(cls=Command)
@click.option("--readme", "to_readme", is_flag=True,
              help="Put the image and a link to the interactive page into README.md, between "
                   "<!-- paperdiary:stats --> markers (what is outside them is left alone).")
@click.pass_obj
def stats(invocation: Invocation, to_readme: bool) -> None:
    """Reading statistics and plots of the diary (needs pip install 'paperdiary[map]')."""
    from paperdiary.extras import require_extra

    require_extra("stats")
    settings = invocation.settings()

    from paperdiary.diary.blocks import write_readme_block
    from paperdiary.diary.catalog import Catalog
    from paperdiary.diary.plots import write_plots
    from paperdiary.diary.stats import STATS_BLOCK, readme_lines, reading_stats

    figures = reading_stats(Catalog(settings).entries())
    with invocation.writing(settings, "stats"):
        files = write_plots(settings, figures)
        readme_written = to_readme and write_readme_block(settings, STATS_BLOCK,
                                                          readme_lines(figures, files.png, files.html))
    if invocation.json:
        invocation.emit(figures.as_json() | {"files": {"png": files.png, "html": files.html,
                                                       "plotly_js": files.plotly_js, "written": list(files.changed)},
                                             "readme_written": readme_written})
        return
    _print(figures, files, to_readme, readme_written)


def _bar(n: int, most: int, width: int = 30) -> str:
    return "█" * max(1 if n else 0, round(width * n / most)) if most else ""


def _print(figures: ReadingStats, files: PlotFiles, to_readme: bool, readme_written: bool) -> None:
    from rich.markup import escape

    console = stdout_console()
    if not figures.total:
        console.print("No dated entries yet.")
    else:
        console.print(f"[bold]{figures.total}[/] papers from {figures.first:%d %B %Y} to {figures.last:%d %B %Y}"
                      + (f" ({figures.undated} undated left out)" if figures.undated else ""))
        longest = figures.longest_streak
        console.print(f"Current streak: {figures.current_streak.days} day{'s' if figures.current_streak.days != 1 else ''}"
                      f"; longest: {longest.days} day{'s' if longest.days != 1 else ''}"
                      + (f" ({longest.start:%d %b %Y} – {longest.end:%d %b %Y})" if longest.start and longest.end
                         else ""))
        most = max(n for _, n in figures.per_month)
        running = 0
        console.print("\n[bold]Per month[/]   papers  total")
        for month, n in figures.per_month:
            running += n
            console.print(f"{month}      {n:6}  {running:5}  {_bar(n, most)}")
        weeks = figures.per_week[-_WEEKS_SHOWN:]
        most = max((n for _, n in weeks), default=0)
        console.print(f"\n[bold]Per week[/] (last {len(weeks)})")
        for week, n in weeks:
            console.print(f"{week}     {n:6}  {_bar(n, most)}")
        if figures.topics:
            console.print("\n[bold]Busiest topics[/]")
            for topic, n in figures.topics:
                console.print(f"{n:6}  {escape(topic)}")
    written = ", ".join(files.changed) or "unchanged"
    console.print(f"\nPlots: {files.png}, {files.html} ({written})")
    if to_readme:
        console.print("README.md: stats block " + ("written." if readme_written else "already up to date."))
