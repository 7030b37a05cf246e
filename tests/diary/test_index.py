"""`paperdiary index`: the README's Full Diary section, from the catalog of entries, touching nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

from paperdiary.diary.catalog import Catalog
from paperdiary.diary.dates import DateContext, parse_written, resolve
from paperdiary.diary.describe import read_entry_text
from paperdiary.diary.index import build_index, index_entries
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


def find_entries(settings):
    """The entries the Full Diary lists, and the paths left out for want of a date."""
    return index_entries(Catalog(settings).entries())


def parse_date(text: str):
    """A date as people write it, as the catalog reads it."""
    written = parse_written(text)
    resolved = resolve(written, DateContext()) if written else None
    return resolved.day if resolved else None


def key_points_sentence(markdown: str) -> str:
    """An entry's description as the catalog finds it."""
    return read_entry_text(markdown).description


def first_sentence(text: str) -> str:
    return read_entry_text("# T\n" + text).description


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
    entries, undated = find_entries(settings)
    assert undated == ["entries/stray.md"]
    result = build_index(README, entries)
    assert result.new == README + SECTION  # appended; everything before it byte for byte
    assert (result.entries, result.months, result.added) == (3, 2, 3)
    assert build_index(result.new, entries).new == result.new  # a fixed point


def test_the_users_lines_order_and_hand_added_lines_are_kept(tmp_path: Path) -> None:
    make_entries(tmp_path)
    settings = load_settings(tmp_path, env={})
    entries, _ = find_entries(settings)
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
    assert 190 <= len(long) <= 200 and long.endswith("…")  # the catalog cuts at a word boundary


# --------------------------------------------------------------------------- a real diary, through the catalog


def _section_lines(text: str) -> list[str]:
    return text.split("## Full Diary", 1)[1].splitlines()


def test_every_entry_of_a_hand_kept_diary_is_on_its_day_with_a_sentence(tmp_path: Path) -> None:
    from paperdiary.diary.index import plan_index
    from tests.diary.real_diary import make_diary

    expected = make_diary(tmp_path)
    plan = plan_index(load_settings(tmp_path, env={}))
    assert plan.undated == [] and plan.result.added == len(expected)
    lines = _section_lines(plan.result.new)
    month = None
    found: dict[str, tuple[str, str, str]] = {}
    for line in lines:
        if line.startswith("### "):
            month = line[4:]
        elif line.startswith("* "):
            m = re.fullmatch(r"\* (\d+)(?:st|nd|rd|th): \[(.+?)\]\((.+?)\): (.+)", line)
            assert m, line
            found[unquote(m[3])] = (f"{m[1]} {month}", m[2], m[4])
    assert set(found) == set(expected)
    for relpath, want in expected.items():
        day, _, description = found[relpath]
        assert day == f"{want.day.day} {want.day:%B %Y}", relpath
        assert want.word in description and not description.endswith(":"), (relpath, description)
    # Two hand-written entries read on the 4th of June: by title, and a rebuild is a fixed point.
    fourth = [line for line in lines if line.startswith("* 4th:")]
    assert ["Absolute Zero" in fourth[0], "ProRL" in fourth[1]] == [True, True]
    assert lines.index("### June 2025") < lines.index("### May 2025")  # newest first by default
    entries, _ = find_entries(load_settings(tmp_path, env={}))
    assert build_index(plan.result.new, entries).new == plan.result.new


def test_refresh_rewrites_the_tools_lines_and_keeps_the_users(tmp_path: Path) -> None:
    from tests.diary.real_diary import make_diary

    make_diary(tmp_path, commit=False)
    # A line an earlier version wrote with a label for description, and one the user wrote.
    readme = (tmp_path / "README.md").read_text(encoding="utf-8") + (
        "\n## Full Diary\n### June 2025\n"
        "* 21st: [Kinetix](June%202025/21stJuneKinetix.md): Summary:\n"
        "* 3rd: [Flat](flat-entry.md): my own words, kept.\n")
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    assert run_cli("index", "--write", cwd=tmp_path).returncode == 0
    written = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "[Kinetix](June%202025/21stJuneKinetix.md): Summary:\n" in written  # kept without --refresh
    entry = tmp_path / "June 2025/4thJuneProRL.md"
    entry.write_text(entry.read_text(encoding="utf-8").replace("## ProRL: Prolonged", "## ProRL v2: Prolonged")
                     .replace("Problem: whether", "Problem: if"), encoding="utf-8")
    unchanged = run_cli("index", cwd=tmp_path)
    assert "up to date" in unchanged.stdout, unchanged.stdout  # a title changed: lines are kept as they are

    shown = run_cli("index", "--refresh", "--json", cwd=tmp_path)
    report = json.loads(shown.stdout)
    assert report["refreshed"] == 2 and not report["written"]
    assert "+* 4th: [ProRL v2: Prolonged Reinforcement Learning](June%202025/4thJuneProRL.md): If longer RL" \
        in report["diff"]
    assert "+* 21st: [Kinetix](June%202025/21stJuneKinetix.md): An open-ended space of physics tasks" in report["diff"]
    assert run_cli("index", "--refresh", "--write", cwd=tmp_path).returncode == 0
    refreshed = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "* 3rd: [Flat](flat-entry.md): my own words, kept.\n" in refreshed
    assert "ProRL v2" in refreshed and "Summary:" not in refreshed.split("## Full Diary")[1]
    # The user rewords a line the tool wrote: from then on it is theirs.
    mine = refreshed.replace("): If longer RL training expands reasoning boundaries at all.", "): the long-RL paper.")
    (tmp_path / "README.md").write_text(mine, encoding="utf-8")
    again = run_cli("index", "--refresh", "--json", cwd=tmp_path)
    assert json.loads(again.stdout)["up_to_date"], again.stdout


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
