"""Keeping secrets out of output: every message, log line, traceback and stored text passes through ``redact``."""

from __future__ import annotations

import base64
import logging
import os
import re
import traceback
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

REDACTED = "[REDACTED]"
# Bearer tokens and key-shaped strings, even ones we were never given (a server may echo one).
_TOKEN_RE = re.compile(r"(?i)\bbearer\s+[^\s'\",}]+|\b(?:sk|rk|pk)-[A-Za-z0-9_*\-]{8,}")
# An echoed credential header, whatever its scheme ("Authorization: Basic ...", "'api-key': '...'").
_HEADER_RE = re.compile(
    r"(?i)(?<![?&;])\b((?:proxy-)?authorization|x-api-key|api-key)(['\"]?\s*[:=]\s*['\"]?)(?!\[REDACTED\])"
    r"(?:(?:basic|bearer|token|digest)\s+)?(?!\[REDACTED\])[^\s'\",}\]]+"
)
# Credentials in URLs: user:password@ before the host, and query parameters that carry keys or signatures.
_URL_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@'\"<>]+@")
_SECRET_PARAMS = r"api[-_]?key|key|token|access[-_]?token|auth|sig|signature|password|passwd|secret|client[-_]secret"
_URL_PARAM_RE = re.compile(rf"(?i)([?&;](?:{_SECRET_PARAMS})=)[^&#\s'\"<>]+")
_SECRET_PARAM_NAMES = re.compile(rf"(?i)^(?:{_SECRET_PARAMS})$")
SECRET_ENV_VARS = ("OPENAI_API_KEY", "PAPERDIARY_API_KEY")
URL_ENV_VARS = ("OPENAI_BASE_URL", "PAPERDIARY_BASE_URL")


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, its recognisable tail, URL credentials and anything key-shaped replaced.

    Servers echo masked keys ("sk-abc***...T123"), hence the tail and the pattern.
    """
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        if len(secret) >= 16:
            text = text.replace(secret[-8:], REDACTED)
    text = _URL_USERINFO_RE.sub(rf"\1{REDACTED}@", text)
    text = _URL_PARAM_RE.sub(rf"\1{REDACTED}", text)
    text = _HEADER_RE.sub(rf"\1\2{REDACTED}", text)
    return _TOKEN_RE.sub(REDACTED, text)


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries: its password (as typed and as a Basic auth header sends it) and the
    values of key-like query parameters. Redacting them catches them wherever a library prints them."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
        query = parse_qsl(parts.query, keep_blank_values=False)
    except ValueError:
        return []
    found = [value for name, value in query if _SECRET_PARAM_NAMES.match(name)]
    if password:
        found.append(unquote(password))
        found.append(password)
        basic = f"{unquote(user or '')}:{unquote(password)}"
        found.append(base64.b64encode(basic.encode()).decode())
    return found


def env_secrets() -> list[str]:
    """The secrets this process was given: API keys, and the credentials inside configured endpoint URLs."""
    keys = [os.environ[name] for name in SECRET_ENV_VARS if os.environ.get(name)]
    return keys + [s for name in URL_ENV_VARS if os.environ.get(name) for s in url_secrets(os.environ[name])]


def redacted_traceback(exc: BaseException, secrets: Iterable[str]) -> str:
    """The full traceback of ``exc`` (its chained causes and contexts, args and notes), secrets taken out."""
    return redact("".join(traceback.format_exception(exc)), secrets)


class RedactingFilter(logging.Filter):
    """Rewrites each log record, secrets taken out: its message with the args filled in, its traceback and stack."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # args that do not fit the format: show both, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_traceback(record.exc_info[1], self.secrets).rstrip("\n")
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True
