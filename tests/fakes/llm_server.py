"""An OpenAI-compatible server on 127.0.0.1, for tests, benchmarks and demos.

It speaks real HTTP with OpenAI's JSON shapes (answers, usage, errors), so the
real ``openai`` client runs unchanged against it::

    with FakeLLM() as fake:
        fake.script(lambda request: {"title": "A paper"})  # answer every completion
        fake.queue_reply(content='{"title": "first"}')      # ...but this one first
        fake.inject("rate_limit", retry_after=1)            # the next completion gets a 429
        settings = load_settings(tmp_path, overrides={"base_url": fake.base_url, "model": "fake-model"})

Routes: ``POST /v1/chat/completions``, ``POST /v1/embeddings``, ``GET /v1/models``, and the Batch API
(``POST /v1/files``, ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``,
``POST /v1/batches``, ``GET /v1/batches/{id}``).

**Answers.** A completion takes the next queued reply (``queue_reply``), else
the script's handler, a callable ``(request_json) -> Reply | str | dict`` (a
dict is sent as JSON content). The default handler answers with an example
object matching the requested schema (from ``response_format``, or the JSON
Schema quoted in the prompt). Usage is reported unless a Reply says
``usage=None``; tokens are estimated at four characters each.

**Server behaviour** (plain attributes, change them any time):

- ``accepts``: the ``response_format`` types served, default all three. A
  refused ``json_schema`` gets HTTP 400 "not supported", or with
  ``json_schema_rejection = "llama-cpp-python"`` that server's HTTP 500 with a
  request-validation message; a refused ``json_object`` gets LM Studio's 400.
- ``models`` (default ``["fake-model"]``): another model gets 404 ``model_not_found``.
- ``embedding_models`` (default ``["fake-embed"]``) answer ``/v1/embeddings`` deterministically: each
  word hashed to one of ``embedding_dim`` (64) signed buckets, so texts sharing words get close vectors.
- ``api_key``: when set, requests without ``Authorization: Bearer <key>`` get 401.
- ``simulated_latency``: seconds added to every completion.
- ``max_context_tokens``: longer prompts get the context-length error (OpenAI's 400). With
  ``context_error_in_stream`` a streamed one gets what llama-cpp-python sends instead: HTTP 200, then
  the connection closed before the first piece; the same request without ``stream`` gets the 400.
- ``context_overflow``: what a prompt over ``max_context_tokens`` gets: ``"openai"`` (default, the 400
  above), ``"llama-cpp-python"`` (its 400, word for word: "This model's maximum context length is N tokens.
  However, you requested …", and a streamed one 200 then closed, as with ``context_error_in_stream``) or
  ``"truncate"`` (Ollama's way: no error, the prompt cut to the window, usage counting what was kept).
- **The window probe** (one request with ``max_tokens`` 1 and no ``response_format``, as PaperDiary's client
  sends to learn a window) is answered by that context behaviour alone: it takes no queued fault or reply,
  and is listed in ``window_probes``, not ``completion_requests``.
- ``window_report``: how the server tells its window (``max_context_tokens``, else 8192), one of the four
  ways real servers do: ``"vllm"`` (``max_model_len`` in ``GET /v1/models``), ``"llama.cpp"`` (``GET /props``
  ``default_generation_settings.n_ctx``), ``"ollama"`` (``POST /api/show``: ``num_ctx`` in ``parameters``,
  unless ``ollama_num_ctx`` is False, and the trained ``context_length`` in ``model_info``), ``"lm-studio"``
  (``max_context_length`` in ``GET /api/v0/models``); None (default): those routes are 404s.
- ``ignores_stream``: a streamed request gets one plain JSON body, as some proxies and older servers send.
- ``batch_statuses``: what successive retrieves of a batch report (default
  validating, in_progress, completed; ``["completed"]`` completes at once).

**Streaming.** A request with ``"stream": true`` gets the answer as server-sent
events, as OpenAI sends them: pieces of ``stream_piece_chars`` characters,
``stream_interval`` seconds apart, the finish reason, then the usage chunk when
``stream_options.include_usage`` asks for it, then ``[DONE]``.

**Faults** queue FIFO, one per completion request (other routes take none):
``status`` (``code``, ``message``, ``error_code``, ``error_type``, ``headers``; ``echo_headers=True``
adds the request's headers to the message, as careless servers do, Authorization included),
``rate_limit`` (429, ``retry_after`` seconds), ``insufficient_quota`` (429),
``hang`` (sleep ``seconds``, default 30, then answer), ``reset`` (drop the
connection), ``context_length`` (400, ``max_tokens``), ``truncate`` (200,
finish_reason "length", the answer cut to ``keep`` characters, default half; the usage counts the
request's ``max_tokens`` as spent, if it gave one),
``malformed`` (200 with ``content``, default broken JSON); for streamed answers
``stall`` (after ``after`` pieces, send nothing for ``seconds``, default 30, then
go on) and ``drop`` (after ``after`` pieces, drop the connection).

Every request is recorded (``requests``, ``completion_requests``) with its
arrival time, for counting calls and checking waits.

Standalone, for manual runs and benchmarks::

    python -m tests.fakes.llm_server --port 8766 --latency 0.5
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import urlsplit

FaultKind = Literal[
    "status", "rate_limit", "insufficient_quota", "hang", "reset", "context_length", "truncate", "malformed",
    "stall", "drop",
]
FAULT_KINDS = set(FaultKind.__args__)  # type: ignore[attr-defined]
FormatType = Literal["json_schema", "json_object", "text"]
AUTO = "auto"  # Reply.usage default: estimate it


@dataclass
class Reply:
    """One scripted answer to a chat completion."""

    content: str | None = None
    finish_reason: str = "stop"
    usage: dict[str, int] | str | None = AUTO  # AUTO: estimated; None: no usage in the answer
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    refusal: str | None = None
    error: dict[str, Any] | str | None = None  # the body's "error" member when status != 200


Handler = Callable[[dict[str, Any]], "Reply | str | dict[str, Any]"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    json: Any  # the decoded JSON body, or None
    headers: Message  # case-insensitive
    time: float  # time.monotonic() on arrival


@dataclass
class _Fault:
    kind: str
    options: dict[str, Any]


@dataclass
class _Answer:
    status: int
    body: Any  # JSON-able
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


# -- schema examples (the default handler) ---------------------------------------------------


def example_for_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None, name: str = "value") -> Any:
    """A small instance of a JSON Schema: strings "example <name>", one item per array, first enum value."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return example_for_schema(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, name)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return example_for_schema(options[0], defs, name)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {key: example_for_schema(sub, defs, key) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_for_schema(schema.get("items", {}), defs, name)]
    return {"integer": 1, "number": 1.0, "boolean": True, "null": None}.get(kind, f"example {name}")


def requested_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema a completion request asks for: in response_format, else quoted in a message."""
    response_format = request.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema")
    if isinstance(response_format.get("schema"), dict):
        return response_format["schema"]
    decoder = json.JSONDecoder()
    for message in request.get("messages", []):
        text = str(message.get("content") or "")
        start = text.find("{")
        while start != -1:
            try:
                value, _ = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                value = None
            if isinstance(value, dict) and "properties" in value:
                return value
            start = text.find("{", start + 1)
    return None


def default_handler(request: dict[str, Any]) -> dict[str, Any]:
    schema = requested_schema(request)
    return example_for_schema(schema) if schema else {"answer": "example"}


def is_window_probe(request: Any) -> bool:
    """PaperDiary's window probe: a one-token answer asked for, with no response_format."""
    if not isinstance(request, dict) or "response_format" in request:
        return False
    return 1 in (request.get("max_tokens"), request.get("max_completion_tokens"))


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


def prompt_tokens(request: dict[str, Any]) -> int:
    return 3 + sum(4 + estimate_tokens(str(m.get("content") or "")) for m in request.get("messages", []))


def _error(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _mask(key: str) -> str:
    """How OpenAI quotes a wrong key: its start and its last four characters."""
    return key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "*" * len(key)


# -- the server --------------------------------------------------------------------------------


class FakeLLM:
    """An OpenAI-compatible chat-completions, models and batch server on 127.0.0.1, in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, models: list[str] | None = None,
                 api_key: str | None = None):
        self._address = (host, port)
        self.models: list[str] = list(models or ["fake-model"])
        self.embedding_models: list[str] = ["fake-embed"]
        self.embedding_dim = 64
        self.api_key = api_key
        self.accepts: set[str] = {"json_schema", "json_object", "text"}
        self.json_schema_rejection: Literal["400", "llama-cpp-python"] = "400"
        self.simulated_latency = 0.0
        self.stream_interval = 0.0  # seconds between the pieces of a streamed answer
        self.stream_piece_chars = 16  # characters per piece
        self.max_context_tokens: int | None = None
        self.context_error_in_stream = False
        self.context_overflow: Literal["openai", "llama-cpp-python", "truncate"] = "openai"
        self.window_report: Literal["vllm", "llama.cpp", "ollama", "lm-studio"] | None = None
        self.ollama_num_ctx = True
        self.trained_context_tokens = 131072  # what the model was trained for (Ollama's model_info)
        self.ignores_stream = False
        self.batch_statuses: list[str] = ["validating", "in_progress", "completed"]
        self._handler: Handler = default_handler
        self._replies: deque[Reply] = deque()
        self._faults: deque[_Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._files: dict[str, dict[str, Any]] = {}
        self._batches: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # set on stop: a "hang" returns at once
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> FakeLLM:
        server = ThreadingHTTPServer(self._address, _make_handler(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeLLM is not running: use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    # -- scripting -----------------------------------------------------------------

    def script(self, handler: Handler) -> None:
        """Answer completions with ``handler(request_json)`` (after any queued replies)."""
        self._handler = handler

    def queue_reply(
        self,
        content: str | dict[str, Any] | None = None,
        *,
        finish_reason: str = "stop",
        usage: dict[str, int] | str | None = AUTO,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        refusal: str | None = None,
        error: dict[str, Any] | str | None = None,
    ) -> None:
        """Queue the answer to the next completion (FIFO); a dict ``content`` is sent as JSON."""
        text = json.dumps(content) if isinstance(content, dict) else content
        reply = Reply(text, finish_reason, usage, status, dict(headers or {}), delay, refusal, error)
        with self._lock:
            self._replies.append(reply)

    def inject(self, kind: FaultKind, **options: Any) -> None:
        """Queue a fault for the next completion request (FIFO, one per request)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}: one of {', '.join(sorted(FAULT_KINDS))}")
        with self._lock:
            self._faults.append(_Fault(kind, options))

    # -- records -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions" and not is_window_probe(r.json)]

    @property
    def window_probes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions" and is_window_probe(r.json)]

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/embeddings"]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- used by the request handler ---------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _authorised(self, headers: Message) -> _Answer | None:
        """None when the request may proceed, else the 401 answer."""
        if not self.api_key:
            return None
        sent = headers.get("Authorization", "")
        if sent == f"Bearer {self.api_key}":
            return None
        key = sent.removeprefix("Bearer ").strip()
        if not key:
            message = ("You didn't provide an API key. You need to provide your API key in an Authorization "
                       "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
            return _Answer(401, _error(message, "invalid_request_error"))
        message = (f"Incorrect API key provided: {_mask(key)}. You can find your API key at "
                   "https://platform.openai.com/account/api-keys.")
        return _Answer(401, _error(message, "invalid_request_error", "invalid_api_key"))

    def _chat(self, request: dict[str, Any], fault: _Fault | None = None) -> _Answer:
        """Answer one chat completion body (an HTTP request, or a line of a batch)."""
        model = request.get("model")
        if is_window_probe(request) and model in self.models:
            return self._probe_answer(request)
        options = fault.options if fault else {}
        if fault is not None:
            answer = self._fault_answer(fault, request)
            if answer is not None:
                return answer
        if model not in self.models:
            return _Answer(404, _error(f"The model `{model}` does not exist or you do not have access to it.",
                                       "invalid_request_error", "model_not_found"))
        tokens = prompt_tokens(request)
        if self.max_context_tokens is not None and tokens > self.max_context_tokens:
            if self.context_overflow != "truncate":
                return self._context_error(self.max_context_tokens, tokens, request)
            tokens = self.max_context_tokens
        rejection = self._format_rejection(request)
        if rejection is not None:
            return rejection

        if fault is not None and fault.kind == "malformed":
            reply = Reply(options.get("content", '{"title": "unterminated, "items": [1, 2'))
        else:
            with self._lock:
                queued = self._replies.popleft() if self._replies else None
            reply = queued or _as_reply(self._handler(request))
            if fault is not None and fault.kind == "truncate":
                text = reply.content or ""
                keep = int(options.get("keep", len(text) // 2))
                reply = Reply(text[:keep], "length", reply.usage)
        if reply.status != 200:
            return _Answer(reply.status, {"error": reply.error or {"message": f"HTTP {reply.status}",
                                                                   "type": "server_error", "code": None}},
                           reply.headers, reply.delay)
        return _Answer(200, self._completion(request, reply, tokens), reply.headers, reply.delay)

    def _fault_answer(self, fault: _Fault, request: dict[str, Any]) -> _Answer | None:
        """The answer a fault forces, or None when it only alters the normal answer."""
        options, model = fault.options, request.get("model")
        if fault.kind == "status":
            code = int(options.get("code", 503))
            error = {"message": options.get("message", f"The server had an error (HTTP {code})."),
                     "type": options.get("error_type", "server_error" if code >= 500 else "invalid_request_error"),
                     "param": None, "code": options.get("error_code")}
            return _Answer(code, options.get("body", {"error": error}), dict(options.get("headers", {})))
        if fault.kind == "rate_limit":
            seconds = options.get("retry_after", 1)
            message = (f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, Requested 1. "
                       f"Please try again in {seconds}s.")
            headers = {"Retry-After": str(seconds), **options.get("headers", {})}
            return _Answer(429, _error(message, "requests", "rate_limit_exceeded"), headers)
        if fault.kind == "insufficient_quota":
            message = ("You exceeded your current quota, please check your plan and billing details. For more "
                       "information on this error, read the docs: "
                       "https://platform.openai.com/docs/guides/error-codes/api-errors.")
            return _Answer(429, _error(message, "insufficient_quota", "insufficient_quota"))
        if fault.kind == "context_length":
            limit = int(options.get("max_tokens", self.max_context_tokens or 8192))
            return self._context_error(limit, max(prompt_tokens(request), limit + 1))
        if fault.kind == "hang":
            self._sleep(float(options.get("seconds", 30.0)))
        return None  # hang (after the wait), truncate, malformed, stall and drop answer normally, altered

    @property
    def window(self) -> int:
        return self.max_context_tokens or 8192

    def _models(self) -> _Answer:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        if self.window_report == "vllm":
            data = [item | {"root": item["id"], "max_model_len": self.window} for item in data]
        return _Answer(200, {"object": "list", "data": data})

    def _window_route(self, method: str, path: str, body: Any) -> _Answer | None:
        """``/props``, ``/api/show``, ``/api/ps`` and ``/api/v0/models`` as the server ``window_report`` names
        answers them; None for a route this server does not have."""
        report = self.window_report
        if report == "llama.cpp" and (method, path) == ("GET", "/props"):
            return _Answer(200, {"default_generation_settings": {"n_ctx": self.window, "n_predict": -1},
                                 "total_slots": 1, "model_path": f"/models/{self.models[0]}.gguf"})
        if report == "ollama" and (method, path) == ("POST", "/api/show"):
            model = (body or {}).get("model") or (body or {}).get("name")
            if model not in self.models:
                return _Answer(404, {"error": f"model '{model}' not found"})
            parameters = f"num_ctx                        {self.window}\n" if self.ollama_num_ctx else ""
            return _Answer(200, {"modelfile": "# Modelfile", "parameters": parameters + 'stop "<|im_end|>"',
                                 "template": "{{ .Prompt }}", "details": {"family": "llama"},
                                 "model_info": {"general.architecture": "llama",
                                                "llama.context_length": self.trained_context_tokens}})
        if report == "ollama" and (method, path) == ("GET", "/api/ps"):
            return _Answer(200, {"models": []})  # nothing loaded yet
        if report == "lm-studio" and (method, path) == ("GET", "/api/v0/models"):
            data = [{"id": m, "object": "model", "type": "llm", "state": "not-loaded",
                     "max_context_length": self.window} for m in self.models]
            return _Answer(200, {"object": "list", "data": data})
        return None

    def _embeddings(self, request: dict[str, Any]) -> _Answer:
        model = request.get("model")
        if model not in self.embedding_models:
            return _Answer(404, _error(f"The model `{model}` does not exist or you do not have access to it.",
                                       "invalid_request_error", "model_not_found"))
        inputs = request.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        if not texts or not all(isinstance(t, str) and t for t in texts):
            return _Answer(400, _error("'input' must be a non-empty string or array of non-empty strings.",
                                       "invalid_request_error", None, "input"))
        data = [{"object": "embedding", "index": n, "embedding": self.embed_text(text)} for n, text in enumerate(texts)]
        tokens = sum(estimate_tokens(text) for text in texts)
        return _Answer(200, {"object": "list", "data": data, "model": model,
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def embed_text(self, text: str) -> list[float]:
        """The deterministic vector this server gives ``text`` (not normalised)."""
        vector = [0.0] * self.embedding_dim
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            digest = hashlib.sha256(word.encode()).digest()
            vector[digest[0] % self.embedding_dim] += 1.0 if digest[1] % 2 else -1.0
        return vector

    def _probe_answer(self, request: dict[str, Any]) -> _Answer:
        """The window probe: over the window, the context behaviour; else one token, as a server answers."""
        tokens = prompt_tokens(request)
        limit = self.max_context_tokens
        if limit is not None and tokens > limit:
            if self.context_overflow != "truncate":
                return self._context_error(limit, tokens, request)
            tokens = limit
        body = self._completion(request, Reply("a", "length", usage=None), tokens)
        body["usage"] = {"prompt_tokens": tokens, "completion_tokens": 1, "total_tokens": tokens + 1}
        return _Answer(200, body)

    def _context_error(self, limit: int, tokens: int, request: dict[str, Any] | None = None) -> _Answer:
        if self.context_overflow == "llama-cpp-python":  # llama_cpp/server/errors.py, for a chat completion
            completion = (request or {}).get("max_tokens")
            message = (f"This model's maximum context length is {limit} tokens. However, you requested "
                       f"{(completion or 0) + tokens} tokens ({tokens} in the messages, {completion} in the "
                       "completion). Please reduce the length of the messages or completion.")
            return _Answer(400, _error(message, "invalid_request_error", "context_length_exceeded", "messages"))
        message = (f"This model's maximum context length is {limit} tokens. However, your messages resulted in "
                   f"{tokens} tokens. Please reduce the length of the messages.")
        return _Answer(400, _error(message, "invalid_request_error", "context_length_exceeded", "messages"))

    def _format_rejection(self, request: dict[str, Any]) -> _Answer | None:
        kind = (request.get("response_format") or {}).get("type")
        if kind is None or kind in self.accepts:
            return None
        if kind == "json_schema" and self.json_schema_rejection == "llama-cpp-python":
            # llama-cpp-python's FastAPI route wraps its request-validation error as an HTTP 500.
            detail = ("1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
                      "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
                      "'ctx': {'expected': \"'text' or 'json_object'\"}}")
            return _Answer(500, _error(detail, "internal_server_error"))
        if kind == "json_object":
            allowed = " or ".join(f"'{t}'" for t in ("json_schema", "text") if t in self.accepts) or "'text'"
            return _Answer(400, {"error": f"'response_format.type' must be {allowed}"})  # LM Studio's shape
        return _Answer(400, _error(f"response_format type '{kind}' is not supported by this server.",
                                   "invalid_request_error", None, "response_format"))

    def _completion(self, request: dict[str, Any], reply: Reply, tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self._new_id("chatcmpl-fake"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model"),
            "system_fingerprint": "fp_fake",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "refusal": reply.refusal},
                "finish_reason": reply.finish_reason,
                "logprobs": None,
            }],
        }
        if reply.usage == AUTO:
            completion = estimate_tokens(reply.content or reply.refusal or "")
            limit = request.get("max_tokens") or request.get("max_completion_tokens")
            if reply.finish_reason == "length" and limit:
                completion = int(limit)  # cut at max_tokens, as a real server counts it
            body["usage"] = {"prompt_tokens": tokens, "completion_tokens": completion,
                             "total_tokens": tokens + completion}
        elif reply.usage is not None:
            body["usage"] = reply.usage
        return body

    def _stream_events(self, request: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
        """A completion body as the chunks a streamed answer sends (``[DONE]`` not included)."""
        choice = body["choices"][0]
        message = choice["message"]
        base = {key: body[key] for key in ("id", "created", "model", "system_fingerprint")}
        base["object"] = "chat.completion.chunk"
        usage_asked = bool((request.get("stream_options") or {}).get("include_usage"))
        if usage_asked:
            base["usage"] = None

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                                        "logprobs": None}]}

        text, size = message.get("content") or "", max(1, self.stream_piece_chars)
        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": text[i:i + size]}) for i in range(0, len(text), size)]
        if message.get("refusal"):
            events.append(chunk({"refusal": message["refusal"]}))
        events.append(chunk({}, choice["finish_reason"]))
        if usage_asked and body.get("usage") is not None:
            events.append(base | {"choices": [], "usage": body["usage"]})
        return events

    # -- batch API -------------------------------------------------------------------------

    def _save_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        record: dict[str, Any] = {"id": self._new_id("file-fake"), "object": "file", "bytes": len(data),
                  "created_at": int(time.time()), "filename": filename, "purpose": purpose,
                  "status": "processed"}
        with self._lock:
            self._files[record["id"]] = {"meta": record, "data": data}
        return record

    def _create_batch(self, body: dict[str, Any]) -> _Answer:
        with self._lock:
            source = self._files.get(body.get("input_file_id", ""))
        if source is None:
            return _Answer(400, _error("No such file: input_file_id.", "invalid_request_error", None,
                                       "input_file_id"))
        batch = {"id": self._new_id("batch_fake"), "object": "batch", "endpoint": body.get("endpoint"),
                 "input_file_id": body["input_file_id"], "completion_window": body.get("completion_window", "24h"),
                 "created_at": int(time.time()), "metadata": body.get("metadata"), "errors": None,
                 "output_file_id": None, "error_file_id": None,
                 "request_counts": {"total": 0, "completed": 0, "failed": 0}}
        with self._lock:
            self._batches[batch["id"]] = {"batch": batch, "step": 0}
        return _Answer(200, self._batch_view(batch["id"], advance=False))

    def _batch_view(self, batch_id: str, *, advance: bool) -> dict[str, Any] | None:
        """The batch as a retrieve reports it; each retrieve moves it one status on."""
        with self._lock:
            entry = self._batches.get(batch_id)
            if entry is None:
                return None
            if advance:
                entry["step"] = min(entry["step"] + 1, len(self.batch_statuses) - 1)
            status = self.batch_statuses[min(entry["step"], len(self.batch_statuses) - 1)]
            batch = entry["batch"]
            run = status == "completed" and batch["output_file_id"] is None and batch["error_file_id"] is None
        if run:
            self._run_batch(batch)
        with self._lock:
            view = dict(batch, status=status)
            if status == "completed":
                view["completed_at"] = int(time.time())
            return view

    def _run_batch(self, batch: dict[str, Any]) -> None:
        """Answer every request line through the same logic as HTTP completions (no faults)."""
        with self._lock:
            lines = self._files[batch["input_file_id"]]["data"].decode("utf-8").splitlines()
        done: list[str] = []
        failed: list[str] = []
        for line in filter(str.strip, lines):
            item = json.loads(line)
            answer = self._chat(item.get("body", {}))
            out = {"id": self._new_id("batch_req_"), "custom_id": item.get("custom_id"),
                   "response": {"status_code": answer.status, "request_id": self._new_id("req_"),
                                "body": answer.body},
                   "error": None}
            (done if answer.status == 200 else failed).append(json.dumps(out))
        output = self._save_file(("\n".join(done) + "\n").encode(), "batch_output.jsonl", "batch_output") \
            if done else None
        errors = self._save_file(("\n".join(failed) + "\n").encode(), "batch_errors.jsonl", "batch_output") \
            if failed else None
        with self._lock:
            batch["output_file_id"] = output["id"] if output else None
            batch["error_file_id"] = errors["id"] if errors else None
            batch["request_counts"] = {"total": len(done) + len(failed), "completed": len(done),
                                       "failed": len(failed)}


def _as_reply(value: Reply | str | dict[str, Any]) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(value)
    return Reply(json.dumps(value))


def _make_handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the openai client expects

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet: tests read ``fake.requests`` instead."""

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away between requests (it closed a streamed answer or gave up on a stall)

        def do_GET(self) -> None:
            self._guarded(self._get)

        def do_POST(self) -> None:
            self._guarded(self._post)

        def _guarded(self, serve: Callable[[bytes], None]) -> None:
            try:
                serve(self._read_body())
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout on a "hang")

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = bytearray()
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    data += self.rfile.read(size)
                    self.rfile.readline()
                self.rfile.readline()
                return bytes(data)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _record(self, body: bytes) -> tuple[str, Any]:
            path = urlsplit(self.path).path
            try:
                data = json.loads(body) if body and "json" in self.headers.get("Content-Type", "") else None
            except json.JSONDecodeError:
                data = None
            fake._record(RecordedRequest(self.command, path, data, self.headers, time.monotonic()))
            return path, data

        def _get(self, body: bytes) -> None:
            path, _ = self._record(body)
            if (denied := fake._authorised(self.headers)) is not None:
                return self._answer(denied)
            if path == "/v1/models":
                return self._answer(fake._models())
            if (window := fake._window_route("GET", path, None)) is not None:
                return self._answer(window)
            parts = path.strip("/").split("/")
            if parts[:2] == ["v1", "batches"] and len(parts) == 3:
                view = fake._batch_view(parts[2], advance=True)
                return self._answer(_Answer(200, view) if view else _not_found(f"No batch with id '{parts[2]}'."))
            if parts[:2] == ["v1", "files"] and len(parts) in (3, 4):
                with fake._lock:
                    stored = fake._files.get(parts[2])
                if stored is None:
                    return self._answer(_not_found(f"No such File object: {parts[2]}"))
                if len(parts) == 3:
                    return self._answer(_Answer(200, stored["meta"]))
                if parts[3] == "content":
                    return self._send(200, stored["data"], "application/octet-stream")
            self._answer(_not_found(f"Invalid URL (GET {path})"))

        def _post(self, body: bytes) -> None:
            path, data = self._record(body)
            if (denied := fake._authorised(self.headers)) is not None:
                return self._answer(denied)
            if path == "/v1/chat/completions":
                fault = None if is_window_probe(data) else fake._next_fault()
                if fault is not None and fault.options.get("echo_headers"):
                    echoed = "; ".join(f"{name}: {value}" for name, value in self.headers.items())
                    fault.options["message"] = f"{fault.options.get('message', 'Bad request')} (headers: {echoed})"
                fake._sleep(fake.simulated_latency)
                if fault is not None and fault.kind == "reset":
                    return self._reset()
                request = data or {}
                streamed = bool(request.get("stream")) and not fake.ignores_stream
                answer = fake._chat(request, fault)
                closes = fake.context_error_in_stream or fake.context_overflow == "llama-cpp-python"
                if streamed and closes and answer.status == 400 and \
                        "maximum context length" in json.dumps(answer.body):
                    return self._stream_closed_before_answering()
                if streamed and answer.status == 200:
                    return self._stream(answer, request, fault)
                return self._answer(answer)
            if (window := fake._window_route("POST", path, data)) is not None:
                return self._answer(window)
            if path == "/v1/embeddings":
                return self._answer(fake._embeddings(data or {}))
            if path == "/v1/files":
                fields = _multipart(self.headers.get("Content-Type", ""), body)
                upload = fields.get("file")
                if upload is None:
                    return self._answer(_Answer(400, _error("Missing file.", "invalid_request_error", None, "file")))
                meta = fake._save_file(upload[1], upload[0] or "upload.jsonl",
                                       fields.get("purpose", (None, b"batch"))[1].decode())
                return self._answer(_Answer(200, meta))
            if path == "/v1/batches":
                return self._answer(fake._create_batch(data or {}))
            self._answer(_not_found(f"Invalid URL (POST {path})"))

        def _answer(self, answer: _Answer) -> None:
            if answer.delay:
                fake._sleep(answer.delay)
            payload = answer.body if isinstance(answer.body, (bytes, str)) else json.dumps(answer.body)
            data = payload.encode() if isinstance(payload, str) else payload
            self._send(answer.status, data, "application/json", answer.headers)

        def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-request-id", f"req_{time.monotonic_ns()}")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, answer: _Answer, request: dict[str, Any], fault: _Fault | None) -> None:
            """Send a completion as server-sent events, piece by piece (a stall or a drop on the way if asked)."""
            if answer.delay:
                fake._sleep(answer.delay)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("x-request-id", f"req_{time.monotonic_ns()}")
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            kind = fault.kind if fault is not None else None
            after = int(fault.options.get("after", 3)) if fault is not None else -1
            events = [json.dumps(event) for event in fake._stream_events(request, answer.body)] + ["[DONE]"]
            for n, event in enumerate(events):
                if n == after and kind == "stall":
                    fake._sleep(float(fault.options.get("seconds", 30.0)))  # type: ignore[union-attr]
                if n == after and kind == "drop":
                    return self._reset()
                if n and fake.stream_interval:
                    fake._sleep(fake.stream_interval)
                data = f"data: {event}\n\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _stream_closed_before_answering(self) -> None:
            """llama-cpp-python's answer to a streamed prompt longer than its window: 200, then nothing."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            self.connection.close()

        def _reset(self) -> None:
            # SO_LINGER 0 makes close() send a TCP RST, as a crashed server does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

    return Handler


def _not_found(message: str) -> _Answer:
    return _Answer(404, _error(message, "invalid_request_error"))


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """form-data fields -> (filename, bytes)."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True)
            fields[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible LLM on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--model", action="append", help="a model to serve (repeatable; default fake-model)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every completion")
    args = parser.parse_args(argv)
    with FakeLLM(port=args.port, models=args.model) as fake:
        fake.simulated_latency = args.latency
        print(f"Serving {', '.join(fake.models)}. Use:")
        print(f"  export OPENAI_BASE_URL='{fake.base_url}' PAPERDIARY_MODEL='{fake.models[0]}'")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("bye")


if __name__ == "__main__":
    main()
