"""Search the diary: BM25 over the entries (title, description, key points) and the README's lessons.

The index is built from the catalog and the README, and kept in the state
folder keyed by the catalog's fingerprint (every file's path, size and mtime,
the README's, git's HEAD): a warm search stats the diary, loads the index and
scores, reading no entry. Terms are :mod:`paperdiary.terms`'s (words folded to
lower case, lightly stemmed, without stop words; numbers kept); a title's words
count twice; scores are :mod:`paperdiary.bm25`'s.

A hit is an entry or a lesson, with a snippet around the first match and the
offsets of every matched word in it (the CLI makes them bold on a terminal).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from paperdiary.diary.catalog import Catalog, CatalogEntry
from paperdiary.diary.describe import inline_text
from paperdiary.diary.readme import README_NAME, Readme, ReadmeError, iter_lessons
from paperdiary.bm25 import BM25
from paperdiary.fsutil import atomic_write_text
from paperdiary.settings import Settings
from paperdiary.terms import words

INDEX_VERSION = 2  # 2: the shared terms (stemmed, ligatures read through NFKC)
INDEX_FILE = "search-index.json"  # in the state folder's cache
TITLE_WEIGHT = 2
SNIPPET_CHARS = 160


def terms(text: str) -> list[str]:
    """Search's terms of ``text``: :func:`paperdiary.terms.terms`, numbers and single letters kept ("GPT 4")."""
    return [word.term for word in words(text, numbers=True, min_length=1) if word.term]


@dataclass(frozen=True)
class Document:
    """What one hit can be: an entry or a README lesson."""

    kind: str  # "entry" or "lesson"
    path: str  # the entry's path; for a lesson, README.md
    title: str  # the entry's title; for a lesson, its theme
    fields: tuple[str, ...]  # searched text: entry (title, description, key points); lesson (its text,)
    date_read: str = ""  # ISO date of an entry
    folder: str = ""
    themes: tuple[str, ...] = ()  # an entry's README themes; a lesson's own theme
    cites: tuple[str, ...] = ()  # a lesson's entries

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "title": self.title, "fields": list(self.fields),
                "date_read": self.date_read, "folder": self.folder, "themes": list(self.themes),
                "cites": list(self.cites)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Document:
        return cls(data["kind"], data["path"], data["title"], tuple(data["fields"]), data["date_read"],
                   data["folder"], tuple(data["themes"]), tuple(data["cites"]))


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    folder: str = ""  # an entry's folder or one below it
    theme: str = ""  # a README theme (case ignored)


@dataclass(frozen=True)
class Hit:
    document: Document
    score: float
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # [start, end) of each matched word in ``snippet``

    def as_json(self) -> dict[str, Any]:
        doc = self.document
        return {"kind": doc.kind, "path": doc.path, "title": doc.title, "score": round(self.score, 4),
                "snippet": self.snippet, "highlights": [list(span) for span in self.highlights],
                "date_read": doc.date_read or None, "folder": doc.folder, "themes": list(doc.themes),
                "cites": list(doc.cites)}


class SearchIndex:
    """BM25 postings over documents."""

    def __init__(self, documents: list[Document], postings: dict[str, list[list[int]]], lengths: list[int]):
        self.documents = documents
        self.postings = postings  # term -> [[document, term frequency], ...]
        self.lengths = lengths
        self._bm25 = BM25(postings, lengths)

    @classmethod
    def build(cls, documents: list[Document]) -> SearchIndex:
        postings: dict[str, list[list[int]]] = {}
        lengths = []
        for n, doc in enumerate(documents):
            counts: Counter[str] = Counter()
            for k, text in enumerate(doc.fields):
                for word in terms(text):
                    counts[word] += TITLE_WEIGHT if doc.kind == "entry" and k == 0 else 1
            lengths.append(sum(counts.values()))
            for word, tf in counts.items():
                postings.setdefault(word, []).append([n, tf])
        return cls(documents, postings, lengths)

    def search(self, query: str, filters: Filters = Filters(), limit: int = 10) -> list[Hit]:
        wanted = list(dict.fromkeys(terms(query)))
        scores = self._bm25.scores(wanted)
        by_path = {doc.path: doc for doc in self.documents if doc.kind == "entry"}
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.documents[item[0]].path))
        hits = []
        for n, score in ranked:
            doc = self.documents[n]
            if _passes(doc, filters, by_path):
                hits.append(Hit(doc, score, *snippet(doc, set(wanted))))
                if len(hits) >= limit:
                    break
        return hits

    def to_json(self, fingerprint: str) -> str:
        return json.dumps({"version": INDEX_VERSION, "fingerprint": fingerprint,
                           "documents": [doc.as_json() for doc in self.documents], "lengths": self.lengths,
                           "postings": self.postings}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, fingerprint: str) -> SearchIndex | None:
        """The index a cache file holds, when it was built for this fingerprint; else None."""
        try:
            data = json.loads(text)
            if data.get("version") != INDEX_VERSION or data.get("fingerprint") != fingerprint:
                return None
            return cls([Document.from_json(d) for d in data["documents"]], data["postings"], data["lengths"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _passes(doc: Document, filters: Filters, entries: dict[str, Document]) -> bool:
    """An entry passes on its own date, folder and themes; a lesson on its theme and the entries it cites."""
    if filters.theme and filters.theme.casefold() not in {t.casefold() for t in doc.themes}:
        return False
    subjects = [doc] if doc.kind == "entry" else [entries[p] for p in doc.cites if p in entries]
    if filters.since is not None:
        subjects = [s for s in subjects if s.date_read and s.date_read >= filters.since.isoformat()]
    if filters.folder:
        folder = filters.folder.strip("/")
        subjects = [s for s in subjects if s.folder == folder or s.folder.startswith(folder + "/")]
    return bool(subjects) or (doc.kind == "lesson" and filters.since is None and not filters.folder)


def snippet(doc: Document, wanted: set[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A window of the first field that matches (description before key points), and the matches in it."""
    order = [1, 2, 0] if doc.kind == "entry" else [0]
    for k in order:
        text = doc.fields[k] if k < len(doc.fields) else ""
        matches = [w for w in words(text, numbers=True, min_length=1) if w.term in wanted]
        if not matches:
            continue
        start = max(0, matches[0].start - SNIPPET_CHARS // 4)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < matches[0].start else start
        end = min(len(text), start + SNIPPET_CHARS)
        if end < len(text):
            space = text.rfind(" ", matches[0].end, end)
            end = space if space > 0 else end
        prefix, suffix = ("…" if start else ""), ("…" if end < len(text) else "")
        shown = prefix + text[start:end] + suffix
        spans = tuple((m.start - start + len(prefix), m.end - start + len(prefix))
                      for m in matches if m.end <= end)
        return shown, spans
    text = doc.fields[1] if doc.kind == "entry" and len(doc.fields) > 1 and doc.fields[1] else doc.fields[0]
    return (text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else "")), ()


# --------------------------------------------------------------------------- building, caching


def documents(settings: Settings, entries: list[CatalogEntry]) -> list[Document]:
    docs = [Document("entry", e.relpath, e.title, (e.title, e.description, e.key_points), e.date_read.isoformat(),
                     e.folder, e.themes) for e in entries]
    try:
        readme = Readme.read(settings.diary / README_NAME, settings.lessons_heading, diary_root=settings.diary)
    except ReadmeError:
        return docs
    for theme, _, lesson in iter_lessons(readme):
        docs.append(Document("lesson", README_NAME, theme.name, (inline_text(lesson.text),), themes=(theme.name,),
                             cites=lesson.cites))
    return docs


def _cache_path(settings: Settings) -> Path:
    return settings.cache_path / INDEX_FILE


def load_index(settings: Settings) -> SearchIndex:
    """The diary's search index: from the cache when the diary is unchanged, else built (and cached)."""
    catalog = Catalog(settings)
    fingerprint = catalog.fingerprint()
    path = _cache_path(settings)
    try:
        cached = SearchIndex.from_json(path.read_text(encoding="utf-8"), fingerprint)
    except OSError:
        cached = None
    if cached is not None:
        return cached
    index = SearchIndex.build(documents(settings, catalog.entries()))
    try:
        atomic_write_text(path, index.to_json(fingerprint))
    except OSError:
        pass  # a read-only state folder: the next search builds it again
    return index


def search_diary(settings: Settings, query: str, filters: Filters = Filters(), limit: int = 10) -> list[Hit]:
    return load_index(settings).search(query, filters, limit)
