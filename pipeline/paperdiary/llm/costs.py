"""What LLM calls cost: a price table, per-call estimates and ledger summaries.

Prices are USD per million tokens, ``(input, output)``, at the standard (not
Batch, not cached-input) tier as published by the providers in 2025. They are
estimates: check your provider's bill. A diary can add or correct prices in
``paperdiary.toml``::

    [prices."my-model"]
    input = 0.5
    output = 1.5

Models served from this machine or the local network (``localhost``,
``127.0.0.1``, private addresses) cost nothing, unless ``[prices]`` names them;
that is how to price a local proxy (LiteLLM and the like) that forwards to a
paid API. The Batch API costs half the standard price.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from paperdiary.settings import Settings
from paperdiary.state.store import Store

PRICES: dict[str, tuple[float, float]] = {
    # OpenAI
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o1": (15.00, 60.00),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    # Anthropic, as OpenRouter names them ("anthropic/claude-sonnet-4"; the provider prefix is ignored)
    "claude-opus-4": (15.00, 75.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3.7-sonnet": (3.00, 15.00),
    "claude-3.5-haiku": (0.80, 4.00),
}
BATCH_DISCOUNT = 0.5  # the Batch API bills half the standard price

# A dated snapshot or alias of a priced model ("gpt-4o-2024-08-06", "gpt-4o-mini-latest").
# Anything else is unknown rather than guessed: "o3-pro" is not priced like "o3".
_SNAPSHOT_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4}|latest)$")
_LOCAL_HOSTS = {"localhost", "host.docker.internal"}

SummaryKey = Literal["day", "model", "paper"]


def is_local_endpoint(base_url: str) -> bool:
    """True for servers on this machine or a private network, whose tokens cost nothing."""
    if not base_url:
        return False  # the default endpoint is OpenAI's
    host = (urlsplit(base_url if "//" in base_url else f"//{base_url}").hostname or "").lower()
    if host in _LOCAL_HOSTS or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


def price_for(model: str, settings: Settings) -> tuple[float, float] | None:
    """USD per million (input, output) tokens for ``model``, or None when unknown.

    ``settings.prices`` wins (exact name, then without a ``provider/`` prefix);
    then models on a local endpoint are free; then the built-in table, by exact
    name or dated snapshot.
    """
    bare = model.rsplit("/", 1)[-1]
    for name in (model, bare):
        override = settings.prices.get(name)
        if override is not None:
            # A half-specified override takes the other half from the table (or 0).
            table = _table_price(bare) or (0.0, 0.0)
            return override.get("input", table[0]), override.get("output", table[1])
    if is_local_endpoint(settings.base_url):
        return 0.0, 0.0
    return _table_price(bare)


def _table_price(model: str) -> tuple[float, float] | None:
    name = model.lower()
    if name in PRICES:
        return PRICES[name]
    base = _SNAPSHOT_SUFFIX.sub("", name)
    return PRICES.get(base) if base != name else None


def estimate_cost(
    model: str, prompt_tokens: int, completion_tokens: int, settings: Settings, *, batch: bool = False
) -> float | None:
    """USD for one call, or None when the model's price is unknown. ``batch``: Batch API, half price."""
    price = price_for(model, settings)
    if price is None:
        return None
    cost = (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000
    return cost * BATCH_DISCOUNT if batch else cost


@dataclass
class CostRow:
    """One line of ``paperdiary costs``: the ledger grouped by day, model or paper."""

    key: str  # the day (YYYY-MM-DD, UTC), the model or the paper (for calls outside a paper, what made them)
    calls: int = 0  # every structured() call, cache hits included
    cached_calls: int = 0
    failed_calls: int = 0  # calls that spent tokens but gave no valid answer
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0  # sum of the known costs
    unpriced_calls: int = 0  # calls whose model has no known price: cost_usd leaves them out
    estimated: bool = False  # some token counts are estimates (the server sent no usage)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# Calls about no paper, by purpose: named for what made them, in brackets so no paper is taken for them.
_NOT_A_PAPER = {"probe": "(doctor probe)", "window probe": "(window probe)", "rerank": "(review --llm)"}


def _outside_a_paper(call: dict[str, Any]) -> str:
    return _NOT_A_PAPER.get(str(call.get("purpose")), "(no paper)")


def summarise(store: Store, by: SummaryKey = "day") -> list[CostRow]:
    """The LLM ledger grouped ``by`` day, model or paper, sorted by that key."""
    return summarise_calls(store.llm_calls(), by)


def summarise_calls(calls: Iterable[dict[str, Any]], by: SummaryKey = "day") -> list[CostRow]:
    """Group ledger rows (``Store.llm_calls()``); separate from ``summarise`` so reports can filter first."""
    if by not in ("day", "model", "paper"):
        raise ValueError(f"cannot summarise costs by {by!r}: use 'day', 'model' or 'paper'")
    rows: dict[str, CostRow] = {}
    for call in calls:
        key = str(call["created_at"])[:10] if by == "day" else str(call[by] or _outside_a_paper(call))
        row = rows.setdefault(key, CostRow(key))
        row.calls += 1
        row.cached_calls += bool(call["cached"])
        row.failed_calls += call["status"] == "failed"
        row.prompt_tokens += int(call["prompt_tokens"])
        row.completion_tokens += int(call["completion_tokens"])
        row.estimated |= bool(call["tokens_estimated"])
        if call["cost_usd"] is None:
            row.unpriced_calls += 1
        else:
            row.cost_usd += float(call["cost_usd"])
    return [rows[key] for key in sorted(rows)]
