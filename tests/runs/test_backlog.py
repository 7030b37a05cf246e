"""Backlog input: text lines, comments, dates, duplicates, BibTeX, standard input; the diary's ID index."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from paperdiary.runs.backlog import parse_backlog, read_backlog
from paperdiary.diary.catalog import entry_for_paper as find_existing_entry, paper_index as diary_arxiv_index
from paperdiary.settings import Settings


def test_lines_comments_dates_and_list_markers() -> None:
    backlog = parse_backlog(
        "# reading list\n"
        "\n"
        "2506.01939   # the routing one\n"
        "- https://arxiv.org/abs/1706.03762 2025-06-11\n"
        "2025-06-12 arXiv:2203.14465v2\n"
        "3. hep-th/9901001\n"
        "https://arxiv.org/abs/2205.14135#section-2\n",
        source="b.txt",
    )
    assert [(i.key, i.date_read, i.source) for i in backlog.items] == [
        ("2506.01939", None, "b.txt:3"),
        ("1706.03762", date(2025, 6, 11), "b.txt:4"),
        ("2203.14465", date(2025, 6, 12), "b.txt:5"),
        ("hep-th/9901001", None, "b.txt:6"),
        ("2205.14135", None, "b.txt:7"),  # a "#" inside a URL is not a comment
    ]
    assert backlog.items[0].comment == "the routing one" and backlog.items[2].ref.version == 2
    assert backlog.problems == [] and backlog.duplicates == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not-a-paper", "not a paper identifier"),
        ("2506.01939 2025-13-40", "is not a date"),
        ("2506.01939 1706.03762", "2 identifiers on one line"),
        ("2025-06-01", "no paper identifier"),
        ("2506.01939 2025-06-01 2025-06-02", "two dates"),
    ],
)
def test_bad_lines_are_problems_not_fatal(line: str, reason: str) -> None:
    backlog = parse_backlog(f"1706.03762\n{line}\n2203.14465\n", source="b.txt")
    assert [i.key for i in backlog.items] == ["1706.03762", "2203.14465"]
    [problem] = backlog.problems
    assert problem.source == "b.txt:2" and reason in problem.reason


def test_duplicates_collapse_to_the_first_mention() -> None:
    backlog = parse_backlog("2506.01939\nhttps://arxiv.org/pdf/2506.01939v2.pdf 2025-06-01\narXiv:2506.01939\n",
                            source="b.txt")
    assert [i.source for i in backlog.items] == ["b.txt:1"]
    assert [(d.item.source, d.first.source) for d in backlog.duplicates] == [("b.txt:2", "b.txt:1"),
                                                                             ("b.txt:3", "b.txt:1")]


def test_bibtex_entries_with_arxiv_references() -> None:
    text = """
    @article{vaswani2017,
      title = {Attention Is {All} You Need},
      eprint = {1706.03762},
      archivePrefix = {arXiv},
    }
    @inproceedings{star, title = "STaR", url = {https://arxiv.org/pdf/2203.14465v2.pdf}}
    @misc{flash, doi = {10.48550/arXiv.2205.14135}}
    @article{pre, journal = {arXiv preprint arXiv:2506.01939}}
    @string{venue = "NeurIPS"}
    @comment{ @article{ignored, eprint = {1111.11111}} }
    @book{sutton, title = {Reinforcement Learning: An Introduction}}
    @article{other, eprint = {hep-th/9901001}, archivePrefix = {hep}}
    """
    backlog = parse_backlog(text, source="refs.bib")
    assert [i.key for i in backlog.items] == ["1706.03762", "2203.14465", "2205.14135", "2506.01939"]
    assert backlog.items[0].comment == "Attention Is All You Need" and backlog.items[1].ref.version == 2
    assert [p.source for p in backlog.problems] == ["refs.bib: sutton", "refs.bib: other"]


def test_read_backlog_from_files_stdin_and_arguments(tmp_path: Path) -> None:
    pdf = tmp_path / "papers" / "local copy.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.4\n")
    listing = tmp_path / "papers" / "backlog.txt"
    listing.write_text("local copy.pdf 2025-06-01\n2506.01939\n", encoding="utf-8")
    bib = tmp_path / "refs.bib"
    bib.write_text("@misc{a, eprint = {1706.03762}}\n", encoding="utf-8")

    backlog = read_backlog([str(listing), "-", "2203.14465", str(bib), str(pdf)],
                           stdin=io.StringIO("2506.01939\n2205.14135\n"))
    assert [i.key for i in backlog.items] == [f"pdf:{pdf.resolve()}", "2506.01939", "2205.14135", "2203.14465",
                                              "1706.03762"]
    assert backlog.items[0].date_read == date(2025, 6, 1)  # a path relative to the backlog's folder
    assert [d.item.source for d in backlog.duplicates] == ["stdin:1", "argument 5"]
    assert [i.source for i in backlog.items][3] == "argument 3"


def test_diary_index_finds_every_linked_id_in_one_scan(tmp_path: Path) -> None:
    settings = Settings(diary=tmp_path)
    (tmp_path / "entries" / "June 2025").mkdir(parents=True)
    (tmp_path / "entries" / "June 2025" / "a.md").write_text(
        "# A\n[arXiv link](https://arxiv.org/abs/2506.01939)\nalso arxiv.org/pdf/1706.03762v5.pdf\n"
        '<!-- paperdiary: {"arxiv_id": "hep-th/9901001", "version": 1} -->\n', encoding="utf-8")
    (tmp_path / "notes.md").write_text("see https://huggingface.co/papers/2203.14465 and arXiv:math.GT/0309136\n"
                                       "not 2506.0193 or arxiv.org/abs/2506.019391\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("[x](https://arxiv.org/abs/2205.14135)\n", encoding="utf-8")  # not an entry
    index = diary_arxiv_index(settings)
    assert set(index) == {"2506.01939", "1706.03762", "hep-th/9901001", "2203.14465", "math/0309136"}
    for arxiv_id in ("2506.01939", "1706.03762", "hep-th/9901001", "2203.14465"):
        assert index[arxiv_id] == find_existing_entry(settings, arxiv_id)  # the same answer as one by one


def test_markdown_checklists_links_other_date_forms_and_html_comments() -> None:
    backlog = parse_backlog(
        "<!-- from my phone\n2506.39999 -->\n"
        "* [ ] https://arxiv.org/abs/2506.01939\n"
        "- [x] 1706.03762 2025-06-11\n"
        "- [ ] [STaR](https://arxiv.org/abs/2203.14465) 11/06/2025\n"
        "- [ ] 2205.14135 June 12, 2025 the FlashAttention one\n"
        "+ [X] hep-th/9901001 13th June 2025\n"
        "- [x] 2505.24864 → [entry](entries/June%202025/4thJuneProRL.md)\n",  # ticked and linked: done
        source="READING-LIST.md",
    )
    assert [(i.key, i.date_read) for i in backlog.items] == [
        ("2506.01939", None), ("1706.03762", date(2025, 6, 11)), ("2203.14465", date(2025, 6, 11)),
        ("2205.14135", date(2025, 6, 12)), ("hep-th/9901001", date(2025, 6, 13)),
    ]
    assert backlog.items[2].comment == "STaR" and backlog.items[3].comment == "the FlashAttention one"
    assert backlog.problems == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("- [ ] the RLHF survey Bob mentioned", "a checklist item with no paper"),
        ("* [x] 2506.01939 June 2025", "'June 2025' is not a date it can read"),
        ("2506.01939 11-06-25x", "'11-06-25x' is not a date it can read"),
        ("2506.01939 31/02/2025", "'31/02/2025' is not a date"),
        ("papers I liked last week", "no paper identifier on this line"),
    ],
)
def test_each_rejected_line_gets_its_own_reason(line: str, reason: str) -> None:
    backlog = parse_backlog(f"{line}\n", source="b.md")
    [problem] = backlog.problems
    assert problem.reason.startswith(reason) and "identifiers on one line" not in problem.reason


def test_backlog_files_and_checklists_of_papers_are_not_entries(tmp_path: Path) -> None:
    settings = Settings(diary=tmp_path)
    (tmp_path / "READING-LIST.md").write_text("https://arxiv.org/abs/2506.01939\n", encoding="utf-8")
    (tmp_path / "backlog.md").write_text("https://arxiv.org/abs/1706.03762 2025-06-11\n", encoding="utf-8")
    (tmp_path / "to-read.md").write_text("- [ ] https://arxiv.org/abs/2203.14465\n- [x] arXiv:2205.14135\n",
                                         encoding="utf-8")
    (tmp_path / "entry.md").write_text("# ProRL\n[paper](https://arxiv.org/abs/2505.24864)\n- [ ] try it\n",
                                       encoding="utf-8")
    index = diary_arxiv_index(settings, not_entries=[tmp_path / "backlog.md"])
    assert set(index) == {"2505.24864"}


def test_a_markdown_link_counts_by_its_destination_as_commonmark_reads_it() -> None:
    text = ('- [ ] [Attention Is All You Need](https://arxiv.org/abs/1706.03762 "the paper") 2025-06-11\n'
            "- [ ] [FlashAttention](<https://arxiv.org/abs/2205.14135>)\n")
    backlog = parse_backlog(text, source="READING-LIST.md")
    assert [(i.key, i.date_read) for i in backlog.items] == [("1706.03762", date(2025, 6, 11)), ("2205.14135", None)]
    assert backlog.items[0].comment == "Attention Is All You Need"
