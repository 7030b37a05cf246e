"""The fake OpenAI-compatible server every LLM test talks to, answering like a well-behaved model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLM
from tests.llm.test_llm import answer_from_prompt


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        server.script(answer_from_prompt)
        yield server
