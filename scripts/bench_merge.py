"""Merge benchmark: proposal latency on a large README, and theme-placement accuracy.

1. Latency: a generated diary (README of 500 lessons in 20 themes, 300 entry files)
   in a temporary folder. Prints the one-time cost (parse, index build with entry
   reads) and the median time of ``propose`` for one lesson over 50 new lessons,
   index reused (goal < 50 ms).
2. Accuracy: every lesson of the project's fixture READMEs (tests/fixtures/readmes),
   plus any README given on the command line, is held out in turn and proposed
   against the rest of its README, without a suggested theme. A proposal is right
   when it lands in (adds to, extends or duplicates a lesson of) the lesson's own
   theme; a new theme counts as wrong.

Usage: python scripts/bench_merge.py [EXTRA_README.md ...]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from paperdiary.diary.merge import MergeItem, index_for, propose
from paperdiary.diary.readme import Readme, entry_link, iter_lessons, plain_text

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "readmes"
THEMES, LESSONS, ENTRIES, QUERIES = 20, 500, 300, 50
GOAL_MS = 50.0

_SYLLABLES = "ka lo mi nu re sa ti vo xe zu pra glo fen dri mos tal ber cun".split()
_COMMON = ("model training data learning network performance method results large small improves shows uses "
           "better scale tokens layers loss signal policy reward sample steps").split()


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))


def _sentence(rng: random.Random, vocabulary: list[str], length: int) -> str:
    return " ".join(rng.choice(vocabulary) if rng.random() < 0.45 else rng.choice(_COMMON) for _ in range(length))


def build_diary(root: Path, rng: random.Random) -> tuple[Path, list[tuple[str, list[str]]]]:
    """Write a diary of ENTRIES entries and a README of LESSONS lessons in THEMES themes; returns vocabularies."""
    themes = [(f"{_word(rng).title()} {_word(rng).title()}", [_word(rng) for _ in range(40)]) for _ in range(THEMES)]
    entries: list[tuple[str, int]] = []
    for n in range(ENTRIES):
        theme = n % THEMES
        month = ["June 2025", "July 2025", "Août 2025"][n % 3]
        relpath = f"entries/{month}/{n % 28 + 1}th{month.split()[0]}{_word(rng).title()}{n}.md"
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        title = _sentence(rng, themes[theme][1], 8).title()
        point = _sentence(rng, themes[theme][1], 14)
        path.write_text(f"# {title}\nDate read: 1st June 2025\n\n## Key Points\n- {point}\n", encoding="utf-8")
        entries.append((relpath, theme))
    lines = ["# Diary\n", "Reading notes.\n", "\n", "## Interesting Methods and Lesson Learned\n", "Lessons.\n", "\n"]
    for theme, (name, vocabulary) in enumerate(themes):
        cited = [relpath for relpath, t in entries if t == theme]
        lines.append(f"### {name}\n")
        for number in range(1, LESSONS // THEMES + 1):
            source = rng.choice(cited)
            label = Path(source).stem[-12:]
            lines.append(f"{number}. **{_word(rng)} {_word(rng)}**: [{label}]({entry_link(source)}) "
                         f"{_sentence(rng, vocabulary, rng.randint(12, 22))}.\n")
            if rng.random() < 0.2:
                lines.append(f"{_sentence(rng, vocabulary, 10)}\n")
            if rng.random() < 0.1:
                lines.append(f"    - {_sentence(rng, vocabulary, 8)}\n")
        lines.append("\n")
    lines.append("## Elsewhere\nThe end.\n")
    (root / "README.md").write_text("".join(lines), encoding="utf-8")
    return root / "README.md", themes


def _counts(kinds: Counter[str]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))


def bench_latency() -> None:
    rng = random.Random(20250611)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        readme_path, themes = build_diary(root, rng)
        text = readme_path.read_text(encoding="utf-8")

        start = time.perf_counter()
        readme = Readme.parse(text)
        parse_ms = (time.perf_counter() - start) * 1000
        lessons = sum(len(t.lessons) for t in readme.all_themes())

        start = time.perf_counter()
        index_for(readme, diary_root=root)  # a new README: the cache is cold
        build_ms = (time.perf_counter() - start) * 1000

        items = []
        for n in range(QUERIES):
            name, vocabulary = themes[n % THEMES]
            items.append(MergeItem(f"**{_word(rng)} {_word(rng)}** {_sentence(rng, vocabulary, 18)}.",
                                   f"entries/August 2025/{n}thAugustNew{n}.md", suggested_theme=name))
        times = []
        kinds: Counter[str] = Counter()
        for item in items:
            start = time.perf_counter()
            proposal = propose(readme, item, diary_root=root, readme_path=readme_path)
            times.append((time.perf_counter() - start) * 1000)
            kinds[proposal.kind] += 1
        median = statistics.median(times)
        print(f"README: {lessons} lessons in {len(readme.themes)} themes, {ENTRIES} entries, {len(text) // 1024} KiB")
        print(f"one-time: parse {parse_ms:.1f} ms, index build (reads {ENTRIES} entries) {build_ms:.1f} ms")
        print(f"propose one lesson: median {median:.2f} ms over {QUERIES} lessons "
              f"(min {min(times):.2f}, max {max(times):.2f}); goal < {GOAL_MS:.0f} ms: "
              f"{'met' if median < GOAL_MS else 'NOT met'}  [{_counts(kinds)}]")


def bench_accuracy(paths: list[Path]) -> None:
    total = right = 0
    kinds: Counter[str] = Counter()
    for path in paths:
        readme = Readme.parse(path.read_bytes().decode("utf-8"))
        hits = n = 0
        for theme, index, lesson in list(iter_lessons(readme)):
            rest = readme.remove_lesson(theme.key, index)
            text = plain_text(lesson.text, link_labels=False)
            source = lesson.cites[0] if lesson.cites else f"held-out/{theme.key}-{index}.md"
            proposal = propose(rest, MergeItem(text, source), diary_root=path.parent, readme_path=path,
                               entries=lambda _: None)
            kinds[proposal.kind] += 1
            n += 1
            hits += proposal.theme == theme.name
        themes = sum(1 for _ in readme.all_themes())
        print(f"  {path.name}: {hits}/{n} = {hits / n:.0%} ({themes} themes; chance ~{1 / themes:.0%})")
        total += n
        right += hits
    print(f"theme placement accuracy (hold-out, no suggested theme): {right}/{total} = {right / total:.1%}, "
          f"N = {total}  [{_counts(kinds)}]")


def main() -> None:
    bench_latency()
    bench_accuracy(sorted(FIXTURES.glob("*.md")) + [Path(arg) for arg in sys.argv[1:]])


if __name__ == "__main__":
    main()
