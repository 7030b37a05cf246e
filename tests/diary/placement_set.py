"""The labelled placement set (tests/fixtures/placement/) and how a merger is scored on it.

``README.md`` is a diarist's lessons section (10 themes, numbered and plain
headings, 78 lessons citing entries); ``entries.json`` holds every entry cited
(title, one-line description, key points), written out as a drafted diary by
:func:`write_diary`; ``held_out.json`` holds lessons the diarist filed by hand
later, with their true theme (``None``: no theme fits, a new theme), the kind of
change and the trap each sets. All of it was written for this project.

The split is fixed in the file (drawn once, seeded and stratified by theme,
before the merger was tuned): the merger's weights are fitted on ``train``
(with every README lesson held out in turn, see ``scripts/fit_merge.py``) and
judged on ``test``. Shared by the tests and ``scripts/bench_merge.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from paperdiary.bm25 import BM25
from paperdiary.diary.catalog import read_entry
from paperdiary.diary.merge import MergeItem, Proposal, entry_summary
from paperdiary.diary.readme import Readme, iter_lessons, plain_text
from paperdiary.terms import terms
from paperdiary.themes import match_theme

PLACEMENT = Path(__file__).resolve().parents[1] / "fixtures" / "placement"


@dataclass(frozen=True)
class PlacementEntry:
    path: str  # relative to the diary root (the README's folder)
    date_read: str
    title: str
    description: str
    key_points: tuple[str, ...]

    def markdown(self) -> str:
        """The entry as the drafter writes it: title, date, key points and the hidden record."""
        points = "".join(f"- {point}\n" for point in self.key_points)
        record = json.dumps({"description": self.description}, ensure_ascii=False)
        return (f"# {self.title}\nDate read: {self.date_read}\n\n## Key Points\n{points}\n## My Notes\n\n"
                f"<!-- paperdiary: {record} -->\n")


@dataclass(frozen=True)
class HeldOutLesson:
    id: str
    split: str  # "train" | "test"
    theme: str | None  # the diarist's theme; None: no theme fits (a new theme)
    kind: str  # add | extend | duplicate | new_theme
    neighbour: int | None  # 1-based number, in ``theme``, of the lesson extended or duplicated
    trap: str | None
    text: str
    source: str

    def item(self) -> MergeItem:
        return MergeItem(self.text, self.source)


@dataclass(frozen=True)
class PlacementSet:
    readme_text: str
    entries: dict[str, PlacementEntry]
    lessons: tuple[HeldOutLesson, ...]

    def readme(self) -> Readme:
        return Readme.parse(self.readme_text)

    def split(self, name: str) -> list[HeldOutLesson]:
        return [lesson for lesson in self.lessons if lesson.split == name]

    def summary(self, path: str) -> str | None:
        """An entry provider for the merger: what the catalog reads from the written diary."""
        entry = self.entries.get(path)
        return entry_summary(read_entry(path, entry.markdown())) if entry else None


@cache
def load_placement_set(root: Path = PLACEMENT) -> PlacementSet:
    entries = json.loads((root / "entries.json").read_text(encoding="utf-8"))["entries"]
    lessons = json.loads((root / "held_out.json").read_text(encoding="utf-8"))["lessons"]
    return PlacementSet(
        (root / "README.md").read_bytes().decode("utf-8"),
        {e["path"]: PlacementEntry(e["path"], e["date_read"], e["title"], e["description"], tuple(e["key_points"]))
         for e in entries},
        tuple(HeldOutLesson(**lesson) for lesson in lessons),
    )


def write_diary(root: Path, placement: PlacementSet | None = None) -> Path:
    """The set as a diary on disk: README.md and every entry; returns the README's path."""
    placement = placement or load_placement_set()
    for entry in placement.entries.values():
        path = root / entry.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entry.markdown(), encoding="utf-8")
    readme = root / "README.md"
    readme.write_text(placement.readme_text, encoding="utf-8")
    return readme


# --------------------------------------------------------------------------- scoring


def right_place(proposal: Proposal, theme: str | None) -> bool:
    """The proposal lands where the diarist filed the lesson: in its theme, or a new theme when none fits."""
    if theme is None:
        return proposal.kind == "new_theme"
    return proposal.kind != "new_theme" and proposal.theme == theme


def bm25_theme(readme: Readme, text: str) -> str | None:
    """Plain BM25: the theme whose lessons (one document per theme) best match the lesson's words."""
    themes = list(readme.all_themes())
    if not themes:
        return None
    docs = [Counter(term for lesson in theme.lessons for term in terms(plain_text(lesson.body, link_labels=False)))
            for theme in themes]
    return themes[BM25.of(docs).ranked(terms(plain_text(text, link_labels=False)))[0][1]].name


def leave_one_out(readme: Readme) -> Iterable[tuple[Readme, MergeItem, str]]:
    """Each lesson of ``readme`` held out in turn: (the README without it, the lesson, its theme)."""
    for theme, index, lesson in list(iter_lessons(readme)):
        rest = readme.remove_lesson(theme.key, index)
        source = lesson.cites[0] if lesson.cites else f"held-out/{theme.key}-{index}.md"
        yield rest, MergeItem(plain_text(lesson.text, link_labels=False), source), theme.name


YOUNG_SIZES = (0, 1, 2)  # in a young diary, a theme keeps this many of its lessons


def young_readme(readme: Readme, *, rotation: int = 0, keep_last: bool = False) -> tuple[Readme, list[tuple[int, int]]]:
    """A young diary: the README with its n-th theme cut to YOUNG_SIZES[(n + rotation) % 3] lessons (its first,
    or its last), and the (theme number, lesson index) of each lesson cut."""
    themes = list(readme.all_themes())
    keep = {theme.key: YOUNG_SIZES[(n + rotation) % len(YOUNG_SIZES)] for n, theme in enumerate(themes)}
    number = {theme.key: n for n, theme in enumerate(themes)}
    cut = [(theme, index) for theme, index, _ in iter_lessons(readme)
           if (len(theme.lessons) - 1 - index if keep_last else index) >= keep[theme.key]]
    young = readme
    for theme, index in sorted(cut, key=lambda c: (c[0].key, c[1]), reverse=True):  # last first
        young = young.remove_lesson(theme.key, index)
    return young, [(number[theme.key], index) for theme, index in cut]


def young_diary(placement: PlacementSet) -> tuple[Readme, list[tuple[MergeItem, str]]]:
    """The set's young README (:func:`young_readme`) and the lessons cut from it, each with its theme and the
    offline drafter's suggestion (its keyword match against the young README's theme names)."""
    readme = placement.readme()
    young, cut = young_readme(readme)
    themes = list(readme.all_themes())
    names = [theme.name for theme in young.all_themes()]
    items = []
    for number, index in cut:
        theme = themes[number]
        lesson = theme.lessons[index]
        text = plain_text(lesson.text, link_labels=False)
        source = lesson.cites[0] if lesson.cites else f"held-out/{theme.key}-{index}.md"
        suggestion = match_theme(text, names, context=placement.summary(source) or "")
        items.append((MergeItem(text, source, suggestion), theme.name))
    return young, items


@dataclass(frozen=True)
class Scored:
    """One held-out lesson's proposal, judged."""

    lesson: HeldOutLesson
    proposal: Proposal

    @property
    def right(self) -> bool:
        return right_place(self.proposal, self.lesson.theme)


Bin = tuple[str, int, float, float]  # (confidence range, count, mean confidence, accuracy)


def reliability(scored: Sequence[tuple[float, bool]], bins: int = 5) -> tuple[list[Bin], float]:
    """The reliability table (bins of equal width) and expected calibration error of (confidence, right) pairs."""
    rows = []
    ece = 0.0
    for n in range(bins):
        low, high = n / bins, (n + 1) / bins
        inside = [(c, r) for c, r in scored if low <= c < high or (n == bins - 1 and c == 1.0)]
        if not inside:
            continue
        confidence = sum(c for c, _ in inside) / len(inside)
        accuracy = sum(r for _, r in inside) / len(inside)
        rows.append((f"{low:.1f}-{high:.1f}", len(inside), confidence, accuracy))
        ece += len(inside) / len(scored) * abs(confidence - accuracy)
    return rows, ece


def score(lessons: Sequence[HeldOutLesson], place: Callable[[MergeItem], Proposal]) -> list[Scored]:
    return [Scored(lesson, place(lesson.item())) for lesson in lessons]
