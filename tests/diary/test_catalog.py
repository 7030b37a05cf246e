"""The diary catalog: every entry of a generated diary, in any layout and date form, as one typed record each."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from paperdiary.diary.catalog import (
    Catalog, CatalogEntry, DateSource, DescribeRequest, DescriptionSource, ProblemKind,
)
from paperdiary.diary.dates import DateContext, Order, parse_written, resolve
from paperdiary.diary.describe import read_entry_text
from paperdiary.errors import DiaryError
from paperdiary.models import PaperMeta
from paperdiary.stages.drafting.contract import Claim, Draft
from paperdiary.settings import load_settings
from paperdiary.stages.entry import write_entry
from paperdiary.state.store import EntryRecord, Store

AN_HOUR_AGO = time.time() - 3600

README = """\
# My Paper Diary

## Interesting Methods and Lesson Learned
### Reinforcement Learning
1. **Forking tokens** carry the learning ([80:20](June%202025/11thJuneTokenEntropyRLVR.md)).
2. Filter prompts always solved ([ProRL](June%202025/4thJuneProlongedRL.md), [AZR](Robotics/azr.md)).

### Robotics
1. **Action chunks** smooth motion ([AZR](Robotics/azr.md)).
"""


def write(root: Path, relpath: str, text: str | bytes) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def age(root: Path) -> None:
    """Date every file an hour back, as files that were not just written (their stat is then trusted)."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            os.utime(Path(dirpath) / name, (AN_HOUR_AGO, AN_HOUR_AGO), follow_symlinks=False)


def catalog(root: Path, **settings: object) -> Catalog:
    return Catalog(load_settings(root, overrides=settings, env={}))


def by_path(entries: list[CatalogEntry]) -> dict[str, CatalogEntry]:
    return {entry.relpath: entry for entry in entries}


def kinds(entry: CatalogEntry) -> set[ProblemKind]:
    return {problem.kind for problem in entry.problems}


def git(root: Path, *args: str, when: str = "2025-01-01T09:00:00+00:00") -> None:
    env = os.environ | {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": "Diarist",
                        "GIT_AUTHOR_EMAIL": "d@example.org", "GIT_COMMITTER_NAME": "Diarist",
                        "GIT_COMMITTER_EMAIL": "d@example.org", "GIT_CONFIG_GLOBAL": os.devnull,
                        "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], env=env, check=True,
                   capture_output=True)


# --------------------------------------------------------------------------- layouts and what is never an entry


def test_every_layout_is_read_and_nothing_that_is_not_an_entry(tmp_path: Path) -> None:
    entry = "# A paper\nDate read: 4th June 2025\n\nIt does a thing.\n"
    for relpath in ("June 2025/4thJuneMonthFolder.md", "entries/June 2025/4thJuneDrafted.md", "Robotics/topic.md",
                    "flat/one.md", "at-root.md", "Robotics/Hands/nested.markdown"):
        write(tmp_path, relpath, entry)
    for relpath in ("README.md", "LESSONS-QUEUE.md", "READING-LIST.md", "CONTRIBUTING.md", "LICENSE.md",
                    "CHANGELOG.md", "Robotics/README.md", "prompts/entry.md", ".paperdiary/cache/x.md", ".git/x.md",
                    ".github/ISSUE_TEMPLATE.md", "node_modules/pkg/readme2.md", "assets/plot.md",
                    "flat/notes.txt"):
        write(tmp_path, relpath, entry)
    found = sorted(e.relpath for e in catalog(tmp_path).entries())
    assert found == ["June 2025/4thJuneMonthFolder.md", "Robotics/Hands/nested.markdown", "Robotics/topic.md",
                     "at-root.md", "entries/June 2025/4thJuneDrafted.md", "flat/one.md"]


def test_a_renamed_reading_list_and_queue_are_left_out_too(tmp_path: Path) -> None:
    for relpath in ("saved-papers.md", "queue/lessons.md", "paper.md"):
        write(tmp_path, relpath, "# X\nDate: 2025-06-04\n")
    found = catalog(tmp_path, reading_list="saved-papers.md", queue_file="queue/lessons.md").entries()
    assert [e.relpath for e in found] == ["paper.md"]
    write(tmp_path, "plots/notes.md", "# Notes on the plots\nDate: 2025-06-04\n")  # the assets folder, renamed
    found = catalog(tmp_path, assets_dir="plots").entries()
    assert sorted(e.relpath for e in found) == ["paper.md", "queue/lessons.md", "saved-papers.md"]


def test_roots_and_ignore_globs(tmp_path: Path) -> None:
    entry = "# X\nDate: 2025-06-04\n"
    for relpath in ("Robotics/a.md", "Robotics/drafts/b.md", "Robotics/c.tmp.md", "June 2025/old-d.md",
                    "June 2025/e.md", "archive/2019/f.md", "Other/g.md"):
        write(tmp_path, relpath, entry)
    ignore = ("drafts/", "*.tmp.md", "/June 2025/old-*.md", "archive/**")
    found = {e.relpath for e in catalog(tmp_path, catalog_ignore=ignore).entries()}
    assert found == {"Robotics/a.md", "June 2025/e.md", "Other/g.md"}
    rooted = {e.relpath for e in catalog(tmp_path, catalog_roots=("Robotics", "June 2025"),
                                         catalog_ignore=("drafts",)).entries()}
    assert rooted == {"Robotics/a.md", "Robotics/c.tmp.md", "June 2025/old-d.md", "June 2025/e.md"}
    with pytest.raises(DiaryError, match="catalog root 'Missing'"):
        catalog(tmp_path, catalog_roots=("Missing",)).entries()


def test_roots_and_ignores_come_from_the_toml_file_and_the_environment(tmp_path: Path) -> None:
    (tmp_path / "paperdiary.toml").write_text('catalog_roots = ["Robotics", "June 2025"]\n', encoding="utf-8")
    settings = load_settings(tmp_path, env={"PAPERDIARY_CATALOG_IGNORE": "drafts/, *.tmp.md"})
    assert settings.catalog_roots == ("Robotics", "June 2025")
    assert settings.catalog_ignore == ("drafts/", "*.tmp.md")


# --------------------------------------------------------------------------- dates


DATE_FORMS = {
    "Date read: 4th June 2025": date(2025, 6, 4),
    "**Date:** 23rd May 2025": date(2025, 5, 23),
    "Date: 5th June 2025": date(2025, 6, 5),
    "30/05/2025": date(2025, 5, 30),
    "2025-06-04": date(2025, 6, 4),
    "June 4, 2025": date(2025, 6, 4),
    "4 June 2025": date(2025, 6, 4),
    "Date: 14.06.2025": date(2025, 6, 14),
    "Date read: 4th of June, 2025": date(2025, 6, 4),
    "Date read - Jun 4 2025": date(2025, 6, 4),
    "Date: 2025/06/04": date(2025, 6, 4),
    "_Wednesday, 4 June 2025_": date(2025, 6, 4),
    "Read on 7 Sept 2025": date(2025, 9, 7),
    "Date read: 06/30/2025": date(2025, 6, 30),
}


def test_every_date_form_is_read_from_the_file(tmp_path: Path) -> None:
    for n, line in enumerate(DATE_FORMS):
        write(tmp_path, f"Mixed/entry{n}.md", f"# Entry {n}\n{line}\n\nSome words here.\n")
    entries = by_path(catalog(tmp_path).entries())
    for n, (line, expected) in enumerate(DATE_FORMS.items()):
        entry = entries[f"Mixed/entry{n}.md"]
        assert (entry.date_read, entry.date_source, entry.problems) == (expected, DateSource.WRITTEN, ()), line


def test_day_first_or_month_first_is_settled_by_the_month_folder(tmp_path: Path) -> None:
    write(tmp_path, "June 2025/a.md", "# A\nDate: 05/06/2025\n")
    write(tmp_path, "May 2025/b.md", "# B\nDate: 05/06/2025\n")
    write(tmp_path, "2025/04/c.md", "# C\nDate: 04.03.2025\n")  # nested year/month folders: 3rd April
    entries = by_path(catalog(tmp_path).entries())
    assert entries["June 2025/a.md"].date_read == date(2025, 6, 5)
    assert entries["May 2025/b.md"].date_read == date(2025, 5, 6)
    assert entries["2025/04/c.md"].date_read == date(2025, 4, 3)
    assert all(e.date_source is DateSource.WRITTEN and not e.problems for e in entries.values())


def test_day_first_or_month_first_is_settled_by_the_neighbours(tmp_path: Path) -> None:
    # The neighbours' habit: 30/05/2025 can only be day-first, so 05/06/2025 there is the 5th of June...
    write(tmp_path, "Robotics/habit.md", "# H\nDate: 30/05/2025\n")
    write(tmp_path, "Robotics/ambiguous.md", "# A\nDate: 05/06/2025\n")
    # ...and 05/30/2025 only month-first, so 05/06/2025 there is the 6th of May.
    write(tmp_path, "Vision/habit.md", "# H\nDate: 05/30/2025\n")
    write(tmp_path, "Vision/ambiguous.md", "# A\nDate: 05/06/2025\n")
    # No numeric habit, but the neighbours read in June: 06/05/2025 is the 5th of June, not the 6th of May.
    write(tmp_path, "Agents/one.md", "# O\nDate read: 2nd June 2025\n")
    write(tmp_path, "Agents/two.md", "# T\nDate read: 9th June 2025\n")
    write(tmp_path, "Agents/ambiguous.md", "# A\nDate: 06/05/2025\n")
    entries = by_path(catalog(tmp_path).entries())
    assert entries["Robotics/ambiguous.md"].date_read == date(2025, 6, 5)
    assert entries["Vision/ambiguous.md"].date_read == date(2025, 5, 6)
    assert entries["Agents/ambiguous.md"].date_read == date(2025, 6, 5)
    assert not any(e.problems for e in entries.values())


def test_an_ambiguity_nothing_settles_is_read_day_first_and_flagged(tmp_path: Path) -> None:
    write(tmp_path, "Misc/alone.md", "# Alone\nDate: 03/04/2025\n")
    (entry,) = catalog(tmp_path).entries()
    assert entry.date_read == date(2025, 4, 3) and entry.date_source is DateSource.WRITTEN
    assert kinds(entry) == {ProblemKind.AMBIGUOUS_DATE}
    assert "'03/04/2025'" in entry.problems[0].message and "3 April" in entry.problems[0].message


def test_obvious_typos_are_repaired_from_the_folder_or_the_neighbours(tmp_path: Path) -> None:
    write(tmp_path, "June 2025/4thJuneX.md", "# X\nDate read: 4th June 2205\n")  # year from the folder
    write(tmp_path, "Robotics/ok.md", "# OK\nDate read: 1st May 2025\n")
    write(tmp_path, "Robotics/typo.md", "# T\nDate: 2052-05-09\n")  # year from the neighbour
    write(tmp_path, "Robotics/month.md", "# M\nDate read: 12th Juen 2025\n")
    write(tmp_path, "Lonely/typo.md", "# L\nDate read: 4th June 2205\n")  # nothing to repair it from
    entries = by_path(catalog(tmp_path).entries())
    repaired = {path: (e.date_read, e.date_source) for path, e in entries.items() if path != "Lonely/typo.md"}
    assert repaired == {
        "June 2025/4thJuneX.md": (date(2025, 6, 4), DateSource.REPAIRED),
        "Robotics/ok.md": (date(2025, 5, 1), DateSource.WRITTEN),
        "Robotics/typo.md": (date(2025, 5, 9), DateSource.REPAIRED),
        "Robotics/month.md": (date(2025, 6, 12), DateSource.REPAIRED),
    }
    lonely = entries["Lonely/typo.md"]
    assert lonely.date_source is DateSource.MTIME
    assert kinds(lonely) == {ProblemKind.BAD_DATE, ProblemKind.NO_DATE}


def test_without_a_written_date_the_record_then_folder_and_file_name_then_mtime(tmp_path: Path) -> None:
    write(tmp_path, "entries/June 2025/11thJuneDrafted.md", "# Drafted\n\n## Key Points\n- It works.\n")
    write(tmp_path, "June 2025/21stJuneKinetix.md", "# Kinetix\n\nGPU environments.\n")
    write(tmp_path, "notes/2025-06-03-blog.md", "# Blog\n")
    write(tmp_path, "Robotics/undated.md", "# Undated\n")
    settings = load_settings(tmp_path, env={})
    with Store(settings.db_path) as store:
        store.record_entry(EntryRecord("entries/June 2025/11thJuneDrafted.md", "2506.01939", 1, "Drafted",
                                       "Stored description.", "offline", "2025-06-10", "now"))
    os.utime(tmp_path / "Robotics/undated.md", (AN_HOUR_AGO, time.mktime((2024, 2, 29, 12, 0, 0, 0, 0, -1))))
    entries = by_path(Catalog(settings).entries())
    got = {path: (e.date_read, e.date_source) for path, e in entries.items()}
    assert got == {
        "entries/June 2025/11thJuneDrafted.md": (date(2025, 6, 10), DateSource.DRAFTED),
        "June 2025/21stJuneKinetix.md": (date(2025, 6, 21), DateSource.FOLDER),
        "notes/2025-06-03-blog.md": (date(2025, 6, 3), DateSource.FILENAME),
        "Robotics/undated.md": (date(2024, 2, 29), DateSource.MTIME),
    }
    assert kinds(entries["Robotics/undated.md"]) == {ProblemKind.NO_DATE}
    assert entries["entries/June 2025/11thJuneDrafted.md"].description == "Stored description."
    assert entries["entries/June 2025/11thJuneDrafted.md"].description_source is DescriptionSource.DRAFTED


def test_an_entry_with_no_date_anywhere_gets_its_first_commit_date_through_renames(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, "May 2025/moved.md", "# Moved later\n\nNo date in here.\n")
    write(tmp_path, "Robotics/plain.md", "# Plain\n\nNo date either.\n")
    write(tmp_path, "Robotics/dated.md", "# Dated\nDate: 2025-02-01\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "first", when="2025-03-14T23:30:00-05:00")  # the author's own day
    (tmp_path / "Topics").mkdir()
    git(tmp_path, "mv", "May 2025/moved.md", "Topics/moved.md")
    write(tmp_path, "Robotics/new.md", "# New\n\nStill no date.\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "reorganise", when="2025-08-01T10:00:00+00:00")
    write(tmp_path, "June 2025/2ndJuneUncommitted.md", "# Not committed yet\n")
    first = catalog(tmp_path)
    got = {e.relpath: (e.date_read, e.date_source) for e in first.entries()}
    assert got == {
        "Topics/moved.md": (date(2025, 3, 14), DateSource.GIT),
        "Robotics/plain.md": (date(2025, 3, 14), DateSource.GIT),
        "Robotics/dated.md": (date(2025, 2, 1), DateSource.WRITTEN),
        "Robotics/new.md": (date(2025, 8, 1), DateSource.GIT),
        "June 2025/2ndJuneUncommitted.md": (date(2025, 6, 2), DateSource.FOLDER),
    }
    assert first.stats.git_log
    again = catalog(tmp_path)
    assert [e.as_json() for e in again.entries()] == [e.as_json() for e in first.entries()]
    assert not again.stats.git_log  # same HEAD: the first-commit dates come from the cache


# --------------------------------------------------------------------------- titles, descriptions, papers, links


def test_titles_descriptions_papers_and_links(tmp_path: Path) -> None:
    write(tmp_path, "Robotics/azr.md", """\
## Absolute Zero Reasoner
**Date:** 23rd May 2025
[Paper](https://huggingface.co/papers/2505.03335)

**Aims:** To build a reasoner that **teaches itself**, e.g. with code. More follows.
""")
    write(tmp_path, "June 2025/4thJuneProlongedRL.md", """\
# ProRL
Date read: 4th June 2025
[arXiv link](https://arxiv.org/pdf/2505.24864v2.pdf)
![figure](fig.png)

Problem:
- longer RL training keeps improving reasoning
""")
    write(tmp_path, "Blogs/bitter.md", """\
# The Bitter Lesson (blog)
Date: 2025-06-06
Source: https://www.incompleteideas.net/IncIdeas/BitterLesson.html

**Key idea**

Summary: General methods that use computation win in the long run.
""")
    write(tmp_path, "June 2025/11thJuneTokenEntropyRLVR.md", """\
# Beyond the 80/20 Rule
Date read: 11th June 2025

[arXiv link](https://arxiv.org/abs/2506.01939)

> Drafted without an LLM (extractive offline drafter): every line below is a sentence taken from the paper.

## Key Points
- High-entropy minority tokens steer reasoning.

<!-- paperdiary: {"arxiv_id": "2506.01939", "version": 1, "drafter": "offline", "description": "RLVR on the forking tokens only."} -->
""")
    write(tmp_path, "Vision/alphaxiv.md", "Key Points\n==========\nDate: 2025-06-07\nSee www.alphaxiv.org/abs/2401.00001 "
                                          "and arXiv:2402.00002.\n")
    write(tmp_path, "Vision/related.md", "# Related work only\nDate: 2025-06-08\n\n## Notes\n- arXiv:2403.00003 and "
                                         "arXiv:2404.00004 are both related.\n")
    entries = by_path(catalog(tmp_path).entries())
    azr = entries["Robotics/azr.md"]
    assert (azr.title, azr.arxiv_id, azr.links) == ("Absolute Zero Reasoner", "2505.03335", ())
    assert azr.description == "To build a reasoner that teaches itself, e.g. with code."
    assert azr.description_source is DescriptionSource.FIRST_SENTENCE and not azr.drafted
    prorl = entries["June 2025/4thJuneProlongedRL.md"]
    assert (prorl.arxiv_id, prorl.description) == ("2505.24864", "Longer RL training keeps improving reasoning")
    blog = entries["Blogs/bitter.md"]
    assert blog.arxiv_id is None
    assert blog.links == ("https://www.incompleteideas.net/IncIdeas/BitterLesson.html",)
    assert blog.description == "General methods that use computation win in the long run."
    drafted = entries["June 2025/11thJuneTokenEntropyRLVR.md"]
    assert drafted.drafted and drafted.description == "RLVR on the forking tokens only."
    assert drafted.description_source is DescriptionSource.DRAFTED and drafted.arxiv_id == "2506.01939"
    untitled = entries["Vision/alphaxiv.md"]
    assert untitled.title == "alphaxiv"  # "Key Points" is a section, not a title
    assert untitled.arxiv_id == "2401.00001"  # the first paper named near the top
    assert entries["Vision/related.md"].arxiv_id is None  # two papers named further down: not guessed
    for entry in entries.values():
        assert not entry.description.endswith(":"), entry


def test_an_entry_the_drafter_wrote_reads_back_whole(tmp_path: Path) -> None:
    (tmp_path / "entries").mkdir()
    settings = load_settings(tmp_path, env={})
    draft = Draft(short_name="TokenEntropyRLVR", description="RLVR on forks -- the 20% > the 80%.",
                  key_points=[Claim("**High-entropy tokens** act as forks [sic].", verified=False)], key_methods=[],
                  results=[], limitations=[], lessons=[], drafter="offline")
    meta = PaperMeta(title="Beyond the 80/20 Rule: <Forks>", arxiv_id="2506.01939", version=2)
    written = write_entry(settings, draft, meta, date(2025, 6, 11))
    undescribed = write_entry(settings, Draft(**{**draft.__dict__, "description": "", "short_name": "Other"}),
                              PaperMeta(title="Other", arxiv_id="2506.00002"), date(2025, 6, 12))
    entries = by_path(Catalog(settings).entries())
    entry = entries[written.relpath]
    assert (entry.title, entry.date_read, entry.date_source) == ("Beyond the 80/20 Rule: <Forks>", date(2025, 6, 11),
                                                                 DateSource.WRITTEN)
    assert (entry.arxiv_id, entry.drafted, entry.folder) == ("2506.01939", True, "entries/June 2025")
    assert entry.description == "RLVR on forks - - the 20% > the 80%."  # as the hidden comment could keep it
    assert entry.description_source is DescriptionSource.DRAFTED
    other = entries[undescribed.relpath]
    assert other.description == "High-entropy tokens act as forks [sic]."  # the first key point, not the notice
    assert other.description_source is DescriptionSource.FIRST_SENTENCE


@pytest.mark.parametrize(("markdown", "description"), [
    ("# T\n**Aims:** To build X.\n", "To build X."),
    ("# T\nAims:\n\nTo build X quickly. Then Y.\n", "To build X quickly."),
    ("# T\n**Problem**: models forget.\n", "Models forget."),
    ("# T\nTL;DR: it works.\n", "It works."),
    ("# T\nAuthors: A. Person, B. Person\nThe key idea: forks matter. Yes.\n", "The key idea: forks matter."),
    ("# T\nWe propose X: a method for Y. And more.\n", "We propose X: a method for Y."),
    ("# T\nWork by J. Doe et al. shows scale helps. Next.\n", "Work by J. Doe et al. shows scale helps."),
    ("# T\n[link](https://a.example) | [code](https://b.example)\n<!-- note: hidden -->\n```\ncode line.\n```\n"
     "A sentence split\nover two lines. Then another.\n", "A sentence split over two lines."),
    ("# T\n## Key Points\n- _No key points found._\n", ""),
])
def test_the_description_is_a_sentence_not_a_label(markdown: str, description: str) -> None:
    assert read_entry_text(markdown).description == description


def test_a_long_first_sentence_is_cut_at_a_word(tmp_path: Path) -> None:
    said = read_entry_text("# T\n" + "Scaling " * 60 + "works.\n")
    assert said.description.endswith("Scaling…") and len(said.description) <= 200


def test_readme_lessons_give_themes_and_lessons(tmp_path: Path) -> None:
    write(tmp_path, "README.md", README)
    write(tmp_path, "June 2025/11thJuneTokenEntropyRLVR.md", "# 80:20\nDate read: 11th June 2025\n")
    write(tmp_path, "Robotics/azr.md", "# AZR\nDate read: 23rd May 2025\n")
    write(tmp_path, "Robotics/uncited.md", "# Uncited\nDate read: 24th May 2025\n")
    entries = by_path(catalog(tmp_path).entries())
    azr = entries["Robotics/azr.md"]
    assert azr.themes == ("Reinforcement Learning", "Robotics")
    assert azr.lessons == ("Filter prompts always solved (ProRL, AZR).", "Action chunks smooth motion (AZR).")
    assert entries["June 2025/11thJuneTokenEntropyRLVR.md"].themes == ("Reinforcement Learning",)
    assert entries["Robotics/uncited.md"].themes == () and entries["Robotics/uncited.md"].lessons == ()


def test_two_entries_of_one_paper_are_flagged(tmp_path: Path) -> None:
    write(tmp_path, "June 2025/4thJuneProRL.md", "# ProRL\nDate: 2025-06-04\nhttps://arxiv.org/abs/2505.24864\n")
    write(tmp_path, "Reinforcement Learning/prorl.md", "# ProRL again\nDate: 2025-06-08\narXiv:2505.24864v1\n")
    write(tmp_path, "Other/cites-it.md", "# Other\nDate: 2025-06-09\nhttps://arxiv.org/abs/2506.00001\n\n## Notes\n"
                                         "Builds on arXiv:2505.24864.\n")
    found = catalog(tmp_path)
    twins = found.by_arxiv_id()["2505.24864"]
    assert [e.relpath for e in twins] == ["June 2025/4thJuneProRL.md", "Reinforcement Learning/prorl.md"]
    assert all(kinds(e) == {ProblemKind.DUPLICATE_ARXIV_ID} for e in twins)
    assert "Reinforcement Learning/prorl.md" in twins[0].problems[0].message
    assert not by_path(found.entries())["Other/cites-it.md"].problems  # citing a paper is not an entry of it
    assert {p.relpath for p in found.problems()} == {e.relpath for e in twins}


# --------------------------------------------------------------------------- files that cannot or must not be read


def test_a_symlink_outside_the_diary_is_refused_unread(tmp_path: Path) -> None:
    diary, outside = tmp_path / "diary", tmp_path / "elsewhere"
    write(outside, "secret.md", "# Secret title\nDate: 2025-01-01\nSECRET-CONTENT\n")
    write(diary, "Robotics/real.md", "# Real\nDate: 2025-06-01\n")
    (diary / "Robotics/link.md").symlink_to(outside / "secret.md")
    (diary / "Robotics/inside-link.md").symlink_to(diary / "Robotics/real.md")
    (diary / "External").symlink_to(outside, target_is_directory=True)
    found = catalog(diary)
    entries = by_path(found.entries())
    refused = entries["Robotics/link.md"]
    assert kinds(refused) == {ProblemKind.SYMLINK_OUTSIDE, ProblemKind.NO_DATE}
    assert refused.title == "link" and refused.sha256 == "" and refused.description == ""
    assert "SECRET" not in json.dumps([e.as_json() for e in found.entries()])
    assert entries["Robotics/inside-link.md"].date_read == date(2025, 6, 1)  # a link inside the diary is read
    assert not any(path.startswith("External/") for path in entries)
    assert any(p.relpath == "External" and p.kind is ProblemKind.SYMLINK_OUTSIDE for p in found.problems())


def test_unreadable_and_non_utf8_files_are_kept_with_their_problem(tmp_path: Path) -> None:
    write(tmp_path, "June 2025/5thJuneLatin.md", "# Café paper\nDate read: 5th June 2025\nDéjà vu.\n"
          .encode("latin-1"))
    (tmp_path / "June 2025").joinpath("9thJuneGone.md").symlink_to(tmp_path / "June 2025" / "missing.md")
    entries = by_path(catalog(tmp_path).entries())
    latin = entries["June 2025/5thJuneLatin.md"]
    assert kinds(latin) == {ProblemKind.NOT_UTF8}
    assert latin.date_read == date(2025, 6, 5) and latin.date_source is DateSource.WRITTEN
    gone = entries["June 2025/9thJuneGone.md"]
    assert kinds(gone) == {ProblemKind.UNREADABLE}
    assert (gone.date_read, gone.date_source, gone.title) == (date(2025, 6, 9), DateSource.FOLDER, "9thJuneGone")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_kept_with_its_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "Robotics/locked.md", "# Locked\nDate: 2025-06-01\n")
    path.chmod(0)
    try:
        (entry,) = catalog(tmp_path).entries()
    finally:
        path.chmod(0o644)
    assert kinds(entry) == {ProblemKind.UNREADABLE, ProblemKind.NO_DATE}


# --------------------------------------------------------------------------- the cache


def test_a_warm_catalog_reads_no_unchanged_file(tmp_path: Path) -> None:
    for n in range(12):
        write(tmp_path, f"June 2025/{n + 1}thJunePaper{n}.md", f"# Paper {n}\nDate: 2025-06-{n + 1:02d}\n\nIt works.\n")
    age(tmp_path)
    cold = catalog(tmp_path)
    cold_entries = [e.as_json() for e in cold.entries()]
    assert (cold.stats.files, cold.stats.read, cold.stats.parsed, cold.stats.cached) == (12, 12, 12, True)

    warm = catalog(tmp_path)
    assert [e.as_json() for e in warm.entries()] == cold_entries
    assert (warm.stats.read, warm.stats.parsed) == (0, 0)

    touched = tmp_path / "June 2025/1thJunePaper0.md"
    os.utime(touched, (AN_HOUR_AGO - 60, AN_HOUR_AGO - 60))  # same bytes, new mtime: hashed, not parsed
    edited = tmp_path / "June 2025/2thJunePaper1.md"
    edited.write_text("# Paper 1, renamed\nDate: 2025-06-02\n", encoding="utf-8")
    os.utime(edited, (AN_HOUR_AGO - 60, AN_HOUR_AGO - 60))
    (tmp_path / "June 2025/3thJunePaper2.md").unlink()
    after = catalog(tmp_path)
    titles = {e.relpath: e.title for e in after.entries()}
    assert (after.stats.files, after.stats.read, after.stats.parsed) == (11, 2, 1)
    assert titles["June 2025/2thJunePaper1.md"] == "Paper 1, renamed"
    again = catalog(tmp_path)
    again.entries()
    assert (again.stats.read, again.stats.parsed) == (0, 0)
    with Store(load_settings(tmp_path, env={}).db_path) as store:
        assert "June 2025/3thJunePaper2.md" not in store.catalog_files()  # a deleted file leaves the cache


def test_a_file_changed_just_now_is_checked_again_next_time(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# A\nDate: 2025-06-01\n")  # mtime: now; a same-size edit could keep it
    catalog(tmp_path).entries()
    warm = catalog(tmp_path)
    warm.entries()
    assert (warm.stats.read, warm.stats.parsed) == (1, 0)


def test_without_a_writable_state_folder_the_catalog_still_works_uncached(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# A\nDate: 2025-06-01\n")
    write(tmp_path, "blocked", "a file where the state folder would go")
    found = catalog(tmp_path, state_dir="blocked/state")
    assert [e.date_read for e in found.entries()] == [date(2025, 6, 1)]
    assert not found.stats.cached and found.stats.read == 1


def test_with_a_read_only_state_folder_the_catalog_still_works_uncached(tmp_path: Path) -> None:
    from tests.fakes.mounts import read_only

    write(tmp_path, "a.md", "# A\nDate: 2025-06-01\n")
    assert catalog(tmp_path).entries()  # the store exists, with its cache
    write(tmp_path, "b.md", "# B\nDate: 2025-06-02\n")
    with read_only(tmp_path / ".paperdiary"):
        found = catalog(tmp_path)
        assert [e.date_read for e in found.entries()] == [date(2025, 6, 1), date(2025, 6, 2)]
    assert not found.stats.cached


def test_a_new_state_folder_keeps_itself_out_of_git(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# A\nDate: 2025-06-01\n")
    catalog(tmp_path).entries()
    assert (tmp_path / ".paperdiary/.gitignore").read_text(encoding="utf-8") == "*\n"


# --------------------------------------------------------------------------- the describer hook and JSON


def test_the_describer_fills_only_missing_descriptions(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# Only links\nDate: 2025-06-01\n[paper](https://example.org/p)\n")
    write(tmp_path, "b.md", "# Has one\nDate: 2025-06-02\n\nIt has a sentence.\n")
    asked: list[DescribeRequest] = []

    def describe(request: DescribeRequest) -> str | None:
        asked.append(request)
        return "  A paper about\nlinks.  "

    settings = load_settings(tmp_path, env={})
    entries = by_path(Catalog(settings, llm_describe=describe).entries())
    assert [(r.relpath, r.title) for r in asked] == [("a.md", "Only links")]
    assert "https://example.org/p" in asked[0].markdown
    assert (entries["a.md"].description, entries["a.md"].description_source) == ("A paper about links.",
                                                                                  DescriptionSource.LLM)
    assert entries["b.md"].description_source is DescriptionSource.FIRST_SENTENCE


def test_entries_are_sorted_by_date_then_path_and_serialise(tmp_path: Path) -> None:
    write(tmp_path, "b.md", "# B\nDate: 2025-06-01\n")
    write(tmp_path, "a.md", "# A\nDate: 2025-06-01\n")
    write(tmp_path, "c.md", "# C\nDate: 2025-05-01\n")
    found = catalog(tmp_path).entries()
    assert [e.relpath for e in found] == ["c.md", "a.md", "b.md"]
    record = json.loads(json.dumps(found[0].as_json()))
    assert record["date_read"] == "2025-05-01" and record["date_source"] == "written-in-file"
    assert record["problems"] == [] and record["folder"] == ""


# --------------------------------------------------------------------------- date reading, unit by unit


@pytest.mark.parametrize(("text", "context", "expected"), [
    ("05/06/2025", DateContext(neighbour_order=Order.MONTH_FIRST), date(2025, 5, 6)),
    ("05/06/25", DateContext(folder_month=(2025, 6)), date(2025, 6, 5)),
    ("4th June 2052", DateContext(), None),  # an implausible year with nothing to repair it from
    ("31st June 2025", DateContext(folder_month=(2025, 6)), None),
])
def test_resolve_in_context(text: str, context: DateContext, expected: date | None) -> None:
    written = parse_written(text)
    assert written is not None
    resolved = resolve(written, context, today=date(2025, 7, 1))
    assert (resolved.day if resolved else None) == expected


def test_a_given_store_is_used_and_left_open_and_a_damaged_cache_row_is_read_again(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# A\nDate: 2025-06-01\n")
    age(tmp_path)
    settings = load_settings(tmp_path, env={})
    with Store(settings.db_path) as store:
        Catalog(settings, store=store).entries()
        (row,) = store.catalog_files().values()
        store.db.execute("UPDATE catalog_files SET facts_json = '{broken'")
        again = Catalog(settings, store=store)
        assert [e.title for e in again.entries()] == ["A"]  # the store is still open: it was not closed
        assert (again.stats.read, again.stats.parsed) == (1, 1)
        assert store.catalog_files()["a.md"].facts_json == row.facts_json


def test_an_entry_moved_with_git_mv_keeps_its_date_before_the_move_is_committed(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, "May 2025/plain.md", "# Plain\n\nNo date in here.\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "first", when="2025-03-14T10:00:00+00:00")
    catalog(tmp_path).entries()  # the first-commit dates are cached for this HEAD
    (tmp_path / "Topics").mkdir()
    git(tmp_path, "mv", "May 2025/plain.md", "Topics/plain.md")
    (entry,) = catalog(tmp_path).entries()
    assert (entry.relpath, entry.date_read, entry.date_source) == ("Topics/plain.md", date(2025, 3, 14), DateSource.GIT)


def test_key_points_are_read_for_the_topic_map(tmp_path: Path) -> None:
    write(tmp_path, "June 2025/11thJuneX.md", "# X\nDate read: 11th June 2025\n\n## Key Points\n"
          "- First **point** about [diffusion](http://x).\n- Second point\n  wrapped here. ⚠ unverified\n\n"
          "- _No key points found._\n## Key Methods\n- Not a key point.\n")
    write(tmp_path, "June 2025/12thJuneY.md", "# Y\nDate read: 12th June 2025\n\nNo sections here.\n")
    x, y = catalog(tmp_path).entries()
    assert x.key_point_items == ("First point about diffusion.", "Second point wrapped here.") and y.key_point_items == ()
    age(tmp_path)
    assert catalog(tmp_path).entries()[0].key_point_items == x.key_point_items  # cached with the other facts
    assert read_entry_text("Related in this diary: [A](a.md), [B](b.md)\n\nA real sentence.\n").description == \
        "A real sentence."
