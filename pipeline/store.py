"""The diary's machine state: one SQLite file in the git-ignored state folder.

The schema evolves by a list of small named migrations, applied in order and
recorded in ``_migrations``; a migration is never edited once released, only
followed by another.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

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
    # One row per stage of each draft: what it took, for --verbose and benchmarks.
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


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class EntryRecord:
    path: str
    arxiv_id: str | None
    version: int | None
    title: str
    description: str
    drafter: str
    date_read: str
    created_at: str


class Store:
    """Thin typed access to the SQLite file.

    One connection, shared by the threads of a process (catch-up calls the LLM
    client from several workers) behind a lock; other processes are kept apart
    by SQLite itself (WAL mode, busy timeout).
    """

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        done = {row[0] for row in self.db.execute("SELECT name FROM _migrations")}
        for name, apply in MIGRATIONS:
            if name in done:
                continue
            with self.transaction():
                apply(self.db)
                self.db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, utcnow()))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self.db

    # papers -----------------------------------------------------------------
    def save_paper(self, arxiv_id: str, version: int | None, title: str, meta: dict[str, Any]) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO papers VALUES (?, ?, ?, ?, ?)",
                (arxiv_id, version, title, json.dumps(meta, default=str), utcnow()),
            )

    # entries ----------------------------------------------------------------
    def record_entry(self, record: EntryRecord) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO entries (path, arxiv_id, version, title, description, drafter,"
                " date_read, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (record.path, record.arxiv_id, record.version, record.title, record.description,
                 record.drafter, record.date_read, record.created_at),
            )

    def entries(self) -> list[EntryRecord]:
        with self._locked() as db:
            rows = db.execute(
                "SELECT path, arxiv_id, version, title, description, drafter, date_read, created_at"
                " FROM entries ORDER BY date_read, path"
            ).fetchall()
        return [EntryRecord(**dict(row)) for row in rows]

    def entries_for(self, arxiv_id: str) -> list[EntryRecord]:
        return [e for e in self.entries() if e.arxiv_id == arxiv_id]

    # drafts -----------------------------------------------------------------
    def save_draft(self, entry_path: str, arxiv_id: str | None, draft: dict[str, Any]) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO drafts VALUES (?, ?, ?, ?)",
                (entry_path, arxiv_id, json.dumps(draft, ensure_ascii=False, default=str), utcnow()),
            )

    def drafts_for(self, key: str) -> list[dict[str, Any]]:
        """Drafts whose arXiv ID or entry path is ``key``, newest first."""
        with self._locked() as db:
            rows = db.execute(
                "SELECT entry_path, arxiv_id, draft_json, created_at FROM drafts"
                " WHERE arxiv_id = ? OR entry_path = ? ORDER BY created_at DESC",
                (key, key),
            ).fetchall()
        return [dict(row) | {"draft": json.loads(row["draft_json"])} for row in rows]

    # stage runs -------------------------------------------------------------
    def record_stage(self, paper: str, stage: str, seconds: float, detail: dict[str, Any]) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT INTO stage_runs (paper, stage, seconds, detail_json, created_at) VALUES (?, ?, ?, ?, ?)",
                (paper, stage, seconds, json.dumps(detail, default=str), utcnow()),
            )

    # LLM: structured-output modes, response cache, call ledger (pipeline/llm.py) ---------
    def llm_mode(self, endpoint: str, model: str) -> str | None:
        """The structured-output mode last seen working for this endpoint and model."""
        with self._locked() as db:
            row = db.execute(
                "SELECT mode FROM llm_modes WHERE endpoint = ? AND model = ?", (endpoint, model)
            ).fetchone()
        return row["mode"] if row else None

    def save_llm_mode(self, endpoint: str, model: str, mode: str) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_modes (endpoint, model, mode, updated_at) VALUES (?, ?, ?, ?)",
                (endpoint, model, mode, utcnow()),
            )

    def llm_cached(self, key: str) -> dict[str, Any] | None:
        """The cached answer for a request key: ``mode``, ``raw_content``, ``parsed_json``; or None."""
        with self._locked() as db:
            row = db.execute(
                "SELECT mode, raw_content, parsed_json FROM llm_cache WHERE key = ?", (key,)
            ).fetchone()
        return dict(row) if row else None

    def save_llm_cache(
        self,
        key: str,
        *,
        endpoint: str,
        model: str,
        schema_name: str,
        mode: str,
        request: dict[str, Any],
        raw_content: str,
        parsed: Any,
    ) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_cache (key, endpoint, model, schema_name, mode, request_json,"
                " raw_content, parsed_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, endpoint, model, schema_name, mode, json.dumps(request, ensure_ascii=False),
                 raw_content, json.dumps(parsed, ensure_ascii=False), utcnow()),
            )

    def record_llm_call(
        self,
        *,
        paper: str | None,
        purpose: str,
        model: str,
        endpoint: str,
        mode: str | None,
        status: str,
        cached: bool = False,
        batch: bool = False,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        tokens_estimated: bool = False,
        latency_s: float = 0.0,
        cost_usd: float | None = None,
        cache_key: str | None = None,
    ) -> int:
        """Append a ledger row; returns its id (``LLMResult.call_id``)."""
        with self._locked() as db:
            cursor = db.execute(
                "INSERT INTO llm_calls (created_at, paper, purpose, model, endpoint, mode, status, cached,"
                " batch, prompt_tokens, completion_tokens, tokens_estimated, latency_s, cost_usd, cache_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (utcnow(), paper, purpose, model, endpoint, mode, status, int(cached), int(batch),
                 prompt_tokens, completion_tokens, int(tokens_estimated), latency_s, cost_usd, cache_key),
            )
            return int(cursor.lastrowid or 0)

    def llm_calls(self) -> list[dict[str, Any]]:
        """Every ledger row, oldest first, as dicts keyed by column name."""
        with self._locked() as db:
            return [dict(row) for row in db.execute("SELECT * FROM llm_calls ORDER BY id")]
