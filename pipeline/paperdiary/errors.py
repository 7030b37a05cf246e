"""PaperDiary's exceptions.

Every error the user can cause or meet carries a one-line message that names the
input and says what to do; the CLI prints it without a traceback (``--debug``
shows one) and exits with ``exit_code``.

PaperDiaryError
├── UsageError (exit 2)           bad identifier, bad setting, bad flag value
│   └── IdentifierError
├── DiaryError                    no diary, unreadable README, ...
├── FetchError                    arXiv API or PDF download failed
│   ├── PaperNotFoundError        unknown or withdrawn ID
│   ├── NotAPdfError              the server sent HTML or something else
│   └── DownloadTooLargeError
├── ExtractionError               the PDF cannot be read
│   ├── EncryptedPdfError
│   ├── CorruptPdfError           corrupt or truncated
│   ├── EmptyPdfError
│   ├── ImageOnlyPdfError         no text layer: needs OCR
│   └── ExtractionTimeoutError
└── LLMError                      the LLM stage (pipeline/paperdiary/llm/client.py)
    ├── LLMUnavailableError       unreachable, timing out or failing (5xx) after retries
    │   └── LLMRateLimitError     still rate-limited (429) after retries
    ├── LLMRejectedError          the server refused the request: retrying cannot help
    │   ├── LLMAuthError          401/403: API key missing, wrong or not allowed
    │   ├── LLMModelNotFoundError 404: the endpoint does not serve the model
    │   ├── LLMQuotaError         429 insufficient_quota: no credit left
    │   └── LLMContextLengthError the prompt does not fit the model's context
    └── LLMOutputError            no valid answer, even after one repair
        └── LLMRefusalError       the model refused (``message.refusal``, content filter)

LLM errors name the endpoint and model, never the API key: messages are built
by ``paperdiary.llm.client`` and pass through its ``redact``.
"""

from __future__ import annotations


class PaperDiaryError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class UsageError(PaperDiaryError):
    exit_code = 2


class IdentifierError(UsageError):
    pass


class SettingsError(UsageError):
    pass


class DiaryError(PaperDiaryError):
    pass


class FetchError(PaperDiaryError):
    pass


class PaperNotFoundError(FetchError):
    pass


class NotAPdfError(FetchError):
    pass


class DownloadTooLargeError(FetchError):
    pass


class ExtractionError(PaperDiaryError):
    pass


class EncryptedPdfError(ExtractionError):
    pass


class CorruptPdfError(ExtractionError):
    pass


class EmptyPdfError(ExtractionError):
    pass


class ImageOnlyPdfError(ExtractionError):
    pass


class ExtractionTimeoutError(ExtractionError):
    pass


class LLMError(PaperDiaryError):
    pass


class LLMUnavailableError(LLMError):
    """The endpoint could not be reached, timed out or kept failing (5xx) until the retry budget ran out."""


class LLMRateLimitError(LLMUnavailableError):
    """Still rate-limited (HTTP 429) when the retry budget ran out."""


class LLMRejectedError(LLMError):
    """The server refused the request itself (HTTP 4xx): the same request would fail again."""


class LLMAuthError(LLMRejectedError):
    """HTTP 401/403: the API key is missing, wrong or not allowed to use the model."""


class LLMModelNotFoundError(LLMRejectedError):
    """HTTP 404 for the model: the endpoint does not serve it."""


class LLMQuotaError(LLMRejectedError):
    """HTTP 429 with code ``insufficient_quota``: the account has no credit left. Never retried."""


class LLMContextLengthError(LLMRejectedError):
    """The prompt does not fit the model's context window; callers fall back to map-reduce.

    ``max_tokens`` is the context window (in tokens) the server reported, when it said.
    """

    def __init__(self, message: str, *, hint: str | None = None, max_tokens: int | None = None):
        super().__init__(message, hint=hint)
        self.max_tokens = max_tokens


class LLMOutputError(LLMError):
    """The model's answer was not valid JSON for the schema (or was cut off), even after one repair."""


class LLMRefusalError(LLMOutputError):
    """The model refused to answer (``message.refusal`` or the content filter)."""
