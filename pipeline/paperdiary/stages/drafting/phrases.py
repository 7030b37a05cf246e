"""Phrases the offline drafter may bold: the paper's names for its method and data, key terms, headline numbers.

Bold marks a noun phrase that names the method, a dataset or the finding, never
a fragment such as "**residual connection around**" or "**employ residual
connections**". Without a part-of-speech tagger, a phrase counts as a noun
phrase when :func:`is_noun_phrase` finds no function word at its edges, no
verb in it and a noun-like last word; names and key terms are also read off
the whole paper (a name recurs, a key term is a phrase the paper repeats).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from paperdiary.text import STOP_WORDS

# Acronyms too common in ML papers to be a paper's name for its method or data.
COMMON_ACRONYMS = frozenset(
    "AI ML NLP CV RL LLM LLMs LM LMs GPU GPUs TPU TPUs CPU CPUs HBM SRAM DRAM API URL IO I/O "
    "CNN CNNs RNN RNNs MLP MLPs SOTA BLEU ROUGE FLOPs FLOP PDF ID IID OOD SGD KL".split()
)
_PREPOSITIONS = frozenset(
    """about above across after against along amid among around as at before behind below beneath beside besides
    between beyond by despite down during except for from in inside into like near of off on onto out outside over
    past per since than through throughout till to toward towards under underneath unlike until up upon versus via
    vs with within without""".split()
)
# Words that cannot open or close a noun phrase: function words, pronouns, auxiliaries, quantifiers
# (CLOSED_CLASS), and the words every paper uses (STOP_WORDS: "method", "approach", "propose").
CLOSED_CLASS = _PREPOSITIONS | frozenset(
    """and or but nor so yet either neither whereas although though because unless while if whether
    this that these those such each every some any no all both much many most more less few little own
    it its they them their we our us he she his her i you your one ones who whom whose which what
    is are was were be been being am do does did done has have had having can could may might will would shall
    should must cannot also very just only even still already again further often always never not rather quite
    instead thus hence therefore however here there where when how why then now well respectively e.g i.e
    aware able based free like specific wise a an the""".split()
)
FUNCTION_WORDS = STOP_WORDS | CLOSED_CLASS
# Verb forms (without a tagger): a phrase holding one is a clause, not a name.
_VERB_STEMS = (
    "improve outperform achieve reduce increase enable yield lead help generalize generalise scale perform benefit "
    "require allow make produce learn reach match exceed surpass speed boost hurt degrade emerge remain become "
    "provide give let cause run converge obtain attain depend matter fail succeed transfer rival serve act "
    "employ apply propose introduce present show find demonstrate observe suggest reveal establish prove confirm "
    "indicate verify argue analyze analyse extend describe develop design evaluate compute generate fine-tune "
    "define build replace combine contribute consist contain include involve keep add remove drop predict "
    "leverage bootstrap compare report follow adopt share convert pack draw eschew rely dispense consider ignore "
    "take get see use solve answer fit extract discuss explore investigate examine study tend seem appear "
    "outline summarize summarise enjoy gain lose stay hold carry decide eschew dispense train work lower raise "
    "halve double recover grow rise fall beat win saturate stop preserve affect determine dominate constitute "
    "represent capture encode exhibit reflect facilitate mitigate prevent stabilize stabilise accelerate simplify "
    "support handle explain arise occur exist lack suffer diverge collapse vary differ correlate decrease"
).split()
VERBS = frozenset(
    "is are was were be been can could may might will would should must does do did has have had cannot".split()
    + [form for v in _VERB_STEMS for form in (v, v + "s", v + "es", v + "d", v + "ed", v.rstrip("e") + "ed",
                                              v.rstrip("e") + "ing", v[:-1] + "ies", v[:-1] + "ied")]
) - frozenset("learning training scaling modeling modelling matching sampling reasoning".split())
_NOUN_ED = frozenset("speed seed need feed embed bed red shred".split())
_INNER_ALLOWED = frozenset("of and - for".split())


def is_noun_phrase(words: Sequence[str], *, max_words: int = 6, loose: bool = False) -> bool:
    """Whether ``words`` read as a whole noun phrase: no function word at either edge, no verb, a noun-like end.

    ``loose``: function words may stand inside ("training on the top 20% of tokens"), as in a finding's subject.
    """
    if not 1 <= len(words) <= max_words:
        return False
    lower = [w.lower() for w in words]
    first, last = lower[0], lower[-1]
    if first in FUNCTION_WORDS or last in FUNCTION_WORDS or first in VERBS or last in VERBS:
        return False
    if last.endswith("ly") or (last.endswith("ed") and last not in _NOUN_ED) or last.endswith("-"):
        return False
    if last.endswith(("-aware", "-based", "-free", "-like", "-specific", "-wise", "-style")):
        return False  # an adjective: "attention algorithms IO-aware"
    for word in lower[1:-1]:
        if word in VERBS or (word in FUNCTION_WORDS and word not in _INNER_ALLOWED and not loose):
            return False
    return any(c.isalpha() for c in last)


# ------------------------------------------------------------------ names


# "FlashAttention", "STaR", "BERT", "GPT-2", "MATH-500".
_MIXED_CASE = re.compile(
    r"(?<![\w-])(?:[A-Z][a-z]+[A-Z][A-Za-z0-9]*|[A-Z]{2,}[a-z]*[A-Z]?[A-Za-z0-9]*|[A-Za-z]+-\d+(?:\.\d+)*[A-Za-z]*)"
    r"(?![\w-])"
)
# A word capitalised mid-sentence ("Transformer"): after a lower-case word, a comma or "the".
_MIDSENTENCE_CAPITAL = re.compile(r"(?<=[a-z,;] )([A-Z][a-z]{3,})\b")


def paper_names(title: str, sentences: Sequence[str], abstract: str) -> list[str]:
    """What the paper calls its method and artefacts, best first.

    Candidates are mixed-case words ("FlashAttention", "STaR", "GPT-2") and words
    capitalised mid-sentence ("Transformer"); they rank by frequency, doubled when
    in the title or abstract. A name must occur at least twice, or be in the title.
    """
    counts: Counter[str] = Counter()
    lowercase: Counter[str] = Counter()
    for text in sentences:
        counts.update(m.group() for m in _MIXED_CASE.finditer(text))
        counts.update(m.group(1) for m in _MIDSENTENCE_CAPITAL.finditer(text))
        lowercase.update(re.findall(r"\b[a-z][a-z-]+\b", text))
    scored = []
    for name, count in counts.items():
        if name in COMMON_ACRONYMS or name.lower() in STOP_WORDS:
            continue
        if name[0].isupper() and name[1:].islower() and lowercase[name.lower()] >= count:
            continue  # an ordinary word that happens to be capitalised ("Experiments")
        in_title = mentions(title, name)
        if count < 2 and not in_title:
            continue
        boost = (2 if in_title else 1) * (2 if name in abstract else 1)
        scored.append((-count * boost, name))
    return [name for _, name in sorted(scored)]


def mentions(text: str, phrase: str) -> bool:
    return find(text, phrase) is not None


def find(text: str, phrase: str) -> re.Match[str] | None:
    """The first whole-word occurrence of ``phrase`` in ``text`` (case-sensitive)."""
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text) if phrase else None


# A proper name of a dataset, benchmark or system: capitalised words, acronyms and numbers after the first word
# ("WMT 2014 English-to-German", "AIME 2024", "Long Range Arena", "ImageNet").
_PROPER_RUN = re.compile(
    r"(?<=[a-z,;:(] )(?:[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)(?:\s+(?:[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|\d{2,4}\b))*"
)


def proper_names(text: str) -> list[str]:
    """Capitalised names in the middle of ``text``: datasets, benchmarks, systems ("WMT 2014 English-to-German").

    Variables ("Q", "M0") and adjectives ("IO-aware") are not names.
    """
    found = []
    for match in _PROPER_RUN.finditer(text):
        name = match.group()
        words = name.split()
        if all(w in COMMON_ACRONYMS or w.isdigit() for w in words) or len(words) > 5:
            continue
        if len(words) == 1 and (_VARIABLE.fullmatch(name) or (name[1:].islower() and len(name) < 4)):
            continue
        if is_noun_phrase(words):
            found.append(name)
    return found


_SYMBOL = re.compile(r"[a-z]\d*|[a-z]{1,2}\d+")  # "x", "m0", "d2": a variable, not a word
_VARIABLE = re.compile(r"[A-Z][a-z]?\d*|[A-Z]\d+[a-z]?")
# Nouns that complete a key term into the phrase a sentence uses: "sequence transduction" + "models".
HEAD_NOUNS = frozenset(
    """model models task tasks performance method methods layer layers network networks benchmark benchmarks
    dataset datasets algorithm algorithms architecture architectures accuracy objective objectives loss function
    functions mechanism mechanisms framework frameworks policy policies agent agents system systems problem
    problems setting settings""".split()
)


# ------------------------------------------------------------------ key terms


def key_terms(sentences: Iterable[str], *, least: int = 3) -> Counter[str]:
    """Phrases of two or three words the paper repeats (``least`` times or more) that read as noun phrases.

    Counted case-blind within sentences, never across punctuation; a term that
    only ever appears inside a longer repeated term is dropped for the longer one.
    """
    counts: Counter[str] = Counter()
    for sentence in sentences:
        for chunk in re.split(r"[,;:()\[\]\u2014\u2013!?\"]|\.(?=\s|$)", sentence):
            words = [w.lower() for w in chunk.split()]
            for n in (2, 3):
                for i in range(len(words) - n + 1):
                    counts[" ".join(words[i : i + n])] += 1
    terms = Counter({t: c for t, c in counts.items() if c >= least and is_noun_phrase(t.split(), max_words=3)
                     and not any(_SYMBOL.fullmatch(w) for w in t.split())})
    for term, count in list(terms.items()):
        if len(term.split()) == 2 and any(term in longer and c >= count for longer, c in terms.items()
                                          if len(longer.split()) == 3):
            del terms[term]
    return terms


# ------------------------------------------------------------------ numbers

# A headline number with what it measures: "28.4 BLEU", "63.5% accuracy", "3× speedup", "4.2 points".
_METRIC_NOUNS = (
    r"accuracy|speed-?ups?|improvements?|reductions?|gains?|lift|points?|perplexity|error(?: rate)?|win rate"
    r"|success rate|solve rate|F1|BLEU|ROUGE(?:-\w+)?|AP|mAP|FID|PSNR|pass@\d+|EM|WER|CER|score|throughput"
)
_METRIC = re.compile(
    rf"(?<![\w.])\d+(?:\.\d+)?\s*(?:%|×|x\b|-?fold)?\s+(?:(?:absolute|relative|average|mean|top-\d)\s+)?"
    rf"(?:{_METRIC_NOUNS})\b"
    rf"|(?<![\w.])\d+(?:\.\d+)?\s*(?:%|×|x\b|-?fold)\s+(?:faster|fewer|less|more|higher|lower|smaller|larger)\b"
    r"(?:\s+[a-z]+)?",
)


def metric_phrase(text: str) -> str | None:
    """The first headline number of ``text`` with what it measures, if any."""
    match = _METRIC.search(text)
    if not match:
        return None
    words = match.group().split()
    if words[-1].lower() in FUNCTION_WORDS or words[-1].lower() in VERBS:
        words = words[:-1]
    return " ".join(words)


__all__ = [
    "CLOSED_CLASS",
    "COMMON_ACRONYMS",
    "FUNCTION_WORDS",
    "HEAD_NOUNS",
    "VERBS",
    "find",
    "is_noun_phrase",
    "key_terms",
    "mentions",
    "metric_phrase",
    "paper_names",
    "proper_names",
]


# -- people: names from the author block and the references are never bold

_NAME_WORD = re.compile(r"[A-Z][^\W\d_]*(?:['’-][A-Z]?[^\W\d_]+)*")
# Where a reference's authors end: "et al.", a full stop not after an initial, or after one but before a title's
# first words ("Vaswani, A., Shazeer, N. Attention is ..."), or its year.
_AUTHORS_END = re.compile(r"\bet\s+al\.|(?<!\b[A-Z])\.\s|\.\s(?=[A-Z][a-z]+\s+[a-z])|\(\s*(?:19|20)\d\d|,\s*(?:19|20)\d\d\b")
_NOT_NAMES = frozenset("and et al in of the von van der de da di le la du".split())


def person_names(authors: Iterable[str], references: str) -> frozenset[str]:
    """The words of people's names (lower case): the paper's authors' and those heading each reference."""
    names = {w.lower() for author in authors for w in _NAME_WORD.findall(author) if len(w) > 1}
    for reference in re.split(r"\n+|(?=\[\d+\]\s)", references):
        reference = re.sub(r"^\s*\[\d+\]\s*", "", reference)
        end = _AUTHORS_END.search(reference)
        part = reference[: end.start()] if end else ""
        words = [w for w in part.replace(",", " ").split() if w.lower() not in _NOT_NAMES]
        if len(part) > 300 or not words or sum(w[:1].isupper() for w in words) < 0.8 * len(words):
            continue  # not an author list: a title, a sentence
        names.update(w.lower() for w in _NAME_WORD.findall(part) if len(w) > 1)
    return frozenset(names - _NOT_NAMES)


def is_person(phrase: str, names: frozenset[str]) -> bool:
    """Whether ``phrase`` is a person's name or names ("Shazeer", "Finn et al.", "Erich Elsen‡" read "Elsenz")."""
    words = [w for w in re.split(r"[\s,]+", phrase.replace("et al.", " ")) if w and w.lower() not in _NOT_NAMES]
    if not words or not names:
        return False

    def named(word: str) -> bool:
        bare = word.strip(".'’()")
        if not bare[:1].isupper():
            return False
        lower = bare.lower()
        # A footnote mark read as a letter or digit may be glued to the name.
        return lower in names or (len(lower) > 3 and lower[:-1] in names)

    return all(named(w) for w in words)
