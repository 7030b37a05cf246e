"""PaperDiary's exceptions: the whole tree, in one place.

Every error the user can cause or meet carries a one-line message that names the
input and says what to do; the CLI prints it without a traceback (``--debug``
shows one) and exits with ``exit_code``.

PaperDiaryError
├── UsageError (exit 2)           bad identifier, bad setting, bad flag value
│   ├── IdentifierError           not a paper identifier              (text)
│   ├── SettingsError
│   ├── TemplateError             a diary template that is broken or reaches for what it may not  (file, line)
│   ├── ReviewError               a review command that cannot be carried out as asked
│   └── MissingExtraError         a command needs an optional extra  (command, extra, packages)
├── DiaryError                    no diary, unreadable README or queue, ...
│   ├── ReadmeError               no lessons section, no such theme, an edit that cannot land
│   ├── ReviewConflictError       an accepted lesson's place in README.md is gone or ambiguous
│   ├── OutsideDiaryError         a file or symlink that leads out of the diary              (name, target)
│   ├── StateLinkError            a symlink in the state folder, never followed              (name, target)
│   ├── ReadOnlyFileError         a diary file to change that is read-only                   (name)
│   ├── QueueFileError            the lessons queue cannot be read (not UTF-8, unreadable) (path, detail)
│   ├── DiaryLockedError          another command holds the diary's write lock (path, command, holder)
│   ├── WriteError                a file or folder cannot be written: read-only, full disk (path, detail)
│   └── SiteError                 the site cannot be built: the generator failed, an output folder not ours
├── FetchError                    arXiv API or PDF download failed     (paper, url)
│   ├── PaperNotFoundError        unknown or withdrawn ID
│   ├── NotAPdfError              the server sent HTML or something else
│   └── DownloadTooLargeError
├── ExtractionError               the PDF cannot be read               (path, subject)
│   ├── EncryptedPdfError
│   ├── CorruptPdfError           corrupt or truncated
│   ├── EmptyPdfError
│   ├── ImageOnlyPdfError         no text layer: needs OCR
│   └── ExtractionTimeoutError
└── LLMError                      the LLM stage                        (endpoint, model)
    ├── LLMUnavailableError       unreachable, timing out or failing (5xx) after retries
    │   └── LLMRateLimitError     still rate-limited (429) after retries
    ├── LLMRejectedError          the server refused the request: retrying cannot help
    │   ├── LLMAuthError          401/403: API key missing, wrong or not allowed
    │   ├── LLMModelNotFoundError 404: the endpoint does not serve the model
    │   ├── LLMQuotaError         429 insufficient_quota: no credit left
    │   └── LLMContextLengthError the prompt does not fit the model's context
    └── LLMOutputError            no valid answer, even after one repair
        └── LLMRefusalError       the model refused (``message.refusal``, content filter)

Errors carry their data (the fields in brackets, plus ``detail``) and render
their message from it: the message given is a template naming fields in braces
(``"{subject} is encrypted with a password."``), filled in each time it is read.
A caller that knows better sets a field (a cached PDF's path becomes "the PDF of
arXiv 1706.03762v5") instead of rewriting text. Templates are PaperDiary's own
words; text from outside (a path, a server's answer) goes into fields, where it
is never read as a template. LLM errors name the endpoint and model, never the
API key: their text passes through ``paperdiary.llm.client``'s ``redact``.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import ClassVar

_FIELD = re.compile(r"\{(\w+)(!r)?\}")


class PaperDiaryError(Exception):
    exit_code = 1
    fields: ClassVar[tuple[str, ...]] = ()  # the attributes a message template may name

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.template = message
        self.hint = hint

    @property
    def message(self) -> str:
        """The message, rendered from the template and the error's fields as they are now."""
        if not self.fields:
            return self.template
        return _FIELD.sub(self._field_text, self.template)

    def _field_text(self, match: re.Match[str]) -> str:
        name, as_repr = match[1], match[2]
        if name not in self.fields:
            return match[0]
        value = getattr(self, name)
        return repr(value) if as_repr else str(value)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its fields, not by calling __init__ again (keyword-only fields): an error raised in a
        # worker process (isolate.py) comes back whole.
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(kind: type[PaperDiaryError], args: tuple[object, ...], state: dict[str, object]) -> PaperDiaryError:
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class UsageError(PaperDiaryError):
    exit_code = 2


class IdentifierError(UsageError):
    """What the user pasted names no paper. ``text``: what they pasted."""

    fields = ("text",)

    def __init__(self, message: str, *, text: str = "", hint: str | None = None):
        super().__init__(message, hint=hint)
        self.text = text


class SettingsError(UsageError):
    pass


class TemplateError(UsageError):
    """A template (the diary's own, in ``prompts/``) that cannot be rendered: a syntax error, an
    undefined name, or something the sandbox forbids. ``file``: the template's file; ``line``: where, when known."""

    fields = ("file", "line", "detail", "where")

    def __init__(self, message: str, *, file: str, line: int | None = None, detail: str = "",
                 hint: str | None = None):
        super().__init__(message, hint=hint)
        self.file = file
        self.line = line
        self.detail = detail

    @property
    def where(self) -> str:
        """``prompts/entry.md.j2, line 3`` (the line when known)."""
        return f"{self.file}, line {self.line}" if self.line else self.file


class ReviewError(UsageError):
    """A review command that cannot be carried out as asked (unknown ID, impossible choice)."""


class MissingExtraError(UsageError):
    """A command needs packages of an optional extra that is not installed (``paperdiary[map]``)."""

    fields = ("command", "extra", "packages")

    def __init__(self, message: str = "`paperdiary {command}` needs {packages}: pip install 'paperdiary[{extra}]'.",
                 *, command: str = "", extra: str = "", packages: str = "", hint: str | None = None):
        super().__init__(message, hint=hint)
        self.command, self.extra, self.packages = command, extra, packages


class DiaryError(PaperDiaryError):
    pass


class ReadmeError(DiaryError):
    """The README has no lessons section, names no such theme, or an edit cannot land safely."""


class ReviewConflictError(DiaryError):
    """README.md changed so that an accepted lesson's place is gone or ambiguous: nothing was written."""


class OutsideDiaryError(DiaryError):
    """A diary file (or folder) that is a symlink to somewhere outside the diary: neither read nor written.

    ``name``: the file as the diary names it; ``target``: where it leads.
    """

    fields = ("name", "target")

    def __init__(self, message: str, *, name: str, target: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.name = name
        self.target = target


class StateLinkError(DiaryError):
    """A symlink where PaperDiary keeps its state (the lock, the store, the caches): refused, never followed.

    ``name``: the link's path; ``target``: where it leads.
    """

    fields = ("name", "target")

    def __init__(self, message: str, *, name: str, target: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.name = name
        self.target = target


class ReadOnlyFileError(DiaryError):
    """A diary file the command would change is read-only: refused, not replaced.

    ``name``: the file as the diary names it; ``command``: the shell command that makes it writable.
    """

    fields = ("name", "command")

    def __init__(self, message: str, *, name: str, command: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.name = name
        self.command = command


class QueueFileError(DiaryError):
    """The lessons queue file at ``path`` cannot be read (``detail``: why): not UTF-8, or unreadable."""

    fields = ("path", "detail")

    def __init__(self, message: str, *, path: Path, detail: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.path = path
        self.detail = detail


class DiaryLockedError(DiaryError):
    """Another command holds the diary's write lock.

    ``path``: the diary; ``command``: the holder's command (``catchup``); ``holder``: who, as the lock file says.
    """

    fields = ("path", "command", "holder")

    def __init__(self, message: str, *, path: Path, command: str, holder: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.path = path
        self.command = command
        self.holder = holder


class WriteError(DiaryError):
    """``path`` cannot be written: a read-only folder or file system, no permission, a full disk.

    ``detail``: the system's reason. Nothing was half-written (writes are atomic).
    """

    fields = ("path", "detail")

    def __init__(self, message: str, *, path: Path, detail: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.path = path
        self.detail = detail


class SiteError(DiaryError):
    """``paperdiary site`` cannot build or publish the site: the generator failed, or the output folder is
    one PaperDiary did not make (never replaced)."""


class FetchError(PaperDiaryError):
    """Getting a paper failed. ``paper``: the paper(s) concerned; ``url``: the server or file asked."""

    fields = ("paper", "url", "detail")

    def __init__(self, message: str, *, paper: str | None = None, url: str | None = None, detail: str | None = None,
                 hint: str | None = None):
        super().__init__(message, hint=hint)
        self.paper = paper
        self.url = url
        self.detail = detail


class PaperNotFoundError(FetchError):
    pass


class NotAPdfError(FetchError):
    pass


class DownloadTooLargeError(FetchError):
    pass


class ExtractionError(PaperDiaryError):
    """The PDF at ``path`` cannot be read. Messages name it as ``{subject}``: its path unless a caller says better."""

    fields = ("subject", "detail")

    def __init__(self, message: str, *, path: Path | None = None, detail: str | None = None,
                 subject: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.path = path
        self.detail = detail
        self.subject = subject if subject is not None else str(path)


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
    """The LLM stage failed. ``endpoint`` (public, without credentials) and ``model``: what was asked."""

    fields = ("endpoint", "model", "detail")

    def __init__(self, message: str, *, endpoint: str | None = None, model: str | None = None,
                 detail: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.endpoint = endpoint
        self.model = model
        self.detail = detail


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

    def __init__(self, message: str, *, endpoint: str | None = None, model: str | None = None,
                 detail: str | None = None, hint: str | None = None, max_tokens: int | None = None):
        super().__init__(message, endpoint=endpoint, model=model, detail=detail, hint=hint)
        self.max_tokens = max_tokens


class LLMOutputError(LLMError):
    """The model's answer was not valid JSON for the schema (or was cut off), even after one repair."""


class LLMRefusalError(LLMOutputError):
    """The model refused to answer (``message.refusal`` or the content filter)."""


_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


def write_error(exc: OSError, path: Path | None = None) -> WriteError | None:
    """The one-line error for an OSError no retry gets past (full disk, read-only, no permission), else None.

    ``path``: what was being written, when ``exc`` does not name it.
    """
    where = Path(exc.filename) if exc.filename else path
    if where is None or exc.errno not in _NO_SPACE | _NOT_WRITABLE:
        return None
    detail = exc.strerror or str(exc)
    if exc.errno in _NO_SPACE:
        return WriteError("no space left to write {path} ({detail}); nothing was half-written.", path=where,
                          detail=detail, hint="Free some disk space, then run the command again.")
    return WriteError("cannot write {path} ({detail}).", path=where, detail=detail,
                      hint="Make it (and its folder) writable, then run the command again.")
