"""The fake OpenAI-compatible server every LLM test talks to, answering like a well-behaved model, and the
client factory on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paperdiary.llm.client import LLMClient
from paperdiary.retry import RetryPolicy
from paperdiary.settings import Settings
from paperdiary.state.store import Store
from tests.fakes.llm_server import FakeLLM
from tests.llm.test_llm import answer_from_prompt, settings_for


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        server.script(answer_from_prompt)
        yield server


@pytest.fixture
def make_client(tmp_path: Path, fake: FakeLLM) -> Iterator[Callable[..., LLMClient]]:
    """LLMClient factory on one diary: several clients share its store, like successive processes;
    keyword arguments are settings."""
    stores: list[Store] = []

    def make(settings: Settings | None = None, **overrides: object) -> LLMClient:
        settings = settings or settings_for(tmp_path, fake, **overrides)
        store = Store(settings.db_path)
        stores.append(store)
        # Short back-off, so that the random waits never overrun retry_max_time (none is slept: conftest).
        return LLMClient(settings, store, retry=RetryPolicy.for_settings(settings, backoff=0.05))

    yield make
    for store in stores:
        store.close()
