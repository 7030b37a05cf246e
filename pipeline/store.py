"""The diary's machine state: one SQLite file in the git-ignored state folder.

The schema evolves by a list of small named migrations, applied in order and
recorded in ``_migrations``; a migration is never edited once released, only
followed by another.
"""

from __future__ import annotations

import json
import sqlite3
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
    """Thin typed access to the SQLite file. One instance per process."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
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

    def transaction(self) -> "_Transaction":
        return _Transaction(self.db)

    # papers -----------------------------------------------------------------
    def save_paper(self, arxiv_id: str, version: int | None, title: str, meta: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO papers VALUES (?, ?, ?, ?, ?)",
            (arxiv_id, version, title, json.dumps(meta, default=str), utcnow()),
        )

    # entries ----------------------------------------------------------------
    def record_entry(self, record: EntryRecord) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO entries (path, arxiv_id, version, title, description, drafter,"
            " date_read, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (record.path, record.arxiv_id, record.version, record.title, record.description,
             record.drafter, record.date_read, record.created_at),
        )

    def entries(self) -> Iterator[EntryRecord]:
        for row in self.db.execute(
            "SELECT path, arxiv_id, version, title, description, drafter, date_read, created_at"
            " FROM entries ORDER BY date_read, path"
        ):
            yield EntryRecord(**dict(row))

    def entries_for(self, arxiv_id: str) -> list[EntryRecord]:
        return [e for e in self.entries() if e.arxiv_id == arxiv_id]

    # stage runs -------------------------------------------------------------
    def record_stage(self, paper: str, stage: str, seconds: float, detail: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO stage_runs (paper, stage, seconds, detail_json, created_at) VALUES (?, ?, ?, ?, ?)",
            (paper, stage, seconds, json.dumps(detail, default=str), utcnow()),
        )


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
