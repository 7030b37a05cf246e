"""Typed objects that carry a paper forward through the stages.

identify -> PaperRef -> fetch -> FetchedPaper -> extract -> ExtractedPaper
-> chunk -> list[Chunk] -> draft -> Draft -> write entry -> WrittenEntry
-> queue lessons -> list[QueuedLesson]

Every stage takes the previous stage's object and returns its own; none reaches
back into another stage's module. The Draft (with its Claims and Lessons) is the
drafters' contract and lives with them (``paperdiary.stages.drafting.contract``);
a QueuedLesson is an item of the review queue (``paperdiary.diary.queue``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

SectionKind = Literal["front", "abstract", "body", "references", "appendix"]
# Where a paper's text comes from: its LaTeX source, arXiv's HTML rendering (LaTeXML), or the PDF.
SourceKind = Literal["tex", "html", "pdf"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("tex", "html", "pdf")


@dataclass(frozen=True)
class PaperRef:
    """What the user pasted, resolved to an arXiv ID (plus version) or a local PDF."""

    raw: str
    arxiv_id: str | None = None  # canonical, no version: "2506.01939", "hep-th/9901001"
    version: int | None = None
    local_pdf: Path | None = None

    @property
    def versioned_id(self) -> str | None:
        if self.arxiv_id is None:
            return None
        return f"{self.arxiv_id}v{self.version}" if self.version else self.arxiv_id

    @property
    def label(self) -> str:
        return self.versioned_id or str(self.local_pdf)


@dataclass
class PaperMeta:
    """Bibliographic facts: from the arXiv API, or read off a local PDF."""

    title: str
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    arxiv_id: str | None = None
    version: int | None = None
    published: datetime | None = None
    updated: datetime | None = None
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    comment: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    pdf_url: str | None = None

    @property
    def abs_url(self) -> str | None:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else None


@dataclass
class FetchedPaper:
    """Metadata plus the file the text is read from: a LaTeX source, an HTML page or a PDF.

    In the state cache, or the user's own PDF. ``passed_over`` says, one line per
    source, why the better sources were not used ("tex: the e-print is a PDF ...").
    """

    meta: PaperMeta
    path: Path
    sha256: str
    downloaded: bool = False  # False when served from the cache or a local file
    source: SourceKind = "pdf"
    passed_over: list[str] = field(default_factory=list)

    @property
    def pdf_path(self) -> Path | None:
        """The PDF, when the text is read from one."""
        return self.path if self.source == "pdf" else None


@dataclass
class Section:
    title: str
    text: str
    kind: SectionKind = "body"
    level: int = 1
    page: int = 0  # 0-based page where the section starts


@dataclass
class ExtractedPaper:
    """Clean text of a paper, split into sections, from its LaTeX source, HTML rendering or PDF."""

    sha256: str  # of the file read
    pages: int  # 0 when not read from a PDF
    sections: list[Section]
    title: str | None = None  # read off the PDF (metadata or first page)
    authors: list[str] = field(default_factory=list)
    invisible_chars_dropped: int = 0
    arxiv_stamp_id: str | None = None  # "1706.03762v5" read off the arXiv side stamp, if any
    source: SourceKind = "pdf"

    @property
    def body_sections(self) -> list[Section]:
        """What a reader reads: everything but references and appendices."""
        return [s for s in self.sections if s.kind not in ("references", "appendix")]

    @property
    def body_text(self) -> str:
        return "\n\n".join(s.text for s in self.body_sections)

    @property
    def full_text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.sections)


@dataclass
class Chunk:
    index: int
    section_titles: list[str]
    text: str
    tokens: int


@dataclass
class LLMUsage:
    """What LLM work cost: summed over the calls it made (cache hits cost nothing).

    The one place usage is added up: a call at a time (``add``), or whole usages
    (``merge``, ``+``); ``as_json`` is its form in every ``--json`` report.
    """

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None when a model's price is unknown
    estimated: bool = False  # some token counts were estimated, not reported by the server

    def add(self, prompt: int, completion: int, cost: float | None, *, cached: bool, estimated: bool) -> None:
        """Count one call in."""
        self.merge(LLMUsage(1, int(cached), prompt, completion, cost, estimated))

    def merge(self, other: LLMUsage) -> None:
        """Add ``other`` into this usage; the cost becomes unknown if either is."""
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.estimated |= other.estimated
        self.cost_usd = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd

    def __add__(self, other: LLMUsage) -> LLMUsage:
        total = replace(self)
        total.merge(other)
        return total

    def as_json(self) -> dict[str, Any]:
        return {"calls": self.calls, "cached_calls": self.cached_calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "tokens_estimated": self.estimated,
                "cost_usd": self.cost_usd}


@dataclass
class WrittenEntry:
    path: Path
    relpath: str  # relative to the diary root, forward slashes
    created: bool  # False when an entry already existed and was left alone


@dataclass(frozen=True)
class RelatedEntry:
    """An earlier entry close to a new one in the topic map's embedding: ``draft`` links it."""

    title: str
    relpath: str  # relative to the diary root
