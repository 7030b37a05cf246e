"""The reading plots ``paperdiary stats`` writes into the diary's assets folder (``diary/assets.py``).

``reading.png`` (matplotlib, Agg backend: no display needed): cumulative papers
over time above papers per month. ``reading.html`` (plotly): the same,
interactive, the titles read each day on hover, loading ``plotly.min.js`` from
beside it. Each file is written only when its bytes change.

matplotlib and plotly are the optional extra ``paperdiary[map]``: imported here
only, inside functions, and checked first (``paperdiary.extras.require_extra("stats")``).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date

from paperdiary.diary.assets import PLOTLY_JS, assets_folder
from paperdiary.diary.stats import ReadingStats
from paperdiary.settings import Settings

PNG_NAME = "reading.png"
HTML_NAME = "reading.html"
DIV_ID = "reading-plot"  # fixed, so the page is the same bytes for the same diary
_MAX_HOVER_TITLES = 8


@dataclass(frozen=True)
class PlotFiles:
    png: str  # paths relative to the diary root
    html: str
    plotly_js: str
    changed: tuple[str, ...]  # those written this time (unchanged files are left alone)


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
    for (day, titles), (_, total) in zip(stats.per_day, running, strict=False):
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
    assets = assets_folder(settings)
    assets.write(PNG_NAME, png_bytes(stats))
    assets.write_plotly_js()
    assets.write(HTML_NAME, html_text(stats).encode("utf-8"))
    return PlotFiles(png=assets.relpath_of(PNG_NAME), html=assets.relpath_of(HTML_NAME),
                     plotly_js=assets.relpath_of(PLOTLY_JS), changed=tuple(assets.written))
