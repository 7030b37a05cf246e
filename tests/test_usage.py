"""LLM usage arithmetic: calls counted in, usages summed, an unknown price stays unknown; its JSON form."""

from __future__ import annotations

from paperdiary.models import LLMUsage


def test_calls_add_up_and_an_unknown_cost_stays_unknown() -> None:
    usage = LLMUsage()
    usage.add(100, 20, 0.5, cached=False, estimated=False)
    usage.add(0, 0, 0.0, cached=True, estimated=True)
    assert usage == LLMUsage(calls=2, cached_calls=1, prompt_tokens=100, completion_tokens=20, cost_usd=0.5,
                             estimated=True)
    usage.add(10, 1, None, cached=False, estimated=False)  # a model without a known price
    assert usage.calls == 3 and usage.cost_usd is None
    usage.add(10, 1, 0.25, cached=False, estimated=False)
    assert usage.cost_usd is None


def test_usages_sum_without_changing_their_parts() -> None:
    first = LLMUsage(calls=1, prompt_tokens=10, completion_tokens=5, cost_usd=0.1)
    second = LLMUsage(calls=2, cached_calls=1, prompt_tokens=1, completion_tokens=2, cost_usd=0.2, estimated=True)
    total = sum([first, second], LLMUsage())
    assert (total.calls, total.cached_calls, total.prompt_tokens, total.completion_tokens, total.estimated) == \
        (3, 1, 11, 7, True)
    assert abs(total.cost_usd - 0.3) < 1e-12
    assert first == LLMUsage(calls=1, prompt_tokens=10, completion_tokens=5, cost_usd=0.1)  # untouched
    assert (first + LLMUsage(cost_usd=None)).cost_usd is None


def test_json_form() -> None:
    assert LLMUsage(calls=2, cached_calls=1, prompt_tokens=3, completion_tokens=4, cost_usd=None,
                    estimated=True).as_json() == {
        "calls": 2, "cached_calls": 1, "prompt_tokens": 3, "completion_tokens": 4, "tokens_estimated": True,
        "cost_usd": None}
