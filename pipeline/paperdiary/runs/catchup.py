"""`paperdiary catchup`: a whole backlog drafted in one pipelined, resumable run.

**Plan.** The backlog (``pipeline/paperdiary/runs/backlog.py``) is checked against the diary in
one read of the catalog (``catalog.paper_index``) and against the journal (``state/journal.py``,
one row per paper and the stage it reached): papers already
in the diary are skipped, papers that failed earlier are reported (and retried
only with ``--retry-failed``), the rest become jobs. ``--dry-run`` stops here and
prints the plan with a token and cost estimate (``runs/estimate.py``).

**Pipeline.** Each job goes through the same steps as ``draft``
(``pipeline/paperdiary/runs/workflow.py``), but the stages run at once, joined by bounded queues,
so the run takes about as long as its slowest stage::

    fetcher (1 thread) -> extraction (os.cpu_count() threads) -> drafting (--jobs threads) -> writer (1 thread)

- The *fetcher* owns the one ``ArxivFetcher`` (arXiv asks for one connection at a
  time; the fetcher is not thread-safe): metadata in queries of up to 100 IDs,
  then the PDFs one by one at the polite pace.
- *Extraction* threads each run ``extract_pdf``, which forks a time-limited worker
  process per PDF: a process pool with timeouts. Chunking follows in the same thread.
- *Drafting* threads share one LLM client, capped at ``--jobs`` requests in flight;
  its back-off gate is per endpoint, so a 429 slows every worker down at once.
  Before starting a paper, a worker reserves its estimated cost against
  ``--max-cost``; the first paper that does not fit stops new LLM work.
- The *writer* finishes papers strictly in backlog order (a reorder buffer), so
  entry names (``-2`` suffixes) and the lessons queue come out the same however
  the drafting threads interleave, and the same as after a stop and a resume.

**Resumable.** The journal is updated as each paper moves on, and finishing is
ordered as ``workflow`` explains (draft saved before the entry, path journaled
before the no-clobber create, idempotent records and lessons). After Ctrl-C or
``kill -9``, running ``catchup`` again continues: saved drafts are written
without any LLM call, answers already received come from the response cache,
stored metadata spares the arXiv API.

**Failures** are per paper: reported, journaled, and the others go on. Errors
that would fail every paper alike (bad key, unknown model, no credit, an endpoint
that stays down, a full disk, a read-only folder) stop new work instead; the
papers left stay pending.

**One writer.** A run (not a dry run) holds the diary's write lock
(``state/lock.py``) from start to end, so a ``draft`` or a second run waits for
it. With no backlog given it drafts the diary's reading list and what the journal
left unfinished; at the end the reading list's papers that have an entry now are
ticked and linked to it (``backlog.tick_reading_list``).
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

from paperdiary.errors import (
    LLMAuthError,
    LLMModelNotFoundError,
    LLMQuotaError,
    LLMUnavailableError,
    PaperDiaryError,
    QueueFileError,
    UsageError,
    WriteError,
    write_error,
)
from paperdiary.fsutil import diary_relpath, resolve_inside
from paperdiary.llm.costs import price_for
from paperdiary.models import Chunk, ExtractedPaper, FetchedPaper, LLMUsage, PaperMeta
from paperdiary.runs.estimate import Estimate, estimate_for_chunks, estimate_without_text, sum_estimates
from paperdiary.stages.drafting.contract import Draft
from paperdiary.runs.workflow import (
    Drafting,
    Resumable,
    drafter_name,
    extract_paper,
    finish_paper,
    related_entries,
    resumable_draft,
    save_draft,
)
from paperdiary.settings import Settings, require_llm_endpoint, require_trusted_endpoints
from paperdiary.state.journal import ENDED_STAGES, ENTRY_STAGES, RESUMABLE_STAGES, Journal, JournalRow, Stage

if TYPE_CHECKING:
    from paperdiary.llm.batch import BatchQueue, CollectSummary
    from paperdiary.llm.client import LLMClient
    from paperdiary.runs.backlog import Backlog, BacklogItem, BacklogProblem
    from paperdiary.stages.fetch import ArxivFetcher
    from paperdiary.state.store import Store

log = logging.getLogger(__name__)

Status = Literal["drafted", "skipped", "failed", "left", "waiting"]

# Errors that would fail every paper alike: stop starting new ones rather than fail them all.
FATAL_LLM_ERRORS = (LLMAuthError, LLMModelNotFoundError, LLMQuotaError, LLMUnavailableError)

STAGE_BARS = ("metadata", "download", "extract", "draft", "write")  # the progress bars, not journal stages
_SENTINEL: Any = object()


# -- options, results, plan ---------------------------------------------------------------------


@dataclass
class CatchupOptions:
    inputs: list[str] = field(default_factory=list)  # backlog files, "-", identifiers; none: the journal's
    date_read: date | None = None  # for lines without a date (default today)
    jobs: int = 4  # drafting workers, and LLM requests in flight
    max_cost: float | None = None  # USD for this run's LLM work
    retry_failed: bool = False
    batch_api: bool = False
    dry_run: bool = False
    issue_body: Path | None = None  # free text whose arXiv links and IDs are papers too (a GitHub issue's body)


@dataclass
class PaperResult:
    """What became of one paper of the backlog."""

    key: str
    label: str  # the arXiv ID (with version when given) or the PDF's name
    source: str  # where the backlog lists it
    status: Status
    reason: str = ""  # why skipped / failed / left / waiting
    entry_path: str | None = None
    title: str | None = None
    usage: LLMUsage = field(default_factory=LLMUsage)  # this run's LLM use for it
    earlier: bool = False  # the status is from an earlier run (drafted or failed then)

    def as_json(self) -> dict[str, Any]:
        return {"paper": self.label, "source": self.source, "status": self.status, "reason": self.reason,
                "entry_path": self.entry_path, "title": self.title, "earlier": self.earlier,
                "llm": self.usage.as_json()}


@dataclass
class _Job:
    """One paper through the pipeline; the stages fill it in."""

    index: int  # position in the run: the writer's order
    item: BacklogItem
    date_read: date
    meta: PaperMeta | None = None  # known up front when the journal kept it
    resumed: Resumable | None = None  # the draft is saved: only the writer has work
    fetched: FetchedPaper | None = None
    paper: ExtractedPaper | None = None
    chunks: list[Chunk] | None = None
    draft: Draft | None = None
    estimate: Estimate = field(default_factory=Estimate)
    result: PaperResult | None = None  # set when the job leaves the pipeline early

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def label(self) -> str:
        ref = self.item.ref
        return ref.versioned_id or (ref.local_pdf.name if ref.local_pdf else ref.raw)

    def outcome(self, status: Status, reason: str = "", **extra: Any) -> PaperResult:
        title = self.meta.title if self.meta else None
        return PaperResult(self.key, self.label, self.item.source, status, reason, title=title, **extra)


@dataclass
class Plan:
    jobs: list[_Job]
    results: list[PaperResult]  # papers settled without running: skipped, failed earlier
    problems: list[BacklogProblem]  # backlog lines naming no paper
    estimates: dict[str, Estimate] = field(default_factory=dict)  # by job key (dry run)
    index: dict[str, Path] = field(default_factory=dict)  # arXiv IDs in the diary -> their entry

    def as_json(self) -> dict[str, Any]:
        total = sum_estimates(self.estimates.values())
        return {
            "to_draft": [{"paper": j.label, "source": j.item.source, "date_read": j.date_read.isoformat(),
                          "resume": bool(j.resumed), "estimate": vars(self.estimates[j.key])
                          if j.key in self.estimates else None} for j in self.jobs],
            "settled": [r.as_json() for r in self.results],
            "problems": [vars(p) for p in self.problems],
            "estimate": vars(total),
        }


@dataclass
class CatchupReport:
    """A run's outcome: one result per paper, and what the run took."""

    results: list[PaperResult]
    problems: list[BacklogProblem]
    wall_s: float = 0.0
    busy_s: dict[str, float] = field(default_factory=dict)  # per stage: the sum of per-paper work
    workers: dict[str, int] = field(default_factory=dict)  # per stage: how many at once
    stopped: str | None = None  # why new work stopped before the end (budget, Ctrl-C, a fatal error)
    fatal: bool = False  # stopped by an error
    interrupted: bool = False  # stopped by Ctrl-C
    batch: CollectSummary | None = None
    batches_submitted: list[str] = field(default_factory=list)

    def with_status(self, status: Status) -> list[PaperResult]:
        return [r for r in self.results if r.status == status]

    @property
    def usage(self) -> LLMUsage:
        usages = [result.usage for result in self.results] + ([self.batch.usage] if self.batch else [])
        return sum(usages, LLMUsage())

    @property
    def exit_code(self) -> int:
        """0: nothing failed (papers left by the budget or waiting for the Batch API are not failures);
        1: some paper failed, or an error stopped the run; 130: stopped by Ctrl-C."""
        if self.interrupted:
            return 130
        return 1 if self.with_status("failed") or self.problems or self.fatal else 0

    def as_json(self) -> dict[str, Any]:
        counts = {status: len(self.with_status(status)) for status in ("drafted", "skipped", "failed", "left",
                                                                       "waiting")}
        counts["failed"] += len(self.problems)
        return {
            "counts": counts,
            "papers": [r.as_json() for r in self.results],
            "problems": [vars(p) for p in self.problems],
            "llm": self.usage.as_json(),
            "wall_s": round(self.wall_s, 3),
            "busy_s": {k: round(v, 3) for k, v in self.busy_s.items()},
            "workers": self.workers,
            "stopped": self.stopped,
            "batches_submitted": self.batches_submitted,
            "exit_code": self.exit_code,
        }


class Progress(Protocol):
    """Receives the run's progress; ``pipeline/paperdiary/cli/catchup.py`` shows it."""

    def start(self, totals: dict[str, int]) -> None: ...

    def advance(self, stage: str, count: int = 1) -> None: ...

    def paper_finished(self, result: PaperResult) -> None: ...

    def note(self, message: str) -> None: ...

    def tokens(self, count: int) -> None:
        """The LLM's answer pieces (about a token each) streamed so far in this run, from any worker."""

    def stop(self) -> None: ...


class SilentProgress:
    def start(self, totals: dict[str, int]) -> None:
        pass

    def advance(self, stage: str, count: int = 1) -> None:
        pass

    def paper_finished(self, result: PaperResult) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def tokens(self, count: int) -> None:
        pass

    def stop(self) -> None:
        pass


# -- planning ------------------------------------------------------------------------------------------


def read_inputs(settings: Settings, store: Store, options: CatchupOptions, stdin: TextIO | None) -> Backlog:
    """The backlog to work on: the inputs given; else the diary's reading list and the journal's unfinished
    papers (and failed ones with --retry-failed)."""
    from paperdiary.runs.backlog import Backlog, BacklogItem, read_backlog, read_issue_body
    from paperdiary.stages.identify import identify
    from paperdiary.state.journal import paper_key

    if options.issue_body is not None:
        backlog = read_issue_body(options.issue_body)
        if options.inputs:
            backlog.extend(read_backlog(options.inputs, stdin=stdin))
        return backlog
    if options.inputs:
        return read_backlog(options.inputs, stdin=stdin, diary=settings.diary)
    reading_list = settings.diary / settings.reading_list
    # A reading list that links out of the diary is refused, not read (nor ticked later).
    backlog = read_backlog([str(reading_list)], diary=settings.diary) \
        if resolve_inside(settings.diary, reading_list).is_file() else Backlog()
    listed = {item.key for item in backlog.items}
    for key, row in Journal(store).rows().items():
        if key in listed or row.stage is Stage.DONE or (row.stage is Stage.FAILED and not options.retry_failed):
            continue
        try:
            ref = identify(row.source)
        except PaperDiaryError:
            continue  # a local PDF that is gone
        if paper_key(ref) != key:
            continue
        backlog.add(BacklogItem(ref, row.date_read, "journal"))
    if not backlog.items and not backlog.problems:
        raise UsageError(
            f"nothing to catch up on: no paper waits in the reading list ({settings.reading_list}) and the journal "
            "has no unfinished papers.",
            hint=f"Add papers to {settings.reading_list} (an arXiv ID or link per line), or give a backlog file, "
                 "- for standard input, or paper identifiers.",
        )
    return backlog


def _tick_reading_list(settings: Settings, backlog: Backlog, report: CatchupReport, progress: Progress) -> None:
    """Tick the papers that have an entry now off the diary's reading list, if the run read it."""
    from paperdiary.runs.backlog import tick_reading_list

    reading_list = (settings.diary / settings.reading_list).resolve()
    entries = {result.key: result.entry_path for result in report.results if result.entry_path}
    if reading_list not in backlog.files or not entries:
        return
    try:
        ticked = tick_reading_list(reading_list, entries, settings.diary.resolve())
    except (OSError, UnicodeDecodeError, PaperDiaryError) as exc:  # the work is done and kept: only the ticks miss
        progress.note(f"Could not tick {settings.reading_list}: {exc}.")
        return
    if ticked:
        progress.note(f"Ticked {ticked} paper(s) in {settings.reading_list}.")


def make_plan(settings: Settings, store: Store, backlog: Backlog, options: CatchupOptions) -> Plan:
    """Sort the backlog into jobs and settled papers, from one diary scan and one journal read.

    Records the jobs in the journal unless it is a dry run.
    """
    from paperdiary.diary.catalog import paper_index

    index = paper_index(settings, store=store, not_entries=backlog.files)
    journal = Journal(store)
    rows = journal.rows()
    drafter = drafter_name(settings)
    default_day = options.date_read or date.today()
    plan = Plan(jobs=[], results=[], problems=list(backlog.problems), index=index)
    for duplicate in backlog.duplicates:
        ref = duplicate.item.ref
        plan.results.append(PaperResult(duplicate.item.key, ref.versioned_id or ref.raw, duplicate.item.source,
                                        "skipped", f"listed again ({duplicate.first.source} is kept)"))
    with store.transaction():  # one commit for the whole backlog, not one per paper
        for item in backlog.items:
            row = rows.get(item.key)
            settled = _settled(settings, item, row, index, options)
            if settled is not None:
                plan.results.append(settled)
                continue
            job = _job_for(item, row, drafter, len(plan.jobs), options, default_day)
            plan.jobs.append(job)
            if not options.dry_run:
                _journal_job(journal, job, row)
    return plan


def _settled(settings: Settings, item: BacklogItem, row: JournalRow | None, index: dict[str, Path],
             options: CatchupOptions) -> PaperResult | None:
    """The result of a paper that needs no work, or None when it is a job."""
    ref, stage = item.ref, row.stage if row else None
    label = ref.versioned_id or (ref.local_pdf.name if ref.local_pdf else ref.raw)

    def result(status: Status, reason: str, **extra: Any) -> PaperResult:
        return PaperResult(item.key, label, item.source, status, reason, **extra)

    if stage in ENTRY_STAGES:
        return None  # interrupted while finishing: the entry in the diary is (maybe) ours, finish it
    # Whoever made it (`draft`, an earlier catch-up, the user's own hand), an entry in the diary is what counts.
    found = index.get(ref.arxiv_id) if ref.arxiv_id else None
    if found is not None:
        relpath = diary_relpath(settings.diary, found)
        return result("skipped", f"already in the diary: {relpath}", entry_path=relpath, earlier=stage is Stage.DONE)
    entry = row.entry_path if row else None
    if stage is Stage.DONE and ref.local_pdf and entry and (settings.diary / entry).is_file():
        return result("skipped", f"already in the diary: {entry}", entry_path=entry, earlier=True)
    if row is not None and stage is Stage.FAILED and not options.retry_failed:
        return result("failed", f"{row.error or ''} (failed in an earlier run; --retry-failed tries again)",
                      earlier=True)
    return None


def _job_for(item: BacklogItem, row: JournalRow | None, drafter: str, index: int, options: CatchupOptions,
             default_day: date) -> _Job:
    if row is None or row.stage in ENDED_STAGES:  # failed: retried from the start; done: redrafted
        return _Job(index, item, item.date_read or options.date_read or default_day)
    job = _Job(index, item, item.date_read or options.date_read or row.date_read)
    job.resumed = resumable_draft(row, drafter)
    job.meta = job.resumed.meta if job.resumed is not None else row.meta
    return job


def _journal_job(journal: Journal, job: _Job, row: JournalRow | None) -> None:
    if row is None or row.stage in ENDED_STAGES:
        journal.queue(job.key, job.item.ref, job.date_read)
        return
    journal.set_date_read(job.key, job.date_read)
    if row.stage in RESUMABLE_STAGES and job.resumed is None:
        journal.discard_draft(job.key)  # made by another drafter: draft again


# -- dry run: the plan and its estimate ------------------------------------------------------------------


def estimate_plan(settings: Settings, plan: Plan, *, batch: bool) -> None:
    """Fill ``plan.estimates``: nothing for saved drafts, page counts for cached PDFs, else an average paper."""
    from paperdiary.stages.extract import page_count

    for job in plan.jobs:
        if job.resumed is not None:
            plan.estimates[job.key] = Estimate(basis="saved draft")
            continue
        pdf = _cached_pdf(settings, job)
        plan.estimates[job.key] = estimate_without_text(settings, page_count(pdf) if pdf else None, batch=batch)


def _cached_pdf(settings: Settings, job: _Job) -> Path | None:
    """The job's PDF if it is on disk already: the local one, or the fetch stage's cached download."""
    from paperdiary.stages.fetch import cached_pdf

    ref = job.item.ref
    if ref.local_pdf:
        return ref.local_pdf
    assert ref.arxiv_id is not None
    return cached_pdf(settings, ref.arxiv_id, ref.version or (job.meta.version if job.meta else None))


# -- the run -----------------------------------------------------------------------------------------------


def run_catchup(
    settings: Settings,
    options: CatchupOptions,
    *,
    progress: Progress | None = None,
    stdin: TextIO | None = None,
) -> CatchupReport | Plan:
    """Catch up on a backlog: a Plan for a dry run, else the run's report. Raises PaperDiaryError for usage errors."""
    from paperdiary.diary.queue import read_queue_text
    from paperdiary.state.lock import diary_lock
    from paperdiary.state.store import Store

    _check_options(settings, options)
    progress = progress or SilentProgress()
    started = time.perf_counter()
    if options.dry_run:  # changes nothing: no lock, so it may run beside a real run
        with Store(settings.db_path) as store:
            plan = make_plan(settings, store, read_inputs(settings, store, options, stdin), options)
            estimate_plan(settings, plan, batch=options.batch_api)
            return plan
    # One writer per diary: two runs (or a run and a `draft`) would draft the same papers twice.
    with diary_lock(settings, "catchup"), Store(settings.db_path) as store:
        read_queue_text(settings)  # a queue that cannot take the lessons: say so before any work
        backlog = read_inputs(settings, store, options, stdin)
        _warm_up()
        collected = None
        if settings.llm_configured and store.batches(open_only=True):
            collected = _collect_batches(_llm_client(settings, store, options), store, progress)
        if options.retry_failed:
            store.forget_failed_batch_requests()  # their papers are retried: let them ask again
        hook = _batch_queue(store, settings, options)
        client = (_llm_client(settings, store, options, defer=hook, on_tokens=progress.tokens)
                  if settings.llm_configured else None)
        drafting = Drafting.for_settings(settings, store, client=client)
        plan = make_plan(settings, store, backlog, options)
        report = _Pipeline(settings, store, plan, options, progress, drafting).run()
        report.batch = collected
        _tick_reading_list(settings, backlog, report, progress)
        if client is not None and hook is not None and options.batch_api and hook.queued:
            _submit_batches(hook, client, store, report, progress)
    report.wall_s = time.perf_counter() - started
    return report


def _check_options(settings: Settings, options: CatchupOptions) -> None:
    if options.jobs < 1:
        raise UsageError(f"--jobs {options.jobs}: at least 1.")
    if options.batch_api and not settings.llm_configured:
        raise UsageError("--batch-api needs an LLM model.", hint="Set PAPERDIARY_MODEL or pass --model.")
    if options.max_cost is not None and settings.llm_configured and price_for(settings.model, settings) is None:
        raise UsageError(
            f"--max-cost needs a price for model {settings.model!r}, and none is known.",
            hint=f'Add it to paperdiary.toml: [prices."{settings.model}"] input = … output = … '
                 "(USD per million tokens).",
        )
    if not options.dry_run:
        require_llm_endpoint(settings)  # before any download: a model with nowhere to run fails at once
        require_trusted_endpoints(settings)  # and a cloned diary's own servers get nothing


def _llm_client(settings: Settings, store: Store, options: CatchupOptions, *, defer: BatchQueue | None = None,
                on_tokens: Callable[[int], None] | None = None) -> LLMClient:
    from paperdiary.llm.client import LLMClient

    # One client for all workers: at most --jobs requests in flight, whatever the map steps of long papers
    # ask for, and one back-off gate, so a 429 slows the whole run down rather than one worker.
    return LLMClient(settings, store, defer=defer, max_in_flight=options.jobs, on_tokens=on_tokens)


def _collect_batches(client: Any, store: Store, progress: Progress) -> CollectSummary | None:
    """Store the answers of Batch API batches that finished since the last run (any run collects them)."""
    from paperdiary.llm.batch import collect_batches
    from paperdiary.stages.drafting.llm import ANSWER_SCHEMAS

    try:
        summary = collect_batches(client, store, ANSWER_SCHEMAS)
    except PaperDiaryError as exc:  # their papers keep waiting; the rest of the run goes on
        progress.note(f"Could not collect Batch API results ({exc}); the next run tries again.")
        return None
    if summary.answers or summary.failed:
        progress.note(f"Collected {summary.answers} Batch API answer(s)"
                      + (f", {summary.failed} unusable" if summary.failed else "") + ".")
    return summary


def _submit_batches(hook: BatchQueue, client: LLMClient, store: Store, report: CatchupReport,
                    progress: Progress) -> None:
    try:
        report.batches_submitted = hook.submit(client, store)
    except PaperDiaryError as exc:
        report.stopped, report.fatal = f"could not submit to the Batch API: {exc}", True
        return
    progress.note(f"Submitted {len(hook.queued)} request(s) to the Batch API ({', '.join(report.batches_submitted)}).")


def _batch_queue(store: Store, settings: Settings, options: CatchupOptions) -> BatchQueue | None:
    """The client's deferral: queue misses for the Batch API (--batch-api), and never pay again for a
    request already waiting in a batch (any run)."""
    if not settings.llm_configured:
        return None
    from paperdiary.llm.batch import BatchQueue

    return BatchQueue(store, submit=options.batch_api)


class _Stop:
    """Stop starting new work: Ctrl-C, the budget, or an error that would fail every paper."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None
        self.fatal = False
        self.interrupted = False

    def set(self, reason: str, *, fatal: bool = False, interrupted: bool = False) -> None:
        self.interrupted |= interrupted
        if not self._event.is_set():
            self.reason, self.fatal = reason, fatal
            self._event.set()

    def __bool__(self) -> bool:
        return self._event.is_set()


class _Budget:
    """--max-cost: the cost spent so far plus the estimates of drafts in flight must stay within it."""

    def __init__(self, limit: float | None):
        self.limit = limit
        self._lock = threading.Lock()
        self._spent = 0.0
        self._reserved = 0.0

    def reserve(self, estimate: Estimate) -> bool:
        if self.limit is None:
            return True
        cost = estimate.cost_usd or 0.0
        with self._lock:
            if self._spent + self._reserved + cost > self.limit:
                return False
            self._reserved += cost
            return True

    def settle(self, estimate: Estimate, spent: float | None) -> None:
        if self.limit is None:
            return
        with self._lock:
            self._reserved -= estimate.cost_usd or 0.0
            self._spent += spent if spent is not None else estimate.cost_usd or 0.0


class _Busy:
    """Per-stage busy time (the sum of each paper's work), for the report and the benchmark."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {"fetch": 0.0, "extract": 0.0, "draft": 0.0, "write": 0.0}

    @contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.seconds[stage] += time.perf_counter() - start


class _OrderedWriter:
    """Finishes jobs strictly in run order, whatever order they arrive in."""

    def __init__(self, total: int, handle: Any):
        self._total = total
        self._handle = handle
        self._pending: dict[int, _Job] = {}
        self._cond = threading.Condition()
        self.done = threading.Event()

    def submit(self, job: _Job) -> None:
        with self._cond:
            self._pending[job.index] = job
            self._cond.notify()

    def run(self) -> None:
        for position in range(self._total):
            with self._cond:
                self._cond.wait_for(lambda: position in self._pending)  # noqa: B023 - waited on at once
                job = self._pending.pop(position)
            self._handle(job)
        self.done.set()


class _Pipeline:
    """The run's threads and queues; see the module docstring."""

    def __init__(self, settings: Settings, store: Store, plan: Plan, options: CatchupOptions,
                 progress: Progress, drafting: Drafting):
        self.settings = settings
        self.store = store
        self.journal = Journal(store)
        self.plan = plan
        self.options = options
        self.progress = progress
        self.drafting = drafting
        self.stop = _Stop()
        self.budget = _Budget(options.max_cost)
        self.busy = _Busy()
        self.extract_workers = max(1, os.cpu_count() or 1)
        # Bounded queues: the fetcher may run ahead of extraction, and extraction ahead of drafting,
        # by a few papers only (extracted text is held in memory until drafted).
        self.to_extract: queue.Queue[_Job] = queue.Queue(maxsize=2 * self.extract_workers)
        self.to_draft: queue.Queue[_Job] = queue.Queue(maxsize=2 * options.jobs)
        self.results: list[PaperResult | None] = [None] * len(plan.jobs)
        self.writer = _OrderedWriter(len(plan.jobs), self._write)
        self._extractors_left = self.extract_workers
        self._lock = threading.Lock()
        self._index = plan.index
        self._arxiv_keys = {j.item.ref.arxiv_id for j in plan.jobs if j.item.ref.arxiv_id}
        self._deferred = _deferred_error(settings)

    # -- orchestration -------------------------------------------------------------------

    def run(self) -> CatchupReport:
        jobs = self.plan.jobs
        fresh = [j for j in jobs if j.resumed is None]
        self.progress.start({
            "metadata": sum(1 for j in fresh if j.meta is None and j.item.ref.arxiv_id),
            "download": sum(1 for j in fresh if j.item.ref.arxiv_id),
            "extract": len(fresh),
            "draft": len(fresh),
            "write": len(jobs),
        })
        for result in self.plan.results:
            self.progress.paper_finished(result)
        threads = [threading.Thread(target=self._guard(self.writer.run), name="catchup-writer", daemon=True),
                   threading.Thread(target=self._guard(self._fetch_all), name="catchup-fetch", daemon=True)]
        threads += [threading.Thread(target=self._guard(self._extract_worker), name=f"catchup-extract-{n}",
                                     daemon=True) for n in range(self.extract_workers)]
        threads += [threading.Thread(target=self._guard(self._draft_worker), name=f"catchup-draft-{n}",
                                     daemon=True) for n in range(self.options.jobs)]
        for thread in threads:
            thread.start()
        try:
            self._wait()
        finally:
            self.progress.stop()
        results = self.plan.results + [r for r in self.results if r is not None]
        # A Ctrl-C that came once every paper was under way stopped nothing: all finished, the run is complete.
        stopped_nothing = self.stop.interrupted and not self.stop.fatal and not any(r.status == "left"
                                                                                   for r in results)
        return CatchupReport(
            results=results,
            problems=self.plan.problems,
            busy_s=dict(self.busy.seconds),
            workers={"fetch": 1, "extract": self.extract_workers, "draft": self.options.jobs, "write": 1},
            stopped=None if stopped_nothing else self.stop.reason,
            fatal=self.stop.fatal,
            interrupted=self.stop.interrupted and not stopped_nothing,
        )

    def _wait(self) -> None:
        """Wait for the writer; the first Ctrl-C stops new work and lets calls in flight finish, a second quits.

        The handler is installed for the run, so the extraction workers forked meanwhile
        inherit it: a terminal's Ctrl-C reaches them too, and must not kill them
        mid-paper (that would report a good paper as failed). In them it does nothing:
        the note is the run's to print, once per press.
        """
        owner = os.getpid()

        def on_interrupt(signum: int, frame: Any) -> None:
            if os.getpid() != owner:
                return  # an extraction worker forked with this handler: it finishes its paper, and says nothing
            if self.stop.interrupted:
                raise KeyboardInterrupt  # the second one: quit now (the journal keeps everything done so far)
            self.stop.set("interrupted (Ctrl-C)", interrupted=True)
            self.progress.note("Stopping: finishing the papers in flight (Ctrl-C again to quit at once; "
                               "run catchup again to continue).")

        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, on_interrupt) if in_main else None
        try:
            while not self.writer.done.wait(0.2):
                pass
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)

    def _guard(self, target: Any) -> Any:
        """A thread body that cannot die silently: a bug stops the run instead of hanging it."""
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - reported, and the run winds down
                log.exception("catch-up thread %s failed", threading.current_thread().name)
                self.stop.set(f"internal error: {type(exc).__name__}: {exc}", fatal=True)
                self.writer.done.set()
        return run

    def _leave(self, job: _Job, result: PaperResult, *, at: str) -> None:
        """Send a job straight to the writer from stage ``at``, counting it through that stage and the ones it skips.

        (Metadata is counted per query, and writing by the writer.)
        """
        job.result = result
        for stage in STAGE_BARS[STAGE_BARS.index(at) : -1]:
            if stage != "metadata" and not (stage == "download" and job.item.ref.local_pdf):
                self.progress.advance(stage)
        self.writer.submit(job)

    def _failure(self, job: _Job, exc: BaseException) -> PaperResult:
        """What a paper's failure means, settled here for every stage (writing included):

        - a request sent to the Batch API is no failure: the paper waits for its answer;
        - a full disk, a read-only folder, a queue that cannot take lessons, or an LLM error that
          would fail every paper alike (a bad key, an unknown model, no credit, an endpoint that
          stays down) stops new work; the paper is left, as it is in the journal, for the next run;
        - anything else fails this paper only: journaled as failed with its one-line reason (a bug
          is logged with its traceback).
        """
        if isinstance(exc, self._deferred):
            return job.outcome("waiting", "waiting for Batch API answers: run catchup again later")
        message = _error_message(exc)
        if _refused_write(exc) or isinstance(exc, FATAL_LLM_ERRORS):
            self.stop.set(message, fatal=True)
            return job.outcome("left", self.stop.reason or message)
        if not isinstance(exc, PaperDiaryError):
            log.error("%s failed", job.label, exc_info=exc)
        self.journal.fail(job.key, message)
        return job.outcome("failed", message)

    def _fail(self, job: _Job, exc: BaseException, *, at: str) -> None:
        """A worker's paper failed at stage ``at``: to the writer, as :meth:`_failure` settles it."""
        result = self._failure(job, exc)
        if result.status == "left":  # counted by no stage bar: it was not done
            job.result = result
            self.writer.submit(job)
        else:
            self._leave(job, result, at=at)

    def _left(self, job: _Job) -> None:
        """A paper the stop leaves for a later run: straight to the writer, counted by no stage bar (the bars
        show what was done, and the paper was not)."""
        job.result = job.outcome("left", self.stop.reason or "stopped")
        self.writer.submit(job)

    # -- fetch: metadata in batches, then PDFs one at a time ---------------------------------------------

    def _fetch_all(self) -> None:
        from paperdiary.stages.fetch import ArxivFetcher

        try:
            with ArxivFetcher(self.settings) as fetcher:
                metas = _MetadataBatches(self, fetcher)
                for job in self.plan.jobs:
                    if job.resumed is not None:
                        self.writer.submit(job)  # saved draft: only the writer has work
                    elif self.stop:
                        self._left(job)
                    else:
                        self._fetch(fetcher, metas, job)
        finally:
            for _ in range(self.extract_workers):
                self.to_extract.put(_SENTINEL)

    def _fetch(self, fetcher: ArxivFetcher, metas: _MetadataBatches, job: _Job) -> None:
        from paperdiary.stages.fetch import local_paper

        ref = job.item.ref
        try:
            if ref.local_pdf:
                job.fetched = local_paper(ref)
            else:
                meta = job.meta if job.meta is not None else metas.get(job)
                with self.busy.timing("fetch"):
                    job.fetched = fetcher.fetch_with_meta(ref, meta)
                job.meta = job.fetched.meta
                self.journal.mark(job.key, Stage.DOWNLOADED)
                self.progress.advance("download")
        except Exception as exc:  # noqa: BLE001 - settled by _failure: this paper, or the run when all would fail
            self._fail(job, exc, at="download")
            return
        self.to_extract.put(job)

    # -- extract and chunk ------------------------------------------------------------------------------------

    def _extract_worker(self) -> None:
        from paperdiary.stages.chunk import chunk_paper

        while (job := self.to_extract.get()) is not _SENTINEL:
            if self.stop:
                self._left(job)
                continue
            try:
                with self.busy.timing("extract"):
                    assert job.fetched is not None
                    job.paper, job.meta = extract_paper(self.settings, job.item.ref, job.fetched)
                    job.chunks = chunk_paper(job.paper, self.settings.chunk_tokens)
            except Exception as exc:  # noqa: BLE001 - a bad paper must not stop the others
                self._fail(job, exc, at="extract")
                continue
            self.progress.advance("extract")
            if (duplicate := self._known_local_paper(job)) is not None:
                self._leave(job, job.outcome("skipped", duplicate), at="draft")
                continue
            self.journal.record_extracted(job.key, job.meta)
            self.to_draft.put(job)
        with self._lock:
            self._extractors_left -= 1
            last = self._extractors_left == 0
        if last:
            for _ in range(self.options.jobs):
                self.to_draft.put(_SENTINEL)

    def _known_local_paper(self, job: _Job) -> str | None:
        """A local PDF whose arXiv stamp names a paper in the diary or in this run: why to skip it."""
        arxiv_id = job.meta.arxiv_id if job.meta and job.item.ref.local_pdf else None
        if not arxiv_id:
            return None
        if arxiv_id in self._index:
            relpath = diary_relpath(self.settings.diary, self._index[arxiv_id])
            return f"arXiv {arxiv_id}, already in the diary: {relpath}"
        if arxiv_id in self._arxiv_keys:
            return f"arXiv {arxiv_id}, also listed by its ID in this backlog"
        return None

    # -- draft --------------------------------------------------------------------------------------------------

    def _draft_worker(self) -> None:
        while (job := self.to_draft.get()) is not _SENTINEL:
            if self.stop:
                self._left(job)
                continue
            assert job.meta is not None and job.paper is not None and job.chunks is not None
            job.estimate = estimate_for_chunks(self.settings, job.chunks, batch=self.options.batch_api)
            if not self.budget.reserve(job.estimate):
                self.stop.set(f"the next paper's estimated ${job.estimate.cost_usd or 0:.4f} would pass "
                              f"--max-cost ${self.options.max_cost:g}")
                self._left(job)
                continue
            spent: float | None = None  # unknown until it succeeds: a failed paper may have paid for part
            try:
                with self.busy.timing("draft"):
                    job.draft = self.drafting.draft(job.meta, job.paper, job.chunks)
                spent = job.draft.usage.cost_usd
                save_draft(self.journal, job.key, job.item.ref, job.meta, job.draft, job.date_read)
            except Exception as exc:  # noqa: BLE001 - settled by _failure (Batch API, fatal, this paper only)
                self._fail(job, exc, at="draft")
                continue
            finally:
                self.budget.settle(job.estimate, spent)
            self.progress.advance("draft")
            self.writer.submit(job)

    # -- write: in run order -----------------------------------------------------------------------------------

    def _write(self, job: _Job) -> None:
        result = job.result or self._finish(job)
        self.results[job.index] = result
        if result.status != "left":
            self.progress.advance("write")
        self.progress.paper_finished(result)

    def _finish(self, job: _Job) -> PaperResult:
        resumed = job.resumed
        draft = resumed.draft if resumed else job.draft
        meta = resumed.meta if resumed else job.meta
        assert draft is not None and meta is not None
        source_name = resumed.source_name if resumed else (job.fetched.path.name if job.fetched else "")
        try:
            with self.busy.timing("write"):
                # As `draft` does; here, in the writer thread, so each paper sees the entries written before it.
                related = related_entries(self.settings, self.store, meta, draft, job.date_read, {})
                written, _ = finish_paper(self.settings, self.store, job.key, meta, draft, job.date_read,
                                          source_name=source_name, related=related)
        except Exception as exc:  # noqa: BLE001 - settled by _failure: the journal resumes a left one next run
            return self._failure(job, exc)
        reason = "finished from the draft saved by an earlier run" if resumed else ""
        return job.outcome("drafted", reason, entry_path=written.relpath,
                           usage=LLMUsage() if resumed else draft.usage)


class _MetadataBatches:
    """arXiv metadata for the fetcher, one API query per 100 papers, fetched as the fetcher reaches them.

    Queries go in backlog order, so downloads of the first hundred start before the
    second hundred is asked for.
    """

    def __init__(self, pipeline: _Pipeline, fetcher: ArxivFetcher):
        from paperdiary.stages.fetch import BATCH_SIZE

        self.pipeline = pipeline
        self.fetcher = fetcher
        need = [j for j in pipeline.plan.jobs if j.resumed is None and j.meta is None and j.item.ref.arxiv_id]
        self._batch_of = {j.key: n // BATCH_SIZE for n, j in enumerate(need)}
        self._batches = [need[i : i + BATCH_SIZE] for i in range(0, len(need), BATCH_SIZE)]
        self._found: dict[str, PaperMeta | None] = {}
        self._errors: dict[int, PaperDiaryError] = {}

    def get(self, job: _Job) -> PaperMeta | None:
        """The job's metadata (None: arXiv does not know it); raises the batch's FetchError if its query failed."""
        number = self._batch_of[job.key]
        if number not in self._errors and job.key not in self._found:
            self._query(number)
        if number in self._errors:
            raise self._errors[number]
        return self._found.get(job.key)

    def _query(self, number: int) -> None:
        batch = self._batches[number]
        try:
            with self.pipeline.busy.timing("fetch"):
                found = self.fetcher.fetch_metadata([j.item.ref for j in batch])
        except PaperDiaryError as exc:
            self._errors[number] = exc
            return
        finally:
            self.pipeline.progress.advance("metadata", len(batch))
        for job in batch:
            meta = found.get(job.key)
            self._found[job.key] = meta
            if meta is not None:
                self.pipeline.journal.record_metadata(job.key, meta)


class _NeverRaised(Exception):
    """Stands in for LLMDeferred when no LLM is configured (importing paperdiary.llm.client would load openai)."""


def _deferred_error(settings: Settings) -> type[Exception]:
    if not settings.llm_configured:
        return _NeverRaised
    from paperdiary.llm.client import LLMDeferred

    return LLMDeferred


def _warm_up() -> None:
    """Load the tokenizer's vocabulary (~0.3 s) in the background while the LLM client is set up and the run plans."""
    def warm() -> None:
        from paperdiary.llm.tokens import count_tokens

        count_tokens("warm up")

    threading.Thread(target=warm, name="catchup-warm-up", daemon=True).start()


# -- status ---------------------------------------------------------------------------------------------------


@dataclass
class StatusReport:
    stages: dict[str, int]  # journal rows per stage: done, failed, then the others in pipeline order
    failed: list[tuple[str, str]]  # (paper, error)
    batches: list[dict[str, Any]]  # open batches, their status refreshed from the server when reachable
    batch_error: str | None = None
    pending: list[tuple[str, str]] = field(default_factory=list)  # (paper, stage): what the next run continues


def catchup_status(settings: Settings) -> StatusReport:
    """The journal by stage, the papers pending and failed, and the Batch API batches in flight (refreshed from
    the server)."""
    from paperdiary.state.store import open_for_reading

    with open_for_reading(settings.db_path) as store:  # a status only reads: a read-only state folder will do
        rows = Journal(store).rows().values()
        counts = Counter(row.stage for row in rows)
        order = [Stage.DONE, Stage.FAILED, *(stage for stage in Stage if stage not in ENDED_STAGES)]
        stages = {str(stage): counts[stage] for stage in order if counts[stage]}
        failed = [(row.raw, row.error or "") for row in rows if row.stage is Stage.FAILED]
        pending = [(row.raw, str(row.stage)) for row in rows if row.stage not in ENDED_STAGES]
        report = StatusReport(stages, failed, store.batches(open_only=True), pending=pending)
        if report.batches and settings.llm_configured and store.read_only:
            report.batch_error = "not refreshed from the server: the state folder is read-only"
        elif report.batches and settings.llm_configured:
            from paperdiary.llm.batch import refresh_batches
            from paperdiary.llm.client import LLMClient

            try:
                report.batches = refresh_batches(LLMClient(settings, store), store)
            except PaperDiaryError as exc:
                report.batch_error = str(exc)
    return report


# -- small helpers ----------------------------------------------------------------------------------------------


def _refused_write(exc: BaseException) -> bool:
    """A write the system refuses (full disk, read-only) or a queue file that cannot take lessons: not the paper's fault."""
    return isinstance(exc, (WriteError, QueueFileError)) or (isinstance(exc, OSError) and write_error(exc) is not None)


def _error_message(exc: BaseException) -> str:
    """One line for the report: our errors say what to do; anything else is a bug, named as such."""
    if isinstance(exc, PaperDiaryError):
        return str(exc)
    if isinstance(exc, OSError) and (refused := write_error(exc)) is not None:
        return str(refused)
    return f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
