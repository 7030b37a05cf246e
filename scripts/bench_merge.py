"""Merge benchmark: proposal latency on a large README, and theme-placement accuracy against plain BM25.

1. Latency: a generated diary (README of 500 lessons in 20 themes, 300 entry files) in a
   temporary folder. Prints the one-time cost (parse, index build with entry reads and, with
   the embedder, embedding every lesson, cited entry and theme name: cold, then warm from the
   store's cache) and the median time of ``propose`` for one lesson over 50 new lessons, index
   reused (goal < 50 ms warm), by words alone and with the WordLlama embedder.
2. Accuracy on the labelled placement set (tests/fixtures/placement): the held-out lessons of
   its test split (and, for reference, of its training split, on which the weights were
   fitted) proposed against its README. A proposal is right when it lands in the lesson's
   theme (adds to, extends or duplicates a lesson there), or opens a new theme for a lesson no
   theme fits. Compared: plain BM25 (one document per theme, its lessons' words; it never
   opens a theme), the merger before this release (read from git history), and the merger by
   words alone and with embeddings. Then the kinds proposed, the traps, and the reliability
   table of the confidence (with its expected calibration error) on the test split.
3. A young diary (themes of 0-2 lessons): the placement set's README with each theme cut to its first
   0, 1 or 2 lessons in turn; the lessons cut, and the held-out lessons no theme fits, proposed
   against it, each with the drafter's suggestion (its keyword match against the theme names).
   Compared: the merger (its young models, fitted on the training split's held-out lessons in
   young versions of this README, never on the lessons cut here), BM25 with a forced choice, and
   the drafter's suggestion alone; and how many new themes are proposed where the labelled set
   has a theme (should be none) and where it has none (test split; the training split's apart).
4. The same accuracy on the older fixture READMEs (tests/fixtures/readmes, plus any README given
   on the command line): every lesson held out in turn, no entries known, no suggestion.

Usage: python scripts/bench_merge.py [EXTRA_README.md ...]
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperdiary.diary.map.embed import WordLlamaEmbedder  # noqa: E402
from paperdiary.diary.merge import MergeIndex, MergeItem, Proposal, index_for, propose  # noqa: E402
from paperdiary.diary.readme import Readme  # noqa: E402
from paperdiary.fsutil import relative_link  # noqa: E402
from paperdiary.state.store import Store  # noqa: E402
from paperdiary.themes import match_theme  # noqa: E402
from tests.diary.placement_set import (  # noqa: E402
    HeldOutLesson,
    bm25_theme,
    leave_one_out,
    load_placement_set,
    reliability,
    right_place,
    young_diary,
)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "readmes"
# The merger before placement by meaning: its last commit, and its file.
OLD_MERGER = ("efc8f1c0493002a30a6b2ad30df997d704ccd21c", "pipeline/paperdiary/diary/merge.py")
THEMES, LESSONS, ENTRIES, QUERIES = 20, 500, 300, 50
GOAL_MS = 50.0

_SYLLABLES = "ka lo mi nu re sa ti vo xe zu pra glo fen dri mos tal ber cun".split()
_COMMON = ("model training data learning network performance method results large small improves shows uses "
           "better scale tokens layers loss signal policy reward sample steps").split()

Placer = Callable[[Readme, MergeItem], "str | None | Proposal"]


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
            lines.append(f"{number}. **{_word(rng)} {_word(rng)}**: [{label}]({relative_link(source)}) "
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


def bench_latency(embedder: WordLlamaEmbedder) -> None:
    rng = random.Random(20250611)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        readme_path, themes = build_diary(root, rng)
        text = readme_path.read_text(encoding="utf-8")
        start = time.perf_counter()
        readme = Readme.parse(text)
        parse_ms = (time.perf_counter() - start) * 1000
        lessons = sum(len(t.lessons) for t in readme.all_themes())
        items = []
        for n in range(QUERIES):
            name, vocabulary = themes[n % THEMES]
            items.append(MergeItem(f"**{_word(rng)} {_word(rng)}** {_sentence(rng, vocabulary, 18)}.",
                                   f"entries/August 2025/{n}thAugustNew{n}.md", suggested_theme=name))
        print(f"README: {lessons} lessons in {len(readme.themes)} themes, {ENTRIES} entries, {len(text) // 1024} KiB; "
              f"parse {parse_ms:.1f} ms")
        with Store(root / ".paperdiary" / "paperdiary.db") as store:
            for label, used in (("words only", None), ("with embeddings, cold", embedder),
                                ("with embeddings, warm", embedder)):
                index_entries = _reader(root)
                start = time.perf_counter()
                index_for(readme, diary_root=root, entries=index_entries, embedder=used, store=store)
                build_ms = (time.perf_counter() - start) * 1000
                times = []
                kinds: Counter[str] = Counter()
                for item in items:
                    start = time.perf_counter()
                    proposal = propose(readme, item, diary_root=root, readme_path=readme_path, entries=index_entries,
                                       embedder=used, store=store)
                    times.append((time.perf_counter() - start) * 1000)
                    kinds[proposal.kind] += 1
                median = statistics.median(times)
                print(f"{label}: index build {build_ms:.0f} ms (reads {ENTRIES} entries"
                      f"{', embeds lessons, entries and names' if used else ''}); propose one lesson: median "
                      f"{median:.2f} ms over {QUERIES} (min {min(times):.2f}, max {max(times):.2f}); "
                      f"goal < {GOAL_MS:.0f} ms: {'met' if median < GOAL_MS else 'NOT met'}  [{_counts(kinds)}]")


def _reader(root: Path) -> Callable[[str], str | None]:
    """A fresh entry reader (a new object: the index cache is keyed by it, so every run builds anew)."""
    from paperdiary.diary.catalog import Catalog
    from paperdiary.diary.merge import catalog_entries
    from paperdiary.settings import Settings

    read = catalog_entries(Catalog(Settings(diary=root)))
    return lambda path: read(path)


def old_merger() -> types.ModuleType | None:
    """The merger as it was before placement by meaning (from git history), or None outside a git checkout."""
    commit, path = OLD_MERGER
    try:
        source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("paperdiary_old_merge")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    try:
        exec(compile(source, f"{commit[:7]}:{path}", "exec"), module.__dict__)
    except ImportError as exc:  # it leant on helpers since moved or renamed
        print(f"(the old merger no longer imports: {exc}; left out)")
        return None
    return module


def placers(embedder: WordLlamaEmbedder, summary: Callable[[str], str | None]) -> dict[str, Placer]:
    """Name -> a function placing an item against a README: the theme it lands in, or its proposal."""
    out: dict[str, Placer] = {"plain BM25": lambda readme, item: bm25_theme(readme, item.text)}
    old = old_merger()
    if old is not None:
        out["old merger"] = lambda readme, item: old.propose(
            readme, old.MergeItem(item.text, item.source_entry), diary_root=Path("/diary"),
            readme_path=Path("/diary/README.md"), entries=summary)
    cache: dict[tuple[str, bool], MergeIndex] = {}

    def new(by_meaning: bool) -> Placer:
        def place(readme: Readme, item: MergeItem) -> Proposal:
            key = (readme.digest, by_meaning)
            if key not in cache:
                cache[key] = MergeIndex(readme, summary, embedder if by_meaning else None)
            return cache[key].propose(item)
        return place

    out["new, words only"] = new(False)
    out["new, with embeddings"] = new(True)
    return out


def _right(answer: str | None | Proposal, theme: str | None) -> bool:
    if answer is None or isinstance(answer, str):
        return answer == theme
    return right_place(answer, theme)  # type: ignore[arg-type]


def bench_placement_set(embedder: WordLlamaEmbedder) -> dict[str, dict[str, str | None | Proposal]]:
    placement = load_placement_set()
    readme = placement.readme()
    test, train = placement.split("test"), placement.split("train")
    print(f"\nPlacement set: README of {sum(len(t.lessons) for t in readme.all_themes())} lessons in "
          f"{len(readme.themes)} themes, {len(placement.entries)} entries; held out: {len(test)} test, "
          f"{len(train)} train (fitted on: train, and the README's lessons held out in turn)")
    shown = {}
    for known in (True, False):
        methods = placers(embedder, placement.summary if known else (lambda path: None))
        if "old merger" not in methods and known:
            print("(the old merger needs this repository's git history: left out)")
        answers = {name: {lesson.id: place(readme, lesson.item()) for lesson in placement.lessons}
                   for name, place in methods.items()}
        print("entries known (title, description, key points):" if known else
              "entries hidden (as in a README whose entries cannot be read):")
        print(f"  {'':24} {'test: all':>14} {'has a theme':>14} {'new theme':>10} {'train: all':>14}")
        new = [x for x in test if x.theme is None]
        for name, answered in answers.items():
            found = sum(_right(answered[x.id], None) for x in new)
            print(f"  {name:24} {_share(answered, test):>14} {_share(answered, [x for x in test if x.theme]):>14} "
                  f"{f'{found}/{len(new)}':>10} {_share(answered, train):>14}")
        if known:
            shown = answers
    return shown


def _share(answered: dict[str, str | None | Proposal], lessons: Sequence[HeldOutLesson]) -> str:
    hits = sum(_right(answered[x.id], x.theme) for x in lessons)
    return f"{hits}/{len(lessons)} {hits / len(lessons):4.0%}"


def bench_kinds(answers: dict[str, dict[str, str | None | Proposal]]) -> None:
    placement = load_placement_set()
    test = placement.split("test")
    for name in ("new, words only", "new, with embeddings"):
        proposals = {k: v for k, v in answers[name].items() if isinstance(v, Proposal)}
        kinds = Counter(f"{x.kind}->{proposals[x.id].kind}" for x in test)
        print(f"\n{name}: kinds on the test split (labelled->proposed): {_counts(kinds)}")
        traps = Counter()
        for x in placement.lessons:
            if x.trap:
                traps[(x.trap, right_place(proposals[x.id], x.theme) and (
                    x.kind == proposals[x.id].kind or x.kind == "extend"))] += 1
        print("  traps, both splits (right place, and no duplicate/extend mistaken for the other): "
              + "; ".join(f"{trap}: {traps[(trap, True)]}/{traps[(trap, True)] + traps[(trap, False)]}"
                          for trap in sorted({t for t, _ in traps})))
        rows, ece = reliability([(proposals[x.id].confidence, right_place(proposals[x.id], x.theme)) for x in test])
        print(f"  reliability on the test split (confidence bin: n, mean confidence, accuracy); ECE {ece:.3f}")
        for span, n, confidence, accuracy in rows:
            print(f"    {span}: {n:3}  {confidence:.2f}  {accuracy:.2f}")


def bench_fixtures(embedder: WordLlamaEmbedder, paths: list[Path]) -> None:
    methods = placers(embedder, lambda _: None)
    print("\nOlder fixture READMEs, every lesson held out in turn (no entries, no suggestion):")
    totals: Counter[str] = Counter()
    count = 0
    for path in paths:
        readme = Readme.parse(path.read_bytes().decode("utf-8"))
        held = list(leave_one_out(readme))
        count += len(held)
        cells = []
        for name, place in methods.items():
            answers = [(place(rest, item), theme) for rest, item, theme in held]
            hits = sum(_right(answer, theme) for answer, theme in answers)
            totals[name] += hits
            cells.append(f"{name} {hits}")
            if answers and isinstance(answers[0][0], Proposal):
                # A lesson unlike every other in a tiny README becomes a new theme; how often would the
                # likeliest existing theme have been right?
                best = sum(bool(a.alternatives) and a.alternatives[0][0] == t for a, t in answers)  # type: ignore[union-attr]
                totals[f"{name} (likeliest theme)"] += best
                cells.append(f"(likeliest theme {best})")
        print(f"  {path.name} ({len(held)} lessons, {sum(1 for _ in readme.all_themes())} themes): " + ", ".join(cells))
    print("  all: " + ", ".join(f"{name} {totals[name]}/{count} = {totals[name] / count:.1%}" for name in totals))


def bench_young_diary(embedder: WordLlamaEmbedder) -> None:
    placement = load_placement_set()
    young, cut = young_diary(placement)
    names = [theme.name for theme in young.all_themes()]
    # The training split's lessons no theme fits are among those the young models were fitted on: counted apart.
    new_lessons = sorted((x for x in placement.lessons if x.theme is None), key=lambda x: x.split != "test")
    fitted_new = {n for n, x in enumerate(new_lessons) if x.split == "train"}
    new = [(lesson.item(), None) for lesson in new_lessons]
    examples = cut + [(replace(item, suggested_theme=match_theme(
        item.text, names, context=placement.summary(item.source_entry) or "")), theme) for item, theme in new]
    sizes = Counter(len(theme.lessons) for theme in young.all_themes())
    print(f"\nYoung diary: {len(names)} themes ({', '.join(f'{sizes[k]} with {k}' for k in sorted(sizes))} "
          f"lessons); {len(cut)} cut lessons with a theme, {len(new)} that no theme fits")
    answers: dict[str, list[str | None]] = {
        "BM25, forced choice": [bm25_theme(young, item.text) for item, _ in examples],
        "drafter's suggestion": [item.suggested_theme for item, _ in examples],
    }
    for label, by_meaning in (("merger, words only", False), ("merger, with embeddings", True)):
        index = MergeIndex(young, placement.summary, embedder if by_meaning else None)
        answers[label] = [None if (p := index.propose(item)).kind == "new_theme" else p.theme for item, _ in examples]
    print(f"  {'':26} {'all':>12} {'has a theme':>12} {'new: test':>10} {'new: train':>10} {'wrongly new':>12}")
    themed = [i for i, (_, theme) in enumerate(examples) if theme is not None]
    untested = {len(cut) + n for n in fitted_new}
    for name, answered in answers.items():
        right = [answered[i] == theme for i, (_, theme) in enumerate(examples)]
        found = [i for i, (_, theme) in enumerate(examples) if theme is None and answered[i] is None]
        wrongly = sum(answered[i] is None for i in themed)
        test_new = len(new) - len(fitted_new)
        print(f"  {name:26} {f'{sum(right)}/{len(right)}':>7} {sum(right) / len(right):4.0%} "
              f"{f'{sum(right[i] for i in themed)}/{len(themed)}':>12} "
              f"{f'{sum(i not in untested for i in found)}/{test_new}':>10} "
              f"{f'{sum(i in untested for i in found)}/{len(fitted_new)}':>10} {f'{wrongly}/{len(themed)}':>12}")


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        embedder = WordLlamaEmbedder(Path(cache))
        bench_latency(embedder)
        bench_kinds(bench_placement_set(embedder))
        bench_young_diary(embedder)
        bench_fixtures(embedder, sorted(FIXTURES.glob("*.md")) + [Path(arg) for arg in sys.argv[1:]])


if __name__ == "__main__":
    main()
