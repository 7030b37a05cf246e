"""The pages the site makes itself, as HTML fragments: an entry's header and footer, the Full Diary by month,
the themes, the topics, the reading plots, the topic map, a folder's listing.

Every text here comes from the diary (titles, descriptions, theme names) and is escaped;
every link is relative, made by ``paths.href`` from the page's own site path.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from paperdiary.site.paths import href

if TYPE_CHECKING:
    from paperdiary.diary.catalog import CatalogEntry
    from paperdiary.diary.stats import ReadingStats

SitePathOf = Callable[[str], "str | None"]  # an entry's diary path -> its page's site path


@dataclass
class Page:
    """One page of the docs tree: its site path, title and body (HTML)."""

    path: str  # site path ("" home, "notes/elmo/")
    title: str
    body: str
    description: str = ""
    math: bool = False
    searchable: bool = True  # its text goes into the search index
    extra: dict[str, str] = field(default_factory=dict)


def e(text: str) -> str:
    return html.escape(text, quote=True)


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def link(target: str, page: str, text: str, *, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f'<a{klass} href="{e(href(target, page))}">{e(text)}</a>'


def entry_item(entry: CatalogEntry, page: str, site_of: SitePathOf, *, day: bool = False) -> str:
    """``<li>`` for an entry in a list: its title linked, its date, its description."""
    target = site_of(entry.relpath)
    title = link(target, page, entry.title) if target is not None else e(entry.title)
    when = (f'<span class="pd-day">{entry.date_read.day} {entry.date_read:%b}</span> ' if day else
            f'<span class="pd-date">{long_date(entry.date_read)}</span> ' if entry.dated else "")
    description = f' <span class="pd-description">{e(entry.description)}</span>' if entry.description else ""
    return f"<li>{when}{title}{':' if description else ''}{description}</li>"


def entry_list(entries: Sequence[CatalogEntry], page: str, site_of: SitePathOf) -> str:
    items = "\n".join(entry_item(x, page, site_of) for x in entries)
    return f'<ul class="pd-entries">\n{items}\n</ul>' if entries else "<p><em>None yet.</em></p>"


def newest_first(entries: Sequence[CatalogEntry]) -> list[CatalogEntry]:
    return sorted(entries, key=lambda x: (x.dated, x.date_read, x.added, x.relpath), reverse=True)


# --------------------------------------------------------------------------- an entry


@dataclass(frozen=True)
class EntryContext:
    """What an entry's page shows around its own text."""

    theme_pages: dict[str, str]  # theme name -> its site path
    topic: tuple[str, str] | None  # (name, site path) of its topic-map cluster
    lessons: Sequence[tuple[str, str]]  # (theme name, lesson HTML with placeholders resolved) citing it
    related: Sequence[CatalogEntry]


def entry_header(entry: CatalogEntry, page: str, context: EntryContext) -> str:
    facts = []
    if entry.dated:
        facts.append(f'<span class="pd-date">Read {long_date(entry.date_read)}</span>')
    if entry.arxiv_id:
        url = f"https://arxiv.org/abs/{entry.arxiv_id}"
        facts.append(f'<a class="pd-arxiv" href="{e(url)}">arXiv:{e(entry.arxiv_id)}</a>')
    for url in entry.links:
        facts.append(f'<a class="pd-source" href="{e(url)}">{e(_host(url))}</a>')
    tags = [link(context.theme_pages[name], page, name, css="pd-tag")
            for name in entry.themes if name in context.theme_pages]
    if context.topic is not None:
        tags.append(link(context.topic[1], page, f"Topic: {context.topic[0]}", css="pd-tag pd-topic"))
    out = ['<div class="pd-entry-header">']
    if facts:
        out.append(f'<p class="pd-facts">{" · ".join(facts)}</p>')
    if entry.description and entry.description_source.value != "first-sentence":  # else the text starts with it
        out.append(f'<p class="pd-summary">{e(entry.description)}</p>')
    if tags:
        out.append(f'<p class="pd-tags">{" ".join(tags)}</p>')
    out.append("</div>")
    return "\n".join(out)


def entry_footer(page: str, context: EntryContext, site_of: SitePathOf) -> str:
    out = []
    if context.lessons:
        out.append('<h2 id="pd-lessons">Lessons from this entry</h2>\n<ul class="pd-lessons">')
        for theme, lesson in context.lessons:
            where = (link(context.theme_pages[theme], page, theme, css="pd-tag") if theme in context.theme_pages
                     else e(theme))
            out.append(f"<li>{lesson} <span class=\"pd-lesson-theme\">({where})</span></li>")
        out.append("</ul>")
    if context.related:
        out.append('<h2 id="pd-related">Related entries</h2>')
        out.append(entry_list(context.related, page, site_of))
    return "\n".join(out)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


# --------------------------------------------------------------------------- listings


def full_diary(entries: Sequence[CatalogEntry], page: str, site_of: SitePathOf) -> str:
    """Every entry by month read, newest first; entries without a real date at the end."""
    months: dict[tuple[int, int], list[CatalogEntry]] = defaultdict(list)
    undated = []
    for entry in newest_first(entries):
        if entry.dated:
            months[(entry.date_read.year, entry.date_read.month)].append(entry)
        else:
            undated.append(entry)
    out = [f"<p>{len(entries)} entr{'ies' if len(entries) != 1 else 'y'}, newest first.</p>"]
    for (year, month), group in months.items():
        out.append(f'<h2 id="{year}-{month:02d}">{date(year, month, 1):%B %Y}</h2>')
        items = "\n".join(entry_item(x, page, site_of, day=True) for x in group)
        out.append(f'<ul class="pd-entries">\n{items}\n</ul>')
    if undated:
        out.append('<h2 id="undated">Undated</h2>\n<p>No date in the file, its folder or git: '
                   "add a line such as <code>Date read: 4th June 2025</code>.</p>")
        out.append(entry_list(undated, page, site_of))
    return "\n".join(out)


def theme_page(intro: str, cited: Sequence[CatalogEntry], page: str, site_of: SitePathOf) -> str:
    return "\n".join([f'<div class="pd-theme">\n{intro}\n</div>',
                      '<h2 id="pd-entries">Entries its lessons cite</h2>', entry_list(newest_first(cited), page, site_of)])


def index_list(items: Sequence[tuple[str, str, str]], page: str) -> str:
    """``<ul>`` of (site path, name, note) links."""
    rows = "\n".join(f"<li>{link(target, page, name)}{f' <span class=pd-count>{e(note)}</span>' if note else ''}</li>"
                     for target, name, note in items)
    return f'<ul class="pd-index">\n{rows}\n</ul>' if items else "<p><em>None yet.</em></p>"


def topic_page(keywords: Sequence[str], members: Sequence[CatalogEntry], page: str, site_of: SitePathOf,
               map_page: str | None) -> str:
    out = []
    if keywords:
        out.append(f'<p class="pd-keywords">Its words: {e(", ".join(keywords))}.</p>')
    out.append(entry_list(newest_first(members), page, site_of))
    if map_page is not None:
        out.append(f"<p>{link(map_page, page, 'See it on the topic map')}</p>")
    return "\n".join(out)


def chart(frame: str, page: str, title: str, *, height: int) -> str:
    """An offline plotly page of the site, embedded; a link opens it whole."""
    src = e(href(frame, page))
    return (f'<div class="pd-chart"><iframe src="{src}" title="{e(title)}" loading="lazy" '
            f'style="height:{height}px"></iframe></div>\n<p><a href="{src}">Open {e(title.lower())} full page</a></p>')


def reading_summary(stats: ReadingStats) -> str:
    if not stats.total or stats.first is None or stats.last is None:
        return "<p>No dated entries yet.</p>"
    longest = stats.longest_streak
    parts = [f"<p><strong>{stats.total}</strong> papers read from {long_date(stats.first)} to {long_date(stats.last)}"
             + (f" ({stats.undated} undated left out)" if stats.undated else "") + ".",
             f"Longest daily streak: {longest.days} day{'s' if longest.days != 1 else ''}"
             + (f" ({long_date(longest.start)} – {long_date(longest.end)})" if longest.start and longest.end else "")
             + ".</p>"]
    if stats.topics:
        rows = "\n".join(f"<tr><td>{e(topic)}</td><td>{n}</td></tr>" for topic, n in stats.topics)
        parts.append(f"<h2 id=\"busiest-topics\">Busiest topics</h2>\n<table>\n<thead><tr><th>topic</th><th>papers</th>"
                     f"</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
    return "\n".join(parts)


def folder_page(entries: Sequence[CatalogEntry], documents: Sequence[tuple[str, str]],
                files: Sequence[tuple[str, str]], folders: Sequence[tuple[str, str]], page: str,
                site_of: SitePathOf) -> str:
    out = []
    if entries:
        out.append('<h2 id="entries">Entries</h2>')
        out.append(entry_list(newest_first(entries), page, site_of))
    for heading, items in (("Notes", documents), ("Folders", folders), ("Files", files)):
        if items:
            out.append(f'<h2 id="{heading.lower()}">{heading}</h2>')
            out.append(index_list([(site, name, "") for site, name in items], page))
    return "\n".join(out) or "<p><em>Nothing from this folder is on the site.</em></p>"
