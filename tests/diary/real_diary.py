"""A generated hand-kept diary as real ones are: every layout, date form and title style, blog posts,
two entries of one paper, an entry dated by nothing but git, a day-first/month-first ambiguity.

``make_diary(root)`` writes it (a git repository, committed) and returns what each entry should be read
as: its date and a word of its description. Nobody's diary is copied: the papers are real, the words
are made up for these tests.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

README = """\
# My Paper Diary
I read a paper a day.

## Interesting Methods and Lesson Learned
This section outlines the lessons.

### Reinforcement Learning
1. **Forking tokens** carry the learning signal ([80/20](Reinforcement%20Learning/TokenEntropy.md)).
2. **Prolonged RL** keeps widening what a model can reason about ([ProRL](June%202025/4thJuneProRL.md), \
[80/20](Reinforcement%20Learning/TokenEntropy.md)).

### Robotics
1. **Action chunking** makes robot motions smoother ([ACT](<Robotics/act chunking.md>)).
2. Simulated **kinetic** worlds on a GPU give endless tasks ([Kinetix](June%202025/21stJuneKinetix.md)).

### Open-Endedness and Auto Curriculums
1. **Self-play without data** can teach reasoning: the proposer invents its own tasks \
([AZR](Open-Endedness/AbsoluteZero.md)).

## Reading List
See [the list](READING-LIST.md).
"""


@dataclass(frozen=True)
class Expected:
    day: date
    word: str  # a word its description must hold ("" when it has no sentence)


# path -> (text, what the catalog should read)
ENTRIES: dict[str, tuple[str, Expected]] = {
    "Reinforcement Learning/TokenEntropy.md": ("""\
# Beyond the 80/20 Rule: High-Entropy Minority Tokens
Date read: 11th June 2025
[arXiv](https://arxiv.org/abs/2506.01939)

**Aims:**
To find which tokens carry the learning in reinforcement learning with verifiable rewards.

## Key Points
- Only a fifth of the tokens are **forking tokens** with high entropy.
- Training on those alone matches full updates (the zebrafish result).
""", Expected(date(2025, 6, 11), "tokens")),
    "June 2025/4thJuneProRL.md": ("""\
## ProRL: Prolonged Reinforcement Learning
**Date:** 4th June 2025
[paper](https://arxiv.org/pdf/2505.24864v2)

Problem: whether longer RL training expands reasoning boundaries at all.

## Key Points
- KL control and reference resets keep training stable for thousands of steps.
""", Expected(date(2025, 6, 4), "reasoning")),
    "June 2025/21stJuneKinetix.md": ("""\
# Kinetix
Date: 21st June 2025
https://arxiv.org/abs/2410.23208

Summary: An open-ended space of physics tasks trained on a GPU at scale.
""", Expected(date(2025, 6, 21), "physics")),
    "Robotics/act chunking.md": ("""\
# Learning Fine-Grained Bimanual Manipulation (ACT)
30/05/2025
[arXiv link](https://arxiv.org/abs/2304.13705)

## Key Points
- Predicting **chunks of actions** cuts the compounding error of imitation.
""", Expected(date(2025, 5, 30), "chunks")),
    "Robotics/habit.md": ("""\
# A robot paper read in early June
Date: 02/06/2025

The robot learns to fold towels from twenty demonstrations.
""", Expected(date(2025, 6, 2), "towels")),  # 30/05/2025 beside it: this folder writes day first
    "Open-Endedness/AbsoluteZero.md": ("""\
# Absolute Zero: Reinforced Self-play Reasoning with Zero Data
2025-06-04
[HF](https://huggingface.co/papers/2505.03335)

**Key idea** a proposer invents coding tasks and a solver learns from them, with no human data.
""", Expected(date(2025, 6, 4), "proposer")),
    "Open-Endedness/typo.md": ("""\
# Open-Endedness is Essential for Artificial Superhuman Intelligence
Date read: 5th June 2205
arXiv:2406.04268

The paper argues that open-ended systems are needed to reach superhuman intelligence.
""", Expected(date(2025, 6, 5), "open-ended")),  # the year repaired from the neighbours
    "Blogs/bitter-lesson.md": ("""\
# The Bitter Lesson
Date read: June 7, 2025
Source: http://www.incompleteideas.net/IncIdeas/BitterLesson.html

General methods that leverage computation win in the long run.
""", Expected(date(2025, 6, 7), "computation")),
    "Blogs/scaling-post.md": ("""\
## A blog post on scaling
Date read: 8 June 2025
https://blog.example.org/scaling-laws

Bigger models trained longer keep getting better, the post says.
""", Expected(date(2025, 6, 8), "Bigger")),
    "entries/June 2025/12thJuneDrafted.md": ("""\
# Drafted by the tool
Date read: 12th June 2025

[arXiv link](https://arxiv.org/abs/2506.00012)

## Key Points
- The drafted key point about gradient noise.

<!-- paperdiary: {"arxiv_id": "2506.00012", "version": 1, "drafter": "offline", "description": "A drafted one-line description."} -->
""", Expected(date(2025, 6, 12), "drafted")),
    "Reinforcement Learning/prorl-again.md": ("""\
# ProRL, read a second time
Date: 14.06.2025
https://arxiv.org/abs/2505.24864

Second reading: the resets matter more than the KL penalty.
""", Expected(date(2025, 6, 14), "resets")),  # a second entry of one paper
    "Misc/no-date.md": ("""\
# A paper with no date anywhere
[arXiv](https://arxiv.org/abs/2401.00099)

It studies curriculum replay for language agents.
""", Expected(date(2025, 6, 20), "curriculum")),  # the day git first saw it
    "flat-entry.md": ("""\
# A flat entry at the root
Date read - Jun 3 2025

- Memory layers let a small model recall facts.
""", Expected(date(2025, 6, 3), "Memory")),
}

READING_LIST = "# To read\n- [A paper](https://arxiv.org/abs/2506.09999)\n- [ProRL notes](June%202025/4thJuneProRL.md)\n"
QUEUE = """# Lessons queue

- [ ] **Chunked actions** reduce compounding error. <!-- id: abcd1234 -->
  - entry: [ACT](Robotics/act%20chunking.md)
"""


def git(root: Path, *args: str, when: str = "2025-06-20T09:00:00+00:00") -> str:
    env = os.environ | {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": "Diarist",
                        "GIT_AUTHOR_EMAIL": "d@example.org", "GIT_COMMITTER_NAME": "Diarist",
                        "GIT_COMMITTER_EMAIL": "d@example.org", "GIT_CONFIG_GLOBAL": os.devnull,
                        "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout


def make_diary(root: Path, *, commit: bool = True) -> dict[str, Expected]:
    """Write the diary below ``root`` (a git repository with one commit unless told otherwise)."""
    root.mkdir(parents=True, exist_ok=True)
    files = {"README.md": README, "READING-LIST.md": READING_LIST, "LESSONS-QUEUE.md": QUEUE,
             ".gitignore": ".paperdiary/\n"}
    files |= {path: text for path, (text, _) in ENTRIES.items()}
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    if commit:
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "my diary")
    return {path: expected for path, (_, expected) in ENTRIES.items()}
