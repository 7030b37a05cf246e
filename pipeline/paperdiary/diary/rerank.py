"""A second opinion from the LLM on where a lesson goes, and its wording in the diary's voice.

Optional (``paperdiary review --llm``): the offline merger proposes, this may move an
``add`` to another of the top candidate themes (or name a new one) and polish the
sentence. It follows the drafting stage's rules: structured output through
``LLMClient`` (cached, in the ledger), the lesson wrapped as untrusted data, and a
polish that adds a number the lesson did not have is thrown away. Any failure
leaves the offline proposal as it was.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from pydantic import BaseModel, Field

from paperdiary.errors import LLMError
from paperdiary.stages.drafting.grounding import numbers_in
from paperdiary.llm.client import LLMClient
from paperdiary.diary.merge import MergeItem, Proposal, placement_texts
from paperdiary.diary.readme import Readme, plain_text
from paperdiary.settings import Settings
from paperdiary.templates import DiaryPrompts, data_marker, md_inline, render

log = logging.getLogger(__name__)

CANDIDATES = 3  # themes the model chooses among
EXAMPLES = 4  # lessons shown per theme, for the voice
_MAX_CHARS = 400


class RerankAnswer(BaseModel):
    theme: str = Field(description="One candidate theme's name exactly, or a short new theme name.")
    lesson: str = Field(description="The lesson in the diary's voice: 1-2 sentences, key phrase in **bold**.")
    reason: str = Field(description="Why this theme, in a few words.")


class LLMReranker:
    """Callable as a merge ``Reranker``: (readme, item, offline proposal) -> proposal to show."""

    def __init__(self, settings: Settings, client: LLMClient):
        self.settings = settings
        self.client = client
        self.prompts = DiaryPrompts.of(settings)

    def __call__(self, readme: Readme, item: MergeItem, proposal: Proposal) -> Proposal:
        if proposal.kind not in ("add", "new_theme"):
            return proposal  # extend and duplicate rest on lesson similarity, which the model cannot improve
        names = [name for name, _ in proposal.alternatives[:CANDIDATES]]
        try:
            answer = self._ask(readme, item, proposal, names)
        except LLMError as exc:
            log.warning("LLM rerank skipped for %r: %s", item.text[:60], exc)
            return proposal
        return self._revise(readme, item, proposal, answer, names)

    def _ask(self, readme: Readme, item: MergeItem, proposal: Proposal, names: list[str]) -> RerankAnswer:
        themes = [{"name": name, "lessons": [plain_text(lesson.body) for lesson in
                                             readme.theme(name).lessons[-EXAMPLES:]]} for name in names]
        nonce = data_marker(item.text)
        offline = (f"a new theme {proposal.new_theme_name!r}" if proposal.kind == "new_theme"
                   else f"add under {proposal.theme!r}")
        messages = [
            {"role": "system", "content": render("rerank_system.j2", self.prompts, nonce=nonce)},
            {"role": "user", "content": render("rerank_user.j2", self.prompts, nonce=nonce, themes=themes,
                                               proposal=offline, lesson=item.text)},
        ]
        return self.client.structured(messages, RerankAnswer, paper=item.source_entry or None,
                                      purpose="rerank").value

    def _revise(self, readme: Readme, item: MergeItem, proposal: Proposal, answer: RerankAnswer,
                names: list[str]) -> Proposal:
        polished = _grounded_polish(item.text, answer.lesson)
        text, _ = placement_texts(replace(item, text=polished), readme.readme_dir)
        note = f" {self.settings.model}: {md_inline(answer.reason)}"
        chosen = " ".join(answer.theme.split())
        matches = readme.find_themes(chosen) if chosen else []
        if len(matches) == 1 and matches[0].name in names:
            theme = matches[0]
            return replace(proposal, kind="add", theme=theme.name, theme_key=theme.key, new_theme_name=None,
                           text=text, reason=proposal.reason + note)
        if chosen and not matches and proposal.kind == "new_theme":
            return replace(proposal, new_theme_name=md_inline(chosen)[:60], text=text, reason=proposal.reason + note)
        return replace(proposal, text=text)  # a theme outside the candidates: keep the offline placement


def _grounded_polish(original: str, polished: str) -> str:
    """The model's wording when it keeps to the lesson (no new numbers, one short paragraph), else the original."""
    polished = " ".join(polished.split())
    if not polished or len(polished) > _MAX_CHARS or "**" not in polished:
        return original
    if not numbers_in(polished) <= numbers_in(original):
        return original
    return md_inline(polished)
