"""The diary README's lessons section as an editable model that renders back byte for byte.

The README is the user's own file, written on a phone and tidied on a laptop, so
the model assumes nothing about its hygiene: every line is kept raw, with its own
line ending (LF, CRLF or CR, mixed if need be), trailing spaces and tabs, and the
last line may lack a newline. The structure only groups those lines, so
``Readme.parse(text).render() == text`` for any text.

Shape (``##`` section, ``###`` themes, ``####`` sub-themes, numbered lessons)::

    ## Interesting Methods and Lesson Learned      <- section (found by its heading)
    Prose...                                        <- section intro
    ### Reinforcement Learning                      <- theme
    1. **Key phrase** ... ([ProRL](June%202025/4thJuneProlongedRL.md))   <- lesson
    continuation line without indent                <- same lesson
        - nested bullet                             <- same lesson
       1. numbered sub-item                         <- same lesson
    2) next lesson ...

Block structure follows CommonMark closely enough for this shape: fenced code and
HTML blocks are opaque (a ``#`` inside a fence is not a heading), a list item
stays open for lazy continuation lines, and a marker indented at least as far as
the open item's content is a nested item, not a new lesson. Setext headings are
recognised when their text is a single line.

Edits (:meth:`Readme.add_lesson`, :meth:`Readme.extend_lesson`,
:meth:`Readme.add_theme`, :meth:`Readme.remove_lesson`) return a new model and
change only the lines they must; each re-parses its result and refuses (with
:class:`ReadmeError`) when the change would not land where intended, e.g. after
an unclosed code fence.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

from paperdiary.errors import OutsideDiaryError, ReadmeError
from paperdiary.fsutil import diary_relpath, read_diary_bytes
from paperdiary.text import line_body, line_ending, split_lines

README_NAME = "README.md"  # the diary's README, at its root: the lessons and the Full Diary index live there
DEFAULT_THEMES = (
    "Reinforcement Learning",
    "Self Improvement",
    "Training in General",
    "Robotics",
    "Open-Endedness and Auto Curriculums",
)
DEFAULT_SECTION_TITLE = "Interesting Methods and Lesson Learned"


# --------------------------------------------------------------------------- lines


def _is_blank(line: str) -> bool:
    return not line_body(line).strip(" \t")


def _indent(text: str, start: int = 0) -> tuple[int, str]:
    """(columns of leading spaces/tabs, rest), tabs advancing to the next multiple of 4."""
    col = start
    for n, ch in enumerate(text):
        if ch == " ":
            col += 1
        elif ch == "\t":
            col += 4 - col % 4
        else:
            return col - start, text[n:]
    return col - start, ""


def _dominant_ending(lines: Sequence[str]) -> str:
    counts = Counter(e for e in map(line_ending, lines) if e)
    if not counts:
        return "\n"
    # Ties go to the ending seen first, so the choice is deterministic.
    first_seen = {e: n for n, e in reversed(list(enumerate(map(line_ending, lines))))}
    return max(counts, key=lambda e: (counts[e], -first_seen[e]))


# --------------------------------------------------------------------------- block scanner

_ATX = re.compile(r"(#{1,6})(?=[ \t]|$)")
_ATX_CLOSE = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_SETEXT = re.compile(r"(?:=+|-+)[ \t]*")
_HR = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)")
_ITEM = re.compile(r"(?:([-+*])|(\d{1,9})([.)]))(?=[ \t]|$)")
# HTML blocks (CommonMark types 1-5) that run until an end marker, blank lines included.
_HTML_WITH_END = (
    (
        re.compile(r"<(?:script|pre|style|textarea)(?:[ \t>]|$)", re.IGNORECASE),
        re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
)
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|"
    "dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|legend|li|link|"
    "main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|"
    "thead|title|tr|track|ul"
)
# Types 6 and 7 run until a blank line; type 7 (any lone tag) cannot interrupt a paragraph.
_HTML_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS})(?:[ \t]|/?>|$)", re.IGNORECASE)
_HTML_LONE_TAG = re.compile(
    r"""(?:<[A-Za-z][A-Za-z0-9-]*(?:[ \t]+[A-Za-z_:][\w.:-]*(?:[ \t]*=[ \t]*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)*"""
    r"""[ \t]*/?>|</[A-Za-z][A-Za-z0-9-]*[ \t]*>)[ \t]*"""
)


@dataclass(frozen=True, slots=True)
class _Line:
    """What one line is, for grouping. ``text`` covers everything that is not structure."""

    kind: str  # "blank" | "text" | "cont" | "code" | "heading" | "underline" | "item"
    level: int = 0  # heading level
    title: str = ""  # heading title
    bullet: bool = False  # item: "-"/"*"/"+" rather than "N." / "N)"


_BLANK = _Line("blank")
_TEXT = _Line("text")
_CONT = _Line("cont")  # continues the previous line's paragraph
_CODE = _Line("code")  # inside a fence or an HTML block: opaque
_UNDERLINE = _Line("underline")
_ITEM_NUMBERED = _Line("item")
_ITEM_BULLET = _Line("item", bullet=True)


@dataclass(slots=True)
class _Block:
    """An open opaque block: a fence (char, length) or an HTML block (end marker, or None = blank line)."""

    container: int  # content column of the list item holding it; 0 at document level
    fence: tuple[str, int] | None = None
    end: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class _Start:
    """The block a line opens.

    ``kind``: "" (none: paragraph text), "heading", "setext", "hr", "fence", "quote", "html" or "item".
    """

    kind: str
    level: int = 0  # heading, setext
    title: str = ""  # heading
    fence: tuple[str, int] | None = None  # fence: (character, length)
    html_end: re.Pattern[str] | None = None  # html: end marker (None = ends at a blank line)
    html_from: int = 0  # html: where to look for the end marker on the opening line
    item: re.Match[str] | None = None  # item: the marker


_NO_START = _Start("")


def _block_start(rest: str, rel: int, para: bool) -> _Start:
    """The block a line (``rest`` = text after its indentation) opens, if any.

    ``rel`` is its indentation relative to its container; ``para`` says whether
    the previous line was paragraph text (which some blocks cannot interrupt).
    """
    if rel > 3 or not rest:
        return _NO_START
    c = rest[0]
    if c == "#" and (m := _ATX.match(rest)):
        return _Start("heading", level=len(m[1]), title=_ATX_CLOSE.sub("", rest[m.end():]).strip(" \t"))
    if c in "=-" and para and _SETEXT.fullmatch(rest):
        return _Start("setext", level=1 if c == "=" else 2)
    if c in "-*_" and _HR.fullmatch(rest):
        return _Start("hr")
    if c in "`~" and (m := _FENCE.match(rest)) and not (c == "`" and "`" in m[2]):
        return _Start("fence", fence=(c, len(m[1])))
    if c == ">":
        return _Start("quote")
    if c == "<":
        for start, end in _HTML_WITH_END:
            if m := start.match(rest):
                return _Start("html", html_end=end, html_from=m.end())
        if _HTML_BLOCK_TAG.match(rest) or (not para and _HTML_LONE_TAG.fullmatch(rest)):
            return _Start("html")
    if m := _ITEM.match(rest):
        return _Start("item", item=m)
    return _NO_START


def _item_content_col(col: int, rest: str, m: re.Match[str]) -> int:
    marker_end = col + m.end()
    width, tail = _indent(rest[m.end():], marker_end)
    # An empty item, or one whose text is indented code (5+ columns), has content one column after its marker.
    return marker_end + 1 if not tail or width > 4 else marker_end + width


def _scan(lines: Sequence[str]) -> tuple[list[_Line], _Block | None, int | None]:
    """Classify every line, tracking fences, HTML blocks and the open top-level list item.

    Also returns what is still open after the last line: an opaque block, and
    the content column of a top-level list item.
    """
    out: list[_Line] = []
    item: int | None = None  # content column of the open top-level list item
    block: _Block | None = None
    para = False  # the previous line is paragraph text that the next may continue
    para_start = -1  # index of a single-line document-level paragraph (setext heading text)
    for i, raw in enumerate(lines):
        body = line_body(raw)
        if i == 0 and body.startswith("\ufeff"):
            body = body[1:]
        col, rest = _indent(body)
        blank = not rest
        if block is not None:
            if not blank and block.container and col < block.container:
                block = item = None  # a less indented line closes the list item, and the block inside it
            elif block.fence is not None:
                char, length = block.fence
                closing = rest.rstrip(" \t")
                if col - block.container <= 3 and len(closing) >= length and closing == char * len(closing):
                    block = None
                out.append(_CODE)
                continue
            elif block.end is not None:
                if block.end.search(body):
                    block = None
                out.append(_CODE)
                continue
            elif not blank:
                out.append(_CODE)
                continue
            else:
                block = None  # a blank line ends an HTML block of types 6 and 7
        if blank:
            out.append(_BLANK)
            para, para_start = False, -1
            continue

        inside = item is not None and col >= item
        rel = col - item if inside and item is not None else col
        start = _block_start(rest, rel, para)
        if start.kind == "setext" and (inside or para_start != i - 1):
            start = _Start("hr") if rest[0] == "-" else _NO_START
        kind = start.kind
        if item is not None and not inside:
            if not kind and para:
                out.append(_CONT)  # lazy continuation: "1. text\nmore text" without indent
                continue
            item = None
        if inside:
            # Within the item: its headings and nested lists are its own content.
            if kind in ("fence", "html"):
                block = _open_block(start, body, item or 0)
            out.append(_CONT if not kind and para else _CODE if block else _TEXT)
            para = (not kind and (para or rel < 4)) or kind in ("item", "quote")
            para_start = -1
            continue

        para_start = -1
        if kind == "heading":
            out.append(_Line("heading", level=start.level, title=start.title))
            para = False
        elif kind == "setext":
            title = _indent(line_body(lines[i - 1]).lstrip("\ufeff"))[1].strip()
            out[i - 1] = _Line("heading", level=start.level, title=title)
            out.append(_UNDERLINE)
            para = False
        elif kind == "item" and start.item is not None:
            m = start.item
            item = _item_content_col(col, rest, m)
            out.append(_ITEM_BULLET if m[1] else _ITEM_NUMBERED)
            para = bool(rest[m.end():].strip(" \t"))
        elif kind in ("fence", "html"):
            block = _open_block(start, body, 0)
            out.append(_CODE)
            para = False
        elif kind == "hr":
            out.append(_TEXT)
            para = False
        elif kind == "quote":
            out.append(_TEXT)
            para = True
        elif para:
            out.append(_CONT)
        elif rel >= 4:
            out.append(_TEXT)  # indented code: no paragraph to continue
        else:
            out.append(_TEXT)
            para, para_start = True, i
    return out, block, item


def _open_block(start: _Start, body: str, container: int) -> _Block | None:
    if start.fence is not None:
        return _Block(container, fence=start.fence)
    if start.html_end is not None and start.html_end.search(body, body.find("<") + start.html_from):
        return None  # opened and closed on one line: <!-- comment -->
    return _Block(container, end=start.html_end)


# --------------------------------------------------------------------------- links

_LABEL = r"(?:[^\[\]\\\n]|\\.|\[(?:[^\[\]\\\n]|\\.)*\])*"
_DEST = r"(?:<[^<>\n]*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*)"
_TITLE = r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?"""
_INLINE_LINK = re.compile(rf"(!?)\[({_LABEL})\]\([ \t]*({_DEST}){_TITLE}[ \t]*\)")
_REF_LINK = re.compile(rf"(!?)\[({_LABEL})\](?:\[((?:[^\[\]\\\n]|\\.)*)\])?(?![(:\[])")
_REF_DEF = re.compile(r" {0,3}\[((?:[^\[\]\\\n]|\\.)+)\]:[ \t]*(<[^<>\n]*>|\S+)")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# A parenthesised group of inline links: "([A](a))", "([A](a), [B](b) and [C](c))".
_LINK_NC = rf"!?\[{_LABEL}\]\([ \t]*{_DEST}{_TITLE}[ \t]*\)"
_LINK_GROUP = re.compile(rf"\([ \t]*{_LINK_NC}(?:[ \t]*(?:,|;|&|\band\b)?[ \t]*{_LINK_NC})*[ \t]*\)")


def _label_key(label: str) -> str:
    return " ".join(label.casefold().split())


@dataclass(frozen=True)
class Citation:
    """A link from a lesson to a diary entry."""

    label: str  # link text as written: "ProRL"
    target: str  # destination as written: "June%202025/4thJuneProlongedRL.md"
    path: str  # decoded, normalised, relative to the diary root: "June 2025/4thJuneProlongedRL.md"


def _entry_path(target: str, readme_dir: str) -> str | None:
    """The diary-relative path an entry link points at, or None when it is not a link to an entry."""
    target = target.strip()
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1]
    target = re.split(r"[?#]", target, maxsplit=1)[0]
    if not target or target.startswith("//") or _SCHEME.match(target):
        return None
    path = unquote(target.replace("\\", ""))  # backslash escapes in a destination
    if not path.lower().endswith(".md"):
        return None
    # A leading "/" is the repository root on GitHub, which is the diary root.
    path = path.lstrip("/") if path.startswith("/") else posixpath.join(readme_dir, path)
    path = posixpath.normpath(path)
    if path == ".." or path.startswith("../"):
        return None
    return unicodedata.normalize("NFC", path)


def _citations(markdown: str, refs: dict[str, str], readme_dir: str) -> tuple[Citation, ...]:
    markdown = _CODE_SPAN.sub("", markdown)
    found: list[Citation] = []
    for m in _INLINE_LINK.finditer(markdown):
        if not m[1] and (path := _entry_path(m[3], readme_dir)):
            found.append(Citation(m[2], m[3], path))
    if refs:
        for m in _REF_LINK.finditer(_INLINE_LINK.sub("", markdown)):
            target = refs.get(_label_key(m[3] or m[2]))
            if not m[1] and target and (path := _entry_path(target, readme_dir)):
                found.append(Citation(m[2], target, path))
    return tuple(found)


def cited_path(relpath: str) -> str:
    """A diary-relative path the way the model records the entries lessons cite: normalised, NFC ("" stays "")."""
    return unicodedata.normalize("NFC", posixpath.normpath(relpath).lstrip("/")) if relpath else ""


def plain_text(markdown: str, *, link_labels: bool = True) -> str:
    """Markdown -> the words a reader sees: link text kept (or dropped), images, URLs and tags dropped."""
    text = _INLINE_LINK.sub(lambda m: "" if m[1] or not link_labels else f" {m[2]} ", markdown)
    text = _REF_LINK.sub(lambda m: "" if m[1] or not link_labels else f" {m[2]} ", text)
    text = re.sub(r"<[^<>\n]*>|https?://\S+", " ", text)
    return " ".join(text.split())


# --------------------------------------------------------------------------- model

_MARKER = re.compile(r"([ \t]*)(?:([-+*])|(\d{1,9})([.)]))([ \t]*)")


def _fold(name: str) -> str:
    """A theme name for loose comparison: emoji, punctuation, case and spacing ignored; "&" = "and"."""
    name = unicodedata.normalize("NFKC", name).casefold().replace("&", " and ")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in name).split())


@dataclass(frozen=True)
class ReadmeLesson:
    """One lesson: a top-level list item with everything up to the next lesson or heading."""

    start: int = field(repr=False)  # index of its first line in the README
    lines: tuple[str, ...] = field(repr=False)  # raw, with their endings
    trailing: tuple[str, ...] = field(repr=False)  # blank lines after it (new lessons go before them)
    number: str | None  # as written ("07", "10"); None for a bullet
    delimiter: str  # "." or ")" after a number; the bullet character for a bullet
    paragraph: int = field(repr=False)  # how many of ``lines`` form its first paragraph
    citations: tuple[Citation, ...] = field(repr=False)

    @property
    def _marker_match(self) -> re.Match[str]:
        m = _MARKER.match(line_body(self.lines[0]))
        assert m is not None  # a lesson starts at a list marker by construction
        return m

    @property
    def body(self) -> str:
        """The lesson's markdown without its list marker or line endings."""
        first = line_body(self.lines[0])[self._marker_match.end():]
        return "\n".join([first, *map(line_body, self.lines[1:])])

    @property
    def text(self) -> str:
        """Its first paragraph (first line and continuation lines) on one line: what ranking reads first."""
        first = line_body(self.lines[0])[self._marker_match.end():]
        return " ".join(" ".join([first, *map(line_body, self.lines[1 : self.paragraph])]).split())

    @property
    def cites(self) -> tuple[str, ...]:
        """Diary-relative paths of the entries it links to, in order, without repeats."""
        return tuple(dict.fromkeys(c.path for c in self.citations))

    @property
    def raw(self) -> str:
        return "".join(self.lines) + "".join(self.trailing)


@dataclass(frozen=True)
class Theme:
    """A ``###`` theme (or ``####`` sub-theme) of the lessons section."""

    key: tuple[int, ...]  # index path from the section: (2,) = third theme, (2, 0) = its first sub-theme
    name: str
    level: int
    start: int = field(repr=False)
    heading: tuple[str, ...] = field(repr=False)  # raw heading line (two for a setext heading)
    intro: tuple[str, ...] = field(repr=False)  # lines between the heading and the first lesson
    lessons: tuple[ReadmeLesson, ...] = field(repr=False)
    subthemes: tuple[Theme, ...] = field(repr=False)

    def lines(self) -> Iterator[str]:
        yield from self.heading
        yield from self.intro
        for lesson in self.lessons:
            yield from lesson.lines
            yield from lesson.trailing
        for sub in self.subthemes:
            yield from sub.lines()

    def walk(self) -> Iterator[Theme]:
        """This theme, then its sub-themes depth first (document order)."""
        yield self
        for sub in self.subthemes:
            yield from sub.walk()

    @property
    def own_end(self) -> int:
        """Index of the line after its own lessons (its sub-themes start there)."""
        end = self.start + len(self.heading) + len(self.intro)
        return end + sum(len(x.lines) + len(x.trailing) for x in self.lessons)


ThemeRef = str | tuple[int, ...] | Theme


@dataclass(frozen=True)
class Readme:
    """A README split into: preamble, the lessons section (heading, intro, themes) and what follows."""

    preamble: tuple[str, ...] = field(repr=False)
    section_heading: tuple[str, ...] = field(repr=False)
    section_title: str
    section_level: int
    intro: tuple[str, ...] = field(repr=False)
    themes: tuple[Theme, ...]
    after: tuple[str, ...] = field(repr=False)
    heading: str = ""  # the heading setting it was parsed with, reused when re-parsing after an edit
    readme_dir: str = ""  # the README's folder relative to the diary root; citations resolve against it

    # ---- reading

    @classmethod
    def parse(cls, text: str, heading: str = "", *, readme_dir: str = "", create: bool = False) -> Readme:
        """Parse a README. ``heading`` picks the lessons section.

        ``heading`` is a title ("Lessons Learned", any ``#``/``##`` level) or a
        full heading ("### Lessons"); empty means the first ``##`` heading
        containing "Lesson". Without such a section, raises :class:`ReadmeError`,
        or with ``create=True`` appends an empty one (then ``render()`` differs
        from ``text`` by exactly that section).
        """
        lines = split_lines(text)
        infos, _, _ = _scan(lines)
        found = _find_section(infos, heading)
        if found is None:
            if not create:
                raise ReadmeError(
                    f"the README has no lessons section ({_describe_heading(heading)}).",
                    hint="Add one (e.g. '## Interesting Methods and Lesson Learned'), or set lessons_heading.",
                )
            return cls.parse(_with_section(text, lines, heading), heading, readme_dir=readme_dir)
        return _build(lines, infos, found, heading, readme_dir)

    @classmethod
    def read(cls, path: Path, heading: str = "", *, diary_root: Path | None = None, create: bool = False) -> Readme:
        """Read a README file exactly as stored (CRLF kept); citations resolve against its folder.

        With ``diary_root``, a README that is a symlink out of the diary is refused (OutsideDiaryError).
        """
        try:
            text = (read_diary_bytes(diary_root, path) if diary_root is not None else path.read_bytes()).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ReadmeError(f"cannot read {path}: {exc}.") from None
        readme_dir = ""
        if diary_root is not None:
            try:
                readme_dir = diary_relpath(diary_root, path.resolve().parent)
            except ValueError:
                raise ReadmeError(f"{path} is outside the diary {diary_root}.") from None
        return cls.parse(text, heading, readme_dir="" if readme_dir == "." else readme_dir, create=create)

    def render(self) -> str:
        """The README's text: byte for byte the parsed text when nothing was edited."""
        return "".join(self._iter_lines())

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the rendered text: a cache key for indexes built over this README."""
        return hashlib.sha256(self.render().encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def newline(self) -> str:
        """The file's usual line ending ("\\n", "\\r\\n" or "\\r")."""
        return _dominant_ending(list(self._iter_lines()))

    def all_themes(self) -> Iterator[Theme]:
        """Every theme and sub-theme, in document order."""
        for theme in self.themes:
            yield from theme.walk()

    def theme(self, ref: ThemeRef) -> Theme:
        """A theme by key, by :class:`Theme` (from this model or an earlier one) or by name.

        Names match exactly first, then loosely (case, emoji and punctuation
        ignored: "robotics" finds "🤖 Robotics").
        """
        if isinstance(ref, Theme):
            found = self.theme(ref.key)
            if found.name != ref.name:
                raise ReadmeError(f"theme {ref.name!r} is no longer at its place in the README ({found.name!r} is).")
            return found
        if isinstance(ref, tuple):
            themes: Sequence[Theme] = self.themes
            found_theme: Theme | None = None
            for index in ref:
                if not 0 <= index < len(themes):
                    raise ReadmeError(f"no theme at {ref} in the README.")
                found_theme = themes[index]
                themes = found_theme.subthemes
            if found_theme is None:
                raise ReadmeError("an empty theme key names no theme.")
            return found_theme
        matches = self.find_themes(ref)
        if len(matches) == 1:
            return matches[0]
        names = ", ".join(repr(t.name) for t in self.all_themes()) or "none"
        if not matches:
            raise ReadmeError(f"the README has no theme named {ref!r}.", hint=f"Themes: {names}.")
        raise ReadmeError(f"{len(matches)} themes are named {ref!r}.", hint="Pick one by its key.")

    def find_themes(self, name: str) -> list[Theme]:
        """Themes named ``name``: exact matches, else loose ones (case, emoji, punctuation, "&"/"and" ignored)."""
        exact = [t for t in self.all_themes() if t.name == name]
        return exact or [t for t in self.all_themes() if _fold(t.name) == _fold(name)]

    def __repr__(self) -> str:
        lessons = sum(len(t.lessons) for t in self.all_themes())
        return f"Readme(section={self.section_title!r}, themes={len(self.themes)}, lessons={lessons})"

    # ---- editing

    def add_lesson(self, theme: ThemeRef, text: str) -> Readme:
        """A new model with ``text`` as the theme's last lesson.

        The item continues the theme's list: last number + 1 in its style
        (``N.``/``N)``, zero padding, indentation, spacing; a list numbered
        ``1.`` throughout stays so; bullets stay bullets), with the line ending
        of its neighbours, before the blank lines that end the list. A blank
        line goes before it in a loose list (blank lines between items) or
        after an HTML block, and after it when text follows directly. A missing
        final newline is added to the line before the insertion only, and the
        file still ends without one.
        """
        target = self.theme(theme)
        lines = list(self._iter_lines())
        if target.lessons:
            last = target.lessons[-1]
            at = last.start + len(last.lines)
            loose = len(target.lessons) > 1 and bool(target.lessons[-2].trailing)
            prefix = self._next_marker(target)
        else:
            at = self._content_end(lines, target.start + len(target.heading), target.own_end)
            loose = False
            prefix = self._first_marker()
        _, open_block, open_item = _scan(lines[:at])
        if open_item is not None and _indent(prefix)[0] >= open_item:
            prefix = prefix.lstrip(" \t")  # indented as the last lesson, it would nest in the open item
        eol = _eol_near(lines, at)
        item = _item_lines(prefix, text, eol)
        # A list item right after an HTML block (<details>...</details>) would be part of the block
        # until a blank line ends it.
        loose = loose or (open_block is not None and open_block.fence is None and open_block.end is None)
        lead = [eol] if loose else []
        gap = []
        if at < len(lines) and not _is_blank(lines[at]):
            col, rest = _indent(line_body(lines[at]))
            if _block_start(rest, col, False).kind not in ("heading", "item"):
                # Text right after the item (a setext heading's title, say) would become its lazy continuation.
                gap = [eol]
        inserted = _insert(lines, at, lead + item + gap)
        new_lesson = tuple(inserted[len(lead) : len(lead) + len(item)])
        expected = _shape(self, grow={target.key: 1})
        return self._edited(
            lines, expected, f"add a lesson to {target.name!r}",
            lambda r: r.theme(target.key).lessons[-1].lines == new_lesson,
        )

    def extend_lesson(self, theme: ThemeRef, lesson_index: int, citation: str) -> Readme:
        """A new model where the lesson also cites ``citation`` (markdown, e.g. ``[SEAL](June%202025/x.md)``).

        The citation joins an existing parenthesised group of links in the
        lesson's first paragraph ("([A](a))" -> "([A](a), [New](n))"; "... and
        [B](b))" -> "..., [B](b) and [New](n))"), else is appended to the end of
        the first paragraph as " ([New](n))", before trailing spaces (a hard
        break) and the line ending. Unchanged when the lesson already cites it.
        """
        target = self.theme(theme)
        lesson = _nth(target, lesson_index)
        citation = " ".join(citation.split())
        if not citation:
            raise ReadmeError("an empty citation cannot extend a lesson.")
        new_paths = {c.path for c in _citations(citation, {}, self.readme_dir)}
        if new_paths and new_paths <= set(lesson.cites):
            return self
        lines = list(self._iter_lines())
        para = range(lesson.start, lesson.start + lesson.paragraph)
        for n in para:
            body = line_body(lines[n])
            after_marker = lesson._marker_match.end() if n == lesson.start else 0
            if m := _LINK_GROUP.search(body, after_marker):
                lines[n] = body[: m.start()] + _extend_group(m[0], citation) + body[m.end():] + line_ending(lines[n])
                break
        else:
            n = para[-1]
            body = line_body(lines[n])
            core = body.rstrip(" \t")
            if core.endswith("\\") and not core.endswith("\\\\"):
                core = core[:-1]  # keep a backslash hard break after the citation
            lines[n] = f"{core} ({citation}){body[len(core):]}{line_ending(lines[n])}"
        return self._edited(
            lines, _shape(self), f"extend lesson {lesson_index + 1} of {target.name!r}",
            lambda r: new_paths <= set(_nth(r.theme(target.key), lesson_index).cites),
        )

    def add_theme(self, name: str, text: str = "") -> Readme:
        """A new model with a theme (``###`` under a ``##`` section) at the end of the lessons section.

        It lands after the last theme's content and before the blank lines and
        whatever section follows; ``text``, if given, becomes its first lesson.
        """
        name = " ".join(name.split()).strip("#").strip()
        if not name:
            raise ReadmeError("a theme needs a name.")
        if any(_fold(t.name) == _fold(name) for t in self.all_themes()):
            raise ReadmeError(f"the README already has a theme named {name!r}.")
        lines = list(self._iter_lines())
        body_start = len(self.preamble) + len(self.section_heading)
        section_end = len(lines) - len(self.after)
        at = self._content_end(lines, body_start, section_end)
        eol = _eol_near(lines, at)
        new = [eol] if at > body_start else []  # a blank line between the last lesson and the heading
        new.append("#" * (self.section_level + 1) + " " + name + eol)
        if text.strip():
            new += _item_lines(self._first_marker(), text, eol)
        if at == section_end and self.after:
            new.append(eol)  # the next section followed directly: keep a blank line before it
        _insert(lines, at, new)
        expected = (*_shape(self), ((len(self.themes),), _fold(name), 1 if text.strip() else 0))
        return self._edited(lines, expected, f"add the theme {name!r}")

    def remove_lesson(self, theme: ThemeRef, lesson_index: int) -> Readme:
        """A new model without that lesson; later items are renumbered only if the list counted 1, 2, 3..."""
        target = self.theme(theme)
        lesson = _nth(target, lesson_index)
        lessons = target.lessons
        lines = list(self._iter_lines())
        if lesson_index < len(lessons) - 1:
            start, end = lesson.start, lessons[lesson_index + 1].start
        elif lesson_index > 0:  # the last item: drop the blank lines that separated it instead of its own
            before = lessons[lesson_index - 1]
            start, end = before.start + len(before.lines), lesson.start + len(lesson.lines)
        else:
            start, end = lesson.start, lesson.start + len(lesson.lines)
        counted = [int(x.number) for x in lessons if x.number is not None]
        if len(counted) == len(lessons) > 1 and counted == list(range(counted[0], counted[0] + len(counted))):
            for later in lessons[lesson_index + 1:]:
                m = later._marker_match
                body = line_body(lines[later.start])
                renumbered = str(int(m[3]) - 1).zfill(len(m[3]))
                lines[later.start] = body[: m.start(3)] + renumbered + body[m.end(3):] + line_ending(lines[later.start])
        unterminated = end == len(lines) and not line_ending(lines[-1])
        del lines[start:end]
        if unterminated and lines:
            lines[-1] = line_body(lines[-1])  # the file ended without a newline: keep it so
        what = f"remove lesson {lesson_index + 1} of {target.name!r}"
        return self._edited(lines, _shape(self, grow={target.key: -1}), what)

    # ---- internals

    def _iter_lines(self) -> Iterator[str]:
        yield from self.preamble
        yield from self.section_heading
        yield from self.intro
        for theme in self.themes:
            yield from theme.lines()
        yield from self.after

    def _next_marker(self, theme: Theme) -> str:
        last = theme.lessons[-1]
        m = last._marker_match
        spacing = m[5] or " "
        if last.number is None:
            return f"{m[1]}{last.delimiter}{spacing}"
        numbers = [x.number for x in theme.lessons]
        if len(numbers) > 1 and len(set(numbers)) == 1:
            number = last.number  # "1." on every item: the renderer counts, and so does the user
        else:
            number = str(int(last.number) + 1).zfill(len(last.number))
        return f"{m[1]}{number}{last.delimiter}{spacing}"

    def _first_marker(self) -> str:
        """First item of a new list, in the README's usual style ("1." unless the user prefers "1)" or bullets)."""
        lessons = [x for t in self.all_themes() for x in t.lessons]
        if not lessons:
            return "1. "
        numbered = [x.delimiter for x in lessons if x.number is not None]
        if numbered:
            return f"1{Counter(numbered).most_common(1)[0][0]} "
        return f"{Counter(x.delimiter for x in lessons).most_common(1)[0][0]} "

    @staticmethod
    def _content_end(lines: Sequence[str], start: int, end: int) -> int:
        """Index after the last non-blank line in ``lines[start:end]`` (``start`` if all blank)."""
        while end > start and _is_blank(lines[end - 1]):
            end -= 1
        return end

    def _edited(
        self, lines: list[str], expected: tuple, what: str, check: Callable[[Readme], bool] | None = None
    ) -> Readme:
        """Re-parse the edited text and make sure the edit landed as intended: themes and counts, then ``check``."""
        try:
            new = Readme.parse("".join(lines), self.heading, readme_dir=self.readme_dir)
            ok = _shape(new) == expected and (check is None or check(new))
        except ReadmeError:
            ok = False
        if not ok:
            raise ReadmeError(
                f"cannot {what}: the change would not stay where it belongs.",
                hint="Look for an unclosed code fence, HTML block or comment, or an indented heading, near it.",
            )
        return new


def iter_lessons(readme: Readme) -> Iterable[tuple[Theme, int, ReadmeLesson]]:
    """Every lesson with its theme and index, in document order."""
    for theme in readme.all_themes():
        for index, lesson in enumerate(theme.lessons):
            yield theme, index, lesson


def _nth(theme: Theme, index: int) -> ReadmeLesson:
    if not 0 <= index < len(theme.lessons):
        raise ReadmeError(f"theme {theme.name!r} has no lesson {index + 1} (it has {len(theme.lessons)}).")
    return theme.lessons[index]


def _shape(readme: Readme, grow: dict[tuple[int, ...], int] | None = None) -> tuple:
    """Themes and lesson counts: what an edit may change, and by how much."""
    grow = grow or {}
    return tuple((t.key, _fold(t.name), len(t.lessons) + grow.get(t.key, 0)) for t in readme.all_themes())


def _eol_near(lines: Sequence[str], at: int) -> str:
    """The line ending to write at ``at``: the one of the line before, else the file's usual one."""
    return (at and line_ending(lines[at - 1])) or _dominant_ending(lines)


def _insert(lines: list[str], at: int, new: list[str]) -> list[str]:
    """Insert ``new`` (lines ending with a newline) at ``at``; returns the lines as inserted.

    At the end of a file that lacks a final newline, the line before gets one
    (it must, to stay a line of its own) and the inserted block goes without,
    so the file still ends the way the user left it.
    """
    new = list(new)
    if at == len(lines) and lines and not line_ending(lines[-1]):
        lines[-1] += line_ending(new[-1])
        new[-1] = line_body(new[-1])
    lines[at:at] = new
    return new


def _item_lines(prefix: str, text: str, eol: str) -> list[str]:
    """A list item: ``prefix`` + the text's first line, then its other lines kept inside the item.

    Continuation lines stay as written (the user writes them without indent)
    unless they would start a block of their own or follow a blank line; those
    are indented to the item's content column so the item still holds them.
    """
    parts = re.split(r"\r\n|\r|\n", text)
    while parts and not parts[-1].strip(" \t"):
        parts.pop()
    while parts and not parts[0].strip(" \t"):
        parts.pop(0)
    if not parts or not parts[0].strip(" \t"):
        raise ReadmeError("a lesson needs some text.")
    content = len(prefix.expandtabs(4))  # the item's content column
    out = [prefix + parts[0].strip(" \t") + eol]
    para = True
    for part in parts[1:]:
        col, rest = _indent(part)
        if not rest:
            out.append(eol)
            para = False
            continue
        kind = _block_start(rest, col, para).kind
        if col < content and (kind or not para):
            part = " " * content + part
        out.append(part + eol)
        para = kind in ("", "item", "quote")
    return out


def _extend_group(group: str, citation: str) -> str:
    """Add a citation to "(links)": after a comma, or as the new last item of an "A, B and C" list."""
    inner = group[1:-1].rstrip(" \t")
    if re.search(r"\)[ \t]+and[ \t]+!?\[", inner):
        inner = re.sub(r"\)[ \t]+and[ \t]+(?=!?\[)", "), ", inner)
        return f"({inner} and {citation})"
    return f"({inner}, {citation})"


def _describe_heading(heading: str) -> str:
    return f"no heading {heading!r}" if heading else "no '## ...' heading containing 'Lesson'"


def _wanted(heading: str) -> tuple[int, str]:
    """(level or 0 for #/##, folded title) from a heading setting."""
    m = re.fullmatch(r"(#{1,6})[ \t]+(.*)", heading.strip())
    if m:
        return len(m[1]), _label_key(_ATX_CLOSE.sub("", m[2]))
    return 0, _label_key(heading)


def _find_section(infos: Sequence[_Line], heading: str) -> tuple[int, int, int] | None:
    """(heading line, first body line, end line) of the lessons section."""
    level, title = _wanted(heading)
    for i, info in enumerate(infos):
        if info.kind != "heading":
            continue
        if title:
            found = (info.level == level if level else info.level <= 2) and _label_key(info.title) == title
        else:
            found = info.level == 2 and "lesson" in info.title.casefold()
        if found:
            body = i + 2 if i + 1 < len(infos) and infos[i + 1].kind == "underline" else i + 1
            end = next(
                (j for j in range(body, len(infos)) if infos[j].kind == "heading" and infos[j].level <= info.level),
                len(infos),
            )
            return i, body, end
    return None


def _with_section(text: str, lines: Sequence[str], heading: str) -> str:
    level, _ = _wanted(heading)
    title = _ATX_CLOSE.sub("", heading.strip().lstrip("#")).strip() or DEFAULT_SECTION_TITLE
    eol = _dominant_ending(lines)
    ends_blank = len(lines) > 1 and not line_body(lines[-1]).strip()
    # One blank line before the new heading: the README's own last blank line, else one added.
    lead = (eol if lines and not line_ending(lines[-1]) else "") + (eol if text.strip() and not ends_blank else "")
    return f"{text}{lead}{'#' * (level or 2)} {title}{eol}"


def _reference_definitions(lines: Sequence[str], infos: Sequence[_Line]) -> dict[str, str]:
    refs: dict[str, str] = {}
    for line, info in zip(lines, infos, strict=True):
        if info.kind in ("text", "cont") and (m := _REF_DEF.match(line_body(line))):
            refs.setdefault(_label_key(m[1]), m[2])  # the first definition wins, as in CommonMark
    return refs


def _build(lines: list[str], infos: list[_Line], found: tuple[int, int, int], heading: str, readme_dir: str) -> Readme:
    head, body, end = found
    refs = _reference_definitions(lines, infos)
    headings = [j for j in range(body, end) if infos[j].kind == "heading"]

    def make_theme(index: int, key: tuple[int, ...], children: list[Theme]) -> Theme:
        at = headings[index]
        info = infos[at]
        n_heading = 2 if at + 1 < end and infos[at + 1].kind == "underline" else 1
        own_end = headings[index + 1] if index + 1 < len(headings) else end
        lessons = _lessons(lines, infos, at + n_heading, own_end, refs, readme_dir)
        intro_end = lessons[0].start if lessons else own_end
        return Theme(
            key=key, name=info.title, level=info.level, start=at,
            heading=tuple(lines[at : at + n_heading]), intro=tuple(lines[at + n_heading : intro_end]),
            lessons=tuple(lessons), subthemes=tuple(children),
        )

    def nest(first: int, stop: int, key: tuple[int, ...]) -> list[Theme]:
        """Themes among headings[first:stop]: each takes the deeper headings after it as sub-themes."""
        themes: list[Theme] = []
        index = first
        while index < stop:
            level = infos[headings[index]].level
            child_stop = next((j for j in range(index + 1, stop) if infos[headings[j]].level <= level), stop)
            own_key = (*key, len(themes))
            themes.append(make_theme(index, own_key, nest(index + 1, child_stop, own_key)))
            index = child_stop
        return themes

    first_theme = headings[0] if headings else end
    return Readme(
        preamble=tuple(lines[:head]),
        section_heading=tuple(lines[head:body]),
        section_title=infos[head].title,
        section_level=infos[head].level,
        intro=tuple(lines[body:first_theme]),
        themes=tuple(nest(0, len(headings), ())),
        after=tuple(lines[end:]),
        heading=heading,
        readme_dir=readme_dir,
    )


def _lessons(
    lines: Sequence[str], infos: Sequence[_Line], start: int, end: int, refs: dict[str, str], readme_dir: str
) -> list[ReadmeLesson]:
    """The lessons of one theme: its first top-level list item decides numbered or bulleted."""
    bullet: bool | None = None
    starts: list[int] = []
    for j in range(start, end):
        if infos[j].kind == "item":
            if bullet is None:
                bullet = infos[j].bullet
            if infos[j].bullet == bullet:
                starts.append(j)
    lessons = []
    for n, first in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else end
        content_end = stop
        while content_end > first + 1 and infos[content_end - 1].kind == "blank":
            content_end -= 1
        paragraph = 1
        while first + paragraph < content_end and infos[first + paragraph].kind == "cont":
            paragraph += 1
        m = _MARKER.match(line_body(lines[first]))
        assert m is not None  # the scanner only marks list-marker lines as items
        own = lines[first:content_end]
        lessons.append(
            ReadmeLesson(
                start=first, lines=tuple(own), trailing=tuple(lines[content_end:stop]),
                number=m[3], delimiter=m[2] or m[4], paragraph=paragraph,
                citations=_citations("\n".join(map(line_body, own)), refs, readme_dir),
            )
        )
    return lessons


# --------------------------------------------------------------------------- used by drafting


def lessons_section_themes(text: str, heading: str = "") -> list[str]:
    """Theme names (``###`` under a ``##`` section) of the lessons section; [] without one."""
    try:
        return [theme.name for theme in Readme.parse(text, heading).themes]
    except ReadmeError:
        return []


def readme_themes(readme: Path, heading: str = "") -> list[str]:
    """:func:`lessons_section_themes` of a diary's README file; [] when it cannot be read.

    The README sits at the diary's root: one that is a symlink out of it is not read.
    """
    try:
        text = read_diary_bytes(readme.parent, readme).decode("utf-8", errors="replace")
    except (OSError, OutsideDiaryError):
        return []
    return lessons_section_themes(text, heading)
