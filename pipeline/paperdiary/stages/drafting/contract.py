"""The drafting contract: what a drafter is (``Drafter``); what it returns is ``paperdiary.models.Draft``."""

from __future__ import annotations

from typing import Protocol

from paperdiary.models import Chunk, Draft, ExtractedPaper, PaperMeta


class Drafter(Protocol):
    """Turns an extracted paper into a draft: the offline drafter, the LLM one, or a test's own."""

    def draft(self, meta: PaperMeta, paper: ExtractedPaper, chunks: list[Chunk]) -> Draft: ...
