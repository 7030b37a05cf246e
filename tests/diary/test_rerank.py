"""review --llm: the model may move a lesson to another top theme and polish it, within the rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from paperdiary.diary.lessons import queue_lessons
from paperdiary.stages.drafting.contract import Lesson
from paperdiary.settings import load_settings
from tests.conftest import clean_env, run_cli
from tests.fakes.llm_server import FakeLLM

README = """# My diary

## Interesting Methods and Lesson Learned

### Reinforcement Learning
1. **Reward shaping** with dense rewards speeds up policy learning ([Shaping](entries/June%202025/1stJuneShaping.md))
2. Filter prompts the agent always solves: **learnability** matters for the policy.

### Robotics
1. **Action chunks** make robot control smoother ([Chunks](entries/June%202025/2ndJuneChunks.md))

### Training in General
1. **Bigger batches** need a warm-up of the learning rate.
"""
LESSON = "**Grasp success detectors** can serve as the reward for robot arms."


@pytest.fixture
def queued(diary: Path) -> Path:
    (diary / "README.md").write_text(README, encoding="utf-8")
    entry = diary / "entries" / "June 2025" / "9thJuneGraspRewards.md"
    entry.parent.mkdir(parents=True)
    entry.write_text("# Grasp Rewards\n[arXiv link](https://arxiv.org/abs/2506.00009)\n", encoding="utf-8")
    queue_lessons(load_settings(diary, env={}), [Lesson(LESSON, theme=None)],
                  "entries/June 2025/9thJuneGraspRewards.md", "2506.00009")
    return diary


class Model:
    """Picks the first candidate theme that is not the offline proposal's, and rewrites the lesson."""

    def __init__(self, lesson: str = "**Grasp success detectors** make good rewards for robot arms."):
        self.lesson = lesson

    def __call__(self, request: dict) -> dict:
        user = request["messages"][-1]["content"]
        offline = re.search(r"add under '([^']+)'", user)
        candidates = re.findall(r"^### (.+)$", user, re.M)
        choice = next(c for c in candidates if not offline or c != offline[1])
        return {"theme": choice, "lesson": self.lesson, "reason": "the model's view"}


def listed(diary: Path, llm: FakeLLM | None, **env: str) -> dict:
    extra = {"PAPERDIARY_MODEL": "fake-model", "OPENAI_BASE_URL": llm.base_url} if llm else {}
    result = run_cli("review", "--list", "--json", "--llm", cwd=diary, env=clean_env(**(extra | env)))
    assert result.returncode == 0, result.stderr
    [item] = json.loads(result.stdout)
    return item


def offline_proposal(diary: Path) -> dict:
    result = run_cli("review", "--list", "--json", cwd=diary)
    return json.loads(result.stdout)[0]["proposal"]


def test_llm_moves_and_polishes_then_answers_from_cache(queued: Path) -> None:
    before = offline_proposal(queued)
    assert before["kind"] == "add"
    with FakeLLM() as llm:
        llm.script(Model())
        item = listed(queued, llm)
        assert len(llm.completion_requests) == 1
        again = listed(queued, llm)
        assert len(llm.completion_requests) == 1  # the same question is answered from the cache
    proposal = item["proposal"]
    assert proposal["kind"] == "add" and proposal["theme"] != before["theme"]
    assert proposal["text"].startswith("**Grasp success detectors** make good rewards")
    assert "(entries/June%202025/9thJuneGraspRewards.md)" in proposal["text"]
    assert "fake-model: the model's view" in proposal["reason"]
    assert again["proposal"] == proposal
    # The lesson reached the model as delimited, untrusted data.
    request = llm.completion_requests[0].json
    assert "untrusted data" in request["messages"][0]["content"]
    assert re.search(r"<<<LESSON [0-9a-f]+>>>\n" + re.escape(LESSON), request["messages"][-1]["content"])


def test_a_polish_that_adds_a_number_is_thrown_away(queued: Path) -> None:
    with FakeLLM() as llm:
        llm.script(Model("**Grasp success detectors** raise robot success by 37.5%."))
        proposal = listed(queued, llm)["proposal"]
    assert proposal["text"].startswith(LESSON.rstrip(".")) and "37.5" not in proposal["text"]


def test_hostile_answer_is_escaped(queued: Path) -> None:
    with FakeLLM() as llm:
        llm.script(Model("**Pwned** <script>alert(1)</script> [click](javascript:alert(1))"))
        proposal = listed(queued, llm)["proposal"]
    assert "<script" not in proposal["text"] and "](javascript" not in proposal["text"]


def test_unreachable_llm_leaves_the_offline_proposal(queued: Path) -> None:
    before = offline_proposal(queued)
    item = listed(queued, None, PAPERDIARY_MODEL="fake-model", OPENAI_BASE_URL="http://127.0.0.1:9/v1",
                  PAPERDIARY_RETRY_MAX_TIME="1")
    assert item["proposal"] == before


def test_llm_flag_needs_a_model(queued: Path) -> None:
    result = run_cli("review", "--list", "--llm", cwd=queued)
    assert result.returncode == 2 and "--llm needs a model" in result.stderr
