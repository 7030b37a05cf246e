"""The oracle for links: what plain markdown-it-py (CommonMark + tables, as GitHub reads a diary) finds,
independent of paperdiary's own markdown layer, so tests and scripts can check that layer against it."""

from __future__ import annotations

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark").enable("table")


def link_destinations(text: str) -> list[str]:
    """The destination of every link and image, in order."""
    found: list[str] = []

    def walk(tokens: list) -> None:
        for token in tokens:
            if token.type in ("link_open", "image"):
                found.append(token.attrGet("href" if token.type == "link_open" else "src") or "")
            walk(token.children or [])
    walk(_MD.parse(text))
    return found
