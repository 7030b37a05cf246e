"""Topic map benchmark: embedding, projection, clustering, naming and rendering times for N generated entries.

A diary of N entries from four topics (tests/fakes/topic_diary.py) is written into a temporary folder and
mapped twice with ``make_map``, as ``paperdiary map`` does: cold (new process state, empty embedding cache,
WordLlama loaded from its wheel) and warm (every vector cached, the model loaded). Prints seconds per step,
the total, the adjusted Rand index of the clusters against the topics, and whether the goals are met:
500 entries in under 20 s cold, under 5 s warm, on 2 cores.

Usage: python scripts/bench_map.py [N]   (N default 500)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from paperdiary.diary.home import init_diary  # noqa: E402
from paperdiary.diary.map.make import make_map  # noqa: E402
from paperdiary.settings import load_settings  # noqa: E402
from paperdiary.state.store import Store  # noqa: E402
from tests.fakes.topic_diary import TOPICS, write_topic_diary  # noqa: E402

GOAL_COLD_S = 20.0
GOAL_WARM_S = 5.0
STEPS = ("catalog", "embed", "project", "cluster", "name", "render")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "diary"
        init_diary(root)
        written = write_topic_diary(root, max(1, n // len(TOPICS)))
        settings = load_settings(root, env={})
        truth = {entry.relpath: entry.topic for entry in written}
        print(f"{len(written)} entries, {len(TOPICS)} topics")
        print(f"{'run':<6}" + "".join(f"{step:>9}" for step in STEPS) + f"{'total':>9}{'ARI':>7}")
        for run, goal in (("cold", GOAL_COLD_S), ("warm", GOAL_WARM_S)):
            started = time.perf_counter()
            with Store(settings.db_path) as store:
                outcome = make_map(settings, store, suggest=False)
            total = time.perf_counter() - started
            points = outcome.topic_map.points
            ari = adjusted_rand_score([truth[p.relpath] for p in points], [p.cluster_id for p in points])
            cells = "".join(f"{outcome.timings.get(step, 0.0):>9.2f}" for step in STEPS)
            verdict = "met" if total < goal or len(written) < 500 else "NOT met"
            print(f"{run:<6}{cells}{total:>9.2f}{ari:>7.2f}   goal < {goal:g} s at 500: {verdict}")
        print(f"clustering: {outcome.topic_map.method}")


if __name__ == "__main__":
    main()
