"""Which README theme a text is about, from keywords: shared by the drafter and the merger.

The user's usual themes have hand-picked keywords (word prefixes: "polic"
matches "policies"); any theme also matches the words of its own name, except
words too common to tell themes apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from paperdiary.terms import words
from paperdiary.text import STOP_WORDS, to_ascii

_THEME_KEYWORDS = {
    "reinforcement learning": (
        "reinforcement", "reward", "polic", "agent", "rl", "ppo", "grpo", "q-learning", "actor-critic",
        "markov decision", "value function", "exploration", "rollout", "marl", "multi-agent",
        "trajector",
    ),
    "self improvement": (
        "self-improv", "self-play", "self-taught", "self-train", "self-generat", "self-refin",
        "self-edit", "self-evol", "self-correct", "self-reflect", "self-instruct", "bootstrap",
        "itself", "its own", "their own", "iteratively improv",
    ),
    # Not "optimization" or "gradient": RL papers are full of "policy gradient optimization".
    "training in general": (
        "training", "pre-train", "pretrain", "fine-tun", "finetun", "optimizer", "learning rate",
        "batch size", "scaling", "gpu", "memory", "throughput", "speedup", "efficien", "hardware",
        "distill", "regulari", "weight decay", "mixed precision", "parallelism", "convergence",
    ),
    "robotics": (
        "robot", "manipulat", "grasp", "dexter", "embodi", "locomot", "vla", "vision-language-action",
        "sim-to-real", "gripper", "actuat", "teleoperat", "humanoid",
    ),
    "open endedness and auto curriculums": (
        "open-ended", "curricul", "auto-curricul", "autocurricul", "unsupervised environment design",
        "ued", "level", "novelty", "learnab", "procedural", "quality-diversity", "environment generat",
        "task generat",
    ),
}
# Words of a theme's name that say nothing about which theme a text is about.
_GENERIC_THEME_WORDS = STOP_WORDS | frozenset(
    "general learning improvement improvements model models misc interesting notes".split()
)


def keyword_score(text: str, theme: str, *, context: str = "") -> float:
    """How strongly ``text`` is about ``theme``: 1 per distinct keyword found in it, 1/2 in ``context``."""
    words, context_words = _theme_text(text), _theme_text(context)
    keywords = _theme_keywords(theme)
    return sum(1.0 for k in keywords if k.search(words)) + 0.5 * sum(1.0 for k in keywords if k.search(context_words))


def match_theme(text: str, themes: Sequence[str], *, context: str = "") -> str | None:
    """The theme among ``themes`` whose keywords ``text`` shares most, else None.

    (``context`` is, say, the paper's title and abstract.) A theme needs a score
    of at least 1; ties go to the theme listed first.
    """
    best, best_score = None, 0.0
    for theme in themes:
        score = keyword_score(text, theme, context=context)
        if score >= 1 and score > best_score:
            best, best_score = theme, score
    return best


def theme_title(name: str) -> str:
    """A theme's name without its heading's numbering ("3. Robotics", "3) Robotics" -> "Robotics")."""
    return _NUMBERING.sub("", name.strip()) or name.strip()


_NUMBERING = re.compile(r"^\d+[.)]?\s+")


def _theme_text(text: str) -> str:
    """The text's words, lower case, ASCII, single-spaced, hyphenated words whole: what keywords are matched in."""
    return " ".join(word.surface.lower() for word in words(to_ascii(text), hyphenated=True))


@lru_cache(maxsize=256)
def _theme_keywords(theme: str) -> tuple[re.Pattern[str], ...]:
    key = " ".join(word.surface.lower() for word in words(theme_title(to_ascii(theme))))
    known = _THEME_KEYWORDS.get(key, ())
    # The theme's own words, unless generic or already a known keyword's extension.
    own = [w for w in dict.fromkeys(key.split()) if w not in _GENERIC_THEME_WORDS and not w.startswith(known)]
    patterns = [rf"(?<![\w-]){re.escape(k)}" for k in known]
    patterns += [rf"(?<![\w-]){re.escape(w)}(?:s|es)?(?![\w-])" for w in own]
    return tuple(re.compile(p) for p in patterns)
