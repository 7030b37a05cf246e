"""The diary's reading list: `catchup` with no argument drafts it, ticks what it drafted and links the entries.

Real CLI against the arXiv look-alike, offline drafter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import clean_env, run_cli
from tests.fakes import pdfs

IDS = [f"2506.3000{n}" for n in range(1, 6)]


@pytest.fixture(scope="session")
def paper_pdf(tmp_path_factory) -> bytes:
    return pdfs.make_paper_pdf(tmp_path_factory.mktemp("pdf") / "p.pdf", **pdfs.generate_paper(2, seed=3)).read_bytes()


def env_for(fake_arxiv) -> dict[str, str]:
    return clean_env(PAPERDIARY_ARXIV_API=fake_arxiv.api_url, PAPERDIARY_ARXIV_DELAY="0",
                     PAPERDIARY_HTTP_TIMEOUT="5", PAPERDIARY_RETRY_MAX_TIME="10")


READING_LIST = [  # as a phone leaves it: CRLF line ends
    "# Reading list\r\n",
    "<!-- appended from my phone;\r\n",
    "2506.39999 is not a paper to read -->\r\n",
    "\r\n",
    "* [ ] https://arxiv.org/abs/2506.30001\r\n",
    "- [x] 2506.30002 2025-06-11\r\n",
    "- [ ] [Third paper](https://arxiv.org/abs/2506.30003) 12/06/2025  # the routing one\r\n",
    "- [ ] 2506.30004 June 13, 2025\r\n",
    "- [ ] read the survey Bob mentioned\r\n",
    "2506.30005 13/14/2025\r\n",
    "Papers I liked: see backlog.md\r\n",
]


def test_catchup_drafts_the_reading_list_ticks_and_links_what_it_drafted(diary: Path, fake_arxiv,
                                                                         paper_pdf: bytes) -> None:
    for arxiv_id in IDS:
        fake_arxiv.add_paper(arxiv_id, title=f"Paper {arxiv_id[-1]}", pdf_bytes=paper_pdf)
    reading_list = diary / "READING-LIST.md"
    reading_list.write_bytes("".join(READING_LIST).encode("utf-8"))
    # A backlog kept in the diary, the natural place: its papers are not "already in the diary".
    (diary / "backlog.md").write_text("- [ ] https://arxiv.org/abs/2506.30001\n- [ ] https://arxiv.org/abs/2506.30002\n",
                                      encoding="utf-8")

    result = run_cli("--diary", str(diary), "catchup", "--json", env=env_for(fake_arxiv))

    report = json.loads(result.stdout)
    assert result.returncode == 1, result.stderr  # two lines name no paper it can draft
    drafted = {p["paper"]: p["entry_path"] for p in report["papers"] if p["status"] == "drafted"}
    assert set(drafted) == set(IDS[:4])
    assert "11thJune" in drafted[IDS[1]] and "12thJune" in drafted[IDS[2]] and "13thJune" in drafted[IDS[3]]
    reasons = {p["source"]: p["reason"] for p in report["problems"]}
    assert reasons["READING-LIST.md:9"].startswith("a checklist item with no paper")
    assert reasons["READING-LIST.md:10"].startswith("'13/14/2025' is not a date")
    assert reasons["READING-LIST.md:11"].startswith("no paper identifier on this line")
    assert len(set(reasons.values())) == 3  # each its own reason

    def linked(n: int, line: str) -> str:
        body, end = line.removesuffix("\r\n"), "\r\n"
        link = drafted[IDS[n]].replace(" ", "%20")
        return f"{body.replace('[ ]', '[x]', 1).rstrip()} → [entry]({link}){end}"

    expected = list(READING_LIST)
    for n, line_number in enumerate((4, 5, 6, 7)):
        expected[line_number] = linked(n, READING_LIST[line_number])
    assert reading_list.read_bytes().decode("utf-8") == "".join(expected)

    again = run_cli("--diary", str(diary), "catchup", "--json", env=env_for(fake_arxiv))
    assert json.loads(again.stdout)["papers"] == []  # ticked lines are done; the rest still names no paper
    assert reading_list.read_bytes().decode("utf-8") == "".join(expected)
    assert len(list((diary / "entries").rglob("*.md"))) == 4


def test_with_no_reading_list_and_nothing_unfinished_the_message_names_the_reading_list(diary: Path) -> None:
    result = run_cli("--diary", str(diary), "catchup")
    assert result.returncode == 2 and "nothing to catch up on" in result.stderr
    assert "READING-LIST.md" in result.stderr


def test_a_reading_list_linking_out_of_the_diary_is_refused_unread(diary: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret-list.md"
    outside.write_text("- [ ] 2506.30001\n", encoding="utf-8")
    (diary / "READING-LIST.md").symlink_to(outside)
    # (arXiv at a closed local port: were the list read, nothing would leave the machine)
    result = run_cli("--diary", str(diary), "catchup", env=clean_env(PAPERDIARY_ARXIV_API="http://127.0.0.1:9/q?{}"))
    assert result.returncode == 1 and "READING-LIST.md is a symlink to" in result.stderr, result.stderr
    assert "outside the diary" in result.stderr and "Traceback" not in result.stderr
    assert outside.read_text(encoding="utf-8") == "- [ ] 2506.30001\n" and not list((diary / "entries").rglob("*.md"))
