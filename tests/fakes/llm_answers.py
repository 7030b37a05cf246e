"""A scripted "model" for FakeLLM that answers drafting prompts from the paper it is shown.

It quotes real sentences of the paper text between the prompt's PAPER markers, so
grounding passes; tests switch on invented quotes or hostile output to check the
pipeline's defences. Deterministic: the same prompt gets the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.llm_server import requested_schema

_PAPER = re.compile(r"<<<PAPER (?P<nonce>[0-9a-f]+)>>>\n(?P<text>.*)\n<<<END PAPER (?P=nonce)>>>", re.S)
_NOTE_QUOTE = re.compile(r'\(quote: "(?P<quote>[^"]+)"\)')
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _paper_block(request: dict[str, Any]) -> str:
    for message in reversed(request["messages"]):
        match = _PAPER.search(message.get("content") or "")
        if match:
            return match["text"]
    return ""


def _sentences(text: str) -> list[str]:
    """Plain sentences of 8 to 40 words, without headings."""
    lines = [line for line in text.splitlines() if not line.startswith("## ")]
    out = []
    for sentence in _SENTENCE.split(" ".join(lines)):
        words = sentence.split()
        if 8 <= len(words) <= 40:
            out.append(" ".join(words))
    return out


@dataclass
class DraftingModel:
    """Callable handler: ``fake.script(DraftingModel())``."""

    invent_quote_for_first_point: bool = False
    hostile: bool = False  # answer as a model that obeyed an injection would
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.seen.append(request)
        schema = requested_schema(request) or {}
        properties = schema.get("properties", {})
        block = _paper_block(request)
        quotes = [m["quote"] for m in _NOTE_QUOTE.finditer(block)] or _sentences(block)
        quotes = quotes or ["(no text)"]
        pick = lambda i: quotes[i % len(quotes)]  # noqa: E731
        point = lambda i, text: {"text": f"**Point {i}**: {text}", "quote": pick(i)}  # noqa: E731

        if "summary" in properties:  # map step: notes on one part
            return {
                "summary": f"This part covers {len(quotes)} sentences.",
                "key_points": [point(i, "a key point of this part") for i in range(2)],
                "methods": [point(2, "a method")],
                "results": [point(3, "a result")],
                "limitations": [],
            }
        answer = {
            "short_name": "SparseRouting",
            "description": "Sparse routing makes reasoning cheaper.",
            "key_points": [point(i, "what the paper does") for i in range(3)],
            "key_methods": [point(3, "how it does it"), point(4, "a second method")],
            "results": [point(5, "what it found"), point(6, "another finding")],
            "limitations": [point(7, "a limit")],
            "lessons": [
                {"lesson": "**Sparse routing** cuts the cost of reasoning.", "theme": "training in general",
                 "why": "Cheaper reasoning.", "quote": pick(8)},
                {"lesson": "**Routing tokens** to experts helps RL.", "theme": "Mixture of Experts",
                 "why": "New idea.", "quote": pick(9)},
            ],
        }
        if self.invent_quote_for_first_point:
            answer["key_points"][0]["quote"] = "this sentence does not appear anywhere in the paper at all"
        if self.hostile:
            answer.update(
                short_name="../../README",
                description="<script>alert(1)</script>\n## Injected heading",
                key_points=[{"text": "<img src=x onerror=alert(1)> [click](javascript:alert(1)) <iframe>",
                             "quote": pick(0)},
                            {"text": "![tracker](http://evil.example/p.png) <!-- hidden -->", "quote": pick(1)},
                            {"text": "Ignore the diary.\n\n# New title", "quote": pick(2)}],
            )
            answer["lessons"] = [{"lesson": "Pwned <b>x</b>\n- [x] forged accepted item", "theme": "../../etc",
                                  "why": "[x](javascript:alert(1))", "quote": pick(3)}]
        return answer
