"""Local servers as they really behave (llama-cpp-python, llama.cpp, vLLM, Ollama, LM Studio, proxies), through
the real openai client against the LLM server on 127.0.0.1: context windows, streams that fail, bodies in
place of streams, small models that cannot keep to the structure."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from paperdiary.errors import LLMContextLengthError, LLMOutputError, LLMRejectedError, LLMUnavailableError
from paperdiary.llm.client import LLMClient
from paperdiary.models import ExtractedPaper, PaperMeta, Section
from paperdiary.settings import load_settings
from paperdiary.stages.chunk import chunk_paper
from paperdiary.stages.drafting.llm import LLMDrafter
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM, prompt_tokens
from tests.llm.test_llm import MESSAGES, Note

WINDOW_ROUTES = {"/props", "/api/show", "/api/ps", "/api/v0/models"}


@pytest.fixture
def make_client(make_client: Callable[..., LLMClient]) -> Callable[..., LLMClient]:
    """The shared factory with local servers' settings: no API key, a longer timeout for their slow streams."""
    return functools.partial(make_client, api_key="", llm_timeout=2)


def long_messages(words: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You take notes."}, {"role": "user", "content": "paper A " * words}]


# -- streams that fail are not connection failures -----------------------------------------------------


def test_a_stream_closed_before_answering_is_asked_again_unstreamed_and_its_context_error_seen(
        fake: FakeLLM, make_client) -> None:
    # llama-cpp-python: 200, then the stream dies before the first token; unstreamed, the real 400.
    fake.max_context_tokens = 300
    fake.context_error_in_stream = True
    client = make_client()
    with pytest.raises(LLMContextLengthError, match="context window of 300 tokens") as info:
        client.structured(long_messages(400), Note)

    streamed, unstreamed = fake.completion_requests  # once each: no six tries of a "dropped connection"
    assert streamed.json["stream"] is True and "stream" not in unstreamed.json
    assert info.value.max_tokens == 300 and "unreachable" not in str(info.value)
    window = client.context_window()
    assert (window.tokens, window.source) == (300, "the server's context-length error")  # remembered


def test_a_stream_closed_before_answering_reports_the_servers_own_error(fake: FakeLLM, make_client) -> None:
    fake.inject("drop", after=0)  # the stream dies before its first piece...
    fake.inject("status", code=400, message="Unsupported chat template: no system role")  # ...and here is why
    with pytest.raises(LLMRejectedError, match=r"rejected the request .*HTTP 400: Unsupported chat template") as info:
        make_client().structured(MESSAGES, Note)
    assert "unreachable" not in str(info.value) and len(fake.completion_requests) == 2


def test_a_stream_closed_before_answering_then_answered_unstreamed_is_a_success(fake: FakeLLM, make_client) -> None:
    fake.inject("drop", after=0)
    result = make_client().structured(MESSAGES, Note)
    assert result.value.title == "About paper A"
    assert [r.json.get("stream", False) for r in fake.completion_requests] == [True, False]
    assert not result.usage.estimated  # the unstreamed answer's usage


def test_a_stream_that_keeps_dropping_mid_answer_says_so_and_never_unreachable(fake: FakeLLM, make_client) -> None:
    for _ in range(6):
        fake.inject("drop", after=3)
    with pytest.raises(LLMUnavailableError, match=r"the server closed the stream after \d+ pieces of the answer "
                                                  r"\(.+\) \(6 tries\)") as info:
        make_client().structured(MESSAGES, Note)
    assert "unreachable" not in str(info.value)


def test_a_server_that_ignores_stream_is_read_and_remembered_as_not_streaming(fake: FakeLLM, make_client) -> None:
    fake.ignores_stream = True  # one plain JSON body, whatever the request says
    counts: list[int] = []
    first = make_client().structured(MESSAGES, Note)
    assert first.value.title == "About paper A" and not first.usage.estimated
    assert len(fake.completion_requests) == 1  # read as the complete answer, not retried as a "drop"

    fake.clear_requests()
    later = make_client()  # a later process
    later._on_tokens = counts.append
    later.structured([{"role": "user", "content": "paper B"}], Note)
    [request] = fake.completion_requests
    assert "stream" not in request.json  # remembered: asked without streaming
    assert counts and counts[-1] > 0  # progress still heard, all at once


# -- the context window, four ways -------------------------------------------------------------------------


@pytest.mark.parametrize(("report", "source"), [
    ("vllm", "vLLM /v1/models max_model_len"),
    ("llama.cpp", "llama.cpp /props n_ctx"),
    ("ollama", "Ollama /api/show num_ctx"),
    ("lm-studio", "LM Studio /api/v0/models max_context_length"),
])
def test_the_window_is_read_where_each_server_says_it(fake: FakeLLM, make_client, report: str, source: str) -> None:
    fake.window_report = report
    fake.max_context_tokens = 6144
    window = make_client().context_window()
    assert (window.tokens, window.source) == (6144, source)

    fake.clear_requests()
    assert make_client().context_window().tokens == 6144  # a later process: remembered, nothing asked
    assert fake.requests == []


def test_ollama_without_num_ctx_is_its_default_window_and_a_setting_overrides_it(fake: FakeLLM, make_client) -> None:
    fake.window_report = "ollama"
    fake.ollama_num_ctx = False
    window = make_client().context_window()
    assert window.tokens == 4096 and "Ollama's default" in window.source and "131,072" in window.source
    assert make_client(context_tokens=32768).context_window().tokens == 32768


def test_without_a_server_window_the_setting_counts_else_it_is_unknown(fake: FakeLLM, make_client) -> None:
    assert make_client().context_window().tokens is None
    assert {r.path for r in fake.requests} >= WINDOW_ROUTES - {"/api/ps"}  # each way was asked, once
    assert make_client(context_tokens=8192).context_window().describe() == "8,192 tokens (setting context_tokens)"


def test_a_smaller_setting_wins_over_the_servers_window(fake: FakeLLM, make_client) -> None:
    fake.window_report = "llama.cpp"
    fake.max_context_tokens = 32768
    window = make_client(context_tokens=8000).context_window()
    assert window.tokens == 8000 and "the server says 32,768" in window.source


def test_doctor_shows_the_window_and_where_it_came_from(fake: FakeLLM, tmp_path: Path) -> None:
    from paperdiary.cli.doctor import run_checks

    fake.window_report = "llama.cpp"
    fake.max_context_tokens = 8192
    settings = load_settings(tmp_path, overrides={"model": "fake-model", "base_url": fake.base_url,
                                                  "arxiv_api": "http://127.0.0.1:9/api?{}", "retry_max_time": 1},
                             env={})
    checks = {check.name: check for check in run_checks(settings)}
    assert checks["context window"].ok is True
    assert checks["context window"].detail == "8,192 tokens (llama.cpp /props n_ctx)"


# -- the window probe, for a server that has none of the four ways ------------------------------------------


def test_llama_cpp_python_tells_its_window_to_one_cheap_probe(fake: FakeLLM, make_client) -> None:
    fake.max_context_tokens = 8192
    fake.context_overflow = "llama-cpp-python"
    window = make_client().context_window()
    assert (window.tokens, window.source) == (8192, "the context-length error of a probe")

    [probe] = fake.window_probes
    assert probe.json["max_tokens"] == 1 and "stream" not in probe.json and "response_format" not in probe.json
    [message] = probe.json["messages"]
    assert set(message["content"].split()) == {"a"}  # filler only: nothing of a paper, a prompt or a schema
    assert prompt_tokens(probe.json) > 8192 and fake.completion_requests == []



def draft_on_llama_cpp_python(fake: FakeLLM, make_client, words: int):
    """A paper of ``words`` drafted against a llama-cpp-python look-alike with a 4,096-token window."""
    fake.max_context_tokens = 4096
    fake.context_overflow = "llama-cpp-python"
    fake.script(DraftingModel())
    client = make_client()
    meta, paper = paper_of(words)
    return client, LLMDrafter(client.settings, client).draft(meta, paper, chunk_paper(paper, client.settings.chunk_tokens))


def test_the_probe_carries_no_paper_text(fake: FakeLLM, make_client) -> None:
    client, _ = draft_on_llama_cpp_python(fake, make_client, 3000)

    [probe] = fake.window_probes
    assert "routing" not in probe.json["messages"][0]["content"].lower()
    assert probe.time < min(r.time for r in fake.completion_requests)  # before the first real request
    [row] = [call for call in client.store.llm_calls() if call["purpose"] == "window probe"]
    assert row["completion_tokens"] == 0  # refused, nothing generated


def test_a_server_that_truncates_silently_is_not_taken_for_its_window(fake: FakeLLM, make_client) -> None:
    fake.max_context_tokens = 4096
    fake.context_overflow = "truncate"  # Ollama's way, without its /api/show here
    window = make_client().context_window()
    assert window.tokens is None and "truncates long prompts silently" in window.source
    assert len(fake.window_probes) == 1

    fake.clear_requests()
    assert make_client().context_window().tokens is None and fake.requests == []  # remembered, not asked again


def test_a_window_learnt_by_the_probe_is_remembered_per_endpoint_and_model(fake: FakeLLM, make_client) -> None:
    fake.max_context_tokens = 6000
    fake.context_overflow = "llama-cpp-python"
    assert make_client().context_window().tokens == 6000

    fake.clear_requests()
    assert make_client().context_window().tokens == 6000  # a later process: from the store
    assert fake.requests == []


def test_context_tokens_skips_the_probe(fake: FakeLLM, make_client) -> None:
    fake.max_context_tokens = 8192
    fake.context_overflow = "llama-cpp-python"
    assert make_client(context_tokens=4000).context_window().tokens == 4000
    assert fake.window_probes == []
    assert make_client().context_window().tokens == 8192  # without the setting, the server is probed after all


def test_a_hosted_api_is_never_probed(make_client, monkeypatch: pytest.MonkeyPatch) -> None:
    def probe(self: LLMClient) -> None:
        raise AssertionError("a hosted API was sent the window probe")

    monkeypatch.setattr(LLMClient, "_probe_window", probe)
    hosted = make_client(base_url="http://api.paperdiary-hosted.invalid/v1")  # no such host: the ways fail fast
    assert not hosted.local and hosted.context_window().tokens is None


# -- drafting sized to the window -----------------------------------------------------------------------


def paper_of(words: int) -> tuple[PaperMeta, ExtractedPaper]:
    sentence = ("We train a sparse mixture of experts with token routing and measure the accuracy of the "
                "model on four reasoning benchmarks against a dense baseline of the same cost. ")
    per_section = max(1, words // 30 // 6)
    sections = [Section(f"{n + 1} Section {n + 1}", (sentence * per_section).strip()) for n in range(6)]
    meta = PaperMeta(arxiv_id="2506.01939", version=1, title="Sparse Routing", authors=["A. Author"],
                     abstract="We route tokens sparsely.")
    return meta, ExtractedPaper("Sparse Routing", 0, sections)


@pytest.mark.parametrize("report", ["vllm", "llama.cpp", "ollama", "lm-studio"])
def test_a_draft_fits_every_request_in_a_small_window(fake: FakeLLM, make_client, report: str) -> None:
    fake.window_report = report
    fake.max_context_tokens = 4096  # the fake counts 4 characters a token, and refuses anything longer
    fake.script(DraftingModel())
    client = make_client()
    meta, paper = paper_of(6000)
    draft = LLMDrafter(client.settings, client).draft(meta, paper, chunk_paper(paper, client.settings.chunk_tokens))

    assert draft.key_points and draft.notes["path"].startswith("map-reduce over")  # no context-length fallback
    assert "4096 tokens" in draft.notes["window"]
    for request in fake.completion_requests:
        notes = request.json["messages"][-1]["content"].startswith("This is part")
        assert request.json["max_tokens"] == 512 if notes else 1024 <= request.json["max_tokens"] <= 4096 // 4
        assert prompt_tokens(request.json) + request.json["max_tokens"] <= 4096


def test_llama_cpp_python_drafts_a_paper_too_long_for_its_window_by_map_reduce(fake: FakeLLM, make_client) -> None:
    # It says nothing of its window (no /props here) and drops a stream too long for it: the probe's error
    # names the window before any draft request, so no single call is sent to fail.
    client, draft = draft_on_llama_cpp_python(fake, make_client, 6000)

    assert draft.notes["path"].startswith("map-reduce over") and draft.key_points  # no context-length fallback
    assert len(fake.window_probes) == 1 and "4096 tokens" in draft.notes["window"]
    assert fake.completion_requests and all(prompt_tokens(r.json) + r.json["max_tokens"] <= 4096
                                            for r in fake.completion_requests)


def test_a_long_map_reduce_condenses_its_notes_to_fit_the_reduce(fake: FakeLLM, make_client) -> None:
    fake.window_report = "vllm"
    fake.max_context_tokens = 4096
    model = DraftingModel()

    def wordy(request: dict) -> dict:
        answer = model(request)
        if "summary" in answer:
            answer["summary"] = "This part is long. " * 120  # notes that add up past one window
        return answer

    fake.script(wordy)
    client = make_client()
    meta, paper = paper_of(12000)
    draft = LLMDrafter(client.settings, client).draft(meta, paper, chunk_paper(paper, client.settings.chunk_tokens))
    assert draft.key_points
    for request in fake.completion_requests:
        assert prompt_tokens(request.json) + request.json["max_tokens"] <= 4096  # the reduce included


def test_a_window_too_small_for_any_paper_says_so(fake: FakeLLM, make_client) -> None:
    fake.window_report = "llama.cpp"
    fake.max_context_tokens = 2048
    client = make_client()
    meta, paper = paper_of(3000)
    with pytest.raises(LLMContextLengthError, match="leaves no room for the paper"):
        LLMDrafter(client.settings, client).draft(meta, paper, chunk_paper(paper, 12000))
    assert fake.completion_requests == []


# -- a small model that cannot keep to the structure ---------------------------------------------------------


def test_a_small_models_prose_fails_the_draft_with_advice_not_an_offline_entry(fake: FakeLLM, make_client) -> None:
    fake.script(lambda request: "This paper is about attention. It is very good.")
    client = make_client()
    meta, paper = paper_of(800)
    with pytest.raises(LLMOutputError, match="could not produce the structure") as info:
        LLMDrafter(client.settings, client).draft(meta, paper, chunk_paper(paper, 12000))
    assert "larger" in (info.value.hint or "")
    temperatures = [r.json.get("temperature") for r in fake.completion_requests]
    assert temperatures[-1] == 0 and temperatures.count(0) == 1  # the one colder try came last
