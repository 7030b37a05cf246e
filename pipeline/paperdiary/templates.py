"""Jinja2 templates from prompts/: the diary's own copies first, then the packaged defaults.

Templates render markdown and prompts, not HTML, so autoescape is off; text that
came from a paper or a model goes through the ``md`` filter, which keeps it
from forming raw HTML, links or images.

A diary's templates are untrusted (whoever cloned a diary runs its templates on
the next ``draft``), so every template renders in Jinja2's immutable sandbox: no
underscore attributes, no mutating calls, hence no way to Python's globals. A
template file that is a symlink out of the diary is refused unread. Any failure
is a :class:`TemplateError` naming the file and line.
"""

from __future__ import annotations

import hashlib
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from paperdiary.errors import TemplateError
from paperdiary.fsutil import diary_relpath, resolve_inside
from paperdiary.text import strip_controls

if TYPE_CHECKING:
    from paperdiary.settings import Settings

_PACKAGED = "(packaged)"  # how a packaged template's file is named in errors and tracebacks


@dataclass(frozen=True)
class DiaryPrompts:
    """A diary's own templates: its prompts folder, and the diary they must stay inside."""

    folder: Path
    diary: Path

    @classmethod
    def of(cls, settings: Settings) -> DiaryPrompts:
        return cls(settings.diary / settings.prompts_dir, settings.diary)


def _packaged_template(name: str) -> tuple[str, str, Callable[[], bool]] | None:
    """A template shipped inside the package (``paperdiary.prompts``), read through importlib.resources."""
    resource = resources.files("paperdiary.prompts").joinpath(name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8"), f"{_PACKAGED} {name}", lambda: True


class _DiaryLoader(jinja2.FileSystemLoader):
    """The diary's prompts folder; a template that leads out of the diary (a symlink) is refused unread."""

    def __init__(self, prompts: DiaryPrompts):
        super().__init__(str(prompts.folder))
        self.prompts = prompts

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = os.path.join(self.searchpath[0], *split_template_path(template))
        if os.path.lexists(path):
            resolve_inside(self.prompts.diary, Path(path))
        return super().get_source(environment, template)


def md_inline(text: object) -> str:
    """Untrusted text -> one line of markdown that cannot open HTML, links or images.

    Bold (``**``) and code spans survive; ``[``/``]`` and ``<``/``>`` are escaped
    so the only links in an entry are the ones the template writes itself.
    """
    value = " ".join(strip_controls(str(text)).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("[", "\\[").replace("]", "\\]")
    # A bare "javascript:" or "data:" scheme could still be auto-linked by some renderers.
    return re.sub(r"(?i)\b(javascript|data|vbscript):", r"\1&#58;", value)


def data_marker(text: str) -> str:
    """The marker that fences ``text`` off as data in a prompt: unguessable by the text it encloses.

    Derived from the text, so the same prompt comes out the same (and the LLM response cache answers it).
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def comment_safe(text: object) -> str:
    """Text for inside an HTML comment: no ``--`` so the comment cannot be closed early."""
    return strip_controls(str(text)).replace("--", "- -").replace(">", "&gt;")


@lru_cache(maxsize=8)
def environment(prompts: DiaryPrompts | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if prompts is not None and prompts.folder.is_dir():
        loaders.append(_DiaryLoader(prompts))
    loaders.append(jinja2.FunctionLoader(_packaged_template))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_inline
    env.filters["comment_safe"] = comment_safe
    env.filters["combine"] = lambda base, extra: {**dict(extra), **base}  # base wins on a clash
    return env


_HINT = "Templates render in a sandbox: fix the template, or delete it to use the packaged one."


def render(template: str, prompts: DiaryPrompts | None = None, **context: object) -> str:
    """Render ``template`` (the diary's copy first); raises TemplateError naming the file and line."""
    try:
        return environment(prompts).get_template(template).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError("{where} has a syntax error: {detail}.", file=_shown(exc.filename, prompts),
                            line=exc.lineno, detail=(exc.message or "").rstrip("."), hint=_HINT) from None
    except jinja2.TemplateError as exc:  # SecurityError (the sandbox), UndefinedError, a missing include
        filename, line = _template_frame(exc)
        what = "is refused by the sandbox" if isinstance(exc, jinja2.exceptions.SecurityError) else "failed"
        raise TemplateError("{where} " + what + ": {detail}.", file=_shown(filename or template, prompts),
                            line=line, detail=(exc.message or type(exc).__name__).rstrip("."), hint=_HINT) from None


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line an error was raised in: Jinja2 rewrites tracebacks to point at them."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.endswith(".py"):
            return frame.filename, frame.lineno
    return None, None


def _shown(filename: str | None, prompts: DiaryPrompts | None) -> str:
    """A template's file as the user knows it: relative to the diary, or "(packaged) name"."""
    if not filename or filename.startswith(_PACKAGED) or prompts is None:
        return filename or "a template"
    try:
        return diary_relpath(prompts.diary, Path(filename))
    except ValueError:
        return filename
