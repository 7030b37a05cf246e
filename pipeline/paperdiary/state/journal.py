"""The drafting journal: where each paper being drafted stands, so a run stopped anywhere resumes there.

One row per paper (the store's ``journal`` table), keyed by ``paper_key``; catch-up
journals its whole backlog, a single ``draft`` a paper once its draft exists. A
paper moves through the stages in order, each move a named transition here::

    queue -> record_metadata -> mark(DOWNLOADED) -> record_extracted -> save_draft
          -> writing -> written -> mark(DONE)          (fail: from any stage)

From ``drafted`` on the draft is saved (``RESUMABLE_STAGES``): the paper is
finished without fetching or drafting again. From ``writing`` on the entry's path
is journaled (``ENTRY_STAGES``): the file there may be this draft's own. ``done``
and ``failed`` end a paper's run (``ENDED_STAGES``): a later run starts it over.

The stored metadata is parsed here (``PaperMeta`` is a shared model); the draft
stays JSON text, which ``runs/workflow.py`` turns back into a ``Draft``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from paperdiary.models import PaperMeta, PaperRef
from paperdiary.state.store import Store, utcnow


class Stage(StrEnum):
    """A journaled paper's stage, in the order a paper reaches them; the value is what the table stores."""

    QUEUED = "queued"  # journaled by catch-up, nothing done yet
    METADATA = "metadata"  # arXiv's metadata stored
    DOWNLOADED = "downloaded"  # the PDF is in the cache
    EXTRACTED = "extracted"  # text extracted (metadata complete, for a local PDF too)
    DRAFTED = "drafted"  # the draft is saved: no LLM call is needed any more
    WRITING = "writing"  # the entry's path is chosen; the file may or may not be created
    WRITTEN = "written"  # the entry file is created
    DONE = "done"  # records and lessons saved too
    FAILED = "failed"  # catch-up gave up on it (a single draft just raises)


RESUMABLE_STAGES = frozenset({Stage.DRAFTED, Stage.WRITING, Stage.WRITTEN})  # the draft is saved
ENTRY_STAGES = frozenset({Stage.WRITING, Stage.WRITTEN})  # the entry's path is journaled: the file may be ours
ENDED_STAGES = frozenset({Stage.DONE, Stage.FAILED})  # a later run starts the paper over


def paper_key(ref: PaperRef) -> str:
    """The journal's key for a paper: its arXiv ID without version, or ``pdf:<absolute path>``."""
    return ref.arxiv_id if ref.arxiv_id else f"pdf:{ref.local_pdf}"


def _meta_to_json(meta: PaperMeta) -> str:
    return json.dumps(asdict(meta), ensure_ascii=False, default=lambda value: value.isoformat())


def _meta_from_json(text: str) -> PaperMeta:
    data = json.loads(text)
    for name in ("published", "updated"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    return PaperMeta(**data)


@dataclass(frozen=True)
class JournalRow:
    """One journaled paper, as stored."""

    paper: str  # the key (``paper_key``)
    raw: str  # the paper as the user gave it
    arxiv_id: str | None
    version: int | None
    local_pdf: Path | None
    date_read: date
    stage: Stage
    error: str | None  # why it failed
    entry_path: str | None  # relative to the diary; journaled before the file is created
    meta: PaperMeta | None  # the metadata, once known: resuming needs no arXiv request
    draft_json: str | None  # the saved draft (``Draft`` as JSON): resuming needs no LLM call
    drafter: str | None  # who made the saved draft: "offline" or "llm:<model>"

    @property
    def source(self) -> str:
        """What identifies the paper again: the local PDF's path, else what the user gave."""
        return str(self.local_pdf) if self.local_pdf else self.raw

    def resumable_by(self, drafter: str) -> bool:
        """Whether a run drafting with ``drafter`` finishes this paper from its saved draft.

        A draft not yet being written is reused only when ``drafter`` made it (the
        model may have changed since); once its entry may exist, it is finished
        whoever made it.
        """
        if self.stage not in RESUMABLE_STAGES or not self.draft_json or self.meta is None:
            return False
        return self.stage in ENTRY_STAGES or self.drafter == drafter

    @classmethod
    def from_db(cls, row: Any) -> JournalRow:
        return cls(
            paper=row["paper"], raw=row["raw"], arxiv_id=row["arxiv_id"], version=row["version"],
            local_pdf=Path(row["local_pdf"]) if row["local_pdf"] else None,
            date_read=date.fromisoformat(row["date_read"]), stage=Stage(row["stage"]), error=row["error"],
            entry_path=row["entry_path"], meta=_meta_from_json(row["meta_json"]) if row["meta_json"] else None,
            draft_json=row["draft_json"], drafter=row["drafter"],
        )


class Journal:
    """The journal table of a store: rows read as ``JournalRow``, written only by the transitions below.

    Each transition commits at once, or with the caller's ``store.transaction()``.
    """

    def __init__(self, store: Store):
        self.store = store

    # -- reading -------------------------------------------------------------------------------------

    def rows(self) -> dict[str, JournalRow]:
        """Every journaled paper by key, in the order they were first journaled."""
        with self.store.locked() as db:
            found = db.execute("SELECT * FROM journal ORDER BY rowid").fetchall()
        return {row["paper"]: JournalRow.from_db(row) for row in found}

    def row(self, key: str) -> JournalRow | None:
        with self.store.locked() as db:
            found = db.execute("SELECT * FROM journal WHERE paper = ?", (key,)).fetchone()
        return JournalRow.from_db(found) if found else None

    # -- transitions -----------------------------------------------------------------------------------

    def queue(self, key: str, ref: PaperRef, date_read: date) -> None:
        """Journal a paper to draft from the start (new, or ended in an earlier run): anything kept is dropped."""
        self._put(key, raw=ref.raw, arxiv_id=ref.arxiv_id, version=ref.version,
                  local_pdf=str(ref.local_pdf) if ref.local_pdf else None, date_read=date_read.isoformat(),
                  stage=Stage.QUEUED, error=None, entry_path=None, meta_json=None, draft_json=None, drafter=None)

    def set_date_read(self, key: str, date_read: date) -> None:
        self._put(key, date_read=date_read.isoformat())

    def discard_draft(self, key: str) -> None:
        """Drop a saved draft another drafter made: the paper is drafted again from its extracted text."""
        self._put(key, stage=Stage.EXTRACTED, draft_json=None, drafter=None)

    def record_metadata(self, key: str, meta: PaperMeta) -> None:
        self._put(key, stage=Stage.METADATA, version=meta.version, meta_json=_meta_to_json(meta))

    def mark(self, key: str, stage: Stage) -> None:
        """Move to a stage that records nothing else: ``DOWNLOADED``, ``DONE``."""
        if stage not in (Stage.DOWNLOADED, Stage.DONE):
            raise ValueError(f"stage {stage} has a transition of its own")
        self._put(key, stage=stage)

    def record_extracted(self, key: str, meta: PaperMeta) -> None:
        """Extracted; ``meta`` is complete now (a local PDF's comes from its text)."""
        self._put(key, stage=Stage.EXTRACTED, meta_json=_meta_to_json(meta))

    def save_draft(self, key: str, ref: PaperRef, meta: PaperMeta, date_read: date, *, draft_json: str,
                   drafter: str) -> None:
        """Keep the draft and all the paper needs to be finished: from here on no LLM call is needed for it.

        Creates the row for a paper not journaled yet (a single ``draft``).
        """
        self._put(key, raw=ref.raw, arxiv_id=meta.arxiv_id or ref.arxiv_id, version=meta.version,
                  local_pdf=str(ref.local_pdf) if ref.local_pdf else None, date_read=date_read.isoformat(),
                  stage=Stage.DRAFTED, error=None, entry_path=None, meta_json=_meta_to_json(meta),
                  draft_json=draft_json, drafter=drafter)

    def writing(self, key: str, entry_path: str) -> None:
        """The entry's file is about to be created at ``entry_path`` (relative to the diary)."""
        self._put(key, stage=Stage.WRITING, entry_path=entry_path)

    def written(self, key: str, entry_path: str) -> None:
        self._put(key, stage=Stage.WRITTEN, entry_path=entry_path)

    def fail(self, key: str, error: str) -> None:
        self._put(key, stage=Stage.FAILED, error=error)

    def rename_entry_paths(self, moves: list[tuple[str, str]]) -> None:
        """Entries moved on disk (``reorganize``): the rows naming them follow, stages unchanged."""
        with self.store.locked() as db:
            db.executemany("UPDATE journal SET entry_path = ? WHERE entry_path = ?", [(new, old) for old, new in moves])

    def _put(self, key: str, **fields: Any) -> None:
        """Update the row's given columns, or create it (an upsert that keeps the row's place in ``rows``)."""
        now = utcnow()
        names = list(fields)
        values = [str(value) if isinstance(value, Stage) else value for value in fields.values()]
        with self.store.locked() as db:
            updated = db.execute(
                f"UPDATE journal SET {', '.join(f'{n} = ?' for n in names + ['updated_at'])} WHERE paper = ?",
                [*values, now, key],
            ).rowcount
            if not updated:
                columns = ["paper", *names, "created_at", "updated_at"]
                db.execute(
                    f"INSERT INTO journal ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    [key, *values, now, now],
                )
