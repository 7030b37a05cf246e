"""Where a new entry goes when entry_path is unset: the diary's own shape (month, topic or flat folders,
the file-name style), as the catalog shows it; fixtures written here in the shapes of real diaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdiary.diary.catalog import Catalog
from paperdiary.diary.shape import DiaryShape, ShapeKind, closest_topic, diary_shape
from paperdiary.settings import DEFAULT_ENTRY_PATH, load_settings
from tests.conftest import clean_env, run_cli
from tests.diary.test_catalog import write

NOTE = "# {title}\n\nDate read: 2025-06-{day:02d}\n\n[arXiv](https://arxiv.org/abs/2506.{n:05d})\n\n## Key Points\n- x\n"


def notes(root: Path, *relpaths: str) -> None:
    for n, relpath in enumerate(relpaths, start=1):
        write(root, relpath, NOTE.format(title=f"Paper {n}", day=n, n=n))


def shape_of(root: Path, **settings: object) -> DiaryShape:
    loaded = load_settings(root, overrides=settings, env={})
    return diary_shape(loaded, Catalog(loaded).entries())


def test_month_folders_take_the_new_entry_in_their_naming(tmp_path: Path) -> None:
    notes(tmp_path, "June 2025/4thJuneA.md", "June 2025/11thJuneB.md", "July 2025/2ndJulyC.md")
    shape = shape_of(tmp_path)
    assert shape.kind is ShapeKind.MONTHS
    assert shape.place("", "Anything") == ("", "{month_year}/{ordinal_day}{month}{short_name}.md")


def test_numeric_month_folders_inside_a_notes_folder(tmp_path: Path) -> None:
    notes(tmp_path, "notes/2024-11/a-paper.md", "notes/2024-11/b-paper.md", "notes/2024-12/c-paper.md",
          "notes/2025-01/d-paper.md")
    shape = shape_of(tmp_path)
    assert (shape.kind, shape.folder, shape.pattern) == (ShapeKind.MONTHS, "notes", "{year}-{month_num}/{slug}.md")


def test_a_flat_folder_beside_a_smaller_one_and_its_file_name_style(tmp_path: Path) -> None:
    notes(tmp_path, "papers/deep-residual-learning.md", "papers/batch-normalization.md", "papers/layer-norm.md",
          "papers/adam-optimizer.md", "talks/nips-keynote.md", "talks/iclr-panel.md", "talks/icml-tutorial.md")
    shape = shape_of(tmp_path)
    assert (shape.kind, shape.folder, shape.pattern) == (ShapeKind.FLAT, "papers", "{slug}.md")
    assert "papers/{slug}.md" in shape.describe()


def test_date_prefixed_names_keep_their_prefix(tmp_path: Path) -> None:
    notes(tmp_path, "_posts/2018-1-6-Self-Normalizing.md", "_posts/2018-2-1-Resnet.md", "_posts/2018-3-9-Adam.md")
    assert shape_of(tmp_path).pattern.startswith("{year}-{month_num}-{day}-")


def test_nested_topic_folders_and_the_closest_one(tmp_path: Path) -> None:
    notes(tmp_path, "test-time/Tent Fully Test-Time Adaptation.md", "test-time/Test-Time Training.md",
          "domain-adaptation/Cycle Self-Training.md", "domain-adaptation/segmentation/DAFormer.md",
          "OOD/Energy-based OOD Detection.md")
    shape = shape_of(tmp_path)
    assert shape.kind is ShapeKind.TOPICS and shape.folder == "" and shape.pattern == "{title}.md"
    assert set(shape.topics) == {"test-time", "domain-adaptation", "domain-adaptation/segmentation", "OOD"}
    assert shape.place("2. Domain Adaptation", "Some Paper")[0] == "domain-adaptation"  # the theme, numbered
    assert shape.place("", "Continual Test-Time Adaptation")[0] == "test-time"  # no theme: the title's words
    assert shape.place("Segmentation", "X")[0] == "domain-adaptation/segmentation"
    assert shape.place("Robotics", "Grasping Objects") == ("robotics", "{title}.md")  # a new folder, their style


def test_closest_topic_is_empty_when_nothing_matches() -> None:
    assert closest_topic(["vision", "nlp"], "Robotics", "Grasping") == ""


def test_a_new_diary_and_a_set_entry_path_keep_the_configured_layout(tmp_path: Path) -> None:
    notes(tmp_path, "Robotics/a.md")
    assert (shape_of(tmp_path).kind, shape_of(tmp_path).pattern) == (ShapeKind.NEW, DEFAULT_ENTRY_PATH)
    notes(tmp_path, "Robotics/b.md", "Robotics/c.md", "Vision/d.md")
    shape = shape_of(tmp_path, entry_path="{year}/{short_name}.md")
    assert (shape.kind, shape.folder, shape.pattern) == (ShapeKind.SET, "entries", "{year}/{short_name}.md")


@pytest.mark.parametrize(("relpaths", "said"), [
    (("notes/a-x.md", "notes/b-y.md", "notes/c-z.md"), "notes/{slug}.md (one flat folder"),
    (("June 2025/4thJuneA.md", "June 2025/5thJuneB.md", "July 2025/1stJulyC.md"), "month folders"),
    (("Vision/a.md", "NLP/b.md", "Robotics/c.md"), "topic folders: "),
])
def test_doctor_says_what_it_inferred(tmp_path: Path, relpaths: tuple[str, ...], said: str) -> None:
    write(tmp_path, "README.md", "# Notes\n\n## Interesting Methods and Lesson Learned\n### General\n")
    notes(tmp_path, *relpaths)
    result = run_cli("doctor", cwd=tmp_path, env=clean_env(PAPERDIARY_ARXIV_API="http://127.0.0.1:9/api/query?{}",
                                                           PAPERDIARY_RETRY_MAX_TIME="0.1"))
    [line] = [line for line in result.stdout.splitlines() if line.startswith("✓ layout:")]
    assert said in line


def test_a_diary_with_one_month_folder_so_far_is_kept_by_month(tmp_path: Path) -> None:
    notes(tmp_path, "January 2025/6thJanuaryA.md", "January 2025/7thJanuaryB.md", "January 2025/8thJanuaryC.md")
    shape = shape_of(tmp_path)
    assert (shape.kind, shape.folder) == (ShapeKind.MONTHS, "")
    notes(tmp_path, "2025/03/a.md", "2025/03/b.md", "2025/03/c.md", "2025/03/d.md", "2025/03/e.md")
    shape = shape_of(tmp_path)  # mostly below a year folder: the year is a field, not a fixed folder
    assert (shape.kind, shape.folder, shape.pattern.split("/")[:2]) == (ShapeKind.MONTHS, "", ["{year}", "{month_num}"])


def test_year_folders_take_the_year_of_the_new_entry(tmp_path: Path) -> None:
    notes(tmp_path, "2023/resnet.md", "2023/batch-norm.md", "2024/vit.md", "2024/clip.md")
    shape = shape_of(tmp_path)
    assert (shape.kind, shape.folder, shape.pattern) == (ShapeKind.YEARS, "", "{year}/{slug}.md")
