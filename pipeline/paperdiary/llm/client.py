"""The one place that talks to an LLM: validated, structured answers from any OpenAI-compatible server.

``LLMClient.structured(messages, Schema)`` returns an instance of a pydantic
model, whatever the server supports. Its parts live beside it, and their public
names are re-exported here:

- **Structured-output ladder** (``llm/schema.py``). ``json_schema`` (strict, from
  the pydantic model) → ``json_object`` with the schema in the system prompt →
  plain text asking for JSON. A server that rejects a mode (a 400 naming
  ``response_format``, or llama-cpp-python's HTTP 500 with a request-validation
  message) moves the call down one rung; the mode that works is remembered per
  endpoint and model in the store, so later calls and later processes go
  straight to it.
- **Repairs** (``llm/json_repair.py``). An answer is read by a ladder of local
  repairs first (cut off → closed; broken → mended; off-schema → fitted where
  the schema leaves no doubt). Still invalid → one follow-up message quoting the
  problem; still invalid → one fresh try at temperature 0. Still invalid →
  ``LLMOutputError`` saying the model could not produce the structure.
- **Streamed** (``llm/streaming.py``). Answers stream (``stream=True``, usage from
  the last chunk when the server sends it, else estimated): ``settings.llm_timeout``
  is the longest wait for the next piece, not for the whole answer, so a slow
  local model that keeps writing is never cut off; ``on_tokens`` hears the count
  as pieces arrive. A stream that stalls or drops mid-way is retried. One that
  the server closes before the first piece is asked again at once without
  streaming, so the server's real error is seen (llama-cpp-python's context
  error); a server that answers a streamed request with one JSON body is read
  and remembered as non-streaming.
- **Context window** (``llm/window.py``). Asked of the server once per endpoint
  and model and remembered (``context_window``); ``context_tokens`` stands in
  when the server does not say; else a local server gets one probe of filler
  with ``max_tokens=1``, whose context-length error names the window. Callers size their prompts and ``max_tokens``
  to it; ``fits`` tells whether a request does.
- **Retries in one layer** (``paperdiary/retry.py``, shared with the arXiv
  fetcher). The openai client runs with ``max_retries=0``; the policy retries
  429s (waiting as long as ``Retry-After`` says), 5xx, timeouts, stalled streams
  and dropped connections, with jittered exponential back-off, within
  ``settings.retry_max_time``. A rate-limit answer also holds a back-off gate
  shared by every client of the endpoint in the process, so concurrent workers
  slow down together. What retrying cannot fix fails at once. Which error is
  which, and the one-line message it becomes, is one table: ``llm/failures.py``.
- **Cache and ledger.** Validated answers are cached in SQLite by
  sha256(endpoint, model, messages, schema): the same request costs no HTTP
  request. Every call adds a ledger row (tokens, latency, cost) for
  ``paperdiary costs``.
- **Secrets.** The API key never reaches a log, the store, an exception
  message or a repr: every message built from a server's answer or an
  exception goes through ``redact``.
- **Deferred mode (Batch API).** With a ``defer`` hook set, a request that
  misses the cache is offered to the hook first; when the hook takes it
  (``pipeline/paperdiary/llm/batch.py`` queues it for the Batch API) ``structured`` raises
  ``LLMDeferred`` instead of calling the server. The drafter's code path is the
  same either way; once the batch's answers are stored in the cache
  (``accept_deferred``), drafting again is served from there.

Thread-safe: one ``LLMClient`` may serve several worker threads; ``max_in_flight``
bounds how many requests it has open at once, whatever the threads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import openai
from pydantic import BaseModel, ValidationError

from paperdiary.errors import (
    LLMAuthError,
    LLMContextLengthError,
    LLMError,
    LLMOutputError,
    LLMRefusalError,
    LLMRejectedError,
)
from paperdiary.llm import failures
from paperdiary.llm.costs import estimate_cost, is_local_endpoint
from paperdiary.llm.json_repair import (
    close_truncated_json,
    extract_json,
    Parsed,
    json_objects,
    parse_answer,
    repair_json,
    repair_prompt,
)
from paperdiary.llm.schema import (
    MODES,
    Mode,
    SchemaSpec,
    messages_for,
    response_format,
    schema_spec,
    schemas_by_name,
    strict_json_schema,
)
from paperdiary.llm.streaming import AnswerTooLongError, StreamClosedError, is_event_stream, read_stream
from paperdiary.llm.tokens import count_message_tokens, count_tokens
from paperdiary.llm.window import PROBE_TOKENS, UNKNOWN, ContextWindow, ask_server, probe_messages
from paperdiary.redact import redact, url_secrets
from paperdiary.retry import RetryNote, RetryPolicy, gate_for
from paperdiary.settings import OPENAI_BASE_URL, Settings, require_llm_endpoint, require_trusted_endpoints
from paperdiary.state.store import Store
from paperdiary.text import shorten

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

__all__ = [
    "DEFAULT_BASE_URL", "MODES", "ContextWindow", "DeferredRequest", "Deferral", "LLMClient", "LLMDeferred",
    "LLMResult", "Mode", "Usage", "close_truncated_json", "extract_json", "json_objects", "public_endpoint",
    "repair_json", "schemas_by_name", "strict_json_schema",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = OPENAI_BASE_URL
# The longest answer read: a draft's JSON is a few kilobytes, a long reasoning trace a few hundred. A model
# (or a server) that goes on past this is refused, not stored: its answer would become an entry of megabytes.
ANSWER_MAX_CHARS = 1_000_000
RETRY_TEMPERATURE = 0.0  # the last try for a valid answer: the model's likeliest one, not another sample
# Our token counts are o200k_base's; a local model's tokenizer may need up to this much more for the same
# text (SmolLM2's needs about 1.1 times as many on a paper), so a request "fits" only with that headroom.
TOKENIZER_HEADROOM = 1.25
# The window probe is refused as soon as it is tokenised (a second or two on a slow machine); a server still
# busy with it after this long has taken it in, and is not waited for.
PROBE_TIMEOUT = 60.0
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
E = TypeVar("E", bound=LLMError)


# -- public types ------------------------------------------------------------------


class LLMDeferred(Exception):
    """The request went to the ``defer`` hook (the Batch API) instead of the server: no answer yet.

    Not an ``LLMError``: nothing failed, and retry or fallback logic must not catch it.
    """

    def __init__(self, key: str):
        super().__init__(f"LLM request {key[:12]}… deferred to the Batch API")
        self.key = key


@dataclass(frozen=True)
class DeferredRequest:
    """A cache miss offered to the ``defer`` hook: the body ``structured`` would send first, and its cache key."""

    key: str  # the response-cache key: a batch line's custom_id
    body: dict[str, Any]  # the chat-completions request body, exactly as the first rung of the ladder sends it
    messages: list[dict[str, str]]  # as the caller built them (what the cache key covers)
    schema_name: str
    mode: Mode
    paper: str | None
    purpose: str


class Deferral(Protocol):
    """Offered each cache miss before the server (the Batch API's queue, ``llm/batch.py``).

    Returns True when it takes the request: ``structured`` then raises ``LLMDeferred``.
    """

    def __call__(self, request: DeferredRequest) -> bool: ...


@dataclass(frozen=True)
class Usage:
    """Tokens one call used: the server's count, or an o200k estimate when it sent none."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class LLMResult(Generic[M]):
    """A validated answer and what it took. A cache hit has zero usage, cost 0 and ``cached=True``."""

    value: M
    usage: Usage  # summed over every request the call made (a repair included)
    cost_usd: float | None  # None when the model's price is unknown
    cached: bool
    mode: Mode  # the structured-output mode that produced it
    latency_s: float
    call_id: int  # the ledger row (llm_calls.id)


def public_endpoint(url: str) -> str:
    """A base URL safe to show and store: no ``user:password@``, query or fragment, no trailing slash."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


# -- internals -----------------------------------------------------------------------------


class _ModeRejected(Exception):
    """The server does not accept this structured-output mode (internal: moves down the ladder)."""

    def __init__(self, detail: str, *, remember: bool):
        super().__init__(detail)
        self.detail = detail
        self.remember = remember  # False when the complaint was about this schema, not the mode


class _Probe(BaseModel):
    ok: bool


_PROBE_MESSAGES = [{"role": "user", "content": 'Reply with the JSON object {"ok": true}.'}]


@dataclass
class _Tally:
    """Usage summed over the requests of one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    responses: int = 0
    mode: Mode | None = None  # the structured-output mode the server accepted

    def add(self, messages: Sequence[dict[str, Any]], completion: ChatCompletion) -> None:
        self.responses += 1
        usage = completion.usage
        if usage is not None and usage.prompt_tokens is not None and usage.completion_tokens is not None:
            self.prompt_tokens += usage.prompt_tokens
            self.completion_tokens += usage.completion_tokens
            return
        self.estimated = True
        self.prompt_tokens += count_message_tokens(messages)
        content = completion.choices[0].message.content if completion.choices else ""
        self.completion_tokens += count_tokens(content or "")

    @property
    def usage(self) -> Usage:
        return Usage(self.prompt_tokens, self.completion_tokens, self.estimated)


# -- the client ----------------------------------------------------------------------------


class LLMClient:
    """Structured answers from the configured OpenAI-compatible endpoint and model.

    ``retry``: the retry policy (default: ``settings.retry_max_time``, a back-off of base 1 s, at most 30 s);
    tests give one whose ``sleep`` only records.
    """

    def __init__(self, settings: Settings, store: Store, *, defer: Deferral | None = None,
                 max_in_flight: int | None = None, on_tokens: Callable[[int], None] | None = None,
                 retry: RetryPolicy | None = None):
        """``on_tokens(n)``: told the number of answer pieces (about a token each) streamed so far by this
        client, as they arrive, from whichever thread is reading (``draft`` shows it on its stage line)."""
        if not settings.model:
            raise LLMError("no LLM model configured.", hint="Set PAPERDIARY_MODEL (or `model` in paperdiary.toml).")
        require_llm_endpoint(settings)
        require_trusted_endpoints(settings, ("model", "base_url"))  # before the key goes anywhere
        self.settings = settings
        self.store = store
        self.model = settings.model
        self.retry = retry or RetryPolicy.for_settings(settings)
        # The key, and whatever credentials the base URL carries (user:password@, ?api-key=).
        self._secrets = ([settings.api_key] if settings.api_key else []) + url_secrets(settings.base_url)
        # The base URL is explicit so that the openai package never picks one of its own from the
        # environment behind the settings' back; local servers take any key, hence "not-needed".
        self._client = openai.OpenAI(
            base_url=settings.base_url or DEFAULT_BASE_URL,
            api_key=settings.api_key or "not-needed",
            timeout=settings.llm_timeout,
            max_retries=0,  # the retry policy retries, below: one layer, so waits do not multiply
        )
        self.endpoint = public_endpoint(str(self._client.base_url))
        # OpenAI's reasoning models reject max_tokens; most other servers only know max_tokens.
        host = urlsplit(self.endpoint).hostname or ""
        self._max_tokens_param = "max_completion_tokens" if host == "api.openai.com" else "max_tokens"
        self._gate = gate_for(self.endpoint)
        self.local = is_local_endpoint(self.endpoint)  # on this machine or network: free, and may be probed
        self._facts_lock = threading.Lock()
        self._mode: Mode | None = None
        self._mode_loaded = False
        self._window: ContextWindow | None = None  # what the server says (UNKNOWN: it says nothing)
        self._streams: bool | None = None  # False: the server answers streamed requests with one body
        # Requests open at once, over all threads (catch-up's --jobs); None: no limit of our own.
        self._slots = threading.BoundedSemaphore(max_in_flight) if max_in_flight else None
        self._defer = defer
        self._on_tokens = on_tokens
        self._streamed = 0  # answer pieces received, over all requests
        self._streamed_lock = threading.Lock()
        self._stream_usage = True  # ask for usage in the last chunk, unless the server refuses stream_options

    def __repr__(self) -> str:
        return f"LLMClient(endpoint={self.endpoint!r}, model={self.model!r})"

    # -- public API -------------------------------------------------------------------

    def structured(
        self,
        messages: list[dict[str, str]],
        schema: type[M],
        *,
        paper: str | None = None,
        purpose: str = "draft",
        max_tokens: int | None = None,
    ) -> LLMResult[M]:
        """Ask for an answer matching ``schema``; returns it validated, from the cache when possible.

        ``paper`` and ``purpose`` label the ledger row; ``max_tokens`` bounds the answer. Raises an
        ``LLMError``: ``LLMContextLengthError`` when the prompt does not fit (split it and try
        again), ``LLMOutputError`` when no valid answer came even after a repair and a retry,
        ``LLMUnavailableError`` / ``LLMRejectedError`` subclasses for the rest.
        """
        spec = schema_spec(schema)
        key = self._cache_key(messages, spec)
        started = time.monotonic()
        hit = self._from_cache(key, schema)
        if hit is not None:
            value, mode = hit
            latency = time.monotonic() - started
            call_id = self.store.record_llm_call(
                paper=paper, purpose=purpose, model=self.model, endpoint=self.endpoint, mode=mode,
                status="cached", cached=True, latency_s=latency, cost_usd=0.0, cache_key=key,
            )
            return LLMResult(value=value, usage=Usage(0, 0), cost_usd=0.0, cached=True, mode=mode,
                             latency_s=latency, call_id=call_id)

        if self._defer is not None and self._defer(self._deferred(messages, spec, key, max_tokens, paper, purpose)):
            raise LLMDeferred(key)

        tally = _Tally()
        try:
            value, data, raw, mode = self._generate(messages, spec, schema, max_tokens, tally)
        except LLMError:
            if tally.responses:  # tokens were spent: the ledger must show them
                self._record(paper, purpose, "failed", tally, time.monotonic() - started, None)
            raise
        latency = time.monotonic() - started
        cost, call_id = self._record(paper, purpose, "ok", tally, latency, key)
        self.store.save_llm_cache(
            key, endpoint=self.endpoint, model=self.model, schema_name=spec.name, mode=mode,
            request={"model": self.model, "messages": messages, "schema": spec.name, "mode": mode},
            raw_content=raw, parsed=data,
        )
        return LLMResult(value=value, usage=tally.usage, cost_usd=cost, cached=False, mode=mode,
                         latency_s=latency, call_id=call_id)

    def accept_deferred(
        self,
        messages: list[dict[str, str]],
        schema: type[M],
        mode: Mode,
        completion: dict[str, Any],
        *,
        paper: str | None = None,
        purpose: str = "draft",
    ) -> LLMResult[M]:
        """Store an answer that came back through the Batch API, as if ``structured`` had received it.

        ``completion`` is the chat-completion body of a batch output line. The answer is
        validated like any other (repaired locally; no repair round: a batch cannot hold a
        conversation), cached under the request's key and entered in the ledger at the Batch
        API's price. Raises ``LLMOutputError`` (or ``LLMRefusalError``) for an unusable answer,
        after recording its tokens as a failed call.
        """
        from openai.types.chat import ChatCompletion

        spec = schema_spec(schema)
        key = self._cache_key(messages, spec)
        parsed_completion = ChatCompletion.model_validate(completion)
        tally = _Tally(mode=mode)
        tally.add(messages_for(mode, messages, spec), parsed_completion)
        try:
            content, truncated = self._content(parsed_completion)
        except LLMError:
            self._record(paper, purpose, "failed", tally, 0.0, None, batch=True)
            raise
        parsed = parse_answer(content, schema, truncated=truncated)
        if parsed.value is None:
            self._record(paper, purpose, "failed", tally, 0.0, None, batch=True)
            raise self._error(
                LLMOutputError, f"model {{model!r}} at {{endpoint}} gave no valid {spec.name} JSON through the "
                "Batch API: {detail}.", detail=shorten(parsed.problem, 300),
                hint="Run catchup --retry-failed without --batch-api to draft it directly (with one repair round).",
            )
        cost, call_id = self._record(paper, purpose, "ok", tally, 0.0, key, batch=True)
        self.store.save_llm_cache(
            key, endpoint=self.endpoint, model=self.model, schema_name=spec.name, mode=mode,
            request={"model": self.model, "messages": messages, "schema": spec.name, "mode": mode, "batch": True},
            raw_content=content, parsed=parsed.data,
        )
        return LLMResult(value=parsed.value, usage=tally.usage, cost_usd=cost, cached=False, mode=mode,
                         latency_s=0.0, call_id=call_id)

    def call_api(self, call: Callable[[openai.OpenAI], T]) -> T:
        """Run ``call(openai_client)`` through the retry layer (the Batch API's files and batches routes).

        Errors come out as ``LLMError``s naming the endpoint and model, like a completion's.
        """
        return self._with_retries(lambda: call(self._client), mode=None)

    def list_models(self) -> list[str]:
        """The model IDs the endpoint serves (``GET /models``), sorted."""
        return sorted(self._with_retries(lambda: [m.id for m in self._client.models.list()], mode=None))

    def probe_mode(self) -> Mode:
        """Find the best structured-output mode the endpoint accepts for the model, and remember it.

        Starts from the top of the ladder whatever is remembered (a server may
        have gained ``json_schema`` support), with a tiny request; for ``doctor``.
        """
        tally = _Tally()
        started = time.monotonic()
        _, mode, _ = self._ask(_PROBE_MESSAGES, schema_spec(_Probe), 20, tally, start="json_schema")
        self._record(None, "probe", "ok", tally, time.monotonic() - started, None)
        return mode

    def context_window(self, *, refresh: bool = False) -> ContextWindow:
        """The model's context window: what the server says (asked once per endpoint and model, then
        remembered; ``refresh`` asks again, as ``doctor`` does), else ``context_tokens``, else unknown.

        A ``context_tokens`` smaller than the server's window wins: the user wants less.
        """
        server = self._server_window(refresh=refresh)
        wanted = self.settings.context_tokens
        if server.tokens is not None and not server.assumed:
            if wanted and wanted < server.tokens:
                return ContextWindow(wanted, f"setting context_tokens; the server says {server.tokens:,}")
            return server
        if wanted:
            return ContextWindow(wanted, "setting context_tokens")
        return server

    def fits(self, messages: Sequence[dict[str, Any]], max_tokens: int | None = None) -> bool:
        """Whether a request of ``messages`` and an answer of ``max_tokens`` fit the context window
        (with headroom for the model's own tokenizer); True when the window is unknown."""
        window = self.context_window().tokens
        return window is None or count_message_tokens(messages) * TOKENIZER_HEADROOM + (max_tokens or 0) <= window

    # -- one structured call ----------------------------------------------------------

    def _deferred(
        self,
        messages: list[dict[str, str]],
        spec: SchemaSpec,
        key: str,
        max_tokens: int | None,
        paper: str | None,
        purpose: str,
    ) -> DeferredRequest:
        """The request ``_ask`` would send first (remembered mode, else the top of the ladder)."""
        mode = self._remembered_mode() or MODES[0]
        body = self._request(mode, messages_for(mode, messages, spec), spec, max_tokens)
        return DeferredRequest(key, body, [dict(m) for m in messages], spec.name, mode, paper, purpose)

    def _read_answer(self, tally: _Tally, sent: list[dict[str, str]], completion: ChatCompletion,
                     schema: type[M]) -> tuple[str, bool, Parsed[M]]:
        """A further try's answer, counted: (content, cut off at the token limit, what parsing made of it)."""
        tally.add(sent, completion)
        content, truncated = self._content(completion)
        return content, truncated, parse_answer(content, schema, truncated=truncated)

    def _generate(
        self,
        messages: list[dict[str, str]],
        spec: SchemaSpec,
        schema: type[M],
        max_tokens: int | None,
        tally: _Tally,
    ) -> tuple[M, Any, str, Mode]:
        """(value, parsed JSON, raw content, mode): the ladder, then at most one repair and one colder try."""
        completion, mode, sent = self._ask(messages, spec, max_tokens, tally)
        content, truncated = self._content(completion)
        parsed = parse_answer(content, schema, truncated=truncated)
        if truncated and parsed.rung in ("", "salvaged") and self._cut_at_window(completion, max_tokens):
            # The prompt left the answer too little room: a split prompt does better than a repair (longer
            # still) or the stub a salvage keeps.
            raise self._window_ran_out(completion, sent, content)
        if parsed.value is not None:
            if parsed.rung != "as sent":
                log.info("%s: the answer was %s locally", self.model, parsed.rung)
            return parsed.value, parsed.data, content, mode

        problem, was_truncated = parsed.problem, truncated
        repair = [
            *sent,
            {"role": "assistant", "content": content},
            {"role": "user", "content": repair_prompt(problem, spec, truncated=truncated)},
        ]
        if self.fits(repair, max_tokens):
            log.info("%s", self._redact(f"{self.model} at {self.endpoint}: {problem}; asking for a repair"))
            repaired: ChatCompletion | None
            try:
                repaired = self._create(self._request(mode, repair, spec, max_tokens), mode=None)
            except LLMContextLengthError:
                repaired = None  # the repair conversation is longer than the first request: go on without it
            if repaired is not None:
                content, truncated, parsed = self._read_answer(tally, repair, repaired, schema)
                if parsed.value is not None:
                    return parsed.value, parsed.data, content, mode
                problem, was_truncated = parsed.problem, was_truncated or truncated

        # Small models often go wrong by sampling: one fresh try at their likeliest answer.
        log.info("%s", self._redact(f"{self.model} at {self.endpoint}: {problem}; trying once more at temperature "
                                    f"{RETRY_TEMPERATURE:g}"))
        request = self._request(mode, sent, spec, max_tokens) | {"temperature": RETRY_TEMPERATURE}
        try:
            completion = self._create(request, mode=None)
        except LLMRejectedError as exc:  # a model that takes no temperature (OpenAI's reasoning models)
            log.info("%s", self._redact(f"{self.model}: no retry at a lower temperature ({exc.detail})"))
        else:
            content, truncated, parsed = self._read_answer(tally, sent, completion, schema)
            if parsed.value is not None:
                return parsed.value, parsed.data, content, mode
            problem, was_truncated = parsed.problem, was_truncated or truncated
        raise self._error(
            LLMOutputError,
            f"model {{model!r}} at {{endpoint}} could not produce the structure asked for (valid {spec.name} "
            f"JSON), even after one repair and a retry at temperature {RETRY_TEMPERATURE:g}: {{detail}}.",
            detail=shorten(problem, 300),
            hint="The model is likely too small for structured answers: try a larger or instruction-tuned one "
                 "(7B or more)" + (", or a larger max_tokens: its answers were cut off." if was_truncated else "."),
        )

    def _ask(
        self,
        messages: Sequence[dict[str, str]],
        spec: SchemaSpec,
        max_tokens: int | None,
        tally: _Tally,
        *,
        start: Mode | None = None,
    ) -> tuple[ChatCompletion, Mode, list[dict[str, str]]]:
        """Send the request down the ladder from ``start`` (default: the remembered mode) until accepted.

        Returns the completion, the mode that worked and the messages as sent in it.
        """
        remembered = self._remembered_mode()
        first = start or remembered or MODES[0]
        remember = True
        for mode in MODES[MODES.index(first):]:
            sent = messages_for(mode, messages, spec)
            request = self._request(mode, sent, spec, max_tokens)
            try:
                completion = self._create(request, mode=mode)
            except _ModeRejected as rejected:
                log.info("%s", self._redact(
                    f"{self.endpoint} does not take response_format {mode} for {self.model} "
                    f"({shorten(rejected.detail, 160)}); trying the next mode"
                ))
                remember = remember and rejected.remember
                continue
            tally.add(sent, completion)
            tally.mode = mode
            if remember and mode != remembered:
                self._remember_mode(mode)
            return completion, mode, sent
        # Unreachable: "text" sends no response_format, so it is never rejected as a mode.
        raise self._error(LLMRejectedError, "LLM endpoint {endpoint} accepts no structured-output mode.")

    def _request(
        self, mode: Mode, messages: list[dict[str, str]], spec: SchemaSpec, max_tokens: int | None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": messages}
        if (format_ := response_format(mode, spec)) is not None:
            request["response_format"] = format_
        if max_tokens:
            request[self._max_tokens_param] = max_tokens
        return request

    def _content(self, completion: ChatCompletion) -> tuple[str, bool]:
        """(content, cut off at the token limit); refusals raise."""
        if not completion.choices:
            raise self._error(LLMOutputError, "model {model!r} at {endpoint} answered with no choices.")
        choice = completion.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise self._error(LLMRefusalError, "model {model!r} refused: {detail}.", detail=shorten(refusal, 300))
        if choice.finish_reason == "content_filter":
            raise self._error(LLMRefusalError,
                              "model {model!r} at {endpoint}: the answer was stopped by the content filter.")
        content = choice.message.content or ""
        if len(content) > ANSWER_MAX_CHARS:
            raise self._too_long()
        return content, choice.finish_reason == "length"

    @staticmethod
    def _cut_at_window(completion: ChatCompletion, max_tokens: int | None) -> bool:
        """Whether an answer cut off ("length") stopped at the end of the context window, not at max_tokens."""
        if max_tokens is None:
            return True
        usage = completion.usage
        return usage is not None and usage.completion_tokens is not None and usage.completion_tokens < max_tokens

    def _window_ran_out(self, completion: ChatCompletion, sent: Sequence[dict[str, Any]],
                        content: str) -> LLMContextLengthError:
        """The context error an answer cut off at the window's end stands for; an unknown window is learnt from
        it (the server's own count when it reports usage, else ours), as assumed: a model's own output cap
        looks the same, and a ``context_tokens`` setting overrides it."""
        usage = completion.usage
        if usage is not None and usage.prompt_tokens and usage.completion_tokens is not None:
            window = ContextWindow(usage.prompt_tokens + usage.completion_tokens, "the end of a cut-off answer",
                                   assumed=True)
        else:
            window = ContextWindow(count_message_tokens(sent) + count_tokens(content),
                                   "the end of a cut-off answer (our token count)", assumed=True)
        known = self.context_window().tokens
        if known is None:
            self._remember_window(window)
        return self._error(
            LLMContextLengthError,
            "model {model!r} at {endpoint}: the answer was cut off at the end of the context window "
            f"(about {known or window.tokens:,} tokens): the prompt left it too little room.",
            max_tokens=known or window.tokens,
            hint="Split the prompt, or serve the model with a larger window (llama.cpp -c, Ollama num_ctx) and set "
                 "context_tokens.")

    def _too_long(self) -> LLMOutputError:
        return self._error(LLMOutputError, f"model {{model!r}} at {{endpoint}} answered more than "
                           f"{ANSWER_MAX_CHARS:,} characters: refused, nothing of it kept.",
                           hint="A model that does not stop is misconfigured (a wrong chat template?); try "
                                "another model, or the offline drafter (no model).")

    # -- transport: streaming, retries and error translation ----------------------------------

    def _create(self, request: dict[str, Any], *, mode: Mode | None) -> ChatCompletion:
        """One chat completion, streamed and put together, with retries; see ``_with_retries`` for ``mode``.

        The whole stream is read inside one try: a stall (no piece within ``llm_timeout``)
        or a drop mid-way fails the try, and the request is sent again. A stream the server
        closes before the first piece is sent again at once without streaming: the server's
        real answer (an error, often) comes then.
        """
        def attempt() -> ChatCompletion:
            if not self._streaming():
                return self._unstreamed(request)
            try:
                return self._streamed_completion(request)
            except StreamClosedError as closed:
                if not closed.before_answering:
                    raise
                log.info("%s", self._redact(f"{self.endpoint} ({self.model}): {closed}; asking again without "
                                            "streaming to see the server's answer"))
                return self._unstreamed(request)

        return self._with_retries(attempt, mode=mode)

    def _streamed_completion(self, request: dict[str, Any]) -> ChatCompletion:
        options = {"stream_options": {"include_usage": True}} if self._stream_usage else {}
        create = cast(Any, self._client.chat.completions.create)  # the request is built as a dict
        try:
            stream = create(**request, stream=True, **options)
        except openai.APIStatusError as exc:
            if not (options and exc.status_code in (400, 422) and "stream_options" in failures.status_detail(exc)):
                raise
            self._stream_usage = False  # an older server: no usage chunk, so usage is estimated
            stream = create(**request, stream=True)
        with stream:
            try:
                completion = read_stream(stream, model=self.model, timeout=self.settings.llm_timeout,
                                         on_piece=lambda: self._count_pieces(1), max_chars=ANSWER_MAX_CHARS)
            except AnswerTooLongError:
                raise self._too_long() from None  # stop reading: the stream is closed on the way out
        if not is_event_stream(stream):
            log.info("%s", self._redact(f"{self.endpoint} ({self.model}) answered a streamed request with one "
                                        "JSON body: it is asked without streaming from now on"))
            self._remember_streaming(False)
            self._count_pieces(completion.usage.completion_tokens if completion.usage else 1)
        return completion

    def _unstreamed(self, request: dict[str, Any]) -> ChatCompletion:
        completion = cast("ChatCompletion", cast(Any, self._client.chat.completions.create)(**request))
        self._count_pieces(completion.usage.completion_tokens if completion.usage else 1)
        return completion

    def _count_pieces(self, pieces: int) -> None:
        with self._streamed_lock:
            self._streamed += pieces
            count = self._streamed
        if self._on_tokens is not None:
            self._on_tokens(count)

    def _with_retries(self, call: Callable[[], T], *, mode: Mode | None) -> T:
        """Run ``call`` with retries on transient failures; translate what escapes into LLMError.

        With ``mode`` set, a rejection of that structured-output mode raises _ModeRejected.
        """
        answered = False  # did any try get an answer from the server? Then it is not "unreachable".

        backed_off_until = 0.0  # where this call's own back-off ends: it need not wait at the gate again

        def attempt() -> T:
            self._gate.wait(self.retry.sleep, waited_until=backed_off_until)
            if self._slots is None:
                return call()
            with self._slots:
                return call()

        def on_retry(note: RetryNote) -> None:
            nonlocal answered, backed_off_until
            answered = answered or isinstance(note.error, (StreamClosedError, openai.APIStatusError))
            error = note.error
            if isinstance(error, openai.APIStatusError) and (
                    error.status_code == 429 or failures.retry_after(error) is not None):
                self._gate.hold(note.wait)  # every worker on this endpoint waits, not just this one
            backed_off_until = time.monotonic() + note.wait
            log.warning("%s", self._redact(
                f"LLM endpoint {self.endpoint} ({self.model}): "
                f"{failures.reason(error, timeout=self.settings.llm_timeout)}; "
                f"try {note.attempt + 1} of {note.attempts} in {note.wait:.1f} s"
            ))

        def give_up(error: BaseException, tries: int) -> None:
            if not isinstance(error, openai.OpenAIError):
                return
            if mode is not None and mode != "text" and failures.mentions_format(error):
                detail = self._redact(shorten(failures.status_detail(error), 300))  # type: ignore[arg-type]
                raise _ModeRejected(detail, remember=not failures.SCHEMA_SPECIFIC_RE.search(detail)) from error
            translated = failures.translate(error, tries=tries, timeout=self.settings.llm_timeout,
                                            endpoint=self.endpoint, model=self.model, redact=self._redact,
                                            answered=answered)
            if isinstance(translated, LLMContextLengthError) and translated.max_tokens:
                self._remember_window(ContextWindow(translated.max_tokens, "the server's context-length error"))
            if isinstance(translated, LLMAuthError):
                raise translated from None  # the server's words may echo (part of) the key
            raise translated from error

        return self.retry.run(attempt, transient=failures.is_transient, retry_after=failures.retry_after,
                              on_retry=on_retry, give_up=give_up)

    def _error(self, kind: type[E], template: str, *, detail: str | None = None, hint: str | None = None,
               **extra: Any) -> E:
        """An LLMError of ``kind`` about this endpoint and model; ``detail`` (words from outside) is redacted."""
        return kind(template, endpoint=self.endpoint, model=self.model,
                    detail=None if detail is None else self._redact(detail), hint=hint, **extra)

    # -- store: modes, window, streaming, cache, ledger ----------------------------------------

    def _remembered_mode(self) -> Mode | None:
        with self._facts_lock:
            if not self._mode_loaded:
                stored = self.store.llm_mode(self.endpoint, self.model)
                self._mode = stored if stored in MODES else None
                self._mode_loaded = True
            return self._mode

    def _remember_mode(self, mode: Mode) -> None:
        with self._facts_lock:
            self._mode, self._mode_loaded = mode, True
            self.store.save_llm_mode(self.endpoint, self.model, mode)

    def _server_window(self, *, refresh: bool) -> ContextWindow:
        with self._facts_lock:
            if self._window is not None and not refresh:
                return self._window
            stored = None if refresh else self.store.llm_fact(self.endpoint, self.model, "context_window")
        if stored is not None:
            data = json.loads(stored)
            window = ContextWindow(data.get("tokens"), data.get("source", ""), bool(data.get("assumed")))
            with self._facts_lock:
                self._window = window
            return window
        asked = ask_server(self._get_json, self._post_json, str(self._client.base_url), self.model,
                           on_error=lambda way, exc: log.debug("no context window from the %s way: %s", way,
                                                               self._redact(shorten(str(exc), 200))))
        # A user's context_tokens needs no probe; a hosted API is never sent one (its tokens cost money).
        if asked is None and not self.settings.context_tokens and self.local:
            asked = self._probe_window()
        if asked is None and (self.settings.context_tokens or self.local):
            with self._facts_lock:  # not stored: without the setting, or once the server answers, ask again
                self._window = UNKNOWN
            return UNKNOWN
        window = asked or UNKNOWN
        self._remember_window(window)
        return window

    def _probe_window(self) -> ContextWindow | None:
        """The window a local server names in its context-length error for a probe longer than any window
        (``llm/window.py``); None when the probe got no answer that says anything (the server is down)."""
        messages = probe_messages()
        request = {"model": self.model, "messages": messages, self._max_tokens_param: 1, "temperature": 0}
        tally = _Tally()
        started = time.monotonic()
        try:
            completion = cast("ChatCompletion", cast(Any, self._client.with_options(
                timeout=min(self.settings.llm_timeout, PROBE_TIMEOUT)).chat.completions.create)(**request))
        except openai.APIStatusError as exc:
            self._record(None, "window probe", "ok", tally, time.monotonic() - started, None)
            is_context, tokens = failures.context_limit(exc)
            if tokens:
                return ContextWindow(tokens, "the context-length error of a probe")
            if is_context:
                return ContextWindow(None, "a probe's context-length error named no window; chunks of chunk_tokens")
            log.info("%s", self._redact(f"{self.endpoint} ({self.model}): the window probe got HTTP "
                                        f"{exc.status_code}: {shorten(failures.status_detail(exc), 200)}"))
            return None
        except openai.APIError as exc:  # no answer: refused, timed out
            log.info("%s", self._redact(f"{self.endpoint} ({self.model}): no answer to the window probe: {exc}"))
            return None
        tally.add(messages, completion)
        self._record(None, "window probe", "ok", tally, time.monotonic() - started, None)
        taken = completion.usage.prompt_tokens if completion.usage else None
        if taken is not None and taken < PROBE_TOKENS // 4:  # a tokenizer of its own counts differently, not 4x
            # Ollama's way: the prompt cut to the window without a word. The count is not the window for sure
            # (what was kept depends on the server), so it stays unknown; doctor shows why.
            return ContextWindow(None, f"the server cut a probe of {PROBE_TOKENS:,} tokens to {taken:,} without "
                                       "an error: it truncates long prompts silently; set context_tokens")
        return ContextWindow(None, f"the server took a probe of {PROBE_TOKENS:,} tokens; chunks of chunk_tokens")

    def _remember_window(self, window: ContextWindow) -> None:
        with self._facts_lock:
            self._window = window
            self.store.save_llm_fact(self.endpoint, self.model, "context_window", json.dumps(
                {"tokens": window.tokens, "source": window.source, "assumed": window.assumed}))

    def _get_json(self, url: str) -> Any:
        return self._client.with_options(timeout=min(self.settings.llm_timeout, 10)).get(url, cast_to=object)

    def _post_json(self, url: str, body: dict[str, Any]) -> Any:
        return self._client.with_options(timeout=min(self.settings.llm_timeout, 10)).post(
            url, cast_to=object, body=body)

    def _streaming(self) -> bool:
        with self._facts_lock:
            if self._streams is None:
                self._streams = self.store.llm_fact(self.endpoint, self.model, "streaming") != "no"
            return self._streams

    def _remember_streaming(self, streams: bool) -> None:
        with self._facts_lock:
            self._streams = streams
            self.store.save_llm_fact(self.endpoint, self.model, "streaming", "yes" if streams else "no")

    def _cache_key(self, messages: Sequence[dict[str, str]], spec: SchemaSpec) -> str:
        payload = json.dumps(
            {"endpoint": self.endpoint, "model": self.model, "messages": messages, "schema": spec.schema},
            sort_keys=True, ensure_ascii=False, separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def _from_cache(self, key: str, schema: type[M]) -> tuple[M, Mode] | None:
        row = self.store.llm_cached(key)
        if row is None:
            return None
        try:
            return schema.model_validate(json.loads(row["parsed_json"])), cast(Mode, row["mode"])
        except (json.JSONDecodeError, ValidationError):
            return None  # the schema's validators changed since: ask again

    def _record(
        self, paper: str | None, purpose: str, status: str, tally: _Tally, latency: float, key: str | None,
        *, batch: bool = False,
    ) -> tuple[float | None, int]:
        cost = estimate_cost(self.model, tally.prompt_tokens, tally.completion_tokens, self.settings, batch=batch)
        call_id = self.store.record_llm_call(
            paper=paper, purpose=purpose, model=self.model, endpoint=self.endpoint, mode=tally.mode, status=status,
            batch=batch,
            prompt_tokens=tally.prompt_tokens, completion_tokens=tally.completion_tokens,
            tokens_estimated=tally.estimated, latency_s=latency, cost_usd=cost, cache_key=key,
        )
        return cost, call_id

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)
