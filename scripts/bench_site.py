"""Site benchmark: the time `paperdiary site` takes to build the site of N generated entries, and its size.

A diary of N entries from four topics (tests/fakes/topic_diary.py), with a lesson per entry under a theme of
the README, is written into a temporary folder and built twice with ``build_site``, as ``paperdiary site``
does: cold (the topic map's embeddings computed) and warm (cached, as on a second run). Prints seconds per
step, the total, the pages and the size of the site, and whether the goal is met: 500 entries in under 20 s.

Usage: python scripts/bench_site.py [N]   (N default 500)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperdiary.diary.home import init_diary  # noqa: E402
from paperdiary.settings import load_settings  # noqa: E402
from paperdiary.site import SiteOptions, build_site  # noqa: E402
from paperdiary.state.store import Store  # noqa: E402
from tests.fakes.topic_diary import TOPICS, write_topic_diary  # noqa: E402

GOAL_S = 20.0


class _Steps:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def step_started(self, step: str, label: str) -> None:
        pass

    def step_finished(self, step: str, seconds: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + seconds

    def note(self, text: str) -> None:
        pass


def _with_lessons(root: Path, written: list) -> None:
    """One lesson per entry, under a theme per topic, each linking to its entry as a diarist writes them."""
    readme = root / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("## Interesting Methods")) + 2
    block = []
    for topic in sorted({entry.topic for entry in written}):
        block += ["", f"### {topic.title()}"]
        block += [f"{k}. {entry.title} shows what {topic} gains from a careful baseline "
                  f"([{entry.title}]({entry.relpath.replace(' ', '%20')}))."
                  for k, entry in enumerate((e for e in written if e.topic == topic), start=1)]
    readme.write_text("\n".join(lines[:at] + block + [""]), encoding="utf-8")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "diary"
        init_diary(root)
        written = write_topic_diary(root, max(1, n // len(TOPICS)))
        _with_lessons(root, written)
        settings = load_settings(root, env={})
        print(f"{len(written)} entries, {len(written)} lessons under {len(TOPICS)} themes")
        for run in ("cold", "warm"):
            steps = _Steps()
            started = time.perf_counter()
            with Store(settings.db_path) as store:
                outcome = build_site(settings, store, SiteOptions(root / "site", "https://ada.github.io/diary/"),
                                     steps)
            total = time.perf_counter() - started
            verdict = "met" if total < GOAL_S or len(written) < 500 else "NOT met"
            cells = ", ".join(f"{step} {seconds:.2f}" for step, seconds in steps.seconds.items())
            print(f"{run}: {total:.2f} s ({cells})")
            print(f"      {outcome.pages} pages, {outcome.files} files copied, {outcome.size / 1e6:.1f} MB; "
                  f"goal < {GOAL_S:g} s at 500: {verdict}")


if __name__ == "__main__":
    main()
