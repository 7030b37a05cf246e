"""The README blocks `stats --readme` and `map --readme` keep: put between their markers wherever the user moved
them, else appended; README.md read and replaced inside the diary's walls (symlinks, read-only files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdiary.diary.blocks import ReadmeBlock, write_readme_block
from paperdiary.errors import DiaryError, OutsideDiaryError, ReadOnlyFileError
from paperdiary.settings import load_settings

BLOCK = ReadmeBlock("stats")
START, END = "<!-- paperdiary:stats -->", "<!-- /paperdiary:stats -->"


def test_the_block_goes_at_the_end_once_then_stays_where_the_user_put_it() -> None:
    assert (BLOCK.start, BLOCK.end) == (START, END)
    once = BLOCK.put("# Diary\n\nWords.\n", ["![plot](assets/reading.png)"])
    assert once == f"# Diary\n\nWords.\n\n{START}\n![plot](assets/reading.png)\n{END}\n"
    assert BLOCK.put(once, ["![plot](assets/reading.png)"]) == once  # twice is once
    moved = f"# Diary\n{START}\nold\n{END}\nWords after it.\n"
    assert BLOCK.put(moved, ["new"]) == f"# Diary\n{START}\nnew\n{END}\nWords after it.\n"
    assert ReadmeBlock("map").put(moved, ["m"]).startswith(moved)  # another command's block is not this one


@pytest.mark.parametrize(("text", "expected"), [
    ("", f"{START}\nx\n{END}\n"),
    ("# D", f"# D\n\n{START}\nx\n{END}\n"),  # no newline at the end: one added, then a blank line
    ("# D\n\n", f"# D\n\n{START}\nx\n{END}\n"),  # a blank line already there
    ("# D\r\nmore\r\n", f"# D\r\nmore\r\n\r\n{START}\r\nx\r\n{END}\r\n"),  # the README's own line endings
])
def test_appending_keeps_the_readme_as_it_was(text: str, expected: str) -> None:
    assert BLOCK.put(text, ["x"]) == expected


def test_readme_is_written_inside_the_diary_walls(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={})
    with pytest.raises(DiaryError, match="no README.md"):
        write_readme_block(settings, BLOCK, ["x"])

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# Diary\n", encoding="utf-8")
    (tmp_path / "README.md").symlink_to("docs/README.md")  # a link inside the diary: written through
    assert write_readme_block(settings, BLOCK, ["x"]) and not write_readme_block(settings, BLOCK, ["x"])
    assert (tmp_path / "README.md").is_symlink() and END in (tmp_path / "docs" / "README.md").read_text("utf-8")

    (tmp_path / "docs" / "README.md").chmod(0o444)  # read-only: refused, not replaced
    with pytest.raises(ReadOnlyFileError):
        write_readme_block(settings, BLOCK, ["y"])
    assert "\ny\n" not in (tmp_path / "docs" / "README.md").read_text("utf-8")

    outside = tmp_path.parent / f"{tmp_path.name}-outside.md"
    outside.write_text("# Not the diary's\n", encoding="utf-8")
    (tmp_path / "README.md").unlink()
    (tmp_path / "README.md").symlink_to(outside)  # a link out: neither read nor written
    with pytest.raises(OutsideDiaryError):
        write_readme_block(settings, BLOCK, ["x"])
    assert outside.read_text(encoding="utf-8") == "# Not the diary's\n"
