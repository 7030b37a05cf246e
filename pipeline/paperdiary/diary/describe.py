"""What a markdown entry says about itself: its title, first real sentence, source links, drafter's comment,
front matter, and the shape of its text (for telling notes from index pages, templates and placeholders).

Entries are hand-written on phones as often as drafted, so nothing here assumes the drafter's shape. The
markdown is read through ``diary/markdown.py`` as GitHub reads it, after the YAML front matter
(``diary/front_matter.py``) is set aside. The title is, first found: the front matter's ``title``; the
heading the entry opens with (``#`` to ``###``; its link text when it is a link, ``## [Title](url)``);
an opening line that is only a link; a short opening line that reads as a title (not a date, a venue such
as "CVPR 2024", a label or a sentence); else the first ``#`` or ``##`` heading that is not a section name
such as "Key Points". The description is chosen by :func:`first_sentence_of` (one function, so that another
chooser can replace it): the first sentence a reader would take for one, past headings, date lines,
link-only lines, reference definitions, bold fragments, images, labels (``**Aims:** To build X.`` gives
"To build X.") and lines that only introduce what follows (``Algorithm changes:``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from paperdiary.diary.dates import written_dates
from paperdiary.diary.front_matter import FrontMatter, read_front_matter
from paperdiary.diary.markdown import Document, parse
from paperdiary.diary.readme import plain_text
from paperdiary.stages.entry import arxiv_ids
from paperdiary.stages.entry_metadata import EntryMetadata, read_metadata

MAX_DESCRIPTION = 200  # characters; longer sentences are cut at a word boundary
MAX_LINKS = 3
MAX_KEY_POINTS = 2000  # characters of key points kept per entry (what search reads besides title and description)
_KEY_POINTS_SECTIONS = {"key points", "key ideas", "key idea", "main idea", "tl;dr", "tldr", "summary", "takeaways",
                        "key takeaways"}
MAX_KEY_POINT_ITEMS = 8  # items of a Key Points list kept: enough to say what a paper is about (the topic map)
_HEAD_LINES = 20  # without a second heading, the head of an entry is this many lines

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HR = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_LIST_MARKER = re.compile(r"^\s*(?:>\s*)*(?:[-*+]|\d{1,9}[.)])(?:\s+\[[ xX]\])?\s+|^\s*(?:>\s*)+")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_NOTICE = re.compile(r"^\s*>?\s*Drafted without an LLM", re.I)  # the offline drafter's warning line
_PLACEHOLDER = re.compile(r"^_[^_]+_$")  # "_No key points found._"
# "**Aims:** ...", "Problem: ...", "*Key idea*: ...": up to four words before a colon.
_LABEL = re.compile(r"^(?P<mark>[*_]{0,2})(?P<label>[^\W\d][\w'’&/();-]*(?:[ \t]+[\w'’&/();-]+){0,3}?)(?P=mark)?"
                    r"[ \t]*:(?P=mark)?(?!//)[ \t]*(?:(?P=mark)[ \t]*)?(?P<rest>.*)$")
_KNOWN_LABELS = {
    "aim", "aims", "problem", "problems", "summary", "idea", "key idea", "main idea", "tl;dr", "tldr", "motivation",
    "goal", "goals", "method", "methods", "approach", "result", "results", "contribution", "contributions",
    "overview", "abstract", "background", "takeaway", "takeaways", "key takeaway", "conclusion", "conclusions",
    "question", "questions", "solution", "findings", "key findings", "why", "what", "how", "note", "notes",
    "in short", "in brief", "gist", "context", "thoughts", "verdict", "main contribution", "core idea",
}
# Labels of metadata, not of a sentence: their line is never a description.
_META_LABELS = {
    "author", "authors", "paper", "papers", "link", "links", "source", "sources", "code", "github", "arxiv", "url",
    "date", "date read", "read", "read on", "published", "venue", "conference", "journal", "tags", "tag", "category",
    "categories", "keywords", "status", "rating", "score", "institution", "institutions", "affiliation",
    "affiliations", "title", "pdf", "blog", "website", "project page", "project", "year", "lab", "org",
    "organisation", "organization", "video", "slides", "dataset", "datasets", "model", "models", "doi", "citation",
    "related in this diary",
}
_SECTION_NAMES = {
    "key points", "key methods", "methods", "method", "results", "limitations", "my notes", "notes", "summary",
    "abstract", "aims", "aim", "problem", "background", "introduction", "overview", "takeaways", "key takeaways",
    "thoughts", "conclusion", "conclusions", "links", "references", "tl;dr", "tldr", "questions", "related work",
    "contributions", "key ideas", "key idea", "main idea", "approach", "motivation", "details", "experiments",
}
_ABBREVIATIONS = {"e.g", "i.e", "al", "vs", "fig", "figs", "eq", "eqs", "cf", "approx", "etc", "dr", "mr", "mrs", "ms",
                  "prof", "no", "sec", "ref", "refs", "resp", "st", "jr", "incl", "est", "viz", "ca", "v"}
_SENTENCE_STARTS = {"A", "An", "The", "This", "That", "These", "Those", "It", "Its", "We", "They", "I", "In", "On",
                    "And", "But", "So", "Then", "However", "Also", "Our", "Their", "There", "Here", "For", "To"}
_SENTENCE_END = re.compile(r"[.!?…](?:[\"'’”)\]]*)(?=\s+[\"'‘“(\[]*[A-Z0-9]|\s*$)")
# A link's target, an image (skipped), or a bare URL: in the order they appear.
_URLS = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|\[[^\]\n]*\]\(\s*<?(https?://[^\s)>]+)>?"
                   r"|(https?://[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"])")
_ARXIV_HOST = re.compile(r"^https?://(?:[\w-]+\.)*(?:arxiv\.org|alphaxiv\.org)/|^https?://(?:www\.)?huggingface\.co/papers/",
                         re.I)


def _fold(label: str) -> str:
    return " ".join(re.sub(r"[^\w;&' ]+", " ", label.casefold()).split())


class _Lines(list[str]):
    """An entry's lines as the describer reads them (code, HTML, comments, reference definitions and the
    front matter blanked), with the headings CommonMark finds: line -> (level, text, end line)."""

    def __init__(self, lines: list[str], headings: dict[int, tuple[int, str, int]]):
        super().__init__(lines)
        self.headings = headings


def _structure(text: str) -> tuple[_Lines, Document, FrontMatter | None]:
    front = read_front_matter(text)
    raw = text.lstrip("\ufeff").splitlines()
    skip = front.end_line if front else 0
    # The front matter's lines kept as blank lines: line numbers stay those of the file.
    body = "\n".join([""] * skip + raw[skip:]) + "\n"
    body = _COMMENT.sub(lambda m: "\n" * m[0].count("\n"), body)
    doc = parse(body)
    blank = set(doc.code_lines) | {n for b in doc.blocks if b.kind == "definition" for n in range(b.start, b.end)}
    lines = ["" if n in blank else line for n, line in enumerate(body.splitlines())]
    headings = {h.line: (h.level, h.text.strip(), h.end) for h in doc.headings if h.depth == 0}
    return _Lines(lines, headings), doc, front


def _content_lines(text: str) -> _Lines:
    """The entry's lines, with code, HTML, comments, reference definitions and front matter blanked."""
    return _structure(text)[0]


def _heading(lines: list[str], i: int) -> tuple[int, str] | None:
    """(level, text) when line ``i`` starts a heading (ATX, or setext underlined by line ``i + 1``)."""
    found = lines.headings.get(i) if isinstance(lines, _Lines) else None
    if isinstance(lines, _Lines):
        return (found[0], found[1]) if found else None
    if m := _ATX.match(lines[i]):
        return len(m[1]), (m[2] or "").strip()
    if (i + 1 < len(lines) and lines[i].strip() and not _LIST_MARKER.match(lines[i])
            and (m := _SETEXT.match(lines[i + 1]))):
        return (1 if m[1][0] == "=" else 2), lines[i].strip()
    return None


def inline_text(markdown: str) -> str:
    """One line of markdown as the words a reader sees: no links' targets, emphasis, code ticks or tags."""
    text = plain_text(markdown)
    text = re.sub(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`|~~", "", text).replace("⚠ unverified", "")
    text = html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text))  # markdown escapes and entities
    text = " ".join(text.split())
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([.,;:!?)])", r"\1", text))  # plain_text pads link labels


@dataclass(frozen=True)
class TextShape:
    """The shape of an entry's text: what tells a note from an index page, a list of papers, a template or a
    placeholder (``diary/classify.py`` decides)."""

    chars: int = 0  # characters of content, blanks, markup of links and the front matter left out
    blocks: int = 0  # paragraphs, list items, headings, tables, code...
    note_link_blocks: int = 0  # paragraphs or list items that link another markdown file beside it
    paper_link_items: int = 0  # short list items or paragraphs (few words besides their links) linking the web
    prose_blocks: int = 0  # paragraphs or items of more than 25 words outside links

    def as_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class EntryText:
    """What an entry's markdown says, read once per file version."""

    title: str  # "" when it has no title heading
    description: str  # its first real sentence; "" when it has none
    head_arxiv_ids: tuple[str, ...]  # named near the top (before the second heading)
    all_arxiv_ids: tuple[str, ...]
    links: tuple[str, ...]  # non-arXiv http(s) links near the top: a blog post's source
    drafted: EntryMetadata | None  # the drafter's hidden comment (None: hand-written)
    key_points: str = ""  # plain text of its Key Points section, else of its opening (see :func:`key_points_of`)
    key_point_items: tuple[str, ...] = ()  # the items of its "Key Points" section, plain text (the topic map)
    title_arxiv_ids: tuple[str, ...] = ()  # named by the title's own link ("## [Title](arxiv.org/abs/...)")
    source_arxiv_ids: tuple[str, ...] = ()  # named near the top by a line that is a source: a link alone,
    # "arXiv: ...", "Paper: <url>" (not a citation inside a sentence)
    title_link: str = ""  # the title's link as written ("" when the title is no link)
    tags: tuple[str, ...] = ()  # the front matter's tags and categories
    front_date: str = ""  # the front matter's date, as written
    shape: TextShape = TextShape()


# A venue or a year standing alone ("CVPR 2024", "ICML2021", "NeurIPS 2022 (Oral)"): no title.
_VENUE = re.compile(r"^[\W_]*(?:[A-Z][A-Za-z]*[A-Z][A-Za-z]*|[A-Z]{2,})['’]?\s*(?:\d{2}|\d{4})\b.{0,20}$|^\W*\d{4}\W*$")
_PLACEHOLDER_TITLES = {"title", "paper title", "paper name", "name", "paper", "title of the paper", "your title",
                       "untitled", "title here", "paper title here"}


def _title_of(lines: _Lines, doc: Document, front: FrontMatter | None) -> tuple[int | None, str, str]:
    """(line, title, the title's link as written) of an entry, see the module's docstring."""
    if front and front.title:
        return (front.end_line - 1), inline_text(front.title), ""
    first = next((b for b in doc.blocks if b.depth == 0 and any(lines[n].strip() for n in range(b.start, b.end))
                  and b.kind not in ("hr",)), None)
    if first is not None and first.kind == "heading" and first.level <= 3:
        heading = lines.headings.get(first.start)
        if heading:
            title, link = _linked_title(doc, first.start, heading[1])
            if title and _fold(title) not in _SECTION_NAMES:
                return first.start, title, link
    if first is not None and first.kind == "paragraph" and first.end - first.start == 1:
        line = lines[first.start].strip()
        title, link = _linked_title(doc, first.start, line)
        if link:
            return first.start, title, link
        plain = inline_text(line)
        words = plain.split()
        if (2 <= len(words) <= 25 and len(plain) <= 200 and not _VENUE.match(plain) and not plain.endswith((":", "."))
                and not _is_date_line(plain) and re.search(r"[^\W\d_]{3}", plain) and not _label_only(plain)):
            return first.start, plain, ""
    # Else the first heading, at level 1 or 2, or the first "#" heading: one further down ("## Ablation
    # study" after "## Motivation:") is a section.
    for n, (i, (level, name, _)) in enumerate(sorted(lines.headings.items())):
        if level == 1 or level == 2 and n == 0:
            title, link = _linked_title(doc, i, name)
            if title and _fold(title) not in _SECTION_NAMES:
                return i, title, link
    return None, "", ""


def _linked_title(doc: Document, line: int, markdown: str) -> tuple[str, str]:
    """The plain text of a title line and, when it opens with a link and holds nothing but links (a stray
    "]" aside: ``## [Title](url) [[arXiv](…)]``), the first link's text and every link's destination."""
    links = [link for link in doc.links_in(line, line + 1) if not link.image]
    plain = inline_text(markdown)
    if links:
        label = inline_text(links[0].text)
        outside = plain_text(markdown, link_labels=False)
        if label and plain.startswith(label) and not re.search(r"[^\W_]", outside):
            return label, " ".join(link.written for link in links)
    return plain, ""


def _is_source_line(line: str) -> bool:
    """A line that says where the paper is: a link or two alone, or a metadata label ("arXiv: 2506.01939"); at
    the top level (a nested item lists what a paper cites)."""
    body = _LIST_MARKER.sub("", line).strip()
    if not body or line[:2].isspace():
        return False
    labelled = _label(body)
    if labelled and labelled[0] in _META_LABELS:
        return True
    words = [w for w in plain_text(body, link_labels=False).split() if not re.search(r"[/:]|\d{4}\.\d{4}", w)]
    return len(words) <= 3


def _label_only(text: str) -> bool:
    found = _label(text)
    return bool(found and not found[1])


def _shape(lines: _Lines, doc: Document) -> TextShape:
    chars = sum(len("".join(line.split())) for line in lines)
    chars -= sum(len(link.written) for link in doc.links if link.dest is not None)
    units = [b for b in doc.blocks if b.kind in ("paragraph", "heading", "table", "fence", "code", "html")
             and any(lines[n].strip() for n in range(b.start, b.end)) or b.kind in ("fence", "code")]
    note_links = paper_items = prose = 0
    for block in units:
        if block.kind != "paragraph":
            continue
        links = doc.links_in(block.start, block.end)
        words = len(plain_text(" ".join(lines[block.start:block.end]), link_labels=False).split())
        if words > 25:
            prose += 1
        if any(link.local and re.search(r"\.(?:md|markdown)$", link.path, re.I) for link in links):
            note_links += 1
        elif words <= 25 and any(not link.local and link.href.startswith(("http://", "https://")) for link in links):
            paper_items += 1
    return TextShape(max(chars, 0), len(units), note_links, paper_items, prose)


def read_entry_text(text: str) -> EntryText:
    lines, doc, front = _structure(text)
    headings = [(i, (level, name)) for i, (level, name, _) in sorted(lines.headings.items())]
    title_at, title, title_link = _title_of(lines, doc, front)
    first_heading = headings[0][0] if headings else None
    second = next((i for i, _ in headings if first_heading is not None and i > first_heading), None)
    head_end = second if second is not None and second >= 3 else _HEAD_LINES
    head = "\n".join(lines[:head_end])
    excerpt = inline_text(front.excerpt) if front and front.excerpt else ""
    return EntryText(
        title=title,
        description=one_line(excerpt) if excerpt else first_sentence_of(
            lines, skip_to=(title_at + 1) if title_at is not None else 0),
        head_arxiv_ids=tuple(arxiv_ids(head)),
        all_arxiv_ids=tuple(arxiv_ids(text)),
        links=_source_links(head),
        drafted=read_metadata(text),
        key_points=key_points_of(lines, headings, title_at),
        key_point_items=_key_point_items(lines, headings),
        title_arxiv_ids=tuple(arxiv_ids(title_link)),
        source_arxiv_ids=tuple(dict.fromkeys(i for line in lines[:head_end] if _is_source_line(line)
                                             for i in arxiv_ids(line))),
        title_link=title_link,
        tags=front.tags if front else (),
        front_date=front.date if front else "",
        shape=_shape(lines, doc),
    )


def key_points_of(lines: list[str], headings: list[tuple[int, tuple[int, str]]], title_at: int | None) -> str:
    """The words of an entry's Key Points section (or TL;DR, Summary...), else of what follows its title
    up to the next heading: plain text, at most MAX_KEY_POINTS characters."""
    start, end = (title_at + 1) if title_at is not None else 0, len(lines)
    for n, (i, (level, name)) in enumerate(headings):
        if _fold(inline_text(name)) in _KEY_POINTS_SECTIONS:
            start = i + 1
            end = next((j for j, (lvl, _) in headings[n + 1:] if lvl <= level), len(lines))
            break
    else:
        end = next((i for i, _ in headings if i >= start), len(lines))
    heading_text = {i: name for i, (_, name) in headings}
    kept = []
    for i in range(start, end):
        line = lines[i]
        stripped = heading_text.get(i, _LIST_MARKER.sub("", line).strip())
        if (stripped and not _SETEXT.match(line) and not _NOTICE.match(stripped) and not _PLACEHOLDER.match(stripped)
                and not _is_date_line(stripped)):
            kept.append(inline_text(stripped))
    text = " ".join(" ".join(kept).split())
    return text if len(text) <= MAX_KEY_POINTS else text[:MAX_KEY_POINTS].rsplit(" ", 1)[0]


def _key_point_items(lines: list[str], headings: list[tuple[int, tuple[int, str]]]) -> tuple[str, ...]:
    """The list items (or paragraph lines) of the first "Key Points" section, as plain text."""
    start = next((i for i, (_, name) in headings if _fold(inline_text(name)) == "key points"), None)
    if start is None:
        return ()
    end = next((i for i, _ in headings if i > start), len(lines))
    points: list[str] = []
    for raw in lines[start + 1:end]:
        if _SETEXT.match(raw) or _HR.match(raw):
            continue
        item = _LIST_MARKER.match(raw)
        body = _LIST_MARKER.sub("", raw).strip()
        text = inline_text(body)
        if not text or _PLACEHOLDER.match(body):
            continue
        if item or not points:
            points.append(text)
        else:
            points[-1] += " " + text  # a wrapped item or paragraph continues
        if len(points) > MAX_KEY_POINT_ITEMS:
            break
    return tuple(points[:MAX_KEY_POINT_ITEMS])


def _source_links(head: str) -> tuple[str, ...]:
    found = (m[1] or m[2] for m in _URLS.finditer(head))
    links = [url for url in found if url and not _ARXIV_HOST.match(url)]
    return tuple(dict.fromkeys(links))[:MAX_LINKS]


# --------------------------------------------------------------------------- the first real sentence


def _label(line: str) -> tuple[str, str] | None:
    """(label, rest) when the line starts with a label such as ``**Aims:**`` or ``Problem:``."""
    m = _LABEL.match(line)
    if not m:
        return None
    label = _fold(m["label"])
    words = m["label"].split()
    titled = all(w[:1].isupper() or not w[:1].isalpha() for w in words)
    if m["mark"] or label in _KNOWN_LABELS or label in _META_LABELS or len(words) == 1 or titled:
        return label, m["rest"].strip()
    return None  # "We propose X: a method for Y." is a sentence, not a label


def _is_fragment(line: str) -> bool:
    """Only emphasis (``**Key idea**``), images, links or URLs: nothing a reader takes for a sentence."""
    if re.fullmatch(r"(\*\*|__)[^*_]+\1[:.]?", line) and not re.search(r"[.!?]\W*$", line):
        return True
    return not re.search(r"[^\W\d_]", plain_text(line, link_labels=False))


def first_sentence_of(lines: list[str], skip_to: int = 0) -> str:
    """The first real sentence after line ``skip_to`` ("" when there is none)."""
    i = skip_to
    while i < len(lines):
        raw, heading = lines[i], _heading(lines, i)
        i += 2 if heading and not _ATX.match(raw) else 1  # a setext heading's underline goes with it
        line = raw.strip()
        if (not line or heading or _SETEXT.match(raw) or _HR.match(raw) or line.startswith(("|", "<"))
                or _NOTICE.match(line)):
            continue
        line = _LIST_MARKER.sub("", line).strip()
        if not line or _PLACEHOLDER.match(line) or _is_date_line(line):
            continue
        if labelled := _label(line):
            label, rest = labelled
            if label in _META_LABELS:
                continue
            line = rest
            if not line:
                continue  # "Aims:" on its own line: the sentence it introduces comes next
        if _is_fragment(line):
            continue
        paragraph = [line]
        while i < len(lines) and not _SENTENCE_END.search(inline_text(" ".join(paragraph))):
            nxt = lines[i]
            if (not nxt.strip() or _LIST_MARKER.match(nxt) or _heading(lines, i) or _SETEXT.match(nxt)
                    or nxt.strip().startswith(("|", "<"))):
                break
            paragraph.append(nxt.strip())
            i += 1
        sentence = _first_sentence(inline_text(" ".join(paragraph)))
        if re.search(r"[^\W\d_]{2}", sentence):
            return sentence
    return ""


def _is_date_line(line: str) -> bool:
    """A line that is a date and little else ("Date read: 4th June 2025", "30/05/2025")."""
    found = written_dates(line)[0]
    if not found:
        return False
    rest = line.replace(found[0].text, "")
    return not re.search(r"[^\W\d_]{3}", re.sub(r"(?i)date|read|on|of", "", inline_text(rest)))


def _first_sentence(text: str) -> str:
    """The first sentence of plain text, capitalised, cut at a word boundary when long."""
    end = len(text)
    for m in _SENTENCE_END.finditer(text):
        word = re.search(r"(\S+)$", text[: m.start()])
        token = word[1].lower().lstrip("(\"'") if word else ""
        following = text[m.end():].split(maxsplit=1)
        initial = len(token) == 1 and token.isalpha() and following and following[0] not in _SENTENCE_STARTS
        if token in _ABBREVIATIONS or initial:
            continue  # "e.g.", "et al.", "J. Doe"
        end = m.end()
        break
    sentence = text[:end].strip()
    if sentence[:1].islower() and not sentence[1:2].isupper():
        sentence = sentence[0].upper() + sentence[1:]  # "**Idea:** train on forks." -> "Train on forks."
    return one_line(sentence)


def one_line(text: str) -> str:
    """Any description (drafted, stored, from a model) as one line of at most MAX_DESCRIPTION characters."""
    text = " ".join(text.split())
    if len(text) <= MAX_DESCRIPTION:
        return text
    cut = text[: MAX_DESCRIPTION - 1]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut
    return cut.rstrip(" ,;:-") + "…"
