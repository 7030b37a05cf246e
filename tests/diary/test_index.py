"""`paperdiary index`: the README's Full Diary section, from the entries on disk, touching nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from paperdiary.diary.index import build_index, find_entries, first_sentence, key_points_sentence, parse_date
from paperdiary.settings import load_settings
from paperdiary.state.store import EntryRecord, Store
from tests.conftest import run_cli

README = """\
# My Paper Diary
One paper a day.

## Interesting Methods and Lesson Learned
### Robotics
1. **Action chunking** gives smoother motions ([ChunkBot](June%202025/8thJuneChunkBot.md)).

## Tools
* a phone
"""


def write(root: Path, relpath: str, text: str) -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_entries(root: Path) -> None:
    """Hand-written entries in month folders at the root, and a drafted one under entries/ with a stored record."""
    write(root, "June 2025/11thJuneTokenEntropyRLVR.md",
          "# Beyond the 80/20 Rule: High-Entropy Tokens\nDate read: 11th June 2025\n\n## Key Points\n"
          "- **Forking tokens** steer the [reasoning](x.md). The rest is detail.\n")
    write(root, "June 2025/4thJuneProlongedRL.md",  # no date line: the file name and its folder say it
          "# ProRL\n\n## Key Points\n\n1. Prolonged RL *expands* reasoning boundaries! Then more.\n")
    write(root, "entries/Juin 2025/3rdJuinÉtéRL.md",  # no date line, no month folder: the store's date
          "# Été RL: Touch\n\n## Key Points\n- _No key points found._\n")
    write(root, "entries/stray.md", "# A stray note\n")  # looks like an entry, has no date: a warning
    write(root, "docs/how-i-read.md", "# How I read\n")  # not an entry: ignored quietly
    settings = load_settings(root, env={})
    with Store(settings.db_path) as store:
        store.record_entry(EntryRecord("entries/Juin 2025/3rdJuinÉtéRL.md", "2505.00030", 1, "Été RL: Touch",
                                       "Touch sensors help robot hands.", "offline", "2025-05-30", "now"))


SECTION = """
## Full Diary
### June 2025
* 11th: [Beyond the 80/20 Rule: High-Entropy Tokens](June%202025/11thJuneTokenEntropyRLVR.md): Forking tokens steer the reasoning.
* 4th: [ProRL](June%202025/4thJuneProlongedRL.md): Prolonged RL expands reasoning boundaries!

### May 2025
* 30th: [Été RL: Touch](entries/Juin%202025/3rd%C3%89t%C3%A9RL.md): Touch sensors help robot hands.
""".replace("3rd%C3%89t", "3rdJuin%C3%89t")


def test_the_section_is_built_from_entries_on_disk(tmp_path: Path) -> None:
    make_entries(tmp_path)
    settings = load_settings(tmp_path, env={})
    with Store(settings.db_path) as store:
        entries, undated = find_entries(settings, store.entries())
    assert undated == ["entries/stray.md"]
    result = build_index(README, entries)
    assert result.new == README + SECTION  # appended; everything before it byte for byte
    assert (result.entries, result.months, result.added) == (3, 2, 3)
    assert build_index(result.new, entries).new == result.new  # a fixed point


def test_the_users_lines_order_and_hand_added_lines_are_kept(tmp_path: Path) -> None:
    make_entries(tmp_path)
    settings = load_settings(tmp_path, env={})
    with Store(settings.db_path) as store:
        entries, _ = find_entries(settings, store.entries())
    # The user's section: oldest first, an intro, a line reworded by hand, a line no entry backs,
    # another heading of their own; and the lessons section after it.
    mine = README.replace("## Interesting Methods", """## Full Diary
Every paper, by month.

### May 2025
* 30th: [Été](entries/Juin%202025/3rdJuin%C3%89t%C3%A9RL.md): my own words about it.
* 31st: a blog post, no entry

### June 2025
* 11th: [80/20](June%202025/11thJuneTokenEntropyRLVR.md): reworded by me

### Highlights
* the best ones

## Interesting Methods""")
    result = build_index(mine, entries)
    assert result.added == 1
    assert result.new == mine.replace(
        "* 11th: [80/20]", "* 4th: [ProRL](June%202025/4thJuneProlongedRL.md): Prolonged RL expands reasoning "
                           "boundaries!\n* 11th: [80/20]")
    assert build_index(result.new, entries).new == result.new


def test_dates_and_descriptions_as_people_write_them() -> None:
    assert str(parse_date("11th June 2025")) == "2025-06-11"
    assert str(parse_date("June 3rd, 2025")) == "2025-06-03"
    assert str(parse_date("2025-06-21 on the train")) == "2025-06-21"
    assert parse_date("31st June 2025") is None and parse_date("someday") is None
    assert key_points_sentence("# T\n## Key Points\n- **Bold** and `code` (see [A](a.md)). Next.\n## Results\n- x\n") \
        == "Bold and code (see A)."
    assert key_points_sentence("# T\n## Results\n- x\n") == ""


def test_index_shows_a_diff_then_writes_with_crlf_kept(diary: Path) -> None:
    (diary / "README.md").write_bytes(README.replace("\n", "\r\n").encode("utf-8"))
    make_entries(diary)
    shown = run_cli("index", cwd=diary)
    assert shown.returncode == 0, shown.stderr
    assert "+## Full Diary" in shown.stdout and "+* 4th: [ProRL](June%202025/4thJuneProlongedRL.md)" in shown.stdout
    assert "skipped entries/stray.md: no date" in shown.stdout
    assert (diary / "README.md").read_bytes() == README.replace("\n", "\r\n").encode("utf-8")  # nothing written

    written = run_cli("index", "--write", cwd=diary)
    assert written.returncode == 0, written.stderr
    text = (diary / "README.md").read_bytes().decode("utf-8")
    assert text == (README + SECTION).replace("\n", "\r\n")
    again = run_cli("index", cwd=diary)
    assert again.returncode == 0 and "up to date" in again.stdout


def test_a_description_is_the_first_whole_sentence() -> None:
    assert first_sentence("Models such as **BERT**, e.g. BERT-large, are big. The rest.") == \
        "Models such as BERT, e.g. BERT-large, are big."
    assert first_sentence("As in Fig. 2 the [loss](x.md) falls. Then it rises.") == "As in Fig. 2 the loss falls."
    long = first_sentence("word " * 100)
    assert len(long) == 200 and long.endswith("…")


def test_entries_of_one_day_in_a_stable_order_and_one_blank_line_before_the_section(diary: Path) -> None:
    # Hand-written entries whose file names sort unlike their titles, and two drafted ones of the same day.
    for name, title in (("11thJuneA.md", "Zeta routing"), ("11thJuneB.md", "alpha scaling"),
                        ("11thJuneC.md", "Mid training")):
        write(diary, f"entries/June 2025/{name}", f"# {title}\nDate read: 11th June 2025\n")
    write(diary, "entries/June 2025/11thJuneMorning.md", "# Read in the morning\nDate read: 11th June 2025\n")
    write(diary, "entries/June 2025/11thJuneEvening.md", "# Read in the evening\nDate read: 11th June 2025\n")
    write(diary, "entries/June 2025/12thJuneNext.md", "# The next day\nDate read: 12th June 2025\n")
    with Store(load_settings(diary, env={}).db_path) as store:
        for name, drafted in (("Morning", "2025-06-11T08:00:00+00:00"), ("Evening", "2025-06-11T21:00:00+00:00")):
            store.record_entry(EntryRecord(f"entries/June 2025/11thJune{name}.md", None, None, "", "", "offline",
                                           "2025-06-11", drafted))

    written = run_cli("index", "--write", cwd=diary)
    assert written.returncode == 0, written.stderr
    text = (diary / "README.md").read_text(encoding="utf-8")
    titles = re.findall(r"^\* \d+\w\w: \[([^\]]+)\]", text, re.M)
    # Newest first: the next day, then the drafted ones, latest drafted first, then the others by title.
    assert titles == ["The next day", "Read in the evening", "Read in the morning", "alpha scaling",
                      "Mid training", "Zeta routing"]
    assert "\n\n## Full Diary\n" in text and "\n\n\n## Full Diary" not in text  # one blank line before it
    assert run_cli("index", cwd=diary).stdout.startswith("Full Diary is up to date")
