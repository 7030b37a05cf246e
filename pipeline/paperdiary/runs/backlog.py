"""Catch-up's input: a backlog of papers, from files, standard input, arguments or BibTeX.

A backlog text file holds one paper per line::

    2506.01939                              # bare ID
    https://arxiv.org/abs/1706.03762 2025-06-11   # any form `draft` accepts, and the day it was read
    - arXiv:2203.14465v2  2025-06-12  # tried this one on the train
    ~/papers/local-copy.pdf

Blank lines and ``#`` comments (at the start of a line, or after white space:
a ``#`` inside a URL stays) are ignored; a leading markdown list marker is
dropped, so a pasted reading list works as it is. The date is optional and may
stand before or after the identifier. Relative PDF paths are read from the
backlog file's folder.

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
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from paperdiary.errors import IdentifierError, UsageError
from paperdiary.stages.identify import identify
from paperdiary.models import PaperRef
from paperdiary.state.journal import paper_key

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A comment starts at a "#" at the beginning of the line or after white space.
_COMMENT = re.compile(r"(?:^|\s)#(?P<comment>.*)$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
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


def read_backlog(inputs: list[str], *, stdin: TextIO | None = None) -> Backlog:
    """The backlog named by the command's arguments: files, ``-`` (standard input) or identifiers.

    An argument that is an existing file other than a PDF is read as a backlog
    (text, or BibTeX); anything else is one paper identifier. Raises UsageError
    for a backlog file that cannot be read; bad lines inside are problems.
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
            backlog.extend(parse_backlog(text, source=path.name, base_dir=path.parent, bibtex=_is_bibtex(path, text)))
        else:
            backlog.extend(parse_backlog(arg, source=f"argument {number}", numbered=False))
    return backlog


def parse_backlog(text: str, *, source: str, base_dir: Path | None = None, bibtex: bool | None = None,
                  numbered: bool = True) -> Backlog:
    """Parse a backlog's text (BibTeX when ``bibtex``, or when unset and it starts with ``@``).

    ``numbered``: name problems by line (``source:3``); off for a single argument.
    """
    if bibtex is None:
        bibtex = text.lstrip().startswith("@")
    return _parse_bibtex(text, source) if bibtex else _parse_lines(text, source, base_dir, numbered)


# -- text backlogs ----------------------------------------------------------------------------


def _parse_lines(text: str, source: str, base_dir: Path | None, numbered: bool) -> Backlog:
    backlog = Backlog()
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{source}:{number}" if numbered else source
        comment_match = _COMMENT.search(line)
        comment = comment_match["comment"].strip() if comment_match else ""
        content = line[: comment_match.start()] if comment_match else line
        content = _LIST_MARKER.sub("", content).strip()
        if not content:
            continue
        try:
            backlog.add(_parse_line(content, where, comment, base_dir))
        except UsageError as exc:
            backlog.problems.append(BacklogProblem(where, content, exc.message))
    return backlog


def _parse_line(content: str, where: str, comment: str, base_dir: Path | None) -> BacklogItem:
    """``IDENTIFIER [YYYY-MM-DD]`` (either order) -> an item; UsageError says what is wrong."""
    try:
        tokens = shlex.split(content)  # quotes keep a PDF path with spaces together
    except ValueError:
        tokens = content.split()  # an unbalanced quote (an apostrophe in a path): plain words
    dates = [t for t in tokens if _DATE.fullmatch(t)]
    words = [t for t in tokens if not _DATE.fullmatch(t)]
    if len(dates) > 1:
        raise UsageError("two dates on one line.", hint="One paper per line: IDENTIFIER [YYYY-MM-DD] [# comment].")
    if len(words) != 1:
        # A local path with unquoted spaces is still one paper.
        joined = " ".join(words)
        if len(words) > 1 and _local_pdf(joined, base_dir).is_file():
            words = [joined]
        else:
            raise UsageError(
                "no paper identifier." if not words else f"{len(words)} identifiers on one line.",
                hint="One paper per line: IDENTIFIER [YYYY-MM-DD] [# comment].",
            )
    day = _parse_date(dates[0]) if dates else None
    ref = _identify(words[0], base_dir)
    return BacklogItem(ref, day, where, comment)


def _identify(text: str, base_dir: Path | None) -> PaperRef:
    try:
        return identify(text)
    except IdentifierError:
        local = _local_pdf(text, base_dir)
        if base_dir is None or local == Path(text) or not local.is_file():
            raise
        return identify(str(local))  # a path relative to the backlog file


def _local_pdf(text: str, base_dir: Path | None) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _parse_date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"{text} is not a date.", hint="Write the day you read it as YYYY-MM-DD.") from None


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
