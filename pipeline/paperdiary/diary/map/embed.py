"""Entries -> unit vectors: WordLlama from its wheel (offline), or an OpenAI-compatible /v1/embeddings; cached.

What is embedded for an entry is its title, one-line description and key points
(:func:`entry_text`). Vectors are cached in the store per (embedder, text hash)
as float32 bytes, so a warm map embeds only the entries whose text changed.

WordLlama's wheel carries its weights (``wordllama/weights/l2_supercat_256.safetensors``)
and its tokenizer's JSON, but its loader looks for the tokenizer in a ``tokenizer/``
folder the wheel does not have: the JSON is copied into a cache folder's ``tokenizers/``
and the model loaded with ``disable_download=True``, so nothing is ever fetched.
A text with no known token embeds to the zero vector; rows are normalised with a
floor so that it stays zero instead of becoming NaN.

An ``embedder`` setting other than ``wordllama`` names an embedding model served at
``embedder_url`` (default ``base_url``); configured means used: an unreachable
endpoint is an error, never a silent fallback to WordLlama.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from paperdiary.errors import DiaryError
from paperdiary.settings import Settings

if TYPE_CHECKING:
    import numpy as np

    from paperdiary.state.store import Store

WORDLLAMA = "wordllama"
WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256
_NORM_FLOOR = 1e-12  # below this a vector is taken for zero: normalising it would divide by ~0
_BATCH = 256  # texts per embedding request (OpenAI accepts up to 2048 inputs; local servers fewer)


class Embedder(Protocol):
    """Turns texts into vectors, one row per text (not necessarily normalised)."""

    @property
    def name(self) -> str:
        """Who made the vectors: the cache key (the same name must give the same vectors)."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def entry_text(title: str, description: str, key_points: Sequence[str]) -> str:
    """What an entry is about, as one text: its title, description and key points, one per line."""
    lines = [title, description, *key_points]
    return "\n".join(" ".join(line.split()) for line in lines if line and line.strip())


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1; a (near-)zero row stays zero, never NaN."""
    import numpy as np

    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.where(norms > _NORM_FLOOR, matrix / np.maximum(norms, _NORM_FLOOR), 0.0).astype(np.float32)


# --------------------------------------------------------------------------- WordLlama, from its wheel

_models: dict[Path, object] = {}
_models_lock = threading.Lock()


def _import_wordllama() -> Any:
    """``wordllama.WordLlama``, leaving the root logger as it was: the package's import calls
    ``logging.basicConfig(level=INFO)``, which would print every library's INFO records (each HTTP request)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        from wordllama import WordLlama
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return WordLlama


def load_wordllama(cache_dir: Path) -> object:
    """WordLlama's model from the installed wheel, its tokenizer JSON copied into ``cache_dir/tokenizers``.

    Loaded once per process and folder. Never downloads: a wheel without its files is an error.
    """
    cache_dir = cache_dir.resolve()
    with _models_lock:
        if cache_dir in _models:
            return _models[cache_dir]
        WordLlama = _import_wordllama()  # noqa: N806 - a class

        target = cache_dir / "tokenizers"
        target.mkdir(parents=True, exist_ok=True)
        bundled = resources.files("wordllama").joinpath("tokenizers")
        for source in bundled.iterdir():
            # Only the tokenizer's JSON: the folder is also a Python package (__init__.py, __pycache__).
            if source.name.endswith(".json") and source.is_file():
                copy = target / source.name
                if not copy.is_file() or copy.stat().st_size != len(source.read_bytes()):
                    with resources.as_file(source) as path:
                        shutil.copyfile(path, copy)
        try:
            model = WordLlama.load(config=WORDLLAMA_CONFIG, dim=WORDLLAMA_DIM, cache_dir=cache_dir,
                                   disable_download=True)
        except (FileNotFoundError, ValueError) as exc:
            raise DiaryError(f"the wordllama package has no bundled model ({exc}).",
                             hint="Reinstall it: pip install --force-reinstall 'paperdiary[map]'.") from None
        _models[cache_dir] = model
        return model


class WordLlamaEmbedder:
    """The offline embedder: WordLlama's 256-dimension model, shipped in its wheel."""

    name = f"{WORDLLAMA}:{WORDLLAMA_CONFIG}_{WORDLLAMA_DIM}"

    def __init__(self, cache_dir: Path):
        self.cache_dir = cache_dir

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        model = load_wordllama(self.cache_dir)
        if not texts:
            return np.zeros((0, WORDLLAMA_DIM), dtype=np.float32)
        return np.asarray(model.embed(list(texts), norm=False), dtype=np.float32)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- an OpenAI-compatible endpoint


class EndpointEmbedder:
    """Embeddings from an OpenAI-compatible ``/v1/embeddings``, through the LLM client's retries and errors."""

    def __init__(self, settings: Settings, store: Store):
        from paperdiary.llm.client import LLMClient

        self.model = settings.embedder
        self.client = LLMClient(replace(settings, model=settings.embedder,
                                        base_url=settings.embedder_url or settings.base_url), store)

    @property
    def name(self) -> str:
        return f"endpoint:{self.client.endpoint}:{self.model}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        rows: list[list[float]] = []
        for start in range(0, len(texts), _BATCH):
            batch = [text or " " for text in texts[start:start + _BATCH]]  # servers refuse empty inputs
            answer = self.client.call_api(
                lambda client: client.embeddings.create(model=self.model, input=batch, encoding_format="float"))  # noqa: B023 - called at once
            rows += [list(item.embedding) for item in sorted(answer.data, key=lambda item: item.index)]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)


def embedder_for(settings: Settings, store: Store) -> Embedder:
    """The embedder the settings name: WordLlama (default), or the configured endpoint's model."""
    if settings.embedder.strip().lower() == WORDLLAMA:
        return WordLlamaEmbedder(settings.state_path / "models" / WORDLLAMA)
    return EndpointEmbedder(settings, store)


# --------------------------------------------------------------------------- cached embedding


def embed_texts(texts: Sequence[str], embedder: Embedder, store: Store | None,
                progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Unit vectors for ``texts`` (one row each): cached ones from the store, the rest embedded and saved.

    ``progress(n)`` is told of each batch of ``n`` texts done (cached ones at once).
    """
    import numpy as np

    hashes = [text_hash(text) for text in texts]
    cached = store.embeddings(embedder.name, sorted(set(hashes))) if store is not None else {}
    vectors: dict[str, np.ndarray] = {key: np.frombuffer(data, dtype=np.float32) for key, (dim, data)
                                      in cached.items() if len(data) == 4 * dim}
    if progress is not None and vectors:
        progress(sum(1 for key in hashes if key in vectors))
    todo = list(dict.fromkeys((key, text) for key, text in zip(hashes, texts, strict=False) if key not in vectors))
    for start in range(0, len(todo), _BATCH):
        batch = todo[start:start + _BATCH]
        raw = np.asarray(embedder.embed([text for _, text in batch]), dtype=np.float32)
        fresh = {key: raw[n] for n, (key, _) in enumerate(batch)}
        vectors.update(fresh)
        if store is not None:
            store.save_embeddings(embedder.name, {key: (len(row), row.tobytes()) for key, row in fresh.items()})
        if progress is not None:
            progress(sum(1 for key in hashes if key in fresh))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return unit_rows(np.vstack([vectors[key] for key in hashes]))
