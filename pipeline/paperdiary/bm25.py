"""BM25: the one ranking function over bags of terms, for search and for placing lessons.

A document is a mapping of term -> frequency (weighted frequencies are fine: a
theme's name words count several times); a query is a mapping of term -> weight
(1 per occurrence for a plain query). A term's inverse document frequency is
Lucene's ``log(1 + (N - df + 0.5) / (df + 0.5))``, never negative.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

K1 = 1.2  # how quickly a term's repetitions stop counting
B = 0.75  # how much a long document is discounted


def idf(document_frequency: int, documents: int) -> float:
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def query_weights(query: Iterable[str] | Mapping[str, float]) -> dict[str, float]:
    """Terms (one weight per occurrence) or a term -> weight mapping, as a term -> weight dict."""
    if isinstance(query, Mapping):
        return dict(query)
    return dict(Counter(query))


class BM25:
    """BM25 scores of queries against a fixed set of documents, from postings (term -> [(document, frequency)])."""

    def __init__(self, postings: Mapping[str, Sequence[Sequence[float]]], lengths: Sequence[float], *,
                 k1: float = K1, b: float = B):
        self.postings = postings
        self.lengths = list(lengths)
        self.k1, self.b = k1, b
        self.average = (sum(self.lengths) / len(self.lengths) or 1.0) if self.lengths else 1.0

    @classmethod
    def of(cls, documents: Sequence[Mapping[str, float]], *, k1: float = K1, b: float = B) -> BM25:
        postings: dict[str, list[tuple[int, float]]] = {}
        for number, document in enumerate(documents):
            for term, frequency in document.items():
                if frequency:
                    postings.setdefault(term, []).append((number, frequency))
        return cls(postings, [sum(document.values()) for document in documents], k1=k1, b=b)

    def __len__(self) -> int:
        return len(self.lengths)

    def idf(self, term: str) -> float:
        """The term's inverse document frequency (a term no document has gets the highest)."""
        return idf(len(self.postings.get(term, ())), len(self.lengths))

    def scores(self, query: Iterable[str] | Mapping[str, float]) -> dict[int, float]:
        """Document number -> score, for the documents holding at least one of the query's terms."""
        out: dict[int, float] = {}
        for term, weight in query_weights(query).items():
            posting = self.postings.get(term)
            if not posting:
                continue
            term_idf = weight * self.idf(term)
            for number, frequency in posting:
                number = int(number)
                norm = self.k1 * (1 - self.b + self.b * self.lengths[number] / self.average)
                out[number] = out.get(number, 0.0) + term_idf * frequency * (self.k1 + 1) / (frequency + norm)
        return out

    def ideal(self, query: Iterable[str] | Mapping[str, float]) -> float:
        """An upper bound of any document's score: every query term present and saturated (at least 1e-12)."""
        total = sum(weight * self.idf(term) for term, weight in query_weights(query).items())
        return max(total * (self.k1 + 1), 1e-12)

    def ranked(self, query: Iterable[str] | Mapping[str, float]) -> list[tuple[float, int]]:
        """(score, document number) of every document, best first; ties in document order."""
        scores = self.scores(query)
        return sorted(((scores.get(n, 0.0), n) for n in range(len(self.lengths))), key=lambda x: (-x[0], x[1]))
