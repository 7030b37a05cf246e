"""Relative links in a diary's markdown: found (inline links, images, reference definitions; not in code) and
rewritten when files move, each in the style its writer used (``%20``, ``<June 2025/x.md>`` or raw spaces)."""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote, unquote

from paperdiary.text import split_lines

_LABEL = r"(?:[^\[\]\\\n]|\\.|\[(?:[^\[\]\\\n]|\\.)*\])*"
# A destination: <anything but angle brackets>, or a run without blanks with balanced parentheses; a raw
# space is allowed when a file name follows it ("June 2025/x.md"), as some diarists write.
_DEST = r"(?:<[^<>\n]*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\)| (?=[^\s()\"']*[^\s()\"'.]\.\w+[)#]))+)"
_INLINE = re.compile(rf"!?\[{_LABEL}\]\([ \t]*(?P<dest>{_DEST})(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'))?[ \t]*\)")
_REF_DEF = re.compile(r"^ {0,3}\[(?:[^\[\]\\\n]|\\.)+\]:[ \t]*(?P<dest><[^<>\n]*>|\S+)", re.M)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


class Style(str, Enum):
    PERCENT = "percent"  # June%202025/x.md
    ANGLE = "angle"  # <June 2025/x.md>
    RAW = "raw"  # June 2025/x.md
    NEUTRAL = "neutral"  # nothing that tells (x.md)


@dataclass(frozen=True)
class Link:
    start: int  # the destination's span in the text
    end: int
    written: str  # the destination as written
    path: str  # decoded, without fragment or query; relative to the file's folder (or "/..." from the root)
    suffix: str  # "#fragment" or "?query" as written
    style: Style


def _style(written: str) -> Style:
    if written.startswith("<"):
        return Style.ANGLE
    if re.search(r"%[0-9A-Fa-f]{2}", written):
        return Style.PERCENT
    if " " in written or any(ord(ch) > 127 for ch in written):
        return Style.RAW
    return Style.NEUTRAL


def _code_free(text: str) -> str:
    """The text with fenced code and code spans blanked (same length, so offsets hold)."""
    out: list[str] = []
    fence: str | None = None
    for line in split_lines(text):
        m = _FENCE.match(line)
        if fence is not None:
            if m and m[1][0] == fence[0] and len(m[1]) >= len(fence):
                fence = None
            out.append(re.sub(r"[^\r\n]", " ", line))
        elif m:
            fence = m[1]
            out.append(re.sub(r"[^\r\n]", " ", line))
        else:
            out.append(_CODE_SPAN.sub(lambda s: " " * len(s[0]), line))
    return "".join(out)


def relative_links(text: str) -> Iterator[Link]:
    """Every link of the text to a file of the diary (no URLs, no bare #anchors), in order."""
    scan = _code_free(text)
    found = [(m.start("dest"), m.end("dest")) for m in _INLINE.finditer(scan)]
    found += [(m.start("dest"), m.end("dest")) for m in _REF_DEF.finditer(scan)]
    for start, end in sorted(found):
        written = text[start:end]
        inner = written[1:-1] if written.startswith("<") and written.endswith(">") else written
        split = re.search(r"[?#]", inner)
        target, suffix = (inner[:split.start()], inner[split.start():]) if split else (inner, "")
        if not target or target.startswith("//") or _SCHEME.match(target):
            continue
        yield Link(start, end, written, unquote(target.replace("\\", "")), suffix, _style(written))


def dominant_style(text: str) -> Style:
    """The encoding the text's links mostly use; percent-encoding when they say nothing."""
    styles = Counter(link.style for link in relative_links(text) if link.style is not Style.NEUTRAL)
    return styles.most_common(1)[0][0] if styles else Style.PERCENT


def encode(path: str, style: Style) -> str:
    if style is Style.ANGLE:
        return f"<{path}>"
    if style is Style.RAW:
        return path.replace("(", "%28").replace(")", "%29")
    return quote(path, safe="/")


def resolve(link: Link, folder: str) -> str | None:
    """The diary-relative path a link from a file in ``folder`` points at; None when outside the diary."""
    joined = link.path.lstrip("/") if link.path.startswith("/") else posixpath.join(folder, link.path)
    path = posixpath.normpath(joined)
    return None if path == ".." or path.startswith("../") else path.removeprefix("./")


def rewrite_links(text: str, old_folder: str, new_folder: str, moved: Callable[[str], str | None]) -> str:
    """The text of a file that moves from ``old_folder`` to ``new_folder`` (or stays), with every link to a
    moved file (``moved(path)`` gives its new path) and every relative link of a moved file pointing where
    it pointed before. Links keep their style; one that told none takes the file's usual style."""
    fallback: Style | None = None
    out, last = [], 0
    for link in relative_links(text):
        target = resolve(link, old_folder)
        if target is None:
            continue
        new_target = moved(target) or target
        if new_target == target and old_folder == new_folder:
            continue
        if link.path.startswith("/"):
            new_path = "/" + new_target
        else:
            new_path = posixpath.relpath(new_target, new_folder or ".")
        style = link.style
        if style is Style.NEUTRAL and encode(new_path, Style.PERCENT) != new_path:
            fallback = fallback or dominant_style(text)
            style = fallback
        written = encode(new_path, style) if style is not Style.ANGLE else f"<{new_path}{link.suffix}>"
        if style is not Style.ANGLE:
            written += link.suffix
        out.append(text[last:link.start] + written)
        last = link.end
    return "".join(out) + text[last:]
