"""The model's context window, where a server says it.

Four ways, tried in this order, each one request that a server without it answers with a 404:

- vLLM: ``GET {base_url}/models`` lists the model with ``max_model_len``;
- llama.cpp's ``llama-server`` (and servers copying it): ``GET /props`` has ``n_ctx``, under
  ``default_generation_settings`` in current versions (per slot: with ``--parallel 4`` a quarter);
- Ollama: ``POST /api/show`` has the served ``num_ctx`` in ``parameters`` when the model file sets one;
  else ``GET /api/ps`` has a loaded model's ``context_length``; else ``/api/show``'s ``model_info`` has the
  model's trained ``context_length``, which Ollama does not serve unless told to: its default window is
  4,096 tokens (and it cuts longer prompts silently, so PaperDiary must not send them);
- LM Studio: ``GET /api/v0/models`` lists the model with ``loaded_context_length`` (when loaded) or
  ``max_context_length``.

``/props`` and ``/api/...`` live at the server's root, ``base_url`` without its ``/v1``. When no server
says, the ``context_tokens`` setting does. Without one, a local server that has none of these routes
(llama-cpp-python's) is asked once with a probe: a prompt of filler (never paper text) longer than any
window a local machine serves, with ``max_tokens=1``, whose context-length error names the window
(``This model's maximum context length is 8192 tokens``). A rejection is tokenised and refused at once;
a server that cuts the prompt silently instead (Ollama, text-generation-webui) gives no number and the
window stays unknown. Else today's budgets apply (``chunk_tokens``, answers bounded by an entry's size
on a local server). The client remembers the answer per endpoint and model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OLLAMA_DEFAULT_WINDOW = 4096
# The probe's length in filler tokens: above any window a local machine serves (128k is the usual most), yet
# small enough that a server which takes it in costs one long prompt, not an hour.
PROBE_TOKENS = 262_144

Get = Callable[[str], Any]  # a URL -> its JSON (raises when the server has no such route)
Post = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class ContextWindow:
    tokens: int | None  # None: unknown
    source: str  # where it came from, for `doctor` and the logs
    assumed: bool = False  # a server's default rather than what it says it serves: a setting overrides it

    def describe(self) -> str:
        if self.tokens is None:
            return f"unknown ({self.source})"
        return f"{self.tokens:,} tokens ({self.source})"


UNKNOWN = ContextWindow(None, "no server or setting says; chunks of chunk_tokens")


def server_root(base_url: str) -> str:
    """``http://host:8080/v1`` -> ``http://host:8080``: where ``/props`` and ``/api/...`` live."""
    return re.sub(r"/v1/?$", "", base_url.rstrip("/"))


def _positive(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def _listed(data: Any, model: str) -> dict[str, Any] | None:
    """The entry for ``model`` in a ``{"data": [{"id": ...}, ...]}`` listing (the only one, if just one)."""
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    entries = [item for item in items if isinstance(item, dict)]
    for item in entries:
        if item.get("id") == model:
            return item
    return entries[0] if len(entries) == 1 else None


def from_vllm(get: Get, base_url: str, model: str) -> ContextWindow | None:
    entry = _listed(get(f"{base_url.rstrip('/')}/models"), model)
    tokens = _positive(entry.get("max_model_len")) if entry else None
    return ContextWindow(tokens, "vLLM /v1/models max_model_len") if tokens else None


def from_llama_cpp(get: Get, base_url: str, model: str) -> ContextWindow | None:
    data = get(f"{server_root(base_url)}/props")
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    tokens = _positive(settings.get("n_ctx")) if isinstance(settings, dict) else None
    tokens = tokens or _positive(data.get("n_ctx"))
    return ContextWindow(tokens, "llama.cpp /props n_ctx") if tokens else None


def from_ollama(get: Get, post: Post, base_url: str, model: str) -> ContextWindow | None:
    data = post(f"{server_root(base_url)}/api/show", {"model": model})
    if not isinstance(data, dict) or not ("model_info" in data or "parameters" in data):
        return None
    match = re.search(r"^\s*num_ctx\s+(\d+)", str(data.get("parameters") or ""), re.M)
    if match and int(match[1]) > 0:
        return ContextWindow(int(match[1]), "Ollama /api/show num_ctx")
    try:  # a loaded model's served window (OLLAMA_CONTEXT_LENGTH included), in newer Ollama
        running = get(f"{server_root(base_url)}/api/ps")
    except Exception:
        running = None
    models = running.get("models") if isinstance(running, dict) else None
    for item in models if isinstance(models, list) else []:
        if isinstance(item, dict) and model in (item.get("name"), item.get("model")):
            if tokens := _positive(item.get("context_length")):
                return ContextWindow(tokens, "Ollama /api/ps context_length")
    info = data.get("model_info")
    info = info if isinstance(info, dict) else {}
    trained = next((_positive(v) for k, v in info.items() if str(k).endswith(".context_length")), None)
    if trained and trained <= OLLAMA_DEFAULT_WINDOW:
        return ContextWindow(trained, "Ollama /api/show context_length")
    note = f"the model takes {trained:,}; " if trained else ""
    return ContextWindow(OLLAMA_DEFAULT_WINDOW, f"Ollama's default: no num_ctx in /api/show, {note}"
                                                "set num_ctx or context_tokens for more", assumed=True)


def from_lm_studio(get: Get, base_url: str, model: str) -> ContextWindow | None:
    entry = _listed(get(f"{server_root(base_url)}/api/v0/models"), model)
    if not entry:
        return None
    loaded = _positive(entry.get("loaded_context_length"))
    if loaded:
        return ContextWindow(loaded, "LM Studio /api/v0/models loaded_context_length")
    tokens = _positive(entry.get("max_context_length"))
    return ContextWindow(tokens, "LM Studio /api/v0/models max_context_length") if tokens else None


def probe_messages(tokens: int = PROBE_TOKENS) -> list[dict[str, str]]:
    """The probe's one message: ``tokens`` tokens of filler (" a" is one token in every common vocabulary)."""
    return [{"role": "user", "content": "a" + " a" * (tokens - 1)}]


def ask_server(get: Get, post: Post, base_url: str, model: str,
               on_error: Callable[[str, Exception], None] = lambda way, exc: None) -> ContextWindow | None:
    """The window the server reports, the first of the four ways that answers; None when none does.

    ``get``/``post`` raise for a route the server does not have; ``on_error`` hears of each such way.
    """
    ways: list[tuple[str, Callable[[], ContextWindow | None]]] = [
        ("vLLM", lambda: from_vllm(get, base_url, model)),
        ("llama.cpp", lambda: from_llama_cpp(get, base_url, model)),
        ("Ollama", lambda: from_ollama(get, post, base_url, model)),
        ("LM Studio", lambda: from_lm_studio(get, base_url, model)),
    ]
    for name, way in ways:
        try:
            window = way()
        except Exception as exc:  # a 404, a refused connection, an HTML page: this server does not say so
            on_error(name, exc)
            continue
        if window is not None:
            return window
    return None
