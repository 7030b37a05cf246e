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
