"""The drafting journal: its stages, its transitions, which rows resume, and rows older stores hold."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from paperdiary.models import PaperMeta, PaperRef
from paperdiary.state.journal import (
    ENDED_STAGES,
    ENTRY_STAGES,
    RESUMABLE_STAGES,
    Journal,
    Stage,
    paper_key,
)
from paperdiary.state.store import Store

REF = PaperRef(raw="arXiv:2506.01939v2", arxiv_id="2506.01939", version=2)
META = PaperMeta(title="Routing tokens", authors=["A. Author"], arxiv_id="2506.01939", version=2,
                 published=datetime(2025, 6, 2, 17, 0, tzinfo=timezone.utc))
DAY = date(2025, 6, 11)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "s.db") as opened:
        yield opened


def stored_stage(store: Store, key: str) -> str:
    """The stage as the table holds it: what older and newer versions read."""
    return store.db.execute("SELECT stage FROM journal WHERE paper = ?", (key,)).fetchone()[0]


def test_stages_are_stored_as_their_names_in_order() -> None:
    assert [str(s) for s in Stage] == ["queued", "metadata", "downloaded", "extracted", "drafted", "writing",
                                       "written", "done", "failed"]
    assert RESUMABLE_STAGES == {Stage.DRAFTED, Stage.WRITING, Stage.WRITTEN}
    assert ENTRY_STAGES < RESUMABLE_STAGES and ENDED_STAGES == {Stage.DONE, Stage.FAILED}


def test_keys_are_the_unversioned_id_or_the_pdf_path() -> None:
    assert paper_key(REF) == "2506.01939"
    assert paper_key(PaperRef(raw="mine.pdf", local_pdf=Path("/papers/mine.pdf"))) == "pdf:/papers/mine.pdf"


def test_a_paper_goes_through_every_transition(store: Store) -> None:
    journal = Journal(store)
    key = paper_key(REF)
    journal.queue(key, REF, DAY)
    row = journal.row(key)
    assert row is not None and (row.stage, row.raw, row.arxiv_id, row.version, row.date_read) == \
        (Stage.QUEUED, REF.raw, "2506.01939", 2, DAY)
    assert row.meta is None and row.draft_json is None and stored_stage(store, key) == "queued"

    journal.record_metadata(key, META)
    row = journal.row(key)
    assert row.stage is Stage.METADATA and row.meta == META  # dates survive the round trip

    journal.mark(key, Stage.DOWNLOADED)
    assert journal.row(key).stage is Stage.DOWNLOADED
    journal.record_extracted(key, META)
    assert journal.row(key).stage is Stage.EXTRACTED

    journal.save_draft(key, REF, META, DAY, draft_json='{"short_name": "X"}', drafter="llm:m")
    row = journal.row(key)
    assert (row.stage, row.draft_json, row.drafter, row.entry_path) == \
        (Stage.DRAFTED, '{"short_name": "X"}', "llm:m", None)

    journal.writing(key, "entries/June 2025/11thJuneX.md")
    assert (journal.row(key).stage, journal.row(key).entry_path) == (Stage.WRITING, "entries/June 2025/11thJuneX.md")
    journal.written(key, "entries/June 2025/11thJuneX.md")
    assert journal.row(key).stage is Stage.WRITTEN
    journal.mark(key, Stage.DONE)
    assert stored_stage(store, key) == "done"


def test_mark_refuses_stages_that_record_something(store: Store) -> None:
    journal = Journal(store)
    journal.queue("k", REF, DAY)
    for stage in (Stage.QUEUED, Stage.METADATA, Stage.EXTRACTED, Stage.DRAFTED, Stage.WRITING, Stage.WRITTEN,
                  Stage.FAILED):
        with pytest.raises(ValueError, match="transition of its own"):
            journal.mark("k", stage)
    assert journal.row("k").stage is Stage.QUEUED


def test_a_failed_paper_queued_again_starts_over_in_its_place(store: Store) -> None:
    journal = Journal(store)
    for key in ("a", "b", "c"):
        journal.queue(key, REF, DAY)
    journal.save_draft("b", REF, META, DAY, draft_json="{}", drafter="offline")
    journal.fail("b", "the PDF is corrupt")
    assert (journal.row("b").stage, journal.row("b").error) == (Stage.FAILED, "the PDF is corrupt")

    journal.queue("b", REF, date(2025, 6, 12))
    row = journal.row("b")
    assert (row.stage, row.error, row.draft_json, row.meta, row.date_read) == \
        (Stage.QUEUED, None, None, None, date(2025, 6, 12))
    assert list(journal.rows()) == ["a", "b", "c"]  # first journaled first, whatever changed since


def test_which_saved_drafts_resume(store: Store) -> None:
    journal = Journal(store)
    journal.save_draft("k", REF, META, DAY, draft_json="{}", drafter="llm:old-model")
    row = journal.row("k")
    assert row.resumable_by("llm:old-model") and not row.resumable_by("llm:new-model")  # the model changed

    journal.writing("k", "entries/x.md")  # the entry may exist now: finish it, whoever drafted it
    assert journal.row("k").resumable_by("llm:new-model")
    journal.written("k", "entries/x.md")
    assert journal.row("k").resumable_by("offline")

    journal.mark("k", Stage.DONE)
    assert not journal.row("k").resumable_by("llm:old-model")  # finished: nothing to resume


def test_a_discarded_draft_is_drafted_again(store: Store) -> None:
    journal = Journal(store)
    journal.save_draft("k", REF, META, DAY, draft_json="{}", drafter="llm:old-model")
    journal.discard_draft("k")
    row = journal.row("k")
    assert (row.stage, row.draft_json, row.drafter) == (Stage.EXTRACTED, None, None)
    assert row.meta == META and not row.resumable_by("llm:old-model")


def test_transitions_join_the_callers_transaction(store: Store) -> None:
    journal = Journal(store)
    with pytest.raises(RuntimeError):
        with store.transaction():
            journal.queue("a", REF, DAY)
            journal.queue("b", REF, DAY)
            raise RuntimeError("stopped half way")
    assert journal.rows() == {}


def test_rows_an_earlier_version_wrote_read_as_typed_rows(tmp_path: Path) -> None:
    """A journal row as the store held it before this module owned it (bare columns, a local PDF)."""
    path = tmp_path / "s.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO journal (paper, raw, arxiv_id, version, local_pdf, date_read, stage, error, entry_path,"
        " meta_json, draft_json, drafter, created_at, updated_at)"
        " VALUES ('pdf:/p/mine.pdf', 'mine.pdf', NULL, NULL, '/p/mine.pdf', '2025-06-02', 'writing', NULL,"
        " 'entries/m.md', '{\"title\": \"Mine\", \"published\": null}', '{}', 'offline', 'now', 'now')"
    )
    db.commit()
    db.close()
    with Store(path) as store:
        row = Journal(store).row("pdf:/p/mine.pdf")
    assert row is not None and row.stage is Stage.WRITING and row.local_pdf == Path("/p/mine.pdf")
    assert row.source == "/p/mine.pdf" and row.meta == PaperMeta(title="Mine") and row.resumable_by("llm:any")
