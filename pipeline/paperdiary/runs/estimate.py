"""What drafting a paper is expected to take, in tokens and dollars, before its LLM work starts.

Catch-up plans with it (``--dry-run``: from a cached PDF's page count, else an
average paper) and budgets with it (``--max-cost``: from the paper's chunks).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from paperdiary.llm.costs import estimate_cost
from paperdiary.models import Chunk
from paperdiary.settings import Settings

# Token counts of what is not the paper itself, from the prompts in prompts/ and the
# answers the drafter asks for; rough on purpose (a model's tokenizer differs anyway).
PROMPT_OVERHEAD_TOKENS = 1500  # system prompt, instructions, title and abstract, schema: per call
ANSWER_TOKENS = 1200  # one entry (key points, methods, results, limitations, lessons, with quotes)
NOTE_TOKENS = 600  # one map step's notes on a part of a long paper
# Without the paper's text: body tokens per PDF page and per paper, measured over arXiv ML papers
# (references and appendices are not drafted from, hence well below a full page of text).
TOKENS_PER_PAGE = 450
AVERAGE_PAPER_TOKENS = 9000


@dataclass(frozen=True)
class Estimate:
    """Tokens and cost a paper's drafting is expected to take, and what the figure rests on."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None: the model's price is unknown
    basis: str = "offline"  # "chunks", "pages", "average", "saved draft", "offline"


def estimate_drafting(settings: Settings, body_tokens: int, parts: int, *, batch: bool, basis: str) -> Estimate:
    """The LLM work of drafting a body of ``body_tokens`` in ``parts`` chunks (1: one call; more: map-reduce)."""
    if not settings.llm_configured:
        return Estimate()
    if parts <= 1:
        prompt, completion = body_tokens + PROMPT_OVERHEAD_TOKENS, ANSWER_TOKENS
    else:  # a call per part, then one reduce over their notes
        prompt = body_tokens + parts * PROMPT_OVERHEAD_TOKENS + parts * NOTE_TOKENS + PROMPT_OVERHEAD_TOKENS
        completion = parts * NOTE_TOKENS + ANSWER_TOKENS
    cost = estimate_cost(settings.model, prompt, completion, settings, batch=batch)
    return Estimate(prompt, completion, cost, basis)


def estimate_for_chunks(settings: Settings, chunks: list[Chunk], *, batch: bool) -> Estimate:
    return estimate_drafting(settings, sum(c.tokens for c in chunks), len(chunks), batch=batch, basis="chunks")


def estimate_without_text(settings: Settings, pages: int | None, *, batch: bool) -> Estimate:
    """From a page count (a cached PDF), else an average paper."""
    tokens = pages * TOKENS_PER_PAGE if pages else AVERAGE_PAPER_TOKENS
    parts = max(1, math.ceil(tokens / max(1, settings.chunk_tokens)))
    return estimate_drafting(settings, tokens, parts, batch=batch, basis="pages" if pages else "average")


def sum_estimates(estimates: Iterable[Estimate]) -> Estimate:
    """The total of several estimates (cost unknown if any is)."""
    prompt = completion = 0
    cost: float | None = 0.0
    for estimate in estimates:
        prompt += estimate.prompt_tokens
        completion += estimate.completion_tokens
        cost = None if cost is None or estimate.cost_usd is None else cost + estimate.cost_usd
    return Estimate(prompt, completion, cost, "total")
