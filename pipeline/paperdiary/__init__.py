"""PaperDiary: turn a paper-a-day habit into a living diary.

The library surface, on one screen::

    import paperdiary

    settings = paperdiary.load_settings("~/diary")
    outcome = paperdiary.draft_paper(settings, "1706.03762")      # one paper -> entry + queued lessons
    report = paperdiary.run_catchup(settings, paperdiary.CatchupOptions(inputs=["backlog.txt"]))
    with paperdiary.Review(settings) as review:                    # the queued lessons, decided and applied
        ...
    with paperdiary.diary_lock(settings, "my script"):             # writing the diary yourself: one writer at a time
        ...

Everything else (the stages, the diary's parts, the LLM client, the store) lives in
sub-packages whose names follow the paper's journey; see README's "How it works".
Names are imported on first use, so ``import paperdiary`` (and ``paperdiary --help``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that owns it
_EXPORTS = {
    "Settings": "paperdiary.settings",
    "load_settings": "paperdiary.settings",
    "PaperRef": "paperdiary.models",
    "PaperMeta": "paperdiary.models",
    "LLMUsage": "paperdiary.models",
    "identify": "paperdiary.stages.identify",
    "Draft": "paperdiary.stages.drafting.contract",
    "Claim": "paperdiary.stages.drafting.contract",
    "Lesson": "paperdiary.stages.drafting.contract",
    "draft_paper": "paperdiary.runs.workflow",
    "DraftOutcome": "paperdiary.runs.workflow",
    "run_catchup": "paperdiary.runs.catchup",
    "CatchupOptions": "paperdiary.runs.catchup",
    "CatchupReport": "paperdiary.runs.catchup",
    "Review": "paperdiary.diary.review",
    "init_diary": "paperdiary.diary.home",
    "update_index": "paperdiary.diary.index",
    "diary_lock": "paperdiary.state.lock",
    "PaperDiaryError": "paperdiary.errors",
    "UsageError": "paperdiary.errors",
    "IdentifierError": "paperdiary.errors",
    "SettingsError": "paperdiary.errors",
    "DiaryError": "paperdiary.errors",
    "DiaryLockedError": "paperdiary.errors",
    "WriteError": "paperdiary.errors",
    "FetchError": "paperdiary.errors",
    "ExtractionError": "paperdiary.errors",
    "LLMError": "paperdiary.errors",
}

# Literal, so that linters see the names used; tests/test_layout.py checks it against _EXPORTS.
__all__ = [
    "__version__", "Settings", "load_settings", "PaperRef", "PaperMeta", "LLMUsage", "identify", "Draft",
    "Claim", "Lesson", "draft_paper", "DraftOutcome", "run_catchup", "CatchupOptions", "CatchupReport",
    "Review", "init_diary", "update_index", "diary_lock", "PaperDiaryError", "UsageError", "IdentifierError",
    "SettingsError", "DiaryError", "DiaryLockedError", "WriteError", "FetchError", "ExtractionError",
    "LLMError",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time names load on first use (below)
    from paperdiary.diary.home import init_diary
    from paperdiary.diary.index import update_index
    from paperdiary.diary.review import Review
    from paperdiary.errors import (
        DiaryError,
        DiaryLockedError,
        ExtractionError,
        FetchError,
        IdentifierError,
        LLMError,
        PaperDiaryError,
        SettingsError,
        UsageError,
        WriteError,
    )
    from paperdiary.models import LLMUsage, PaperMeta, PaperRef
    from paperdiary.runs.catchup import CatchupOptions, CatchupReport, run_catchup
    from paperdiary.runs.workflow import DraftOutcome, draft_paper
    from paperdiary.settings import Settings, load_settings
    from paperdiary.stages.drafting.contract import Claim, Draft, Lesson
    from paperdiary.stages.identify import identify
    from paperdiary.state.lock import diary_lock


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'paperdiary' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
