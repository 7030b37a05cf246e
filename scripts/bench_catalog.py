"""Catalog benchmark: cold and warm reads of a generated diary of N entries, and what is built on them.

The diary is written into a temporary folder: entries in month folders, topic
folders and ``entries/``, dates in every form the catalog reads (and some with
none), hand-written and drafted shapes, blog posts, and a README whose lessons
cite a third of them. Files are dated an hour back so the warm read trusts
their (size, mtime). Prints the seconds of a cold read (empty cache), a warm
read (nothing changed), and a warm read after one file changed, with how many
files each read and parsed; then the catalog's users on the warm diary: ``index``
(the Full Diary rebuilt), ``stats`` (the figures; the plots too when
``paperdiary[map]`` is installed) and ``search`` (cold: the index built;
warm: a query against the cached index). Goals at 1,000 entries: warm
catalog < 1 s, warm search < 100 ms.

Usage: python scripts/bench_catalog.py [N]   (N default 1000)
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.util import find_spec
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

from paperdiary.diary.catalog import Catalog
from paperdiary.diary.stats import ReadingStats
from paperdiary.settings import Settings, load_settings

GOAL_WARM_S = 1.0
GOAL_SEARCH_S = 0.1
TOPICS = ("Reinforcement Learning", "Robotics", "Self Improvement", "Training in General", "Open-Endedness")
_WORDS = ("model policy reward token agent robot scale data signal search planning memory vision language "
          "curriculum replay gradient entropy diffusion transformer").split()


def _date_line(day: date, rng: random.Random) -> str:
    forms = (
        lambda d: f"Date read: {d.day}th {d:%B %Y}",
        lambda d: f"**Date:** {d.day} {d:%B %Y}",
        lambda d: f"Date: {d:%d/%m/%Y}",
        lambda d: f"{d.isoformat()}",
        lambda d: f"Date read: {d:%B} {d.day}, {d.year}",
        lambda d: f"Date: {d:%d.%m.%Y}",
        lambda d: f"Date read: {d:%b} {d.day} {d.year}",
        lambda d: f"Date: {d:%Y/%m/%d}",
        lambda d: "",  # no date: git, the folder or the mtime must say
    )
    return rng.choice(forms)(day)


def make_diary(root: Path, n: int, seed: int = 7) -> list[str]:
    """Write a diary of ``n`` entries below ``root``; returns their paths relative to it."""
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    paths: list[str] = []
    for i in range(n):
        day = start + timedelta(days=i * 700 // max(n, 1))
        name = "".join(w.capitalize() for w in rng.sample(_WORDS, 3)) + str(i)
        layout = i % 3
        if layout == 0:
            relpath = f"{day:%B %Y}/{day.day}th{day:%B}{name}.md"
        elif layout == 1:
            relpath = f"{TOPICS[i % len(TOPICS)]}/{name}.md"
        else:
            relpath = f"entries/{day:%B %Y}/{day.day}th{day:%B}{name}.md"
        words = " ".join(rng.choices(_WORDS, k=40))
        title = ("## " if i % 4 == 0 else "# ") + name
        link = (f"[arXiv link](https://arxiv.org/abs/{2400 + i % 12:04d}.{10000 + i:05d})" if i % 7
                else "https://blog.example.com/post")
        body = (f"{title}\n{_date_line(day, rng)}\n\n{link}\n\n**Aims:** to study {words}.\n\n## Key Points\n"
                f"- The {rng.choice(_WORDS)} matters. {words}\n\n## My Notes\n{words}\n")
        if i % 5 == 0:
            body += f'\n<!-- paperdiary: {{"arxiv_id": "2401.{10000 + i:05d}", "description": "About {name}."}} -->\n'
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        paths.append(relpath)
    lessons = "\n".join(f"{k + 1}. **Lesson {k}** on {rng.choice(_WORDS)} ([E{k}]({quote(p)}))."
                        for k, p in enumerate(paths[::3]))
    (root / "README.md").write_text(f"# Diary\n\n## Interesting Methods and Lesson Learned\n### All\n{lessons}\n",
                                    encoding="utf-8")
    an_hour_ago = time.time() - 3600
    for dirpath, _, filenames in os.walk(root):
        for filename in filenames:
            os.utime(Path(dirpath) / filename, (an_hour_ago, an_hour_ago))
    _commit(root)
    return paths


def _commit(root: Path) -> None:
    """Make the diary a git repository, as real ones are: undated entries then take their first commit's date."""
    env = os.environ | {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org", "GIT_COMMITTER_NAME":
                        "bench", "GIT_COMMITTER_EMAIL": "bench@example.org", "GIT_CONFIG_GLOBAL": os.devnull}
    try:
        for args in (("init", "-q"), ("add", "-A"), ("-c", "commit.gpgsign=false", "commit", "-q", "-m", "diary")):
            subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        print("(git unavailable: undated entries fall back to folders and mtimes)")


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _index(settings: Settings) -> object:
    from paperdiary.diary.index import plan_index

    return plan_index(settings)


def _stats(settings: Settings) -> ReadingStats:
    from paperdiary.diary.stats import reading_stats

    return reading_stats(Catalog(settings).entries())


def _plots(settings: Settings) -> object:
    from paperdiary.diary.plots import write_plots

    return write_plots(settings, _stats(settings))


def _search(settings: Settings) -> object:
    from paperdiary.diary.search import search_diary

    return search_diary(settings, "reward model entropy")


# Users of the catalog, timed on the warm diary: name -> callable(settings). The search's first run builds
# its index (cold); warm searches, which answer from it, are timed after these.
TIMINGS: dict[str, Callable[[Settings], object]] = {"index": _index, "stats": _stats, "stats + plots": _plots,
                                                    "search cold": _search}
WARM_SEARCHES = 7  # their median: once plots have loaded matplotlib, a garbage collection may land in any one


def main(n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "diary"
        paths = make_diary(root, n)
        settings = load_settings(root, env={})

        def read() -> Catalog:
            catalog = Catalog(settings)
            catalog.entries()
            return catalog

        print(f"diary of {n} entries ({sum(1 for p in paths if p.startswith('entries/'))} under entries/, "
              f"the rest in month and topic folders)")
        for label in ("cold", "warm"):
            seconds, catalog = timed(read)
            assert isinstance(catalog, Catalog)
            s = catalog.stats
            print(f"{label:<14} {seconds:7.3f} s   files {s.files}, read {s.read}, parsed {s.parsed}"
                  f"{', git log' if s.git_log else ''}")
        changed = root / paths[0]
        changed.write_text(changed.read_text(encoding="utf-8") + "\nOne more note.\n", encoding="utf-8")
        seconds, catalog = timed(read)
        assert isinstance(catalog, Catalog)
        print(f"{'warm, 1 edit':<14} {seconds:7.3f} s   files {catalog.stats.files}, read {catalog.stats.read}, "
              f"parsed {catalog.stats.parsed}")
        warm, _ = timed(read)
        # Dated back like the rest: a file changed within the last seconds is never trusted by its stat,
        # and search would rebuild its index on every query until then.
        an_hour_ago = time.time() - 3600
        os.utime(changed, (an_hour_ago, an_hour_ago))
        verdict = "ok" if warm < GOAL_WARM_S else "SLOW"
        print(f"warm goal      < {GOAL_WARM_S:.1f} s: {verdict} ({warm:.3f} s)")
        sources: dict[str, int] = {}
        for entry in catalog.entries():
            sources[entry.date_source.value] = sources.get(entry.date_source.value, 0) + 1
        print("date sources   " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
        for name, action in TIMINGS.items():
            if name == "stats + plots" and find_spec("plotly") is None:
                print(f"{name:<14}     n/a   (pip install 'paperdiary[map]')")
                continue
            seconds, _ = timed(lambda: action(settings))  # noqa: B023 - called at once
            print(f"{name:<14} {seconds:7.3f} s")
        warm_search = statistics.median(timed(lambda: _search(settings))[0] for _ in range(WARM_SEARCHES))
        print(f"{'search warm':<14} {warm_search:7.3f} s   median of {WARM_SEARCHES}")
        verdict = "ok" if warm_search < GOAL_SEARCH_S else "SLOW"
        print(f"search goal    < {GOAL_SEARCH_S * 1000:.0f} ms: {verdict} ({warm_search * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
