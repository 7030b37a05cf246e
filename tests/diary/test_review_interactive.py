"""The interactive `paperdiary review` through a real pseudo-terminal: single keys, $EDITOR, undo,
quit with every decision kept, resume with the undecided lessons, apply at the end."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect

from paperdiary.diary.queue import QueueFile
from tests.conftest import clean_env
from tests.diary.test_review import CURRICULUM, PROTEIN, README, SOURCE_LINK, TACTILE, ids, make_diary, readme_text

EDITED = "**Edited lesson**: agents learn most from tasks of medium difficulty."
PROMPT = "[q]uit › "

EDITOR_SCRIPT = """\
import pathlib, sys
path = pathlib.Path(sys.argv[1])
assert "Medium difficulty" in path.read_text(encoding="utf-8")
# Two lines, then a second paragraph: only the first paragraph counts.
path.write_text("**Edited lesson**: agents learn most\\nfrom tasks of medium difficulty.\\n\\nscratch notes\\n",
                encoding="utf-8")
"""


def spawn(diary: Path, editor: str) -> pexpect.spawn:
    env = clean_env(EDITOR=editor, NO_COLOR="1", TERM="xterm")
    env.pop("VISUAL", None)
    child = pexpect.spawn(sys.executable, ["-m", "paperdiary", "review"], cwd=str(diary), env=env,
                          encoding="utf-8", timeout=20, dimensions=(60, 220))
    child.delaybeforesend = 0.05
    return child


def test_accept_edit_reject_and_quit_keep_every_decision(diary: Path, tmp_path: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT, encoding="utf-8")
    editor = f"{sys.executable} {script}"

    child = spawn(diary, editor)
    child.expect_exact(f"Lesson 1/3 · {known[TACTILE]}")
    child.expect_exact(TACTILE)
    child.expect_exact("add to 'Robotics'")
    child.expect_exact(f"+3. {TACTILE} ([Été RL]({SOURCE_LINK}))")  # the exact README diff
    child.expect_exact(PROMPT)
    child.send("a")

    child.expect_exact(f"Lesson 2/3 · {known[CURRICULUM]}")
    child.expect_exact("cite beside lesson 2 of 'Reinforcement Learning'")
    child.expect_exact(PROMPT)
    child.send("e")  # the scripted $EDITOR rewrites the lesson
    child.expect_exact(f"Lesson 2/3 · {known[CURRICULUM]}")
    child.expect_exact(EDITED)
    child.expect_exact("(edited)")
    child.expect_exact(PROMPT)
    child.send("a")

    child.expect_exact(f"Lesson 3/3 · {known[PROTEIN]}")
    child.expect_exact("new theme 'Biology'")
    child.expect_exact(PROMPT)
    child.send("r")
    child.expect_exact("This session: 2 accepted, 1 rejected, 0 skipped; 0 undecided in LESSONS-QUEUE.md.")
    child.expect_exact("Apply now? [y/N] ")
    assert PROTEIN not in settings.queue_path.read_text(encoding="utf-8")
    child.send("n")  # "Apply now? [y/N]": not yet
    child.expect(pexpect.EOF)
    assert "paperdiary review apply" in child.before
    child.wait()
    assert child.exitstatus == 0

    # Every decision was saved: two ticked, one gone; the README untouched so far.
    queue = settings.queue_path.read_text(encoding="utf-8")
    assert queue.count("\n- [x] ") == 2 and PROTEIN not in queue
    assert readme_text(diary) == README


def test_undo_quit_resume_and_apply(diary: Path, tmp_path: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    child = spawn(diary, "false")

    child.expect_exact("Lesson 1/3")
    child.expect_exact(PROMPT)
    child.send("r")  # reject...
    child.expect_exact("Lesson 2/3")
    child.expect_exact(PROMPT)
    child.send("u")  # ...and take it back: the lesson is shown again, back in the queue
    child.expect_exact(f"Undone: rejected {known[TACTILE]}")
    child.expect_exact("Lesson 1/3")
    assert TACTILE in settings.queue_path.read_text(encoding="utf-8")
    child.expect_exact(PROMPT)
    child.send("a")
    child.expect_exact("Lesson 2/3")
    child.expect_exact(PROMPT)
    child.send("q")  # quit: the acceptance is kept
    child.expect_exact("Apply now? [y/N] ")
    child.send("n")
    child.expect(pexpect.EOF)

    # Resume: only the undecided lessons, counted afresh.
    child = spawn(diary, "false")
    child.expect_exact(f"Lesson 1/2 · {known[CURRICULUM]}")
    child.expect_exact(PROMPT)
    child.send("s")
    child.expect_exact(f"Lesson 2/2 · {known[PROTEIN]}")
    child.expect_exact(PROMPT)
    child.send("t")  # another theme: by number from the list, or a new name
    child.expect_exact("Open-Endedness and Auto Curriculums")
    child.expect_exact("(Enter: keep): ")
    child.sendline("Protein Science")
    child.expect_exact("new theme 'Protein Science'")
    child.expect_exact(PROMPT)
    child.send("k")  # or another kind
    child.expect_exact("[n]ew theme")
    child.send("a")
    child.expect_exact("Your choice: add to")
    child.expect_exact(PROMPT)
    child.send("t")
    child.expect_exact("(Enter: keep): ")
    child.sendline("2")  # Robotics, by its number
    child.expect_exact("add to 'Robotics'")
    child.expect_exact(PROMPT)
    child.send("a")
    child.expect_exact("Apply now? [y/N] ")
    child.send("y")
    child.expect_exact("Applied 2 lessons")
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 0

    after = readme_text(diary)
    robotics = after.split("### Robotics\n")[1].split("###")[0]
    assert f"3. {TACTILE} ([Été RL]({SOURCE_LINK}))\n4. {PROTEIN} ([Été RL]({SOURCE_LINK}))\n" in robotics
    assert list(ids(settings).values()) == [known[CURRICULUM]]  # the skipped one waits


def test_an_edited_and_rethemed_lesson_shows_so_in_the_queue_file(diary: Path, tmp_path: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT, encoding="utf-8")
    child = spawn(diary, f"{sys.executable} {script}")
    child.expect_exact(f"Lesson 1/3 · {known[TACTILE]}")
    child.expect_exact(PROMPT)
    child.send("s")
    child.expect_exact(f"Lesson 2/3 · {known[CURRICULUM]}")
    child.expect_exact(PROMPT)
    child.send("e")  # the scripted $EDITOR rewrites it
    child.expect_exact(EDITED)
    child.expect_exact(PROMPT)
    child.send("t")
    child.expect_exact("(Enter: keep): ")
    child.sendline("2")  # Robotics, by its number
    child.expect_exact("add to 'Robotics'")
    child.expect_exact(PROMPT)
    child.send("q")  # nothing accepted: no offer to apply
    child.expect_exact("This session: 0 accepted, 0 rejected, 1 skipped; 3 undecided in LESSONS-QUEUE.md.")
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 0

    text = settings.queue_path.read_text(encoding="utf-8")  # the phone view: the lesson as it now stands
    item = QueueFile.parse(text).get(known[CURRICULUM])
    assert (item.text, item.theme, item.suggested, item.kind, item.checked) == (
        EDITED, "Robotics", "Reinforcement Learning", "add", False)
    assert CURRICULUM not in text and f"- [ ] {EDITED}\n  - id: `{known[CURRICULUM]}`\n" in text
    assert "  - theme: Robotics (suggested: Reinforcement Learning)\n  - kind: add\n" in text
    assert QueueFile.parse(text).get(known[TACTILE]).kind is None  # skipped: shown as queued


def test_without_a_terminal_keys_are_read_a_line_each(diary: Path) -> None:
    import subprocess

    settings = make_diary(diary)
    known = ids(settings)
    result = subprocess.run([sys.executable, "-m", "paperdiary", "review"], cwd=diary, env=clean_env(),
                            input="a\nq\nn\n", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Lesson 1/3" in result.stdout and "Lesson 2/3" in result.stdout and "Apply now?" in result.stdout
    assert list(ids(settings).values()) == [known[TACTILE], known[CURRICULUM], known[PROTEIN]]
    assert settings.queue_path.read_text(encoding="utf-8").count("\n- [x] ") == 1
