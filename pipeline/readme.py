"""The diary README's lessons section: where it is and which themes it has.

(The full round-tripping README model arrives with the review stage; drafting
only needs the theme names, to suggest one for each lesson.)
"""

from __future__ import annotations

import re
from pathlib import Path

DEFAULT_THEMES = (
    "Reinforcement Learning",
    "Self Improvement",
    "Training in General",
    "Robotics",
    "Open-Endedness and Auto Curriculums",
)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")


def lessons_section_themes(text: str, heading: str = "") -> list[str]:
    """``###`` theme names under the lessons ``##`` heading (default: first containing "Lesson")."""
    themes: list[str] = []
    inside = False
    fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        match = None if fence else _HEADING.match(line)
        if not match:
            continue
        level, title = len(match[1]), match[2].strip()
        if level <= 2:
            inside = (title == heading) if heading else ("lesson" in title.lower() and level == 2)
        elif inside and level == 3:
            themes.append(title)
    return themes


def readme_themes(readme: Path, heading: str = "") -> list[str]:
    try:
        return lessons_section_themes(readme.read_text(encoding="utf-8", errors="replace"), heading)
    except OSError:
        return []
