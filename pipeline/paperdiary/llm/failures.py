"""What the openai client raised, as PaperDiary's LLMError: one table, the way httpx maps transport errors.

Each row of ``FAILURES`` says which errors it covers, whether another try may help (the retry policy asks
``is_transient``), and the error they become, with its one-line message and what to do. The first row that
matches wins. A server that answered is never called unreachable: a stream it closed or let stall is its
own row, and so is an error it reported inside the stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai

from paperdiary.errors import (
    LLMAuthError,
    LLMContextLengthError,
    LLMError,
    LLMModelNotFoundError,
    LLMQuotaError,
    LLMRateLimitError,
    LLMRejectedError,
    LLMUnavailableError,
)
from paperdiary.llm.streaming import StreamClosedError
from paperdiary.retry_after import is_name_resolution_failure, parse_retry_after
from paperdiary.text import plural, shorten

# A server's complaint about the response_format it was sent (mode not supported).
_FORMAT_RE = re.compile(r"response_format|json_schema|json_object|json schema|guided_json", re.IGNORECASE)
# ...about this particular schema, not the mode: fall back for this call, but do not remember it.
SCHEMA_SPECIFIC_RE = re.compile(r"invalid schema|provided json schema", re.IGNORECASE)
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
_MODEL_RE = re.compile(r"\bmodel\b", re.IGNORECASE)


# -- what an error says ------------------------------------------------------------------------------


def status_detail(exc: openai.APIError) -> str:
    """The server's own words: ``error.message`` when it sent one, else the body."""
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body.get("detail")
        if isinstance(message, dict):
            message = message.get("message")
        if message:
            return str(message)
    if isinstance(body, str) and body:
        return body
    return exc.message


def retry_after(exc: BaseException | None) -> float | None:
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


def _status(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, openai.APIStatusError) else None


def _code(exc: BaseException) -> str | None:
    return exc.code if isinstance(exc, openai.APIError) else None


def is_quota(exc: BaseException) -> bool:
    return _status(exc) == 429 and "insufficient_quota" in (_code(exc), getattr(exc, "type", None))


def context_limit(exc: BaseException) -> tuple[bool, int | None]:
    """(is it a context-length error, the window the server reported if it did).

    An HTTP answer (400, 413, 422, or llama-cpp-python's 500) or an error the server sent inside a stream.
    """
    if not isinstance(exc, openai.APIError) or isinstance(exc, openai.APIConnectionError):
        return False, None
    if isinstance(exc, openai.APIStatusError) and exc.status_code not in (400, 413, 422, 500):
        return False, None
    detail = status_detail(exc)
    body = exc.body if isinstance(exc.body, dict) else {}
    if not (exc.code in _CONTEXT_CODES or body.get("type") in _CONTEXT_CODES or _CONTEXT_RE.search(detail)):
        return False, None
    if isinstance(body.get("n_ctx"), int):  # llama.cpp's server says it in a field
        return True, body["n_ctx"]
    match = _CONTEXT_MAX_RE.search(detail)
    return True, int(next(g for g in match.groups() if g)) if match else None


def mentions_format(exc: BaseException) -> bool:
    """A rejection of the request's ``response_format`` (the structured-output mode), not of the request."""
    return _status(exc) in (400, 422, 500, 501) and bool(_FORMAT_RE.search(status_detail(exc)))  # type: ignore[arg-type]


# -- the table ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One row of the table. ``template`` may name {endpoint} {model!r} {detail} (the error's fields) and
    {tries} {status} {timeout}, filled in here."""

    name: str
    matches: Callable[[BaseException], bool]
    transient: bool
    kind: type[LLMError]
    template: str
    hint: str | None = None
    detail: Callable[[BaseException], str | None] = field(default=lambda exc: None)


def _server_words(exc: BaseException) -> str | None:
    return shorten(status_detail(exc), 300) if isinstance(exc, openai.APIError) else None


def _connection_detail(exc: BaseException) -> str:
    cause = exc.__cause__
    if cause is None:
        return "connection failed"
    return f"connection failed ({shorten(str(cause) or type(cause).__name__, 120)})"


def _is_route_404(exc: BaseException) -> bool:
    return _status(exc) == 404 and not _MODEL_RE.search(status_detail(exc))  # type: ignore[arg-type]


FAILURES: tuple[Failure, ...] = (
    Failure("stream closed", lambda exc: isinstance(exc, StreamClosedError), True, LLMUnavailableError,
            "model {model!r} at {endpoint}: {detail} ({tries}).",
            "Check the server's log: it may have run out of memory or crashed while answering.",
            detail=lambda exc: str(exc)),
    Failure("timeout", lambda exc: isinstance(exc, openai.APITimeoutError), True, LLMUnavailableError,
            "LLM endpoint {endpoint} sent nothing for {timeout} s from model {model!r} ({tries}).",
            "Check that the server is running; slow local models need a larger PAPERDIARY_LLM_TIMEOUT."),
    Failure("no such host",
            lambda exc: isinstance(exc, openai.APIConnectionError) and is_name_resolution_failure(exc),
            False, LLMUnavailableError,
            "cannot resolve the host name of LLM endpoint {endpoint} (no such host, or no network).",
            "Check OPENAI_BASE_URL (base_url) and your network connection."),
    Failure("unreachable", lambda exc: isinstance(exc, openai.APIConnectionError), True, LLMUnavailableError,
            "LLM endpoint {endpoint} unreachable ({detail}, {tries}): check OPENAI_BASE_URL / that the server "
            "is running.", detail=_connection_detail),
    Failure("context length", lambda exc: context_limit(exc)[0], False, LLMContextLengthError,
            "the prompt does not fit the context window{window} of model {model!r} at {endpoint} ({detail}).",
            "Set context_tokens to the model's window (or lower chunk_tokens), or use a model with a longer "
            "context.", detail=_server_words),
    Failure("error in the stream",
            lambda exc: isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIStatusError),
            False, LLMRejectedError,
            "model {model!r} at {endpoint} answered, then reported an error in the stream: {detail}.",
            detail=_server_words),
    # The server's message is left out: OpenAI's quotes the key, masked but recognisable.
    Failure("bad key", lambda exc: _status(exc) == 401, False, LLMAuthError,
            "LLM endpoint {endpoint} rejected the API key for model {model!r} (HTTP 401).",
            "Check OPENAI_API_KEY (or PAPERDIARY_API_KEY)."),
    Failure("forbidden", lambda exc: _status(exc) == 403, False, LLMAuthError,
            "LLM endpoint {endpoint} refused access to model {model!r} (HTTP 403: {detail}).",
            "Check that the API key may use this model.", detail=_server_words),
    # llama-cpp-python says model_not_found with HTTP 400; a bare 404 may be a wrong path instead.
    Failure("no such model", lambda exc: _code(exc) == "model_not_found" or (_status(exc) == 404
                                                                             and not _is_route_404(exc)),
            False, LLMModelNotFoundError,
            "LLM endpoint {endpoint} has no model {model!r} (HTTP {status}: {detail}).",
            "Check PAPERDIARY_MODEL; `paperdiary doctor` lists the models it serves.", detail=_server_words),
    Failure("no such route", _is_route_404, False, LLMRejectedError,
            "LLM endpoint {endpoint} has no such API route (HTTP 404: {detail}).",
            "Check OPENAI_BASE_URL: OpenAI-compatible servers usually want it to end in /v1.", detail=_server_words),
    Failure("no credit", is_quota, False, LLMQuotaError,
            "LLM endpoint {endpoint}: the account has no credit left for model {model!r} "
            "(HTTP 429 insufficient_quota: {detail}).",
            "Check the plan and billing, or use another endpoint or a local model.", detail=_server_words),
    Failure("rate limit", lambda exc: _status(exc) == 429, True, LLMRateLimitError,
            "LLM endpoint {endpoint} still rate-limits model {model!r} after {tries} ({detail}).",
            "Wait a while, lower PAPERDIARY_LLM_CONCURRENCY, or raise PAPERDIARY_RETRY_MAX_TIME.",
            detail=_server_words),
    # llama-cpp-python answers a response_format it cannot take with HTTP 500: retrying cannot help.
    Failure("format refused", mentions_format, False, LLMRejectedError,
            "LLM endpoint {endpoint} rejected the request for model {model!r} (HTTP {status}: {detail}).",
            detail=_server_words),
    Failure("server error", lambda exc: (_status(exc) or 0) >= 500 or _status(exc) in (408, 409), True,
            LLMUnavailableError,
            "LLM endpoint {endpoint} kept failing for model {model!r}: HTTP {status} after {tries} ({detail}).",
            "Check that the server is running and healthy, or try again later.", detail=_server_words),
    Failure("rejected", lambda exc: isinstance(exc, openai.APIStatusError), False, LLMRejectedError,
            "LLM endpoint {endpoint} rejected the request for model {model!r} (HTTP {status}: {detail}).",
            detail=_server_words),
    Failure("other", lambda exc: True, False, LLMError, "LLM endpoint {endpoint}, model {model!r}: {detail}.",
            detail=lambda exc: f"{type(exc).__name__}: {shorten(str(exc), 300)}"),
)


# A connection that failed after an earlier try of the same request got an answer: not "unreachable".
STOPPED_ANSWERING = Failure(
    "stopped answering", lambda exc: False, True, LLMUnavailableError,
    "LLM endpoint {endpoint} answered model {model!r} at first, then stopped ({detail}, {tries}).",
    "Check the server's log: it may have crashed or been restarted.", detail=_connection_detail)


def classify(exc: BaseException) -> Failure:
    return next(row for row in FAILURES if row.matches(exc))


def is_transient(exc: BaseException) -> bool:
    """Whether another try of the same request may succeed (the retry policy's question)."""
    return isinstance(exc, openai.OpenAIError) and classify(exc).transient


def reason(exc: BaseException | None, *, timeout: float) -> str:
    """A few words on a failed try, for the line announcing the next one."""
    if isinstance(exc, StreamClosedError):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return f"nothing received for {timeout:g} s"
    if isinstance(exc, openai.APIConnectionError):
        return _connection_detail(exc)
    if isinstance(exc, openai.APIStatusError):
        asked = retry_after(exc)
        return f"HTTP {exc.status_code}" + (f", Retry-After {asked:g} s" if asked is not None else "")
    return type(exc).__name__ if exc else "an error"


def translate(exc: BaseException, *, tries: int, timeout: float, endpoint: str, model: str,
              redact: Callable[[str], str], answered: bool = False) -> LLMError:
    """The LLMError for what the openai client raised; the server's words redacted.

    ``answered``: an earlier try of the request got an answer from the server.
    """
    row = classify(exc)
    if answered and row.name == "unreachable":
        row = STOPPED_ANSWERING
    window = context_limit(exc)[1] if row.kind is LLMContextLengthError else None
    values = {"tries": plural(tries, "try", "tries"), "timeout": f"{timeout:g}", "status": str(_status(exc)),
              "window": f" of {window} tokens" if window else ""}
    template = re.sub(r"\{(tries|timeout|status|window)\}", lambda m: values[m[1]], row.template)
    detail = row.detail(exc)
    extra: dict[str, Any] = {"max_tokens": window} if row.kind is LLMContextLengthError else {}
    return row.kind(template, endpoint=endpoint, model=model, detail=None if detail is None else redact(detail),
                    hint=row.hint, **extra)
