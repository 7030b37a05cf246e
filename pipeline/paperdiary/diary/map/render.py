"""The topic map drawn: an interactive HTML page (plotly), a PNG (matplotlib) and the README block's lines.

Both files go into the assets folder (``diary/assets.py``). The page works offline
and on GitHub Pages: plotly's JavaScript is one ``plotly.min.js`` written beside it
(the 4.5 MB are committed once, however often the map is redrawn) and loaded by a
relative ``src``; nothing else is loaded, from anywhere. Points are coloured by
cluster (or, from the menu, by month read), hover
shows each entry's title, date and description (escaped: they are text from the
entries), clicking one opens its entry through a relative link, and each cluster's
name sits on the map. The same map gives the same HTML, byte for byte.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperdiary.diary.assets import AssetsFolder
from paperdiary.diary.blocks import ReadmeBlock
from paperdiary.fsutil import relative_link

if TYPE_CHECKING:
    from paperdiary.diary.map.build import TopicMap

HTML_NAME = "topic-map.html"
PNG_NAME = "topic-map.png"
DIV_ID = "topic-map"  # fixed, so the page's bytes do not change from one run to the next
MAP_BLOCK = ReadmeBlock("map")  # <!-- paperdiary:map --> ... <!-- /paperdiary:map --> in README.md
UNCLUSTERED_COLOUR = "#9e9e9e"
# Plotly's "Dark24" and "Light24" colours: a cluster keeps its colour as long as it keeps its id.
PALETTE = (
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#222A2A", "#B68100", "#750D86", "#EB663B", "#511CFB",
    "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE", "#862A16", "#A777F1", "#620042", "#1616A7",
    "#DA60CA", "#6C4516", "#0D2A63", "#AF0038",
)
# Opens the entry of a clicked point; the link is the point's first customdata field.
_CLICK_SCRIPT = """
var plot = document.getElementById('{plot_id}');
plot.on('plotly_click', function (event) {
  var point = event.points && event.points[0];
  if (point && point.customdata && point.customdata[0]) { window.location.href = point.customdata[0]; }
});
"""


@dataclass(frozen=True)
class MapFiles:
    html: Path
    png: Path
    plotly_js: Path
    written: tuple[str, ...]  # diary-relative paths of those written this time (unchanged files are left alone)


def cluster_colour(cluster_id: int | None) -> str:
    return UNCLUSTERED_COLOUR if cluster_id is None else PALETTE[(cluster_id - 1) % len(PALETTE)]


def _text(value: str) -> str:
    """Entry text for plotly's labels, which read a little HTML: shown as written, never as markup."""
    return html.escape(" ".join(value.split()), quote=False)


def write_map_files(topic_map: TopicMap, assets: AssetsFolder) -> MapFiles:
    """``topic-map.html`` (with ``plotly.min.js`` beside it) and ``topic-map.png`` in the assets folder,
    each written only when its bytes change."""
    plotly_js = assets.write_plotly_js()
    page = assets.write(HTML_NAME, map_html(topic_map, assets.relpath).encode("utf-8"))
    png = assets.write(PNG_NAME, map_png(topic_map))
    return MapFiles(html=page, png=png, plotly_js=plotly_js, written=tuple(assets.written))


def map_html(topic_map: TopicMap, page_dir: str) -> str:
    """The page, for a file in the diary-relative folder ``page_dir`` (its links are relative to it)."""
    import plotly.io as pio

    figure = _figure(topic_map, page_dir)
    return pio.to_html(figure, include_plotlyjs="directory", full_html=True, div_id=DIV_ID,
                       post_script=_CLICK_SCRIPT, config={"displaylogo": False, "responsive": True},
                       validate=True)


def _figure(topic_map: TopicMap, page_dir: str) -> Any:
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    def customdata(points: list[Any]) -> list[list[str]]:
        return [[relative_link(p.relpath, page_dir), _text(p.title), f"{p.date_read.day} {p.date_read:%B %Y}",
                 _text(p.description) or "(no description)"] for p in points]

    hover = "<b>%{customdata[1]}</b><br>%{customdata[2]}<br>%{customdata[3]}<extra>%{fullData.name}</extra>"
    by_topic = []
    groups: list[tuple[int | None, str]] = [(c.id, f"{c.name} ({len(c.members)})") for c in topic_map.clusters]
    if any(p.cluster_id is None for p in topic_map.points):
        groups.append((None, "Unclustered"))
    for cluster_id, label in groups:
        points = [p for p in topic_map.points if p.cluster_id == cluster_id]
        by_topic.append(go.Scatter(
            x=[p.x for p in points], y=[p.y for p in points], mode="markers", name=_text(label),
            marker={"size": 9, "color": cluster_colour(cluster_id), "line": {"width": 0.5, "color": "white"}},
            customdata=customdata(points), hovertemplate=hover, legendgroup="topic"))
    months = sorted({p.date_read.strftime("%Y-%m") for p in topic_map.points})
    colours = sample_colorscale("Viridis", [n / max(1, len(months) - 1) for n in range(len(months))])
    by_month = []
    for month, colour in zip(months, colours, strict=False):
        points = [p for p in topic_map.points if p.date_read.strftime("%Y-%m") == month]
        by_month.append(go.Scatter(
            x=[p.x for p in points], y=[p.y for p in points], mode="markers",
            name=points[0].date_read.strftime("%B %Y"), visible=False, legendgroup="month",
            marker={"size": 9, "color": colour, "line": {"width": 0.5, "color": "white"}},
            customdata=customdata(points), hovertemplate=hover))
    labels = [{"x": c.x, "y": c.y, "text": f"<b>{_text(c.name)}</b>", "showarrow": False,
               "font": {"size": 13, "color": "#222"}, "bgcolor": "rgba(255,255,255,0.75)", "borderpad": 2}
              for c in topic_map.clusters]
    topic_view = [True] * len(by_topic) + [False] * len(by_month)
    month_view = [False] * len(by_topic) + [True] * len(by_month)
    axis = {"visible": False, "zeroline": False, "showgrid": False}  # t-SNE's axes mean nothing
    count = len(topic_map.points)
    figure = go.Figure(data=[*by_topic, *by_month])
    figure.update_layout(
        title={"text": f"Topic map: {count} entr{'ies' if count != 1 else 'y'}, "
                       f"{len(topic_map.clusters)} topic{'s' if len(topic_map.clusters) != 1 else ''}",
               "x": 0.01},
        xaxis=axis, yaxis=axis, plot_bgcolor="white", hovermode="closest", annotations=labels,
        legend={"title": {"text": "Click a point to open its entry"}}, margin={"l": 10, "r": 10, "t": 60, "b": 10},
        updatemenus=[{
            "type": "buttons", "direction": "right", "x": 0.99, "xanchor": "right", "y": 1.08, "yanchor": "top",
            "buttons": [
                {"label": "Colour by topic", "method": "update",
                 "args": [{"visible": topic_view}, {"annotations": labels}]},
                {"label": "Colour by month read", "method": "update",
                 "args": [{"visible": month_view}, {"annotations": labels}]},
            ],
        }],
    )
    return figure


def map_png(topic_map: TopicMap) -> bytes:
    """A still of the map for the README: points coloured by cluster, each cluster's name on it."""
    # The object-oriented API only: pyplot (and its choice of a GUI backend) is never imported.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 7), dpi=110)
    axes = figure.subplots()
    for cluster_id in [c.id for c in topic_map.clusters] + [None]:
        points = [p for p in topic_map.points if p.cluster_id == cluster_id]
        if points:
            axes.scatter([p.x for p in points], [p.y for p in points], s=26, color=cluster_colour(cluster_id),
                         edgecolors="white", linewidths=0.4)
    for c in topic_map.clusters:
        axes.annotate(c.name, (c.x, c.y), ha="center", va="center", fontsize=10, weight="bold",
                      bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    axes.set_axis_off()
    count = len(topic_map.points)
    axes.set_title(f"Topic map: {count} entr{'ies' if count != 1 else 'y'}, {len(topic_map.clusters)} topics",
                   loc="left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --------------------------------------------------------------------------- README


def readme_lines(topic_map: TopicMap, assets: AssetsFolder) -> list[str]:
    """The lines of the README's map block: the PNG, linking to the page (README.md is at the diary root)."""
    alt = f"Topic map of the diary: {len(topic_map.points)} entries in {len(topic_map.clusters)} topics"
    return [f"[![{alt}]({assets.link(PNG_NAME)})]({assets.link(HTML_NAME)})"]
