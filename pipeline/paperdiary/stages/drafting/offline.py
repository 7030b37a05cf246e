"""The offline extractive drafter: a paper in, a Draft out, without an LLM.

The default when no LLM is configured. It invents nothing: every bullet is a
sentence of the paper with that sentence as its quote, only tidied
(:mod:`.tidy`: no citation or footnote marks, no pointers to figures or
sections) and given one bold noun phrase (:mod:`.phrases`). No two bullets of
an entry say the same thing; Limitations hold only sentences that state one;
each lesson names the paper's method instead of "this technique" or "we"; the
one-line description says what was done and what was found, like an author's
TL;DR. The result is held to the Draft contract
(:mod:`paperdiary.stages.drafting.contract`) like any drafter's.
"""

from __future__ import annotations

import enum
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from paperdiary.models import Chunk, ExtractedPaper, PaperMeta, Section
from paperdiary.stages.drafting.contract import (
    DESCRIPTION_MAX_CHARS,
    LIST_LIMITS,
    OFFLINE_DRAFTER,
    Claim,
    Draft,
    Lesson,
    conform_draft,
    short_name,
    title_name,
)
from paperdiary.stages.drafting.phrases import (
    CLOSED_CLASS,
    COMMON_ACRONYMS,
    FUNCTION_WORDS,
    HEAD_NOUNS,
    VERBS,
    find,
    is_noun_phrase,
    key_terms,
    metric_phrase,
    paper_names,
    proper_names,
)
from paperdiary.stages.drafting.tidy import CITATION, tidy
from paperdiary.text import STOP_WORDS, clean_text, one_line, split_paragraphs, split_sentences
from paperdiary.themes import match_theme


def paper_name(title: str) -> str:
    """What a sentence calls the paper: its own name ("FlashAttention: ..." -> "FlashAttention"), else "The paper"."""
    return title_name(title) or "The paper"


# ------------------------------------------------------------ the offline drafter


class OfflineDrafter:
    """The :class:`~paperdiary.stages.drafting.contract.Drafter` without an LLM: reads the whole paper, not chunks."""

    def __init__(self, *, themes: Sequence[str] = ()):
        self.themes = list(themes)  # the README's lesson themes, for each lesson's suggestion

    def draft(self, meta: PaperMeta, paper: ExtractedPaper, chunks: list[Chunk]) -> Draft:
        return draft_offline(meta, paper, themes=self.themes)


def draft_offline(meta: PaperMeta, paper: ExtractedPaper, *, themes: Sequence[str] = ()) -> Draft:
    """An extractive draft of the paper: its most informative sentences, lightly edited.

    Deterministic (same input, same draft) and fast (tens of milliseconds for a
    30-page paper). ``themes`` are the README's lesson themes; each lesson gets the
    best-matching one, or None. The sections are filled in order (key points,
    methods, results, limitations), each skipping what an earlier one already says.
    """
    title = clean_text(meta.title or paper.title or "")
    doc = _Document.build(meta, paper, title)
    picker = _Picker(doc)

    key_points = picker.key_points()
    methods = picker.methods(taken=key_points)
    results = picker.results(taken=key_points + methods)
    limitations = picker.limitations(taken=key_points + methods + results)

    context = f"{title} {doc.abstract_text}"
    draft = Draft(
        short_name=short_name(title),
        description=picker.description(),
        key_points=[doc.claim(s) for s in key_points],
        key_methods=[doc.claim(s) for s in methods],
        results=[doc.claim(s, bold=False) for s in results],
        limitations=[doc.claim(s, bold=False) for s in limitations],
        lessons=[doc.lesson(s, text, kind, themes, context) for s, text, kind in picker.lessons()],
        drafter=OFFLINE_DRAFTER,
        notes=doc.notes(),
    )
    return conform_draft(draft)


class _Role(enum.StrEnum):
    """The part a sentence plays, from the title of its section (or its position)."""

    ABSTRACT = "abstract"
    INTRO = "intro"
    METHOD = "method"
    RESULTS = "results"
    CONCLUSION = "conclusion"
    RELATED = "related"
    OTHER = "other"


# Checked in order, first match wins: "Experimental Results and Analysis" is results,
# "FlashAttention: Algorithm, Analysis, and Extensions" is method.
_ROLE_OF_TITLE = (
    (_Role.RELATED, re.compile(r"related work|prior work|background|preliminar|literature|notation", re.I)),
    (_Role.CONCLUSION, re.compile(
        r"conclu|summary|discussion|limitation|future (?:work|direction)|outlook|broader impact", re.I)),
    (_Role.INTRO, re.compile(r"introduc|overview|motivation", re.I)),
    (_Role.RESULTS, re.compile(r"experiment|result|evaluat|empirical|benchmark|ablation|case stud|comparison", re.I)),
    (_Role.METHOD, re.compile(
        r"method|approach|algorithm|model|architecture|framework|design|formulation|technique|proposed|our ", re.I)),
    (_Role.RESULTS, re.compile(r"analys", re.I)),
)
# Where each role sits in a paper whose section titles do not say (fractions of
# the body), used for the roles no section title claims.
_ROLE_BANDS = (
    (_Role.INTRO, 0.0, 0.2),
    (_Role.METHOD, 0.2, 0.55),
    (_Role.RESULTS, 0.55, 0.85),
    (_Role.CONCLUSION, 0.85, 1.01),
)
_FALLBACK_ABSTRACT_SENTENCES = 6

_NUMBERING = re.compile(r"^\s*(?:\d+|[A-Z])(?:\.\d+)*\.?\s+")
# A line that is a heading run into the text by a crude extractor ("1 Introduction").
_HEADING_LINE = re.compile(
    r"^[ \t]*(?:(?:\d+|[A-Z])(?:\.\d+)*\.?[ \t]+[A-Z][^\n.!?]{1,70}"
    r"|(?:Abstract|Introduction|Conclusions?|References|Acknowledge?ments|Related Work|Background|Discussion)"
    r"[ \t]*[.:]?)[ \t]*$",
    re.M,
)


def _title_role(title: str) -> _Role | None:
    bare = _NUMBERING.sub("", title)
    return next((role for role, pattern in _ROLE_OF_TITLE if pattern.search(bare)), None)


def _depth(section: Section) -> int:
    """Nesting depth, from the extractor's level or the numbering ("3.2" -> 2)."""
    numbering = _NUMBERING.match(section.title)
    dots = numbering.group().strip().rstrip(".").count(".") + 1 if numbering else 1
    return max(section.level, dots)


def _section_roles(sections: Sequence[Section]) -> list[_Role]:
    """Each section's role: a subsection takes its parent's, else its own title's."""
    roles: list[_Role] = []
    open_parents: list[tuple[int, _Role]] = []  # (depth, role) of the enclosing sections
    for section in sections:
        depth = _depth(section)
        while open_parents and open_parents[-1][0] >= depth:
            open_parents.pop()
        parent = open_parents[-1][1] if open_parents else _Role.OTHER
        if section.kind == "abstract" or _NUMBERING.sub("", section.title).strip().lower() == "abstract":
            role = _Role.ABSTRACT
        elif parent != _Role.OTHER:
            role = parent
        else:
            role = _title_role(section.title) or _Role.OTHER
        roles.append(role)
        open_parents.append((depth, role))
    return roles


def _blocks(text: str) -> list[str]:
    """Paragraphs, also split at heading lines a crude extractor left in the text."""
    return [b for p in split_paragraphs(text) for b in _HEADING_LINE.split(p) if b.strip()]


# ------------------------------------------------------------------ sentence filter

_MIN_WORDS, _MAX_WORDS = 7, 60
_NOT_PROSE = re.compile("[^\\w\\s.,;:!?%()\\[\\]'\"/×\u2013\u2014\u2018\u2019\u201c\u201d-]|_")
_CAPTION = re.compile(r"^(?:Figure|Fig\.|Table|Tab\.|Algorithm|Listing|Example)\s*[A-Z]?\d+[a-z]?\s*[:.|]")
_MATH = re.compile(r"[=<>≤≥≈≠∑∏∫√∈∉∀∃∂∇⊙⊗∥^_{}\\|→←↦α-ωΑ-Ω]")
_WEB = re.compile(r"https?://|www\.|@\w+\.|\.(?:com|org|edu|io)\b")
_BIBLIOGRAPHY = re.compile(r"\b(?:Proceedings|arXiv preprint|In Advances in|Conference on|Journal of)\b|\bpp\. \d")
_YEAR = re.compile(r"\b(?:19|20)\d\d[a-z]?\b")
_ENDS_SENTENCE = re.compile(r"[.!?][\"'\u2019\u201d)\]]*$")


def _usable(text: str, *, fewest_words: int = _MIN_WORDS) -> bool:
    """Whether a sentence is prose worth quoting, not PDF debris.

    Rejects fragments (lower-case start, no final stop), captions, equations,
    bibliography entries, addresses, citation lists and very short or long runs.
    """
    words = text.split()
    if not fewest_words <= len(words) <= _MAX_WORDS:
        return False
    if not (text[0].isupper() or text[0] in "\"'\u201c(") or not _ENDS_SENTENCE.search(text):
        return False
    if _CAPTION.match(text) or _WEB.search(text) or _BIBLIOGRAPHY.search(text):
        return False
    solid = len(text) - len(words) + 1  # characters other than the (collapsed) spaces
    if sum(map(str.isalpha, text)) < 0.5 * solid or len(_NOT_PROSE.findall(text)) > 0.1 * solid:
        return False  # symbol soup: debris, code or maths, not a sentence
    if len(_MATH.findall(text)) >= 2:
        return False
    variables = sum(1 for w in words if len(w) == 1 and w.isalpha() and w not in "aAI")
    if variables > 2 or len(_YEAR.findall(text)) > 2:
        return False
    return len(CITATION.sub("", text).split()) >= fewest_words


def _terms(text: str) -> tuple[str, ...]:
    """Content words, lower-case, crudely singular ("policies" -> "policy")."""
    out = []
    for word in re.findall(r"[a-z][a-z0-9-]+", text.lower()):
        if word in STOP_WORDS or len(word) < 3:
            continue
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
        out.append(word)
    return tuple(out)


# A number that reports a measurement: not a year, a reference or a numbered thing; "2.0" and "2" are one number.
_MEASURE = re.compile(
    r"(?<![\w.])(?<!Table )(?<!Figure )(?<!Fig\. )(?<!Section )(?<!Sec\. )(?<!Eq\. )(?<!Appendix )(?<!Algorithm )"
    r"(?!(?:19|20)\d\d\b)\d+(?:[.,]\d+)?(?:\s*(?:%|×|x\b|-?fold|times))?"
)


def _numbers(text: str) -> frozenset[str]:
    """The measurements a sentence reports, normalised ("2.0 BLEU" and "2 BLEU" share "2")."""
    found = set()
    for match in _MEASURE.finditer(text):
        number = re.match(r"\d+(?:[.,]\d+)?", match.group()).group().replace(",", "")  # type: ignore[union-attr]
        number = number.rstrip("0").rstrip(".") if "." in number else number
        if number not in ("0", "1"):  # "one of", "0 to 1": not measurements
            found.add(number)
    return frozenset(found)


@dataclass(frozen=True, eq=False)  # identity: two equal sentences in two places are two candidates
class _Sentence:
    text: str  # verbatim, cleaned: the quote
    role: _Role
    section: str  # title of its section, "" for the metadata abstract
    rank: int  # among the usable sentences of its section: 0 opens it
    display: str  # as the entry shows it (see tidy)
    terms: tuple[str, ...]  # content words of the display, lower-case and singular
    numbers: frozenset[str]  # the measurements it reports
    after_announcement: bool = False  # follows "... carries one major limitation." in its paragraph
    in_limitations: bool = False  # in a section titled for limitations
    order: int = 0  # reading order, abstract first


# ------------------------------------------------------------------ the document

_LIMITATION_TITLE = re.compile(r"limitation|weakness|shortcoming|caveat|failure", re.I)
# A sentence that only announces a limitation, stated in the next one: "... carries one major limitation."
_ANNOUNCEMENT = re.compile(
    r"\b(?:limitations?|drawbacks?|shortcomings?|weakness(?:es)?|caveats?)\s*(?:[.:]|as follows[.:])$", re.I
)


class _Document:
    """The paper's candidate sentences with their roles, and the statistics to score them."""

    def __init__(self, sentences: list[_Sentence], title: str, abstract_source: str, banded: list[_Role],
                 considered: int, summary: list[_Sentence] | None = None):
        self.sentences = sentences
        self.title = title
        self.abstract_source = abstract_source
        self.banded = banded  # roles assigned by position, for want of section titles
        self.considered = considered
        self.abstract = [s for s in sentences if s.role == _Role.ABSTRACT]
        # The description reads the whole abstract, short sentences too ("We investigate when retrieval helps.").
        self.summary = summary or self.abstract
        self.abstract_text = " ".join(s.text for s in self.abstract)
        self._idf = self._inverse_document_frequencies()
        self._reference = self._vector(_terms(title) * 2 + tuple(t for s in self.abstract for t in s.terms))
        self.names = paper_names(title, [s.display for s in sentences], " ".join(s.display for s in self.abstract))
        self.key_terms = key_terms(s.display for s in sentences)
        self._key_term_pattern = re.compile(
            "|".join(rf"(?<![\w-]){re.escape(t)}(?![\w-])" for t in sorted(self.key_terms, key=len, reverse=True))
        ) if self.key_terms else None
        named = paper_name(title)
        mentioned = named != "The paper" and any(find(s.display, named) for s in [*sentences, *(summary or [])])
        self.own_name = named if mentioned else None  # "STaR", from "STaR: Self-Taught Reasoner"
        self.reference = self._reference_name()

    @classmethod
    def build(cls, meta: PaperMeta, paper: ExtractedPaper, title: str) -> _Document:
        """Split the paper into usable sentences, tidy them and give each a role."""
        meta_abstract = clean_text(meta.abstract)
        parts: list[tuple[list[str], _Role, str]] = []  # (sentences, role, section title)
        if meta_abstract:
            parts.append((split_sentences(meta_abstract), _Role.ABSTRACT, ""))
        sections = [s for s in paper.body_sections if s.kind != "front"]
        for body_section, role in zip(sections, _section_roles(sections), strict=True):
            if role == _Role.ABSTRACT and meta_abstract:
                continue  # the metadata abstract is the cleaner copy
            texts = [t for block in _blocks(body_section.text) for t in split_sentences(clean_text(block))]
            parts.append((texts, role, clean_text(body_section.title)))

        vocabulary = Counter(w.lower() for texts, _, _ in parts for t in texts for w in re.findall(r"\w+", t))
        summary = [_Sentence(text, _Role.ABSTRACT, section, rank, display, _terms(display), _numbers(display),
                             order=rank)
                   for texts, role, section in parts[:1] if role == _Role.ABSTRACT
                   for rank, text in enumerate(texts)
                   for display in [tidy(text, vocabulary) if _usable(text, fewest_words=4) else None] if display]
        sentences: list[_Sentence] = []
        for texts, role, section in parts:
            rank, announced = 0, False
            for text in texts:
                display = tidy(text, vocabulary) if _usable(text) else None
                if display:
                    sentences.append(_Sentence(text, role, section, rank, display, _terms(display), _numbers(display),
                                               after_announcement=announced,
                                               in_limitations=bool(_LIMITATION_TITLE.search(section))))
                    rank += 1
                announced = bool(_ANNOUNCEMENT.search(display or text))
        if meta_abstract:
            source = "metadata"
        else:
            source = "section" if any(s.role == _Role.ABSTRACT for s in sentences) else "first sentences"
        sentences, banded = _assign_missing_roles(sentences, abstract_missing=source == "first sentences")
        # Abstract first, since the metadata abstract is not in the sections at all.
        sentences.sort(key=lambda s: s.role != _Role.ABSTRACT)
        sentences = [replace(s, order=i) for i, s in enumerate(sentences)]
        return cls(sentences, title, source, banded, considered=sum(len(texts) for texts, _, _ in parts),
                   summary=summary)

    # -- statistics

    def _inverse_document_frequencies(self) -> dict[str, float]:
        df = Counter(t for s in self.sentences for t in dict.fromkeys(s.terms))
        n = len(self.sentences)
        return {t: math.log((n + 1) / (d + 1)) + 1 for t, d in df.items()}

    def _vector(self, terms: Iterable[str]) -> dict[str, float]:
        counts = Counter(terms)
        return {t: c * self._idf.get(t, 1.0) for t, c in counts.items()}

    def similarity(self, sentence: _Sentence) -> float:
        """Cosine similarity (TF-IDF) of a sentence to the title and abstract."""
        vector = self._vector(sentence.terms)
        dot = math.fsum(w * self._reference.get(t, 0.0) for t, w in vector.items())
        norm = math.sqrt(math.fsum(w * w for w in vector.values())) * math.sqrt(
            math.fsum(w * w for w in self._reference.values())
        )
        return dot / norm if norm else 0.0

    def same_point(self, a: _Sentence, b: _Sentence) -> bool:
        """Whether two sentences say the same thing, so an entry needs only one of them.

        Words count by their rarity in the paper, so its topic words ("attention"
        in an attention paper) weigh little. Two sentences say the same when they
        share much of their words, or most of the shorter one's; when they report
        the same measurements about the same things; or when both introduce the
        paper's method by name.
        """
        x, y = set(a.terms), set(b.terms)
        shared = x & y
        if not shared:
            return False
        weight = self._weight
        if weight(shared) >= _SAME_OVERALL * weight(x | y):
            return True
        if len(shared) >= 3 and weight(shared) >= _SAME_CONTAINED * min(weight(x), weight(y)):
            return True
        numbers = a.numbers & b.numbers
        if numbers and len(shared) >= 2 and (a.numbers <= b.numbers or b.numbers <= a.numbers or len(numbers) >= 2):
            return True
        return self._introduces_method(a) and self._introduces_method(b)

    def _weight(self, terms: Iterable[str]) -> float:
        return math.fsum(self._idf.get(t, 1.0) for t in terms)

    def _introduces_method(self, s: _Sentence) -> bool:
        match = _PROPOSAL.search(s.display)
        return bool(match and self.names and find(match.group("obj"), self.names[0]))

    @staticmethod
    def informativeness(s: _Sentence) -> int:
        """What a sentence tells: its distinct content words, a measurement counting double."""
        return len(set(s.terms)) + 2 * len(s.numbers)

    # -- output

    def claim(self, sentence: _Sentence, *, bold: bool = True) -> Claim:
        text = sentence.display
        if bold:
            text = _bold(text, self.key_phrase(text))
        return Claim(text=text, quote=sentence.text, verified=True)

    def lesson(self, sentence: _Sentence, text: str, kind: str, themes: Sequence[str], context: str) -> Lesson:
        if sentence.role == _Role.ABSTRACT and self.abstract_source != "first sentences":
            where = "the abstract"
        else:
            where = f'section "{sentence.section}"' if sentence.section else "the paper"
        return Lesson(
            text=text,
            theme=match_theme(sentence.text, themes, context=context),
            why=f"{kind} stated in {where}.",
            quote=sentence.text,
            verified=True,
        )

    def key_phrase(self, text: str, *, finding: bool = False) -> str:
        """The phrase to bold in ``text``, as written there: what is proposed, what a finding is about,
        the paper's name for its method, a headline number, a named dataset or one of the paper's key terms."""
        finders: list[Callable[[str], str | None]] = [
            self._proposed_phrase,
            lambda t: self._finding_subject(t, finding=finding),
            self._name_in,
            metric_phrase,
            self._proper_name_in,
            self._key_term_in,
        ]
        return self._widened(text, next((p for p in (f(text) for f in finders) if p), ""))

    @staticmethod
    def _widened(text: str, phrase: str) -> str:
        """``phrase`` grown to the name or noun phrase ``text`` uses it in: "WMT" -> "WMT 2014 English-to-German",
        "sequence transduction" -> "sequence transduction models"."""
        if not phrase:
            return ""
        phrase = next((run for run in proper_names(text) if len(run) > len(phrase) and find(run, phrase)), phrase)
        match = find(text, phrase)
        after = re.match(r" ([A-Za-z-]+)\b", text[match.end() :]) if match else None
        if match and after and after.group(1).lower() in HEAD_NOUNS:
            return text[match.start() : match.end() + len(after.group())]
        return phrase

    def _proposed_phrase(self, text: str) -> str | None:
        """What "we propose/introduce ..." introduces."""
        match = _PROPOSAL.search(text)
        return self._noun_phrase(match.group("obj")) if match else None

    def _noun_phrase(self, text: str) -> str | None:
        """The paper's name for what ``text`` introduces, or its opening noun phrase."""
        name = self._name_in(" ".join(text.split()[:15]))
        if name:
            return name
        phrase = re.split(r"[,;:(]| (?:that|which|to|for|based|by|with|using|where|in|on|of)\b", text, maxsplit=1)[0]
        words = phrase.split()
        while words and words[0].lower() in ("a", "an", "the", "new", "novel", "simple", "general"):
            words = words[1:]
        if not is_noun_phrase(words) or (len(words) == 1 and words[0].lower() in _GENERIC_HEADS):
            return None  # "what is, to our knowledge, ..." or "a technique to ..." names nothing
        return " ".join(words)

    def _finding_subject(self, text: str, *, finding: bool) -> str | None:
        """What a finding ("we show that X improves ...") or plain statement is about.

        The subject is the words before the first known verb; a plain statement's
        subject counts only through one of the paper's names in it.
        """
        match = _FINDING.search(text)
        finding = finding or match is not None
        words = (match.group("clause") if match else text).split()
        for i, word in enumerate(words[:_SUBJECT_WORDS + 1]):
            bare = word.strip(",;:").lower()
            adverb_then_verb = bare.endswith("ly") and i + 1 < len(words) and words[i + 1].lower() in VERBS
            if i and (bare in VERBS or adverb_then_verb):
                subject = [w.strip(",;:") for w in words[:i]]
                while len(subject) > 1 and subject[0].lower() in ("the", "a", "an"):
                    subject = subject[1:]
                named = self._name_in(" ".join(subject))
                if named:
                    return named
                whole = finding and is_noun_phrase(subject, max_words=_SUBJECT_WORDS, loose=True)
                return " ".join(subject) if whole else None
            if word.endswith((",", ";", ":")):
                return None  # an opening clause, not a subject
        return None

    def _name_in(self, text: str) -> str | None:
        """The best-ranked of the paper's names that ``text`` mentions."""
        return next((n for n in self.names if find(text, n)), None)

    def _proper_name_in(self, text: str) -> str | None:
        return next((n for n in proper_names(text) if n not in COMMON_ACRONYMS), None)

    def _key_term_in(self, text: str) -> str | None:
        """The paper's most repeated key term that ``text`` holds, as written there."""
        if self._key_term_pattern is None:
            return None
        found = list(self._key_term_pattern.finditer(text.lower()))
        best = max(found, default=None, key=lambda m: (self.key_terms[m.group()], -m.start()))
        return text[best.start() : best.end()] if best else None

    def _reference_name(self) -> str:
        """What a lesson calls the paper: its own name, else its method's ("the Transformer"), else its title."""
        if self.own_name:
            return self.own_name
        for s in self.abstract:
            match = _PROPOSAL.search(s.display)
            name = self._name_in(match.group("obj")) if match else None
            if name:
                with_article = sum(len(re.findall(rf"\b[Tt]he {re.escape(name)}\b", x.display)) for x in self.sentences)
                bare = sum(len(re.findall(rf"(?<![\w-]){re.escape(name)}(?![\w-])", x.display)) for x in self.sentences)
                return f"the {name}" if 2 * with_article >= bare else name
        return f'"{self.title}"' if self.title else "The paper"

    def notes(self) -> dict[str, str]:
        """How the draft was made, for Draft.notes: what was read and which sections played which role."""
        sections: dict[_Role, list[str]] = {}
        for s in self.sentences:
            if s.section and s.section not in sections.setdefault(s.role, []):
                sections[s.role].append(s.section)
        notes = {
            "path": "extractive",
            "sentences_considered": str(self.considered),
            "sentences_usable": str(len(self.sentences)),
            "abstract": self.abstract_source,
            "sections": "; ".join(f"{role}: {', '.join(titles)}" for role, titles in sections.items() if titles),
        }
        if self.banded:
            notes["roles_by_position"] = ", ".join(self.banded)
        return notes


_SAME_OVERALL = 0.3  # rarity-weighted share of both sentences' words that they have in common
_SAME_CONTAINED = 0.6  # ... or share of the shorter one's
_SUBJECT_WORDS = 10  # the longest subject of a finding that is bold: "training on the top 20% of tokens by entropy"
_GENERIC_HEADS = frozenset("technique method approach framework algorithm way model system architecture".split())


def _bold(text: str, phrase: str) -> str:
    """``text`` with the first whole-word occurrence of ``phrase`` in **bold**."""
    match = find(text, phrase)
    if not match:
        return text
    return f"{text[: match.start()]}**{match.group()}**{text[match.end() :]}"


def _capitalize(text: str) -> str:
    """Upper-case the first letter, unless the first word is a name like "xLSTM"."""
    first = text.split(maxsplit=1)[0] if text else ""
    return text if any(c.isupper() for c in first[1:]) else text[:1].upper() + text[1:]


def _assign_missing_roles(
    sentences: list[_Sentence], *, abstract_missing: bool
) -> tuple[list[_Sentence], list[_Role]]:
    """Give roles no section title claimed to unclaimed sentences, by position.

    Without an abstract, the first few sentences stand in for it (in a PDF read
    without structure, they usually are the abstract). Returns the sentences and
    the roles assigned this way.
    """
    sentences = list(sentences)
    banded: list[_Role] = []
    if abstract_missing:
        unclaimed = [i for i, s in enumerate(sentences) if s.role in (_Role.OTHER, _Role.INTRO)]
        first = unclaimed[:_FALLBACK_ABSTRACT_SENTENCES]
        for i in first:
            sentences[i] = replace(sentences[i], role=_Role.ABSTRACT)
        if first:
            banded.append(_Role.ABSTRACT)
    present = {s.role for s in sentences}
    n = len(sentences)
    for role, low, high in _ROLE_BANDS:
        band = [i for i, s in enumerate(sentences) if s.role == _Role.OTHER and low <= i / n < high]
        if role in present or not band:
            continue
        for i in band:
            sentences[i] = replace(sentences[i], role=role)
        banded.append(role)
    return sentences, banded


# ------------------------------------------------------------------ cues

_FINDING = re.compile(
    r"(?:^|\b)(?:we|our (?:results|experiments|analysis|findings|evaluations?))\s+(?:[a-z]+ly\s+|also\s+|further\s+)?"
    r"(?:show|find|demonstrate|observe|suggest|reveal|establish|prove|confirm|indicate|verify)(?:s|ed)?\s+"
    r"(?:(?:by|through|via|in|with|both)\s+[a-z-]+(?:\s+(?:and\s+)?[a-z-]+)?\s+)?that\s+"
    r"(?P<clause>\S.{20,})$",
    re.I,
)
_PROPOSAL = re.compile(
    r"(?:^|\b)(?:we|this (?:paper|work))\s+(?:also\s+|further\s+|here\s+)?"
    r"(?P<verb>propose|introduce|present|develop|design)(?:s|d|ed)?\s+(?P<obj>\S.{10,})$",
    re.I,
)
_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work)|our (?:work|paper))\s+(?:[a-z]+ly\s+|also\s+|further\s+|then\s+)?"
    r"(?:propose|introduce|present|develop|design|describe|show|find|demonstrate|observe|suggest|reveal|establish"
    r"|prove|argue|analy[sz]e|extend|provide|report|achieve|obtain|study)(?:s|d|ed)?\b"
    r"|\bour (?:main )?contributions?\b|\bin this (?:paper|work)\b"
    r"|\bour (?:results|experiments|analysis|findings) (?:show|suggest|indicate|demonstrate|reveal)",
    re.I,
)
# Sentences about the paper's layout rather than its content.
_SIGNPOST = re.compile(
    r"\b(?:(?:in|see) (?:Section|Sec\.|Appendix|§)|we (?:discuss|describe|outline|summari[sz]e|detail|list)\b"
    r"|(?:this|next|following) section\b|the rest of (?:this|the) paper\b)",
    re.I,
)
_PRIOR_WORK = re.compile(
    r"\b(?:et al\.|(?:prior|previous|recent|existing|earlier) (?:work|method|approach|model)s?\b)", re.I
)
# Anchored at word starts: an unanchored case-blind alternation is tried at every
# character and was most of the drafter's run time.
_RESULT_CUE = re.compile(
    r"\b(?:outperform|achiev|improv|speed-?up|faster|slower|higher|lower|better|worse|accura"
    r"|reduc(?:e[sd]?|tions?)\b|increas(?:e[sd]?)\b|gains?\b|surpass|exceed|state[- ]of[- ]the[- ]art|record"
    r"|compared? (?:to|with)|match|BLEU\b|F1\b|perplexit|error|up to\b)",
    re.I,
)
# A headline number: "15% faster", "3× speedup", "28.4 BLEU".
_HEADLINE = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s*(?:%|×|x\b|-?fold)(?:\s+(?:faster|speedup|higher|lower|fewer|less|more|better"
    r"|improvement|reduction|larger|smaller|accuracy))?|(?<![\w.])\d+\.\d+\s+[A-Z][A-Za-z0-9-]*"
)
# Experimental set-up: numbers in it are settings, not results.
_SETUP = re.compile(
    r"\bwe (?:use|start|set|train|run|follow|adopt|employ|sample)\b|\bunless (?:stated|otherwise)\b"
    r"|\bhyperparameter|\blearning rate\b|\bbatch size\b",
    re.I,
)
_METHOD_CUE = re.compile(
    r"\bwe (?:use|compute|train|apply|employ|adopt|fine-tune|generate|sample|split|define|build|replace|combine)"
    r"|\bconsists? of\b|\bcomposed of\b|\bis computed\b|\bour (?:method|approach|model|algorithm)\b|\bloop\b|\bstep\b",
    re.I,
)
_QUOTED = re.compile(r"[\u201c\u201d]|\"[^\"]{25,}\"")

# -- limitations: a cue counts only in a clause that says something concrete (see _Picker.limitation_strength)

_LIMITATION_WORD = re.compile(r"\b(?:limitations?|drawbacks?|shortcomings?|weakness(?:es)?|caveats?)\b", re.I)
_FAILURE = re.compile(
    r"\bfails?\s+to\b|\bfailures?\b|\bcannot\b|\bcan\s?not\b|\bunable\s+to\b|\bstruggles?\b|\bbrittle\b"
    r"|\b(?:does|do|did|will|may|might|could|would|is|are)\s+(?:\w+\s+)?not\s+(?:yet\s+|always\s+|necessarily\s+"
    r"|fully\s+|easily\s+|directly\s+|be\s+)?(?:generali[sz]e|scale|work|apply|transfer|hold|improve|help|converge"
    r"|capture|handle|support|account|guarantee|perform|extend|cover|solve|learn|reach|match|succeed|benefit"
    r"|outperform|able|applicable|clear|possible|guaranteed|scalable|sufficient|straightforward|transferr?able"
    r"|portable|feasible|robust|reliable|accurate|available)\b"
    r"|\b(?:restricted|limited|confined)\s+to\b"
    r"|\bonly\s+(?:evaluat|test|consider|stud|focus|appl|experiment|examin|address|support|handle|cover|trained)"
    r"|\brequires?\s+(?:significant|substantial|considerable|a\s+(?:large|lot)|extensive|careful|expensive"
    r"|writing|manual|hand)"
    r"|\b(?:computationally|prohibitively)\s+(?:expensive|costly)|\bsensitive\s+to\b|\bdegrad|\bunstable\b"
    r"|\bremains?\s+(?:an?\s+)?(?:open|unclear|unknown|challenging|unsolved|difficult)\b"
    r"|\bopen\s+(?:question|problem|challenge)s?\b|\bunclear\s+(?:whether|how|if)\b"
    r"|\bnot\s+(?:yet\s+)?(?:address|explor|evaluat|consider|stud|investigat|test)",
    re.I,
)
_HEDGE = re.compile(r"\b(?:however|although|but|only|may|might|could|would|requires?|not|no|without)\b", re.I)
_FUTURE = re.compile(r"\bfuture\s+(?:work|research|directions?|studies)\b|\bwe\s+leave\b", re.I)
_SELF_REFERENCE = re.compile(r"\b(?:we|our|us|this (?:work|paper|study|method|approach|technique))\b", re.I)
# An object that points back at the sentence before: "We revisit this comparison".
_DEMONSTRATIVE = re.compile(r"(?:whether\s+|how\s+(?:far\s+|much\s+|well\s+|often\s+)?)?(?:this|these|that|those|it|such"
                            r"|the above)\b", re.I)
_LOOKS_BACK = re.compile(
    r"^(?:these|such|the above|those|both)\b|^this\s+(?:is|was|means|makes|leads|suggests|implies|also)\b", re.I
)
_CLAUSE_EDGE = re.compile(r"[,;:\u2014()]|\s(?:but|while|whereas|although|though)\s")
# Words that say a limitation or future work exists without saying what it is.
_BOILERPLATE_TERMS = frozenset(
    _terms(
        "limitation limitations drawback shortcoming weakness caveat major main key important notable several "
        "future work research direction directions leave plan hope intend investigate explore study extend further "
        "exciting interesting promising avenue line inspire inspires address remain remains open question problem "
        "current present approach technique paper carry carries suffer note discuss acknowledge potential possible "
        "beyond scope believe think subsequent follow-up topic area field improvement improve left lot still room "
        "aspect issue concern exist existing worth pursue opportunity consider considered another help community "
        "next step steps natural interest"
    )
)


# ------------------------------------------------------------------ picking


class _Picker:
    """Chooses the sentences for each part of the draft, by role and score."""

    def __init__(self, doc: _Document):
        self.doc = doc
        self._bases = {s: self._relevance(s) for s in doc.sentences}

    def _of(self, *roles: _Role) -> list[_Sentence]:
        return [s for s in self.doc.sentences if s.role in roles]

    def _relevance(self, s: _Sentence) -> float:
        """Similarity to the abstract, less if the sentence is about others' work or the paper's layout."""
        return (self.doc.similarity(s) - (0.3 if _PRIOR_WORK.search(s.text) else 0.0)
                - (0.5 if _SIGNPOST.search(s.text) else 0.0))

    def _base(self, s: _Sentence) -> float:
        return self._bases[s]

    def _pick(self, candidates: Sequence[_Sentence], score: Callable[[_Sentence], float], limits: tuple[int, int],
              *, taken: Sequence[_Sentence] = (), backup: Sequence[_Sentence] = (), keep: float = 0.6
              ) -> list[_Sentence]:
        """The best candidates, in reading order: those scoring at least ``keep`` times the
        best one, no more than ``limits[1]``, topped up from the best of ``backup`` to
        ``limits[0]``. A candidate saying what a ``taken`` sentence (an earlier section's)
        already says is skipped; of two candidates saying the same, the more informative stays."""
        fewest, most = limits
        same = self.doc.same_point
        informative = self.doc.informativeness
        scores = {s: score(s) for s in [*candidates, *backup]}
        ranked = sorted(candidates, key=lambda s: (-scores[s], s.order))
        top = scores[ranked[0]] if ranked else 0.0
        chosen: list[_Sentence] = []

        def consider(s: _Sentence) -> None:
            if s in chosen or any(same(s, t) for t in taken):
                return
            twins = [c for c in chosen if same(s, c)]
            if not twins:
                chosen.append(s)
            elif len(twins) == 1 and informative(s) > informative(twins[0]):
                chosen[chosen.index(twins[0])] = s

        for s in ranked:
            if len(chosen) == most or (len(chosen) >= fewest and scores[s] < keep * top):
                break
            consider(s)
        for s in sorted(backup, key=lambda s: (-scores[s], s.order)):
            if len(chosen) >= fewest:
                break
            consider(s)
        for i, c in enumerate(chosen):  # a twin from the same part of the paper may still say it better
            better = [s for s in scores if s.role == c.role and s not in chosen and informative(s) > informative(c)
                      and same(s, c) and not any(same(s, o) for o in [*taken, *chosen] if o is not c)]
            if better:
                chosen[i] = max(better, key=lambda s: (informative(s), -s.order))
        return sorted(chosen, key=lambda s: s.order)

    # -- the entry's sections

    def key_points(self) -> list[_Sentence]:
        """Contribution sentences of the abstract and introduction."""
        def score(s: _Sentence) -> float:
            return (self._base(s) + (0.6 if _CONTRIBUTION.search(s.text) else 0.0)
                    + (0.3 if s.role == _Role.ABSTRACT else 0.0) + (0.2 if _RESULT_CUE.search(s.text) else 0.0))

        main = self._of(_Role.ABSTRACT) + [s for s in self._of(_Role.INTRO) if _CONTRIBUTION.search(s.text)]
        backup = [s for s in self.doc.sentences if s.role not in (_Role.RELATED,) and s not in main]
        return self._pick(main, score, LIST_LIMITS["key_points"], backup=backup)

    def methods(self, *, taken: Sequence[_Sentence]) -> list[_Sentence]:
        names = self.doc.names[:3]

        def score(s: _Sentence) -> float:
            return (self._base(s) + (0.3 if _METHOD_CUE.search(s.text) else 0.0)
                    + (0.2 if re.search(r"\b(?:we|our)\b", s.text, re.I) else 0.0)
                    + (0.2 if any(n in s.text for n in names) else 0.0)
                    + (0.15 if s.rank < 2 else 0.0)  # sections open with an overview
                    - (0.2 if s.numbers else 0.0))  # set-up details

        main = self._of(_Role.METHOD)
        backup = [s for s in self._of(_Role.ABSTRACT, _Role.INTRO) if _METHOD_CUE.search(s.text)]
        return self._pick(main, score, LIST_LIMITS["key_methods"], taken=taken, backup=backup)

    def results(self, *, taken: Sequence[_Sentence]) -> list[_Sentence]:
        """Sentences reporting measurements, or at least comparisons."""
        def score(s: _Sentence) -> float:
            headline = bool(_HEADLINE.search(s.display))
            return (self._base(s) + (0.6 if s.numbers else 0.0) + (0.3 if headline else 0.0)
                    + 0.1 * min(len(_RESULT_CUE.findall(s.display)), 3) + (0.2 if s.role == _Role.RESULTS else 0.0)
                    - (0.3 if _SETUP.search(s.text) else 0.0))

        roles = (_Role.RESULTS, _Role.ABSTRACT, _Role.CONCLUSION, _Role.INTRO)
        pool = [s for s in self._of(*roles) if _RESULT_CUE.search(s.display)]
        return self._pick(pool, score, LIST_LIMITS["results"], taken=taken)

    def limitations(self, *, taken: Sequence[_Sentence]) -> list[_Sentence]:
        """Sentences that state a limitation or failure of this work; none when the paper states none."""
        strengths = {s: self.limitation_strength(s)
                     for s in self._of(_Role.METHOD, _Role.RESULTS, _Role.CONCLUSION, _Role.OTHER)}
        pool = [s for s, strength in strengths.items() if strength > 0]
        return self._pick(pool, lambda s: self._base(s) + strengths[s], LIST_LIMITS["limitations"], taken=taken)

    def limitation_strength(self, s: _Sentence) -> float:
        """How plainly ``s`` states a limitation of this work: 0 when it does not, or says only that one exists.

        "…carries one major limitation." and "…we leave this to future work." say
        nothing concrete; the sentence after such an announcement states it.
        """
        text = s.display
        if _ANNOUNCEMENT.search(text) or _LOOKS_BACK.match(text):
            return 0.0
        if _PRIOR_WORK.search(text) and not s.in_limitations:
            return 0.0  # "the limitations of existing methods": others' limitations
        # A failure stated in a method section is most often a baseline's or a proof's ("one cannot ...").
        about_us = s.in_limitations or s.role == _Role.CONCLUSION or (
            s.role != _Role.METHOD
            and (bool(_SELF_REFERENCE.search(text)) or any(find(text, n) for n in self.doc.names[:2])))
        strength = 1.2 if s.after_announcement and _concrete(text) else 0.0
        if any(_concrete(_clause(text, m)) for m in _LIMITATION_WORD.finditer(text)):
            strength = max(strength, 1.0)
        if about_us and any(_concrete(_clause(text, m)) for m in _FAILURE.finditer(text)):
            strength = max(strength, 0.7)
        if s.in_limitations and _HEDGE.search(text) and _concrete(text):
            strength = max(strength, 0.6)  # in a Limitations section a hedge is enough: "may", "only", "however"
        if any(_concrete(_clause(text, m)) for m in _FUTURE.finditer(text)):
            strength = max(strength, 0.4)
        return strength

    # -- lessons

    def lessons(self) -> list[tuple[_Sentence, str, str]]:
        """Findings ("we show that ...") before proposals, each rewritten to stand alone: (sentence, text, kind)."""
        def score(s: _Sentence) -> float:
            finding = _FINDING.search(s.display)
            return (self._base(s) + (0.5 if finding else 0.0)
                    + (0.3 if s.role in (_Role.ABSTRACT, _Role.CONCLUSION) else 0.0))

        stated = [s for s in self._of(_Role.ABSTRACT, _Role.INTRO, _Role.RESULTS, _Role.CONCLUSION)
                  if (_FINDING.search(s.display) or _PROPOSAL.search(s.display))
                  and not _QUOTED.search(s.text)]  # quoted examples make poor lessons
        written = {s: self.as_lesson(s) for s in stated}
        pool = [s for s in stated if written[s]]
        chosen = self._pick(pool, score, LIST_LIMITS["lessons"], keep=0.45)  # candidates for the user to choose from
        if not chosen:
            fallback = [s for s in self.key_points() if self.as_lesson(s)]
            chosen = fallback[:1]
            written.update({s: self.as_lesson(s) for s in chosen})
        return [(s, *written[s]) for s in chosen]  # type: ignore[misc]

    def as_lesson(self, s: _Sentence) -> tuple[str, str] | None:
        """One sentence that stands alone, key phrase in bold, and its kind; None when it cannot stand alone.

        "We show that X improves Y." -> "**X** improves Y."
        "We propose X, which ..."    -> "Name proposes **X**, which ..." (Name: the paper's or its method's)
        "We propose Name, an ..."    -> "**Name**: an ..."
        "This technique improves ..." -> "Name improves ..."
        The link to the entry is not part of the text: the merger adds it in the README's style.
        """
        doc = self.doc
        text = s.display.rstrip(".!? ")
        finding = _FINDING.search(text)
        if finding:
            clause = _standalone(finding.group("clause"), doc.reference)
            return (f"{_bold(clause, doc.key_phrase(clause, finding=True))}.", "Finding") if clause else None
        proposal = _PROPOSAL.search(text)
        if proposal:
            obj = proposal.group("obj")
            named = self._named_head(obj)
            if named:
                head, rest = named
                lesson = _standalone(f"{head}: {rest}", doc.reference)
            elif find(obj, doc.reference.removeprefix("the ")):
                return None  # "the Transformer proposes the Transformer ..."
            else:
                lesson = _standalone(f"{doc.reference} {proposal.group('verb').lower()}s "
                                     f"{_bold(obj, doc._noun_phrase(obj) or doc.key_phrase(obj))}", doc.reference)
            return (f"{lesson}.", "Contribution") if lesson else None
        plain = _standalone(text, doc.reference)
        return (f"{_bold(plain, doc.key_phrase(plain))}.", "Key point") if plain else None

    def _named_head(self, obj: str) -> tuple[str, str] | None:
        """("**Name**", "what it is") when a proposal's object opens with, or sets off, the paper's name.

        "FlashAttention, an IO-aware ..." -> ("**FlashAttention**", "an IO-aware ...");
        "an architecture, the Transformer, based on ..." -> ("The **Transformer**", "an architecture based on ...").
        """
        doc = self.doc
        opening = re.match(r"(?:(?P<the>the)\s+)?(?P<head>[^,;:]{1,80}?),\s+(?P<rest>.+)$", obj, re.I)
        if opening and doc._name_in(opening.group("head")) and is_noun_phrase(opening.group("head").split()):
            the = "The " if opening.group("the") else ""
            return f"{the}**{opening.group('head')}**", opening.group("rest")
        for name in doc.names[:2]:
            aside = re.match(rf"(?P<what>[^,]+),\s+(?P<the>the\s+|called\s+|named\s+|dubbed\s+)?{re.escape(name)}"
                             rf"(?:,\s*(?P<rest>.+))?$", obj)
            if aside:
                head = f"The **{name}**" if (aside.group("the") or "").strip() == "the" else f"**{name}**"
                return head, " ".join(p for p in (aside.group("what"), aside.group("rest")) if p)
        return None

    # -- the one-line description

    def description(self) -> str:
        """The index line, like an author's TL;DR: what was done, then what was found.

        "Proposes X, a ... that ...; X improves Y by 12% over Z." Both halves come
        from the abstract, shortened at clause boundaries to fit one line; either
        may be missing, and without an abstract it is the title.
        """
        sentences = self.doc.summary or self.doc.sentences[:_FALLBACK_ABSTRACT_SENTENCES]
        if not sentences:
            return self.doc.title
        name = self.doc.reference if not self.doc.reference.startswith('"') else None
        done = self._what_was_done(sentences)
        found = self._what_was_found([s for s in sentences if done is None or s.order > done[0].order], name)
        limit = DESCRIPTION_MAX_CHARS - 1  # the final stop
        if done is not None:
            return f"{_fitted(done[1], found, limit).rstrip(' ,;:')}."
        if found is not None:
            return f"{_clip(_capitalize(found[0]), limit).rstrip(' ,;:')}."
        return one_line(sentences[0].display)

    def _what_was_done(self, sentences: Sequence[_Sentence]) -> tuple[_Sentence, str] | None:
        """(sentence, "Proposes X, a ...") from the abstract's first proposal, else its first study ("Studies ..."),
        else the first thing "we" did ("We turn X into Y" -> "Turns X into Y")."""
        def tier(match: re.Match[str]) -> int:
            verb = match.group("verb").lower()
            return 0 if verb in _PROPOSING else 1 if verb in _DONE_VERBS or verb in _DONE_THIRD_PERSON else 2

        # A release ("We release our code") is no account of the work: the finding says more.
        candidates = [(s, m) for s in sentences for m in [_DONE.search(s.display.rstrip(".!? "))
                                                          or _WE_DID.match(s.display.rstrip(".!? "))]
                      if m and not _DEMONSTRATIVE.match(m.group("obj")) and not _RELEASE.search(s.display)
                      and m.group("verb").lower() not in ("release", "releases")]
        if not candidates:
            return None
        s, match = min(candidates, key=lambda c: (tier(c[1]), c[0].order))
        verb, obj = match.group("verb").lower(), match.group("obj")
        named = self.doc.own_name
        if named and verb in _PROPOSING and re.match(r"(?:an?|the)\s", obj) and not find(obj, named):
            obj = f"{named}, {obj}"  # "Proposes STaR, a technique to ...": the paper's name for it
        return s, f"{_third_person(verb)} {obj}"

    def _what_was_found(self, sentences: Sequence[_Sentence], name: str | None) -> tuple[str, bool] | None:
        """The abstract's main finding as a clause that stands alone ("X lowers perplexity from 11.9 to 11.2"),
        and whether it opens with its verb ("obtains ...", from "we obtain ...")."""
        def score(s: _Sentence) -> float:
            text = s.display
            stated = 1.0 if _FINDING.search(text) or _REPORTS.search(text) else 0.5 if _ACHIEVES.search(text) else 0.0
            return (stated + (0.8 if s.numbers else 0.0) + 0.3 * min(len(_RESULT_CUE.findall(text)), 2)
                    + (0.2 if name and find(text, name.removeprefix("the ")) else 0.0)
                    - (0.8 if _RELEASE.search(text) else 0.0) - (0.5 if _SETUP.search(text) else 0.0))

        best = max(((score(s), -s.order, s) for s in sentences), default=None, key=lambda x: x[:2])
        if best is None or best[0] < 0.8:
            return None
        text = best[2].display.rstrip(".!? ")
        match = _FINDING.search(text) or _REPORTS.search(text)
        clause = _standalone(_main_clause(match.group("clause") if match else text), name, clause=True)
        if clause is None:
            return None
        opens_with_verb = _WE_VERB.match(_main_clause(match.group("clause") if match else text)) is not None
        return (clause, True) if opens_with_verb else (self._lower_first(clause), False)

    def _lower_first(self, clause: str) -> str:
        """A clause's first letter in lower case, as after a semicolon, unless it opens with a name."""
        first = clause.split(maxsplit=1)[0] if clause else ""
        if any(c.isupper() or c.isdigit() for c in first[1:]) or first.strip(",;:") in self.doc.names:
            return clause
        return clause[:1].lower() + clause[1:]


# What the one-line description says was done: "We propose X", "This paper studies Y", "We ask whether Z".
_DONE_VERBS = (
    "propose introduce present develop design describe study investigate revisit analyze analyse examine explore "
    "compare train build characterize characterise ask formulate frame derive release tackle address"
).split()
_DONE_THIRD_PERSON = frozenset(
    v[:-1] + "ies" if v.endswith("y") and v[-2] not in "aeiou" else v + "es" if v.endswith(("s", "sh", "ch"))
    else v + "s"
    for v in _DONE_VERBS
)
_DONE = re.compile(
    r"(?:^|\b)(?:we|this (?:paper|work|study))\s+"
    r"(?:(?:also|further|here|then|first|therefore|thus|hence|instead|next|finally|additionally|now)\s+)?"
    rf"(?P<verb>{'|'.join(sorted({*_DONE_VERBS, *_DONE_THIRD_PERSON}, key=len, reverse=True))})"
    r"\s+(?P<obj>\S.{10,})$",
    re.I,
)
# The first thing "we" did, when no proposal or study says it: "We turn X into Y", "We let X be Y".
_WE_DID = re.compile(
    r"^(?:[A-Z][^,]{0,60},\s+)?we\s+(?P<verb>(?!(?:show|find|observe|demonstrate|believe|hope|note|are|were|have|had"
    r"|can|could|will|would|may|might|do|did|also|then|then|first|use|used)\b)[a-z]+)(?<!ed)\s+(?P<obj>\S.{10,})$",
    re.I,
)
_PROPOSING = frozenset(
    f for v in "propose introduce present develop design describe build".split() for f in (v, v + "s")
)
# "Experiments on X show that ...", "Results indicate that ...": a finding without "we".
_REPORTS = re.compile(
    r"^(?:[^,]{0,80}?\b(?:experiments?|results?|evaluations?|analys[ie]s|ablations?|studies)\b[^,]{0,120}?\s+)"
    r"(?:show|shows|demonstrate|demonstrates|indicate|indicates|reveal|reveals|suggest|suggests|confirm|confirms)"
    r"\s+that\s+(?P<clause>\S.{20,})$",
    re.I,
)
# A result the method achieves: "X outperforms Y", "it reaches 49.4 AP".
_ACHIEVES = re.compile(
    r"\b(?:achiev|outperform|improv|reduc|lower|rais|match|beat|exceed|surpass|sets?\b|establish|solv|reach|cut"
    r"|halv|doubl|speeds? up|enabl|closes?\b|recover|succeed)",
    re.I,
)
_RELEASE = re.compile(
    r"\b(?:code|models?|data(?:set)?s?|weights|checkpoints)\b.{0,40}\b(?:available|release[sd]?|open[- ]source)"
    r"|\bwe (?:release|open-source|make)\b",
    re.I,
)


def _fitted(what: str, found: tuple[str, bool] | None, limit: int) -> str:
    """ "what; found" (or "what and found" when the finding opens with its verb) in at most ``limit`` characters,
    each half cut at a clause boundary if it must be, keeping as much of each (in proportion) as fits."""
    if not found:
        return _clip(what, limit)
    clause, opens_with_verb = found
    separator = " and " if opens_with_verb else "; "
    best: tuple[float, str] | None = None
    for w, w_cost in _cuts(what):
        for f, f_cost in _cuts(clause, keep_verb=not opens_with_verb):
            if len(w) + len(separator) + len(f) <= limit:
                kept = 100 * (len(w) / len(what) + len(f) / len(clause)) - w_cost - f_cost
                if best is None or kept > best[0]:
                    best = (kept, f"{w}{separator}{f}")
    if best is not None:
        return best[1]
    # Nothing of both fits: the finding alone, as a sentence, if some reading of it does; else what was done.
    alone = [f for f, _ in _cuts(_capitalize(clause), keep_verb=not opens_with_verb) if len(f) <= limit]
    return max(alone, key=len) if alone and not opens_with_verb else _clip(what, limit)


# Where a description's half may be cut: after a clause, or before a relative clause or a prepositional phrase.
_CLAUSE_CUT = re.compile(r"[,;:]\s|\s[\u2014(]")
_PHRASE_CUT = re.compile(
    r"\s(?:which|that|while|where|whereas|so that|and|but|by|to|with|without|using|for|on|in|at|from|compared"
    r"|outperforming|improving|rather than|instead of|as)\s"
)


_PARTICIPLE = re.compile(r"[a-z-]+ed")
_TERSE, _TERSE_COST = 45, 30  # a reading this short ("Proposes STaR, a technique") says too little


def _cuts(text: str, *, keep_verb: bool = False) -> list[tuple[str, int]]:
    """``text`` and its shorter readings (cut at clause or phrase boundaries), each with what the cut costs
    in characters: a cut inside a clause costs more than one between clauses. ``keep_verb``: a reading
    must keep a verb (a finding cut before its verb says nothing)."""
    out = [(text, 0)]
    for pattern, cost in ((_CLAUSE_CUT, 0), (_PHRASE_CUT, 12)):
        for match in pattern.finditer(text):
            words = text[: match.start()].rstrip(" ,;:").split()
            while words and (words[-1].lower() in CLOSED_CLASS or _PARTICIPLE.fullmatch(words[-1].lower())):
                words.pop()  # no dangling "of", "the" or "trained"
            verb = any(w.lower() in VERBS and not w.endswith("ed") for w in words[1:])
            if len(words) >= 4 and (verb or not keep_verb) and not _left_open(words):
                reading = " ".join(words)
                out.append((reading, cost + (_TERSE_COST if len(reading) < _TERSE else 0)))
    return out


_RELATIVE = frozenset("that which who whose".split())
_SUBORDINATE = frozenset("how whether why because since although though while whereas if when where".split())
# A compound adjective waiting for its noun: "into a length-dependent [and a length-independent term]".
_HYPHENATED_ADJECTIVE = re.compile(
    r"-(?:dependent|independent|aware|based|specific|free|agnostic|efficient|optimal|invariant|conditioned|level"
    r"|scale|wise|like|driven|guided|informed|aligned|tuned|grained)$", re.I)


def _left_open(words: Sequence[str]) -> bool:
    """Whether a cut reading stops inside its last clause: "a network that operates [on a mesh]", "studies how
    two-layer networks [learn]", "because incorrect answers [dominate]", "into a length-dependent [term]"."""
    if _HYPHENATED_ADJECTIVE.search(words[-1]):
        return True
    for i in range(len(words) - 1, 0, -1):
        word = words[i].lower().strip(",;:")
        if word in _RELATIVE or word in _SUBORDINATE:
            tail = words[i + 1 :]
            return len(tail) < 3 or (word in _SUBORDINATE and not any(t.lower() in VERBS for t in tail))
    return False


def _main_clause(text: str) -> str:
    """``text`` without an opening phrase before its main clause: "On AIME, EGPO reaches ..." -> "EGPO reaches ..."."""
    first = text.split(maxsplit=1)[0].lower() if text else ""
    if not (first in _OPENING_WORDS or first.endswith(("ed", "ing"))):
        return text
    for comma in re.finditer(r",\s+", text):
        rest = text[comma.end() :]
        words = rest.split(",", 1)[0].split()  # up to the next comma: it must hold the main verb
        if len(rest.split()) < 4:
            break
        opener = words[0].lower()
        if opener in VERBS or (opener in CLOSED_CLASS and opener not in _SUBJECT_OPENERS):
            continue
        if any(w.lower() in VERBS for w in words[1:12]):
            return rest
    return text


_OPENING_WORDS = frozenset(
    "on in with across for using at under after without given when through by from compared applied once while "
    "since because if although though unlike despite beyond besides".split()
)
_SUBJECT_OPENERS = frozenset("the a an our this these its their both each all most we it they".split())


def _clause(text: str, match: re.Match[str]) -> str:
    """The clause of ``text`` around ``match``: between the nearest commas, semicolons, dashes or conjunctions."""
    edges = [m for m in _CLAUSE_EDGE.finditer(text)]
    start = max((m.end() for m in edges if m.end() <= match.start()), default=0)
    end = min((m.start() for m in edges if m.start() >= match.end()), default=len(text))
    return text[start:end]


def _concrete(text: str) -> bool:
    """Whether ``text`` says what the limitation or gap is, beyond saying that there is one."""
    return len(set(_terms(text)) - _BOILERPLATE_TERMS) >= 2


# A subject that only makes sense after the sentence before: "This technique", "It", "Our method".
_ANAPHORIC_SUBJECT = re.compile(
    r"^(?:this|these|such|the proposed|our|the resulting|the new)\s+(?:(?:simple|new|proposed|novel|overall)\s+)?"
    r"(?:technique|method|approach|framework|algorithm|model|system|procedure|strategy|scheme|idea|architecture"
    r"|objective|modification|change|loss|pipeline|agent|policy|work|paper|design)s?\b"
    r"|^(?:it|this)\b(?=\s+(?:[a-z]+ly\s+)?[a-z]+s\b)",
    re.I,
)
_OUR_METHOD = re.compile(
    r"\bour (?:(?:proposed|final|full|best|trained|training|resulting)\s+)?(?:technique|method|approach|framework"
    r"|algorithm|model|system|scheme|agent|policy|architecture|procedure|pipeline|optimi[sz]er|regulari[sz]er"
    r"|variant|student|detector|verifier|gate|rule)s?\b",
    re.I,
)
_FIRST_PERSON = re.compile(r"\b(?:we|our|ours|us)\b", re.I)
_WE_TOO = re.compile(r",?\s+(?:and|while|but|whereas)\s+(?:we|our)\b|;\s*(?:we|our)\b", re.I)
_AUXILIARIES = frozenset("am are were have had can could will would may might must should do did also then".split())
_WE_VERB = re.compile(r"^we\s+(?P<verb>[a-z]+)\b\s*", re.I)


def _standalone(text: str, reference: str | None, *, clause: bool = False) -> str | None:
    """``text`` naming the paper's method (``reference``) where it said "This technique", "It" or "our method";
    None when it still leans on its context ("we", "they").

    ``reference`` None: the method has no name, so "our method" becomes "the
    method" and "This approach" stays. ``clause``: text that follows what the
    paper did in a description, so it may open with its verb ("we obtain X" ->
    "obtains X") and keeps "the" in lower case.
    """
    text = _WE_TOO.split(text.strip(), maxsplit=1)[0]  # "X achieves Y, and we give Z" -> "X achieves Y"
    if reference:
        text = _ANAPHORIC_SUBJECT.sub(reference, text, count=1)
        ours = reference[:1].lower() + reference[1:] if reference.startswith("The ") else reference
        text = _OUR_METHOD.sub(ours, text)
    else:
        text = _OUR_METHOD.sub(lambda m: "the " + m.group().split(maxsplit=1)[1], text)
    opening = _WE_VERB.match(text) if clause else None
    if opening:
        verb = opening.group("verb").lower()
        if verb in _AUXILIARIES or verb.endswith("ed"):
            return None  # "we were", "we obtained": no clean present tense
        text = f"{_third_person(verb).lower()} {text[opening.end():]}"
    if _FIRST_PERSON.search(text) or re.match(r"(?:they|such|those)\b", text, re.I):
        return None
    if not clause and re.match(r"(?:this|these|it)\b", text, re.I):
        return None
    if clause:
        return text if opening else re.sub(r"^(?:The|A|An)\b", lambda m: m.group().lower(), text)
    return _capitalize(text)


def _third_person(verb: str) -> str:
    """ "propose" -> "Proposes", "study" -> "Studies", "asks" -> "Asks": the verb of a description."""
    verb = verb.lower()
    if verb in _DONE_THIRD_PERSON:
        return verb.capitalize()
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1].capitalize() + "ies"
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb.capitalize() + "es"
    return verb.capitalize() + "s"


def _clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a clause end if one is near, else a word end;
    no dangling function word or punctuation left at the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = text[: limit + 1]
    cuts = [m.start() for m in re.finditer(r",\s|;\s|\s(?:which|that|while|where|so that|and|by|to|with)\s|\s\(", room)]
    cut = max((c for c in cuts if c >= 0.6 * limit), default=-1)
    if cut < 0:
        cut = room.rfind(" ")
    words = text[: max(cut, 0)].rstrip(" ,;:(").split()
    while words and (words[-1].lower().strip(",;:") in FUNCTION_WORDS or words[-1].lower() in VERBS):
        words.pop()
    return " ".join(words).rstrip(" ,;:(")


