"""The catalog on diaries shaped like real hand-kept ones: notes told from non-notes, front matter, dates
from file names, index headings, year-less lines and typos, index-versus-file disagreements, and first
commits that follow real renames only. Every fixture here is written for the test, in those diaries' shapes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from paperdiary.diary.catalog import DateSource, ProblemKind
from paperdiary.diary.classify import NotNote
from tests.conftest import clean_env, run_cli
from tests.diary.test_catalog import by_path, catalog, git, kinds, write

PAPER_NOTE = """\
# {title}

[arXiv](https://arxiv.org/abs/{arxiv})

## Key Points
- The method trains a small model on the outputs of a larger one and keeps most of its accuracy.
- A second stage filters the examples the small model already gets right.
"""


def note(title: str, arxiv: str = "1503.02531", date_line: str = "") -> str:
    text = PAPER_NOTE.format(title=title, arxiv=arxiv)
    return text.replace("\n\n[arXiv]", f"\n{date_line}\n\n[arXiv]") if date_line else text


# --------------------------------------------------------------------------- notes and non-notes


def test_index_pages_templates_todo_placeholders_cheat_sheets_and_site_output_are_no_notes(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# Paper notes\n\nOne note per paper in `notes/`.\n")
    write(tmp_path, "notes/distillation.md", note("Distilling the Knowledge in a Neural Network", date_line="2015-03-09"))
    write(tmp_path, "notes/dropout.md", note("Dropout: A Simple Way to Prevent Overfitting", "1207.0580",
                                             "Date read: 2016-01-04"))
    write(tmp_path, "papers_by_topic.md", "# Papers by topic\n\n## Vision\n- [Dropout](notes/dropout.md)\n"
                                          "- [Distillation](notes/distillation.md)\n## NLP\n- [Other](notes/x.md)\n")
    write(tmp_path, "template.md", "# Paper title\n\n[arXiv](https://arxiv.org/abs/XXXX.XXXXX)\n\n## Key Points\n-\n")
    write(tmp_path, "notes/TODO.md", "# TODO\n\n- read the rest of the distillation paper\n")
    write(tmp_path, "notes/placeholder.md", "x")
    write(tmp_path, "notes/mygitnotes.md", "## My Git Notes\n\n* `git rebase -i HEAD~3`: squash the last three\n"
                                           "* `git stash pop`: bring the stash back\n")
    write(tmp_path, "_site/notes/dropout.md", note("Dropout: A Simple Way to Prevent Overfitting", "1207.0580"))

    cat = catalog(tmp_path)
    assert sorted(by_path(cat.entries())) == ["notes/distillation.md", "notes/dropout.md"]
    others = {other.relpath: other for other in cat.non_notes()}
    assert others["papers_by_topic.md"].kind is NotNote.INDEX
    assert others["template.md"].kind is NotNote.TEMPLATE
    assert others["notes/TODO.md"].kind is NotNote.TODO
    assert others["notes/placeholder.md"].kind is NotNote.PLACEHOLDER
    assert others["notes/mygitnotes.md"].kind is NotNote.PERSONAL_NOTES
    assert any(path.startswith("_site") and other.kind is NotNote.BUILD_OUTPUT for path, other in others.items())
    assert all(other.reason for other in others.values())

    shown = run_cli("entries", cwd=tmp_path, env=clean_env())
    assert shown.returncode == 0, shown.stderr
    for path in ("papers_by_topic.md", "template.md", "notes/TODO.md", "notes/placeholder.md", "notes/mygitnotes.md"):
        [line] = [line for line in shown.stdout.splitlines() if line.strip().startswith(f"- {path}:")]
        assert line.split(":", 1)[1].strip() == others[path].reason
    listed = json.loads(run_cli("entries", "--json", cwd=tmp_path, env=clean_env()).stdout)
    assert {n["path"]: n["kind"] for n in listed["non_notes"]}["template.md"] == "template"


# --------------------------------------------------------------------------- front matter


def test_yaml_front_matter_gives_title_date_tags_and_excerpt(tmp_path: Path) -> None:
    write(tmp_path, "_posts/2015-12-10-resnet.md", """\
---
layout: post
title: "Deep Residual Learning for Image Recognition"
date: 2016-02-01 10:00:00 +0100
tags: ['2015', 'ICCV 2015', AI, residual]
excerpt: Identity shortcuts let a network of 152 layers train as easily as a shallow one.
---

[arXiv](https://arxiv.org/abs/1512.03385)

Some notes on the paper.
""")
    [entry] = catalog(tmp_path).entries()
    assert entry.title == "Deep Residual Learning for Image Recognition"
    assert entry.date_read == date(2016, 2, 1) and entry.date_source is DateSource.WRITTEN
    assert entry.tags == ("2015", "ICCV 2015", "AI", "residual")
    assert entry.description == "Identity shortcuts let a network of 152 layers train as easily as a shallow one."
    assert entry.arxiv_id == "1512.03385"


# --------------------------------------------------------------------------- dates


def test_a_date_in_the_file_name(tmp_path: Path) -> None:
    write(tmp_path, "papers/2018-1-6-Self-Normalizing-Networks.md", note("Self-Normalizing Networks", "1706.02515"))
    [entry] = catalog(tmp_path).entries()
    assert (entry.date_read, entry.date_source) == (date(2018, 1, 6), DateSource.FILENAME)


def test_readme_month_headings_under_a_year_and_academic_terms_date_the_notes_they_list(tmp_path: Path) -> None:
    write(tmp_path, "README.md", """\
# Paper notes

## 📖 Full Diary
## 2025
### October
- [Knowledge distillation](notes/distill.md)
### September
- [Dropout](notes/dropout.md)

## Older
### Winter 2020
* [Batch norm](notes/batchnorm.md)
""")
    write(tmp_path, "notes/distill.md", note("Distilling the Knowledge in a Neural Network"))
    write(tmp_path, "notes/dropout.md", note("Dropout", "1207.0580"))
    write(tmp_path, "notes/batchnorm.md", note("Batch Normalization", "1502.03167"))
    entries = by_path(catalog(tmp_path).entries())
    assert entries["notes/distill.md"].date_read.isoformat()[:7] == "2025-10"
    assert entries["notes/dropout.md"].date_read.isoformat()[:7] == "2025-09"
    assert {entries[p].date_source for p in ("notes/distill.md", "notes/dropout.md")} == {DateSource.INDEX}
    assert entries["notes/distill.md"].date_precision.value == "month"
    winter = entries["notes/batchnorm.md"]
    assert winter.date_source is DateSource.INDEX and winter.date_precision.value == "term"
    assert winter.date_read.year in (2019, 2020) and winter.date_read.month in (12, 1, 2, 3)


def test_a_date_read_without_its_year_takes_it_from_the_folder_or_the_readme(tmp_path: Path) -> None:
    write(tmp_path, "August 2025/PaperA.md", note("Paper A", date_line="Date read: 18th August"))
    write(tmp_path, "README.md", "# Diary\n\n## Full Diary\n### 2024\n- [Paper B](notes/b.md)\n")
    write(tmp_path, "notes/b.md", note("Paper B", "1207.0580", date_line="Date read: 3rd March"))
    entries = by_path(catalog(tmp_path).entries())
    a, b = entries["August 2025/PaperA.md"], entries["notes/b.md"]
    assert a.date_read == date(2025, 8, 18)
    assert b.date_read == date(2024, 3, 3)


def test_a_year_from_the_commit_keeps_the_written_day_and_says_so(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, "notes/c.md", note("Paper C", date_line="Date read: 18th August"))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "c", when="2023-08-23T12:00:00+00:00")
    [entry] = catalog(tmp_path).entries()
    assert entry.date_read == date(2023, 8, 18)  # the written day, never the commit's 23rd
    assert ProblemKind.YEAR_GUESSED in kinds(entry)


def test_a_typo_in_the_year_is_repaired(tmp_path: Path) -> None:
    write(tmp_path, "June 2025/4thJuneX.md", note("Paper X", date_line="Date read: 4th June 2p25"))
    [entry] = catalog(tmp_path).entries()
    assert entry.date_read == date(2025, 6, 4) and entry.date_source is DateSource.REPAIRED


def test_when_the_readme_index_and_the_file_disagree_the_file_wins_and_it_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# Diary\n\n## Full Diary\n### July 2025\n* 3rd: [Paper D](notes/d.md)\n")
    write(tmp_path, "notes/d.md", note("Paper D", date_line="Date read: 4th June 2025"))
    [entry] = catalog(tmp_path).entries()
    assert entry.date_read == date(2025, 6, 4) and entry.date_source is DateSource.WRITTEN
    assert ProblemKind.INDEX_DISAGREES in kinds(entry)
    shown = run_cli("entries", cwd=tmp_path, env=clean_env())
    assert "notes/d.md" in shown.stdout and "README.md" in shown.stdout.split("problem", 1)[1]


# --------------------------------------------------------------------------- first commits


def test_first_commit_dates_follow_real_renames_only(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, "draft.md", note("Paper E"))
    write(tmp_path, "old.md", "# Shopping list\n\n- milk\n- a new keyboard\n- stamps for the letters\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "e", when="2021-02-01T09:00:00+00:00")
    (tmp_path / "papers").mkdir()
    git(tmp_path, "mv", "draft.md", "papers/e.md")  # a true rename: E keeps its birth
    git(tmp_path, "rm", "-q", "old.md")
    # A note added as another file goes away: no rename, it is born in this commit.
    write(tmp_path, "papers/f.md", note("A Completely Different Paper About Speech", "1303.5778"))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "move", when="2022-05-05T09:00:00+00:00")
    entries = by_path(catalog(tmp_path).entries())
    assert (entries["papers/e.md"].date_read, entries["papers/e.md"].date_source) == (date(2021, 2, 1), DateSource.GIT)
    assert (entries["papers/f.md"].date_read, entries["papers/f.md"].date_source) == (date(2022, 5, 5), DateSource.GIT)


def test_a_one_byte_placeholder_later_rewritten_is_not_the_notes_birth(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, "notes/g.md", "\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "placeholder", when="2020-01-01T09:00:00+00:00")
    write(tmp_path, "notes/g.md", note("Paper G"))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "the note", when="2020-03-15T09:00:00+00:00")
    [entry] = catalog(tmp_path).entries()
    assert (entry.date_read, entry.date_source) == (date(2020, 3, 15), DateSource.GIT)


def test_a_date_cell_of_a_table_index_dates_the_note_it_links(tmp_path: Path) -> None:
    write(tmp_path, "README.md", """\
# Reading log

| Date | Paper | Notes |
|------|-------|-------|
| 2024-03-02 | [Distilling the Knowledge](https://arxiv.org/abs/1503.02531) | [notes](papers/distill.md) |
| 05/07/2024 | [Dropout](https://arxiv.org/abs/1207.0580) | [notes](papers/dropout.md) |
""")
    write(tmp_path, "papers/distill.md", "# Distilling the Knowledge in a Neural Network\n\nSoft targets.\n")
    write(tmp_path, "papers/dropout.md", "# Dropout\n\nRandom units dropped.\n")
    entries = by_path(catalog(tmp_path).entries())
    distill = entries["papers/distill.md"]
    assert (distill.date_read, distill.date_source) == (date(2024, 3, 2), DateSource.INDEX)
    assert distill.arxiv_id == "1503.02531"  # from the row's other link
    assert entries["papers/dropout.md"].date_source is not DateSource.INDEX  # 05/07: day or month first, unknown
