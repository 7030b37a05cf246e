"""The one place that talks to an LLM: validated, structured answers from any OpenAI-compatible server.

``LLMClient.structured(messages, Schema)`` returns an instance of a pydantic
model, whatever the server supports:

- **Structured-output ladder.** ``json_schema`` (strict, from the pydantic
  model) → ``json_object`` with the schema in the system prompt → plain text
  asking for JSON, from which the first JSON object is extracted. A server that
  rejects a mode (a 400 naming ``response_format``, or llama-cpp-python's HTTP
  500 with a request-validation message) moves the call down one rung; the mode
  that works is remembered per endpoint and model in the store, so later calls
  and later processes go straight to it.
- **One repair.** An answer that is not valid JSON for the schema gets one
  follow-up message quoting the problem; an answer cut off at the token limit is
  first closed locally (brackets, quotes). Still invalid → ``LLMOutputError``.
- **Streamed.** Answers stream (``stream=True``, usage from the last chunk when
  the server sends it, else estimated): ``settings.llm_timeout`` is the longest
  wait for the next piece, not for the whole answer, so a slow local model that
  keeps writing is never cut off; ``on_tokens`` hears the count as pieces arrive.
  A stream that stalls or drops mid-way is retried like any transient failure.
- **Retries in one layer.** The openai client runs with ``max_retries=0``;
  tenacity retries 429s (waiting as long as ``Retry-After`` says), 5xx,
  timeouts, stalled streams and dropped connections, with jittered exponential
  back-off, within ``settings.retry_max_time``. A rate-limit answer also holds a back-off gate
  shared by every client of the endpoint in the process, so concurrent workers
  slow down together. Errors that retrying cannot fix (401/403, 404, other
  4xx, ``insufficient_quota``, context length) fail at once with a one-line
  message naming the endpoint and model.
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
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import openai
from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from paperdiary.llm.costs import estimate_cost
from paperdiary.llm.tokens import count_message_tokens, count_tokens
from paperdiary.errors import (
    LLMAuthError,
    LLMContextLengthError,
    LLMError,
    LLMModelNotFoundError,
    LLMOutputError,
    LLMQuotaError,
    LLMRateLimitError,
    LLMRefusalError,
    LLMRejectedError,
    LLMUnavailableError,
)
from paperdiary.redact import redact, url_secrets
from paperdiary.retry_after import is_name_resolution_failure, parse_retry_after
from paperdiary.settings import RETRY_ATTEMPTS, Settings, require_llm_endpoint
from paperdiary.text import plural, shorten
from paperdiary.state.store import Store

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

log = logging.getLogger(__name__)

Mode = Literal["json_schema", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "text")  # best first: the ladder
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_BACKOFF_S = 30.0
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
E = TypeVar("E", bound=LLMError)

# Anything that looks like a bearer token or an OpenAI-style key, masked or not.
# A server's complaint about the response_format it was sent (mode not supported).
_FORMAT_RE = re.compile(r"response_format|json_schema|json_object|json schema|guided_json", re.IGNORECASE)
# ...about this particular schema, not the mode: fall back for this call, but do not remember it.
_SCHEMA_SPECIFIC_RE = re.compile(r"invalid schema|provided json schema", re.IGNORECASE)
_CONTEXT_RE = re.compile(
    r"context[ _](?:length|window|size)|maximum context|too many tokens|prompt is too long"
    r"|exceeds? the (?:model|context)",
    re.IGNORECASE,
)
_CONTEXT_MAX_RE = re.compile(
    r"maximum context length is (\d+)|context (?:window|length|size) (?:of|is) (\d+)|n_ctx\W{0,4}(\d+)",
    re.IGNORECASE,
)
_CONTEXT_CODES = {"context_length_exceeded", "exceed_context_size_error", "string_above_max_length"}
_FENCE_RE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_WHOLE_FENCE_RE = re.compile(r"\A\s*```[\w-]*[ \t]*\r?\n(.*)\n[ \t]*```\s*\Z", re.DOTALL)  # greedy: to the last fence
_FINISH_REASONS = {"stop", "length", "tool_calls", "content_filter", "function_call"}  # ChatCompletion's


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


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The pydantic model's JSON schema, made acceptable to OpenAI's strict ``json_schema`` mode.

    Strict mode wants every object closed (``additionalProperties: false``) and
    every property required (optional fields stay nullable through their
    ``anyOf``), no ``$ref`` with sibling keywords, ``anyOf`` rather than ``oneOf``,
    and defaults are useless once everything is required.
    """
    schema = model.model_json_schema()
    return cast(dict[str, Any], _strictify(schema, schema.get("$defs", {}), frozenset()))


def _strictify(node: Any, defs: dict[str, Any], inlining: frozenset[str]) -> Any:
    if isinstance(node, list):
        return [_strictify(item, defs, inlining) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith("#/$defs/") and name in defs and name not in inlining:
            # {"$ref": ..., "description": ...}: strict mode rejects the siblings, so inline the target.
            del node["$ref"]
            node = {**defs[name], **node}
            inlining = inlining | {name}
        else:
            node = {"$ref": ref}  # a recursive model: keep the bare reference
    if "allOf" in node and len(node["allOf"]) == 1:
        only = node.pop("allOf")[0]
        node = {**only, **node}
        return _strictify(node, defs, inlining)
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "default":
            continue
        if key in ("properties", "$defs", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _strictify(sub, defs, inlining) for name, sub in value.items()}
        elif (key in ("items", "additionalProperties", "not", "contains") and isinstance(value, dict)) or (
            key in ("anyOf", "allOf", "prefixItems") and isinstance(value, list)
        ):
            out[key] = _strictify(value, defs, inlining)
        else:
            out[key] = value
    if "properties" in out or (out.get("type") == "object" and "additionalProperties" not in out):
        out["required"] = list(out.get("properties", {}))
        out["additionalProperties"] = False
    return out


def json_objects(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects an answer may be, the likeliest first: the whole answer, the whole answer inside one
    code fence, each fenced piece, then each object in the prose.

    The whole comes first because a fence can sit inside the answer's strings (a
    lesson quoting code): cut at that inner fence, a piece would be a fragment.
    Objects nested in another are not offered on their own.
    """
    whole = [text.strip()]
    if m := _WHOLE_FENCE_RE.match(text):
        whole.append(m[1])
    for candidate in whole:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            yield value
    decoder = json.JSONDecoder()
    for candidate in [m[1] for m in _FENCE_RE.finditer(text)] + [text]:
        start = candidate.find("{")
        while start != -1:
            try:
                value, end = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                end = start + 1
            else:
                if isinstance(value, dict):
                    yield value
            start = candidate.find("{", end)


def extract_json(text: str) -> Any:
    """The likeliest JSON object in ``text`` (see :func:`json_objects`).

    Raises ``json.JSONDecodeError`` describing the first object that does not parse when none does.
    """
    for value in json_objects(text):
        return value
    raise _json_error(text)


def _json_error(text: str) -> json.JSONDecodeError:
    """Why ``text`` holds no JSON object: the error at its first ``{``."""
    start = text.find("{")
    try:
        json.JSONDecoder().raw_decode(text, max(start, 0))
    except json.JSONDecodeError as exc:
        return exc
    return json.JSONDecodeError("no JSON object in the answer", text, 0)


def close_truncated_json(text: str, *, limit: int = 8) -> list[str]:
    """Ways to complete JSON cut off mid-way, most complete first (``[]`` if nothing is open).

    First the text itself with the open string and brackets closed; then the text
    backed up to each earlier point where a value was complete (dropping a
    dangling key or a half-written array item), at most ``limit`` candidates.
    """
    start = text.find("{")
    if start == -1:
        return []
    text = text[start:]
    closers: list[str] = []
    in_string = escaped = string_is_key = False
    expecting_key = False  # inside an object, after "{" or ","
    safe: list[tuple[int, str]] = []  # (end, closers) where everything before is complete
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if not string_is_key:
                    safe.append((index + 1, "".join(reversed(closers))))
            continue
        if char == '"':
            in_string, string_is_key, expecting_key = True, expecting_key, False
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
            expecting_key = char == "{"
            safe.append((index + 1, "".join(reversed(closers))))
        elif char in "}]":
            if closers:
                closers.pop()
            expecting_key = False
            safe.append((index + 1, "".join(reversed(closers))))
        elif char == ",":
            # The value before a comma is complete (numbers and literals end there).
            safe.append((index, "".join(reversed(closers))))
            expecting_key = bool(closers) and closers[-1] == "}"
    if not closers and not in_string:
        return []  # nothing open: the cut was not inside the object
    tail = "".join(reversed(closers))
    options = [text + '"' + tail] if in_string and not string_is_key else []
    if not in_string:
        options.append(text.rstrip() + tail)  # ends on a whole number or literal, perhaps
    for end, closing in reversed(safe):
        option = text[:end].rstrip().rstrip(",") + closing
        if option not in options:
            options.append(option)
        if len(options) >= limit:
            break
    return options


# -- the shared back-off gate ----------------------------------------------------------------


class _BackoffGate:
    """A point in time before which no request may start, shared by all clients of an endpoint.

    When one worker meets a 429 the whole process slows down, instead of the other
    workers running into the same limit and multiplying it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self) -> None:
        while True:
            with self._lock:
                remaining = self._until - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(remaining)


_gates: dict[str, _BackoffGate] = {}
_gates_lock = threading.Lock()


def _gate_for(endpoint: str) -> _BackoffGate:
    with _gates_lock:
        return _gates.setdefault(endpoint, _BackoffGate())


# -- internals -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _SchemaSpec:
    name: str  # OpenAI wants ^[A-Za-z0-9_-]{1,64}$
    schema: dict[str, Any]
    text: str  # compact canonical JSON, for prompts and the cache key


@lru_cache(maxsize=64)
def _spec(model: type[BaseModel]) -> _SchemaSpec:
    schema = strict_json_schema(model)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", model.__name__)[:64] or "answer"
    return _SchemaSpec(name, schema, json.dumps(schema, sort_keys=True, separators=(",", ":")))


def schemas_by_name(*models: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The answer models under the names requests record them by (``DeferredRequest.schema_name``).

    A caller that collects deferred answers (the Batch API) hands this to the
    collector, which validates each answer against the model it names.
    """
    return {_spec(model).name: model for model in models}


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


@dataclass
class _Parsed(Generic[M]):
    value: M | None
    data: Any = None
    problem: str = ""


def _status_detail(exc: openai.APIStatusError) -> str:
    """The server's own words: ``error.message`` when it sent one, else the body."""
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body.get("detail")
        if message:
            return str(message)
    if isinstance(body, str) and body:
        return body
    return exc.message


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, else ``Retry-After`` seconds or date)."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    try:
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
    except ValueError:
        pass
    return parse_retry_after(headers.get("retry-after"))


def _is_quota(exc: openai.APIStatusError) -> bool:
    return exc.status_code == 429 and (exc.code == "insufficient_quota" or exc.type == "insufficient_quota")


def _context_limit(exc: openai.APIStatusError) -> tuple[bool, int | None]:
    """(is it a context-length error, the window the server reported if it did)."""
    detail = _status_detail(exc)
    body = exc.body if isinstance(exc.body, dict) else {}
    hit = exc.code in _CONTEXT_CODES or body.get("type") in _CONTEXT_CODES or bool(_CONTEXT_RE.search(detail))
    if not hit or exc.status_code not in (400, 413, 422, 500):
        return False, None
    if isinstance(body.get("n_ctx"), int):  # llama.cpp's server says it in a field
        return True, body["n_ctx"]
    match = _CONTEXT_MAX_RE.search(detail)
    return True, int(next(g for g in match.groups() if g)) if match else None


def _mentions_format(exc: openai.APIStatusError) -> bool:
    return exc.status_code in (400, 422, 500, 501) and bool(_FORMAT_RE.search(_status_detail(exc)))


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # timeouts included; a host name that does not resolve is not
        return not is_name_resolution_failure(exc)
    if not isinstance(exc, openai.APIStatusError):
        return False
    if _mentions_format(exc) or _context_limit(exc)[0]:
        return False  # llama-cpp-python answers both with HTTP 500; retrying cannot help
    if exc.status_code == 429:
        return not _is_quota(exc)
    return exc.status_code in (408, 409) or exc.status_code >= 500


def _validation_summary(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:8]:
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _parse(content: str, schema: type[M], *, truncated: bool) -> _Parsed[M]:
    """Validate an answer; for one cut off at the token limit, try closing it locally first."""
    if truncated:
        for candidate in close_truncated_json(content):
            try:
                data = json.loads(candidate)
                return _Parsed(schema.model_validate(data), data)
            except (json.JSONDecodeError, ValidationError):
                continue
        return _Parsed(None, problem="the answer was cut off at the token limit (finish_reason 'length')")
    mismatch: tuple[dict[str, Any], ValidationError] | None = None
    for data in json_objects(content):  # the first that fits the schema: a fenced example may come first
        try:
            return _Parsed(schema.model_validate(data), data)
        except ValidationError as exc:
            mismatch = mismatch or (data, exc)
    if mismatch is not None:
        return _Parsed(None, mismatch[0], problem=f"JSON does not match the schema: {_validation_summary(mismatch[1])}")
    error = _json_error(content)
    return _Parsed(None, problem=f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})")


def _repair_prompt(problem: str, spec: _SchemaSpec, *, truncated: bool) -> str:
    if truncated:
        return (
            "Your answer was cut off at the length limit. Answer again with a complete JSON object "
            f"that matches the schema, shorter this time. JSON only, no prose.\nSchema: {spec.text}"
        )
    return (
        f"Your answer could not be used: {problem}. Reply with the corrected JSON object only "
        f"(no prose, no code fences), matching this JSON Schema: {spec.text}"
    )


def _format_instruction(spec: _SchemaSpec) -> str:
    return (
        "Answer with one JSON object and nothing else: no prose, no code fences. "
        f"It must match this JSON Schema: {spec.text}"
    )


def _messages_for(mode: Mode, messages: Sequence[dict[str, str]], spec: _SchemaSpec) -> list[dict[str, str]]:
    """The conversation as sent in ``mode``: without json_schema the schema goes into the system prompt."""
    out = [dict(m) for m in messages]
    if mode == "json_schema":
        return out
    instruction = _format_instruction(spec)
    # Merged into the first system message: some local chat templates accept only one, at the top.
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0].get('content', '')}\n\n{instruction}"
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out


# -- the client ----------------------------------------------------------------------------


class LLMClient:
    """Structured answers from the configured OpenAI-compatible endpoint and model.

    ``backoff_base`` (seconds) scales the jittered exponential back-off between
    retries that come without a ``Retry-After``: the n-th wait is drawn from
    [0, backoff_base * 2**(n-1)], at most 30 s.
    """

    backoff_base: float = 1.0

    def __init__(self, settings: Settings, store: Store, *, defer: Deferral | None = None,
                 max_in_flight: int | None = None, on_tokens: Callable[[int], None] | None = None):
        """``on_tokens(n)``: told the number of answer pieces (about a token each) streamed so far by this
        client, as they arrive, from whichever thread is reading (``draft`` shows it on its stage line)."""
        if not settings.model:
            raise LLMError("no LLM model configured.", hint="Set PAPERDIARY_MODEL (or `model` in paperdiary.toml).")
        require_llm_endpoint(settings)
        self.settings = settings
        self.store = store
        self.model = settings.model
        # The key, and whatever credentials the base URL carries (user:password@, ?api-key=).
        self._secrets = ([settings.api_key] if settings.api_key else []) + url_secrets(settings.base_url)
        # The base URL is explicit so that the openai package never picks one of its own from the
        # environment behind the settings' back; local servers take any key, hence "not-needed".
        self._client = openai.OpenAI(
            base_url=settings.base_url or DEFAULT_BASE_URL,
            api_key=settings.api_key or "not-needed",
            timeout=settings.llm_timeout,
            max_retries=0,  # tenacity retries, below: one layer, so waits do not multiply
        )
        self.endpoint = public_endpoint(str(self._client.base_url))
        # OpenAI's reasoning models reject max_tokens; most other servers only know max_tokens.
        host = urlsplit(self.endpoint).hostname or ""
        self._max_tokens_param = "max_completion_tokens" if host == "api.openai.com" else "max_tokens"
        self._gate = _gate_for(self.endpoint)
        self._mode_lock = threading.Lock()
        self._mode: Mode | None = None
        self._mode_loaded = False
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

        ``paper`` and ``purpose`` label the ledger row. Raises an ``LLMError``:
        ``LLMContextLengthError`` when the prompt does not fit (split it and try
        again), ``LLMOutputError`` when no valid answer came even after a repair,
        ``LLMUnavailableError`` / ``LLMRejectedError`` subclasses for the rest.
        """
        spec = _spec(schema)
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
        validated like any other (a cut-off one closed locally; no repair round: a batch
        cannot hold a conversation), cached under the request's key and entered in the
        ledger at the Batch API's price. Raises ``LLMOutputError`` (or ``LLMRefusalError``)
        for an unusable answer, after recording its tokens as a failed call.
        """
        from openai.types.chat import ChatCompletion

        spec = _spec(schema)
        key = self._cache_key(messages, spec)
        parsed_completion = ChatCompletion.model_validate(completion)
        tally = _Tally(mode=mode)
        tally.add(_messages_for(mode, messages, spec), parsed_completion)
        try:
            content, truncated = self._content(parsed_completion)
        except LLMError:
            self._record(paper, purpose, "failed", tally, 0.0, None, batch=True)
            raise
        parsed = _parse(content, schema, truncated=truncated)
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
        _, mode, _ = self._ask(_PROBE_MESSAGES, _spec(_Probe), 20, tally, start="json_schema")
        self._record(None, "probe", "ok", tally, time.monotonic() - started, None)
        return mode

    # -- one structured call ----------------------------------------------------------

    def _deferred(
        self,
        messages: list[dict[str, str]],
        spec: _SchemaSpec,
        key: str,
        max_tokens: int | None,
        paper: str | None,
        purpose: str,
    ) -> DeferredRequest:
        """The request ``_ask`` would send first (remembered mode, else the top of the ladder)."""
        mode = self._remembered_mode() or MODES[0]
        body = self._request(mode, _messages_for(mode, messages, spec), spec, max_tokens)
        return DeferredRequest(key, body, [dict(m) for m in messages], spec.name, mode, paper, purpose)

    def _generate(
        self,
        messages: list[dict[str, str]],
        spec: _SchemaSpec,
        schema: type[M],
        max_tokens: int | None,
        tally: _Tally,
    ) -> tuple[M, Any, str, Mode]:
        """(value, parsed JSON, raw content, mode): the ladder, then at most one repair."""
        completion, mode, sent = self._ask(messages, spec, max_tokens, tally)
        content, truncated = self._content(completion)
        parsed = _parse(content, schema, truncated=truncated)
        if parsed.value is not None:
            if truncated:
                log.info("%s: closed an answer cut off at the token limit", self.model)
            return parsed.value, parsed.data, content, mode

        log.info("%s", self._redact(f"{self.model} at {self.endpoint}: {parsed.problem}; asking for a repair"))
        repair = [
            *sent,
            {"role": "assistant", "content": content},
            {"role": "user", "content": _repair_prompt(parsed.problem, spec, truncated=truncated)},
        ]
        completion = self._create(self._request(mode, repair, spec, max_tokens), mode=None)
        tally.add(repair, completion)
        content, truncated = self._content(completion)
        parsed = _parse(content, schema, truncated=truncated)
        if parsed.value is not None:
            return parsed.value, parsed.data, content, mode
        raise self._error(
            LLMOutputError, f"model {{model!r}} at {{endpoint}} gave no valid {spec.name} JSON, even after one "
            "repair: {detail}.", detail=shorten(parsed.problem, 300),
            hint="Try a larger or instruction-tuned model, or raise max_tokens if answers are cut off."
            if truncated
            else "Try a larger or instruction-tuned model.",
        )

    def _ask(
        self,
        messages: Sequence[dict[str, str]],
        spec: _SchemaSpec,
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
            sent = _messages_for(mode, messages, spec)
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
        self, mode: Mode, messages: list[dict[str, str]], spec: _SchemaSpec, max_tokens: int | None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": messages}
        if mode == "json_schema":
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": spec.name, "schema": spec.schema, "strict": True},
            }
        elif mode == "json_object":
            # "schema" is llama-cpp-python's extension: it constrains the output to it; others ignore it.
            request["response_format"] = {"type": "json_object", "schema": spec.schema}
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
        return choice.message.content or "", choice.finish_reason == "length"

    # -- transport: retries and error translation ----------------------------------------

    def _create(self, request: dict[str, Any], *, mode: Mode | None) -> ChatCompletion:
        """One chat completion, streamed and put together, with retries; see ``_with_retries`` for ``mode``.

        The whole stream is read inside one try: a stall (no piece within ``llm_timeout``)
        or a drop mid-way fails the try, and the request is sent again.
        """
        def streamed() -> ChatCompletion:
            options: dict[str, Any] = {"stream_options": {"include_usage": True}} if self._stream_usage else {}
            try:
                stream = self._client.chat.completions.create(**request, stream=True, **options)
            except openai.APIStatusError as exc:
                if not (options and exc.status_code in (400, 422) and "stream_options" in _status_detail(exc)):
                    raise
                self._stream_usage = False  # an older server: no usage chunk, so usage is estimated
                stream = self._client.chat.completions.create(**request, stream=True)
            with stream:
                return self._gather(stream)

        return self._with_retries(streamed, mode=mode)

    def _gather(self, stream: Any) -> ChatCompletion:
        """The completion a stream of chunks adds up to; a stream that ends without a finish reason was cut."""
        from openai.types.chat import ChatCompletion

        content: list[str] = []
        refusal: list[str] = []
        finish: str | None = None
        usage: Any = None
        first: Any = None
        for chunk in stream:
            first = first or chunk
            usage = chunk.usage or usage
            for choice in chunk.choices:
                if choice.index != 0:
                    continue
                delta = choice.delta
                if delta is not None and (delta.content or delta.refusal):
                    content.append(delta.content or "")
                    refusal.append(delta.refusal or "")
                    self._count_piece()
                finish = choice.finish_reason or finish
        if finish is None:
            raise openai.APIConnectionError(message="the answer stream ended before the answer did",
                                            request=stream.response.request)
        return ChatCompletion.model_validate({
            "id": getattr(first, "id", "") or "streamed", "object": "chat.completion",
            "created": getattr(first, "created", 0) or 0, "model": getattr(first, "model", "") or self.model,
            "choices": [{"index": 0, "finish_reason": finish if finish in _FINISH_REASONS else "stop",
                         "message": {"role": "assistant", "content": "".join(content) or None,
                                     "refusal": "".join(refusal) or None}}],
            "usage": usage.model_dump() if usage is not None else None,
        })

    def _count_piece(self) -> None:
        with self._streamed_lock:
            self._streamed += 1
            count = self._streamed
        if self._on_tokens is not None:
            self._on_tokens(count)

    def _with_retries(self, call: Callable[[], T], *, mode: Mode | None) -> T:
        """Run ``call`` with retries on transient failures; translate what escapes into LLMError.

        With ``mode`` set, a rejection of that structured-output mode raises _ModeRejected.
        """
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=self._wait,
            # stop_before_delay: never start a wait that would overrun the budget.
            stop=stop_after_attempt(RETRY_ATTEMPTS) | stop_before_delay(self.settings.retry_max_time),
            before_sleep=self._before_sleep,
            reraise=True,
        )

        def attempt() -> T:
            self._gate.wait()
            if self._slots is None:
                return call()
            with self._slots:
                return call()

        try:
            return retrying(attempt)
        except openai.OpenAIError as exc:
            tries = int(retrying.statistics.get("attempt_number", 1))
            error = self._translate(exc, tries, mode)
            if isinstance(error, LLMAuthError):
                raise error from None  # the server's words may echo (part of) the key
            raise error from exc

    def _wait(self, state: RetryCallState) -> float:
        """The server's Retry-After when it sent one, else jittered exponential back-off."""
        error = state.outcome.exception() if state.outcome else None
        retry_after = _retry_after(error)
        if retry_after is not None:
            return retry_after
        return float(wait_random_exponential(multiplier=self.backoff_base, max=MAX_BACKOFF_S)(state))

    def _before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.upcoming_sleep
        if isinstance(error, openai.APIStatusError) and (error.status_code == 429 or _retry_after(error) is not None):
            self._gate.hold(wait)  # every worker on this endpoint waits, not just this one
        log.warning("%s", self._redact(
            f"LLM endpoint {self.endpoint} ({self.model}): {self._reason(error)}; "
            f"try {state.attempt_number + 1} of {RETRY_ATTEMPTS} in {wait:.1f} s"
        ))

    def _reason(self, error: BaseException | None) -> str:
        if isinstance(error, openai.APITimeoutError):
            return f"nothing received for {self.settings.llm_timeout:g} s"
        if isinstance(error, openai.APIConnectionError):
            cause = error.__cause__
            if cause is None:
                return "connection failed"
            return f"connection failed ({shorten(str(cause) or type(cause).__name__, 120)})"
        if isinstance(error, openai.APIStatusError):
            retry_after = _retry_after(error)
            extra = f", Retry-After {retry_after:g} s" if retry_after is not None else ""
            return f"HTTP {error.status_code}{extra}"
        return type(error).__name__ if error else "an error"

    def _translate(self, exc: openai.OpenAIError, tries: int, mode: Mode | None) -> Exception:
        """The LLMError (or _ModeRejected) for what the openai client raised; the server's words redacted."""
        error = self._error
        attempts = plural(tries, "try", "tries")
        if isinstance(exc, openai.APITimeoutError):
            return error(
                LLMUnavailableError,
                f"LLM endpoint {{endpoint}} unreachable: nothing received for {self.settings.llm_timeout:g} s from "
                f"model {{model!r}} ({attempts}).",
                hint="Check OPENAI_BASE_URL / that the server is running; slow local models need a larger "
                "PAPERDIARY_LLM_TIMEOUT.",
            )
        if isinstance(exc, openai.APIConnectionError) and is_name_resolution_failure(exc):
            return error(LLMUnavailableError, "cannot resolve the host name of LLM endpoint {endpoint} (no such host, "
                         "or no network).", hint="Check OPENAI_BASE_URL (base_url) and your network connection.")
        if isinstance(exc, openai.APIConnectionError):
            return error(LLMUnavailableError, f"LLM endpoint {{endpoint}} unreachable ({{detail}}, {attempts}): "
                         "check OPENAI_BASE_URL / that the server is running.", detail=self._reason(exc))
        if not isinstance(exc, openai.APIStatusError):
            return error(LLMError, "LLM endpoint {endpoint}, model {model!r}: {detail}.",
                         detail=f"{type(exc).__name__}: {shorten(str(exc), 300)}")

        status, detail = exc.status_code, self._redact(shorten(_status_detail(exc), 300))
        if mode is not None and mode != "text" and _mentions_format(exc):
            return _ModeRejected(detail, remember=not _SCHEMA_SPECIFIC_RE.search(detail))
        is_context, window = _context_limit(exc)
        if is_context:
            size = f" of {window} tokens" if window else ""
            return error(
                LLMContextLengthError,
                f"the prompt does not fit the context window{size} of model {{model!r}} at {{endpoint}} ({{detail}}).",
                detail=detail, hint="Lower PAPERDIARY_CHUNK_TOKENS, or use a model with a longer context.",
                max_tokens=window,
            )
        if status == 401:
            # The server's message is left out: OpenAI's quotes the key, masked but recognisable.
            return error(LLMAuthError, "LLM endpoint {endpoint} rejected the API key for model {model!r} (HTTP 401).",
                         hint="Check OPENAI_API_KEY (or PAPERDIARY_API_KEY).")
        if status == 403:
            return error(LLMAuthError,
                         "LLM endpoint {endpoint} refused access to model {model!r} (HTTP 403: {detail}).",
                         detail=detail, hint="Check that the API key may use this model.")
        # llama-cpp-python says model_not_found with HTTP 400; a bare 404 may be a wrong path instead.
        if status == 404 or exc.code == "model_not_found":
            if exc.code == "model_not_found" or re.search(r"\bmodel\b", detail, re.IGNORECASE):
                return error(
                    LLMModelNotFoundError,
                    f"LLM endpoint {{endpoint}} has no model {{model!r}} (HTTP {status}: {{detail}}).", detail=detail,
                    hint="Check PAPERDIARY_MODEL; `paperdiary doctor` lists the models it serves.",
                )
            return error(
                LLMRejectedError, "LLM endpoint {endpoint} has no such API route (HTTP 404: {detail}).", detail=detail,
                hint="Check OPENAI_BASE_URL: OpenAI-compatible servers usually want it to end in /v1.",
            )
        if _is_quota(exc):
            return error(
                LLMQuotaError, "LLM endpoint {endpoint}: the account has no credit left for model {model!r} "
                "(HTTP 429 insufficient_quota: {detail}).",
                detail=detail, hint="Check the plan and billing, or use another endpoint or a local model.",
            )
        if status == 429:
            return error(
                LLMRateLimitError, f"LLM endpoint {{endpoint}} still rate-limits model {{model!r}} after {attempts} "
                "({detail}).",
                detail=detail,
                hint="Wait a while, lower PAPERDIARY_LLM_CONCURRENCY, or raise PAPERDIARY_RETRY_MAX_TIME.",
            )
        if _is_transient(exc):
            return error(
                LLMUnavailableError,
                f"LLM endpoint {{endpoint}} kept failing for model {{model!r}}: HTTP {status} after {attempts} "
                "({detail}).",
                detail=detail, hint="Check that the server is running and healthy, or try again later.",
            )
        return error(
            LLMRejectedError,
            f"LLM endpoint {{endpoint}} rejected the request for model {{model!r}} (HTTP {status}: {{detail}}).",
            detail=detail,
        )

    def _error(self, kind: type[E], template: str, *, detail: str | None = None, hint: str | None = None,
               **extra: Any) -> E:
        """An LLMError of ``kind`` about this endpoint and model; ``detail`` (words from outside) is redacted."""
        return kind(template, endpoint=self.endpoint, model=self.model,
                    detail=None if detail is None else self._redact(detail), hint=hint, **extra)

    # -- store: modes, cache, ledger -----------------------------------------------------

    def _remembered_mode(self) -> Mode | None:
        with self._mode_lock:
            if not self._mode_loaded:
                stored = self.store.llm_mode(self.endpoint, self.model)
                self._mode = stored if stored in MODES else None
                self._mode_loaded = True
            return self._mode

    def _remember_mode(self, mode: Mode) -> None:
        with self._mode_lock:
            self._mode, self._mode_loaded = mode, True
            self.store.save_llm_mode(self.endpoint, self.model, mode)

    def _cache_key(self, messages: Sequence[dict[str, str]], spec: _SchemaSpec) -> str:
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
