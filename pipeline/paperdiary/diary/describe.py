"""What a markdown entry says about itself: its title, first real sentence, source links, drafter's comment.

Entries are hand-written on phones as often as drafted, so nothing here assumes
the drafter's shape: the title is the first ``#`` or ``##`` heading that is not
a section name such as "Key Points"; the description is the first sentence a
reader would take for one, past headings, date lines, link-only lines, bold
fragments, images and labels (``**Aims:** To build X.`` gives "To build X.").
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

from paperdiary.diary.dates import written_dates
from paperdiary.diary.readme import plain_text
from paperdiary.stages.entry import arxiv_ids

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
_DRAFTED = re.compile(r"<!--\s*paperdiary:\s*(\{.*?\})\s*-->", re.DOTALL)
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


@dataclass(frozen=True)
class DraftedComment:
    """PaperDiary's hidden comment at the end of a drafted entry."""

    arxiv_id: str
    description: str


def drafted_comment(text: str) -> DraftedComment | None:
    """The drafter's hidden comment, or None for a hand-written entry.

    A comment whose JSON does not parse (hand-edited) still marks the entry as drafted.
    """
    m = _DRAFTED.search(text)
    if not m:
        return None
    try:
        data = json.loads(m[1])
    except ValueError:
        return DraftedComment("", "")
    if not isinstance(data, dict):
        return DraftedComment("", "")
    # The template escapes ">" inside the comment (templates.comment_safe).
    description = " ".join(str(data.get("description") or "").replace("&gt;", ">").split())
    return DraftedComment(str(data.get("arxiv_id") or ""), description)


def _content_lines(text: str) -> list[str]:
    """The entry's lines, with fenced code and HTML comments blanked (they never describe it)."""
    text = _COMMENT.sub(lambda m: "\n" * m[0].count("\n"), text)
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if fence is not None:
            if m and m[1][0] == fence[0] and len(m[1]) >= len(fence):
                fence = None
            out.append("")
        elif m:
            fence = m[1]
            out.append("")
        else:
            out.append(line)
    return out


def _heading(lines: list[str], i: int) -> tuple[int, str] | None:
    """(level, text) when line ``i`` is a heading (ATX, or a setext one underlined by line ``i + 1``)."""
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
class EntryText:
    """What an entry's markdown says, read once per file version."""

    title: str  # "" when it has no title heading
    description: str  # its first real sentence; "" when it has none
    head_arxiv_ids: tuple[str, ...]  # named near the top (before the second heading)
    all_arxiv_ids: tuple[str, ...]
    links: tuple[str, ...]  # non-arXiv http(s) links near the top: a blog post's source
    drafted: DraftedComment | None
    key_points: str = ""  # plain text of its Key Points section, else of its opening (see :func:`key_points_of`)
    key_point_items: tuple[str, ...] = ()  # the items of its "Key Points" section, plain text (the topic map)


def read_entry_text(text: str) -> EntryText:
    lines = _content_lines(text)
    headings = [(i, h) for i in range(len(lines)) if (h := _heading(lines, i))]
    titles = ((i, inline_text(name)) for i, (level, name) in headings if level <= 2)
    title_at, title = next(((i, name) for i, name in titles if name and _fold(name) not in _SECTION_NAMES),
                           (None, ""))
    first_heading = headings[0][0] if headings else None
    second = next((i for i, _ in headings if first_heading is not None and i > first_heading), None)
    head_end = second if second is not None and second >= 3 else _HEAD_LINES
    head = "\n".join(lines[:head_end])
    return EntryText(
        title=title,
        description=first_sentence_of(lines, skip_to=(title_at + 1) if title_at is not None else 0),
        head_arxiv_ids=tuple(arxiv_ids(head)),
        all_arxiv_ids=tuple(arxiv_ids(text)),
        links=_source_links(head),
        drafted=drafted_comment(text),
        key_points=key_points_of(lines, headings, title_at),
        key_point_items=_key_point_items(lines, headings),
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
