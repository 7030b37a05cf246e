"""The offline extractive drafter: a paper in, a Draft out, without an LLM.

The default when no LLM is configured. It invents nothing: every claim and
lesson is a sentence of the paper (citations dropped, key phrase in bold) with
that sentence as its quote. Quotes are verbatim up to white space and control
characters. Literal ``*`` and backticks are dropped from displayed text so the
only markdown in a draft is the bold this module adds. The result is held to the
Draft contract (:mod:`paperdiary.stages.drafting.contract`) like any drafter's.
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
    LIST_LIMITS,
    OFFLINE_DRAFTER,
    Claim,
    Draft,
    Lesson,
    conform_draft,
    short_name,
    title_name,
)
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
    best-matching one, or None.
    """
    title = clean_text(meta.title or paper.title or "")
    name = short_name(title)
    doc = _Document.build(meta, paper, title)
    picker = _Picker(doc)

    key_points = picker.key_points()
    used = set(key_points)
    methods = picker.methods(exclude=used)
    results = picker.results(exclude=used | set(methods))
    limitations = picker.limitations()
    lessons = picker.lessons()

    context = f"{title} {doc.abstract_text}"
    draft = Draft(
        short_name=name,
        description=picker.description(),
        key_points=[doc.claim(s) for s in key_points],
        key_methods=[doc.claim(s) for s in methods],
        results=[doc.claim(s, bold=False) for s in results],
        limitations=[doc.claim(s, bold=False) for s in limitations],
        lessons=[doc.lesson(s, paper_name(title), themes, context) for s in lessons],
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


@dataclass(frozen=True, eq=False)  # identity: two equal sentences in two places are two candidates
class _Sentence:
    text: str  # verbatim, cleaned: the quote
    role: _Role
    section: str  # title of its section, "" for the metadata abstract
    rank: int  # among the usable sentences of its section: 0 opens it
    plain: str  # without citations, for matching and counting
    display: str  # as shown in the entry (see _display)
    terms: tuple[str, ...]  # content words, lower-case and singular
    order: int = 0  # reading order, abstract first


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
# Citations: [12], [3, 7-9], [Smith et al., 2020; Doe, 2021], (Smith and Doe, 2020).
# Each branch starts with a bracket so the regex engine can skip ahead to one; the
# space left behind is collapsed by the callers that show text.
_CITATION = re.compile(
    r"\[\s*\d+(?:\s*[-–,]\s*\d+)*\s*\]"
    r"|\[[^\[\]]{0,200}?\b(?:19|20)\d\d[a-z]?\s*\]"
    r"|\((?=[^()]{0,200}?[A-Z])[^()]{0,200}?\b(?:19|20)\d\d[a-z]?\)"
)


_NEEDS_OBJECT = re.compile(r"\b(?:to|in|by|from|of|see|and|with|as|than|like|following)\s*$", re.I)


def _strip_citations(text: str) -> str:
    return _CITATION.sub("", text)


def _drop_unless_needed(match: re.Match[str]) -> str:
    return match.group() if _NEEDS_OBJECT.search(match.string, 0, match.start()) else ""


def _usable(text: str) -> bool:
    """Whether a sentence is prose worth quoting, not PDF debris.

    Rejects fragments (lower-case start, no final stop), captions, equations,
    bibliography entries, addresses, citation lists and very short or long runs.
    """
    words = text.split()
    if not _MIN_WORDS <= len(words) <= _MAX_WORDS:
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
    return len(_strip_citations(text).split()) >= _MIN_WORDS


# ------------------------------------------------------------------ the document


class _Document:
    """The paper's candidate sentences with their roles, and the statistics to score them."""

    def __init__(self, sentences: list[_Sentence], title: str, abstract_source: str, banded: list[_Role],
                 considered: int):
        self.sentences = sentences
        self.title = title
        self.abstract_source = abstract_source
        self.banded = banded  # roles assigned by position, for want of section titles
        self.considered = considered
        self.abstract = [s for s in sentences if s.role == _Role.ABSTRACT]
        self.abstract_text = " ".join(s.text for s in self.abstract)
        self._idf = self._inverse_document_frequencies()
        self._reference = self._vector(_terms(title) * 2 + tuple(t for s in self.abstract for t in s.terms))
        self._salience = self._term_salience()
        self.names = _paper_names(title, sentences)

    @classmethod
    def build(cls, meta: PaperMeta, paper: ExtractedPaper, title: str) -> _Document:
        """Split the paper into usable sentences and give each a role."""
        meta_abstract = clean_text(meta.abstract)
        parts: list[tuple[list[str], _Role, str]] = []  # (sentences, role, section title)
        if meta_abstract:
            parts.append((split_sentences(meta_abstract), _Role.ABSTRACT, ""))
        sections = [s for s in paper.body_sections if s.kind != "front"]
        for section, role in zip(sections, _section_roles(sections), strict=True):
            if role == _Role.ABSTRACT and meta_abstract:
                continue  # the metadata abstract is the cleaner copy
            texts = [t for block in _blocks(section.text) for t in split_sentences(clean_text(block))]
            parts.append((texts, role, clean_text(section.title)))

        sentences = [
            _Sentence(text, role, section, rank, plain, _display(text), _terms(plain))
            for texts, role, section in parts
            for rank, text in enumerate(t for t in texts if _usable(t))
            for plain in [_strip_citations(text)]
        ]
        if meta_abstract:
            source = "metadata"
        else:
            source = "section" if any(s.role == _Role.ABSTRACT for s in sentences) else "first sentences"
        sentences, banded = _assign_missing_roles(sentences, abstract_missing=source == "first sentences")
        # Abstract first, since the metadata abstract is not in the sections at all.
        sentences.sort(key=lambda s: s.role != _Role.ABSTRACT)
        sentences = [replace(s, order=i) for i, s in enumerate(sentences)]
        return cls(sentences, title, source, banded, considered=sum(len(texts) for texts, _, _ in parts))

    # -- statistics

    def _inverse_document_frequencies(self) -> dict[str, float]:
        df = Counter(t for s in self.sentences for t in dict.fromkeys(s.terms))
        n = len(self.sentences)
        return {t: math.log((n + 1) / (d + 1)) + 1 for t, d in df.items()}

    def _vector(self, terms: Iterable[str]) -> dict[str, float]:
        counts = Counter(terms)
        return {t: c * self._idf.get(t, 1.0) for t, c in counts.items()}

    def _term_salience(self) -> dict[str, float]:
        """How characteristic a word is of this paper: frequent here, yet not in every sentence."""
        tf = Counter(t for s in self.sentences for t in s.terms)
        return {t: math.log1p(c) * self._idf[t] for t, c in tf.items()}

    def similarity(self, sentence: _Sentence) -> float:
        """Cosine similarity (TF-IDF) of a sentence to the title and abstract."""
        vector = self._vector(sentence.terms)
        dot = math.fsum(w * self._reference.get(t, 0.0) for t, w in vector.items())
        norm = math.sqrt(math.fsum(w * w for w in vector.values())) * math.sqrt(
            math.fsum(w * w for w in self._reference.values())
        )
        return dot / norm if norm else 0.0

    # -- output

    def claim(self, sentence: _Sentence, *, bold: bool = True) -> Claim:
        text = sentence.display
        if bold:
            text = _bold(text, self.key_phrase(text))
        return Claim(text=text, quote=sentence.text, verified=True)

    def lesson(self, sentence: _Sentence, name: str, themes: Sequence[str], context: str) -> Lesson:
        text, kind = self.rewrite_as_lesson(sentence, name)
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

    def rewrite_as_lesson(self, sentence: _Sentence, name: str) -> tuple[str, str]:
        """One standalone sentence, key phrase in bold; and its kind.

        "We show that X improves Y." -> "**X** improves Y."
        "We propose X, which ..."    -> "Name proposes **X**, which ..." (see ``paper_name``)
        The link to the entry is not part of the text: the merger adds it in the README's style.
        """
        text = sentence.display.rstrip(".!? ")
        finding = _FINDING.search(text)
        if finding:
            clause = _capitalize(finding.group("clause"))
            return f"{_bold(clause, self.key_phrase(clause))}.", "Finding"
        proposal = _PROPOSAL.search(text)
        if proposal:
            obj = proposal.group("obj")
            verb = proposal.group("verb").lower()
            if obj.startswith(f"{name}, "):  # "We propose FlashAttention, an ..." -> "**FlashAttention**: an ..."
                return f"**{name}**: {obj[len(name) + 2:]}.", "Contribution"
            return f"{name} {verb}s {_bold(obj, self.key_phrase(obj, proposal=True))}.", "Contribution"
        return f"{_bold(text, self.key_phrase(text))}.", "Key point"

    def key_phrase(self, text: str, *, proposal: bool = False) -> str:
        """The phrase to bold in ``text``: what is proposed, what a finding is about, a
        headline number, the paper's name for its method, or else its most salient words."""
        finders: list[Callable[[str], str | None]] = [
            self._proposed_phrase if not proposal else self._noun_phrase,
            self._finding_subject,
            _metric_phrase,
            self._name_in,
            self._salient_words,
        ]
        return next((p for p in (f(text) for f in finders) if p), "")

    def _proposed_phrase(self, text: str) -> str | None:
        """What "we propose/introduce ..." introduces."""
        match = _PROPOSAL.search(text)
        return self._noun_phrase(match.group("obj")) if match else None

    def _noun_phrase(self, text: str) -> str | None:
        """The paper's name for what ``text`` introduces, or its opening noun phrase."""
        head = " ".join(text.split()[:15])
        name = self._name_in(head)
        if name:
            return name
        phrase = re.split(r"[,;:(]| (?:that|which|to|for|based|by|with|using|where|in|on|of)\b", text, maxsplit=1)[0]
        words = phrase.split()
        while words and words[0].lower() in ("a", "an", "the", "new", "novel", "simple", "general"):
            words = words[1:]
        if not 1 <= len(words) <= 6 or words[0].lower() in STOP_WORDS or not _terms(" ".join(words)):
            return None  # "what is, to our knowledge, ..." names nothing
        if len(words) == 1 and words[0].lower() in _GENERIC_HEADS:
            return None  # "a technique to ...": the salient words say more
        return " ".join(words)

    def _finding_subject(self, text: str) -> str | None:
        """What a finding ("we show that X improves ...") or plain statement is about.

        The subject is the words before the first known verb; a plain statement's
        subject counts only when it contains one of the paper's names.
        """
        match = _FINDING.search(text)
        words = (match.group("clause") if match else text).split()
        for i, word in enumerate(words[:8]):
            bare = word.strip(",;:").lower()
            adverb_then_verb = bare.endswith("ly") and i + 1 < len(words) and words[i + 1].lower() in _VERBS
            if i and (bare in _VERBS or adverb_then_verb):
                subject = " ".join(words[:i]).strip(",;: ")
                return self._name_in(subject) or (subject if match and i <= 6 else None)
        return None

    def _name_in(self, text: str) -> str | None:
        """The best-ranked of the paper's names that ``text`` mentions."""
        return next((n for n in self.names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)), None)

    def _salient_words(self, text: str) -> str | None:
        """The run of one to three adjacent noun-like words with the highest salience."""
        tokens = list(re.finditer(r"[A-Za-z][A-Za-z0-9'-]*", text))
        best, best_score = None, 0.0
        for i in range(len(tokens)):
            score = 0.0
            for j in range(i, min(i + 3, len(tokens))):
                word = tokens[j].group()
                term = _terms(word)
                if not term or not _noun_like(word) or (j > i and text[tokens[j - 1].end() : tokens[j].start()] != " "):
                    break
                score += self._salience.get(term[0], 0.0)
                if score > best_score:
                    best, best_score = text[tokens[i].start() : tokens[j].end()], score
        return best

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


# ------------------------------------------------------------------ names & phrases

# Acronyms too common in ML papers to be a paper's name for its method.
_COMMON_ACRONYMS = frozenset(
    "AI ML NLP CV RL LLM LLMs LM LMs GPU GPUs TPU TPUs CPU CPUs HBM SRAM DRAM API URL IO I/O "
    "CNN CNNs RNN RNNs MLP MLPs SOTA BLEU ROUGE FLOPs FLOP PDF ID IID".split()
)
_GENERIC_HEADS = frozenset("technique method approach framework algorithm way model system architecture".split())


def _paper_names(title: str, sentences: Sequence[_Sentence]) -> list[str]:
    """What the paper calls its method and artefacts, best first.

    Candidates are mixed-case words ("FlashAttention", "STaR", "GPT-2") and words
    capitalised mid-sentence ("Transformer"); they rank by frequency, doubled when
    in the title or abstract. A name must occur at least twice, or be in the title.
    """
    counts: Counter[str] = Counter()
    lowercase: Counter[str] = Counter()
    for s in sentences:
        text = s.plain
        counts.update(m.group() for m in _MIXED_CASE.finditer(text))
        counts.update(m.group(1) for m in _MIDSENTENCE_CAPITAL.finditer(text))
        lowercase.update(w for w in re.findall(r"\b[a-z][a-z-]+\b", text))
    abstract = " ".join(s.text for s in sentences if s.role == _Role.ABSTRACT)
    scored = []
    for name, count in counts.items():
        if name in _COMMON_ACRONYMS or name.lower() in STOP_WORDS:
            continue
        if name[0].isupper() and name[1:].islower() and lowercase[name.lower()] >= count:
            continue  # an ordinary word that happens to be capitalised ("Experiments")
        in_title = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", title) is not None
        if count < 2 and not in_title:
            continue
        boost = (2 if in_title else 1) * (2 if name in abstract else 1)
        scored.append((-count * boost, name))
    return [name for _, name in sorted(scored)]


# "FlashAttention", "STaR" or "BERT", "GPT-2".
_MIXED_CASE = re.compile(
    r"(?<![\w-])(?:[A-Z][a-z]+[A-Z][A-Za-z0-9]*|[A-Z]{2,}[a-z]*[A-Z]?[A-Za-z]*|[A-Za-z]+-\d[\w.]*)(?![\w-])"
)
_MIDSENTENCE_CAPITAL = re.compile(r"(?<=[a-z,;] )([A-Z][a-z]{3,})\b")


_VERB_STEMS = (
    "improve outperform achieve reduce increase enable yield lead help generalize scale perform work "
    "benefit require allow make produce learn reach match exceed surpass speed boost hurt degrade emerge "
    "remain become provide give let cause train run converge obtain attain result depend matter fail "
    "succeed transfer rival serve act"
).split()
_VERBS = frozenset(
    "is are was were can could may might will would should must does do did has have had cannot".split()
    + [form for v in _VERB_STEMS for form in (v, v + "s", v + "es", v + "d", v + "ed", v.rstrip("e") + "ed")]
)

_FINDING = re.compile(
    r"(?:^|\b)(?:we|our (?:results|experiments|analysis|findings|evaluations?))\s+(?:[a-z]+ly\s+|also\s+|further\s+)?"
    r"(?:show|find|demonstrate|observe|suggest|reveal|establish|prove|confirm|indicate|verify)(?:s|ed)?\s+that\s+"
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
# A number that reports a measurement: not a year, a reference or a numbered thing.
_MEASURE = re.compile(
    r"(?<![\w.])(?<!Table )(?<!Figure )(?<!Fig\. )(?<!Section )(?<!Sec\. )(?<!Eq\. )(?<!Appendix )(?<!Algorithm )"
    r"(?!(?:19|20)\d\d\b)\d+(?:[.,]\d+)?(?:\s*(?:%|×|x\b|-?fold|times))?"
)
_METRIC = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s*(?:%|×|x\b|-?fold)(?:\s+(?:faster|speedup|higher|lower|fewer|less|more|better"
    r"|improvement|reduction|larger|smaller|accuracy))?|(?<![\w.])\d+\.\d+\s+[A-Z][A-Za-z0-9-]*"
)
_LIMITATION_STRONG = re.compile(
    r"\blimitation|\bfuture (?:work|direction|research)|\bwe leave\b|\bdrawback|\bshortcoming|\bremains? (?:an )?open"
    r"|\bopen (?:question|problem)|\bnot (?:yet )?(?:address|explore)",
    re.I,
)
_LIMITATION_WEAK = re.compile(r"\b(?:however\b|although\b|cannot\b|fails? to\b|unclear\b|challeng|restrict)", re.I)
# Experimental set-up: numbers in it are settings, not results.
_QUOTED = re.compile(r"[\u201c\u201d]|\"[^\"]{25,}\"")
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


def _metric_phrase(text: str) -> str | None:
    """A headline number ("28.4 BLEU", "15% faster"), in sentences that report a result."""
    if not _RESULT_CUE.search(text):
        return None
    match = _METRIC.search(text)
    return match.group().strip() if match else None


def _noun_like(word: str) -> bool:
    """Without a tagger: not a known verb form, adverb or past participle."""
    lower = word.lower()
    return lower not in _VERBS and not lower.endswith(("ly", "ed"))


def _display(sentence: str) -> str:
    """A sentence as shown in the entry: no citations, no markdown characters.

    A citation the grammar needs ("similar to [30].") stays.
    """
    text = _CITATION.sub(_drop_unless_needed, sentence).replace("*", "").replace("`", "")
    return re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))


def _bold(text: str, phrase: str) -> str:
    """``text`` with the first whole-word occurrence of ``phrase`` in **bold**."""
    if not phrase:
        return text
    match = re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text)
    if not match:
        return text
    return f"{text[: match.start()]}**{match.group()}**{text[match.end() :]}"


def _capitalize(text: str) -> str:
    """Upper-case the first letter, unless the first word is a name like "xLSTM"."""
    first = text.split(maxsplit=1)[0] if text else ""
    return text if any(c.isupper() for c in first[1:]) else text[:1].upper() + text[1:]


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

    def key_points(self) -> list[_Sentence]:
        """Contribution sentences of the abstract and introduction."""
        def score(s: _Sentence) -> float:
            return (self._base(s) + (0.6 if _CONTRIBUTION.search(s.text) else 0.0)
                    + (0.3 if s.role == _Role.ABSTRACT else 0.0) + (0.2 if _RESULT_CUE.search(s.text) else 0.0))

        main = self._of(_Role.ABSTRACT) + [s for s in self._of(_Role.INTRO) if _CONTRIBUTION.search(s.text)]
        backup = [s for s in self.doc.sentences if s.role not in (_Role.RELATED,) and s not in main]
        return _pick(main, score, LIST_LIMITS["key_points"], backup=backup)

    def methods(self, *, exclude: set[_Sentence]) -> list[_Sentence]:
        names = self.doc.names[:3]

        def score(s: _Sentence) -> float:
            return (self._base(s) + (0.3 if _METHOD_CUE.search(s.text) else 0.0)
                    + (0.2 if re.search(r"\b(?:we|our)\b", s.text, re.I) else 0.0)
                    + (0.2 if any(n in s.text for n in names) else 0.0)
                    + (0.15 if s.rank < 2 else 0.0)  # sections open with an overview
                    - (0.2 if _MEASURE.search(s.plain) else 0.0))  # set-up details

        main = [s for s in self._of(_Role.METHOD) if s not in exclude]
        backup = [s for s in self._of(_Role.ABSTRACT, _Role.INTRO) if s not in exclude and _METHOD_CUE.search(s.text)]
        return _pick(main, score, LIST_LIMITS["key_methods"], backup=backup)

    def results(self, *, exclude: set[_Sentence]) -> list[_Sentence]:
        """Sentences reporting measurements, or at least comparisons."""
        def score(s: _Sentence) -> float:
            measured = bool(_MEASURE.search(s.plain))
            headline = bool(_METRIC.search(s.text))
            return (self._base(s) + (0.6 if measured else 0.0) + (0.3 if headline else 0.0)
                    + 0.1 * min(len(_RESULT_CUE.findall(s.text)), 3) + (0.2 if s.role == _Role.RESULTS else 0.0)
                    - (0.3 if _SETUP.search(s.text) else 0.0))

        roles = (_Role.RESULTS, _Role.ABSTRACT, _Role.CONCLUSION, _Role.INTRO)
        pool = [s for s in self._of(*roles) if _RESULT_CUE.search(s.text)]
        main = [s for s in pool if s not in exclude]
        return _pick(main, score, LIST_LIMITS["results"], backup=[s for s in pool if s in exclude])

    def limitations(self) -> list[_Sentence]:
        """Limitations the paper admits: anywhere outside the introduction and related
        work when stated outright, in the conclusion or discussion when only hedged."""
        def score(s: _Sentence) -> float:
            return self._base(s) + (1.0 if _LIMITATION_STRONG.search(s.text) else 0.3)

        roles = (_Role.METHOD, _Role.RESULTS, _Role.CONCLUSION, _Role.OTHER)
        pool = [s for s in self._of(*roles) if _LIMITATION_STRONG.search(s.text)]
        pool += [s for s in self._of(_Role.CONCLUSION) if s not in pool and _LIMITATION_WEAK.search(s.text)]
        return _pick(pool, score, LIST_LIMITS["limitations"])

    def lessons(self) -> list[_Sentence]:
        """Findings ("we show that ...") before proposals; the best sentence if neither."""
        def score(s: _Sentence) -> float:
            finding = _FINDING.search(s.display)
            return (self._base(s) + (0.5 if finding else 0.0)
                    + (0.3 if s.role in (_Role.ABSTRACT, _Role.CONCLUSION) else 0.0))

        pool = [s for s in self._of(_Role.ABSTRACT, _Role.INTRO, _Role.RESULTS, _Role.CONCLUSION)
                if (_FINDING.search(s.display) or _PROPOSAL.search(s.display))
                and not _QUOTED.search(s.text)]  # quoted examples make poor lessons
        if pool:
            return _pick(pool, score, LIST_LIMITS["lessons"], keep=0.45)  # candidates for the user to choose from
        return self.key_points()[:1]

    def description(self) -> str:
        """The index line: "Proposes X, which ..." from the abstract, else its first sentence."""
        for s in self.doc.abstract:
            match = _PROPOSAL.search(s.display)
            if match:
                return one_line(f"{match.group('verb').capitalize()}s {match.group('obj')}")
        first = self.doc.abstract or self.doc.sentences
        return one_line(first[0].display) if first else self.doc.title


def _pick(
    candidates: Sequence[_Sentence],
    score: Callable[[_Sentence], float],
    limits: tuple[int, int],
    *,
    backup: Sequence[_Sentence] = (),
    keep: float = 0.6,
) -> list[_Sentence]:
    """The best candidates, in reading order: those scoring at least ``keep`` times the
    best one, no more than ``limits[1]``, topped up from the best of ``backup`` to
    ``limits[0]``. Near-duplicates (most words shared with a chosen sentence) are skipped."""
    fewest, most = limits
    scores = {s: score(s) for s in [*candidates, *backup]}
    ranked = sorted(candidates, key=lambda s: (-scores[s], s.order))
    chosen: list[_Sentence] = []
    top = scores[ranked[0]] if ranked else 0.0
    for s in ranked:
        if len(chosen) == most or (len(chosen) >= fewest and scores[s] < keep * top):
            break
        if not any(_overlap(s, c) > 0.6 for c in chosen):
            chosen.append(s)
    for s in sorted(backup, key=lambda s: (-scores[s], s.order)):
        if len(chosen) >= fewest:
            break
        if s not in chosen and not any(_overlap(s, c) > 0.6 for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.order)


def _overlap(a: _Sentence, b: _Sentence) -> float:
    """Share of the shorter sentence's words that the other has too."""
    x, y = set(a.terms), set(b.terms)
    return len(x & y) / min(len(x), len(y)) if x and y else 0.0
