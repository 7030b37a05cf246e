"""A streamed answer, put together: server-sent chunks (or the plain JSON body some servers send instead)
into one ``ChatCompletion``, and a stream that fails into an error saying what the server did.

A server that answered and then closed the stream, or let it stall, raises ``StreamClosedError``, which
says whether any of the answer had come (``pieces``): llama-cpp-python answers 200 and then closes the
stream when the prompt does not fit its window, and only the same request without ``stream`` shows why.
An error the server sends inside the stream comes out as the openai client raises it (``APIError``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import openai

from paperdiary.text import plural, shorten

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

_FINISH_REASONS = {"stop", "length", "tool_calls", "content_filter", "function_call"}  # ChatCompletion's


class StreamClosedError(openai.APIConnectionError):
    """The server answered, then the stream dropped, stalled or ended before the answer did."""

    def __init__(self, *, request: Any, pieces: int, cause: str, stalled: bool = False):
        self.pieces = pieces  # answer pieces (about a token each) received before it ended
        self.stalled = stalled
        if stalled:
            text = (f"the server answered, then sent nothing for {cause}" if not pieces else
                    f"the server stopped sending after {plural(pieces, 'piece')} of the answer (nothing for {cause})")
        elif not pieces:
            text = f"the server closed the stream before answering ({cause})"
        else:
            text = f"the server closed the stream after {plural(pieces, 'piece')} of the answer ({cause})"
        super().__init__(message=text, request=request)

    @property
    def before_answering(self) -> bool:
        """Closed (not stalled) before the first piece: the server's real answer is one non-streamed try away."""
        return not self.pieces and not self.stalled

    def __str__(self) -> str:
        return self.message


class AnswerTooLongError(Exception):
    """The streamed answer went on past ``max_chars``: reading stops there."""


def is_event_stream(stream: Any) -> bool:
    """False when the server ignored ``stream`` and answered with one JSON body (some proxies, older servers)."""
    content_type = stream.response.headers.get("content-type", "")
    return "json" not in content_type.lower()


def read_stream(stream: Any, *, model: str, timeout: float, on_piece: Callable[[], None],
                max_chars: int | None = None) -> ChatCompletion:
    """The completion a stream adds up to; ``on_piece`` is called for each piece of the answer as it arrives.

    Raises ``StreamClosedError`` for a stream that drops, stalls for ``timeout`` seconds or ends without a
    finish reason; ``AnswerTooLongError`` past ``max_chars`` characters; an error event from the server as
    the openai client's ``APIError``.
    """
    from openai.types.chat import ChatCompletion

    if not is_event_stream(stream):
        return read_body(stream)
    content: list[str] = []
    refusal: list[str] = []
    finish: str | None = None
    usage: Any = None
    first: Any = None
    request = stream.response.request
    length = 0
    try:
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
                    length += len(delta.content or "") + len(delta.refusal or "")
                    if max_chars is not None and length > max_chars:
                        raise AnswerTooLongError(length)
                    on_piece()
                finish = choice.finish_reason or finish
    except openai.APITimeoutError:
        raise StreamClosedError(request=request, pieces=len(content), cause=f"{timeout:g} s", stalled=True) from None
    except openai.APIConnectionError as exc:
        cause = exc.__cause__
        text = shorten(str(cause) or type(cause).__name__, 160) if cause is not None else "connection lost"
        raise StreamClosedError(request=request, pieces=len(content), cause=text) from exc
    if finish is None:
        raise StreamClosedError(request=request, pieces=len(content), cause="it ended without a finish reason")
    return ChatCompletion.model_validate({
        "id": getattr(first, "id", "") or "streamed", "object": "chat.completion",
        "created": getattr(first, "created", 0) or 0, "model": getattr(first, "model", "") or model,
        "choices": [{"index": 0, "finish_reason": finish if finish in _FINISH_REASONS else "stop",
                     "message": {"role": "assistant", "content": "".join(content) or None,
                                 "refusal": "".join(refusal) or None}}],
        "usage": usage.model_dump() if usage is not None else None,
    })


def read_body(stream: Any) -> ChatCompletion:
    """A streamed request answered with one JSON body: the complete answer (or the error it holds)."""
    from openai.types.chat import ChatCompletion

    response = stream.response
    try:
        data = json.loads(response.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise openai.APIError(f"the server answered a streamed request with a body that is not JSON ({exc})",
                              response.request, body=None) from None
    if isinstance(data, dict) and isinstance(data.get("choices"), list):
        return ChatCompletion.model_validate(data)
    error = data.get("error") if isinstance(data, dict) else None
    message = (error.get("message") if isinstance(error, dict) else error) or "a JSON body that is not a completion"
    raise openai.APIError(str(message), response.request, body=error if isinstance(error, dict) else data)
