"""`paperdiary review` subcommands for scripts, their --json documents, and the old mode flags that
still work for one release with a note naming the new form."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.diary.test_review import CURRICULUM, PROTEIN, README, SOURCE, SOURCE_LINK, TACTILE, ids, make_diary, readme_text

OPEN_ENDED = "Open-Endedness and Auto Curriculums"
OWN = "My **own** lesson about robot hands and touch."


def review(diary: Path, *args: str):
    result = run_cli("review", *args, cwd=diary)
    assert result.returncode == 0, result.stderr
    return result


def statuses(diary: Path) -> dict[str, str]:
    return {item["id"]: item["status"] for item in json.loads(review(diary, "list", "--json").stdout)}


@pytest.mark.slow
def test_subcommands_from_list_to_apply_with_json(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    tactile, curriculum, protein = known[TACTILE], known[CURRICULUM], known[PROTEIN]

    listed = json.loads(review(diary, "list", "--json").stdout)
    assert [item["id"] for item in listed] == [tactile, curriculum, protein]
    assert listed[0]["proposal"]["kind"] == "add" and listed[0]["proposal"]["theme"] == "Robotics"

    placed = json.loads(review(diary, "theme", protein[:5], OPEN_ENDED, "--json").stdout)
    assert placed["id"] == protein and placed["proposal"]["kind"] == "add"
    assert placed["proposal"]["theme"] == OPEN_ENDED and placed["choice"]["theme"] == OPEN_ENDED
    kind = json.loads(review(diary, "--json", "kind", curriculum, "add").stdout)
    assert kind["proposal"]["kind"] == "add" and kind["choice"]["kind"] == "add"

    accepted = json.loads(review(diary, "accept", tactile, protein, "--json").stdout)
    assert [item["id"] for item in accepted["accepted"]] == [tactile, protein] and accepted["waiting"] == 2
    assert all(item["status"] == "accepted" for item in accepted["accepted"])
    rejected = json.loads(review(diary, "reject", curriculum, "--json").stdout)
    assert rejected == {"rejected": [curriculum]}
    added = json.loads(review(diary, "add", OWN, "--source", SOURCE, "--json").stdout)
    assert added["queued"] is True and added["queue_file"] == "LESSONS-QUEUE.md"
    assert statuses(diary) == {tactile: "accepted", protein: "accepted", added["id"]: "pending"}

    diff = json.loads(review(diary, "diff", "--json").stdout)
    assert diff["accepted"] == [tactile, protein]
    assert f"+3. {TACTILE} ([Été RL]({SOURCE_LINK}))" in diff["diff"].splitlines()
    assert readme_text(diary) == README

    applied = json.loads(review(diary, "apply", "--json").stdout)
    assert [item["id"] for item in applied["applied"]] == [tactile, protein]
    assert applied["readme_changed"] is True and applied["pending"] == 1
    assert applied["applied"][1]["where"] == f"add to {OPEN_ENDED!r}"
    after = readme_text(diary)
    assert f"3. {TACTILE} ([Été RL]({SOURCE_LINK}))\n" in after
    assert f"2. {PROTEIN} ([Été RL]({SOURCE_LINK}))\n" in after
    assert statuses(diary) == {added["id"]: "pending"}


def test_subcommands_in_words(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    placed = review(diary, "theme", known[PROTEIN], OPEN_ENDED)
    assert f"{known[PROTEIN]}: add to {OPEN_ENDED!r}" in placed.stdout
    accepted = review(diary, "accept", known[TACTILE], known[PROTEIN])
    assert f"Accepted {known[TACTILE]}: add to 'Robotics'" in accepted.stdout
    assert "2 accepted lessons waiting: `paperdiary review diff` shows them" in accepted.stdout
    diff = review(diary, "diff")
    assert f"+3. {TACTILE} ([Été RL]({SOURCE_LINK}))" in diff.stdout.splitlines()
    assert "Applied 2 lessons (written into README.md)" in review(diary, "apply").stdout
    assert "Nothing accepted to apply." in review(diary, "diff").stdout
    for result in (placed, accepted, diff):
        assert result.stderr == ""  # the new forms carry no note


def test_subcommand_errors(diary: Path) -> None:
    make_diary(diary)
    unknown = run_cli("review", "reject", "deadbeef", "--json", cwd=diary)
    assert unknown.returncode == 2
    assert json.loads(unknown.stdout) == {
        "error": "no queued lesson has ID 'deadbeef'. See the IDs with: paperdiary review list", "exit_code": 2}
    assert run_cli("review", "reject", cwd=diary).returncode == 2  # IDs are required by the command's shape
    assert run_cli("review", "theme", "abcd", cwd=diary).returncode == 2
    # --llm belongs to `review` and to its subcommands alike.
    for args in (("--llm", "list"), ("list", "--llm"), ("--llm", "--list")):
        result = run_cli("review", *args, cwd=diary)
        assert result.returncode == 2 and "--llm needs a model" in result.stderr, args


OLD_FORMS = [
    # (old arguments, the new form the note names, what then holds)
    ("--list", "review list", "listed"),
    ("--list --json", "review list --json", "json"),
    ("--json", "review list --json", "json"),
    ("--accept {tactile} {protein}", "review accept {tactile} {protein}", "accepted"),
    ("--reject {protein}", "review reject {protein}", "rejected"),
    ("--theme {protein} 'Open-Endedness and Auto Curriculums'",
     "review theme {protein} 'Open-Endedness and Auto Curriculums'", "themed"),
    ("--kind {curriculum} add", "review kind {curriculum} add", "kind"),
    ("--add 'My **own** lesson about robot hands and touch.'",
     "review add 'My **own** lesson about robot hands and touch.'", "added"),
    ("--diff", "review diff", "diffed"),
    ("--apply", "review apply", "applied"),
]


@pytest.mark.parametrize(("old", "new", "effect"), OLD_FORMS, ids=[form[0].split()[0] + form[2] for form in OLD_FORMS])
def test_each_old_flag_still_works_and_names_its_new_form(diary: Path, old: str, new: str, effect: str) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    names = {"tactile": known[TACTILE], "curriculum": known[CURRICULUM], "protein": known[PROTEIN]}
    if effect in ("diffed", "applied"):
        review(diary, "accept", known[TACTILE])
    result = review(diary, *shlex.split(old.format(**names)))

    flag = old.split()[0]
    [note] = result.stderr.splitlines()
    assert note == (f"note: `paperdiary review {flag}` is deprecated and goes in "
                    f"the next release; use `paperdiary {new.format(**names)}`.")
    now = {item["id"]: item for item in json.loads(review(diary, "list", "--json").stdout)}
    if effect == "listed":
        assert known[TACTILE] in result.stdout and "3 undecided" in result.stdout
    elif effect == "json":
        assert [item["id"] for item in json.loads(result.stdout)] == list(now)
    elif effect == "accepted":
        assert (now[known[TACTILE]]["status"], now[known[PROTEIN]]["status"]) == ("accepted", "accepted")
    elif effect == "rejected":
        assert known[PROTEIN] not in now
    elif effect == "themed":
        assert now[known[PROTEIN]]["proposal"]["theme"] == OPEN_ENDED
    elif effect == "kind":
        assert now[known[CURRICULUM]]["proposal"]["kind"] == "add"
    elif effect == "added":
        assert [item["lesson"] for item in now.values()][-1] == OWN
    elif effect == "diffed":
        assert f"+3. {TACTILE} ([Été RL]({SOURCE_LINK}))" in result.stdout.splitlines()
        assert readme_text(diary) == README
    else:
        assert "Applied 1 lesson" in result.stdout and f"3. {TACTILE}" in readme_text(diary)


def test_old_flags_combined_run_in_their_old_order_as_one_json_document(diary: Path) -> None:
    settings = make_diary(diary)
    known = ids(settings)
    protein, tactile = known[PROTEIN], known[TACTILE]
    result = review(diary, "--accept", protein, tactile, "--theme", protein, OPEN_ENDED, "--json", "--apply")
    assert result.stderr.splitlines() == [
        "note: `paperdiary review --theme --accept --list --apply` is deprecated and goes in the next release; use "
        f"`paperdiary review theme {protein} '{OPEN_ENDED}'`, then `paperdiary review accept {protein} {tactile}`, "
        "then `paperdiary review list --json`, then `paperdiary review apply`."]
    document = json.loads(result.stdout)
    assert [step["action"] for step in document["steps"]] == ["theme", "accept", "list", "apply"]
    assert document["steps"][-1]["result"]["readme_changed"] is True
    assert f"2. {PROTEIN} ([Été RL]({SOURCE_LINK}))\n" in readme_text(diary).split(f"### {OPEN_ENDED}\n")[1]


def test_old_flags_keep_their_checks(diary: Path) -> None:
    make_diary(diary)
    for args, needle in ((("--accept", "--reject", "abcd"), "cannot be combined. Run them one after the other"),
                         (("--accept",), "--accept needs lesson IDs"),
                         (("abcd",), "what to do with abcd?"),
                         (("--source", "x.md"), "--source goes with --add")):
        result = run_cli("review", *args, cwd=diary)
        assert result.returncode == 2 and needle in result.stderr and "Traceback" not in result.stderr, args
