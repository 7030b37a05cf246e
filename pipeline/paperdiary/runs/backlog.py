"""Catch-up's input: a backlog of papers, from files, standard input, arguments or BibTeX.

A backlog text file holds one paper per line::

    2506.01939                              # bare ID
    https://arxiv.org/abs/1706.03762 2025-06-11   # any form `draft` accepts, and the day it was read
    - arXiv:2203.14465v2  2025-06-12  # tried this one on the train
    ~/papers/local-copy.pdf

Blank lines, ``#`` comments (at the start of a line, or after white space:
a ``#`` inside a URL stays) and ``<!-- -->`` comments are ignored; a leading
markdown list marker and checkbox are dropped, so a pasted list or the diary's
reading list (``READING-LIST.md``, kept from a phone) works as it is::

    * [ ] https://arxiv.org/abs/2506.01939
    - [x] [Attention](https://arxiv.org/abs/1706.03762) June 11, 2025

The date is optional and may stand anywhere on the line, as 2025-06-11,
11/06/2025 (day first unless the numbers say otherwise), June 11, 2025 or 11th
June 2025; other words are a note. Relative PDF paths are read from the backlog
file's folder. :func:`tick_reading_list` ticks the lines drafted and links them
to their entries; a line so linked is done and read no more.

A BibTeX file (``.bib``, or text starting with ``@``) contributes its entries
that name an arXiv paper: an ``eprint`` field (with ``archivePrefix = {arXiv}``
or none), or an arXiv URL, ``arXiv:`` reference or arXiv DOI in any field.

Lines that cannot be read are not fatal: they come back as problems, reported
with their line number while the rest of the backlog goes on. Papers listed
twice collapse into one (the first mention wins).
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

from paperdiary.diary.dates import DateContext, parse_written, resolve
from paperdiary.diary.markdown import LinkKind, parse
from paperdiary.errors import IdentifierError, UsageError
from paperdiary.stages.identify import identify
from paperdiary.models import PaperRef
from paperdiary.state.journal import paper_key
from paperdiary.text import line_body, split_lines

# A comment starts at a "#" at the beginning of the line or after white space.
_COMMENT = re.compile(r"(?:^|\s)#(?P<comment>.*)$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_CHECKBOX = re.compile(r"\[([ xX])\](?:\s+|$)")  # a markdown task-list box, after the list marker
_ENTRY_LINK = re.compile(r"\s→ \[entry\]\([^)\s]*\)")  # what tick_reading_list appends: the line is done
# What a date was meant to be, left once the readable ones are taken: 11-06-25x, 2025/6, June 2025, 11 Juni.
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?\w*")
_ID_LIKE = re.compile(r"\d{4}\.\d{4,5}(?:v\d+)?")  # an arXiv ID looks like a date to _DATE_LIKE
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_MONTH_DATE_LIKE = re.compile(rf"\b{_MONTH},?\s+\d{{1,4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?=\s|$)", re.IGNORECASE)
_LINE_HINT = "One paper per line: IDENTIFIER [DATE] [# comment]."
_DATE_FORMS = "write the day you read it as 2025-06-11, 11/06/2025 or June 11, 2025"
_BIB_SKIP = {"comment", "string", "preamble"}
# An arXiv mention inside a BibTeX field: a link, "arXiv:ID", or an arXiv DOI.
_BIB_ARXIV = re.compile(
    r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/[^\s},\"]+"
    r"|arxiv:\s*[\w.\-/]+\d"
    r"|10\.48550/arxiv\.[\w.\-/]+\d",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BacklogItem:
    """One paper of the backlog."""

    ref: PaperRef
    date_read: date | None  # None: the run's default (--date, else today)
    source: str  # where it was listed: "backlog.txt:3", "argument 2", "refs.bib: vaswani2017"
    comment: str = ""

    @property
    def key(self) -> str:
        """The journal's key: one per paper, whatever form it was written in."""
        return paper_key(self.ref)


@dataclass(frozen=True)
class BacklogProblem:
    """A line that names no paper we can draft, and why."""

    source: str
    text: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    item: BacklogItem
    first: BacklogItem  # the mention that is kept


@dataclass
class Backlog:
    items: list[BacklogItem] = field(default_factory=list)  # distinct papers, in backlog order
    problems: list[BacklogProblem] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # the backlog files read (resolved): lists, never entries

    def add(self, item: BacklogItem) -> None:
        """Add a paper unless it is already there (then it is noted as a duplicate)."""
        for kept in self.items:
            if kept.key == item.key:
                self.duplicates.append(Duplicate(item, kept))
                return
        self.items.append(item)

    def extend(self, other: Backlog) -> None:
        for item in other.items:
            self.add(item)
        self.problems.extend(other.problems)
        self.duplicates.extend(other.duplicates)
        self.files.extend(other.files)


def read_backlog(inputs: list[str], *, stdin: TextIO | None = None, diary: Path | None = None) -> Backlog:
    """The backlog named by the command's arguments: files, ``-`` (standard input) or identifiers.

    An argument that is an existing file other than a PDF is read as a backlog
    (text, or BibTeX); anything else is one paper identifier. Raises UsageError
    for a backlog file that cannot be read; bad lines inside are problems.

    A backlog file inside ``diary`` (its reading list, a list that came with it) is the diary's
    words, not the user's: a local PDF it names must be inside the diary too, or the line is a
    problem. Paths given as arguments, on standard input or in a file of the user's stay allowed.
    """
    backlog = Backlog()
    for number, arg in enumerate(inputs, start=1):
        if arg == "-":
            backlog.extend(parse_backlog((stdin or sys.stdin).read(), source="stdin"))
        elif _is_backlog_file(arg):
            path = Path(arg).expanduser()
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read the backlog {arg}: {exc}.", hint="Check the path.") from None
            within = diary if diary is not None and path.resolve().is_relative_to(diary.resolve()) else None
            backlog.extend(parse_backlog(text, source=path.name, base_dir=path.parent, bibtex=_is_bibtex(path, text),
                                         within=within))
            backlog.files.append(path.resolve())
        else:
            backlog.extend(parse_backlog(arg, source=f"argument {number}", numbered=False))
    return backlog


def parse_backlog(text: str, *, source: str, base_dir: Path | None = None, bibtex: bool | None = None,
                  numbered: bool = True, within: Path | None = None) -> Backlog:
    """Parse a backlog's text (BibTeX when ``bibtex``, or when unset and it starts with ``@``).

    ``numbered``: name problems by line (``source:3``); off for a single argument. ``within``: the
    folder local PDFs must be inside (a line naming one elsewhere is a problem).
    """
    if bibtex is None:
        bibtex = text.lstrip().startswith("@")
    return _parse_bibtex(text, source) if bibtex else _parse_lines(text, source, base_dir, numbered, within)


# -- free text: an issue's body, a workflow's input ------------------------------------------------

# What may name a paper inside prose: a link (markdown or bare), an ``arXiv:`` reference, a bare new-style ID.
_PROSE_CANDIDATE = re.compile(
    r"https?://[^\s<>()\[\]\"']+"
    r"|(?<![\w/.])(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/[^\s<>()\[\]\"']+"
    r"|\barxiv:\s*[\w.\-/]*\d(?:v\d+)?"
    r"|(?<![\w/.])\d{4}\.\d{4,5}(?:v\d+)?(?![\w.]*\d)",
    re.IGNORECASE,
)


def parse_issue_body(text: str, *, source: str) -> Backlog:
    """The papers named anywhere in free text (a GitHub issue's body, a workflow's input), in order.

    Unlike a backlog, lines need no shape: every arXiv link (``abs``, ``pdf``, Hugging Face, alphaXiv),
    ``arXiv:`` reference and bare ID counts, links to anything else are words. Nothing is read from the
    disk (a path in an issue is not a paper), no date is taken (the run's date applies), and a text naming
    no paper is one problem, so the run says so.
    """
    backlog = Backlog()
    fenced = parse(text).fence_lines
    for number, line in enumerate(split_lines(text), start=1):
        if number - 1 in fenced:
            continue
        for match in _PROSE_CANDIDATE.finditer(line_body(line)):
            candidate = match.group(0).rstrip(".,;:!?*_`")
            try:
                ref = identify(candidate)
            except IdentifierError:
                continue  # a link to something else
            if ref.local_pdf is None:
                backlog.add(BacklogItem(ref, None, f"{source}:{number}"))
    if not backlog.items:
        backlog.problems.append(BacklogProblem(source, text.strip()[:80], "no arXiv link or ID in it."))
    return backlog


def read_issue_body(path: Path) -> Backlog:
    """:func:`parse_issue_body` of the file at ``path``; UsageError when it cannot be read."""
    try:
        text = path.expanduser().read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the issue body {path}: {exc}.", hint="Check the path.") from None
    return parse_issue_body(text, source=path.name)


# -- text backlogs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """What one line of a text backlog says."""

    item: BacklogItem | None = None
    problem: BacklogProblem | None = None
    box: int | None = None  # where the mark of its checkbox ("[ ]" / "[x]") is in the line
    done: bool = False  # ticked by catch-up, with a link to its entry: nothing left to do


def _parse_lines(text: str, source: str, base_dir: Path | None, numbered: bool, within: Path | None) -> Backlog:
    backlog = Backlog()
    for line in _read_lines(text.splitlines(), source, base_dir, numbered):
        if line.item is not None and within is not None and (outside := _outside(line.item, within)):
            backlog.problems.append(outside)
        elif line.item is not None:
            backlog.add(line.item)
        elif line.problem is not None:
            backlog.problems.append(line.problem)
    return backlog


def _read_lines(lines: list[str], source: str, base_dir: Path | None, numbered: bool) -> Iterator[_Line]:
    """Each line read (one ``_Line`` per line, in order); ``<!-- -->`` comments may span lines."""
    in_comment = False
    for number, raw in enumerate(lines, start=1):
        line, in_comment = _without_html_comments(raw, in_comment)
        yield _read_line(line, f"{source}:{number}" if numbered else source, base_dir)


def _without_html_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """The line with ``<!-- ... -->`` blanked out (same length: positions stay), and whether a comment stays open."""
    out, position = list(line), 0
    while position < len(line):
        if in_comment:
            end = line.find("-->", position)
            stop = len(line) if end == -1 else end + 3
            out[position:stop] = " " * (stop - position)
            position, in_comment = stop, end == -1
        else:
            start = line.find("<!--", position)
            if start == -1:
                break
            position, in_comment = start, True
    return "".join(out), in_comment


def _read_line(line: str, where: str, base_dir: Path | None) -> _Line:
    if _ENTRY_LINK.search(line):
        return _Line(done=True)
    comment_match = _COMMENT.search(line)
    comment = comment_match["comment"].strip() if comment_match else ""
    content = line[: comment_match.start()] if comment_match else line
    marker = _LIST_MARKER.match(content)
    at = marker.end() if marker else len(content) - len(content.lstrip())
    box_match = _CHECKBOX.match(content, at)
    box = box_match.start(1) if box_match else None
    content = content[box_match.end() if box_match else at:].strip()
    if not content:
        return _Line(box=box)
    try:
        return _Line(_parse_line(content, where, comment, base_dir, checklist=box is not None), box=box)
    except UsageError as exc:
        return _Line(problem=BacklogProblem(where, content, exc.message), box=box)


def _parse_line(content: str, where: str, comment: str, base_dir: Path | None, *, checklist: bool) -> BacklogItem:
    """``IDENTIFIER [DATE] [words]`` (in any order) -> an item; UsageError says what is wrong.

    A markdown link counts by its URL (its text is a note); the date may be written
    2025-06-11, 11/06/2025 (day first unless the numbers say otherwise), June 11, 2025 or
    11th June 2025; words that name no paper are a note, kept as the comment.
    """
    content, note = _links_to_urls(content)
    content, day = _take_date(content)
    try:
        tokens = shlex.split(content)  # quotes keep a PDF path with spaces together
    except ValueError:
        tokens = content.split()  # an unbalanced quote (an apostrophe in a path): plain words
    odd_date = next((t for t in tokens if _DATE_LIKE.fullmatch(t.strip(",.")) and not _ID_LIKE.fullmatch(t)), None)
    if odd_date is None and (month_date := _MONTH_DATE_LIKE.search(content)):
        odd_date = month_date[0]
    if odd_date is not None:
        raise UsageError(f"{odd_date!r} is not a date it can read: {_DATE_FORMS}.")
    refs, errors = [], []
    for token in tokens:
        try:
            refs.append(_identify(token, base_dir))
        except IdentifierError as exc:
            errors.append(exc)
    if not refs and len(tokens) > 1 and _local_pdf(" ".join(tokens), base_dir).is_file():
        refs = [_identify(" ".join(tokens), base_dir)]  # a local path with unquoted spaces is still one paper
        tokens = []
    if len(refs) > 1:
        raise UsageError(f"{len(refs)} identifiers on one line.", hint=_LINE_HINT)
    if not refs:
        if len(tokens) == 1 and not checklist:
            raise errors[0]  # what is wrong with the one word given ("not a paper identifier", "no such PDF")
        what = "a checklist item with no paper" if checklist else "no paper identifier on this line"
        raise UsageError(f"{what} (an arXiv ID or link, or a PDF path).", hint=_LINE_HINT)
    words = [t for t in tokens if t not in {r.raw for r in refs}]
    return BacklogItem(refs[0], day, where, comment or " ".join(filter(None, [note, *words])).strip())


def _links_to_urls(content: str) -> tuple[str, str]:
    """Each markdown link (as CommonMark reads it) replaced by its destination, and the links' texts (a note):
    ``[Attention](https://arxiv.org/abs/1706.03762)`` -> `` https://arxiv.org/abs/1706.03762 ``; a
    destination with spaces (``<my papers/x.pdf>``) stays one word."""
    links = [link for link in parse(content).links if link.kind is LinkKind.INLINE and link.dest is not None]
    out, at = [], 0
    for link in links:
        dest = link.written[1:-1] if link.angle else link.written
        out += [content[at:link.span.start], f" {shlex.quote(dest) if any(c.isspace() for c in dest) else dest} "]
        at = link.span.end
    return "".join(out) + content[at:], " ".join(link.text for link in links)


def _take_date(content: str) -> tuple[str, date | None]:
    """The content without its date, and the date (the first one standing as words of its own)."""
    probe, found = content, None
    while (written := parse_written(probe)) is not None:
        start = probe.find(written.text)
        end = start + len(written.text)
        probe = probe[:start] + " " * (end - start) + probe[end:]  # same length: positions stay
        if not _stands_alone(content, start, end):
            continue  # inside a word: a PDF named 2025-06-11-notes.pdf
        if found is not None:
            raise UsageError("two dates on one line.", hint=_LINE_HINT)
        resolved = resolve(written, DateContext())
        if resolved is None:
            raise UsageError(f"{written.text!r} is not a date: {_DATE_FORMS}.")
        found, content = resolved.day, content[:start] + " " * (end - start) + content[end:]
    return content, found


def _stands_alone(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return (before.isspace() or before in "([") and (after.isspace() or after in ",;)]")


def _identify(text: str, base_dir: Path | None) -> PaperRef:
    try:
        return identify(text)
    except IdentifierError:
        local = _local_pdf(text, base_dir)
        if base_dir is None or local == Path(text) or not local.is_file():
            raise
        return identify(str(local))  # a path relative to the backlog file


def _outside(item: BacklogItem, folder: Path) -> BacklogProblem | None:
    """The problem of an item naming a local PDF outside ``folder`` (symlinks followed), else None."""
    local = item.ref.local_pdf
    if local is None or Path(local).resolve().is_relative_to(folder.resolve()):
        return None
    return BacklogProblem(item.source, item.ref.raw, f"{local} is outside the diary: a diary file may only name PDFs "
                          "inside it (give the path on the command line to draft it)")


def _local_pdf(text: str, base_dir: Path | None) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


# -- ticking drafted papers off a reading list ---------------------------------------------------------------


def tick_reading_list(path: Path, entries: dict[str, str], diary: Path) -> int:
    """Tick the lines of the reading list at ``path`` whose paper has an entry now, and link each to it.

    ``entries``: journal key -> the entry's path relative to the diary. A ticked line
    reads ``- [x] 2506.01939 2025-06-11 → [entry](entries/June%202025/11thJuneX.md)``
    (a line without a checkbox only gets the link); every other byte of the file stays
    as it was. Written atomically, through a symlink only to a file inside the diary, never over a read-only
    one; returns how many lines changed.
    """
    from paperdiary.fsutil import read_diary_bytes, relative_link, replace_diary_file

    data = read_diary_bytes(diary, path)
    bom = "\ufeff" if data.startswith(b"\xef\xbb\xbf") else ""
    raw_lines = data.decode("utf-8").removeprefix(bom).splitlines(keepends=True)
    bodies = [(raw.splitlines() or [""])[0] for raw in raw_lines]  # without their line ends
    folder = path.parent.relative_to(diary) if path.parent.is_relative_to(diary) else Path(".")
    changed = 0
    for n, line in enumerate(_read_lines(bodies, path.name, path.parent, numbered=True)):
        entry = entries.get(line.item.key) if line.item is not None else None
        if entry is None or line.done:
            continue
        body = bodies[n]
        if line.box is not None and body[line.box] == " ":
            body = body[: line.box] + "x" + body[line.box + 1 :]
        body = f"{body.rstrip()} → [entry]({relative_link(entry, folder)})"
        raw_lines[n] = body + raw_lines[n][len(bodies[n]):]
        changed += 1
    if changed:
        replace_diary_file(diary, path, bom + "".join(raw_lines))
    return changed


def _is_backlog_file(arg: str) -> bool:
    path = Path(arg).expanduser()
    try:
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            return handle.read(5) != b"%PDF-"
    except (OSError, ValueError):
        return False


def _is_bibtex(path: Path, text: str) -> bool:
    return path.suffix.lower() == ".bib" or text.lstrip().startswith("@")


# -- BibTeX ---------------------------------------------------------------------------------------


@dataclass
class _BibEntry:
    kind: str
    key: str
    fields: dict[str, str]
    line: int


def _parse_bibtex(text: str, source: str) -> Backlog:
    backlog = Backlog()
    for entry in _bib_entries(text):
        where = f"{source}: {entry.key or f'line {entry.line}'}"
        found = _bib_arxiv_reference(entry.fields)
        if found is None:
            backlog.problems.append(BacklogProblem(where, entry.fields.get("title", entry.key),
                                                   "no arXiv eprint, URL or DOI in this entry."))
            continue
        try:
            ref = identify(found)
        except IdentifierError as exc:
            backlog.problems.append(BacklogProblem(where, found, exc.message))
            continue
        backlog.add(BacklogItem(ref, None, where, _one_line(entry.fields.get("title", ""))))
    return backlog


def _bib_arxiv_reference(fields: dict[str, str]) -> str | None:
    """The arXiv identifier an entry names: ``eprint`` first, then any arXiv link, reference or DOI."""
    eprint = fields.get("eprint", "").strip()
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").strip().lower()
    if eprint and prefix == "arxiv":
        return eprint
    for name in ("url", "doi", "journal", "note", "howpublished", "eprint"):
        value = fields.get(name, "")
        if name == "doi" and value.lower().startswith("10.48550/"):
            return value
        match = _BIB_ARXIV.search(value)
        if match:
            return match.group(0)
    return None


def _bib_entries(text: str) -> list[_BibEntry]:
    """``@type{key, name = {value} | "value" | bare, ...}`` entries; comments and @string skipped."""
    entries = []
    start = re.compile(r"@(\w+)\s*[{(]")
    position = 0
    while match := start.search(text, position):
        body, position = _balanced(text, match.end() - 1)  # next search after the body: @comment hides its @s
        kind = match.group(1).lower()
        if kind in _BIB_SKIP:
            continue
        key, _, rest = body.partition(",")
        entries.append(_BibEntry(kind, key.strip(), _bib_fields(rest), text.count("\n", 0, match.start()) + 1))
    return entries


def _balanced(text: str, start: int) -> tuple[str, int]:
    """The text inside the bracket at ``start`` (to its match, or the end), and the index after it."""
    opening = text[start]
    closing = "}" if opening == "{" else ")"
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return text[start + 1 : index], index + 1
    return text[start + 1 :], len(text)


def _bib_fields(body: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    position = 0
    pattern = re.compile(r"\s*,?\s*([\w\-:.]+)\s*=\s*")
    while True:
        match = pattern.match(body, position)
        if not match:
            break
        name, position = match.group(1).lower(), match.end()
        if position >= len(body):
            break
        if body[position] == "{":
            value, position = _balanced(body, position)
        elif body[position] == '"':
            end = body.find('"', position + 1)
            end = len(body) if end == -1 else end
            value, position = body[position + 1 : end], end + 1
        else:
            bare = re.match(r"[^,]*", body[position:])
            value = bare.group(0) if bare else ""
            position += len(value)
        fields[name] = _one_line(value.replace("{", "").replace("}", ""))
    return fields


def _one_line(text: str) -> str:
    return " ".join(text.split())
