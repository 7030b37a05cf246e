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


def test_a_read_only_folder_is_read_without_writing_and_an_old_store_says_what_to_do(tmp_path: Path) -> None:
    import pytest

    from paperdiary.errors import DiaryError
    from paperdiary.state.store import open_for_reading
    from tests.fakes.mounts import read_only

    folder = tmp_path / ".paperdiary"
    record = EntryRecord("entries/a.md", "2506.01939", 2, "T", "d", "offline", "2025-06-11", "now")
    with Store(folder / "paperdiary.db") as store:
        store.record_entry(record)
    with read_only(folder), open_for_reading(folder / "paperdiary.db") as store:
        assert store.read_only and store.entries() == [record]
    with sqlite3.connect(folder / "paperdiary.db") as db:  # as a store made by an older release
        db.execute("DELETE FROM _migrations WHERE name = ?", (MIGRATIONS[-1][0],))
    db.close()
    with read_only(folder), pytest.raises(DiaryError, match=r"needs an upgrade .* Make .* writable"):
        open_for_reading(folder / "paperdiary.db")
    with read_only(tmp_path):  # no store at all, and none can be made: an empty one
        assert open_for_reading(tmp_path / "none" / "paperdiary.db").entries() == []
