"""The diary's machine state: one SQLite file in the git-ignored state folder.

The schema evolves by the named migrations of ``state/migrations.py``, applied
in order and recorded in ``_migrations``. The catch-up journal's table is
``state/journal.py``'s; this module holds the rest: entries, drafts, the LLM
cache and ledger, review decisions and Batch API batches.

Read-only commands open the store with :func:`open_for_reading`: read-only (and
never migrated) when the state folder cannot be written, so ``costs``, ``show``
and ``review list`` work on a diary whose ``.paperdiary/`` is read-only.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from paperdiary.errors import DiaryError, WriteError, write_error
from paperdiary.fsutil import refuse_state_links
from paperdiary.state.migrations import MIGRATIONS

_BUSY_TIMEOUT_S = 30.0  # how long a statement waits for another process's write transaction
_FULL_BYTES = 256 * 1024  # SQLite reports a full disk as an I/O error when it cannot map its -shm file


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def store_write_error(exc: sqlite3.Error, path: Path) -> WriteError | None:
    """The one-line error for SQLite refusing to write the store at ``path`` (full disk, read-only), else None."""
    text = str(exc).lower()
    full = "disk is full" in text or ("disk i/o error" in text and _nearly_full(path.parent))
    if full:
        return write_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)))
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return write_error(OSError(errno.EROFS, str(exc), str(path)))
    return None


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _FULL_BYTES
    except OSError:
        return False


def open_for_reading(path: Path) -> Store:
    """The store at ``path`` for a command that only reads it.

    Opened as usual (migrated when behind) when its folder can be written; else
    read-only, or, when there is no store yet, an empty one in memory.
    """
    if _writable(path):
        return Store(path)
    if not path.exists():
        return Store(Path(":memory:"))
    return Store(path, read_only=True)


def _writable(path: Path) -> bool:
    """Whether SQLite can write ``path`` (and its journal files beside it), or create it."""
    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; ``immutable`` when SQLite cannot even create its shared-memory file beside it."""
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                             check_same_thread=False)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        # A WAL store in a read-only folder: no -shm can be made, so read the file as it is (no writer
        # can be changing it: the folder is read-only). What a killed writer left in the -wal file is
        # not seen until a writing command checkpoints it.
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None, check_same_thread=False)


@dataclass
class ReviewRecord:
    """What the user decided about one queued lesson (``paperdiary review``)."""

    id: str
    status: str  # "pending" (overrides only), "accepted", "rejected" or "applied"
    lesson: str | None = None  # the text as edited in review; None: as queued
    kind: str | None = None  # the kind the user chose; None: the merger's
    theme: str | None = None  # the theme the user chose; None: the merger's
    placement_json: str | None = None  # accepted: where it goes and its anchor (paperdiary.diary.review.Placement)
    readme_digest: str | None = None  # SHA-256 of README.md when decided
    block: str | None = None  # rejected: the item's lines in the queue file, to put back on undo
    position: int | None = None  # rejected: its index among the queue's items then
    synced: bool = False  # the queue file already shows the decision
    decided_at: str = ""


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


@dataclass(frozen=True)
class CatalogFileRow:
    """What the catalog cached about one markdown file of the diary."""

    path: str  # relative to the diary root, forward slashes, as on disk
    size: int
    mtime_ns: int  # -1: not to be trusted (changed too recently), compare the hash
    sha256: str
    parser: int  # version of the facts' shape
    facts_json: str


@dataclass(frozen=True)
class MapClusterRow:
    """One cluster of the last topic map: its id and name are kept by the next map's matching cluster."""

    id: int
    name: str
    name_source: str  # "keywords" or "llm"
    members: tuple[str, ...]  # entry paths relative to the diary root


class Store:
    """Thin typed access to the SQLite file.

    One connection, shared by the threads of a process (catch-up calls the LLM
    client from several workers) behind a lock; other processes are kept apart
    by SQLite itself (WAL mode, busy timeout).

    ``read_only``: open without writing anything (no WAL switch, no migrations);
    a store whose schema is behind cannot be read that way (``DiaryError``).
    """

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        if str(path) != ":memory:":
            refuse_state_links(path.parent)  # the store and its -wal, -shm, -journal files, the caches beside it
        if read_only:
            self.db = _connect_read_only(path)
            self.db.row_factory = sqlite3.Row
            self._check_migrated()
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        try:
            self._use_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.OperationalError as exc:
            self.db.close()
            refused = store_write_error(exc, path)
            if refused is None:
                raise
            raise refused from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _use_wal(self) -> None:
        """Switch to WAL mode; another process making the same new file may hold it a moment.

        (Changing the journal mode does not wait for the busy timeout: SQLite answers "locked" at once.)
        """
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _applied(self) -> set[str]:
        try:
            return {row[0] for row in self.db.execute("SELECT name FROM _migrations")}
        except sqlite3.OperationalError:  # no such table: a new store
            return set()

    def _migrate(self) -> None:
        """Apply the migrations this store lacks, in order, each in a write transaction of its own.

        Whether a migration is applied is read inside its transaction (BEGIN IMMEDIATE: one
        writer at a time), so two processes opening a new store never both apply one.
        """
        if {name for name, _ in MIGRATIONS} <= self._applied():
            return  # up to date: no write lock taken
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        for name, apply in MIGRATIONS:
            with self.transaction() as db:
                if name in self._applied():
                    continue
                apply(db)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, utcnow()))

    def _check_migrated(self) -> None:
        missing = [name for name, _ in MIGRATIONS if name not in self._applied()]
        if missing:
            self.db.close()
            raise DiaryError(
                f"the store {self.path} needs an upgrade ({len(missing)} migration(s)), and its folder cannot be "
                "written.", hint=f"Make {self.path.parent} writable and run the command again: it upgrades the "
                "store on the way.")

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
    def locked(self) -> Iterator[sqlite3.Connection]:
        """The connection, for one statement or a few, held against this process's other threads.

        Autocommit: each statement commits, unless it runs inside ``transaction()``.
        """
        with self._lock:
            yield self.db

    # entries ----------------------------------------------------------------
    def record_entry(self, record: EntryRecord) -> None:
        with self.locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO entries (path, arxiv_id, version, title, description, drafter,"
                " date_read, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (record.path, record.arxiv_id, record.version, record.title, record.description,
                 record.drafter, record.date_read, record.created_at),
            )

    def entries(self) -> list[EntryRecord]:
        with self.locked() as db:
            rows = db.execute(
                "SELECT path, arxiv_id, version, title, description, drafter, date_read, created_at"
                " FROM entries ORDER BY date_read, path"
            ).fetchall()
        return [EntryRecord(**dict(row)) for row in rows]

    def entries_for(self, arxiv_id: str) -> list[EntryRecord]:
        return [e for e in self.entries() if e.arxiv_id == arxiv_id]

    def rename_entry_paths(self, moves: list[tuple[str, str]]) -> None:
        """Entries moved on disk (``reorganize``): their records, stored drafts and cached catalog facts follow.

        (The journal's rows follow through ``Journal.rename_entry_paths``.)
        """
        pairs = [(new, old) for old, new in moves]
        with self.locked() as db:
            db.executemany("UPDATE OR REPLACE entries SET path = ? WHERE path = ?", pairs)
            db.executemany("UPDATE OR REPLACE drafts SET entry_path = ? WHERE entry_path = ?", pairs)
            db.executemany("UPDATE OR REPLACE catalog_files SET path = ? WHERE path = ?", pairs)

    # drafts -----------------------------------------------------------------
    def save_draft(self, entry_path: str, arxiv_id: str | None, draft: dict[str, Any]) -> None:
        with self.locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO drafts VALUES (?, ?, ?, ?)",
                (entry_path, arxiv_id, json.dumps(draft, ensure_ascii=False, default=str), utcnow()),
            )

    def drafts_for(self, key: str) -> list[dict[str, Any]]:
        """Drafts whose arXiv ID or entry path is ``key``, newest first."""
        with self.locked() as db:
            rows = db.execute(
                "SELECT entry_path, arxiv_id, draft_json, created_at FROM drafts"
                " WHERE arxiv_id = ? OR entry_path = ? ORDER BY created_at DESC",
                (key, key),
            ).fetchall()
        return [dict(row) | {"draft": json.loads(row["draft_json"])} for row in rows]

    # LLM: structured-output modes, response cache, call ledger (pipeline/paperdiary/llm/client.py) ---------
    def llm_mode(self, endpoint: str, model: str) -> str | None:
        """The structured-output mode last seen working for this endpoint and model."""
        with self.locked() as db:
            row = db.execute(
                "SELECT mode FROM llm_modes WHERE endpoint = ? AND model = ?", (endpoint, model)
            ).fetchone()
        return row["mode"] if row else None

    def save_llm_mode(self, endpoint: str, model: str, mode: str) -> None:
        with self.locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_modes (endpoint, model, mode, updated_at) VALUES (?, ?, ?, ?)",
                (endpoint, model, mode, utcnow()),
            )

    def llm_fact(self, endpoint: str, model: str, name: str) -> str | None:
        """What was learnt about this endpoint's model under ``name`` (``context_window``, ``streaming``)."""
        with self.locked() as db:
            row = db.execute(
                "SELECT value FROM llm_facts WHERE endpoint = ? AND model = ? AND name = ?", (endpoint, model, name)
            ).fetchone()
        return row["value"] if row else None

    def save_llm_fact(self, endpoint: str, model: str, name: str, value: str) -> None:
        with self.locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_facts (endpoint, model, name, value, updated_at) VALUES (?, ?, ?, ?, ?)",
                (endpoint, model, name, value, utcnow()),
            )

    def llm_cached(self, key: str) -> dict[str, Any] | None:
        """The cached answer for a request key: ``mode``, ``raw_content``, ``parsed_json``; or None."""
        with self.locked() as db:
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
        with self.locked() as db:
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
        with self.locked() as db:
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
        with self.locked() as db:
            return [dict(row) for row in db.execute("SELECT * FROM llm_calls ORDER BY id")]

    # review decisions (pipeline/paperdiary/diary/review.py) ----------------------------------
    def review_records(self) -> dict[str, ReviewRecord]:
        with self.locked() as db:
            rows = db.execute("SELECT * FROM review_decisions").fetchall()
        return {row["id"]: ReviewRecord(**(dict(row) | {"synced": bool(row["synced"])})) for row in rows}

    def save_review(self, record: ReviewRecord) -> None:
        """Insert or replace one decision; committed when this returns (autocommit)."""
        with self.locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO review_decisions (id, status, lesson, kind, theme, placement_json,"
                " readme_digest, block, position, synced, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, record.status, record.lesson, record.kind, record.theme, record.placement_json,
                 record.readme_digest, record.block, record.position, int(record.synced),
                 record.decided_at or utcnow()),
            )

    def save_reviews(self, records: list[ReviewRecord]) -> None:
        """Several decisions in one transaction: all or none."""
        with self.transaction():
            for record in records:
                self.save_review(record)

    def delete_review(self, item_id: str) -> None:
        with self.locked() as db:
            db.execute("DELETE FROM review_decisions WHERE id = ?", (item_id,))

    def mark_reviews_synced(self, ids: list[str]) -> None:
        with self.locked() as db:
            db.executemany("UPDATE review_decisions SET synced = 1 WHERE id = ?", [(i,) for i in ids])

    # Batch API (pipeline/paperdiary/llm/batch.py) ------------------------------------------------------------
    def save_batch(self, batch_id: str, *, endpoint: str, model: str, input_file_id: str, status: str,
                   requests: list[dict[str, Any]]) -> None:
        """Record a submitted batch and its requests (custom_id, paper, purpose, schema_name, mode, messages)."""
        now = utcnow()
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_batches (id, endpoint, model, input_file_id, status, requests,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (batch_id, endpoint, model, input_file_id, status, len(requests), now, now),
            )
            db.executemany(
                "INSERT OR REPLACE INTO llm_batch_requests (batch_id, custom_id, paper, purpose, schema_name,"
                " mode, messages_json, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                [(batch_id, r["custom_id"], r["paper"], r["purpose"], r["schema_name"], r["mode"],
                  json.dumps(r["messages"], ensure_ascii=False)) for r in requests],
            )

    def batches(self, *, open_only: bool = True) -> list[dict[str, Any]]:
        """Submitted batches, oldest first; ``open_only``: those whose answers are not collected yet."""
        query = "SELECT * FROM llm_batches"
        if open_only:
            query += " WHERE status NOT IN ('collected', 'failed', 'expired', 'cancelled')"
        with self.locked() as db:
            return [dict(row) for row in db.execute(query + " ORDER BY created_at, id")]

    def set_batch_status(self, batch_id: str, status: str) -> None:
        with self.locked() as db:
            db.execute("UPDATE llm_batches SET status = ?, updated_at = ? WHERE id = ?", (status, utcnow(), batch_id))

    def batch_requests(self, batch_id: str) -> list[dict[str, Any]]:
        with self.locked() as db:
            rows = db.execute(
                "SELECT * FROM llm_batch_requests WHERE batch_id = ? ORDER BY rowid", (batch_id,)
            ).fetchall()
        return [dict(row) | {"messages": json.loads(row["messages_json"])} for row in rows]

    def set_batch_request(self, batch_id: str, custom_id: str, status: str, error: str | None = None) -> None:
        with self.locked() as db:
            db.execute(
                "UPDATE llm_batch_requests SET status = ?, error = ? WHERE batch_id = ? AND custom_id = ?",
                (status, error, batch_id, custom_id),
            )

    def batch_request_keys(self) -> tuple[set[str], dict[str, str]]:
        """(custom_ids waiting in an open batch, {custom_id: error} of answers that came back unusable)."""
        with self.locked() as db:
            pending = db.execute(
                "SELECT r.custom_id FROM llm_batch_requests r JOIN llm_batches b ON b.id = r.batch_id"
                " WHERE r.status = 'pending' AND b.status NOT IN ('collected', 'failed', 'expired', 'cancelled')"
            ).fetchall()
            failed = db.execute(
                "SELECT custom_id, error FROM llm_batch_requests WHERE status = 'failed'"
            ).fetchall()
        return {row[0] for row in pending}, {row[0]: row[1] or "no valid answer" for row in failed}

    def forget_failed_batch_requests(self) -> int:
        """Drop failed batch answers so the requests may be sent again (--retry-failed)."""
        with self.locked() as db:
            return db.execute("DELETE FROM llm_batch_requests WHERE status = 'failed'").rowcount

    # diary catalog (pipeline/paperdiary/diary/catalog.py) -------------------------------------------------
    def catalog_files(self) -> dict[str, CatalogFileRow]:
        with self.locked() as db:
            rows = db.execute("SELECT path, size, mtime_ns, sha256, parser, facts_json FROM catalog_files").fetchall()
        return {row["path"]: CatalogFileRow(**dict(row)) for row in rows}

    def save_catalog_files(self, rows: list[CatalogFileRow], forget: list[str]) -> None:
        """Insert or replace ``rows`` and drop the rows of ``forget`` (files gone), in one transaction."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO catalog_files (path, size, mtime_ns, sha256, parser, facts_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(r.path, r.size, r.mtime_ns, r.sha256, r.parser, r.facts_json) for r in rows],
            )
            db.executemany("DELETE FROM catalog_files WHERE path = ?", [(path,) for path in forget])

    def catalog_meta(self, key: str) -> str | None:
        with self.locked() as db:
            row = db.execute("SELECT value FROM catalog_meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def catalog_meta_keys(self, prefix: str) -> list[str]:
        with self.locked() as db:
            rows = db.execute("SELECT key FROM catalog_meta WHERE substr(key, 1, ?) = ? ORDER BY key",
                              (len(prefix), prefix)).fetchall()
        return [row["key"] for row in rows]

    def save_catalog_meta(self, key: str, value: str) -> None:
        with self.locked() as db:
            db.execute("INSERT OR REPLACE INTO catalog_meta (key, value) VALUES (?, ?)", (key, value))

    # topic map (pipeline/paperdiary/diary/map/) -------------------------------------------------------------
    def embeddings(self, embedder: str, hashes: list[str]) -> dict[str, tuple[int, bytes]]:
        """Cached vectors by text hash: (dimension, float32 bytes), for the hashes that have one."""
        found: dict[str, tuple[int, bytes]] = {}
        with self.locked() as db:
            for start in range(0, len(hashes), 500):  # SQLite's limit on bound parameters
                chunk = hashes[start:start + 500]
                rows = db.execute(
                    f"SELECT text_sha256, dim, vector FROM embeddings WHERE embedder = ? AND text_sha256 IN"
                    f" ({','.join('?' * len(chunk))})", (embedder, *chunk)).fetchall()
                found.update((row["text_sha256"], (row["dim"], bytes(row["vector"]))) for row in rows)
        return found

    def save_embeddings(self, embedder: str, vectors: dict[str, tuple[int, bytes]]) -> None:
        now = utcnow()
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO embeddings (embedder, text_sha256, dim, vector, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(embedder, key, dim, data, now) for key, (dim, data) in vectors.items()],
            )

    def map_clusters(self) -> list[MapClusterRow]:
        with self.locked() as db:
            rows = db.execute("SELECT id, name, name_source, members_json FROM map_clusters ORDER BY id").fetchall()
        return [MapClusterRow(row["id"], row["name"], row["name_source"], tuple(json.loads(row["members_json"])))
                for row in rows]

    def save_map_clusters(self, rows: list[MapClusterRow]) -> None:
        """The clusters of the map just made, in place of the last map's (one transaction)."""
        now = utcnow()
        with self.transaction() as db:
            db.execute("DELETE FROM map_clusters")
            db.executemany(
                "INSERT INTO map_clusters (id, name, name_source, members_json, updated_at) VALUES (?, ?, ?, ?, ?)",
                [(r.id, r.name, r.name_source, json.dumps(list(r.members), ensure_ascii=False), now) for r in rows],
            )
