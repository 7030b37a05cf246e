"""The draft job, stage by stage: identify -> fetch -> extract -> chunk -> draft -> write -> queue.

This is the library entry point the CLI (and catch-up) call; it owns no stage
logic, only the order, the timing and the feedback.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Iterator, Protocol

from .errors import CorruptPdfError, EmptyPdfError, ExtractionError
from .models import FetchedPaper, LLMUsage, PaperMeta, PaperRef
from .settings import Settings


class Reporter(Protocol):
    """Receives stage feedback; the CLI shows it, a library caller may ignore it."""

    def stage_started(self, stage: str, label: str) -> None: ...

    def stage_finished(self, stage: str, seconds: float, detail: dict[str, Any]) -> None: ...


class SilentReporter:
    def stage_started(self, stage: str, label: str) -> None:
        pass

    def stage_finished(self, stage: str, seconds: float, detail: dict[str, Any]) -> None:
        pass


@dataclass
class DraftOutcome:
    """What ``draft`` did, for the closing line and ``--json``."""

    entry_path: str
    title: str
    arxiv_id: str | None
    version: int | None
    description: str
    created: bool  # False: an entry already existed and was left untouched
    drafter: str = ""
    lessons_queued: list[dict[str, str]] = field(default_factory=list)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    usage: LLMUsage = field(default_factory=LLMUsage)

    def as_json(self) -> dict[str, Any]:
        return {
            "entry_path": self.entry_path,
            "created": self.created,
            "title": self.title,
            "arxiv_id": self.arxiv_id,
            "version": self.version,
            "description": self.description,
            "drafter": self.drafter,
            "lessons_queued": self.lessons_queued,
            "llm": {
                "calls": self.usage.calls,
                "cached_calls": self.usage.cached_calls,
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "tokens_estimated": self.usage.estimated,
                "cost_usd": self.usage.cost_usd,
            },
            "stages": self.stages,
        }


class _Timer:
    def __init__(self, reporter: Reporter):
        self.reporter = reporter
        self.stages: dict[str, dict[str, Any]] = {}

    @contextmanager
    def stage(self, name: str, label: str) -> Iterator[dict[str, Any]]:
        detail: dict[str, Any] = {}
        self.reporter.stage_started(name, label)
        start = time.perf_counter()
        yield detail
        seconds = time.perf_counter() - start
        detail["seconds"] = round(seconds, 3)
        self.stages[name] = detail
        self.reporter.stage_finished(name, seconds, detail)


def _meta_for_local(fetched: FetchedPaper, extracted_title: str | None, stamp_id: str | None) -> PaperMeta:
    """A local PDF has no API metadata: take what the PDF itself says."""
    meta = fetched.meta
    meta.title = meta.title or extracted_title or fetched.pdf_path.stem
    if stamp_id and not meta.arxiv_id:
        arxiv_id, _, version = stamp_id.partition("v")
        meta.arxiv_id = arxiv_id
        meta.version = int(version) if version.isdigit() else None
    return meta


def _downloaded_pdf_error(exc: ExtractionError, fetched: FetchedPaper) -> ExtractionError:
    """Name the paper rather than our cache file; drop a broken download so the next run fetches it again."""
    meta = fetched.meta
    label = f"the PDF of arXiv {meta.arxiv_id}" + (f"v{meta.version}" if meta.version else "")
    hint = exc.hint
    if isinstance(exc, (CorruptPdfError, EmptyPdfError)):
        fetched.pdf_path.unlink(missing_ok=True)
        hint = "The broken download was removed from the cache: run the command again to fetch it afresh."
    return type(exc)(exc.message.replace(str(fetched.pdf_path), label), hint=hint)


def draft_paper(
    settings: Settings,
    identifier: str | PaperRef,
    *,
    date_read: date | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
) -> DraftOutcome:
    """Turn one paper into a diary entry plus queued lessons. Raises PaperDiaryError."""
    # Stage modules import lazily: `paperdiary --help` must stay fast.
    from .chunk import chunk_paper
    from .draft import draft_offline
    from .entry import entry_title, find_existing_entry, write_entry
    from .extract import extract_pdf
    from .fetch import ArxivFetcher, local_paper
    from .identify import identify
    from .lessons import queue_lessons
    from .readme import readme_themes
    from .store import EntryRecord, Store, utcnow

    timer = _Timer(reporter or SilentReporter())
    date_read = date_read or date.today()
    ref = identifier if isinstance(identifier, PaperRef) else identify(identifier)

    def existing_outcome(arxiv_id: str) -> DraftOutcome | None:
        found = None if force else find_existing_entry(settings, arxiv_id)
        if found is None:
            return None
        rel = found.resolve().relative_to(settings.diary.resolve()).as_posix()
        return DraftOutcome(rel, entry_title(found), arxiv_id, ref.version, "", created=False, stages=timer.stages)

    if ref.arxiv_id and (outcome := existing_outcome(ref.arxiv_id)):
        return outcome  # before any network: the diary already has it

    with timer.stage("fetch", f"Fetching {ref.label}") as detail:
        if ref.local_pdf:
            fetched = local_paper(ref)
        else:
            with ArxivFetcher(settings) as fetcher:
                fetched = fetcher.fetch(ref)
        detail.update(downloaded=fetched.downloaded, pdf=str(fetched.pdf_path))

    with timer.stage("extract", "Extracting text") as detail:
        try:
            paper = extract_pdf(fetched.pdf_path, timeout=settings.extract_timeout, cache_dir=settings.cache_path)
        except ExtractionError as exc:
            raise _downloaded_pdf_error(exc, fetched) if not ref.local_pdf else exc
        detail.update(pages=paper.pages, chars=paper.chars, sections=[s.title for s in paper.sections])

    meta = fetched.meta
    if ref.local_pdf:
        meta = _meta_for_local(fetched, paper.title, paper.arxiv_stamp_id)
        if meta.arxiv_id and (outcome := existing_outcome(meta.arxiv_id)):
            return outcome

    with Store(settings.db_path) as store:
        with timer.stage("chunk", "Chunking") as detail:
            chunks = chunk_paper(paper, settings.chunk_tokens)
            detail.update(chunks=len(chunks), tokens=sum(c.tokens for c in chunks))

        themes = readme_themes(settings.diary / "README.md", settings.lessons_heading)
        if settings.llm_configured:
            from .draft_llm import LLMDrafter
            from .llm import LLMClient

            label = f"Drafting with {settings.model}"
            drafter = LLMDrafter(settings, LLMClient(settings, store), themes=themes)
            draft_fn = lambda: drafter.draft(meta, paper, chunks)  # noqa: E731
        else:
            label = "Drafting (offline, no LLM configured)"
            draft_fn = lambda: draft_offline(meta, paper, themes=themes)  # noqa: E731
        with timer.stage("draft", label) as detail:
            draft = draft_fn()
            detail.update(drafter=draft.drafter, lessons=len(draft.lessons), notes=draft.notes)
            if draft.usage.calls:
                detail.update(llm_calls=draft.usage.calls, cached_calls=draft.usage.cached_calls,
                              prompt_tokens=draft.usage.prompt_tokens,
                              completion_tokens=draft.usage.completion_tokens, cost_usd=draft.usage.cost_usd)

        with timer.stage("write", "Writing entry") as detail:
            written = write_entry(settings, draft, meta, date_read, source_name=fetched.pdf_path.name)
            detail["path"] = written.relpath
            queued = queue_lessons(settings, draft.lessons, written.relpath, meta.arxiv_id)
            detail["lessons_queued"] = len(queued)

        if meta.arxiv_id:
            store.save_paper(meta.arxiv_id, meta.version, meta.title, asdict(meta))
        store.record_entry(
            EntryRecord(written.relpath, meta.arxiv_id, meta.version, meta.title, draft.description,
                        draft.drafter, date_read.isoformat(), utcnow())
        )
        store.save_draft(written.relpath, meta.arxiv_id, asdict(draft))
        for stage, info in timer.stages.items():
            store.record_stage(ref.label, stage, info.get("seconds", 0.0), info)

    return DraftOutcome(
        entry_path=written.relpath,
        title=meta.title,
        arxiv_id=meta.arxiv_id,
        version=meta.version,
        description=draft.description,
        created=written.created,
        drafter=draft.drafter,
        lessons_queued=[{"id": q.id, "lesson": q.lesson.text, "theme": q.lesson.theme or ""} for q in queued],
        stages=timer.stages,
        usage=draft.usage,
    )
