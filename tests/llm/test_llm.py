"""LLMClient against a real OpenAI-compatible HTTP server on 127.0.0.1, through the real openai client."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest
from pydantic import BaseModel, Field

from paperdiary import retry as retry_module
from paperdiary.llm.costs import estimate_cost, is_local_endpoint, summarise
from paperdiary.llm.tokens import count_tokens
from paperdiary.errors import (
    LLMAuthError,
    LLMContextLengthError,
    LLMModelNotFoundError,
    LLMOutputError,
    LLMQuotaError,
    LLMRateLimitError,
    LLMRefusalError,
    LLMUnavailableError,
)
from paperdiary.llm.client import LLMClient, close_truncated_json, extract_json, strict_json_schema
from paperdiary.redact import redact
from paperdiary.retry import RetryPolicy
from paperdiary.settings import Settings, load_settings
from paperdiary.state.store import Store
from tests.fakes.llm_server import FakeLLM, Reply

KEY = "sk-test-SECRET123"


class Point(BaseModel):
    text: str
    quote: str | None = Field(default=None, description="Verbatim support.")


class Note(BaseModel):
    title: str
    points: list[str]
    score: int | None = None


def answer_from_prompt(request: dict) -> dict:
    """A well-behaved model: a Note about the first user message (repairs follow it)."""
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    return {"title": f"About {user}", "points": ["one", "two"], "score": 3}


MESSAGES = [{"role": "system", "content": "You take notes."}, {"role": "user", "content": "paper A"}]


def settings_for(tmp_path: Path, fake: FakeLLM, **overrides: object) -> Settings:
    values = {"model": "fake-model", "base_url": fake.base_url, "api_key": KEY, "llm_timeout": 1,
              "retry_max_time": 10, **overrides}
    return load_settings(tmp_path, overrides=values, env={})


# -- structured-output ladder ---------------------------------------------------------------


def test_json_schema_happy_path(fake: FakeLLM, make_client) -> None:
    client = make_client()
    result = client.structured(MESSAGES, Note, paper="2506.01939", purpose="draft")

    assert result.value == Note(title="About paper A", points=["one", "two"], score=3)
    assert (result.mode, result.cached, result.usage.estimated) == ("json_schema", False, False)
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    [request] = fake.completion_requests
    response_format = request.json["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["title", "points", "score"]
    assert request.json["messages"] == MESSAGES
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    [row] = client.store.llm_calls()
    assert (row["paper"], row["purpose"], row["status"], row["mode"]) == ("2506.01939", "draft", "ok", "json_schema")
    assert row["id"] == result.call_id


def test_json_schema_rejected_like_llama_cpp_python_falls_back_to_json_object(fake: FakeLLM, make_client) -> None:
    fake.accepts = {"json_object", "text"}
    fake.json_schema_rejection = "llama-cpp-python"  # HTTP 500, which must not be retried as transient
    result = make_client().structured(MESSAGES, Note)

    assert result.mode == "json_object"
    first, second = fake.completion_requests
    assert first.json["response_format"]["type"] == "json_schema"
    assert second.json["response_format"]["type"] == "json_object"
    system = second.json["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You take notes.")
    assert '"additionalProperties":false' in system["content"]  # the schema travels in the prompt
    assert len(second.json["messages"]) == 2  # merged into the one system message


def test_json_object_rejected_like_lm_studio_falls_back_to_text(fake: FakeLLM, make_client) -> None:
    fake.accepts = {"text"}
    fake.script(lambda request: "Sure! Here it is:\n```json\n" + json.dumps(answer_from_prompt(request)) + "\n```")
    result = make_client().structured(MESSAGES, Note)

    assert result.mode == "text"
    assert result.value.title == "About paper A"
    kinds = [r.json.get("response_format", {}).get("type") for r in fake.completion_requests]
    assert kinds == ["json_schema", "json_object", None]


def test_working_mode_is_remembered_in_the_store(fake: FakeLLM, make_client) -> None:
    fake.accepts = {"text"}
    make_client().structured(MESSAGES, Note)
    assert len(fake.completion_requests) == 3

    fake.clear_requests()
    make_client().structured([{"role": "user", "content": "paper B"}], Note)  # a later process
    [request] = fake.completion_requests
    assert "response_format" not in request.json


def test_rejected_schema_falls_back_without_being_remembered(fake: FakeLLM, make_client) -> None:
    # OpenAI's answer to a schema it cannot take: this schema's problem, not the mode's.
    fake.inject("status", code=400, message="Invalid schema for response_format 'Note': 'format' is not permitted.")
    client = make_client()
    assert client.structured(MESSAGES, Note).mode == "json_object"
    assert client.store.llm_mode(client.endpoint, "fake-model") is None


def test_probe_mode_and_list_models(fake: FakeLLM, make_client) -> None:
    fake.models = ["fake-model", "another-model"]
    fake.accepts = {"json_object", "text"}
    client = make_client()
    assert client.list_models() == ["another-model", "fake-model"]
    assert client.probe_mode() == "json_object"
    assert client.store.llm_mode(client.endpoint, "fake-model") == "json_object"


# -- repairs ----------------------------------------------------------------------------------


def test_truncated_json_is_closed_locally(fake: FakeLLM, make_client) -> None:
    fake.queue_reply('{"title": "Cut", "points": ["one", "tw', finish_reason="length")
    result = make_client().structured(MESSAGES, Note)

    assert result.value == Note(title="Cut", points=["one", "tw"])
    assert len(fake.completion_requests) == 1


def test_truncation_that_cannot_be_closed_is_asked_again(fake: FakeLLM, make_client) -> None:
    fake.inject("truncate", keep=8)  # '{"title"': nothing valid to close
    result = make_client().structured(MESSAGES, Note, max_tokens=50)

    assert result.value.title == "About paper A"
    _, repair = fake.completion_requests
    assert "cut off" in repair.json["messages"][-1]["content"]


class Notes(BaseModel):
    title: str
    points: list[str]
    caveats: list[str]


def test_an_answer_cut_off_in_a_loop_is_salvaged_without_asking_again(fake: FakeLLM, make_client) -> None:
    # A small model repeats one point until max_tokens: it never reaches "caveats", and the last item is cut.
    fake.queue_reply('{"title": "Loop", "points": ["same", "same", "same", "sa', finish_reason="length")  # 64 used
    result = make_client().structured(MESSAGES, Notes, max_tokens=64)

    assert result.value.title == "Loop" and result.value.caveats == []
    assert result.value.points[:3] == ["same", "same", "same"]
    assert len(fake.completion_requests) == 1  # no repair, no colder retry


def test_a_cut_off_answer_missing_a_string_is_not_salvaged(fake: FakeLLM, make_client) -> None:
    fake.queue_reply('{"points": ["a", "b', finish_reason="length")  # no title: nothing may stand in for it
    fake.queue_reply({"title": "Repaired", "points": ["a"], "caveats": []})
    result = make_client().structured(MESSAGES, Notes, max_tokens=64)

    assert result.value.title == "Repaired"
    assert len(fake.completion_requests) == 2


def test_an_answer_cut_off_at_the_windows_end_is_a_context_error_that_teaches_the_window(
        fake: FakeLLM, make_client) -> None:
    # No max_tokens sent and cut off all the same: the window ran out (llama-cpp-python's way), and it says
    # neither its window nor, in a stream, the usage.
    fake.queue_reply('{"title": "Cut", "points": ["a", "b', finish_reason="length", usage=None)
    client = make_client()
    with pytest.raises(LLMContextLengthError, match="cut off at the end of the context window") as info:
        client.structured(MESSAGES, Notes)

    assert len(fake.completion_requests) == 1  # neither a repair (longer still) nor a retry
    window = client.context_window()
    assert window.tokens == info.value.max_tokens and 0 < window.tokens < 100
    assert window.assumed and "cut-off answer" in window.source
    assert make_client(context_tokens=4096).context_window().tokens == 4096  # a setting overrides the guess


def test_an_answer_cut_off_at_max_tokens_is_no_context_error(fake: FakeLLM, make_client) -> None:
    # The server reports usage: 64 completion tokens of the 64 asked is max_tokens, not the window.
    fake.queue_reply('{"title": "Cut", "points": ["a", "b', finish_reason="length")  # usage: 64 completion tokens
    result = make_client().structured(MESSAGES, Notes, max_tokens=64)
    assert result.value.points == ["a", "b"] and result.value.caveats == []
    assert result.usage.completion_tokens == 64 and len(fake.completion_requests) == 1

    # Fewer tokens than max_tokens, and cut off: the window ended first.
    fake.queue_reply('{"title": "Cut", "points": ["a", "b', finish_reason="length",
                     usage={"prompt_tokens": 8000, "completion_tokens": 192, "total_tokens": 8192})
    client = make_client()
    with pytest.raises(LLMContextLengthError) as info:
        client.structured(MESSAGES[:1] + [{"role": "user", "content": "paper B"}], Notes, max_tokens=1024)
    assert info.value.max_tokens == 8192 == client.context_window().tokens


@pytest.mark.parametrize("wrap", [lambda text: text, lambda text: f"```json\n{text}\n```",
                                  lambda text: f"Here you go:\n```json\n{text}\n```\nAnything else?"])
def test_an_answer_whose_strings_hold_code_fences_parses_in_text_mode(fake: FakeLLM, make_client, wrap) -> None:
    fake.accepts = {"text"}
    note = {"title": "Reset with ```python\nstate = {}\n``` first", "points": ["```json\n{}\n```", "two"],
            "score": 1}
    fake.script(lambda request: wrap(json.dumps(note)))
    result = make_client().structured(MESSAGES, Note)
    assert result.mode == "text" and result.value == Note(**note)
    assert len(fake.completion_requests) == 3  # json_schema and json_object refused, then text: no repair asked


def test_malformed_answer_is_repaired_by_one_follow_up(fake: FakeLLM, make_client) -> None:
    fake.inject("malformed", content="The title is x and the points are many.")
    result = make_client().structured(MESSAGES, Note)

    assert result.value.title == "About paper A"
    _, repair = fake.completion_requests
    assistant, user = repair.json["messages"][-2:]
    assert assistant == {"role": "assistant", "content": "The title is x and the points are many."}
    assert "not valid JSON" in user["content"]
    assert result.usage.prompt_tokens > 0  # both requests counted


@pytest.mark.parametrize(("answer", "expected"), [
    ("{'title': 'x', points: ['a', 'b',], score: None}", Note(title="x", points=["a", "b"])),  # Python-ish
    ('Here: {"title": "the so-called "best" one" "points": ["a"] // done', Note(title='the so-called "best" one',
                                                                                points=["a"])),
    ('{"Title": "x", "Points": "only one", "score": "3"}', Note(title="x", points=["only one"], score=3)),
])
def test_a_broken_answer_is_mended_locally_without_asking_again(fake: FakeLLM, make_client, answer: str,
                                                                 expected: Note) -> None:
    fake.queue_reply(answer)
    assert make_client().structured(MESSAGES, Note).value == expected
    assert len(fake.completion_requests) == 1


def test_answer_off_schema_is_repaired_with_the_validation_error(fake: FakeLLM, make_client) -> None:
    fake.queue_reply({"title": "no points"})
    make_client().structured(MESSAGES, Note)

    repair = fake.completion_requests[1].json["messages"][-1]["content"]
    assert "points: Field required" in repair


def test_a_third_try_at_temperature_zero_can_save_the_answer(fake: FakeLLM, make_client) -> None:
    fake.queue_reply("I cannot format that.")
    fake.queue_reply("Still no JSON, sorry.")
    result = make_client().structured(MESSAGES, Note)

    assert result.value.title == "About paper A"
    first, repair, colder = fake.completion_requests
    assert "temperature" not in first.json and "temperature" not in repair.json
    assert colder.json["temperature"] == 0 and colder.json["messages"] == first.json["messages"]  # afresh


def test_no_valid_answer_after_the_retries_says_the_model_could_not_produce_it(fake: FakeLLM, make_client) -> None:
    for _ in range(3):
        fake.queue_reply("Sure! The paper is about attention.")
    client = make_client()
    with pytest.raises(LLMOutputError, match="could not produce the structure asked for .valid Note JSON., even "
                                             "after one repair and a retry at temperature 0") as info:
        client.structured(MESSAGES, Note)

    assert "fake-model" in str(info.value) and fake.base_url in str(info.value)
    assert "larger" in (info.value.hint or "")
    assert len(fake.completion_requests) == 3
    [row] = [call for call in client.store.llm_calls() if call["purpose"] != "window probe"]
    assert row["status"] == "failed" and row["prompt_tokens"] > 0  # the spent tokens are in the ledger


def test_refusal_raises_refusal_error(fake: FakeLLM, make_client) -> None:
    fake.queue_reply(None, refusal="I can't help with that.")
    with pytest.raises(LLMRefusalError, match="refused: I can't help with that"):
        make_client().structured(MESSAGES, Note)
    assert len(fake.completion_requests) == 1


# -- retries ------------------------------------------------------------------------------------


def test_rate_limit_waits_as_long_as_retry_after(fake: FakeLLM, make_client, retry_sleeps: list[float]) -> None:
    fake.inject("rate_limit", retry_after=7)
    result = make_client().structured(MESSAGES, Note)

    assert result.value.title == "About paper A"
    assert len(fake.completion_requests) == 2
    assert retry_sleeps[0] == 7.0  # the wait asked for (not slept: tests never wait)


def test_rate_limit_slows_every_worker_of_the_endpoint(fake: FakeLLM, tmp_path: Path) -> None:
    fake.inject("rate_limit", retry_after=5)
    slept: dict[str, list[float]] = {"a": [], "b": []}
    clients = {}
    for name in slept:
        settings = settings_for(tmp_path, fake)
        clients[name] = LLMClient(settings, Store(settings.db_path),
                                  retry=RetryPolicy.for_settings(settings, sleep=slept[name].append))
    clients["a"].structured(MESSAGES, Note)  # met the 429, waited 5 s, and held the endpoint's gate for 5 s
    clients["b"].structured([{"role": "user", "content": "paper B"}], Note)  # never saw a 429 itself...

    assert slept["a"] == [5.0]  # its own back-off only: it does not wait at the gate it held a second time
    assert len(slept["b"]) == 1 and 4.0 < slept["b"][0] <= 5.0  # ...but waited at the gate all the same
    for client in clients.values():
        client.store.close()


def test_5xx_burst_is_retried(fake: FakeLLM, make_client) -> None:
    for _ in range(3):
        fake.inject("status", code=503)
    assert make_client().structured(MESSAGES, Note).value.title == "About paper A"
    assert len(fake.completion_requests) == 4


def test_5xx_until_the_budget_runs_out_is_unavailable(fake: FakeLLM, make_client) -> None:
    for _ in range(6):
        fake.inject("status", code=502)
    with pytest.raises(LLMUnavailableError, match=r"kept failing for model 'fake-model': HTTP 502 after 6 tries"):
        make_client().structured(MESSAGES, Note)
    assert len(fake.completion_requests) == 6


def test_retry_after_beyond_the_budget_fails_at_once(fake: FakeLLM, make_client) -> None:
    fake.inject("rate_limit", retry_after=30)  # retry_max_time is 10 s: waiting cannot succeed
    with pytest.raises(LLMRateLimitError, match="still rate-limits model 'fake-model' after 1 try"):
        make_client().structured(MESSAGES, Note)
    assert len(fake.completion_requests) == 1


def test_concurrent_calls_share_one_client(fake: FakeLLM, make_client) -> None:
    fake.simulated_latency = 0.1
    client = make_client()
    papers = [f"paper {i}" for i in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda p: client.structured([{"role": "user", "content": p}], Note, paper=p), papers))

    assert [r.value.title for r in results] == [f"About {p}" for p in papers]
    assert len({r.call_id for r in results}) == 12
    assert sorted(row["paper"] for row in client.store.llm_calls()) == sorted(papers)


def test_hang_times_out_and_is_retried(fake: FakeLLM, make_client) -> None:
    fake.inject("hang", seconds=5)  # llm_timeout is 1 s
    assert make_client().structured(MESSAGES, Note).value.title == "About paper A"
    assert len(fake.completion_requests) == 2


def test_unreachable_endpoint_says_what_to_check(tmp_path: Path, make_client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    client = make_client(settings=load_settings(tmp_path, overrides={
        "model": "fake-model", "base_url": f"http://127.0.0.1:{port}/v1", "retry_max_time": 1}, env={}))
    with pytest.raises(LLMUnavailableError, match=rf"LLM endpoint http://127.0.0.1:{port}/v1 unreachable.*"
                                                  r"check OPENAI_BASE_URL / that the server is running"):
        client.structured(MESSAGES, Note)


def test_insufficient_quota_fails_at_once(fake: FakeLLM, make_client) -> None:
    fake.inject("insufficient_quota")
    with pytest.raises(LLMQuotaError, match="no credit left for model 'fake-model'"):
        make_client().structured(MESSAGES, Note)
    assert len(fake.completion_requests) == 1


# -- errors that retrying cannot fix ---------------------------------------------------------------


def test_wrong_key_fails_clearly_and_the_key_leaks_nowhere(
    fake: FakeLLM, make_client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.api_key = "sk-the-right-key-0000"  # the fake quotes the wrong key, masked, as OpenAI does
    client = make_client()
    with pytest.raises(LLMAuthError) as info:
        client.structured(MESSAGES, Note)

    message = str(info.value)
    assert fake.base_url in message and "'fake-model'" in message and "401" in message
    assert len(fake.completion_requests) == 1
    client.store.close()
    state = b"".join(p.read_bytes() for p in (tmp_path / ".paperdiary").iterdir() if p.is_file())
    for secret in (KEY, "SECRET123"):
        assert secret not in message and secret not in repr(info.value)
        assert secret not in caplog.text
        assert secret.encode() not in state
        assert secret not in repr(client) and secret not in repr(client.settings)


def test_unknown_model_fails_clearly(fake: FakeLLM, make_client) -> None:
    with pytest.raises(LLMModelNotFoundError, match=r"has no model 'nope' \(HTTP 404"):
        make_client(model="nope").structured(MESSAGES, Note)
    assert len(fake.completion_requests) == 1


def test_context_length_error_carries_the_window(fake: FakeLLM, make_client) -> None:
    fake.inject("context_length", max_tokens=4096)
    with pytest.raises(LLMContextLengthError) as info:
        make_client().structured(MESSAGES, Note)
    assert info.value.max_tokens == 4096
    assert len(fake.completion_requests) == 1

    fake.max_context_tokens = 50  # the server enforces its window by itself too
    with pytest.raises(LLMContextLengthError, match="context window of 50 tokens") as info:
        make_client().structured([{"role": "user", "content": "word " * 400}], Note)
    assert info.value.max_tokens == 50


# -- cache, usage, costs --------------------------------------------------------------------------


def test_same_request_is_answered_from_the_cache(fake: FakeLLM, make_client) -> None:
    client = make_client()
    first = client.structured(MESSAGES, Note, paper="2506.01939")
    again = client.structured(MESSAGES, Note, paper="2506.01939")
    later_process = make_client().structured(MESSAGES, Note)

    assert len(fake.completion_requests) == 1
    assert again.value == first.value == later_process.value
    assert (again.cached, again.cost_usd, again.usage.total_tokens) == (True, 0.0, 0)
    rows = client.store.llm_calls()
    assert [r["status"] for r in rows] == ["ok", "cached", "cached"]
    # A different schema is a different request.
    fake.script(lambda request: {"text": "a point", "quote": None})
    client.structured(MESSAGES, Point)
    assert len(fake.completion_requests) == 2


def test_missing_usage_is_estimated(fake: FakeLLM, make_client) -> None:
    content = json.dumps({"title": "T", "points": ["a"]})
    fake.queue_reply(content, usage=None)
    result = make_client().structured(MESSAGES, Note)

    assert result.usage.estimated is True
    assert result.usage.completion_tokens == count_tokens(content)
    assert result.usage.prompt_tokens > count_tokens("You take notes.paper A")
    assert make_client().store.llm_calls()[0]["tokens_estimated"] == 1


def test_cost_from_settings_prices(fake: FakeLLM, make_client, tmp_path: Path) -> None:
    settings = dataclasses.replace(settings_for(tmp_path, fake), prices={"fake-model": {"input": 2.0, "output": 8.0}})
    client = make_client(settings=settings)
    result = client.structured(MESSAGES, Note, paper="2506.01939")

    expected = (result.usage.prompt_tokens * 2.0 + result.usage.completion_tokens * 8.0) / 1e6
    assert result.cost_usd == pytest.approx(expected)
    [row] = summarise(client.store, by="paper")
    assert (row.key, row.calls, row.cost_usd) == ("2506.01939", 1, pytest.approx(expected))


def test_cost_from_the_price_table(tmp_path: Path) -> None:
    remote = load_settings(tmp_path, overrides={"base_url": "https://api.openai.com/v1"}, env={})
    assert estimate_cost("gpt-4o", 1_000_000, 1_000_000, remote) == pytest.approx(12.5)
    assert estimate_cost("gpt-4o-2024-08-06", 1_000_000, 0, remote) == pytest.approx(2.5)
    assert estimate_cost("gpt-4o-mini", 1_000_000, 0, remote) == pytest.approx(0.15)
    assert estimate_cost("anthropic/claude-sonnet-4", 0, 1_000_000, remote) == pytest.approx(15.0)
    assert estimate_cost("gpt-4.1-mini", 1_000_000, 1_000_000, remote, batch=True) == pytest.approx(1.0)
    assert estimate_cost("o3-pro", 1000, 1000, remote) is None  # unknown, not priced like o3
    assert estimate_cost("mystery-model", 1000, 1000, remote) is None
    local = load_settings(tmp_path, overrides={"base_url": "http://192.168.1.20:8080/v1"}, env={})
    assert estimate_cost("gpt-4o", 1000, 1000, local) == 0.0
    assert is_local_endpoint("http://localhost:11434/v1") and not is_local_endpoint("")


def test_unknown_price_leaves_cost_unknown(fake: FakeLLM, make_client) -> None:
    result = make_client(base_url=fake.base_url.replace("127.0.0.1", "localhost")).structured(MESSAGES, Note)
    assert result.cost_usd == 0.0  # local servers are free
    [row] = summarise(make_client().store, by="model")
    assert (row.key, row.unpriced_calls) == ("fake-model", 0)


# -- batch API (for catch-up), through the openai client ---------------------------------------------


def test_batch_api_round_trip(fake: FakeLLM) -> None:
    client = openai.OpenAI(base_url=fake.base_url, api_key="not-needed", max_retries=0)
    lines = [
        {"custom_id": f"paper-{i}", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "fake-model", "messages": [{"role": "user", "content": f"paper {i}"}]}}
        for i in range(3)
    ]
    upload = client.files.create(file=("in.jsonl", "\n".join(map(json.dumps, lines)).encode()), purpose="batch")
    batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    statuses = [batch.status] + [client.batches.retrieve(batch.id).status for _ in range(2)]
    assert statuses == ["validating", "in_progress", "completed"]

    done = client.batches.retrieve(batch.id)
    assert done.request_counts.completed == 3 and done.output_file_id
    output = [json.loads(line) for line in client.files.content(done.output_file_id).text.splitlines()]
    by_id = {item["custom_id"]: item["response"] for item in output}
    assert by_id.keys() == {"paper-0", "paper-1", "paper-2"}
    assert by_id["paper-1"]["status_code"] == 200
    content = by_id["paper-1"]["body"]["choices"][0]["message"]["content"]
    assert json.loads(content)["title"] == "About paper 1"
    assert not fake.completion_requests  # batch lines are not HTTP completions


# -- helpers -------------------------------------------------------------------------------------------


def test_strict_json_schema_closes_every_object() -> None:
    class Paper(BaseModel):
        title: str
        lead: Point = Field(description="The main point.")
        points: list[Point] = []

    schema = strict_json_schema(Paper)
    assert schema["required"] == ["title", "lead", "points"]
    lead = schema["properties"]["lead"]
    assert "$ref" not in lead and lead["description"] == "The main point."  # inlined: no $ref siblings
    assert lead["additionalProperties"] is False and lead["required"] == ["text", "quote"]
    assert schema["$defs"]["Point"]["additionalProperties"] is False
    assert "default" not in json.dumps(schema)


def test_json_helpers() -> None:
    assert extract_json('noise {not json} then {"a": {"b": 1}} trailing') == {"a": {"b": 1}}
    assert extract_json('```json\n{"a": 1}\n```') == {"a": 1}
    fenced_inside = json.dumps({"code": "```python\nx = {}\n```", "b": {"c": 1}})
    assert extract_json(fenced_inside) == json.loads(fenced_inside)
    assert extract_json(f"```json\n{fenced_inside}\n```") == json.loads(fenced_inside)
    with pytest.raises(json.JSONDecodeError):
        extract_json("no json here")
    assert json.loads(close_truncated_json('{"a": [1, 2')[0]) == {"a": [1, 2]}
    assert json.loads(close_truncated_json('{"a": "x", "b')[0]) == {"a": "x"}
    assert close_truncated_json('{"a": 1}') == []


def test_redact() -> None:
    text = f"key {KEY} and masked sk-test-*****T123, Authorization: Bearer abc.def"
    cleaned = redact(text, [KEY])
    assert "SECRET" not in cleaned and "T123" not in cleaned and "abc.def" not in cleaned
    assert redact(f"tail ...{KEY[-9:]}", [KEY]).count("[REDACTED]") == 1


def test_gates_are_per_endpoint() -> None:
    assert retry_module.gate_for("http://a/v1") is retry_module.gate_for("http://a/v1")
    assert retry_module.gate_for("http://a/v1") is not retry_module.gate_for("http://b/v1")


def test_fake_reply_object_is_accepted(fake: FakeLLM, make_client) -> None:
    fake.script(lambda request: Reply(json.dumps({"title": "R", "points": []}), usage={"prompt_tokens": 7,
                                      "completion_tokens": 3, "total_tokens": 10}))
    result = make_client().structured(MESSAGES, Note)
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (7, 3)


def test_llm_errors_carry_the_endpoint_and_model(fake: FakeLLM, make_client) -> None:
    fake.inject("insufficient_quota")
    client = make_client()
    with pytest.raises(LLMQuotaError) as info:
        client.structured(MESSAGES, Note)
    error = info.value
    assert (error.endpoint, error.model) == (client.endpoint, "fake-model")
    assert error.endpoint in error.message and "'fake-model'" in error.message and error.detail in error.message
