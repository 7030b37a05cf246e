"""The review queue: readable markdown, stable IDs, append-only, safe under concurrent appends."""

from __future__ import annotations

import threading
from pathlib import Path

from paperdiary.diary.lessons import queue_lessons
from paperdiary.diary.queue import lesson_id, queued_ids
from paperdiary.stages.drafting.contract import Lesson
from paperdiary.settings import load_settings


def test_append_and_stable_ids(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={})
    lessons = [Lesson("**High-entropy tokens** drive RL gains.", theme="Reinforcement Learning", why="Cheaper RL."),
               Lesson("Filter prompts that are **always solved**.", theme=None)]
    added = queue_lessons(settings, lessons, "entries/June 2025/11thJuneTokenEntropyRLVR.md", "2506.01939")
    assert len(added) == 2
    text = settings.queue_path.read_text(encoding="utf-8")
    assert text.startswith("# Lessons queue")
    assert "- [ ] **High-entropy tokens** drive RL gains." in text
    assert "  - theme: Reinforcement Learning" in text
    assert "(entries/June%202025/11thJuneTokenEntropyRLVR.md)" in text
    assert "(arXiv 2506.01939)" in text
    assert queued_ids(text) == {item.id for item in added}
    # Same lessons again: nothing new, file unchanged.
    assert queue_lessons(settings, lessons, "entries/June 2025/11thJuneTokenEntropyRLVR.md", "2506.01939") == []
    assert settings.queue_path.read_text(encoding="utf-8") == text


def test_id_ignores_case_and_spacing_but_not_source() -> None:
    a = lesson_id(Lesson("Some  Lesson."), "2506.01939")
    assert a == lesson_id(Lesson("some lesson."), "2506.01939")
    assert a != lesson_id(Lesson("some lesson."), "2506.01940")


def test_human_edits_are_kept(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={})
    queue_lessons(settings, [Lesson("First lesson.")], "entries/a.md", "1")
    text = settings.queue_path.read_text(encoding="utf-8").replace("- [ ] First", "- [x] First") + "my note\n"
    settings.queue_path.write_text(text, encoding="utf-8")
    queue_lessons(settings, [Lesson("Second lesson.")], "entries/b.md", "2")
    after = settings.queue_path.read_text(encoding="utf-8")
    assert after.startswith(text) and "- [ ] Second lesson." in after


def test_untrusted_lesson_text_is_escaped(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={})
    queue_lessons(settings, [Lesson("<script>x</script> [a](javascript:x)\n- [x] forged")], "entries/a.md", "1")
    text = settings.queue_path.read_text(encoding="utf-8")
    assert "<script>" not in text and "\n- [x] forged" not in text


def test_concurrent_appends_lose_nothing(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={})
    threads = [
        threading.Thread(target=queue_lessons, args=(settings, [Lesson(f"Lesson {i}.")], f"entries/{i}.md", str(i)))
        for i in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(queued_ids(settings.queue_path.read_text(encoding="utf-8"))) == 20


_THREE = [Lesson("**Warm-up** hides a bad learning rate.", theme="Optimisation"),
          Lesson("**Patches** are tokens.", theme="Vision"),
          Lesson("**Retrieval** beats a bigger model on rare facts.", theme="NLP")]
_USER_QUEUE = "# Lessons queue\n\nMy notes:\n\n```python\nprint('half a snippet')\n"  # a fence never closed
_SOURCE = "entries/adam.md"


def _items_text(tmp_path: Path) -> str:
    """The three items as PaperDiary writes them into a queue file (after its header)."""
    clean = load_settings(tmp_path / "clean", env={})
    (tmp_path / "clean").mkdir()
    queue_lessons(clean, _THREE, _SOURCE, None)
    text = clean.queue_path.read_text(encoding="utf-8")
    return text[text.index("\n- [ ]"):]


def test_an_unclosed_fence_in_the_queue_hides_no_lesson_appended_after_it(tmp_path: Path) -> None:
    from paperdiary.diary.queue import QueueFile, read_queue

    items = _items_text(tmp_path)
    # The attack, first: items appended after the open fence are code to the parser (and to GitHub), so the
    # three a draft reports queued are invisible, and a second draft, seeing none, would append them again.
    assert QueueFile.parse(_USER_QUEUE + "\n" + items).items == ()
    assert len(QueueFile.parse("# Lessons queue\n" + items).items) == 3

    settings = load_settings(tmp_path, env={})
    settings.queue_path.write_text(_USER_QUEUE, encoding="utf-8")
    added = queue_lessons(settings, _THREE, _SOURCE, None)
    text = settings.queue_path.read_text(encoding="utf-8")
    assert text.startswith(_USER_QUEUE + "```\n")  # the user's lines kept, the fence closed after them
    assert [item.id for item in read_queue(settings).items] == [item.id for item in added]  # 3 said, 3 seen
    assert len(added) == 3
    # draft --force queues the same lessons again: nothing is appended twice.
    assert queue_lessons(settings, _THREE, _SOURCE, None) == []
    assert settings.queue_path.read_text(encoding="utf-8") == text
    assert all(text.count(item.id) == 1 for item in added)


def test_a_queue_whose_unclosed_fence_already_hides_items_is_refused_with_its_line(tmp_path: Path) -> None:
    import pytest

    from paperdiary.diary.queue import read_queue
    from paperdiary.errors import QueueFileError

    settings = load_settings(tmp_path, env={})
    hidden = _USER_QUEUE + "\n" + _items_text(tmp_path).replace("- [ ]", "- [x]")  # accepted, yet code
    settings.queue_path.write_text(hidden, encoding="utf-8")
    for attempt in (lambda: queue_lessons(settings, _THREE, _SOURCE, None), lambda: read_queue(settings)):
        with pytest.raises(QueueFileError, match=r"line 5 that is never closed, so the 3 items after it"):
            attempt()  # draft (again or --force) and review: no duplicate, no "0 still in LESSONS-QUEUE.md"
    assert settings.queue_path.read_text(encoding="utf-8") == hidden


def test_review_apply_refuses_a_queue_whose_fence_hides_accepted_items(diary: Path, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    hidden = _USER_QUEUE + "\n" + _items_text(tmp_path).replace("- [ ]", "- [x]")
    (diary / "LESSONS-QUEUE.md").write_text(hidden, encoding="utf-8")
    readme = (diary / "README.md").read_bytes()
    result = run_cli("review", "apply", cwd=diary)
    assert result.returncode != 0 and "line 5" in result.stderr and "Traceback" not in result.stderr
    assert "still in" not in result.stdout
    assert (diary / "LESSONS-QUEUE.md").read_text(encoding="utf-8") == hidden
    assert (diary / "README.md").read_bytes() == readme


def test_a_fence_left_open_inside_a_note_ends_with_it_as_on_github(tmp_path: Path) -> None:
    from paperdiary.diary.queue import QueueFile, read_queue

    # A fence opened inside a list item ends where the item ends (CommonMark): the items after it are items.
    note = "# Lessons queue\n\n- my note:\n\n  ```python\n  print('half a snippet')\n\n"
    items = _items_text(tmp_path)
    assert len(QueueFile.parse(note + items).items) == 3
    settings = load_settings(tmp_path, env={})
    settings.queue_path.write_text(note + items, encoding="utf-8")
    assert len(read_queue(settings).items) == 3  # not refused: nothing is hidden
