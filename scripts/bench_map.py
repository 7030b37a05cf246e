"""Topic map benchmark: how well the map finds real topics, and how long it takes.

Quality (``--diaries DIR``, a folder of diaries as git bundles): each labelled diary is cloned into a
temporary folder and mapped as ``paperdiary map`` maps it; its clusters are scored against the topics its
author filed the notes under (purity and NMI), next to plain K-Means on the same vectors at k = the number
of real topics, 6, 11 and 15, and to k chosen by silhouette alone (the old rule). Labelled diaries:

* Jo-wang+Daily-Paper-Reading: the top-level topic folder of each note (README.md and templates left out);
* gcunhase+PaperNotes: the section of README.md's topic index each note is listed under (from
  ``DIR/truth/gcunhase+PaperNotes.json``), top level ("NLP") and full ("NLP > Attention");
* the placement set (tests/fixtures/placement, drafted entries): the README theme citing each entry.

Speed (``N``): a diary of N generated entries from four topics (tests/fakes/topic_diary.py) mapped twice with
``make_map``: cold (empty embedding cache, WordLlama loaded from its wheel) and warm. Prints seconds per step,
the adjusted Rand index against the topics, and the goals: 500 entries under 20 s cold, 5 s warm; t-SNE
(the ``project`` step) under 3 s.

Usage: python scripts/bench_map.py [N] [--diaries ../shared/diaries]   (N default 500; 0 skips the speed run)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: E402

from paperdiary.diary.catalog import CatalogEntry  # noqa: E402
from paperdiary.diary.home import init_diary  # noqa: E402
from paperdiary.diary.map.build import build_map, map_entries, structure_prior  # noqa: E402
from paperdiary.diary.map.cluster import _kmeans  # noqa: E402
from paperdiary.diary.map.embed import embedder_for  # noqa: E402
from paperdiary.diary.map.make import make_map  # noqa: E402
from paperdiary.settings import load_settings  # noqa: E402
from paperdiary.state.store import Store  # noqa: E402
from tests.diary.placement_set import write_diary  # noqa: E402
from tests.fakes.topic_diary import TOPICS, write_topic_diary  # noqa: E402

GOAL_COLD_S = 20.0
GOAL_WARM_S = 5.0
GOAL_TSNE_S = 3.0
GOAL_PURITY, GOAL_NMI, GOAL_MAX_K = 0.6, 0.45, 15
STEPS = ("catalog", "embed", "project", "cluster", "name", "render")
Labeller = Callable[[list[CatalogEntry]], dict[str, str]]


def purity(truth: list[str], found: list[int]) -> float:
    best: Counter[int] = Counter()
    for (cluster_id, _), n in Counter(zip(found, truth, strict=True)).items():
        best[cluster_id] = max(best[cluster_id], n)
    return sum(best.values()) / len(truth)


def score(labels: dict[str, str], found: dict[str, int]) -> tuple[float, float]:
    paths = sorted(p for p in labels if p in found)
    truth, got = [labels[p] for p in paths], [found[p] for p in paths]
    return purity(truth, got), normalized_mutual_info_score(truth, got)


# --------------------------------------------------------------------------- labelled diaries


def jo_folders(diaries: Path) -> Labeller:
    truth = json.loads((diaries / "truth" / "Jo-wang+Daily-Paper-Reading.json").read_text())
    non_notes = {n["path"] for n in truth["non_notes"]}
    return lambda entries: {e.relpath: e.relpath.split("/")[0] for e in entries
                            if "/" in e.relpath and e.relpath not in non_notes}


def gc_topics(diaries: Path, depth: int | None) -> Labeller:
    truth = json.loads((diaries / "truth" / "gcunhase+PaperNotes.json").read_text())
    topics = {n["path"]: " > ".join(n["topic"].split(" > ")[:depth]) for n in truth["notes"] if n["topic"]}
    return lambda entries: {e.relpath: topics[e.relpath] for e in entries if e.relpath in topics}


def placement_themes(entries: list[CatalogEntry]) -> dict[str, str]:
    return {e.relpath: e.themes[0] for e in entries if e.themes}


def quality(diaries: Path) -> None:
    labelled = [("Jo-wang+Daily-Paper-Reading", "topic folders", jo_folders(diaries)),
                ("gcunhase+PaperNotes", "README sections", gc_topics(diaries, 1)),
                ("gcunhase+PaperNotes", "README subsections", gc_topics(diaries, None)),
                ("placement set", "README themes", placement_themes)]
    print(f"{'diary (truth)':<46}{'n':>4}{'topics':>7}  {'clustering':<16}{'k':>3}{'purity':>8}{'NMI':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, truth_name, labeller in labelled:
            root = Path(tmp) / name / truth_name.replace(" ", "-")
            if name == "placement set":
                root.mkdir(parents=True)
                write_diary(root)
            else:
                subprocess.run(["git", "clone", "-q", str(diaries / f"{name}.bundle"), str(root)], check=True)
            settings = load_settings(root, env={})
            with Store(settings.db_path) as store:
                entries = map_entries(settings, store)
                labels = labeller(entries)
                started = time.perf_counter()
                topic_map = build_map(settings, store, embedder_for(settings, store), entries=entries)
                seconds = time.perf_counter() - started
            topics = len(set(labels.values()))
            head = f"{name[:24]} ({truth_name})"
            found = {p.relpath: p.cluster_id if p.cluster_id is not None else -1 for p in topic_map.points}
            p, m = score(labels, found)
            k = len(topic_map.clusters)
            met = "goal met" if p >= GOAL_PURITY and m >= GOAL_NMI and k <= GOAL_MAX_K else "goal not met"
            print(f"{head:<46}{len(labels):>4}{topics:>7}  {'paperdiary map':<16}{k:>3}{p:>8.2f}{m:>6.2f}"
                  f"  ({seconds:.1f} s; {met if topics >= 6 else 'fewer than 6 topics'})")
            rows = {p.relpath: n for n, p in enumerate(topic_map.points)}
            reduced = topic_map.reduced
            silhouette_only = _silhouette_only(reduced)
            for label, ks in (("K-Means", sorted({topics, 6, 11, 15})),):
                for k in ks:
                    if k >= len(reduced):
                        continue
                    got = _kmeans(reduced, k, 0)
                    p, m = score(labels, {path: int(got[n]) for path, n in rows.items()})
                    print(f"{'':<46}{'':>4}{'':>7}  {label:<16}{k:>3}{p:>8.2f}{m:>6.2f}")
            k, got = silhouette_only
            p, m = score(labels, {path: int(got[n]) for path, n in rows.items()})
            print(f"{'':<46}{'':>4}{'':>7}  {'silhouette only':<16}{k:>3}{p:>8.2f}{m:>6.2f}")
            print(f"{'':<52}why: {topic_map.method}")
            print(f"{'':<52}prior: {structure_prior(settings, entries).source}; names: "
                  + "; ".join(f"{c.name} ({len(c.members)})" for c in topic_map.clusters))


def _silhouette_only(reduced):  # type: ignore[no-untyped-def]
    """The old rule: the k in 2-12 with the best silhouette."""
    from sklearn.metrics import silhouette_score

    best = max(((silhouette_score(reduced, labels), k, labels)
                for k in range(2, min(12, len(reduced) - 1) + 1)
                for labels in [_kmeans(reduced, k, 0)]), key=lambda row: row[0])
    return best[1], best[2]


# --------------------------------------------------------------------------- speed


def speed(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "diary"
        init_diary(root)
        written = write_topic_diary(root, max(1, n // len(TOPICS)))
        settings = load_settings(root, env={})
        truth = {entry.relpath: entry.topic for entry in written}
        print(f"\n{len(written)} generated entries, {len(TOPICS)} topics")
        print(f"{'run':<6}" + "".join(f"{step:>9}" for step in STEPS) + f"{'total':>9}{'ARI':>7}")
        for run, goal in (("cold", GOAL_COLD_S), ("warm", GOAL_WARM_S)):
            started = time.perf_counter()
            with Store(settings.db_path) as store:
                outcome = make_map(settings, store, suggest=False)
            total = time.perf_counter() - started
            points = outcome.topic_map.points
            ari = adjusted_rand_score([truth[p.relpath] for p in points], [p.cluster_id for p in points])
            cells = "".join(f"{outcome.timings.get(step, 0.0):>9.2f}" for step in STEPS)
            verdict = "met" if total < goal else "NOT met"
            tsne = "met" if outcome.timings.get("project", 0.0) < GOAL_TSNE_S else "NOT met"
            print(f"{run:<6}{cells}{total:>9.2f}{ari:>7.2f}   goal < {goal:g} s: {verdict}; "
                  f"t-SNE < {GOAL_TSNE_S:g} s: {tsne}")
        print(f"clustering: {outcome.topic_map.method}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=500, help="generated entries for the speed run (0: none)")
    parser.add_argument("--diaries", type=Path, help="a folder of labelled diaries as git bundles, with truth/")
    args = parser.parse_args()
    if args.diaries:
        quality(args.diaries)
    if args.n:
        speed(args.n)


if __name__ == "__main__":
    main()
