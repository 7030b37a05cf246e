"""Streamed answers: the timeout is the wait for the next piece, progress is heard, a stall or a drop is retried.

LLMClient through the real openai client against the LLM server on 127.0.0.1, sending tokens slowly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperdiary.llm.client import LLMClient
from paperdiary.retry import RetryPolicy
from paperdiary.settings import load_settings
from paperdiary.state.store import Store
from tests.fakes.llm_server import FakeLLM, Reply
from tests.llm.test_llm import MESSAGES, Note

LLM_TIMEOUT = 0.5


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / ".paperdiary" / "paperdiary.db") as opened:
        yield opened


def client_for(tmp_path: Path, fake: FakeLLM, store: Store, **kwargs) -> LLMClient:
    settings = load_settings(tmp_path, overrides={"model": "fake-model", "base_url": fake.base_url,
                                                  "llm_timeout": LLM_TIMEOUT, "retry_max_time": 20}, env={})
    return LLMClient(settings, store, retry=RetryPolicy.for_settings(settings, backoff=0.05), **kwargs)


def test_a_slow_stream_longer_than_the_timeout_succeeds_and_is_heard(tmp_path: Path, fake: FakeLLM, store) -> None:
    fake.stream_piece_chars = 3
    fake.stream_interval = 0.1  # gaps well below llm_timeout...
    counts: list[int] = []
    lock = threading.Lock()

    def heard(count: int) -> None:
        with lock:
            counts.append(count)

    result = client_for(tmp_path, fake, store, on_tokens=heard).structured(MESSAGES, Note)

    [request] = fake.completion_requests
    assert len(counts) * fake.stream_interval > 3 * LLM_TIMEOUT  # ...the whole answer well past it
    assert result.value.title == "About paper A" and not result.usage.estimated  # usage from the last chunk
    assert request.json["stream"] is True and request.json["stream_options"] == {"include_usage": True}
    assert len(counts) > 10 and counts == sorted(counts) and counts[-1] == len(counts)


def test_a_stream_that_stalls_is_retried_and_the_retry_succeeds(tmp_path: Path, fake: FakeLLM, store) -> None:
    fake.inject("stall", after=3, seconds=10)  # three pieces, then nothing for far longer than llm_timeout
    result = client_for(tmp_path, fake, store).structured(MESSAGES, Note)
    # Two requests: the stall was given up on after llm_timeout, not waited out (one request would have done).
    assert result.value.title == "About paper A" and len(fake.completion_requests) == 2


def test_a_stream_dropped_mid_way_is_retried(tmp_path: Path, fake: FakeLLM, store) -> None:
    fake.inject("drop", after=2)
    result = client_for(tmp_path, fake, store).structured(MESSAGES, Note)
    assert result.value.title == "About paper A" and len(fake.completion_requests) == 2
    [row] = [r for r in store.llm_calls() if r["status"] == "ok"]
    assert row["completion_tokens"] > 0  # the ledger counts the answer that arrived whole


def test_without_a_usage_chunk_usage_is_estimated_and_cached_answers_do_not_stream(tmp_path: Path, fake: FakeLLM,
                                                                                    store) -> None:
    fake.queue_reply({"title": "About paper A", "points": ["one"], "score": 1}, usage=None)
    client = client_for(tmp_path, fake, store)
    first = client.structured(MESSAGES, Note)
    again = client.structured(MESSAGES, Note)
    assert first.usage.estimated and first.usage.completion_tokens > 0
    assert again.cached and len(fake.completion_requests) == 1


def test_a_refusal_streamed_is_a_refusal(tmp_path: Path, fake: FakeLLM, store) -> None:
    from paperdiary.errors import LLMRefusalError

    fake.queue_reply(Reply(refusal="I cannot help with that.").content, refusal="I cannot help with that.")
    with pytest.raises(LLMRefusalError, match="refused: I cannot help with that"):
        client_for(tmp_path, fake, store).structured(MESSAGES, Note)
