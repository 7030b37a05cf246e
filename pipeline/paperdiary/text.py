"""Plain-text helpers every room shares: sentences and paragraphs, clean one-line text, stop words, diffs.

Nothing here knows about papers, drafts or READMEs; it only cuts, cleans and
compares text, so the stages and the diary can both lean on it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

# ------------------------------------------------------------------------- words

# The one stop-word list: function words, plus words every paper and lesson uses
# ("propose", "method", "result") that tell one text from another no better.
STOP_WORDS = frozenset(
    """a about above after again against al all also am an and any approach approaches are aren as at be because
    been before being below between both but by can cannot could did didn do does doesn doing don down during
    each eg either else et etc even ever every few fig figure first for from further get gets got had has have
    having he her here hers herself him himself his how however i ie if in into introduce introduced introduces
    is isn it its itself just least less lesson lessons let like many may me method methods might more most much
    must my myself new no nor not now of off often on once one only onto or other others otherwise our ours
    ourselves out over own paper papers per propose proposed proposes quite rather really result results same say
    says second section see seen several shall she should show showed shown shows since so some something still
    such suggest suggested suggests table than that the their theirs them themselves then there therefore these
    they thing things this those though three through thus to too two under until up upon us use used uses
    using very via was way ways we well were what when where whether which while who whom whose why will with
    within without work works would yet you your yours yourself""".split()
)

# Small words a title keeps in lower case ("Learning to Learn by Gradient Descent").
TITLE_SMALL_WORDS = frozenset(
    "a an and as at by for from in into of on or over the to under via vs with without".split()
)

# Letters NFKD does not decompose into ASCII.
_TRANSLITERATE = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
     "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i"}
)


def to_ascii(text: str) -> str:
    """``text`` transliterated to ASCII ("Été" -> "Ete"); what has no ASCII form is dropped."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return decomposed.encode("ascii", "ignore").decode("ascii")


# Typographic ligatures (U+FB00-FB06: "ﬁ", "ﬂ", "ﬀ", "ﬃ", "ﬄ", "ﬅ", "ﬆ") and what NFKC makes of them.
_LIGATURES = str.maketrans({chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFB00, 0xFB07)})


def fold_ligatures(text: str) -> str:
    """``text`` with its ligatures spelt out ("signiﬁcantly" -> "significantly"): NFKC for these only, so that
    superscripts, which mark footnotes, stay what they are."""
    return text.translate(_LIGATURES)


# ------------------------------------------------------------------ one-line text

# Terminal escape sequences, whole: a lone ESC dropped would leave "[31m" behind. CSI (colours,
# cursor moves; 7- and 8-bit forms), then OSC, DCS, SOS, PM and APC strings (hyperlinks, window
# titles) up to their terminator (BEL or ST; a line end stops an unterminated one), then any other escape.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# Control characters but tab and line ends (C0, DEL, C1), and invisible format characters:
# zero-width, bidi overrides and isolates, soft hyphen, BOM, tag characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences, control or invisible characters (tabs and line ends kept).

    The one sanitiser for text from outside (a paper, a model, a queue file) that
    is shown in the terminal or written to a diary file: nothing it lets through
    can recolour, retitle or rewrite the terminal, hide a link or reverse a line.
    """
    return _INVISIBLE.sub("", _ESCAPE_SEQUENCE.sub("", text))


def clean_text(text: str) -> str:
    """Plain single-spaced text: escape sequences, control and invisible characters dropped, white space collapsed."""
    return " ".join(strip_controls(text).split())


ONE_LINE_MAX_CHARS = 160  # a line read at a glance: an index line, a one-line description


def one_line(text: str, limit: int = ONE_LINE_MAX_CHARS) -> str:
    """``text`` cleaned onto one line of at most ``limit`` characters, cut at a clause or word end ("…")."""
    text = clean_text(text)
    if len(text) <= limit:
        return text
    room = text[: limit - 1]
    clause = max(room.rfind(", "), room.rfind("; "), room.rfind(" ("), room.rfind(" - "))
    cut = clause if clause >= limit * 0.6 else room.rfind(" ")
    return (room[:cut] if cut > 0 else room).rstrip(" ,;:-(") + "…"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """"1 model", "2 models" (``many``: an irregular plural, "1 entry", "3 entries")."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


def shorten(text: object, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` characters with "…" (for messages and lists, not prose)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


# ------------------------------------------------------------ sentences, paragraphs

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v\r]*\n\s*")

# A sentence ends at . ! or ? (plus closing quotes or brackets), followed by white
# space and anything but a lower-case letter: a capital, a digit, a bracket, or the
# debris a PDF extractor leaves between sentences.
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u2019\u201d)\]]*\s+(?=[^\sa-z])")

# Words whose trailing period does not end a sentence ("et al. [3] show", "Fig. 2",
# "vs. Adam", "e.g. BERT"). Single initials ("A. Vaswani") are not among them: in
# a paper's body "a matrix Q. The keys ..." is far more common than a first name.
_NO_BREAK_BEFORE = re.compile(
    r"\b(?:et al|e\.g|i\.e|cf|vs|viz|approx|resp|Fig|Figs|Eq|Eqs|Eqn|Sec|Secs|Tab"
    r"|Sect|Ref|Refs|Alg|Thm|Def|Lem|Prop|Cor|App|Appx|No|Nos|Vol|Ch|pp|Dr|Mr|Mrs|Ms|Prof"
    r"|Jr|Sr|St|Inc|Ltd|Co|ca)\.$"
)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text`` (separated by blank lines), stripped, empties dropped."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``, white space trimmed.

    Offsets rather than strings so callers can cut the original text and keep it
    verbatim, line breaks and all.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        stop = match.end() - len(match.group()) + len(match.group().rstrip())
        if _NO_BREAK_BEFORE.search(text, max(0, stop - 12), stop):
            continue
        spans.append((start, stop))
        start = match.end()
    spans.append((start, len(text.rstrip())))
    return [(a, b) for a, b in (trim_span(text, a, b) for a, b in spans) if a < b]


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``; see :func:`sentence_spans`."""
    return [text[a:b] for a, b in sentence_spans(text)]


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` moved inwards past white space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# ------------------------------------------------------------------ lines and diffs

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their own endings; ``"".join(split_lines(t)) == t``.

    Only CR, LF and CRLF end a line (as in markdown), unlike ``str.splitlines``,
    which also breaks at form feeds and Unicode separators.
    """
    return _LINE.findall(text)


def line_ending(line: str) -> str:
    """The line's own ending: "\\r\\n", "\\n", "\\r" or "" (a last line without one)."""
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\n", "\r")):
        return line[-1]
    return ""


def line_body(line: str) -> str:
    """The line without its ending."""
    return line[: len(line) - len(line_ending(line))]


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff of two versions of the file ``name``, line endings shown as plain newlines."""
    a = [line_body(line) for line in split_lines(old)]
    b = [line_body(line) for line in split_lines(new)]
    return "".join(line + "\n" for line in difflib.unified_diff(a, b, f"a/{name}", f"b/{name}", lineterm=""))
