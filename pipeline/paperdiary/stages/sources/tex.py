"""A paper's LaTeX source -> ExtractedPaper: sections, abstract, captions and math as LaTeX.

Not a TeX engine: it reads what papers are made of. The main file is the one with
``\\documentclass`` and ``\\begin{document}``; ``\\input``/``\\include`` are
resolved among the archive's own files only; simple macros (``\\newcommand``,
``\\renewcommand``, ``\\providecommand``, ``\\def``, with up to nine arguments and
an optional first one) are expanded; comments are dropped; formatting commands
keep their text; citations, labels and footnotes go; references to labels become
the numbers LaTeX would print. Figures and tables keep their captions, math stays
LaTeX between ``$``. The bibliography (``thebibliography`` or the ``.bbl`` file
arXiv keeps) and everything after ``\\appendix`` are marked as such, as the PDF
path marks them, so the drafters read the same kinds of sections.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass, field

from paperdiary.models import ExtractedPaper, Section, SectionKind
from paperdiary.stages.sources.eprint import SourceFiles, UnusableSource

MAX_INPUT_DEPTH = 12
MAX_EXPANDED_CHARS = 8_000_000  # the document after \input and macros; a macro bomb stops here
MAX_EXPANSIONS = 200_000
MAX_MACRO_DEPTH = 32  # macros using macros; deeper is a loop
MIN_BODY_CHARS = 500  # less text than this: the source did not give the paper's text

_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*(?:\n[ \t]*)?")
_INPUT = re.compile(r"\\(?:input|include|subfile)\s*(?:\{([^{}]*)\}|([^\s{}\\]+))")
_DOCUMENTCLASS = re.compile(r"\\documentclass\b")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
_NAME = re.compile(r"\\([A-Za-z@]+|.)")
_SECTION = re.compile(r"\\(chapter|section|subsection|subsubsection)(\*?)\s*(?=[\[{])")
_LEVELS = {"chapter": 1, "section": 1, "subsection": 2, "subsubsection": 3}
_MATH_ENVS = frozenset(
    "equation equation* align align* alignat alignat* gather gather* multline multline* eqnarray eqnarray* "
    "displaymath math flalign flalign* dmath dmath*".split()
)
_NUMBERED_MATH = frozenset(e for e in _MATH_ENVS if not e.endswith("*") and e not in ("displaymath", "math"))
_FLOATS = {"figure": "Figure", "figure*": "Figure", "wrapfigure": "Figure", "table": "Table", "table*": "Table",
           "wraptable": "Table", "algorithm": "Algorithm", "algorithm*": "Algorithm"}
_DROPPED_ENVS = frozenset(
    "tabular tabular* tabularx longtable tikzpicture pgfpicture lstlisting verbatim verbatim* minted comment "
    "picture thebibliography filecontents filecontents* algorithmic".split()
)
_LIST_ENVS = frozenset("itemize enumerate description compactitem compactenum inparaenum".split())
# Commands whose arguments are not text: (number of brace arguments) after any [optional] ones.
_DROP_ARGS = {
    "label": 1, "vspace": 1, "hspace": 1, "vskip": 0, "hskip": 0, "includegraphics": 1, "bibliographystyle": 1,
    "setlength": 2, "addtolength": 2, "setcounter": 2, "addtocounter": 2, "pagestyle": 1, "thispagestyle": 1,
    "footnote": 1, "footnotetext": 1, "thanks": 1, "nocite": 1, "newpage": 0, "clearpage": 0, "maketitle": 0,
    "centering": 0, "noindent": 0, "par": 0, "small": 0, "footnotesize": 0, "scriptsize": 0, "tiny": 0,
    "large": 0, "Large": 0, "LARGE": 0, "huge": 0, "Huge": 0, "normalsize": 0, "bf": 0, "it": 0, "em": 0,
    "rm": 0, "sf": 0, "tt": 0, "sc": 0, "bfseries": 0, "itshape": 0, "mdseries": 0, "normalfont": 0,
    "raggedright": 0, "raggedleft": 0, "smallskip": 0, "medskip": 0, "bigskip": 0, "linewidth": 0,
    "textwidth": 0, "columnwidth": 0, "hline": 0, "toprule": 0, "midrule": 0, "bottomrule": 0, "cline": 1,
    "resizebox": 2, "scalebox": 1, "vfill": 0, "hfill": 0, "quad": 0, "qquad": 0, "newline": 0,
    "linebreak": 0, "pagebreak": 0, "protect": 0, "leavevmode": 0, "ignorespaces": 0, "relax": 0,
    "tableofcontents": 0, "listoffigures": 0, "listoftables": 0, "printbibliography": 0, "appendix": 0,
    "bibliography": 1, "affil": 1, "email": 1, "icmlsetsymbol": 2, "icmlaffiliation": 2,
    "icmlcorrespondingauthor": 2, "icmlkeywords": 1, "keywords": 1, "acknowledgments": 0,
    "color": 1, "definecolor": 3, "usetikzlibrary": 1, "graphicspath": 1, "captionsetup": 1,
    "phantom": 1, "vphantom": 1, "hphantom": 1, "newcounter": 1, "fancyhead": 1, "fancyfoot": 1,
    "title": 1, "author": 1, "date": 1, "icmltitle": 1, "icmlauthor": 2, "affiliation": 1, "institute": 1,
    "address": 1, "runningtitle": 1, "runningauthor": 1, "shorttitle": 1,
}
_KEEP_ARG = frozenset(
    "textbf textit emph textsc texttt textrm textsf textmd textup textsl underline uline mbox makebox fbox "
    "framebox hbox text textnormal emph mathrm ensuremath textcolor colorbox highlight hl sout".split()
)
_CITES = re.compile(r"(?:[cC]ite[a-z]*|[pP]arencite|[tT]extcite|[aA]utocite|footcite)\*?")
_REFS = {"ref": "", "eqref": "", "cref": "name", "Cref": "name", "autoref": "name", "pageref": "", "vref": "name",
         "nameref": "", "Autoref": "name", "subref": ""}
_SYMBOLS = {
    "ldots": "…", "dots": "…", "textellipsis": "…", "LaTeX": "LaTeX", "TeX": "TeX", "textendash": "–",
    "textemdash": "—", "S": "§", "P": "¶", "textbullet": "•", "textasciitilde": "~", "textbackslash": "\\",
    "textdagger": "†", "dag": "†", "ddag": "‡", "copyright": "©", "textregistered": "®", "texttrademark": "™",
    "times": "×", "pm": "±", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "rightarrow": "→", "to": "→",
    "approx": "≈", "sim": "∼", "infty": "∞", "degree": "°", "textdegree": "°", "checkmark": "✓", "xmark": "✗",
    "euro": "€", "pounds": "£", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "o": "ø", "O": "Ø",
    "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "textquotesingle": "'", "textquotedbl": '"',
}
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a"}
_ESCAPES = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", ",": " ", ";": " ", ":": " ",
            " ": " ", "!": "", "/": "", "-": "", "@": "", "\n": " "}
_NAME_BY_PREFIX = {"fig": "Figure", "tab": "Table", "sec": "Section", "eq": "Equation", "app": "Appendix",
                   "alg": "Algorithm", "thm": "Theorem", "lem": "Lemma", "def": "Definition", "subsec": "Section"}


# =========================================================================== entry point


def read_tex(source: SourceFiles, sha: str) -> ExtractedPaper:
    """The paper a LaTeX source holds; raises UnusableSource when it holds none."""
    main = main_file(source)
    document = _resolve_inputs(source, main)
    macros, document = _collect_macros(document)
    document = _expand(document, macros)
    begin, end = _BEGIN_DOCUMENT.search(document), _END_DOCUMENT.search(document)
    if begin is None:
        raise UnusableSource(f"{main} has no \\begin{{document}}")
    preamble, body = document[: begin.start()], document[begin.end() : end.start() if end else len(document)]
    reader = _Reader(source, main)
    title = reader.title(preamble + body)
    authors = reader.authors(preamble + body)
    sections = reader.sections(body)
    if sum(len(s.text) for s in sections if s.kind in ("abstract", "body")) < MIN_BODY_CHARS:
        raise UnusableSource(f"the LaTeX source ({main}) gives almost no text")
    return ExtractedPaper(sha256=sha, pages=0, sections=sections, title=title, authors=authors, source="tex")


def main_file(source: SourceFiles) -> str:
    """The file LaTeX is run on: it has ``\\documentclass`` and ``\\begin{document}`` outside comments."""
    candidates = [
        name for name, text in source.files.items()
        if name.lower().endswith((".tex", ".ltx", ".latex"))
        and _DOCUMENTCLASS.search(stripped := strip_comments(text)) and _BEGIN_DOCUMENT.search(stripped)
    ]
    if not candidates:
        raise UnusableSource("no file of the source has \\documentclass and \\begin{document}")

    def preference(name: str) -> tuple[int, int, int]:
        stem = posixpath.splitext(posixpath.basename(name))[0].lower()
        return (stem in ("main", "paper", "ms", "article", "arxiv"), -name.count("/"), len(source.files[name]))

    return max(candidates, key=preference)


def strip_comments(text: str) -> str:
    """The text without ``%`` comments (``\\%`` is a percent sign); a comment eats its line end as in TeX.

    ``\\iffalse ... \\fi`` blocks, the other way papers comment text out, go too.
    """
    return _IFFALSE.sub(" ", _COMMENT.sub(r"\1", text.replace("\r\n", "\n")))


_IFFALSE = re.compile(r"\\iffalse\b.*?\\fi\b", re.DOTALL)
# Text set in white or in type below 1 pt: nobody reads it, so it is a prompt-injection vector, never paper text.
_INVISIBLE = re.compile(
    r"\\textcolor\s*\{\s*(?:white|White|WHITE)\s*\}|\\textcolor\s*\[\s*(?:rgb|RGB|gray|HTML)\s*\]\s*\{\s*"
    r"(?:1\s*,\s*1\s*,\s*1|255\s*,\s*255\s*,\s*255|1|FFFFFF|ffffff)\s*\}|\\fontsize\s*\{\s*0*\.\d*\s*(?:pt)?\s*\}"
)


# =========================================================================== \input and macros


def _resolve_inputs(source: SourceFiles, main: str) -> str:
    """The main file with every ``\\input``/``\\include`` of a file inside the archive put in its place."""
    base = posixpath.dirname(main)
    total = 0

    def load(name: str, depth: int, seen: tuple[str, ...]) -> str:
        nonlocal total
        text = strip_comments(source.files[name])
        total += len(text)
        if total > MAX_EXPANDED_CHARS:
            raise UnusableSource("the LaTeX source expands beyond the size limit")

        def replace(match: re.Match[str]) -> str:
            target = _archive_path(source, base, (match.group(1) or match.group(2) or "").strip())
            if target is None or target in seen or depth >= MAX_INPUT_DEPTH:
                return " "
            return "\n" + load(target, depth + 1, (*seen, target)) + "\n"

        return _INPUT.sub(replace, text)

    return load(main, 0, (main,))


def _archive_path(source: SourceFiles, base: str, name: str) -> str | None:
    """The archive file ``\\input{name}`` means, or None: absolute paths and ``..`` never leave the archive."""
    if not name or name.startswith(("/", "~")) or "\\" in name or re.match(r"^[A-Za-z]:", name):
        return None
    for folder in (base, ""):
        path = posixpath.normpath(posixpath.join(folder, name))
        if path == ".." or path.startswith("../"):
            return None
        for candidate in (path, path + ".tex"):
            if candidate in source.files:
                return candidate
    return None


@dataclass
class _Macro:
    params: int
    body: str
    default: str | None = None  # the optional first argument's default


_NEWCOMMAND = re.compile(r"\\(?:re)?newcommand\*?|\\providecommand\*?|\\DeclareRobustCommand\*?")
_DEF = re.compile(r"\\[gex]?def\s*(\\[A-Za-z@]+)((?:#\d)*)\s*(?=\{)")
_MATHOP = re.compile(r"\\DeclareMathOperator\*?\s*")


def _collect_macros(text: str) -> tuple[dict[str, _Macro], str]:
    """Macro definitions by name (without backslash), and the text without them."""
    macros: dict[str, _Macro] = {}
    out: list[str] = []
    i = 0
    pattern = re.compile(f"{_NEWCOMMAND.pattern}|{_DEF.pattern}|{_MATHOP.pattern}")
    for match in pattern.finditer(text):
        if match.start() < i:
            continue
        parsed = _parse_definition(text, match)
        if parsed is None:
            continue
        name, macro, end = parsed
        macros[name] = macro
        out.append(text[i : match.start()])
        i = end
    out.append(text[i:])
    return macros, "".join(out)


def _parse_definition(text: str, match: re.Match[str]) -> tuple[str, _Macro, int] | None:
    head = match.group(0)
    if head.startswith(("\\def", "\\gdef", "\\edef", "\\xdef")):
        name, params = match.group(1)[1:], len(match.group(2) or "") // 2
        body, end = read_group(text, match.end())
        return (name, _Macro(params, body), end) if body is not None else None
    i = _skip_space(text, match.end())
    if text.startswith("{", i):
        name_text, i = read_group(text, i)
    else:
        found = _NAME.match(text, i)
        name_text, i = (found.group(0), found.end()) if found else (None, i)
    if not name_text or not name_text.strip().startswith("\\"):
        return None
    name = name_text.strip()[1:]
    if head.startswith("\\DeclareMathOperator"):
        body, end = read_group(text, _skip_space(text, i))
        return (name, _Macro(0, f"\\operatorname{{{body}}}"), end) if body is not None else None
    params, default = 0, None
    i = _skip_space(text, i)
    if text.startswith("[", i):
        count, i = read_bracket(text, i)
        params = int(count) if count and count.strip().isdigit() else 0
        i = _skip_space(text, i)
        if text.startswith("[", i):
            default, i = read_bracket(text, i)
    body, end = read_group(text, _skip_space(text, i))
    if body is None:
        return None
    return name, _Macro(min(params, 9), body, default), end


def _expand(text: str, macros: dict[str, _Macro]) -> str:
    """Replace every use of a collected macro by its body, arguments filled in, macros in it expanded too."""
    if not macros:
        return text
    names = sorted(macros, key=len, reverse=True)
    use = re.compile(r"\\(" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z@])")
    budget = {"expansions": 0, "chars": 0}

    def expand(text: str, depth: int) -> str:
        out: list[str] = []
        i = 0
        for_match = use.search(text, i)
        while for_match is not None:
            budget["expansions"] += 1
            if budget["expansions"] > MAX_EXPANSIONS or depth > MAX_MACRO_DEPTH:
                raise UnusableSource("the LaTeX source's macros expand beyond the limits (a macro loop?)")
            macro = macros[for_match.group(1)]
            args, end = _macro_arguments(text, for_match.end(), macro)
            body = macro.body
            for number, arg in enumerate(args, start=1):
                body = body.replace(f"#{number}", arg)
            out.append(text[i : for_match.start()])
            expanded = expand(body, depth + 1)
            budget["chars"] += len(expanded)
            if budget["chars"] > MAX_EXPANDED_CHARS:
                raise UnusableSource("the LaTeX source's macros expand beyond the size limit")
            # "\\foo bar" after expansion must not glue a command name to the next letter.
            out.append(expanded + (" " if re.search(r"\\[A-Za-z@]+$", expanded) and text[end : end + 1].isalpha()
                                   else ""))
            i = end
            for_match = use.search(text, i)
        out.append(text[i:])
        return "".join(out)

    return expand(text, 0)


def _macro_arguments(text: str, i: int, macro: _Macro) -> tuple[list[str], int]:
    args: list[str] = []
    remaining = macro.params
    if macro.default is not None and remaining:
        j = _skip_space(text, i)
        if text.startswith("[", j):
            value, i = read_bracket(text, j)
            args.append(value or "")
        else:
            args.append(macro.default)
        remaining -= 1
    for _ in range(remaining):
        j = _skip_space(text, i)
        if text.startswith("{", j):
            value, i = read_group(text, j)
            args.append(value or "")
        elif j < len(text):
            token = _NAME.match(text, j)
            end = token.end() if token else j + 1
            args.append(text[j:end])
            i = end
    return args, i


# =========================================================================== low-level reading


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n":
        i += 1
    return i


def read_group(text: str, i: int) -> tuple[str | None, int]:
    """The content of the ``{...}`` group starting at ``text[i]`` and the index after it; (None, i) if none."""
    return _read_enclosed(text, i, "{", "}", unclosed_runs_to_end=True)


def read_bracket(text: str, i: int) -> tuple[str | None, int]:
    """The content of ``[...]`` at ``text[i]`` (braces inside respected) and the index after it; (None, i) if
    none or unclosed (a lone ``[`` is text)."""
    return _read_enclosed(text, i, "[", "]", unclosed_runs_to_end=False)


def _read_enclosed(text: str, i: int, opening: str, closing: str, *,
                   unclosed_runs_to_end: bool) -> tuple[str | None, int]:
    """What stands between ``opening`` at ``text[i]`` and its ``closing`` outside any inner ``{...}``
    (escaped characters skipped), and the index after it. Unclosed: the rest of the text, or (None, i)."""
    if i >= len(text) or text[i] != opening:
        return None, i
    depth, j = 0, i + 1
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == closing and depth <= 0:
            return text[i + 1 : j], j + 1
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        j += 1
    return (text[i + 1 :], len(text)) if unclosed_runs_to_end else (None, i)


def _environment_end(text: str, name: str, i: int) -> tuple[int, int]:
    """Where the ``\\end{name}`` matching a ``\\begin{name}`` that ended at ``i`` starts and ends."""
    pattern = re.compile(r"\\(begin|end)\s*\{" + re.escape(name) + r"\}")
    depth = 1
    for match in pattern.finditer(text, i):
        depth += 1 if match.group(1) == "begin" else -1
        if depth == 0:
            return match.start(), match.end()
    return len(text), len(text)


# =========================================================================== the document


@dataclass
class _Part:
    """A stretch of the body under one heading."""

    title: str
    level: int
    kind: SectionKind
    text: str  # LaTeX
    numbered: bool = False  # \section{...}, not \section*{...}
    lettered: bool = False  # after \appendix: A, A.1, B


@dataclass
class _Numbers:
    """Counters LaTeX keeps, to print what ``\\ref`` refers to."""

    section: list[int] = field(default_factory=lambda: [0, 0, 0])
    appendix: bool = False
    floats: dict[str, int] = field(default_factory=dict)
    equation: int = 0

    def heading(self, level: int) -> str:
        self.section[level - 1] += 1
        for deeper in range(level, 3):
            self.section[deeper] = 0
        parts = [str(n) for n in self.section[:level]]
        if self.appendix:
            parts[0] = chr(ord("A") + self.section[0] - 1) if self.section[0] <= 26 else parts[0]
        return ".".join(parts)


class _Reader:
    """Turns the expanded document into sections of plain text (math kept as LaTeX)."""

    def __init__(self, source: SourceFiles, main: str):
        self.source = source
        self.main = main
        self.labels: dict[str, str] = {}
        self.bibitems: dict[str, str] = {}  # cite key -> "Vaswani et al." (natbib's printed author part)

    # -- front matter
    def title(self, text: str) -> str | None:
        match = re.search(r"\\title\s*(?:\[[^\]]*\])?\s*(?=\{)", text)
        if not match:
            return None
        group, _ = read_group(text, match.end())
        title = _one_line(self.plain(re.sub(r"\\\\|\\newline", " ", group or "")))
        return title or None

    def authors(self, text: str) -> list[str]:
        names: list[str] = []
        for match in re.finditer(r"\\(?:author|icmlauthor)\s*(?:\[[^\]]*\])?\s*(?=\{)", text):
            group, _ = read_group(text, match.end())
            for block in re.split(r"\\and\b|\\AND\b", group or ""):
                first_line = re.split(r"\\\\|\\newline", block, maxsplit=1)[0]
                plain = _one_line(self.plain(first_line))
                names += [n.strip(" ,*") for n in re.split(r",|\band\b", plain) if _looks_like_name(n.strip(" ,*"))]
        return list(dict.fromkeys(names))

    # -- sections
    def sections(self, body: str) -> list[Section]:
        parts = self._parts(body)
        self._number(parts)
        sections = []
        for part in parts:
            text = self.plain(part.text) if part.kind != "references" else part.text
            text = _paragraphs(text)
            if text or part.kind != "front":
                sections.append(Section(part.title, text, part.kind, part.level, 0))
        return [s for s in sections if s.text or s.kind == "body"]

    def _parts(self, body: str) -> list[_Part]:
        """The body cut at its headings, the abstract and bibliography taken out, kinds decided."""
        abstract, body = _take_abstract(body)
        references, body = self._take_references(body)
        parts: list[_Part] = []
        if abstract is not None:
            parts.append(_Part("Abstract", 1, "abstract", abstract))
        cuts = [(m.start(), m) for m in _SECTION.finditer(body)]
        appendix_at = [m.start() for m in re.finditer(r"\\appendix\b|\\begin\s*\{appendices\}", body)]
        references_at = references[0] if references else None
        start = cuts[0][0] if cuts else len(body)
        front = body[:start]
        if front.strip():  # as the PDF path: text before the first heading is front matter, or all the body
            parts.insert(0, _Part("Front matter", 1, "front" if cuts else "body", front))
        kind_after_references = False
        for index, (position, match) in enumerate(cuts):
            title, text_start = self._heading_title(body, match)
            end = cuts[index + 1][0] if index + 1 < len(cuts) else len(body)
            kind: SectionKind = "body"
            lettered = any(a < position for a in appendix_at)
            if lettered:
                kind = "appendix"
            if references_at is not None and references_at <= position:
                if not kind_after_references and references:
                    parts.append(_Part("References", 1, "references", references[1]))
                    kind_after_references = True
                kind = "appendix"
            level = _LEVELS[match.group(1)]
            parts.append(_Part(title, level, kind, body[text_start:end], numbered=not match.group(2),
                               lettered=lettered))
        if references and not kind_after_references:
            parts.append(_Part("References", 1, "references", references[1]))
        return parts

    def _heading_title(self, body: str, match: re.Match[str]) -> tuple[str, int]:
        i = match.end()
        if body.startswith("[", i):
            _, i = read_bracket(body, i)
            i = _skip_space(body, i)
        group, end = read_group(body, i)
        return _one_line(self.plain(group or "")), end

    def _take_references(self, body: str) -> tuple[tuple[int, str] | None, str]:
        """(position, plain text of the bibliography) and the body without it."""
        env = re.search(r"\\begin\s*\{thebibliography\}", body)
        if env:
            end_start, end = _environment_end(body, "thebibliography", env.end())
            items = body[env.end() : end_start]
            self._learn_bibitems(items)
            return (env.start(), self._bibliography_text(items)), body[: env.start()] + body[end:]
        command = re.search(r"\\bibliography\s*\{([^}]*)\}|\\printbibliography\b", body)
        if command is None:
            return None, body
        bbl = self._bbl_file()
        items = ""
        if bbl is not None:
            bbl_text = strip_comments(self.source.files[bbl])
            inner = re.search(r"\\begin\s*\{thebibliography\}", bbl_text)
            items = bbl_text[inner.end() :] if inner else bbl_text
            items = _END_BIBLIOGRAPHY.split(items)[0]
            self._learn_bibitems(items)
        return (command.start(), self._bibliography_text(items)), body[: command.start()] + body[command.end() :]

    def _bbl_file(self) -> str | None:
        stem = posixpath.splitext(self.main)[0]
        if stem + ".bbl" in self.source.files:
            return stem + ".bbl"
        return next((name for name in self.source.files if name.endswith(".bbl")), None)

    def _learn_bibitems(self, items: str) -> None:
        for match in re.finditer(r"\\bibitem\s*(\[)?", items):
            i = match.end() - (1 if match.group(1) else 0)
            label, i = read_bracket(items, i) if match.group(1) else (None, i)
            key, _ = read_group(items, _skip_space(items, i))
            if key and label:
                author = re.split(r"\(", _one_line(self.plain(label)), maxsplit=1)[0].strip()
                if author:
                    self.bibitems[key.strip()] = author

    def _bibliography_text(self, items: str) -> str:
        entries = re.split(r"\\bibitem\s*(?:\[(?:[^\[\]]|\[[^\]]*\])*\])?\s*\{[^}]*\}", items)[1:]
        cleaned = [_one_line(self.plain(entry.replace("\\newblock", " "))) for entry in entries]
        return "\n\n".join(entry for entry in cleaned if entry)

    def _number(self, parts: list[_Part]) -> None:
        """Number the headings as LaTeX prints them and learn what every ``\\label`` refers to."""
        numbers = _Numbers()
        for part in parts:
            current = ""
            if part.numbered:
                if part.lettered and not numbers.appendix:
                    numbers.appendix = True
                    numbers.section = [0, 0, 0]
                current = numbers.heading(part.level)
                part.title = f"{current} {part.title}"
            self._learn_labels(part.text, current, numbers)

    def _learn_labels(self, text: str, section: str, numbers: _Numbers) -> None:
        token = re.compile(r"\\(begin|end)\s*\{([^}]*)\}|\\label\s*\{([^}]*)\}")
        stack: list[str] = []
        current = section
        for match in token.finditer(text):
            action, env, label = match.groups()
            if action == "begin":
                stack.append(current)
                kind = _FLOATS.get(env)
                if kind:
                    numbers.floats[kind] = numbers.floats.get(kind, 0) + 1
                    current = str(numbers.floats[kind])
                elif env in _NUMBERED_MATH:
                    numbers.equation += 1
                    current = f"({numbers.equation})"
            elif action == "end":
                current = stack.pop() if stack else section
            elif label:
                self.labels.setdefault(label.strip(), current)

    # -- LaTeX -> plain text
    def plain(self, latex: str) -> str:
        """Plain text with paragraph breaks kept; math stays LaTeX between ``$``."""
        return _Plain(self).run(latex)


_END_BIBLIOGRAPHY = re.compile(r"\\end\s*\{thebibliography\}")


def _take_abstract(body: str) -> tuple[str | None, str]:
    env = re.search(r"\\begin\s*\{abstract\}", body)
    if env:
        end_start, end = _environment_end(body, "abstract", env.end())
        return body[env.end() : end_start], body[: env.start()] + body[end:]
    command = re.search(r"\\abstract\s*(?=\{)", body)
    if command:
        group, end = read_group(body, command.end())
        return group or "", body[: command.start()] + body[end:]
    return None, body


class _Plain:
    """One pass over LaTeX, writing plain text."""

    def __init__(self, reader: _Reader):
        self.reader = reader
        self.out: list[str] = []

    def run(self, latex: str) -> str:
        self._walk(latex)
        text = "".join(self.out)
        text = text.replace("``", "“").replace("''", "”").replace("---", "—").replace("--", "–")
        return text

    def _walk(self, text: str) -> None:
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == "\\":
                i = self._command(text, i)
            elif c == "$":
                i = self._dollar_math(text, i)
            elif c == "{":
                group, i = read_group(text, i)
                self._walk(group or "")
            elif c == "}":
                i += 1
            elif c in "~&":  # a tie; a column separator left over
                self.out.append(" ")
                i += 1
            elif c == "\n":
                j = i + 1
                while j < n and text[j] in " \t":
                    j += 1
                self.out.append("\n\n" if j < n and text[j] == "\n" else " ")  # a blank line ends a paragraph
                i = j
            else:
                self.out.append(c)
                i += 1

    # -- math
    def _dollar_math(self, text: str, i: int) -> int:
        delimiter = "$$" if text.startswith("$$", i) else "$"
        end = _find_unescaped(text, delimiter, i + len(delimiter))
        content = text[i + len(delimiter) : end]
        self._math(content, display=delimiter == "$$")
        return end + len(delimiter) if end < len(text) else len(text)

    def _math(self, content: str, *, display: bool) -> None:
        content = re.sub(r"\\(?:label|tag)\s*\{[^}]*\}|\\nonumber\b|\\notag\b", "", content)
        self.out.append(math_text(content, display=display))

    # -- commands
    def _command(self, text: str, i: int) -> int:
        match = _NAME.match(text, i)
        if match is None:
            return i + 1
        name = match.group(1)
        j = match.end()
        if name.isalpha() and text.startswith("*", j):
            j += 1
        if name == "item":
            label, j = read_bracket(text, j) if text.startswith("[", _skip_space(text, j)) else (None, j)
            self.out.append("\n\n")
            if label:
                self._walk(label)
                self.out.append(": ")
            return j
        if name == "\\":
            self.out.append(" ")
            return _skip_optional(text, j)
        if name == "textcolor" and (invisible := _INVISIBLE.match(text, i)):
            _, end = read_group(text, _skip_space(text, invisible.end()))
            return end  # white text
        if name == "color" and re.match(r"\\color\s*\{\s*(?:white|White)\s*\}", text[i:]):
            return len(text)  # white from here to the end of the group being read
        if name == "fontsize" and _INVISIBLE.match(text, i):
            return len(text)
        if name in ("(", "["):
            closing = "\\)" if name == "(" else "\\]"
            end = text.find(closing, j)
            end = len(text) if end < 0 else end
            self._math(text[j:end], display=name == "[")
            return end + 2
        if name in _ACCENTS and (len(name) == 1 and not name.isalpha() or not text[j : j + 1].isalpha()):
            return self._accent(text, j, _ACCENTS[name])
        if name in _ESCAPES:
            self.out.append(_ESCAPES[name])
            return j
        if name == "begin":
            return self._environment(text, j)
        if name == "end":
            _, after = read_group(text, _skip_space(text, j))
            return after
        if _CITES.fullmatch(name):
            return self._cite(text, name, j)
        if name in _REFS:
            return self._ref(text, name, j)
        if name in ("url", "nolinkurl"):
            group, end = read_group(text, _skip_space(text, j))
            self.out.append(group or "")
            return end
        if name == "href":
            _, end = read_group(text, _skip_space(text, j))
            group, end = read_group(text, _skip_space(text, end))
            self._walk(group or "")
            return end
        if name in ("paragraph", "subparagraph"):
            j = _skip_optional(text, _skip_space(text, j))
            group, end = read_group(text, j)
            self.out.append("\n\n")
            self._walk(group or "")
            self.out.append(". ")
            return end
        if name == "caption":
            j = _skip_optional(text, _skip_space(text, j))
            group, end = read_group(text, j)
            self._walk(group or "")
            return end
        if name in _SYMBOLS:
            self.out.append(_SYMBOLS[name])
            return j
        if name in _DROP_ARGS:
            j = _skip_optional(text, _skip_space(text, j) if _DROP_ARGS[name] else j)
            for _ in range(_DROP_ARGS[name]):
                _, j = read_group(text, _skip_space(text, j))
                j = _skip_optional(text, j)
            return j
        if name in _KEEP_ARG or name.isalpha():
            # Formatting and unknown commands: keep the text of their argument, if any.
            k = _skip_optional(text, j)
            if text.startswith("{", k):
                group, end = read_group(text, k)
                if name in ("textcolor", "colorbox"):
                    group, end = read_group(text, end)
                self._walk(group or "")
                return end
            return j
        return j

    def _accent(self, text: str, j: int, mark: str) -> int:
        if text.startswith("{", j):
            group, end = read_group(text, j)
            letter = (group or "").strip().lstrip("\\")
        else:
            letter, end = text[j : j + 1], j + 1
        if letter in ("i", "j"):
            letter = {"i": "i", "j": "j"}[letter]
        self.out.append(unicodedata.normalize("NFC", letter[:1] + mark) + letter[1:] if letter else "")
        return end

    def _cite(self, text: str, name: str, j: int) -> int:
        j = _skip_optional(text, _skip_optional(text, _skip_space(text, j)))
        keys, end = read_group(text, _skip_space(text, j))
        if name.lower().startswith(("citet", "textcite", "citeauthor")):
            authors = [self.reader.bibitems.get(k.strip()) for k in (keys or "").split(",")]
            known = [a for a in authors if a]
            if known:
                self.out.append(" and ".join(known))
                return end
        # A parenthetical citation goes with the space before it: "as shown~\\cite{x}." -> "as shown."
        while self.out and not self.out[-1].strip(" "):
            self.out.pop()
        if self.out:
            self.out[-1] = self.out[-1].rstrip(" ")
        return end

    def _ref(self, text: str, name: str, j: int) -> int:
        if text.startswith("*", j):
            j += 1
        keys, end = read_group(text, _skip_space(text, j))
        printed = []
        for key in (keys or "").split(","):
            key = key.strip()
            number = self.reader.labels.get(key)
            if number is None:
                continue
            if _REFS[name] == "name":
                prefix = _NAME_BY_PREFIX.get(key.split(":", 1)[0].lower()) if ":" in key else None
                printed.append(f"{prefix} {number}" if prefix else number)
            else:
                printed.append(number.strip("()") if name == "ref" else number)
        self.out.append(", ".join(printed))
        return end

    # -- environments
    def _environment(self, text: str, j: int) -> int:
        env, after = read_group(text, _skip_space(text, j))
        env = (env or "").strip()
        inner_end, end = _environment_end(text, env, after)
        inner = text[after:inner_end]
        if env in _MATH_ENVS:
            self._math(inner, display=True)
        elif env in _FLOATS:
            self._float(inner, _FLOATS[env])
        elif env in _DROPPED_ENVS:
            pass
        elif env in _LIST_ENVS:
            self.out.append("\n\n")
            self._walk(inner)
            self.out.append("\n\n")
        else:
            # Theorems, quotes, minipages, centering...: their text. Arguments of the \begin go.
            self._walk(_skip_begin_arguments(inner))
        return end

    def _float(self, inner: str, kind: str) -> None:
        """A figure or table: its caption only, as "Figure 3: ..." (the drawing or the cells are not prose)."""
        for match in re.finditer(r"\\caption\*?\s*", inner):
            k = _skip_optional(inner, match.end())
            group, _ = read_group(inner, k)
            if group is None:
                continue
            label = re.search(r"\\label\s*\{([^}]*)\}", inner)
            number = self.reader.labels.get(label.group(1).strip(), "") if label else ""
            self.out.append(f"\n\n{kind} {number}: ".replace(" :", ":"))
            self._walk(group)
            self.out.append("\n\n")


_SIMPLE_MATH = re.compile(r"(?:[\d.,%\s+\-]|\\%|\\(?:times|pm|mp|leq?|geq?|approx|sim|rightarrow|to|infty|cdot)\b)+")


def math_text(latex: str, *, display: bool = False) -> str:
    """Math as the text keeps it: LaTeX between ``$`` (``$$`` for display), but a number with a plain
    symbol ("3.2\\times", "\\sim 5\\%", "\\pm 0.1") as the characters a reader sees: "3.2×", "∼5%", "±0.1"."""
    latex = " ".join(latex.split())
    if not latex:
        return ""
    if not display and _SIMPLE_MATH.fullmatch(latex) and "\\" in latex:
        text = re.sub(r"\\([A-Za-z]+|%)", lambda m: _SYMBOLS.get(m.group(1), m.group(1)), latex)
        return text.replace(" ", "")
    return f" $${latex}$$ " if display else f"${latex}$"


def _skip_optional(text: str, i: int) -> int:
    if text.startswith("[", i):
        value, end = read_bracket(text, i)
        if value is not None:
            return end
    return i


def _skip_begin_arguments(inner: str) -> str:
    """``\\begin{theorem}[Name]`` or ``\\begin{minipage}{0.5\\textwidth}``: drop those arguments."""
    i = _skip_optional(inner, 0)
    if inner[i:].lstrip().startswith("{") and re.match(r"\s*\{[\d.]*\\(?:text|column|line)width\}", inner[i:]):
        _, i = read_group(inner, _skip_space(inner, i))
    return inner[i:]


def _find_unescaped(text: str, delimiter: str, start: int) -> int:
    i = start
    while True:
        i = text.find(delimiter, i)
        if i < 0:
            return len(text)
        backslashes = len(text[:i]) - len(text[:i].rstrip("\\"))
        if backslashes % 2 == 0:
            return i
        i += 1


def _paragraphs(text: str) -> str:
    """Paragraphs separated by one blank line, each on one line with single spaces."""
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", text))
    cleaned = [re.sub(r"\s+([.,;:!?)])", r"\1", p).replace("( ", "(") for p in paragraphs]
    return "\n\n".join(p for p in cleaned if p and not re.fullmatch(r"[\W_]*", p))


def _one_line(text: str) -> str:
    return " ".join(text.split()).strip()


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 5 and all(w[:1].isupper() for w in words if w.lower() not in ("van", "von", "de", "der"))
