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
└── LLMError                      (LLM stage)
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
