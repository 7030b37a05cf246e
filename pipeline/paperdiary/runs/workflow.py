"""The draft job, stage by stage: identify -> fetch -> extract -> chunk -> draft -> write -> queue.

``draft_paper`` is the library entry point the CLI calls for one paper. It owns no
stage logic, only the order, the timing and the feedback; its steps are functions
of their own (``fetch_paper``, ``extract_paper``, ``Drafting``, ``finish_paper``)
so that catch-up (``pipeline/paperdiary/runs/catchup.py``) runs the very same steps, many papers
at a time.

Finishing a paper is ordered so that stopping anywhere (Ctrl-C, kill -9) costs
nothing twice and leaves nothing half-written:

1. the draft and the metadata are saved in the journal (``state/journal.py``): from
   here on the paper needs no LLM call (``resumable_draft`` gives them back);
2. the entry's path is journaled, then the file is created atomically and never
   over another file; a rerun that finds that file with this draft's content
   adopts it instead of writing a second one;
3. entry record, stored draft (for ``show``) and queued lessons, all idempotent
   (lesson IDs are stable); then the journal says ``done``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from paperdiary.errors import (
    CorruptPdfError, EmptyPdfError, ExtractionError, OutsideDiaryError, PaperDiaryError, QueueFileError,
)
from paperdiary.fsutil import diary_relpath, resolve_inside, writable_target
from paperdiary.models import (
    Chunk, ExtractedPaper, FetchedPaper, LLMUsage, PaperMeta, PaperRef, RelatedEntry, WrittenEntry,
)
from paperdiary.settings import Settings, require_llm_endpoint
from paperdiary.stages.drafting.contract import Claim, Draft, Lesson
from paperdiary.state.journal import ENTRY_STAGES, Journal, JournalRow, Stage, paper_key

if TYPE_CHECKING:
    from paperdiary.diary.queue import QueuedLesson
    from paperdiary.llm.client import LLMClient
    from paperdiary.stages.drafting.contract import Drafter
    from paperdiary.stages.fetch import ArxivFetcher
    from paperdiary.state.store import Store


class Reporter(Protocol):
    """Receives stage feedback; the CLI shows it, a library caller may ignore it."""

    def stage_started(self, stage: str, label: str) -> None: ...

    def stage_progress(self, stage: str, note: str) -> None:
        """How far the running stage is ("812 tokens"); may come from several threads at once."""

    def stage_finished(self, stage: str, seconds: float, detail: dict[str, Any]) -> None: ...


class SilentReporter:
    def stage_started(self, stage: str, label: str) -> None:
        pass

    def stage_progress(self, stage: str, note: str) -> None:
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
    lessons_drafted: int = 0  # the draft's lessons; those not queued were in the queue or decided in review
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    usage: LLMUsage = field(default_factory=LLMUsage)
    claims: int = 0  # bullets and lessons of the draft
    unverified: int = 0  # those whose quote was not found in the paper (marked ⚠ in the entry)

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
            "lessons_drafted": self.lessons_drafted,
            "llm": self.usage.as_json(),
            "claims": self.claims,
            "unverified_claims": self.unverified,
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


# -- the draft as the journal keeps it -------------------------------------------------


def draft_to_json(draft: Draft) -> str:
    return json.dumps(asdict(draft), ensure_ascii=False)


def draft_from_json(text: str) -> Draft:
    data = json.loads(text)
    claims = {name: [Claim(**item) for item in data[name]]
              for name in ("key_points", "key_methods", "results", "limitations")}
    return Draft(
        short_name=data["short_name"], description=data["description"], **claims,
        lessons=[Lesson(**item) for item in data["lessons"]], drafter=data["drafter"],
        notes=dict(data.get("notes") or {}), usage=LLMUsage(**(data.get("usage") or {})),
    )


# -- the stage steps --------------------------------------------------------------------


def _meta_for_local(fetched: FetchedPaper, paper: ExtractedPaper) -> PaperMeta:
    """A local PDF has no API metadata: take what the PDF itself says."""
    meta = fetched.meta
    meta.title = meta.title or paper.title or fetched.path.stem
    meta.authors = meta.authors or list(paper.authors)
    if paper.arxiv_stamp_id and not meta.arxiv_id:
        arxiv_id, _, version = paper.arxiv_stamp_id.partition("v")
        meta.arxiv_id = arxiv_id
        meta.version = int(version) if version.isdigit() else None
    return meta


_SOURCE_NAMES = {"tex": "LaTeX source", "html": "HTML rendering", "pdf": "PDF"}


def _downloaded_file_error(exc: ExtractionError, fetched: FetchedPaper) -> ExtractionError:
    """Name the paper rather than our cache file; drop a broken download so the next run fetches it again."""
    meta = fetched.meta
    error = copy.copy(exc)
    error.subject = (f"the {_SOURCE_NAMES[fetched.source]} of arXiv {meta.arxiv_id}"
                     + (f"v{meta.version}" if meta.version else ""))
    if isinstance(exc, (CorruptPdfError, EmptyPdfError)):
        fetched.path.unlink(missing_ok=True)
        error.hint = "The broken download was removed from the cache: run the command again to fetch it afresh."
    return error


def fetch_paper(settings: Settings, ref: PaperRef, fetcher: ArxivFetcher | None = None) -> FetchedPaper:
    """Metadata and PDF of one paper (a local PDF is only hashed). ``fetcher``: a shared one, else a new one."""
    from paperdiary.stages.fetch import ArxivFetcher, local_paper

    if ref.local_pdf:
        return local_paper(ref)
    if fetcher is not None:
        return fetcher.fetch(ref)
    with ArxivFetcher(settings) as own:
        return own.fetch(ref)


def extract_paper(settings: Settings, ref: PaperRef, fetched: FetchedPaper) -> tuple[ExtractedPaper, PaperMeta]:
    """The paper's text and sections (time-limited worker process, cached), and its metadata.

    The text comes from the source the fetch stage chose (LaTeX, HTML or PDF). For
    a local PDF the metadata is what the PDF says (title, arXiv stamp). A broken
    download is named by its arXiv ID and removed from the cache.
    """
    from paperdiary.stages.extract import extract_file

    try:
        paper = extract_file(fetched.path, fetched.source, timeout=settings.extract_timeout,
                             cache_dir=settings.cache_path, max_source_bytes=int(settings.source_max_mb * 1024 * 1024))
    except ExtractionError as exc:
        raise (_downloaded_file_error(exc, fetched) if not ref.local_pdf else exc) from exc
    meta = _meta_for_local(fetched, paper) if ref.local_pdf else fetched.meta
    return paper, meta


def drafter_name(settings: Settings) -> str:
    """What ``Draft.drafter`` will say: ``offline``, or ``llm:<model>``."""
    from paperdiary.stages.drafting.contract import OFFLINE_DRAFTER, llm_drafter

    return llm_drafter(settings.model) if settings.llm_configured else OFFLINE_DRAFTER


class Drafting:
    """A run's drafter, and the line that announces it; ``Drafting.for_settings`` makes the usual choice."""

    def __init__(self, drafter: Drafter, label: str):
        self.drafter = drafter
        self.label = label

    @classmethod
    def for_settings(cls, settings: Settings, store: Store, *, client: LLMClient | None = None,
                     on_tokens: Callable[[int], None] | None = None) -> Drafting:
        """The LLM drafter when a model is configured (on ``client``, else a client of its own), else the offline one.

        Build it once per run: it reads the README's themes once, and its LLM client
        (thread-safe) may serve several workers at a time. ``on_tokens``: given to a
        client of its own (see ``LLMClient``).
        """
        from paperdiary.diary.readme import README_NAME, readme_themes

        themes = readme_themes(settings.diary / README_NAME, settings.lessons_heading)
        if not settings.llm_configured:
            from paperdiary.stages.drafting.offline import OfflineDrafter

            return cls(OfflineDrafter(themes=themes), "Drafting (offline, no LLM configured)")
        from paperdiary.llm.client import LLMClient
        from paperdiary.stages.drafting.llm import LLMDrafter

        return cls(LLMDrafter(settings, client or LLMClient(settings, store, on_tokens=on_tokens), themes=themes),
                   f"Drafting with {settings.model}")

    def draft(self, meta: PaperMeta, paper: ExtractedPaper, chunks: list[Chunk]) -> Draft:
        """The drafter's draft; its notes (the entry's hidden comment) say which source the text came from."""
        draft = self.drafter.draft(meta, paper, chunks)
        draft.notes = {"source": paper.source, **draft.notes}
        return draft


# -- finishing: journal, entry, records, lessons ------------------------------------------------


@dataclass
class Resumable:
    """A journaled paper whose draft is saved: it can be finished without fetching or drafting again."""

    meta: PaperMeta
    draft: Draft
    date_read: date
    source_name: str  # the local PDF's name (the entry mentions it); "" for an arXiv paper


def resumable_draft(row: JournalRow | None, drafter: str) -> Resumable | None:
    """The saved draft of a journaled paper whose entry was not finished, if a run drafting with ``drafter``
    may finish it (``JournalRow.resumable_by``)."""
    if row is None or not row.resumable_by(drafter):
        return None
    assert row.meta is not None and row.draft_json is not None
    return Resumable(meta=row.meta, draft=draft_from_json(row.draft_json), date_read=row.date_read,
                     source_name=row.local_pdf.name if row.local_pdf else "")


def save_draft(journal: Journal, key: str, ref: PaperRef, meta: PaperMeta, draft: Draft, date_read: date) -> None:
    """Step 1 of finishing: journal the draft, so that no LLM call is ever needed for it again."""
    journal.save_draft(key, ref, meta, date_read, draft_json=draft_to_json(draft), drafter=draft.drafter)


def finish_paper(
    settings: Settings,
    store: Store,
    key: str,
    meta: PaperMeta,
    draft: Draft,
    date_read: date,
    *,
    source_name: str = "",
    related: tuple[RelatedEntry, ...] = (),
) -> tuple[WrittenEntry, list[QueuedLesson]]:
    """Steps 2 and 3 of finishing a journaled draft: the entry file, the records, the lessons.

    Safe to run again after a stop at any point: an entry this draft already
    created is adopted, records are replaced, lessons are queued once.
    ``related``: earlier entries the new one links (:func:`related_entries`).
    """
    from paperdiary.stages.entry import write_entry
    from paperdiary.diary.lessons import queue_lessons
    from paperdiary.state.store import EntryRecord, utcnow

    journal = Journal(store)
    written = _adopt_entry(settings, journal.row(key), draft, meta, date_read, source_name)
    if written is None:
        if draft.lessons:  # a queue that will refuse its lessons refuses the entry too: nothing half-done
            writable_target(settings.diary, settings.queue_path)
        written = write_entry(
            settings, draft, meta, date_read, source_name=source_name,
            before_create=lambda path: journal.writing(key, diary_relpath(settings.diary, path)), related=related,
        )
    journal.written(key, written.relpath)
    store.record_entry(EntryRecord(written.relpath, meta.arxiv_id, meta.version, meta.title, draft.description,
                                   draft.drafter, date_read.isoformat(), utcnow()))
    store.save_draft(written.relpath, meta.arxiv_id, asdict(draft))
    try:
        queued = queue_lessons(settings, draft.lessons, written.relpath, meta.arxiv_id)
    except QueueFileError as exc:  # the journal keeps the paper short of done: its lessons are queued next time
        exc.hint = (f"The entry {written.relpath} is written and its lessons are kept: save the queue as UTF-8, "
                    f"then run `paperdiary catchup` (or draft {meta.arxiv_id or 'the paper'} again) to queue them.")
        raise
    journal.mark(key, Stage.DONE)
    return written, queued


def _adopt_entry(settings: Settings, row: JournalRow | None, draft: Draft, meta: PaperMeta,
                 date_read: date, source_name: str) -> WrittenEntry | None:
    """The entry an interrupted finish already created, or None when there is none to adopt.

    ``Stage.WRITTEN``: the journal saw the file created, so it is ours whatever the user
    did to it since. ``Stage.WRITING``: the path was chosen but the create may not have
    happened; the file there is ours only if it holds this very draft.
    """
    from paperdiary.stages.entry import render_entry, same_entry

    if row is None or row.stage not in ENTRY_STAGES or not row.entry_path:
        return None
    try:
        path = resolve_inside(settings.diary, settings.diary / row.entry_path)
    except OutsideDiaryError:
        return None  # replaced since by a link out of the diary: not ours to read
    if not path.is_file():
        return None
    if row.stage is Stage.WRITING:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if not same_entry(text, render_entry(settings, draft, meta, date_read, source_name)):
            return None
    return WrittenEntry(path, row.entry_path, created=True)


# -- the stored draft behind a paper (`show`) ------------------------------------------------


def stored_drafts(settings: Settings, paper: str) -> list[dict[str, Any]]:
    """The stored drafts behind ``paper``, newest first: an arXiv ID in any form, a local PDF, or an entry's path.

    A local PDF is found through the journal (the entry it became, the arXiv ID it
    turned out to have), else through the arXiv ID stamped on its first page: a PDF
    of a paper the diary already had was never drafted itself. Its text comes from
    the cache the draft filled.
    """
    from paperdiary.stages.identify import identify
    from paperdiary.state.store import open_for_reading

    try:
        ref: PaperRef | None = identify(paper)
    except PaperDiaryError:
        ref = None  # an entry's path
    with open_for_reading(settings.db_path) as store:
        keys = [ref.arxiv_id] if ref is not None and ref.arxiv_id else []
        if ref is None:
            keys.append(_entry_key(settings, paper))
        elif ref.local_pdf:
            row = Journal(store).row(paper_key(ref))
            keys += [key for key in (row.entry_path, row.arxiv_id) if key] if row is not None else []
        for key in keys:
            if key and (drafts := store.drafts_for(key)):
                return drafts
        if ref is not None and ref.local_pdf and (stamped := _stamped_arxiv_id(settings, ref)):
            return store.drafts_for(stamped)
    return []


def _entry_key(settings: Settings, text: str) -> str:
    """An entry's path as the store records it (relative to the diary), from however it was typed."""
    path = Path(text)
    if path.is_file():
        try:
            return diary_relpath(settings.diary, path)
        except ValueError:
            pass  # outside the diary: no entry of it
    return text


def _stamped_arxiv_id(settings: Settings, ref: PaperRef) -> str | None:
    """The arXiv ID (without version) on a local PDF's side stamp; None without one or when it cannot be read."""
    if ref.local_pdf is None:
        return None
    try:
        fetched = fetch_paper(settings, ref)
        _, meta = extract_paper(settings, ref, fetched)
    except PaperDiaryError:
        return None
    return meta.arxiv_id


def related_entries(settings: Settings, store: Store, meta: PaperMeta, draft: Draft, date_read: date,
                    detail: dict[str, Any]) -> tuple[RelatedEntry, ...]:
    """The earlier entries nearest to this draft (topic map embeddings); ``detail`` notes what happened."""
    from paperdiary.diary.map.related import find_related

    outcome = find_related(settings, store, title=meta.title, description=draft.description,
                           key_points=[claim.text for claim in draft.key_points], date_read=date_read,
                           arxiv_id=meta.arxiv_id)
    detail.setdefault("notes", {})["related entries"] = outcome.note
    return outcome.entries


# -- one paper, start to end ---------------------------------------------------------------


def _outcome(written: WrittenEntry, meta: PaperMeta, draft: Draft, queued: list[QueuedLesson],
             stages: dict[str, dict[str, Any]]) -> DraftOutcome:
    unverified, claims = draft.unverified()
    return DraftOutcome(
        entry_path=written.relpath,
        title=meta.title,
        arxiv_id=meta.arxiv_id,
        version=meta.version,
        description=draft.description,
        created=written.created,
        drafter=draft.drafter,
        lessons_queued=[{"id": q.id, "lesson": q.lesson.text, "theme": q.lesson.theme or ""} for q in queued],
        lessons_drafted=len(draft.lessons),
        stages=stages,
        usage=draft.usage,
        claims=claims,
        unverified=unverified,
    )


def _existing_outcome(settings: Settings, ref: PaperRef, arxiv_id: str, timer: _Timer) -> DraftOutcome | None:
    """The outcome "already in the diary" when an entry anywhere names this paper, else None."""
    from paperdiary.diary.catalog import entry_for_paper
    from paperdiary.stages.entry import entry_title

    found = entry_for_paper(settings, arxiv_id)
    if found is None:
        return None
    return DraftOutcome(diary_relpath(settings.diary, found), entry_title(found), arxiv_id, ref.version, "",
                        created=False, stages=timer.stages)


def draft_paper(
    settings: Settings,
    identifier: str | PaperRef,
    *,
    date_read: date | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
) -> DraftOutcome:
    """Turn one paper into a diary entry plus queued lessons. Raises PaperDiaryError.

    Runs under the diary's write lock: a second ``draft`` of the same paper (or a
    ``catchup`` listing it) waits, then finds this entry instead of writing another.
    """
    from paperdiary.stages.identify import identify
    from paperdiary.state.lock import diary_lock

    ref = identifier if isinstance(identifier, PaperRef) else identify(identifier)
    require_llm_endpoint(settings)  # before any download: a model with nowhere to run fails at once
    with diary_lock(settings, "draft"):
        return _draft(settings, ref, date_read=date_read, force=force, reporter=reporter)


def _draft(settings: Settings, ref: PaperRef, *, date_read: date | None, force: bool,
           reporter: Reporter | None) -> DraftOutcome:
    # Stage modules import lazily: `paperdiary --help` must stay fast.
    from paperdiary.diary.queue import read_queue_text
    from paperdiary.stages.chunk import chunk_paper
    from paperdiary.state.store import Store

    timer = _Timer(reporter or SilentReporter())
    day = date_read or date.today()
    key = paper_key(ref)
    read_queue_text(settings)  # a queue that cannot take the lessons: say so before any work

    with Store(settings.db_path) as store:
        resumed = resumable_draft(Journal(store).row(key), drafter_name(settings))
        if resumed is not None:  # an earlier run was stopped after drafting: finish it, no LLM call
            with timer.stage("write", "Writing the entry from the saved draft") as detail:
                resumed_day = date_read or resumed.date_read
                related = related_entries(settings, store, resumed.meta, resumed.draft, resumed_day, detail)
                written, queued = finish_paper(settings, store, key, resumed.meta, resumed.draft, resumed_day,
                                               source_name=resumed.source_name, related=related)
                detail.update(path=written.relpath, lessons_queued=len(queued), resumed=True)
            return _outcome(written, resumed.meta, resumed.draft, queued, timer.stages)

    if ref.arxiv_id and not force and (outcome := _existing_outcome(settings, ref, ref.arxiv_id, timer)):
        return outcome  # before any network: the diary already has it

    with timer.stage("fetch", f"Fetching {ref.label}") as detail:
        fetched = fetch_paper(settings, ref)
        detail.update(downloaded=fetched.downloaded, source=fetched.source, path=str(fetched.path),
                      passed_over=fetched.passed_over)

    with timer.stage("extract", "Extracting text") as detail:
        paper, meta = extract_paper(settings, ref, fetched)
        detail.update(chars=paper.chars, sections=[s.title for s in paper.sections])
        if paper.pages:
            detail["pages"] = paper.pages

    if ref.local_pdf and meta.arxiv_id and not force:
        if outcome := _existing_outcome(settings, ref, meta.arxiv_id, timer):
            return outcome

    with Store(settings.db_path) as store:
        with timer.stage("chunk", "Chunking") as detail:
            chunks = chunk_paper(paper, settings.chunk_tokens)
            detail.update(chunks=len(chunks), tokens=sum(c.tokens for c in chunks))

        reporter = timer.reporter
        drafting = Drafting.for_settings(settings, store,
                                         on_tokens=lambda count: reporter.stage_progress("draft", f"{count:,} tokens"))
        with timer.stage("draft", drafting.label) as detail:
            draft = drafting.draft(meta, paper, chunks)
            detail.update(drafter=draft.drafter, lessons=len(draft.lessons), notes=draft.notes)
            if draft.usage.calls:
                detail.update(llm_calls=draft.usage.calls, cached_calls=draft.usage.cached_calls,
                              prompt_tokens=draft.usage.prompt_tokens,
                              completion_tokens=draft.usage.completion_tokens, cost_usd=draft.usage.cost_usd)
        save_draft(Journal(store), key, ref, meta, draft, day)

        with timer.stage("write", "Writing entry") as detail:
            related = related_entries(settings, store, meta, draft, day, detail)
            written, queued = finish_paper(settings, store, key, meta, draft, day,
                                           source_name=fetched.path.name, related=related)
            detail["path"] = written.relpath
            detail["lessons_queued"] = len(queued)

    return _outcome(written, meta, draft, queued, timer.stages)
