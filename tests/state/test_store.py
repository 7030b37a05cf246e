"""The SQLite store: migrations apply once, in order, and state survives reopening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from paperdiary.state.migrations import MIGRATIONS
from paperdiary.state.store import EntryRecord, Store


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path):
        pass
    with Store(path) as store:
        names = [r[0] for r in store.db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [name for name, _ in MIGRATIONS]
    assert len(set(names)) == len(names)


def test_entries_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    record = EntryRecord("entries/a.md", "2506.01939", 2, "T", "d", "offline", "2025-06-11", "now")
    with Store(path) as store:
        store.record_entry(record)
    with Store(path) as store:
        assert store.entries_for("2506.01939") == [record]


def test_failed_migration_leaves_no_trace(tmp_path: Path) -> None:
    path = tmp_path / "s.db"

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    MIGRATIONS.append(("m999_broken", broken))
    try:
        try:
            Store(path)
        except RuntimeError:
            pass
        db = sqlite3.connect(path)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half" not in tables
        assert "m999_broken" not in {r[0] for r in db.execute("SELECT name FROM _migrations")}
    finally:
        MIGRATIONS.pop()
