"""Keeping secrets out of output: every message, log line and stored text passes through ``redact``."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"
# Bearer tokens and key-shaped strings, even ones we were never given (a server may echo one).
_TOKEN_RE = re.compile(r"(?i)\bbearer\s+[^\s'\",}]+|\b(?:sk|rk|pk)-[A-Za-z0-9_*\-]{8,}")
SECRET_ENV_VARS = ("OPENAI_API_KEY", "PAPERDIARY_API_KEY")


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, its recognisable tail and anything key-shaped replaced by [REDACTED].

    Servers echo masked keys ("sk-abc***...T123"), hence the tail and the pattern.
    """
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        if len(secret) >= 16:
            text = text.replace(secret[-8:], REDACTED)
    return _TOKEN_RE.sub(REDACTED, text)


def env_secrets() -> list[str]:
    return [os.environ[name] for name in SECRET_ENV_VARS if os.environ.get(name)]


class RedactingFilter(logging.Filter):
    """Rewrites each log record's message with the secrets taken out."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        return True
