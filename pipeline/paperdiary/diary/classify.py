"""Which markdown files of a diary are notes, and why the others are not.

A diary holds more than notes: its README and other index pages, a template to copy, placeholders left by
GitHub's web editor, TODO lists and reading lists, the diarist's own cheat sheets and topic notes ("My Notes
on Attention", "My Git Notes"), copied lists of papers, project documents, and build output such as a
Jekyll ``_site/``. :func:`classify` says, for one file, whether it is a note and, if not, what it is
and why, from its path and what its text says (``describe.EntryText``), never from one diary's habits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from paperdiary.diary.describe import TextShape

# Project documents beside the entries (compared without suffix, case-folded).
PROJECT_DOCUMENTS = {"readme", "contributing", "license", "licence", "changelog", "changes", "history",
                     "code_of_conduct", "code-of-conduct", "security", "authors", "contributors", "notice",
                     "support", "funding", "governance", "citation"}
_TODO_NAMES = {"todo", "to-do", "to_do", "todos", "tbd", "later", "to-read", "to_read", "toread", "reading-list",
               "reading_list", "readinglist", "wishlist", "backlog", "inbox"}
_TEMPLATE_NAME = re.compile(r"(?:^|[-_ .])(?:template|tmpl|skeleton|boilerplate)(?:$|[-_ .])", re.I)
_PLACEHOLDER_NAME = re.compile(r"^(?:test|untitled|placeholder|new[-_ ]?file|temp|tmp|empty|x{3,})(?:[-_ ]?\d+)?$",
                               re.I)
_INDEX_NAME = re.compile(r"(?:^|[-_ ])(?:index|contents|toc|summary|sidebar|papers?[-_ ]?list|list[-_ ]of|"
                         r"papers[-_ ]in|reading[-_ ]log|timeline|overview|awesome)(?:$|[-_ ])", re.I)
# "My Notes on Attention", "My Git Notes", "My Notes - Useful Programs",
# "Cheat sheet: LaTeX": the diarist's own notes on a subject, not notes on a paper.
_PERSONAL_TITLE = re.compile(r"^(?:my\b.{0,40}?\bnotes?\b|(?:my\s+)?cheat[-\s]?sheet\b|.*\bcheat[-\s]?sheet$)",
                             re.I)
_TEMPLATE_TEXT = re.compile(r"\{\{[^}]*\}\}|\{%[^%]*%\}|<(?:title|paper[ _-]?title|name)>", re.I)
_PLACEHOLDER_TEXT = re.compile(r"^(?:todo|tbd|tba|wip|xxx+|\.+|-+|test|coming soon|placeholder|draft)[.!]*$", re.I)
_PLACEHOLDER_TITLES = {"title", "paper title", "paper name", "name", "paper", "title of the paper", "your title",
                       "untitled", "title here", "paper title here", "note title"}
PLACEHOLDER_CHARS = 2  # a file with at most this much text is a placeholder, not a note


class NotNote(str, Enum):
    """What a markdown file that is no note is."""

    PROJECT_DOCUMENT = "project-document"
    INDEX = "index-page"
    PAPER_LIST = "paper-list"
    READING_LIST = "reading-list"
    TEMPLATE = "template"
    PLACEHOLDER = "placeholder"
    TODO = "todo"
    PERSONAL_NOTES = "personal-notes"
    BUILD_OUTPUT = "build-output"
    SETTINGS = "diary-setting"  # the lessons queue, the reading list... named by a setting
    IGNORED = "ignored"  # catalog_ignore names it


@dataclass(frozen=True)
class Verdict:
    """Not a note: what it is, and the one-line reason ``paperdiary entries`` shows."""

    kind: NotNote
    reason: str


def _stem(relpath: str) -> str:
    name = relpath.rpartition("/")[2]
    return name.rpartition(".")[0] or name


def by_name(relpath: str) -> Verdict | None:
    """What a file is by its name alone: a project document ("README.md", "LICENSE.md"), a TODO list."""
    stem = _stem(relpath).casefold()
    if stem in PROJECT_DOCUMENTS or stem.startswith("readme"):
        return Verdict(NotNote.PROJECT_DOCUMENT, "a project document, by its name")
    if stem in _TODO_NAMES:
        return Verdict(NotNote.TODO, "a to-do or reading list, by its name")
    return None


def is_stub(title: str, text: str, shape: TextShape) -> bool:
    """Nothing written yet but a word such as "xxx", "TODO" or "TBD"."""
    return shape.blocks <= 2 and bool(_PLACEHOLDER_TEXT.match(" ".join((title + " " + text).split())))


def classify(relpath: str, *, title: str, text: str, drafted: bool, title_arxiv_ids: tuple[str, ...],
             shape: TextShape, checklist: bool = False, title_link: str = "") -> Verdict | None:
    """None for a note; else what the file is instead, and why. ``text``: its opening's words (what
    ``describe.key_points_of`` gives); ``checklist``: it is a task list of papers."""
    stem = _stem(relpath)
    title = title.strip()
    folded_title = " ".join(re.sub(r"[^\w ]+", " ", title.casefold()).split())
    if drafted:
        return None  # PaperDiary wrote it as an entry
    if shape.chars <= PLACEHOLDER_CHARS:
        return Verdict(NotNote.PLACEHOLDER, "empty, or a placeholder of a character or two")
    if _TEMPLATE_NAME.search(stem):
        return Verdict(NotNote.TEMPLATE, "a template, by its name")
    if folded_title in _PLACEHOLDER_TITLES or _TEMPLATE_TEXT.search(title):
        return Verdict(NotNote.TEMPLATE, f"a template: its title is the placeholder {title!r}")
    if checklist:
        return Verdict(NotNote.READING_LIST, "a checklist of papers to read")
    if _PLACEHOLDER_NAME.fullmatch(stem) and shape.chars <= 40:
        return Verdict(NotNote.PLACEHOLDER, f"a placeholder: {stem!r} with almost nothing in it")
    if is_stub(title, text, shape) and len(re.findall(r"[^\W_]+", stem)) < 3:
        # Named after a paper (three words or more), it is a note not written yet: a note, with a problem.
        return Verdict(NotNote.PLACEHOLDER, "a placeholder: nothing in it but a word such as TODO")
    if title and _PERSONAL_TITLE.match(title) and not title_arxiv_ids:
        return Verdict(NotNote.PERSONAL_NOTES,
                       f"the diarist's own notes on a subject ({title!r}): a cheat sheet or topic note, no paper's")
    items = shape.note_link_blocks
    linking = items / max(shape.blocks, 1)
    if items >= 3 and (linking >= 0.3 or (items >= 2 and _INDEX_NAME.search(stem))):
        return Verdict(NotNote.INDEX, f"an index page: {items} of its {shape.blocks} blocks link other notes")
    listed = shape.paper_link_items
    if listed >= 8 and listed / max(shape.blocks, 1) >= 0.5 and shape.prose_blocks * 4 <= listed:
        return Verdict(NotNote.PAPER_LIST, f"a list of papers: {listed} short items linking the web, little prose")
    if _INDEX_NAME.search(stem) and items + listed >= 3 and not title_link:
        return Verdict(NotNote.INDEX, f"an index page, by its name and its {items + listed} linking blocks")
    return None
