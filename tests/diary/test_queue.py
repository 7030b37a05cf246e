"""The review queue file's format (pipeline/paperdiary/diary/queue.py): what is written is what is read."""

from __future__ import annotations

import pytest

from paperdiary.diary.queue import QUEUE_HEADER, QueuedLesson, QueueFile, append_items, lesson_id, queued_ids
from paperdiary.stages.drafting.contract import Lesson

ITEMS = [
    QueuedLesson("0a1b2c3d", Lesson("**Sparse routing** helps <b>reasoning</b> [x](javascript:y).", theme="Reasoning",
                                    why="Stated in the abstract.", verified=False),
                 "entries/Juin 2025/3rdJuinÉtéRL.md", "2506.01939"),
    QueuedLesson("4e5f6a7b", Lesson("My **own** lesson, as I wrote it."), ""),
]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_written_items_read_back(newline: str) -> None:
    text = append_items(QUEUE_HEADER.replace("\n", newline), ITEMS[:1])
    text = append_items(text, ITEMS[1:], own=True)
    queue = QueueFile.parse(text)
    first, second = queue.items
    assert (first.id, first.theme, first.source, first.arxiv_id, first.why, first.checked) == (
        "0a1b2c3d", "Reasoning", "entries/Juin 2025/3rdJuinÉtéRL.md", "2506.01939", "Stated in the abstract.", False)
    assert "<b>" not in first.text and "\\[x\\]" in first.text  # drafted text is escaped: no HTML, no links
    assert (second.id, second.text, second.theme, second.source) == ("4e5f6a7b", "My **own** lesson, as I wrote it.",
                                                                     None, "")
    assert queued_ids(text) == {"0a1b2c3d", "4e5f6a7b"} and queue.render() == text


def test_an_item_that_lost_its_id_line_gets_the_id_it_was_queued_with() -> None:
    lesson = Lesson("**Medium difficulty** tasks teach most.")
    item = QueuedLesson(lesson_id(lesson, "2506.00003"), lesson, "entries/x.md", "2506.00003")
    text = "".join(line + "\n" for line in append_items("", [item]).splitlines() if "- id:" not in line)
    assert queued_ids(text) == {item.id}


def test_nothing_inside_a_code_fence_is_an_item_or_a_tick() -> None:
    real = append_items(QUEUE_HEADER, ITEMS[:1])
    example = ("\nMy notes on the format:\n\n````markdown\n- [x] **Ticked** in an example.\n  - id: `deadbeef`\n"
               "```\n- [x] still inside: the fence above is shorter\n````\n\n~~~\n* [X] another\n~~~\n")
    queue = QueueFile.parse(real + example)
    assert [item.id for item in queue.items] == ["0a1b2c3d"] and not queue.items[0].checked
    assert queue.render() == real + example
    assert QueueFile.parse(real + "\n```\n- [x] an unclosed fence runs to the end\n").items == queue.items


def test_a_fenced_block_inside_an_item_is_kept_but_not_read() -> None:
    text = append_items(QUEUE_HEADER, ITEMS[:1]).replace(
        "  - id: `0a1b2c3d`", "  - id: `0a1b2c3d`\n  ```\n  - theme: Not This\n  ```")
    [item] = QueueFile.parse(text).items
    assert item.theme == "Reasoning" and "```" in QueueFile.parse(text).block(item)


def test_escape_sequences_never_reach_an_item() -> None:
    text = QUEUE_HEADER + ("\n- [ ] \x1b[31m**Red**\x1b[0m lesson \x1b]8;;http://evil\x07here\x1b]8;;\x07\n"
                           "  - theme: \x1b[1mRobotics\u202e\n")
    [item] = QueueFile.parse(text).items
    assert (item.text, item.theme) == ("**Red** lesson here", "Robotics")
    own = QueuedLesson("1a2b3c4d", Lesson("Mine \x1b[2J\x9b1m with escapes."), "")
    assert "Mine with escapes." in append_items(QUEUE_HEADER, [own], own=True)


def test_a_suggested_theme_reads_back_as_a_theme_item() -> None:
    from paperdiary.diary.queue import ItemKind, QueuedTheme

    theme = QueuedTheme.suggest("Diffusion <Models>", ["entries/June 2025/4thJuneDDPM.md", "Robotics/x [1].md"],
                                "A cluster no theme covers.")
    text = append_items(append_items(QUEUE_HEADER, ITEMS[:1]), [theme])
    lesson, item = QueueFile.parse(text).items
    assert lesson.item_kind is ItemKind.LESSON and lesson.members == ()
    assert (item.id, item.item_kind, item.theme, item.checked) == (theme.id, ItemKind.NEW_THEME, "Diffusion &lt;Models&gt;",
                                                              False)
    assert item.members == ("entries/June 2025/4thJuneDDPM.md", "Robotics/x [1].md")
    assert item.text.startswith("New theme: **Diffusion &lt;Models&gt;** (2 entries)")
    assert QueueFile.parse(text.replace(f"  - id: `{theme.id}`\n", "")).items[1].id == \
        QueuedTheme.suggest("Diffusion &lt;Models&gt;", [], "").id  # without its ID line: one from its name
    assert QueuedTheme.suggest("diffusion  models", [], "").id == QueuedTheme.suggest("Diffusion Models", [], "").id


PHONE_ITEM = (
    "# Lessons queue\r\n"
    "\r\n"
    "* [X] **First** lesson, wrapped on the phone\r\n"
    "  onto a second line.\r\n"
    "  - theme: Reasoning\r\n"
    "  - source: [x](entries/x.md) (arXiv 2506.00003)\r\n"
    "  - my own note, kept\r\n"
    "\r\n"
    "- [ ] Second lesson, untouched.\r\n"
    "  - id: `4e5f6a7b`\r\n"
    "  - theme: Robotics"
)


def test_an_item_shows_its_current_text_theme_and_kind_and_keeps_the_rest() -> None:
    queue = QueueFile.parse(PHONE_ITEM)
    first = queue.items[0]  # it lost its ID line: the ID derived from its words, kept once they change
    shown = queue.with_shown(first.id, text="**Edited** lesson,\nin my words.", theme="Robotics <b>", kind="add")
    assert shown.render() == (
        "# Lessons queue\r\n"
        "\r\n"
        "* [X] **Edited** lesson, in my words.\r\n"
        f"  - id: `{first.id}`\r\n"
        "  - theme: Robotics &lt;b&gt; (suggested: Reasoning)\r\n"
        "  - kind: add\r\n"
        "  - source: [x](entries/x.md) (arXiv 2506.00003)\r\n"
        "  - my own note, kept\r\n"
        "\r\n"
        "- [ ] Second lesson, untouched.\r\n"
        "  - id: `4e5f6a7b`\r\n"
        "  - theme: Robotics"
    )
    item = shown.get(first.id)
    assert (item.text, item.theme, item.suggested, item.kind, item.checked) == (
        "**Edited** lesson, in my words.", "Robotics &lt;b&gt;", "Reasoning", "add", True)
    again = shown.with_shown(first.id, theme="Training", kind="new_theme")
    assert again.get(first.id).theme == "Training" and again.get(first.id).kind == "new_theme"
    assert again.get(first.id).suggested == "Reasoning"  # the drafter's suggestion stays beside the choice
    assert again.with_shown(first.id, theme="Reasoning").get(first.id).theme == "Reasoning"
    assert again.render().count("kind:") == 1 and again.render().count(f"`{first.id}`") == 1
    assert again.with_shown(first.id, theme="Training", kind="new_theme") == again  # idempotent

    last = shown.get("4e5f6a7b")  # the file's last line has no line ending: it keeps none
    end = shown.with_shown(last.id, kind="extend").render()
    assert end.endswith("  - theme: Robotics\r\n  - kind: extend") and end.startswith(shown.render()[:200])


def test_an_items_lines_are_replaced_whole() -> None:
    queue = QueueFile.parse(PHONE_ITEM)
    first, second = queue.items
    replaced = queue.with_lines(second.id, queue.block(second).replace("untouched", "shown anew"))
    assert replaced.get(second.id).text == "Second lesson, shown anew." and replaced.items[0] == first
    assert replaced.with_lines(second.id, replaced.block(replaced.get(second.id))) == replaced


def test_a_source_is_read_as_commonmark_reads_its_link() -> None:
    """A hand-edited source: ``<…>`` with spaces, ``%20``, a title; a raw space is no link, so no path."""
    for source, path in (("[x](<June 2025/4thJune ProRL.md>) (arXiv 2505.24864)", "June 2025/4thJune ProRL.md"),
                         ('[x](June%202025/x.md "the note") (arXiv 2505.24864)', "June 2025/x.md"),
                         ("[x](https://arxiv.org/abs/2505.24864) (arXiv 2505.24864)", ""),
                         ("`[x](June%202025/x.md)` (arXiv 2505.24864)", "")):
        text = QUEUE_HEADER + f"\n- [ ] A lesson.\n  - source: {source}\n"
        [item] = QueueFile.parse(text).items
        assert (item.source, item.arxiv_id) == (path, "2505.24864"), source
