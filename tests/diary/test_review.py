"""`paperdiary review`: the queue file as a phone leaves it, scripted decisions, ticking by hand,
safe applies (conflicts refused, unrelated edits kept) and decisions that survive SIGKILL."""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
from pathlib import Path

import pytest

from paperdiary.diary.lessons import queue_lessons
from paperdiary.diary.queue import QueueFile
from paperdiary.diary.readme import Readme
from paperdiary.diary.review import Review
from paperdiary.errors import ReviewConflictError, ReviewError
from paperdiary.stages.drafting.contract import Lesson
from paperdiary.settings import Settings, load_settings
from paperdiary.state.store import EntryRecord, Store
from tests.conftest import clean_env, run_cli

README = """\
# My Paper Diary
One paper a day, mostly reinforcement learning and robots.

Note: written on the phone, tidied on the laptop.

## Interesting Methods and Lesson Learned
This section keeps, in a sentence or two, the methods worth remembering.

### Reinforcement Learning
1. **Reward shaping with potential functions** keeps the optimal policy unchanged while speeding up learning ([ShapeSafe](June%202025/2ndJuneShapeSafe.md)).
2. [CurriQ](June%202025/6thJuneCurriQ.md) drops training tasks the agent always solves or always fails.
It learns fastest on tasks of **medium difficulty**.

### Robotics
1. **Action chunking**: predicting several future actions at once gives smoother robot motions ([ChunkBot](June%202025/8thJuneChunkBot.md)).
2. [SimGrip](June%202025/10thJuneSimGrip.md) randomises friction and mass in simulation so that grasping transfers to real hands.

### Open-Endedness and Auto Curriculums
1. [LevelGen](June%202025/12thJuneLevelGen.md) generates new levels and keeps only the most novel learnable ones.

## Tools
* a phone
"""
SOURCE = "entries/Juin 2025/3rdJuinÉtéRL.md"
SOURCE_LINK = "entries/Juin%202025/3rdJuin%C3%89t%C3%A9RL.md"
TACTILE = "**Tactile fingertips** let a robot hand grasp fragile objects without crushing them."
CURRICULUM = "**Medium difficulty** tasks teach an agent most; skip those it always solves or always fails."
PROTEIN = "**Protein folding** with equivariant networks reaches near experimental accuracy."


def make_diary(root: Path, readme: str = README) -> Settings:
    """A diary in the user's shape: README with themes, an entry in a folder with a space and accents, a queue."""
    (root / "README.md").write_bytes(readme.encode("utf-8"))
    entry = root / SOURCE
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text("# Été RL: Touch for Robot Hands\nDate read: 3rd June 2025\n\n## Key Points\n- Touch helps.\n",
                     encoding="utf-8")
    settings = load_settings(root, env={})
    queue_lessons(settings, [Lesson(TACTILE, theme="Robotics", why="Cheap sensors, big gains."),
                             Lesson(CURRICULUM, theme="Reinforcement Learning"),
                             Lesson(PROTEIN, theme="Biology")], SOURCE, "2506.00003")
    return settings


def ids(settings: Settings) -> dict[str, str]:
    """Lesson text -> ID, from the queue file."""
    queue = QueueFile.parse(settings.queue_path.read_text(encoding="utf-8"))
    return {item.text: item.id for item in queue.items}


def listed(diary: Path) -> dict[str, dict]:
    result = run_cli("review", "--list", "--json", cwd=diary)
    assert result.returncode == 0, result.stderr
    return {item["id"]: item for item in json.loads(result.stdout)}


def readme_text(root: Path) -> str:
    return (root / "README.md").read_bytes().decode("utf-8")


# --------------------------------------------------------------------------- the queue file


PHONE_QUEUE = (
    "# Lessons queue\r\n"
    "\r\n"
    "Some words of mine.\r\n"
    "\r\n"
    "* [X] **First** lesson, wrapped on the phone\r\n"
    "  onto a second line.\r\n"
    "  - source: [3rdJuinÉtéRL](entries/Juin%202025/3rdJuin%C3%89t%C3%A9RL.md) (arXiv 2506.00003)\r\n"
    "  - id: `0a1b2c3d`\r\n"
    "  - why: because\r\n"
    "  - my own note, kept\r\n"
    "\r\n"
    "- [ ] Second lesson without an ID line\r\n"
    "  - theme: (none suggested)\r\n"
    "A note of mine after the item.\r\n"
    "\r\n"
    "- [x] Third lesson\r\n"
    "  - Theme: Robotics\r\n"
    "  - id: 9f8e7d6c\r\n"
)


def test_queue_file_is_read_as_a_phone_leaves_it() -> None:
    queue = QueueFile.parse(PHONE_QUEUE)
    assert queue.render() == PHONE_QUEUE  # byte for byte, CRLF and notes included
    first, second, third = queue.items
    assert (first.id, first.checked, first.text) == ("0a1b2c3d", True,
                                                    "**First** lesson, wrapped on the phone onto a second line.")
    assert (first.source, first.arxiv_id, first.why) == (SOURCE, "2506.00003", "because")
    assert second.checked is False and second.theme is None and len(second.id) == 8  # derived from its words
    assert QueueFile.parse(PHONE_QUEUE).items[1].id == second.id  # ...stably
    assert (third.id, third.checked, third.theme) == ("9f8e7d6c", True, "Robotics")

    unticked = queue.with_checked("0a1b2c3d", False)
    assert unticked.render() == PHONE_QUEUE.replace("* [X] **First**", "* [ ] **First**")
    without = queue.without(["0a1b2c3d"])
    assert "First" not in without.render() and "my own note" not in without.render()
    assert without.render().startswith("# Lessons queue\r\n\r\nSome words of mine.\r\n\r\n- [ ] Second")
    assert "A note of mine after the item.\r\n" in queue.without([second.id]).render()  # not the item's
    # Putting an item back where it was restores the file exactly.
    assert without.with_block(queue.block(first), 0).render() == PHONE_QUEUE
    last = queue.without(["9f8e7d6c"])
    assert last.with_block(queue.block(third), 2).render() == PHONE_QUEUE


# --------------------------------------------------------------------------- scripted review


def test_scripted_review_lists_chooses_accepts_rejects_diffs_and_applies(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    tactile, curriculum, protein = known[TACTILE], known[CURRICULUM], known[PROTEIN]

    items = listed(diary)
    assert list(items) == [tactile, curriculum, protein]
    assert {k: (v["proposal"]["kind"], v["proposal"]["theme"]) for k, v in items.items()} == {
        tactile: ("add", "Robotics"),
        curriculum: ("extend", "Reinforcement Learning"),
        protein: ("new_theme", "Biology"),
    }
    assert items[tactile]["lesson"] == TACTILE and items[tactile]["source"] == SOURCE

    chose = run_cli("review", "--theme", protein[:5], "Open-Endedness and Auto Curriculums", cwd=diary)
    assert chose.returncode == 0 and "add to 'Open-Endedness and Auto Curriculums'" in chose.stdout
    accepted = run_cli("review", "--accept", tactile, protein, cwd=diary)
    assert accepted.returncode == 0, accepted.stderr
    assert "2 accepted lessons waiting" in accepted.stdout
    rejected = run_cli("review", "--reject", curriculum, cwd=diary)
    assert rejected.returncode == 0 and curriculum not in settings.queue_path.read_text(encoding="utf-8")
    queue = settings.queue_path.read_text(encoding="utf-8")
    assert queue.count("\n- [x] ") == 2  # accepting ticks the boxes

    diff = run_cli("review", "--diff", cwd=diary)
    assert diff.returncode == 0
    added = [line for line in diff.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == [f"+3. {TACTILE} ([Été RL]({SOURCE_LINK}))", f"+2. {PROTEIN} ([Été RL]({SOURCE_LINK}))"]
    assert readme_text(diary) == README  # --diff writes nothing

    applied = run_cli("review", "--apply", cwd=diary)
    assert applied.returncode == 0, applied.stderr
    assert "Applied 2 lessons" in applied.stdout
    after = readme_text(diary)
    assert after == README.replace(
        "transfers to real hands.\n", f"transfers to real hands.\n3. {TACTILE} ([Été RL]({SOURCE_LINK}))\n").replace(
        "learnable ones.\n", f"learnable ones.\n2. {PROTEIN} ([Été RL]({SOURCE_LINK}))\n")
    assert ids(settings) == {}  # applied and rejected lessons left the queue
    assert settings.queue_path.read_text(encoding="utf-8").startswith("# Lessons queue")
    again = run_cli("review", "--apply", cwd=diary)
    assert again.returncode == 0 and "Nothing accepted" in again.stdout and readme_text(diary) == after


def test_unknown_id_exits_2_naming_it(diary: Path) -> None:
    make_diary(diary)
    result = run_cli("review", "accept", "deadbeef", cwd=diary)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: no queued lesson has ID 'deadbeef'. See the IDs with: paperdiary review list"]
    assert run_cli("review", "--reject", cwd=diary).returncode == 2
    assert "--source goes with --add" in run_cli("review", "--source", "x.md", cwd=diary).stderr


def test_own_lessons_are_queued_and_placed_the_same_way(diary: Path) -> None:
    settings = make_diary(diary)
    text = "My **own** idea: [ChunkBot](June%202025/8thJuneChunkBot.md) and SimGrip both train on robot hands."
    added = run_cli("review", "--add", text, "--source", SOURCE, cwd=diary)
    assert added.returncode == 0, added.stderr
    queue = settings.queue_path.read_text(encoding="utf-8")
    assert f"- [ ] {text}\n" in queue  # the user's own markdown, not escaped
    own = ids(settings)[text]
    assert listed(diary)[own]["source"] == SOURCE
    assert "Already queued" in run_cli("review", "--add", text, "--source", SOURCE, cwd=diary).stdout

    bare = run_cli("review", "--add", "Sleep on a **hard** paper before writing its lesson.", cwd=diary)
    assert bare.returncode == 0
    no_source = ids(settings)["Sleep on a **hard** paper before writing its lesson."]
    with Review(settings) as review:
        review.choose(no_source, theme="Habits")
        review.accept([own, no_source])
        review.apply()
    after = readme_text(diary)
    assert f"{text} ([Été RL]({SOURCE_LINK}))" in after
    assert "### Habits\n1. Sleep on a **hard** paper before writing its lesson.\n" in after  # nothing to cite

    missing = run_cli("review", "--add", "x", "--source", "entries/nope.md", cwd=diary)
    assert missing.returncode == 2 and "no such entry" in missing.stderr

    # A drafted paper's arXiv ID names its entry too.
    with Store(settings.db_path) as store:
        store.record_entry(EntryRecord(SOURCE, "2506.00003", 1, "Été RL", "Touch.", "offline", "2025-06-03", "now"))
    with Review(settings) as review:
        item_id, new = review.add("**Touch** is cheap.", "arXiv:2506.00003")
        item = review.state().find(item_id)
    assert new and (item.queued.source, item.queued.arxiv_id) == (SOURCE, "2506.00003")


# --------------------------------------------------------------------------- ticking by hand


def test_ticking_the_box_by_hand_accepts_and_unticking_takes_it_back(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    # On the phone: tick one box as "* [X]", with CRLF line endings throughout.
    text = settings.queue_path.read_text(encoding="utf-8")
    text = text.replace(f"- [ ] {TACTILE}", f"* [X] {TACTILE}").replace("\n", "\r\n")
    settings.queue_path.write_bytes(text.encode("utf-8"))
    items = listed(diary)
    assert items[known[TACTILE]]["status"] == "accepted" and items[known[PROTEIN]]["status"] == "pending"

    # Accepted in review, then unticked by hand: no longer accepted.
    with Review(settings) as review:
        review.accept([known[PROTEIN]])
    text = settings.queue_path.read_bytes().decode("utf-8")
    assert "\r\n- [x] **Protein" in text and "\n\n" not in text.replace("\r\n", "")  # CRLF kept
    settings.queue_path.write_bytes(text.replace("- [x] **Protein", "- [ ] **Protein").encode("utf-8"))
    assert listed(diary)[known[PROTEIN]]["status"] == "pending"

    applied = run_cli("review", "--apply", cwd=diary)
    assert applied.returncode == 0, applied.stderr
    assert f"3. {TACTILE} ([Été RL]({SOURCE_LINK}))\n" in readme_text(diary)
    assert PROTEIN not in readme_text(diary)
    assert set(ids(settings).values()) == {known[CURRICULUM], known[PROTEIN]}


# --------------------------------------------------------------------------- safe applies


def test_apply_refuses_a_lost_anchor_and_keeps_unrelated_edits(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    with Review(settings) as review:
        review.accept([known[TACTILE], known[CURRICULUM]])  # add to Robotics; extend RL lesson 2

    # Meanwhile, on the laptop: an unrelated edit (a lesson added by hand, a typo fixed).
    edited = README.replace("One paper a day", "One paper a day (or two)").replace(
        "learnable ones.\n", "learnable ones.\n2. **My own** hand-written lesson.\n")
    (diary / "README.md").write_text(edited, encoding="utf-8")
    with Review(settings) as review:
        diff = review.plan().diff()
    assert "+2. **My own**" not in diff and "(or two)" not in diff  # only the accepted lessons

    # Then the theme it was accepted for is renamed: its place is gone, nothing is written.
    renamed = edited.replace("### Robotics", "### Robots")
    (diary / "README.md").write_text(renamed, encoding="utf-8")
    queue_before = settings.queue_path.read_bytes()
    result = run_cli("review", "apply", cwd=diary)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert f"cannot apply lesson {known[TACTILE]}" in line and "'Robotics' is no longer in README.md" in line
    assert "nothing was written" in line and "Traceback" not in result.stderr
    assert readme_text(diary) == renamed and settings.queue_path.read_bytes() == queue_before

    # The user re-places it; the rest applies on top of their edits.
    assert run_cli("review", "--theme", known[TACTILE], "Robots", cwd=diary).returncode == 0
    assert run_cli("review", "--apply", cwd=diary).returncode == 0
    after = readme_text(diary)
    assert "(or two)" in after and "2. **My own** hand-written lesson.\n" in after
    assert f"3. {TACTILE} ([Été RL]({SOURCE_LINK}))\n" in after.split("### Robots\n")[1]
    assert f"It learns fastest on tasks of **medium difficulty**. ([Été RL]({SOURCE_LINK}))\n" in after


def test_an_extended_lesson_changed_or_doubled_is_a_conflict(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    with Review(settings) as review:
        review.accept([known[CURRICULUM]])
        # Renumbering and new lessons elsewhere do not matter: the lesson is found by its words.
        moved = README.replace("### Reinforcement Learning\n", "### Reinforcement Learning\n1. New first lesson.\n")
        moved = moved.replace("1. **Reward shaping", "2. **Reward shaping").replace("2. [CurriQ]", "3. [CurriQ]")
        (diary / "README.md").write_text(moved, encoding="utf-8")
        assert review.plan().accepted[0].proposal.lesson_index == 2
        # Its words rewritten: gone.
        (diary / "README.md").write_text(README.replace("always solves or always fails", "masters"), encoding="utf-8")
        with pytest.raises(ReviewConflictError, match="lesson 2 of 'Reinforcement Learning', which it extends, has "
                                                      "changed or gone"):
            review.apply()
        # Two themes of that name: ambiguous.
        doubled = README.replace("## Tools", "### Reinforcement Learning\n1. Another list.\n\n## Tools")
        (diary / "README.md").write_text(doubled, encoding="utf-8")
        with pytest.raises(ReviewConflictError, match="2 themes in README.md are now named 'Reinforcement"):
            review.apply()
        assert readme_text(diary) == doubled


def test_choices_edits_and_undo(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    queue_before = settings.queue_path.read_bytes()
    with Review(settings) as review:
        tactile = known[TACTILE]
        before = review.choose(tactile, lesson="**Touch sensors** on fingertips stop robots from crushing eggs.")
        planned = review.plan().get(tactile)
        assert planned.item.text.startswith("**Touch sensors**") and planned.proposal.text.startswith("**Touch")
        review.choose(tactile, kind="new_theme", theme="Touch")
        assert review.plan().get(tactile).proposal.new_theme_name == "Touch"
        with pytest.raises(ReviewError, match="already has a theme named 'Robotics'"):
            review.choose(tactile, kind="new_theme", theme="Robotics")
        with pytest.raises(ReviewError, match="unknown kind"):
            review.choose(tactile, kind="sideways")
        review.restore(before)
        assert review.plan().get(tactile).item.text == TACTILE

        [snapshot] = review.reject([known[PROTEIN]])
        assert PROTEIN not in settings.queue_path.read_text(encoding="utf-8")
        review.restore(snapshot)  # undo puts the item back exactly where it was
        assert settings.queue_path.read_bytes() == queue_before
        [snapshot] = review.accept([known[PROTEIN]])
        review.restore(snapshot)
        assert settings.queue_path.read_bytes() == queue_before


# --------------------------------------------------------------------------- the queue file shows current text


def queued(settings: Settings, item_id: str):
    return QueueFile.parse(settings.queue_path.read_bytes().decode("utf-8")).get(item_id)


def test_the_queue_shows_each_lessons_current_text_theme_and_kind(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    curriculum, tactile = known[CURRICULUM], known[TACTILE]
    phone = settings.queue_path.read_text(encoding="utf-8")  # the user ticks one lesson and notes another
    phone = phone.replace(f"- [ ] {TACTILE}", f"- [x] {TACTILE}")
    phone = phone.replace(f"  - id: `{curriculum}`\n", f"  - id: `{curriculum}`\n  - note to self: ask Sam\n")
    settings.queue_path.write_text(phone, encoding="utf-8")
    edited = "**Medium difficulty** tasks teach most: drop the ones always solved or always failed."
    with Review(settings) as review:
        review.choose(curriculum, lesson=edited)
        item = queued(settings, curriculum)
        assert (item.text, item.theme, item.kind) == (edited, "Reinforcement Learning", "extend")
        before_theme = review.choose(curriculum, theme="Open-Endedness and Auto Curriculums")
        item = queued(settings, curriculum)
        assert (item.id, item.text, item.theme, item.kind) == (curriculum, edited,
                                                               "Open-Endedness and Auto Curriculums", "add")
        block = QueueFile.parse(settings.queue_path.read_text(encoding="utf-8")).block(item)
        assert "  - note to self: ask Sam\n" in block and block.count("  - theme:") == 1
        assert queued(settings, tactile).checked  # the tick of another item is kept
        review.choose(curriculum, kind="new_theme", theme="Curricula")
        assert (queued(settings, curriculum).theme, queued(settings, curriculum).kind) == ("Curricula", "new_theme")

        review.restore(before_theme)  # undo: the item as it was before the re-theme
        item = queued(settings, curriculum)
        assert (item.text, item.theme, item.kind) == (edited, "Reinforcement Learning", "extend")

        review.accept([tactile, curriculum])  # accepting shows where each goes
        assert (queued(settings, tactile).theme, queued(settings, tactile).kind) == ("Robotics", "add")
        assert queued(settings, curriculum).checked and queued(settings, curriculum).text == edited
        assert [p.item.text for p in review.plan().accepted] == [TACTILE, edited]

        review.apply()
    after = readme_text(diary)
    assert TACTILE in after and after.count(SOURCE_LINK) == 2  # added, and cited beside the lesson it extends
    assert list(ids(settings).values()) == [known[PROTEIN]]


def test_a_killed_review_shows_its_decision_on_the_next_run(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    before = settings.queue_path.read_bytes()
    with Review(settings) as review:
        review.choose(known[PROTEIN], lesson="**Equivariant networks** fold proteins almost as well as experiments.")
    record = Store(settings.db_path).review_records()[known[PROTEIN]]
    settings.queue_path.write_bytes(before)  # as if killed after saving the decision, before writing the queue
    with Store(settings.db_path) as store:
        store.save_reviews([dataclasses.replace(record, synced=False)])
    with Review(settings) as review:
        assert review.state().items[2].text.startswith("**Equivariant networks**")
    item = queued(settings, known[PROTEIN])
    assert item.text.startswith("**Equivariant networks**") and item.kind == "new_theme" and item.theme == "Biology"


def test_scripted_theme_and_kind_rewrite_the_queue_file(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    protein = known[PROTEIN]
    result = run_cli("review", "theme", protein[:6], "Robotics", cwd=diary)
    assert result.returncode == 0, result.stderr
    item = queued(settings, protein)
    assert (item.text, item.theme, item.kind, item.suggested) == (PROTEIN, "Robotics", "add", "Biology")
    assert "  - theme: Robotics (suggested: Biology)\n  - kind: add\n" in settings.queue_path.read_text("utf-8")
    result = run_cli("review", "kind", protein, "new_theme", "--json", cwd=diary)  # named after the suggestion
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["proposal"]["theme"] == "Biology"
    item = queued(settings, protein)
    assert (item.theme, item.kind) == ("Biology", "new_theme")
    assert "  - theme: Biology\n  - kind: new_theme\n" in settings.queue_path.read_text("utf-8")
    assert [i.theme for i in QueueFile.parse(settings.queue_path.read_text(encoding="utf-8")).items][:2] == [
        "Robotics", "Reinforcement Learning"]  # the others untouched


def test_two_lessons_for_one_new_theme_share_it(diary: Path) -> None:
    settings = make_diary(diary)
    queue_lessons(settings, [Lesson("**Protein language models** predict structure from single sequences.",
                                    theme="Biology")], "entries/b.md", "2506.00004")
    with Review(settings) as review:
        review.accept(list(ids(settings).values()))
        review.apply()
    doc = Readme.parse(readme_text(diary))
    assert [t.name for t in doc.themes][-1] == "Biology" and len(doc.themes[-1].lessons) == 2


# --------------------------------------------------------------------------- killed processes

KILLER = """
import os, signal, sys
import paperdiary.diary.review as review
from paperdiary.cli.main import main

name, moment, args = sys.argv[1], sys.argv[2], sys.argv[3:]
write = review.replace_diary_file

def write_then_die(diary, path, text):
    if path.name == name and moment == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    write(diary, path, text)
    if path.name == name and moment == "after":
        os.kill(os.getpid(), signal.SIGKILL)

review.replace_diary_file = write_then_die
sys.argv = ["paperdiary", *args]
main()
"""


def killed(diary: Path, name: str, moment: str, *args: str) -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-c", KILLER, name, moment, *args], cwd=diary, env=clean_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result.stderr


@pytest.mark.parametrize(
    ("command", "name", "moment"),
    [
        ("--accept", "LESSONS-QUEUE.md", "before"),  # decision saved, box not ticked yet
        ("--apply", "README.md", "after"),  # README written, lessons not marked applied
        ("--apply", "LESSONS-QUEUE.md", "before"),  # marked applied, still in the queue
    ],
)
def test_a_kill_at_any_point_loses_no_decision_and_applies_nothing_twice(diary: Path, command: str, name: str,
                                                                         moment: str) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    chosen = [known[TACTILE], known[CURRICULUM], known[PROTEIN]]
    if command == "--accept":
        killed(diary, name, moment, "review", "--accept", *chosen)
        assert "\n- [x] " not in settings.queue_path.read_text(encoding="utf-8")  # it died before ticking
        assert {item["status"] for item in listed(diary).values()} == {"accepted"}
        assert settings.queue_path.read_text(encoding="utf-8").count("\n- [x] ") == 3  # replayed
    else:
        assert run_cli("review", "--accept", *chosen, cwd=diary).returncode == 0
        killed(diary, name, moment, "review", "--apply")
    assert readme_text(diary) in (README, _fully_applied(diary))  # never half-written

    result = run_cli("review", "--apply", cwd=diary)
    assert result.returncode == 0, result.stderr
    after = readme_text(diary)
    assert after == _fully_applied(diary)
    assert after.count(TACTILE) == after.count(PROTEIN) == 1 and after.count(SOURCE_LINK) == 3
    assert ids(settings) == {}


def _fully_applied(diary: Path) -> str:
    return (README.replace("transfers to real hands.\n", f"transfers to real hands.\n3. {TACTILE} ([Été RL]({SOURCE_LINK}))\n")
            .replace("**medium difficulty**.\n", f"**medium difficulty**. ([Été RL]({SOURCE_LINK}))\n")
            .replace("## Tools", f"### Biology\n1. {PROTEIN} ([Été RL]({SOURCE_LINK}))\n\n## Tools"))


def test_drafts_appending_to_a_phone_edited_queue_keep_its_lines(diary: Path) -> None:
    settings = make_diary(diary)
    crlf = settings.queue_path.read_bytes().replace(b"\n", b"\r\n")
    settings.queue_path.write_bytes(crlf)
    queue_lessons(settings, [Lesson("**One more** lesson.")], "entries/c.md", "2506.00005")
    assert settings.queue_path.read_bytes().startswith(crlf)
    assert len(QueueFile.parse(settings.queue_path.read_bytes().decode("utf-8")).items) == 4


def test_a_redraft_does_not_bring_back_settled_lessons(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    assert run_cli("review", "--reject", known[PROTEIN], cwd=diary).returncode == 0
    assert run_cli("review", "--accept", known[TACTILE], cwd=diary).returncode == 0
    assert run_cli("review", "--apply", cwd=diary).returncode == 0
    # The same paper drafted again (draft --force) proposes the same lessons.
    again = queue_lessons(settings, [Lesson(TACTILE, theme="Robotics"), Lesson(CURRICULUM),
                                     Lesson(PROTEIN, theme="Biology")], SOURCE, "2506.00003")
    assert again == []  # applied and rejected stay settled; the undecided one is still queued
    assert set(ids(settings).values()) == {known[CURRICULUM]}


# --------------------------------------------------------------------------- extension points


def test_a_reranker_passed_to_the_review_revises_its_proposals(diary: Path) -> None:
    settings = make_diary(diary)
    seen: list[str] = []

    def second_opinion(readme: Readme, item, proposal):
        seen.append(item.text)
        return dataclasses.replace(proposal, reason="A second opinion.", confidence=7.0)

    with Store(settings.db_path) as store, Review(settings, store=store, reranker=second_opinion) as review:
        planned = review.plan().get(ids(settings)[TACTILE])
        assert planned is not None and planned.proposal is not None
        assert planned.proposal.reason == "A second opinion." and planned.proposal.confidence == 1.0
        assert TACTILE in seen
        assert store.entries() == []  # the caller's store, still open: the review did not close it
    with Review(settings) as review:  # without one, the offline proposal stands
        assert review.plan().get(ids(settings)[TACTILE]).proposal.reason != "A second opinion."
