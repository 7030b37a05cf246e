"""`index` on diaries kept by hand, in the shapes real ones have: it finds the diarist's own index whatever
its heading, emoji, wording, order and month headings, and only extends it."""

from __future__ import annotations

import difflib
import json
import re
from datetime import date
from pathlib import Path

from paperdiary.diary.catalog import CatalogEntry, DateSource, DescriptionSource
from paperdiary.diary.index import build_index, find_section, period_of
from paperdiary.diary.markdown import parse
from tests.conftest import run_cli


def entry(relpath: str, day: date, title: str, arxiv_id: str | None = None, description: str = "") -> CatalogEntry:
    return CatalogEntry(relpath=relpath, title=title, date_read=day, date_source=DateSource.WRITTEN,
                        date_text=f"{day}", arxiv_id=arxiv_id, links=(), folder=relpath.rpartition("/")[0],
                        description=description, description_source=DescriptionSource.FIRST_SENTENCE,
                        themes=(), lessons=(), drafted=False, sha256="")


def only_insertions(old: str, new: str) -> list[str]:
    """The lines added; fails when a line of ``old`` was changed, moved or removed."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    added = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        assert op in ("equal", "insert"), (op, a[i1:i2], b[j1:j2])
        added += b[j1:j2] if op == "insert" else []
    return added


# A notes index under "## Paper notes", year-month headings, newest first, the title before the links.
PAPER_NOTES = """\
## Paper notes
_Related: my [flashcards](https://example.org/flashcards) repo._

#### 2018-03

* The Case for Learned Index Structures [[notes](papers/learned-index.md)] [[link](https://arxiv.org/abs/1712.01208)]

#### 2018-01

* Stability and Generalization [[notes](papers/stability.md)] [[link](http://www.jmlr.org/papers/bousquet02a.pdf)]
* Counterfactual fairness [[notes](papers/counterfactual-fairness.md)]

---

#### Other collections of paper notes

* Denny Britz [[link](https://github.com/dennybritz/deeplearning-papernotes)]
"""


def test_a_year_month_index_under_its_own_words_is_extended_in_its_own_style() -> None:
    known = [entry("papers/learned-index.md", date(2018, 3, 2), "The Case for Learned Index Structures",
                   "1712.01208"),
             entry("papers/stability.md", date(2018, 1, 20), "Stability and Generalization"),
             entry("papers/counterfactual-fairness.md", date(2018, 1, 3), "Counterfactual fairness"),
             entry("papers/pixel rnn.md", date(2018, 1, 10), "Pixel Recurrent Neural Networks", "1601.06759"),
             entry("talks/new-one.md", date(2018, 2, 14), "A talk on transport")]
    first = build_index(PAPER_NOTES, known)
    assert first.section_found and first.section_heading == "## Paper notes"
    added = only_insertions(PAPER_NOTES, first.new)
    assert added.count("#### 2018-02\n") == 1  # the missing month, in the section's form and level
    assert "* Pixel Recurrent Neural Networks [[notes](papers/pixel%20rnn.md)] [[link](https://arxiv.org/abs/1601.06759)]\n" in added
    assert "* A talk on transport [[notes](talks/new-one.md)]\n" in added
    lines = first.new.splitlines()
    # Newest first, as the section goes: February between March and January, the 10th between the 20th and the 3rd.
    assert lines.index("#### 2018-03") < lines.index("#### 2018-02") < lines.index("#### 2018-01")
    at = lines.index("* Pixel Recurrent Neural Networks [[notes](papers/pixel%20rnn.md)] "
                     "[[link](https://arxiv.org/abs/1601.06759)]")
    assert lines[at - 1].startswith("* Stability") and lines[at + 1].startswith("* Counterfactual")
    assert first.new.count("## Paper notes") == 1 and "Full Diary" not in first.new
    assert first.new.index("Pixel") < first.new.index("#### Other collections")  # nothing after the section
    assert build_index(first.new, known).new == first.new  # twice is once


# An index under an emoji heading, "### October" month headings with no year under "## 2025", oldest first,
# lines linking the entry as this repository's file on GitHub.
EMOJI_DIARY = """\
# Reading
Some words.

# 📖 Full Diary
## 2024
### December
- [Old one](https://github.com/someone/diary/blob/main/notes/old%20one.md) ⭐
## 2025
### September
- [Sep paper](notes/sep.md)
### October
- [Oct paper](notes/oct.md) ✅

# Contact
me
"""


def test_an_emoji_heading_with_months_without_a_year_oldest_first() -> None:
    known = [entry("notes/old one.md", date(2024, 12, 5), "Old one"),
             entry("notes/sep.md", date(2025, 9, 1), "Sep paper"),
             entry("notes/oct.md", date(2025, 10, 2), "Oct paper"),
             entry("notes/late oct.md", date(2025, 10, 30), "Late October"),
             entry("notes/nov.md", date(2025, 11, 4), "November thing")]
    result = build_index(EMOJI_DIARY, known)
    assert result.section_found and "Full Diary" in result.section_heading
    added = only_insertions(EMOJI_DIARY, result.new)
    assert [line for line in added if line.startswith("#")] == ["### November\n"]  # under "## 2025", no year
    assert result.added == 2  # the GitHub link counts: "Old one" is listed already
    lines = result.new.splitlines()
    assert lines.index("- [Oct paper](notes/oct.md) ✅") < lines.index("- [Late October](notes/late%20oct.md)")
    assert lines.index("- [Late October](notes/late%20oct.md)") < lines.index("### November") < lines.index("# Contact")
    assert result.new.count("Full Diary") == 1
    assert build_index(result.new, known).new == result.new


# A README that is its index: period headings and nothing above them, papers listed by their arXiv link.
HEADLESS = """\
#### 2018-02

- The Matrix Calculus You Need For Deep Learning [[arXiv](https://arxiv.org/abs/1802.01528v2)]
- IMPALA [[arXiv](https://arxiv.org/abs/1802.01561)] [[code](https://github.com/deepmind/lab)]

#### 2018-01

- Nested LSTMs [[arXiv](https://arxiv.org/abs/1801.10308)]
"""


def test_a_paper_listed_by_its_arxiv_link_is_not_listed_again_for_its_note() -> None:
    known = [entry("notes/nested-lstm.md", date(2018, 1, 30), "Nested LSTMs", "1801.10308"),
             entry("notes/matrix-calculus.md", date(2018, 2, 3), "The Matrix Calculus", "1802.01528"),
             entry("notes/new.md", date(2018, 2, 9), "Something new", "1802.09999")]
    result = build_index(HEADLESS, known)
    assert result.section_found and result.section_heading == ""
    added = only_insertions(HEADLESS, result.new)
    assert len(added) == 1 and "notes/new.md" in added[0] and added[0].startswith("- ")
    assert "Full Diary" not in result.new


def test_period_headings_as_people_write_them() -> None:
    for title, want in (("2018-03", (2018, 3, 3)), ("2016-11 (ICLR Edition)", (2016, 11, 11)),
                        ("June 2025", (2025, 6, 6)), ("📅 Oct 2024", (2024, 10, 10)), ("October", (0, 10, 10)),
                        ("Winter 2020", (2020, 1, 3)), ("2019", (2019, 1, 12))):
        period = period_of(title)
        assert period is not None and (period.year, period.first, period.last) == want, title
    for title in ("Natural Language Processing (NLP)", "Legend", "Other collections of paper notes", "12345"):
        assert period_of(title) is None, title


def test_a_topic_index_is_not_taken_for_the_chronological_one() -> None:
    doc = parse("# Tracker\n## Test-time Adaptation\n[A](tta/a.md)\n### TTA\n[B](tta/b.md)\n## Diffusion\n[C](d/c.md)\n")
    assert find_section(doc) is None
    result = build_index(doc.text, [entry("tta/a.md", date(2025, 3, 1), "A")])
    assert result.new.startswith(doc.text) and result.new.count("## Full Diary") == 1  # one section, appended


def test_the_index_kept_in_a_file_of_its_own_is_the_one_extended(tmp_path: Path) -> None:
    """README.md indexes by topic, README_timeline.md by month: the second is extended, the first untouched."""
    topic = "## NLP\n* *Attention* [[notes](./notes/attention-paper.md)]\n"
    timeline = ("#### 2020-02\n* *Attention* (ICLR) [[notes](./notes/attention-paper.md)]\n\n"
                "#### 2019-11\n* *SinGAN* [[notes](notes/singan.md)]\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "README.md").write_text(topic, encoding="utf-8")
    (tmp_path / "README_timeline.md").write_text(timeline, encoding="utf-8")
    for name, when in (("attention-paper", "2020-02-03"), ("singan", "2019-11-20"), ("reformer", "2020-05-14")):
        (tmp_path / "notes" / f"{name}.md").write_text(f"# {name.title()}\nDate read: {when}\n\nWords.\n",
                                                       encoding="utf-8")
    done = run_cli("--diary", str(tmp_path), "index", "--write", "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["file"] == "README_timeline.md" and info["section_found"] and info["added"] == 1
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == topic
    new = (tmp_path / "README_timeline.md").read_text(encoding="utf-8")
    added = only_insertions(timeline, new)
    assert added[0] == "#### 2020-05\n" and re.fullmatch(r"\* Reformer \[\[notes\]\(notes/reformer\.md\)\]\n", added[1])
    again = run_cli("--diary", str(tmp_path), "index", "--write", "--json")
    assert json.loads(again.stdout)["up_to_date"]
