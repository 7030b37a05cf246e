"""One-line descriptions written by the model for entries that have no sentence of their own (``entries --llm``).

The catalog's ``llm_describe`` hook. It follows the drafting stage's rules:
structured output through ``LLMClient`` (cached, in the ledger), the entry
fenced off as untrusted data, and an answer that is not one short plain
sentence grounded in the entry (a number the entry does not have, a link) is
thrown away. A failure leaves the entry without a description.
"""

from __future__ import annotations

import logging
import re

from pydantic import BaseModel, Field

from paperdiary.diary.catalog import DescribeRequest
from paperdiary.diary.describe import MAX_DESCRIPTION, inline_text
from paperdiary.errors import LLMError
from paperdiary.llm.client import LLMClient
from paperdiary.settings import Settings
from paperdiary.stages.drafting.grounding import numbers_in
from paperdiary.templates import DiaryPrompts, data_marker, render

log = logging.getLogger(__name__)

MAX_ENTRY_CHARS = 12_000  # of an entry's markdown shown to the model: a description needs its head
MAX_WORDS = 30


class DescribeAnswer(BaseModel):
    description: str = Field(description="One plain sentence of at most 20 words: what the work does or finds.")


class LLMDescriber:
    """Callable as the catalog's ``Describer``: (entry without a description) -> one line, or None."""

    def __init__(self, settings: Settings, client: LLMClient):
        self.prompts = DiaryPrompts.of(settings)
        self.client = client

    def __call__(self, request: DescribeRequest) -> str | None:
        markdown = request.markdown[:MAX_ENTRY_CHARS]
        nonce = data_marker(markdown)
        messages = [
            {"role": "system", "content": render("describe_system.j2", self.prompts, nonce=nonce)},
            {"role": "user", "content": render("describe_user.j2", self.prompts, nonce=nonce,
                                               title=" ".join(request.title.split()), markdown=markdown)},
        ]
        try:
            answer = self.client.structured(messages, DescribeAnswer, paper=request.relpath, purpose="describe").value
        except LLMError as exc:
            log.warning("no description for %s: %s", request.relpath, exc)
            return None
        return grounded_description(answer.description, request.markdown)


def grounded_description(answer: str, markdown: str) -> str | None:
    """The model's sentence as plain text when it keeps to the entry (no new number, no address), else None."""
    if re.search(r"://|\bwww\.", answer, re.I):
        return None
    text = inline_text(answer)  # markup goes: no link targets, tags or emphasis survive
    if (not text or len(text) > MAX_DESCRIPTION or len(text.split()) > MAX_WORDS
            or not numbers_in(text) <= numbers_in(markdown)):
        return None
    return text
