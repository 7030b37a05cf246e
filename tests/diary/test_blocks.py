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


def _attacked_readme() -> str:
    """A README that mentions the start marker in prose, in inline code and in a fence, with every theme and
    lesson after the mentions (the old search took a mention for the block's edge and replaced all of it)."""
    return (f"# Diary\n\nThis README keeps its stats between {START} and the end marker.\n\n"
            f"Put `{START}` where you want the plot.\n\n"
            f"```markdown\n{START}\n```\n\n"
            "## Interesting Methods and Lesson Learned\n\n### Optimisation\n\n"
            "- Warm-up hides a bad learning rate. [Adam](entries/adam.md)\n\n### Vision\n\n"
            "- Patches are tokens. [ViT](entries/vit.md)\n\n"
            f"{START}\nold plot\n{END}\n\nAfter the block.\n")


def test_a_marker_mentioned_in_prose_code_or_a_fence_is_text_not_the_block(diary: Path) -> None:
    from tests.conftest import run_cli

    readme = _attacked_readme()
    # The attack, first: each mention is there, before the lessons, and a search for the marker finds it there.
    first = readme.index(START)
    assert first < readme.index("Warm-up") and readme.count(START) == 4
    assert f"`{START}`" in readme and f"```markdown\n{START}\n```" in readme
    (diary / "README.md").write_text(readme, encoding="utf-8")

    result = run_cli("stats", "--readme", cwd=diary)
    assert result.returncode == 0, result.stderr
    after = (diary / "README.md").read_bytes().decode("utf-8")
    block_at = readme.index(f"{START}\nold plot")
    assert after[:block_at] == readme[:block_at]  # every theme and lesson, byte for byte
    assert after.endswith(f"\n{END}\n\nAfter the block.\n") and "old plot" not in after
    assert after.count(START) == 4 and after.count(END) == 1


@pytest.mark.parametrize("markers", [
    f"{START}\nold\n",  # a start, no end
    f"{END}\nold\n{START}\n",  # the pair backwards
    f"{START}\nold\n{END}\n{START}\nold\n{END}\n",  # two blocks
    f"{START}\n## Themes\n- a lesson\n{END}\n",  # the README's own section between the markers
])
def test_markers_that_are_not_one_balanced_pair_around_our_text_are_refused(diary: Path, markers: str) -> None:
    from tests.conftest import run_cli

    readme = f"# Diary\n\n## Lessons\n\n- Keep me.\n\n{markers}\nTail.\n"
    (diary / "README.md").write_text(readme, encoding="utf-8")
    result = run_cli("stats", "--readme", cwd=diary)
    assert result.returncode != 0
    assert "README.md" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert (diary / "README.md").read_text(encoding="utf-8") == readme
