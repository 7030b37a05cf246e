"""A paper's sentence as an entry shows it: no citation or footnote marks, no pointers to its figures or sections.

:func:`tidy` removes what only makes sense inside the paper: citations
(``[30]``, ``[12, 15]``, ``[Smith et al., 2020]``, ``(Smith and Doe, 2020)``,
LaTeX ``\\cite{..}``), footnote marks glued to words, references to its tables,
figures, sections and equations ("as shown in Table 2", "(see Section 3)",
"Table 4 shows that ..."), and openers that lean on the sentence before
("Second, ...", "Moreover, ..."). It only removes words: what is left is still
the paper's sentence, and the verbatim quote is kept beside it by the caller.
When a reference cannot go without breaking the sentence ("the method of [5]
improves ...", "Table 1 reports accuracy ..."), the sentence is not shown at
all: :func:`tidy` returns None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Citations: [12], [3, 7-9], \[30\] (escaped), [Smith et al., 2020; Doe, 2021], (Smith and Doe, 2020),
# and LaTeX's \cite{key}. Each branch starts with a bracket or backslash so the engine can skip ahead to one.
CITATION = re.compile(
    r"\\?\[\s*\d+(?:\s*[-–,]\s*\d+)*\s*\\?\]"
    r"|\[[^\[\]]{0,200}?\b(?:19|20)\d\d[a-z]?\s*\]"
    r"|\((?=[^()]{0,200}?[A-Z])[^()]{0,200}?\b(?:19|20)\d\d[a-z]?\)"
    r"|\\cite[a-zA-Z]*\*?(?:\[[^\]]*\])*\{[^}]*\}"
)
# A year in brackets right after a name: "Nye et al. [2021]" -> "Nye et al.", "Vaswani (2017)" -> "Vaswani".
_NAME_YEAR = re.compile(r"\b([A-Z][a-z]+(?:\s+et\s+al\.)?)\s*[\[(](?:19|20)\d\d[a-z]?[\])]")
# An author-year citation in parentheses, one group of authors: "(Smith and Doe, 2020)".
_AUTHOR_YEAR = re.compile(r"\((?P<authors>[A-Z][^()\d;]{0,120}?)(?:,\s*|\s+)(?:19|20)\d\d[a-z]?\)")

# A pointer to a part of the paper: "Table 2", "Fig. 3(b)", "Sections 3 and 4", "Appendix B.1", "Eq. (4)", "§2".
_PART = (
    r"(?:Tables?|Tab\.|Figures?|Figs?\.|Sections?|Sec(?:t)?s?\.|§§?|Appendi(?:x|ces)|App\.|Equations?|Eqs?\.|Eqn\.?"
    r"|Algorithms?|Alg\.|Theorems?|Thm\.|Lemmas?|Propositions?|Corollary|Definitions?|Listings?|Chapters?|Lines?)"
)
_NUMBER = r"(?:\([A-Z]?\d+(?:\.\d+)*[a-z]?\)|[A-Z]?\d+(?:\.\d+)*[a-z]?|[A-Z](?:\.\d+)*)(?![\w-])"
_REFERENCE = re.compile(
    rf"(?:\b|(?<![\w§])(?=§)){_PART}~?\s*{_NUMBER}(?:\s*\((?:[a-z]|left|right|top|bottom|middle|center|centre)\))?"
    rf"(?:\s*(?:,|and|or|to|–|-)\s*{_NUMBER})*"
    r"|\\(?:auto|c|C|eq|page)?ref\{[^}]*\}",
)
# Words that leave a sentence broken when what follows them is removed.
_NEEDS_OBJECT = re.compile(
    r"\b(?:to|in|by|from|of|see|and|or|with|as|than|like|following|on|for|at|via|into|onto|over|under|between"
    r"|the|a|an|our|their|its|this|these|that|those"
    r"|outperform(?:s|ed)?|uses?|follows?|extends?|adopts?|employs?|appl(?:y|ies)|surpass(?:es|ed)?|match(?:es|ed)?"
    r"|beats?|exceeds?|builds?|includes?|reproduces?|replicates?)\s*$",
    re.I,
)
# Where a pointer hangs off a participle it can go from anywhere: "the algorithm described in Algorithm 1 carries".
_PARTICIPLE_POINTING = (
    r"(?:as\s+)?(?:is\s+|are\s+|was\s+|were\s+)?(?:described|shown|illustrated|detailed|defined|given|listed|reported"
    r"|presented|summari[sz]ed|discussed|outlined|depicted|explained|derived|proved|proven|plotted|visuali[sz]ed"
    r"|provided|introduced|analy[sz]ed|evaluated|studied|proposed|suggested|used|done|noted|seen|observed)"
    r"\s+(?:in|by)"
)
# Other pointers go only from a clause's edge: ", similar to [30].", "as in [4],", "(see Section 3)".
_POINTING = (
    r"(?:as\s+(?:in|by)|similar(?:ly)?\s+to|analogous(?:ly)?\s+to|identical\s+to|equivalent\s+to|comparable\s+to"
    r"|consistent\s+with|in\s+line\s+with|following|like|see(?:\s+also)?|cf\.|e\.g\.,?|i\.e\.,?|such\s+as|including"
    r"|inspired\s+by|adapted\s+from|in|from|of|at)"
)
_MARK = "\x00"  # stands in for a removed citation or reference while the sentence is mended


def _adjunct(target: str) -> re.Pattern[str]:
    """A pointing adjunct around ``target`` (citation or reference marks) that can go without breaking the sentence."""
    marks = rf"{target}(?:\s*(?:,|;|and|or)?\s*{target})*"
    return re.compile(
        rf"(?:,\s*)?\b{_PARTICIPLE_POINTING}\s+{marks}"
        rf"|(?:,\s*)?\b{_POINTING}\s+{marks}(?=\s*(?:[,.;:!?)]|$))"
        rf"|\s*\((?:{_POINTING}\s+)?{marks}\s*\)",
        re.I,
    )


_POINTING_MARK = _adjunct(_MARK)
# "As shown in Table 2, X" / "In Fig. 2 (left), we see that X" / "Table 4 shows that X" / "From Figure 3 we observe X".
_LEADING_POINTER = re.compile(
    rf"^(?:(?:as|like)\s+(?:is\s+)?\w+\s+(?:in|by)\s+|in\s+|from\s+){_MARK}\s*(?:\([^()]*\))?\s*,?\s*"
    r"(?:(?:we|one)\s+(?:can\s+)?(?:see|observe|find|note|notice|show)\s+(?:that\s+)?"
    r"|it\s+(?:is|can\s+be)\s+(?:seen|observed|noted)\s+that\s+)?"
    rf"|^{_MARK}\s+(?:also\s+|further\s+)?(?:shows?|demonstrates?|indicates?|reveals?|confirms?|suggests?|illustrates?)"
    r"\s+that\s+(?:that\s+)?",
    re.I,
)
# A parenthesis that holds a pointer among other words: "(Transformer (big) in Table 2)", "(details in §3)".
_POINTER_PARENTHESIS = re.compile(rf"\s*\((?:[^()]|\([^()]*\))*?{_MARK}(?:[^()]|\([^()]*\))*?\)")
# "we show in Section 5 that" -> "we show that"
_VERB_POINTER = re.compile(rf"\b(in|from)\s+{_MARK}(?=\s+that\b)", re.I)
# Openers that lean on the sentence before.
_OPENER = re.compile(
    r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|fourth|finally|lastly|moreover|furthermore|additionally"
    r"|in addition|also|next|then|besides|notably|importantly|specifically|in particular|overall|however"
    r"|thus|therefore|hence|consequently|as a result|in contrast|on the other hand|to this end|in summary"
    r"|in short|in practice|indeed|interestingly|surprisingly|crucially|concretely|similarly|likewise"
    r"|for example|for instance)\s*,\s*",
    re.I,
)
# A footnote mark glued to a word: superscripts and daggers, or a digit a word does not otherwise carry ("tasks2,").
_SUPERSCRIPT_MARK = re.compile(r"(?<=[\w.,;:)])[\u00b9\u00b2\u00b3\u2070-\u2079\u2020\u2021\u00a7\u00b6]+")
# A footnote mark after a name ending in a number and a comma: "GPT-3,1 despite" (a list would not go on in lower case).
_MARK_AFTER_NUMBERED_NAME = re.compile(r"\b([A-Z][\w.]*-\d+(?:\.\d+)?,)\d{1,2}(?=\s+[a-z])")
# A pointer to a part of a figure, alone in parentheses: "attention (left) divides ...".
_POSITION = re.compile(r"\s*\((?:(?:top|bottom|upper|lower)[\s-]+)?(?:left|right|top|bottom|middle|center|centre"
                       r"|above|below|inset)\)")
_GLUED_DIGIT = re.compile(r"\b([a-z]{4,})(\d{1,2})(?=[\s,.;:)]|$)")
_DIGIT_AFTER_STOP = re.compile(r"\b([a-z]{3,}[.,;:])\d{1,2}(?=\s|$)")


def tidy(sentence: str, vocabulary: Mapping[str, int] | None = None) -> str | None:
    """``sentence`` as an entry shows it, or None when it cannot be shown without its references.

    ``vocabulary``: how often each lower-case word occurs in the paper, to tell a
    footnote mark glued to a word ("tasks2," once, beside "tasks") from a name
    ending in digits. Literal ``*`` and backticks are dropped, so the only
    markdown in a bullet is the bold the drafter adds.
    """
    text = sentence.replace("*", "").replace("`", "")
    text = _footnotes_removed(text, vocabulary or {})
    text = _NAME_YEAR.sub(r"\1", text)
    text = _AUTHOR_YEAR.sub(lambda m: f"{_AUTHORS_OPEN}{m.group('authors')}{_AUTHORS_CLOSE}", text)
    text = CITATION.sub(_MARK, text)
    text = _MARKED_AUTHORS.sub(_authors_if_needed, text)
    if _MARK in text:
        text = _POINTING_MARK.sub("", text)
        text = _MARK_RUN.sub(lambda m: _BROKEN if _NEEDS_OBJECT.search(m.string, 0, m.start()) else "", text)
        if _BROKEN in text:
            return None  # "the method of [5] improves": no way to say it without the reference
    text = _REFERENCE.sub(_MARK, text)
    if _MARK in text:
        text = _LEADING_POINTER.sub("", text.strip())
        text = _VERB_POINTER.sub(r"", text)
        text = _POINTER_PARENTHESIS.sub("", text)
        text = _POINTING_MARK.sub("", text)
        if _MARK in text:
            return None  # "Table 1 reports ...": about the paper's layout
    text = _POSITION.sub("", text)
    text = _OPENER.sub("", text.strip())
    return _mended(text)


_BROKEN = "\x01"
_AUTHORS_OPEN, _AUTHORS_CLOSE = "\x02", "\x03"
_MARKED_AUTHORS = re.compile(f"{_AUTHORS_OPEN}([^{_AUTHORS_CLOSE}]*){_AUTHORS_CLOSE}")
_MARK_RUN = re.compile(rf"\s*{_MARK}(?:\s*[,;]?\s*{_MARK})*")


def _authors_if_needed(match: re.Match[str]) -> str:
    """"(Smith et al., 2020)" goes, unless the grammar needs it: "by (Smith et al., 2020)" keeps "Smith et al."."""
    return match.group(1) if _NEEDS_OBJECT.search(match.string, 0, match.start()) else _MARK


_ABBREVIATIONS = frozenset(
    "fig figs eq eqs eqn sec secs sect tab tabs no nos vol vols pp ch ref refs thm alg app appx".split()
)


def _footnotes_removed(text: str, vocabulary: Mapping[str, int]) -> str:
    text = _SUPERSCRIPT_MARK.sub("", text)
    text = _MARK_AFTER_NUMBERED_NAME.sub(r"\1", text)
    text = _DIGIT_AFTER_STOP.sub(lambda m: m.group(1) if m.group(1)[:-1] not in _ABBREVIATIONS else m.group(), text)

    def glued(match: re.Match[str]) -> str:
        word = match.group(1)
        return word if vocabulary.get(word) and vocabulary.get(match.group().lower(), 0) <= 1 else match.group()

    return _GLUED_DIGIT.sub(glued, text) if vocabulary else text


def _mended(text: str) -> str | None:
    """White space and punctuation put right after removals; None when too little is left to read."""
    text = re.sub(r"\(\s*[,;]?\s*\)", "", text)
    text = re.sub(r"\s+([,.;:!?)])", r"\1", " ".join(text.split()))
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"[,;:]\s*([.!?])$", r"\1", text)
    text = re.sub(r"\(\s+", "(", text).strip(" ,;:")
    if len(text.split()) < 5 or not re.search(r"[.!?][\"'\u2019\u201d)\]]*$", text):
        return None
    if _aside_only(text):
        return None  # "(e.g., 3.5 points better than GAR on average).": an aside of the sentence before
    first = text.split(maxsplit=1)[0]
    if not any(c.isupper() for c in first[1:]):  # "xLSTM" and "iPhone" keep their case
        text = text[:1].upper() + text[1:]
    return text


def _aside_only(text: str) -> bool:
    """Whether ``text`` is one parenthesis and its full stop, nothing else."""
    if not text.startswith(("(", "[")):
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += char in "(["
        depth -= char in ")]"
        if depth == 0:
            return not text[i + 1 :].strip(" .!?;:,")
    return True


__all__ = ["CITATION", "tidy"]
