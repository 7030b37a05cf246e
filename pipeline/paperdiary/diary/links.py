"""Links between the diary's files: the file a link names, and a file's text with its links following files that
move (``reorganize``).

Links are what CommonMark reads as links (``diary/markdown.py``): inline links, images and reference
definitions. ``[x](June 2025/x.md)`` with a raw space is no link on GitHub, so it is none here either, and
a link inside code is code. A rewritten destination keeps its ``<...>`` form, its fragment and its leading
``/``, and is percent-encoded otherwise (or written in ``<...>`` when that is what the file does): never with
a raw space. Only a link whose file moves, or whose relative path changes because the linking file moves
while its target exists, is rewritten; web links, scheme-less URLs (``arxiv.org/abs/1504.04909``),
``(TODO)``, anchors and links that lead nowhere stay byte for byte. A link to a moved file as a GitHub page
of the repository (``https://github.com/me/diary/blob/main/June%202025/x.md``, as diaries that list their
notes by full URL write them) is a link to that file too: its path follows, the rest stays as written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from urllib.parse import quote, unquote

from paperdiary.diary.markdown import DestinationStyle, Edit, Link, destination_style, format_destination, parse


# A file of a GitHub repository as a web page: .../OWNER/REPO/blob/BRANCH/PATH (or tree/, raw/).
_REPOSITORY_FILE = re.compile(r"<?https?://(?:www\.)?github\.com/[^/\s]+/[^/\s]+/(?:blob|tree|raw)/[^/\s]+/(?P<path>[^?#\s>]+)")


def repository_file(href: str) -> str | None:
    """The repository path a GitHub page of a file names (decoded), else None: a diary lists its notes so."""
    m = _REPOSITORY_FILE.match(href)
    return posixpath.normpath(unquote(m["path"])) if m else None


def resolve(link: Link | str, folder: str) -> str | None:
    """The diary-relative path a local link (or its decoded path) from a file in ``folder`` names;
    None for a link that is not local, or leads out of the diary."""
    if isinstance(link, Link):
        if not link.local:
            return None
        link = link.path
    if not link:
        return None
    joined = link.lstrip("/") if link.startswith("/") else posixpath.join(folder, link)
    path = posixpath.normpath(joined)
    return None if path in ("..", ".") or path.startswith("../") else path.removeprefix("./")


def rewrite_links(text: str, old_folder: str, new_folder: str, moved: Callable[[str], str | None],
                  exists: Callable[[str], bool] | None = None) -> str:
    """The text of a file that moves from ``old_folder`` to ``new_folder`` (or stays), its links following
    the files that move (``moved(path)`` gives a moved file's new path, else None).

    A link to a file that does not move is rewritten only when this file moves and ``exists(path)`` says
    the link led somewhere (a missing ``exists``: nothing else exists), so that it leads there still.
    """
    doc = parse(text)
    style: DestinationStyle | None = None
    edits: list[Edit] = []
    for link in doc.local_links():
        target = resolve(link, old_folder)
        if target is None:
            continue
        new_target = moved(target)
        if new_target is None:
            if old_folder == new_folder or exists is None or not exists(target):
                continue
            new_target = target
        if link.path.startswith("/"):
            new_path = "/" + new_target
        else:
            new_path = posixpath.relpath(new_target, new_folder or ".")
            if link.path.endswith("/") and not new_path.endswith("/"):
                new_path += "/"
        if link.angle:
            written = format_destination(new_path, DestinationStyle.ANGLE, link.suffix)
        else:
            percent = format_destination(new_path, DestinationStyle.PERCENT, link.suffix)
            if percent != new_path + link.suffix and "%" not in link.written:
                style = style or destination_style(doc)  # a link that said nothing takes the file's usual style
                written = format_destination(new_path, style, link.suffix)
            else:
                written = percent
        if written != link.written:
            assert link.dest is not None  # local_links() have a destination of their own
            edits.append(Edit(link.dest.start, link.dest.end, written))
    for link in doc.links:  # the repository's own files as GitHub pages
        if link.local or link.dest is None or (path := repository_file(link.written)) is None:
            continue
        if (new_target := moved(path)) is not None:
            m = _REPOSITORY_FILE.match(link.written)
            assert m is not None
            encoded = quote(new_target, safe="/()!*'&,;=@$~")
            edits.append(Edit(link.dest.start + m.start("path"), link.dest.start + m.end("path"), encoded))
    return doc.edit(edits) if edits else text
