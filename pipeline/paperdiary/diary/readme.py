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

The README is read as GitHub reads it, through :mod:`paperdiary.diary.markdown`
(CommonMark): headings are those at the document's level (not in a list item,
block quote, code fence or HTML block), lessons the top-level list items under a
theme, with their lazy continuation lines and nested content, and citations the
links CommonMark sees in them.

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

from paperdiary.diary.markdown import Block, Document, Edit, Heading, Link, LinkKind
from paperdiary.diary.markdown import parse as parse_markdown
from paperdiary.diary.markdown import parse_inline
from paperdiary.diary.markdown import plain_text as markdown_plain_text
from paperdiary.errors import OutsideDiaryError, ReadmeError
from paperdiary.fsutil import diary_relpath, read_diary_bytes
from paperdiary.text import line_body, line_ending

README_NAME = "README.md"  # the diary's README, at its root: the lessons and the Full Diary index live there
# A new diary's one example theme: a generic name to rename, not someone else's themes.
EXAMPLE_THEME = "General"
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


# --------------------------------------------------------------------------- links

# What may stand between the links of a parenthesised group: "([A](a))", "([A](a), [B](b) and [C](c))".
_GROUP_GAP = re.compile(r"[ \t]*(?:,|;|&|\band\b)?[ \t]*")
_AND_GAP = re.compile(r"[ \t]+and[ \t]+")


def _label_key(label: str) -> str:
    return " ".join(label.casefold().split())


@dataclass(frozen=True)
class Citation:
    """A link from a lesson to a diary entry."""

    label: str  # link text as written: "ProRL"
    target: str  # destination as written: "June%202025/4thJuneProlongedRL.md"
    path: str  # decoded, normalised, relative to the diary root: "June 2025/4thJuneProlongedRL.md"


def _entry_path(link: Link, readme_dir: str) -> str | None:
    """The diary-relative path an entry link points at, or None when it is not a link to an entry."""
    path = link.path
    if not link.local or not path.lower().endswith(".md"):
        return None
    # A leading "/" is the repository root on GitHub, which is the diary root.
    path = path.lstrip("/") if path.startswith("/") else posixpath.join(readme_dir, path)
    path = posixpath.normpath(path)
    if path == ".." or path.startswith("../"):
        return None
    return unicodedata.normalize("NFC", path)


def _citations(doc: Document, start: int, end: int, readme_dir: str) -> tuple[Citation, ...]:
    """The entry links on lines ``start`` to ``end - 1``, read as CommonMark (code spans, escapes, ``<…>``); a
    reference link by its definition."""
    found: list[Citation] = []
    for link in doc.links_in(start, end):
        if link.image or link.kind not in (LinkKind.INLINE, LinkKind.REFERENCE):
            continue
        written = link.written
        if link.kind is LinkKind.REFERENCE:
            definition = doc.definition(link.label)
            written = definition.written if definition is not None else ""
        if written and (path := _entry_path(link, readme_dir)):
            found.append(Citation(link.text, written, path))
    return tuple(found)


def cited_path(relpath: str) -> str:
    """A diary-relative path the way the model records the entries lessons cite: normalised, NFC ("" stays "")."""
    return unicodedata.normalize("NFC", posixpath.normpath(relpath).lstrip("/")) if relpath else ""


def plain_text(markdown: str, *, link_labels: bool = True) -> str:
    """Markdown -> the words a reader sees: link text kept (or dropped), images, URLs and tags dropped."""
    doc = parse_inline(markdown)
    edits: list[Edit] = []
    for link in doc.links:
        if link.kind is LinkKind.DEFINITION or (edits and link.span.start < edits[-1].end):
            continue  # a definition is no text; an image inside a link goes with it
        if link.kind is LinkKind.AUTOLINK:
            shown = " "  # a URL is no words
        else:
            shown = f" {link.text} " if link_labels and not link.image else ""
        edits.append(Edit(link.span.start, link.span.end, shown))
    text = re.sub(r"<[^<>\n]*>|https?://\S+", " ", doc.edit(edits))
    return " ".join(text.split())


# --------------------------------------------------------------------------- model


def _fold(name: str) -> str:
    """A theme name for loose comparison: emoji, punctuation, case and spacing ignored; "&" = "and"."""
    name = unicodedata.normalize("NFKC", name).casefold().replace("&", " and ")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in name).split())


_THEME_NUMBER = re.compile(r"(?:\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.):]|[IVXLCivxlc]{1,6}[.):]|[A-Za-z][.)])[ \t]+")


def theme_folder(name: str) -> str:
    """A theme as ``{theme}`` files it: the heading's words without its number ("1. ", "IV) ", "2.1 "), emoji or
    markup ("**RL**") before them, spaces collapsed. The same heading gives the same folder every time."""
    text = " ".join(markdown_plain_text(name).split())
    while True:
        start = text
        while text and (unicodedata.category(text[0])[0] in "SZ" or text[0] in "-–—*_~:.,;|#\ufe0f\u200d"):
            text = text[1:]
        text = _THEME_NUMBER.sub("", text, count=1) if _THEME_NUMBER.match(text) else text
        if text == start:
            return text.strip()


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
    marker: tuple[int, int] = field(repr=False)  # where its list marker ("12.", "-") stands in its first line

    @property
    def _content(self) -> int:
        """Where its text starts in its first line: after the marker and the spaces or tabs after it."""
        first = line_body(self.lines[0])
        return len(first) - len(first[self.marker[1]:].lstrip(" \t"))

    @property
    def _spacing(self) -> str:
        return line_body(self.lines[0])[self.marker[1]:self._content]

    @property
    def body(self) -> str:
        """The lesson's markdown without its list marker or line endings."""
        first = line_body(self.lines[0])[self._content:]
        return "\n".join([first, *map(line_body, self.lines[1:])])

    @property
    def text(self) -> str:
        """Its first paragraph (first line and continuation lines) on one line: what ranking reads first."""
        first = line_body(self.lines[0])[self._content:]
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
        doc = parse_markdown(text)
        found = _find_section(doc, heading)
        if found is None:
            if not create:
                raise ReadmeError(
                    f"the README has no lessons section ({_describe_heading(heading)}).",
                    hint="Add one (e.g. '## Interesting Methods and Lesson Learned'), or set lessons_heading.",
                )
            return cls.parse(_with_section(text, doc.lines, heading), heading, readme_dir=readme_dir)
        return _build(doc, found, heading, readme_dir)

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
        doc = parse_markdown("".join(lines))
        holding = [b for b in doc.blocks if b.start < at <= b.end]  # the blocks the line before ``at`` is in
        open_item = next((b.content_column for b in holding if b.kind == "list_item" and b.depth == 1), None)
        if open_item is not None and _indent(prefix)[0] >= open_item:
            prefix = prefix.lstrip(" \t")  # indented as the last lesson, it would nest in the open item
        eol = _eol_near(lines, at)
        item = _item_lines(prefix, text, eol)
        # A list item right after an HTML block (<details>...</details>) would be part of the block
        # until a blank line ends it.
        loose = loose or any(b.kind == "html" and not b.closed and b.end == at for b in holding)
        # Nor can an item numbered from other than 1 interrupt a paragraph (CommonMark): it would continue it.
        number = prefix.strip(" \t")[:-1]
        loose = loose or (number.isdigit() and int(number) != 1
                          and any(b.kind == "paragraph" and b.depth == 0 for b in holding))
        lead = [eol] if loose else []
        gap = []
        if at < len(lines) and not _is_blank(lines[at]):
            starts_item = any(b.kind == "list_item" and b.depth == 1 and b.start == at for b in doc.blocks)
            if not starts_item and not any(h.line == at and not h.setext for h in doc.headings):
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
        cited = parse_markdown(citation)
        new_paths = {c.path for c in _citations(cited, 0, len(cited.lines), self.readme_dir)}
        if new_paths and new_paths <= set(lesson.cites):
            return self
        lines = list(self._iter_lines())
        doc = parse_markdown("".join(lines))
        para = range(lesson.start, lesson.start + lesson.paragraph)
        for n in para:
            body = line_body(lines[n])
            if group := _citation_group(doc, n, lesson.marker[1] if n == lesson.start else 0):
                start, end, links, gaps = group
                lines[n] = body[:start] + _extend_group(body[start:end], links, gaps, citation) + body[end:] + line_ending(lines[n])
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
                body = line_body(lines[later.start])
                number_start, number_end = later.marker[0], later.marker[1] - 1  # the marker: number and delimiter
                number = body[number_start:number_end]
                renumbered = str(int(number) - 1).zfill(len(number))
                lines[later.start] = body[:number_start] + renumbered + body[number_end:] + line_ending(lines[later.start])
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
        indent = line_body(last.lines[0])[: last.marker[0]]
        spacing = last._spacing or " "
        if last.number is None:
            return f"{indent}{last.delimiter}{spacing}"
        numbers = [x.number for x in theme.lessons]
        if len(numbers) > 1 and len(set(numbers)) == 1:
            number = last.number  # "1." on every item: the renderer counts, and so does the user
        else:
            number = str(int(last.number) + 1).zfill(len(last.number))
        return f"{indent}{number}{last.delimiter}{spacing}"

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
    out = [prefix + parts[0].strip(" \t")]
    for part in parts[1:]:
        if part.strip(" \t") and _indent(part)[0] < content and not _continues(out, part):
            part = " " * content + part
        out.append(part if part.strip(" \t") else "")
    return [line + eol for line in out]


def _continues(item: list[str], line: str) -> bool:
    """Whether ``line``, as written, stays in the list item of ``item``'s lines (a lazy continuation)."""
    doc = parse_markdown("\n".join([*item, line]) + "\n")
    return any(b.kind == "list_item" and b.depth == 1 and b.start == 0 and b.end > len(item) for b in doc.blocks)


def _citation_group(doc: Document, line: int, after: int) -> tuple[int, int, list[str], list[str]] | None:
    """The first parenthesised group of inline links on a line, from column ``after``: "([A](a), [B](b))".

    (start, end) columns of the group, its links and what stands between them, as written."""
    at = doc.offset(line)
    body = line_body(doc.lines[line])
    spans = [(link.span.start - at, link.span.end - at) for link in doc.links
             if link.kind is LinkKind.INLINE and link.line == line and link.span.end - at <= len(body)]
    for i, (start, _) in enumerate(spans):
        opening = re.search(r"\([ \t]*\Z", body[after:start])
        if opening is None:
            continue
        best = None
        for j in range(i, len(spans)):
            if j > i and not _GROUP_GAP.fullmatch(body[spans[j - 1][1]:spans[j][0]]):
                break
            if closing := re.match(r"[ \t]*\)", body[spans[j][1]:]):
                best = (j, spans[j][1] + closing.end())
        if best is not None:
            last, end = best
            links = [body[a:b] for a, b in spans[i:last + 1]]
            gaps = [body[spans[k][1]:spans[k + 1][0]] for k in range(i, last)]
            return after + opening.start(), end, links, gaps
    return None


def _extend_group(group: str, links: list[str], gaps: list[str], citation: str) -> str:
    """Add a citation to "(links)": after a comma, or as the new last item of an "A, B and C" list."""
    lead = group[1:group.index(links[0])]
    if any(_AND_GAP.fullmatch(gap) for gap in gaps):
        gaps = [", " if _AND_GAP.fullmatch(gap) else gap for gap in gaps]
        joined = "".join(link + gap for link, gap in zip(links, [*gaps, ""], strict=True))
        return f"({lead}{joined} and {citation})"
    inner = group[1:-1].rstrip(" \t")
    return f"({inner}, {citation})"


def _describe_heading(heading: str) -> str:
    return f"no heading {heading!r}" if heading else "no '## ...' heading containing 'Lesson'"


def _setting_heading(heading: str) -> Heading | None:
    """The heading a ``lessons_heading`` setting writes ("### Lessons"), None for a bare title ("Lessons")."""
    found = parse_markdown(heading.strip()).headings
    return found[0] if found and not found[0].setext and found[0].text else None


def _wanted(heading: str) -> tuple[int, str]:
    """(level or 0 for #/##, folded title) from a heading setting."""
    written = _setting_heading(heading)
    return (written.level, _label_key(written.text)) if written else (0, _label_key(heading))


def _title(heading: Heading) -> str:
    """A heading's title as written, on one line (a setext heading's text may take several)."""
    return " ".join(line.strip(" \t") for line in heading.text.split("\n"))


def _top_headings(doc: Document) -> list[Heading]:
    """The headings at the document's level: one in a list item or block quote is that block's content."""
    return [h for h in doc.headings if h.depth == 0]


def _find_section(doc: Document, heading: str) -> tuple[Heading, int] | None:
    """The lessons section's heading and its end line."""
    level, title = _wanted(heading)
    headings = _top_headings(doc)
    for n, info in enumerate(headings):
        if title:
            found = (info.level == level if level else info.level <= 2) and _label_key(_title(info)) == title
        else:
            found = info.level == 2 and "lesson" in _title(info).casefold()
        if found:
            end = next((h.line for h in headings[n + 1:] if h.level <= info.level), len(doc.lines))
            return info, end
    return None


def _with_section(text: str, lines: Sequence[str], heading: str) -> str:
    written = _setting_heading(heading)
    title = (written.text if written else heading.strip().lstrip("#").strip()) or DEFAULT_SECTION_TITLE
    eol = _dominant_ending(lines)
    ends_blank = len(lines) > 1 and not line_body(lines[-1]).strip()
    # One blank line before the new heading: the README's own last blank line, else one added.
    lead = (eol if lines and not line_ending(lines[-1]) else "") + (eol if text.strip() and not ends_blank else "")
    return f"{text}{lead}{'#' * (written.level if written else 2)} {title}{eol}"


def _build(doc: Document, found: tuple[Heading, int], heading: str, readme_dir: str) -> Readme:
    section, end = found
    lines = doc.lines
    headings = [h for h in _top_headings(doc) if section.end <= h.line < end]

    def make_theme(index: int, key: tuple[int, ...], children: list[Theme]) -> Theme:
        info = headings[index]
        own_end = headings[index + 1].line if index + 1 < len(headings) else end
        lessons = _lessons(doc, info.end, own_end, readme_dir)
        intro_end = lessons[0].start if lessons else own_end
        return Theme(
            key=key, name=_title(info), level=info.level, start=info.line,
            heading=lines[info.line : info.end], intro=lines[info.end : intro_end],
            lessons=tuple(lessons), subthemes=tuple(children),
        )

    def nest(first: int, stop: int, key: tuple[int, ...]) -> list[Theme]:
        """Themes among headings[first:stop]: each takes the deeper headings after it as sub-themes."""
        themes: list[Theme] = []
        index = first
        while index < stop:
            level = headings[index].level
            child_stop = next((j for j in range(index + 1, stop) if headings[j].level <= level), stop)
            own_key = (*key, len(themes))
            themes.append(make_theme(index, own_key, nest(index + 1, child_stop, own_key)))
            index = child_stop
        return themes

    first_theme = headings[0].line if headings else end
    return Readme(
        preamble=lines[: section.line],
        section_heading=lines[section.line : section.end],
        section_title=_title(section),
        section_level=section.level,
        intro=lines[section.end : first_theme],
        themes=tuple(nest(0, len(headings), ())),
        after=lines[end:],
        heading=heading,
        readme_dir=readme_dir,
    )


def _is_bullet(item: Block) -> bool:
    return item.markup in "-+*"


def _lessons(doc: Document, start: int, end: int, readme_dir: str) -> list[ReadmeLesson]:
    """The lessons of one theme: its top-level list items of the kind (numbered or bulleted) its first one is."""
    lines = doc.lines
    items = [(n, b) for n, b in enumerate(doc.blocks) if b.kind == "list_item" and b.depth == 1 and start <= b.start < end]
    bullet = _is_bullet(items[0][1]) if items else False
    items = [(n, b) for n, b in items if _is_bullet(b) == bullet]
    lessons = []
    for k, (n, item) in enumerate(items):
        first = item.start
        stop = items[k + 1][1].start if k + 1 < len(items) else end
        content_end = stop
        while content_end > first + 1 and _is_blank(lines[content_end - 1]):
            content_end -= 1
        opening = doc.blocks[n + 1] if n + 1 < len(doc.blocks) else None
        paragraph = 1
        if opening is not None and opening.parent == n and opening.kind == "paragraph" and opening.start == first:
            paragraph = min(opening.end, content_end) - first
        assert item.marker is not None  # the parser marks every list item's marker
        at = doc.offset(first)
        own = lines[first:content_end]
        lessons.append(
            ReadmeLesson(
                start=first, lines=own, trailing=lines[content_end:stop],
                number=item.info if not bullet else None, delimiter=item.markup, paragraph=paragraph,
                citations=_citations(doc, first, content_end, readme_dir),
                marker=(item.marker.start - at, item.marker.end - at),
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
