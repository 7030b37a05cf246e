"""The catalog on real hand-kept diaries, against what a careful reader found in each (``truth/NAME.json``).

For each diary: notes found (recall), non-notes taken for notes (precision), titles exactly right, dates
right (to the day where the truth has a day, to the month where it has a month; where the truth has no
date, the first-commit date it records), and arXiv IDs right. A truth file may cover a subset of the
notes: files outside it count for nothing. Goals on every diary: recall and precision >= 0.95, titles and
dates >= 0.9, IDs >= 0.95.

Usage:
    python scripts/bench_real_diaries.py [--truth DIR] [--verbose] [DIARY ...]

A DIARY is a cloned diary folder (its truth is ``DIR/<folder name>.json``; a ``cat-`` or similar prefix
is ignored when no truth has the full name) or a git bundle. Without one, every ``*.bundle`` beside the
truth folder (default: the nearest ``shared/diaries/truth`` above the project) is cloned into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from paperdiary.diary.catalog import Catalog
from paperdiary.settings import Settings

GOALS = {"recall": 0.95, "precision": 0.95, "titles": 0.9, "dates": 0.9, "ids": 0.95}
def _default_truth() -> Path:
    """The nearest ``shared/diaries/truth`` folder above the project (the team's shared material)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "shared" / "diaries" / "truth").is_dir():
            return folder / "shared" / "diaries" / "truth"
    return Path("shared") / "diaries" / "truth"


DEFAULT_TRUTH = _default_truth()


@dataclass
class Score:
    name: str
    notes: int = 0
    found: int = 0
    covered_entries: int = 0  # entries the truth covers (as note or non-note)
    false_notes: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    titles: int = 0
    dates: int = 0
    ids: int = 0
    wrong: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def ratio(self, what: str) -> float:
        if what == "recall":
            return self.found / self.notes if self.notes else 1.0
        if what == "precision":
            return (self.covered_entries - len(self.false_notes)) / self.covered_entries if self.covered_entries else 1.0
        return getattr(self, what) / self.found if self.found else 0.0


def _date_right(entry_day: str, precision: str, truth: str) -> bool:
    """``truth`` is YYYY, YYYY-MM or YYYY-MM-DD: compared at its own precision (and never finer than ours)."""
    width = len(truth)
    ours = {"day": 10, "month": 7, "term": 7, "year": 4}.get(precision, 10)
    return ours >= width and entry_day[:width] == truth


def score(root: Path, truth: dict, name: str) -> Score:
    result = Score(name)
    # A state folder of its own, removed after: the read is cold, and the diary's own cache is left alone.
    state = f".paperdiary-bench-{os.getpid()}"
    try:
        started = time.perf_counter()
        catalog = Catalog(Settings(diary=root, state_dir=state))
        entries = {e.relpath: e for e in catalog.entries()}
        result.seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(root / state, ignore_errors=True)
    notes = {n["path"]: n for n in truth["notes"]}
    non_notes = {n["path"] for n in truth.get("non_notes", [])}
    result.notes = len(notes)
    for path in entries:
        if path in notes or path in non_notes:
            result.covered_entries += 1
        if path in non_notes:
            result.false_notes.append(path)
    for path, note in notes.items():
        entry = entries.get(path)
        if entry is None:
            result.missed.append(path)
            continue
        result.found += 1
        if entry.title == note["title"]:
            result.titles += 1
        else:
            result.wrong.append(f"title {path}: {entry.title!r} != {note['title']!r}")
        expected = note.get("date") or note.get("first_commit_date")
        precision = getattr(entry, "date_precision", "day")
        precision = getattr(precision, "value", precision)
        if expected and _date_right(entry.date_read.isoformat(), precision, expected):
            result.dates += 1
        else:
            result.wrong.append(f"date {path}: {entry.date_read} ({precision}, {entry.date_source.value}) "
                                f"!= {expected}")
        if (entry.arxiv_id or None) == note.get("arxiv_id"):
            result.ids += 1
        else:
            result.wrong.append(f"arXiv {path}: {entry.arxiv_id} != {note.get('arxiv_id')}")
    return result


def _truth_for(folder: Path, truth_dir: Path) -> tuple[str, dict]:
    candidates = sorted(truth_dir.glob("*.json"))
    for path in candidates:
        if path.stem == folder.name:
            return path.stem, json.loads(path.read_text(encoding="utf-8"))
    for path in candidates:
        if folder.name.endswith(path.stem):
            return path.stem, json.loads(path.read_text(encoding="utf-8"))
    raise SystemExit(f"no truth file for {folder} in {truth_dir}: name the folder after one of "
                     f"{', '.join(p.stem for p in candidates)}.")


def _clone(bundle: Path, into: Path) -> Path:
    target = into / bundle.stem
    subprocess.run(["git", "clone", "-q", str(bundle), str(target)], check=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("diaries", nargs="*", type=Path)
    parser.add_argument("--truth", type=Path, default=DEFAULT_TRUTH)
    parser.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    truth_dir = args.truth.resolve()
    if not truth_dir.is_dir():
        raise SystemExit(f"no truth folder at {truth_dir}: pass --truth DIR.")
    with tempfile.TemporaryDirectory(prefix="bench-real-diaries-") as tmp:
        folders = []
        for given in args.diaries or sorted(truth_dir.parent.glob("*.bundle")):
            folders.append(_clone(given, Path(tmp)) if given.suffix == ".bundle" else given.resolve())
        scores = [score(folder, truth, name) for folder in folders for name, truth in [_truth_for(folder, truth_dir)]]
    header = f"{'diary':<40} {'notes':>5} {'recall':>7} {'precis.':>7} {'titles':>7} {'dates':>7} {'ids':>7} {'cold s':>7}"
    print(header)
    print("-" * len(header))
    failed = False
    for s in scores:
        cells = []
        for what in ("recall", "precision", "titles", "dates", "ids"):
            value = s.ratio(what)
            failed |= value < GOALS[what]
            cells.append(f"{value:>6.3f}{'' if value >= GOALS[what] else '!'}")
        print(f"{s.name:<40} {s.notes:>5} " + " ".join(f"{c:>7}" for c in cells) + f" {s.seconds:>7.2f}")
    print("goals: " + ", ".join(f"{k} >= {v}" for k, v in GOALS.items()) + " ('!' marks a miss)")
    for s in scores:
        if args.verbose and (s.missed or s.false_notes or s.wrong):
            print(f"\n{s.name}:")
            for path in s.missed:
                print(f"  missed {path}")
            for path in s.false_notes:
                print(f"  non-note taken for a note: {path}")
            for line in s.wrong:
                print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
