"""The reading plots ``paperdiary stats`` writes into the diary's assets folder.

``reading.png`` (matplotlib, Agg backend: no display needed): cumulative papers
over time above papers per month. ``reading.html`` (plotly): the same,
interactive, the titles read each day on hover. The page loads plotly's
JavaScript from ``plotly.min.js`` beside it, written once (and again only when
plotly's changes), so it works offline and on GitHub Pages without 4.5 MB in
every page. Files are written atomically and only when their bytes change, so a
git diary sees no change when nothing changed.

matplotlib and plotly are the optional extra ``paperdiary[map]``: imported here
only, inside functions, and checked first by :func:`require_plotting`.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date
from importlib.util import find_spec
from pathlib import Path

from paperdiary.diary.stats import ReadingStats
from paperdiary.errors import MissingExtraError, SettingsError
from paperdiary.fsutil import atomic_write_bytes, diary_relpath
from paperdiary.settings import Settings

PNG_NAME = "reading.png"
HTML_NAME = "reading.html"
PLOTLY_JS = "plotly.min.js"
DIV_ID = "reading-plot"  # fixed, so the page is the same bytes for the same diary
_MAX_HOVER_TITLES = 8


@dataclass(frozen=True)
class PlotFiles:
    png: str  # paths relative to the diary root
    html: str
    plotly_js: str
    changed: tuple[str, ...]  # those written this time (unchanged files are left alone)


def require_plotting(command: str) -> None:
    """Raise :class:`MissingExtraError` naming what to install when matplotlib or plotly is missing."""
    missing = [name for name in ("matplotlib", "plotly", "numpy") if find_spec(name) is None]
    if missing:
        raise MissingExtraError(command=command, extra="map", packages=" and ".join(missing))


def assets_folder(settings: Settings) -> Path:
    """The assets folder, refused when it leads out of the diary (a symlink, say)."""
    root = settings.diary.resolve()
    folder = (root / settings.assets_dir).resolve()
    if not folder.is_relative_to(root) or folder == root:
        raise SettingsError(f"setting 'assets_dir' ({settings.assets_dir!r}) leads to {folder}, outside the diary.",
                            hint='Set assets_dir to a folder inside the diary, e.g. "assets".')
    return folder


def _write_if_changed(path: Path, data: bytes, changed: list[Path]) -> None:
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write_bytes(path, data)
    changed.append(path)


def png_bytes(stats: ReadingStats) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: no display, same output everywhere
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    days = [day for day, _ in stats.running_total()]
    totals = [total for _, total in stats.running_total()]
    months = [date.fromisoformat(f"{month}-01") for month, _ in stats.per_month]
    counts = [n for _, n in stats.per_month]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), dpi=100, sharex=True, constrained_layout=True)
    try:
        top.step(days, totals, where="post", color="#1f77b4")
        top.fill_between(days, totals, step="post", alpha=0.15, color="#1f77b4")
        top.set_title(f"Papers read: {stats.total}")
        top.set_ylabel("cumulative papers")
        top.grid(alpha=0.3)
        bottom.bar(months, counts, width=27, align="edge", color="#ff7f0e")
        bottom.set_ylabel("papers per month")
        bottom.grid(axis="y", alpha=0.3)
        locator = mdates.AutoDateLocator()
        bottom.xaxis.set_major_locator(locator)
        bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})  # no version stamp: stable bytes
    finally:
        plt.close(figure)
    return buffer.getvalue()


def html_text(stats: ReadingStats) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    running = stats.running_total()
    hover = []
    for (day, titles), (_, total) in zip(stats.per_day, running):
        shown = [html.escape(title) for title in titles[:_MAX_HOVER_TITLES]]
        if len(titles) > _MAX_HOVER_TITLES:
            shown.append(f"… and {len(titles) - _MAX_HOVER_TITLES} more")
        hover.append(f"<b>{day:%d %B %Y}</b>: {total} in all<br>" + "<br>".join(shown))
    figure = make_subplots(rows=2, cols=1, row_heights=[0.65, 0.35], vertical_spacing=0.08,
                           subplot_titles=(f"Papers read: {stats.total}", "Papers per month"))
    figure.add_trace(go.Scatter(x=[day.isoformat() for day, _ in running], y=[total for _, total in running],
                                mode="lines+markers", line={"shape": "hv"}, name="cumulative",
                                hovertext=hover, hoverinfo="text"), row=1, col=1)
    figure.add_trace(go.Bar(x=[f"{month}-01" for month, _ in stats.per_month], y=[n for _, n in stats.per_month],
                            name="per month", hovertemplate="%{x|%B %Y}: %{y} papers<extra></extra>"), row=2, col=1)
    figure.update_layout(showlegend=False, template="plotly_white", margin={"t": 50, "l": 50, "r": 20, "b": 40})
    # "directory": <script src="plotly.min.js">, the bundle written beside the page by write_plots.
    return figure.to_html(include_plotlyjs="directory", full_html=True, div_id=DIV_ID,
                          config={"displaylogo": False})


def write_plots(settings: Settings, stats: ReadingStats) -> PlotFiles:
    """Write reading.png, reading.html and plotly.min.js into the assets folder (only what changed)."""
    from plotly.offline import get_plotlyjs

    folder = assets_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    changed: list[Path] = []
    _write_if_changed(folder / PNG_NAME, png_bytes(stats), changed)
    _write_if_changed(folder / PLOTLY_JS, get_plotlyjs().encode("utf-8"), changed)
    _write_if_changed(folder / HTML_NAME, html_text(stats).encode("utf-8"), changed)
    root = settings.diary.resolve()
    return PlotFiles(png=diary_relpath(root, folder / PNG_NAME), html=diary_relpath(root, folder / HTML_NAME),
                     plotly_js=diary_relpath(root, folder / PLOTLY_JS),
                     changed=tuple(diary_relpath(root, path) for path in changed))
