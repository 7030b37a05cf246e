"""The store's schema: named migrations, in the order a new store applies them.

``Store`` (``state/store.py``) applies each migration not yet recorded in its
``_migrations`` table, in this order, each in a transaction of its own, and
records its name. A migration is never edited or renamed once released, only
followed by another: existing stores know them by name.

``m101_review_decisions`` used to be listed before ``m005``/``m006``, so stores
made until now applied it first. Each of these migrations creates tables of its
own and none reads another's, so either order gives the same schema; it is
listed last here, where its number puts it, and keeps its name so that no store
applies it twice.

Tables kept but no longer written: ``papers`` (each paper's arXiv metadata; the
journal's ``meta_json`` holds it) and ``stage_runs`` (seconds per stage of each
``draft``; ``--verbose`` and ``--json`` report them from the run itself). Nothing
read them; they stay so that older stores lose no data.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(func: Migration) -> Migration:
    MIGRATIONS.append((func.__name__, func))
    return func


def execute_script(db: sqlite3.Connection, script: str) -> None:
    """Run ;-separated statements inside the current transaction.

    (``executescript`` would COMMIT first, so a failing migration could leave half a schema.)
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m001_papers_and_entries(db: sqlite3.Connection) -> None:
    execute_script(
        db,
        """
        CREATE TABLE papers (
            arxiv_id TEXT PRIMARY KEY,
            version INTEGER,
            title TEXT NOT NULL,
            meta_json TEXT NOT NULL,
            fetched_at TEXT NOT NULL
        );
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            arxiv_id TEXT,
            version INTEGER,
            title TEXT NOT NULL,
            description TEXT NOT NULL,
            drafter TEXT NOT NULL,
            date_read TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX entries_arxiv_id ON entries(arxiv_id);
        CREATE UNIQUE INDEX entries_path ON entries(path);
        """
    )


@migration
def m002_stage_runs(db: sqlite3.Connection) -> None:
    # One row per stage of each draft: what it took, for --verbose and benchmarks. (No longer written.)
    execute_script(
        db,
        """
        CREATE TABLE stage_runs (
            id INTEGER PRIMARY KEY,
            paper TEXT NOT NULL,
            stage TEXT NOT NULL,
            seconds REAL NOT NULL,
            detail_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        """
    )


@migration
def m003_llm_modes_cache_and_ledger(db: sqlite3.Connection) -> None:
    # llm_modes: the structured-output mode each endpoint+model accepts, so later
    #   calls (and later processes) skip the modes it rejects.
    # llm_cache: validated answers keyed by sha256(endpoint, model, messages, schema);
    #   the same request is answered from here without any HTTP request.
    # llm_calls: the ledger, one row per structured() call (cache hits too, at cost 0),
    #   for `paperdiary costs`. cost_usd is NULL when the model's price is unknown.
    # Endpoints are stored without credentials (no userinfo, no query string); the
    # API key is never stored.
    execute_script(
        db,
        """
        CREATE TABLE llm_modes (
            endpoint TEXT NOT NULL,
            model TEXT NOT NULL,
            mode TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (endpoint, model)
        );
        CREATE TABLE llm_cache (
            key TEXT PRIMARY KEY,
            endpoint TEXT NOT NULL,
            model TEXT NOT NULL,
            schema_name TEXT NOT NULL,
            mode TEXT NOT NULL,
            request_json TEXT NOT NULL,
            raw_content TEXT NOT NULL,
            parsed_json TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE llm_calls (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            paper TEXT,
            purpose TEXT NOT NULL,
            model TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            mode TEXT,
            status TEXT NOT NULL,
            cached INTEGER NOT NULL DEFAULT 0,
            batch INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            tokens_estimated INTEGER NOT NULL DEFAULT 0,
            latency_s REAL NOT NULL DEFAULT 0,
            cost_usd REAL,
            cache_key TEXT
        );
        CREATE INDEX llm_calls_created_at ON llm_calls(created_at);
        CREATE INDEX llm_calls_paper ON llm_calls(paper);
        """
    )


@migration
def m004_drafts(db: sqlite3.Connection) -> None:
    # The full draft behind each entry, quotes and grounding included: `paperdiary show` reads it.
    execute_script(
        db,
        """
        CREATE TABLE drafts (
            entry_path TEXT PRIMARY KEY,
            arxiv_id TEXT,
            draft_json TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX drafts_arxiv_id ON drafts(arxiv_id);
        """,
    )


@migration
def m005_journal(db: sqlite3.Connection) -> None:
    # One row per paper being drafted (catch-up's backlog, or a single `draft` once its draft
    # exists): the stage it reached, so a run stopped anywhere (Ctrl-C, kill -9) resumes there.
    # Read and written only through paperdiary.state.journal, which owns the stages.
    # ``paper`` is the arXiv ID without version, or "pdf:<absolute path>" for a local PDF.
    # meta_json and draft_json hold what resuming needs without asking arXiv or the LLM again;
    # entry_path is recorded *before* the entry file is created, so a resumed run can tell
    # its own half-finished write from a free name.
    execute_script(
        db,
        """
        CREATE TABLE journal (
            paper TEXT PRIMARY KEY,
            raw TEXT NOT NULL,
            arxiv_id TEXT,
            version INTEGER,
            local_pdf TEXT,
            date_read TEXT NOT NULL,
            stage TEXT NOT NULL,
            error TEXT,
            entry_path TEXT,
            meta_json TEXT,
            draft_json TEXT,
            drafter TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX journal_stage ON journal(stage);
        """,
    )


@migration
def m006_llm_batches(db: sqlite3.Connection) -> None:
    # Batch API (pipeline/paperdiary/llm/batch.py): batches submitted and not yet collected, and the
    # requests in each. custom_id is the LLM cache key, so a collected answer lands in
    # llm_cache exactly where LLMClient.structured() looks for it.
    execute_script(
        db,
        """
        CREATE TABLE llm_batches (
            id TEXT PRIMARY KEY,
            endpoint TEXT NOT NULL,
            model TEXT NOT NULL,
            input_file_id TEXT NOT NULL,
            status TEXT NOT NULL,
            requests INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE llm_batch_requests (
            batch_id TEXT NOT NULL,
            custom_id TEXT NOT NULL,
            paper TEXT,
            purpose TEXT NOT NULL,
            schema_name TEXT NOT NULL,
            mode TEXT NOT NULL,
            messages_json TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            PRIMARY KEY (batch_id, custom_id)
        );
        CREATE INDEX llm_batch_requests_custom_id ON llm_batch_requests(custom_id);
        """,
    )


@migration
def m101_review_decisions(db: sqlite3.Connection) -> None:
    # One row per queued lesson the user decided something about in `paperdiary review`
    # (pipeline/paperdiary/diary/review.py): written before the queue file or README changes, so a killed
    # process loses no decision. `synced` = the queue file already shows it (tick, removal).
    execute_script(
        db,
        """
        CREATE TABLE review_decisions (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            lesson TEXT,
            kind TEXT,
            theme TEXT,
            placement_json TEXT,
            readme_digest TEXT,
            block TEXT,
            position INTEGER,
            synced INTEGER NOT NULL DEFAULT 0,
            decided_at TEXT NOT NULL
        );
        """,
    )


@migration
def m102_catalog_cache(db: sqlite3.Connection) -> None:
    # The diary catalog (pipeline/paperdiary/diary/catalog.py): what each markdown file says, keyed by
    # its path and checked by (size, mtime_ns), then sha256, so a warm catalog reads no unchanged file.
    # ``parser`` is the version of facts_json's shape: an older one is read again.
    # catalog_meta holds small shared values, e.g. git first-commit dates by HEAD commit.
    execute_script(
        db,
        """
        CREATE TABLE catalog_files (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            parser INTEGER NOT NULL,
            facts_json TEXT NOT NULL
        );
        CREATE TABLE catalog_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    )


@migration
def m103_embeddings_and_topic_map(db: sqlite3.Connection) -> None:
    # The topic map (pipeline/paperdiary/diary/map/). embeddings: one vector per (embedder, text hash), float32
    # bytes, so an entry is embedded again only when its text (title, description, key points) changes.
    # map_clusters: the last map's clusters with their members (entry paths), so the next map matches its
    # clusters to these by overlap and keeps their ids and names (an added entry renames nothing).
    execute_script(
        db,
        """
        CREATE TABLE embeddings (
            embedder TEXT NOT NULL,
            text_sha256 TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (embedder, text_sha256)
        );
        CREATE TABLE map_clusters (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            name_source TEXT NOT NULL,
            members_json TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    )


@migration
def m104_llm_facts(db: sqlite3.Connection) -> None:
    # What PaperDiary learnt about an endpoint's model besides its structured-output mode, by name:
    # "context_window" (JSON: the tokens the server reports, or null, and where it said so) and
    # "streaming" ("no" for a server that answers streamed requests with one JSON body).
    execute_script(
        db,
        """
        CREATE TABLE llm_facts (
            endpoint TEXT NOT NULL,
            model TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (endpoint, model, name)
        );
        """,
    )
