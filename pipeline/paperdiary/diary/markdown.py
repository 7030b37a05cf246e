"""The one reader and writer of the diary's markdown: CommonMark plus GFM tables, read as GitHub reads it.

Every module that looks into a markdown file (the README's lessons and Full Diary, the lessons queue,
entries, the reading list, the blocks commands own) parses it here, with markdown-it-py, and gets the
same answer: a raw space in ``[x](June 2025/x.md)`` makes it no link, for every one of them, as on GitHub.

:func:`parse` gives a :class:`Document`: its blocks with their line spans (headings, lists and list
items, paragraphs, code fences and indented code, HTML blocks, tables, block quotes, reference
definitions; a leading YAML front matter, which is no markdown) and every link, image, autolink and
reference definition with its exact source span, the span of its destination as written included. Offsets are ``str`` indices into the text as given (CRLF,
CR, a BOM and a missing last newline kept), lines are indices into :attr:`Document.lines`.

Edits are byte-exact: :meth:`Document.edit` (any spans), :meth:`Document.with_destination` (one link's
destination) and :meth:`Document.replace_lines` change only what they name. A destination PaperDiary
writes is formatted by :func:`format_destination` in the style the file already uses (``%20``, or
``<...>`` where the diary writes that), never with a raw space.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any, Literal, NamedTuple
from urllib.parse import quote, unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import normalizeReference
from markdown_it.rules_block.html_block import HTML_SEQUENCES
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from paperdiary.text import line_body, split_lines

__all__ = [
    "Block", "DestinationStyle", "Document", "Edit", "Heading", "Link", "LinkKind", "Span", "destination_style",
    "format_destination", "is_local", "parse", "parse_inline", "plain_text",
]


class Span(NamedTuple):
    """``text[start:end]`` of the text parsed."""

    start: int
    end: int


class Edit(NamedTuple):
    """Replace ``text[start:end]`` by ``new``."""

    start: int
    end: int
    new: str


class LinkKind(str, Enum):
    INLINE = "inline"  # [text](dest "title"), ![alt](dest)
    REFERENCE = "reference"  # [text][label], [label][], [label]: the destination is its definition's
    AUTOLINK = "autolink"  # <https://example.org>, <me@example.org>
    DEFINITION = "definition"  # [label]: dest "title"


@dataclass(frozen=True)
class Link:
    """A link, image, autolink or reference definition, as written."""

    kind: LinkKind
    image: bool
    span: Span  # the whole construct
    dest: Span | None  # the destination as written (its <> included); None for a REFERENCE
    written: str  # text[dest], "" for a REFERENCE
    href: str  # the URL GitHub resolves it to (percent-encoded), a REFERENCE's from its definition; "" when invalid
    label: str  # normalised reference label of a REFERENCE or DEFINITION, else ""
    text: str  # the link text (an image's alt) as written; a DEFINITION's label as written
    title: str
    line: int  # the line it starts on
    first: bool = True  # a DEFINITION: the one that counts (CommonMark: the first of a label wins)

    @property
    def local(self) -> bool:
        """A link to a file beside this one: no scheme, not ``//host``, not only ``#anchor``, not empty."""
        return is_local(self.href)

    @property
    def path(self) -> str:
        """The file a local link names, decoded, without query or fragment ("June 2025/x.md")."""
        return unquote(re.split(r"[?#]", self.href, maxsplit=1)[0])

    @property
    def angle(self) -> bool:
        return self.written.startswith("<")

    @property
    def suffix(self) -> str:
        """``?query`` and/or ``#fragment`` as written ("" when none)."""
        inner = self.written[1:-1] if self.angle else self.written
        m = re.search(r"[?#]", inner)
        return inner[m.start():] if m else ""


@dataclass(frozen=True)
class Block:
    """A block of the document. ``kind``: paragraph, heading, bullet_list, ordered_list, list_item, fence, code
    (indented), html, table, blockquote, hr, definition, front_matter (leading YAML, which is no markdown)."""

    kind: str
    start: int  # first line
    end: int  # the line after its last
    depth: int  # how many containers (block quotes, lists, list items) hold it; 0 at the document's level
    parent: int  # index of the container block in Document.blocks; -1 at the document's level
    markup: str = ""  # list item: "-", "*", "+", "." or ")"; fence: its fence; heading: "#" or "=" / "-"
    info: str = ""  # fence: its info string; ordered list item: its number as written
    closed: bool = True  # fence: False when no closing fence ends it (it runs to its container's end); html: False
    # when no end marker ended it (CommonMark's types 6 and 7 run to a blank line: a line right after joins them)
    level: int = 0  # heading level
    marker: Span | None = None  # list item: its marker as written ("-", "12.", "3)")
    content_column: int = 0  # list item: the column its content starts at (tabs to 4), counted from its container's


@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # its markdown as written, without markers ("📖 Full *Diary*")
    plain: str  # the words a reader sees ("📖 Full Diary")
    line: int
    end: int  # the line after it (two lines for a setext heading)
    depth: int  # 0 at the document's level
    setext: bool


class DestinationStyle(str, Enum):
    PERCENT = "percent"  # June%202025/x.md
    ANGLE = "angle"  # <June 2025/x.md>


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def is_local(href: str) -> bool:
    """Whether a destination names a file beside the document (relative, or from the repository root)."""
    target = re.split(r"[?#]", href, maxsplit=1)[0]
    return bool(target) and not target.startswith("//") and not _SCHEME.match(target)


# --------------------------------------------------------------------------- the parser and its hooks

_ENV = "paperdiary"  # our record in markdown-it's env


class _Record:
    """What the hooks collect while markdown-it parses one document."""

    def __init__(self, norm_starts: list[int]):
        self.norm_starts = norm_starts
        self.inline_map: Callable[[int], int | None] = lambda _: None  # content offset -> normalised offset
        self.inline_line = 0
        self.links: list[tuple[Any, ...]] = []
        self.definitions: list[tuple[Any, ...]] = []


def _inline_with_spans(state: StateCore) -> None:
    """markdown-it's core "inline" rule, knowing where each inline's content sits in the source."""
    record: _Record = state.env[_ENV]
    cursor: dict[int, int] = {}  # table rows: where the next cell starts looking
    for n, token in enumerate(state.tokens):
        if token.type != "inline":
            continue
        if token.children is None:
            token.children = []
        cell = n > 0 and state.tokens[n - 1].type in ("td_open", "th_open")
        record.inline_map = _content_map(state.src, record.norm_starts, token, cell, cursor)
        record.inline_line = token.map[0] if token.map else 0
        state.md.inline.parse(token.content, state.md, state.env, token.children)
    record.inline_map = lambda _: None


def _content_map(src: str, starts: list[int], token: Token, cell: bool, cursor: dict[int, int]
                 ) -> Callable[[int], int | None]:
    """A function from offsets in the inline's content to offsets in the (normalised) source."""
    if not token.map:
        return lambda _: None
    pieces = token.content.split("\n")
    first_line = token.map[0]
    origins: list[list[int] | None] = []  # per piece: the source offset of each of its characters (+ its end)
    for k, piece in enumerate(pieces):
        line = first_line + k
        if line + 1 >= len(starts):
            origins.append(None)
            continue
        begin, stop = starts[line], starts[line + 1] - 1  # the line's body, without its "\n"
        body = src[begin:stop]
        if cell:
            origins.append(_walk_cell(piece, body, begin, cursor, line))
            continue
        core = piece.lstrip(" ")
        pad = len(piece) - len(core)
        if len(pieces) == 1:
            at = body.rfind(core) if core else len(body)
        elif k < len(pieces) - 1:
            at = len(body) - len(core)
        else:
            at = len(body.rstrip()) - len(core)
        if at < 0 or body[at:at + len(core)] != core:
            origins.append(None)
            continue
        origins.append([begin + at] * pad + list(range(begin + at, begin + at + len(core) + 1)))
    offsets = [0]
    for piece in pieces:
        offsets.append(offsets[-1] + len(piece) + 1)

    def to_source(offset: int) -> int | None:
        k = bisect.bisect_right(offsets, offset) - 1
        if not 0 <= k < len(pieces):
            return None
        place = origins[k]
        col = offset - offsets[k]
        return place[col] if place is not None and col < len(place) else None
    return to_source


def _walk_cell(piece: str, body: str, begin: int, cursor: dict[int, int], line: int) -> list[int] | None:
    """A table cell's characters in its row: cells come in order, ``\\|`` in the source is ``|`` in the cell."""
    at = cursor.get(line, 0)
    while at < len(body) and body[at] in " \t":
        at += 1
    if at < len(body) and body[at] == "|" and not (piece.startswith("|")):
        at += 1
        while at < len(body) and body[at] in " \t":
            at += 1
    out: list[int] = []
    for ch in piece:
        if body.startswith(ch, at):
            out.append(begin + at)
            at += 1
        elif ch == "|" and body.startswith("\\|", at):
            out.append(begin + at)
            at += 2
        else:
            cursor[line] = at
            return None
    out.append(begin + at)
    cursor[line] = at
    return out


def _hook_inline(rule: Callable[[StateInline, bool], bool], kind: str) -> Callable[[StateInline, bool], bool]:
    def hooked(state: StateInline, silent: bool) -> bool:
        if silent:
            return rule(state, silent)
        start, count = state.pos, len(state.tokens)
        record: _Record = state.env[_ENV]
        outer = record.inline_map
        if kind == "image":  # its alt text is parsed on its own: offsets there start after "!["
            record.inline_map = lambda offset: outer(offset + start + 2)
        try:
            found = rule(state, silent)
        finally:
            record.inline_map = outer
        if not found:
            return False
        token = next(t for t in state.tokens[count:] if t.type in ("link_open", "image"))
        record.links.append((kind, start, state.pos, state.src, token, record.inline_map,
                             _inline_parts(state, kind, start, state.pos)))
        return True
    return hooked


def _inline_parts(state: StateInline, kind: str, start: int, end: int) -> tuple[int, int, int, int] | None:
    """(text start, text end, destination start, destination end) in the inline's content; -1 where none."""
    src = state.src
    if kind == "autolink":
        return -1, -1, start + 1, end - 1
    opening = start + (1 if kind == "image" else 0)
    label_end = state.md.helpers.parseLinkLabel(state, opening, kind == "link")
    if label_end < 0:
        return None
    after = label_end + 1
    if after < end and src[after] == "(":
        pos = after + 1
        while pos < end and src[pos] in " \t\n":
            pos += 1
        result = state.md.helpers.parseLinkDestination(src, pos, end)
        return opening + 1, label_end, pos, result.pos if result.ok else pos  # "[x]()": an empty destination
    return opening + 1, label_end, -1, -1


def _hook_reference(rule: Callable[[StateBlock, int, int, bool], bool]) -> Callable[[StateBlock, int, int, bool], bool]:
    def hooked(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        ok = rule(state, start_line, end_line, silent)
        if not ok or silent:
            return ok
        record: _Record = state.env[_ENV]
        origins: list[int] = []  # source offset of each character of the definition's text
        text = ""
        for line in range(start_line, state.line):
            begin = state.bMarks[line] + state.tShift[line]
            piece = state.src[begin:state.eMarks[line] + 1]
            text += piece
            origins += range(begin, begin + len(piece))
        origins.append(origins[-1] + 1 if origins else 0)
        record.definitions.append((start_line, state.line, text, origins, state.level))
        return True
    return hooked


def _hook_list(rule: Callable[[StateBlock, int, int, bool], bool]) -> Callable[[StateBlock, int, int, bool], bool]:
    """The list rule, noting in each list item's ``meta`` where its marker starts and its content's column."""
    def hooked(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if silent or "push" in vars(state):  # validating, or a nested list: the outer list records
            return rule(state, start_line, end_line, silent)
        push = state.push
        opened: list[Token] = []  # the item just opened: the next token pushed sits at its content's indent

        def recording_push(ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
            if opened and ttype != "list_item_close":
                opened[-1].meta["content_column"] = state.blkIndent
            opened.clear()
            token = push(ttype, tag, nesting)
            if ttype == "list_item_open":
                line = state.line
                token.meta["marker"] = (state.bMarks[line] + state.tShift[line], state.sCount[line])
                opened.append(token)
            return token

        state.push = recording_push  # type: ignore[method-assign]
        try:
            return rule(state, start_line, end_line, silent)
        finally:
            del state.push
    return hooked


@lru_cache(maxsize=2)
def _parser(permissive: bool = False) -> MarkdownIt:
    """markdown-it with our hooks. ``permissive``: a ``javascript:`` destination still makes a link (GitHub shows its
    text, without the target), where markdown-it's safety check would leave the brackets as text."""
    md = MarkdownIt("commonmark").enable("table")
    if permissive:
        md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.core.ruler.at("inline", _inline_with_spans)
    for name in ("link", "image", "autolink"):
        rule = next(r for r in md.inline.ruler.__rules__ if r.name == name)
        md.inline.ruler.at(name, _hook_inline(rule.fn, name), {"alt": list(rule.alt)})
    reference = next(r for r in md.block.ruler.__rules__ if r.name == "reference")
    md.block.ruler.at("reference", _hook_reference(reference.fn), {"alt": list(reference.alt)})
    lists = next(r for r in md.block.ruler.__rules__ if r.name == "list")
    md.block.ruler.at("list", _hook_list(lists.fn), {"alt": list(lists.alt)})
    return md


# --------------------------------------------------------------------------- the document


def _plain(tokens: Sequence[Token] | None) -> str:
    out: list[str] = []
    for token in tokens or ():
        if token.type in ("text", "code_inline"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "image":
            out.append(_plain(token.children))
    return "".join(out)


class Document:
    """A markdown text, parsed: its blocks, headings and links with their spans. Immutable; edits return text."""

    def __init__(self, text: str, *, inline: bool = False):
        self.text = text
        self.lines: tuple[str, ...] = tuple(split_lines(text))
        self._starts = [0]
        for line in self.lines:
            self._starts.append(self._starts[-1] + len(line))
        bom = 1 if text.startswith("\ufeff") else 0
        bodies = [line_body(line) for line in self.lines]
        if bom:
            bodies[0] = bodies[0][1:]
        self.front_matter = _front_matter(bodies)
        if self.front_matter:  # YAML front matter is no markdown (GitHub shows it as a table): blank to the parser
            bodies = [""] * self.front_matter + bodies[self.front_matter:]
        norm = "\n".join(bodies) + ("\n" if self.lines and line_body(self.lines[-1]) != self.lines[-1] else "")
        norm_starts = [0]
        for body in bodies:
            norm_starts.append(norm_starts[-1] + len(body) + 1)
        self._bom = bom
        self._norm_starts = norm_starts
        record = _Record(norm_starts)
        parser = _parser(permissive=inline)
        env: dict[str, Any] = {_ENV: record}
        if inline:
            env["references"] = _AnyReference()
        tokens = (parser.parseInline if inline else parser.parse)(norm, env)
        self.blocks: tuple[Block, ...] = tuple(self._blocks(tokens, record))
        self.headings: tuple[Heading, ...] = tuple(self._headings(tokens))
        self.links: tuple[Link, ...] = tuple(sorted(self._links(record), key=lambda link: link.span))

    def __repr__(self) -> str:
        return f"Document(lines={len(self.lines)}, blocks={len(self.blocks)}, links={len(self.links)})"

    # ---- positions

    def offset(self, line: int) -> int:
        """Where a line starts in the text (``len(text)`` past the last)."""
        return self._starts[min(max(line, 0), len(self.lines))]

    def line_at(self, offset: int) -> int:
        """The line holding a text offset."""
        return max(bisect.bisect_right(self._starts, offset) - 1, 0)

    def _source(self, norm: int | None) -> int | None:
        """A normalised offset (markdown-it's) -> an offset in the text."""
        if norm is None:
            return None
        line = bisect.bisect_right(self._norm_starts, norm) - 1
        if not 0 <= line < len(self.lines):
            return len(self.text) if line >= len(self.lines) else None
        return self._starts[line] + (norm - self._norm_starts[line]) + (self._bom if line == 0 else 0)

    # ---- blocks

    def _blocks(self, tokens: list[Token], record: _Record) -> Iterator[Block]:
        stack: list[int] = []  # indices of the open containers
        count = 0
        definitions = sorted(record.definitions)
        pending = 0

        def flush(before: int | None) -> Iterator[Block]:
            nonlocal pending, count
            while pending < len(definitions) and (before is None or definitions[pending][0] < before):
                start, end = definitions[pending][0], definitions[pending][1]
                parent = next((i for i in reversed(stack)), -1)
                yield Block("definition", start, end, len(stack), parent)
                count += 1
                pending += 1

        if self.front_matter:
            yield Block("front_matter", 0, self.front_matter, 0, -1, "---")
            count += 1
        for token in tokens:
            if token.nesting == -1:
                if token.type in ("bullet_list_close", "ordered_list_close", "list_item_close", "blockquote_close"):
                    stack.pop()
                continue
            if token.map is None or token.type == "inline":
                continue
            yield from flush(token.map[0])
            start, end = token.map
            parent = stack[-1] if stack else -1
            kind = {"paragraph_open": "paragraph", "heading_open": "heading", "bullet_list_open": "bullet_list",
                    "ordered_list_open": "ordered_list", "list_item_open": "list_item", "fence": "fence",
                    "code_block": "code", "html_block": "html", "table_open": "table",
                    "blockquote_open": "blockquote", "hr": "hr"}.get(token.type)
            if kind is None:
                continue
            markup, info, closed, level, marker, column = token.markup, "", True, 0, None, 0
            if kind == "fence":
                info, closed = token.info, self._fence_closed(token)
            elif kind == "html":
                closed = _html_closed(token.content)
            elif kind == "list_item":
                info = token.info
                at, marker_column = token.meta.get("marker", (None, 0))
                width = len(info) + 1
                begin = self._source(at)
                marker = Span(begin, begin + width) if begin is not None else None
                column = token.meta.get("content_column", marker_column + width + 1)  # an empty item's: one after
            elif kind == "heading":
                level = int(token.tag[1])
            yield Block(kind, start, end, len(stack), parent, markup, info, closed, level, marker, column)
            if kind in ("bullet_list", "ordered_list", "list_item", "blockquote"):
                stack.append(count)
            count += 1
        yield from flush(None)

    def _fence_closed(self, token: Token) -> bool:
        start, end = token.map or (0, 0)
        if end - start < 2:
            return False
        last = line_body(self.lines[end - 1]).lstrip(" \t>").strip()
        char = token.markup[:1]
        return bool(last) and set(last) == {char} and len(last) >= len(token.markup)

    def _headings(self, tokens: list[Token]) -> Iterator[Heading]:
        depth = 0
        for n, token in enumerate(tokens):
            if token.type in ("bullet_list_open", "ordered_list_open", "list_item_open", "blockquote_open"):
                depth += 1
            elif token.type in ("bullet_list_close", "ordered_list_close", "list_item_close", "blockquote_close"):
                depth -= 1
            elif token.type == "heading_open" and token.map:
                inline = tokens[n + 1]
                yield Heading(int(token.tag[1]), inline.content, " ".join(_plain(inline.children).split()),
                              token.map[0], token.map[1], depth, token.markup in ("=", "-"))

    def section_end(self, heading: Heading) -> int:
        """The line after a heading's section: the next heading of its level or above in the same container
        (the end of that container, or of the document)."""
        container_end = len(self.lines)
        for block in self.blocks:
            if block.kind in ("blockquote", "list_item") and block.start <= heading.line < block.end:
                container_end = min(container_end, block.end) if heading.depth else container_end
        for other in self.headings:
            if other.line > heading.line and other.depth == heading.depth and other.level <= heading.level:
                return min(other.line, container_end)
        return container_end

    def blocks_of(self, kind: str) -> list[Block]:
        return [block for block in self.blocks if block.kind == kind]

    def children(self, index: int) -> list[Block]:
        """The blocks directly inside the container ``self.blocks[index]``."""
        return [block for block in self.blocks if block.parent == index]

    @property
    def code_lines(self) -> frozenset[int]:
        """Lines whose text is code or raw HTML to CommonMark: fences (their fence lines too), indented code,
        HTML blocks. Nothing there is a heading, a list item or a link."""
        return frozenset(n for block in self.blocks if block.kind in ("fence", "code", "html")
                         for n in range(block.start, block.end))

    @property
    def fence_lines(self) -> frozenset[int]:
        """Lines inside code fences, their fence lines included (an unclosed fence runs to its container's end)."""
        return frozenset(n for block in self.blocks if block.kind == "fence" for n in range(block.start, block.end))

    def open_fence(self) -> Block | None:
        """A code fence no closing fence ends that runs to the end of the document (so it swallows whatever is
        appended), if any."""
        for block in self.blocks:
            if block.kind == "fence" and not block.closed and block.end >= self._content_end():
                return block
        return None

    def _content_end(self) -> int:
        end = len(self.lines)
        while end > 0 and not line_body(self.lines[end - 1]).strip():
            end -= 1
        return end

    # ---- links

    def _links(self, record: _Record) -> Iterator[Link]:
        for kind, start, end, content, token, to_norm, parts in record.links:
            begin, stop = self._source(to_norm(start)), self._source(to_norm(end))
            if begin is None or stop is None or parts is None:
                continue  # not located in the source: not offered for editing
            text_start, text_end, dest_start, dest_end = parts
            dest: Span | None = None
            if dest_start >= 0:
                a, b = self._source(to_norm(dest_start)), self._source(to_norm(dest_end))
                if a is None or b is None or self.text[a:b] != content[dest_start:dest_end]:
                    continue
                dest = Span(a, b)
            text = ""
            if text_start >= 0:
                a, b = self._source(to_norm(text_start)), self._source(to_norm(text_end))
                text = self.text[a:b] if a is not None and b is not None else content[text_start:text_end]
            image = kind == "image"
            href = token.attrGet("src" if image else "href") or ""
            href = href if isinstance(href, str) and _parser().validateLink(href) else ""
            title = token.attrGet("title") or ""
            if kind == "autolink":
                link_kind = LinkKind.AUTOLINK
            elif dest is not None:
                link_kind = LinkKind.INLINE
            else:
                link_kind = LinkKind.REFERENCE
            label = ""
            if link_kind is LinkKind.REFERENCE:
                raw = content[text_end + 1:end]
                label = normalizeReference(raw[1:-1] if len(raw) > 2 else content[text_start:text_end])
            yield Link(link_kind, image, Span(begin, stop), dest, self.text[dest.start:dest.end] if dest else "",
                       href, label, text, title, self.line_at(begin))
        seen: set[str] = set()
        md = _parser()
        for start_line, _end_line, text, origins, _level in sorted(record.definitions):
            label_end = _definition_label_end(text)
            if label_end < 0:
                continue
            pos = label_end + 2
            while pos < len(text) and text[pos] in " \t\n":
                pos += 1
            result = md.helpers.parseLinkDestination(text, pos, len(text))
            if not result.ok:
                continue
            a, b = self._source(origins[pos]), self._source(origins[result.pos])
            begin = self._source(origins[0])
            if a is None or b is None or begin is None:
                continue
            label = normalizeReference(text[1:label_end])
            href = md.normalizeLink(result.str)
            end_offset = self._source(origins[len(text.rstrip("\n"))]) or b
            yield Link(LinkKind.DEFINITION, False, Span(begin, end_offset), Span(a, b), self.text[a:b],
                       href if md.validateLink(href) else "", label, text[1:label_end], "", start_line,
                       first=label not in seen)
            seen.add(label)

    def definition(self, label: str) -> Link | None:
        """The reference definition a label resolves to (the first of that label)."""
        key = normalizeReference(label)
        return next((link for link in self.links if link.kind is LinkKind.DEFINITION and link.first
                     and link.label == key), None)

    def links_in(self, start_line: int, end_line: int) -> list[Link]:
        """The links starting on lines ``start_line`` to ``end_line - 1``."""
        return [link for link in self.links if start_line <= link.line < end_line]

    def local_links(self) -> list[Link]:
        """Links with a destination written here (inline, definitions) that name a file beside the document."""
        return [link for link in self.links if link.dest is not None and link.local]

    # ---- edits

    def edit(self, edits: Iterable[Edit]) -> str:
        """The text with each span replaced; everything else byte for byte. Overlapping edits are refused."""
        out: list[str] = []
        last = 0
        for start, end, new in sorted(edits, key=lambda e: (e.start, e.end)):
            if start < last or end < start or end > len(self.text):
                raise ValueError(f"edits overlap or leave the text: {start}..{end}")
            out.append(self.text[last:start])
            out.append(new)
            last = end
        return "".join(out) + self.text[last:]

    def with_destination(self, link: Link, destination: str) -> str:
        """The text with one link's destination (as it is to be written, see :func:`format_destination`)."""
        if link.dest is None:
            raise ValueError("a reference link has no destination of its own: edit its definition")
        return self.edit([Edit(link.dest.start, link.dest.end, destination)])

    def replace_lines(self, start: int, end: int, new: str | Sequence[str]) -> str:
        """The text with lines ``start`` to ``end - 1`` replaced by ``new`` (lines with their endings)."""
        text = new if isinstance(new, str) else "".join(new)
        return self.edit([Edit(self.offset(start), self.offset(end), text)])


def _html_closed(content: str) -> bool:
    """Whether an HTML block ended by its end marker (CommonMark's types 1-5), not at a blank line or the end."""
    lines = content.rstrip("\n").split("\n")
    for opening, closing, _ in HTML_SEQUENCES:
        if opening.search(lines[0].lstrip(" \t")):
            return closing.pattern != "^$" and bool(closing.search(lines[-1]))
    return False


def _front_matter(bodies: Sequence[str]) -> int:
    """How many lines a leading YAML front matter (``---`` ... ``---`` or ``...``) takes; 0 without one.

    It must hold a top-level ``key:``: GitHub renders front matter as a table of its keys, and a README opening
    with a rule, a heading and another rule ("---", "## Lessons", "---": all comments to YAML) is markdown."""
    if not bodies or bodies[0].rstrip() != "---":
        return 0
    for n in range(1, len(bodies)):
        if bodies[n].rstrip() in ("---", "..."):
            return n + 1 if any(_YAML_KEY.match(line) for line in bodies[1:n]) else 0
    return 0


_YAML_KEY = re.compile(r"""(?:[^\s#:"'-][^:]*|"[^"]*"|'[^']*'):(?:[ \t]|$)""")


@lru_cache(maxsize=64)
def parse(text: str) -> Document:
    """The text parsed as CommonMark with GFM tables (cached: parsing the same text twice is free)."""
    return Document(text)


class _AnyReference(dict[str, dict[str, str]]):
    """Reference definitions for a snippet cut from a document: every label has one (its target unknown: "")."""

    def get(self, key: str, default: Any = None) -> dict[str, str]:
        return super().get(key) or {"href": "", "title": ""}


@lru_cache(maxsize=256)
def parse_inline(text: str) -> Document:
    """The text read as the inline content of one paragraph (a title, a description, a lesson's words): its links
    and their spans, and no blocks, so a leading ``<b>`` or ``1.`` is text, not an HTML block or a list. The
    snippet comes from a document whose reference definitions it lacks, so ``[text][label]`` and ``[label]`` are
    reference links here (``href`` ""), and a ``javascript:`` link is a link, as GitHub shows it (``href`` "")."""
    return Document(text, inline=True)


def _definition_label_end(text: str) -> int:
    pos = 1
    while pos < len(text):
        ch = text[pos]
        if ch == "]":
            return pos if text[pos + 1:pos + 2] == ":" else -1
        if ch == "\\":
            pos += 1
        pos += 1
    return -1


# --------------------------------------------------------------------------- writing destinations


def destination_style(doc: Document) -> DestinationStyle:
    """How the document writes local destinations that need it: ``<...>`` when its links mostly do, else ``%20``."""
    styles = Counter(DestinationStyle.ANGLE if link.angle else DestinationStyle.PERCENT for link in doc.local_links()
                     if link.angle or "%" in link.written)
    return styles.most_common(1)[0][0] if styles else DestinationStyle.PERCENT


def format_destination(path: str, style: DestinationStyle = DestinationStyle.PERCENT, suffix: str = "") -> str:
    """A link destination for a path (and "#fragment"), valid CommonMark that GitHub reads as that path.

    ``PERCENT``: ``June%202025/x.md`` (what GitHub's editor writes: spaces, parentheses, non-ASCII and
    markdown's specials percent-encoded). ``ANGLE``: ``<June 2025/x.md>``, only ``<``, ``>``, a backslash and
    line ends, ``%``, ``?``, ``#`` (and a ``:`` that would read as a scheme) encoded. Never a raw space outside ``<>``.
    """
    if style is DestinationStyle.ANGLE:
        # "?" and "#" in a file name would start a query or fragment, a ":" before any "/" a scheme.
        inner = re.sub(r"[<>\\\n\r%?#]", lambda m: f"%{ord(m[0]):02X}", path)
        if _SCHEME.match(inner.split("/", 1)[0]):
            inner = inner.replace(":", "%3A", 1)
        return f"<{inner}{suffix}>"
    return quote(path, safe="/") + suffix


def relative_destination(target: str, from_dir: str) -> str:
    """The relative path from a file in ``from_dir`` to ``target`` (both relative to the same root)."""
    return posixpath.relpath(target, from_dir or ".")


def plain_text(markdown: str) -> str:
    """The words a reader sees in a markdown snippet: link text and code kept, markup, URLs and images dropped."""
    tokens = _parser().parse(markdown, {_ENV: _Record([0])})
    words: list[str] = []
    for token in tokens:
        if token.type == "inline":
            words.append(_plain([c for c in token.children or () if c.type != "image"]))
        elif token.type in ("fence", "code_block"):
            words.append(token.content)
    return " ".join(" ".join(words).split())
