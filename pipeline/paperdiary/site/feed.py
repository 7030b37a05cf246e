"""The site's Atom feed (RFC 4287) of the newest entries: ``feed.xml`` at the site's root.

Each entry's id and link are its page's absolute URL (the site's base URL, so feed readers
follow a site that moves only when the base URL changes); ``updated`` is the day it was read
(midnight UTC), or when PaperDiary drafted it on that day; the summary is its one-line
description, the content its description and the lessons citing it. The same diary gives the
same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from urllib.parse import quote, urljoin
from xml.sax.saxutils import escape, quoteattr

FEED_NAME = "feed.xml"
FEED_SIZE = 30


@dataclass(frozen=True)
class FeedItem:
    title: str
    site_path: str  # "notes/elmo/"
    day: date
    added: str  # ISO timestamp of the draft, "" for a hand-written entry
    summary: str
    lessons: tuple[str, ...] = ()
    arxiv_id: str | None = None


def absolute(base_url: str, site_path: str) -> str:
    return urljoin(base_url, quote(site_path, safe="/.-_~"))


def _updated(item: FeedItem) -> datetime:
    if item.added:
        try:
            stamp = datetime.fromisoformat(item.added.replace("Z", "+00:00"))
        except ValueError:
            stamp = None
        if stamp is not None and stamp.tzinfo is not None and stamp.date() == item.day:
            return stamp.astimezone(timezone.utc).replace(microsecond=0)
    return datetime.combine(item.day, time(0, 0), tzinfo=timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(title: str, base_url: str, items: Sequence[FeedItem], *, subtitle: str = "") -> str:
    """The feed of ``items`` (newest first, at most :data:`FEED_SIZE`)."""
    newest = sorted(items, key=lambda x: (_updated(x), x.site_path), reverse=True)[:FEED_SIZE]
    updated = _updated(newest[0]) if newest else datetime(1970, 1, 1, tzinfo=timezone.utc)
    home, self_url = absolute(base_url, ""), absolute(base_url, FEED_NAME)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
             f"  <title>{escape(title)}</title>"]
    if subtitle:
        lines.append(f"  <subtitle>{escape(subtitle)}</subtitle>")
    lines += [f"  <id>{escape(home)}</id>", f"  <link rel=\"alternate\" type=\"text/html\" href={quoteattr(home)}/>",
              f"  <link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(self_url)}/>",
              f"  <updated>{_stamp(updated)}</updated>", f"  <author><name>{escape(title)}</name></author>",
              '  <generator uri="https://pypi.org/project/paperdiary/">PaperDiary</generator>']
    for item in newest:
        url = absolute(base_url, item.site_path)
        content = "".join([f"<p>{escape(item.summary)}</p>" if item.summary else "",
                           *(f"<p>Lesson: {escape(lesson)}</p>" for lesson in item.lessons)])
        lines += ["  <entry>", f"    <title>{escape(item.title)}</title>", f"    <id>{escape(url)}</id>",
                  f"    <link rel=\"alternate\" type=\"text/html\" href={quoteattr(url)}/>",
                  f"    <updated>{_stamp(_updated(item))}</updated>",
                  f"    <published>{_stamp(_updated(item))}</published>"]
        if item.arxiv_id:
            paper = f"https://arxiv.org/abs/{item.arxiv_id}"
            lines.append(f"    <link rel=\"related\" href={quoteattr(paper)} title=\"arXiv:{escape(item.arxiv_id)}\"/>")
        if item.summary:
            lines.append(f"    <summary>{escape(item.summary)}</summary>")
        if content:
            lines.append(f"    <content type=\"html\">{escape(content)}</content>")
        lines.append("  </entry>")
    lines.append("</feed>")
    return "\n".join(lines) + "\n"
