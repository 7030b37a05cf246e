"""Jinja2 templates from prompts/: the diary's own copies first, then the packaged defaults.

Templates render markdown and prompts, not HTML, so autoescape is off; text that
came from a paper or a model goes through the ``md`` filter, which keeps it
from forming raw HTML, links or images.

A diary's templates are untrusted (whoever cloned a diary runs its templates on
the next ``draft``), so every template renders in Jinja2's immutable sandbox: no
underscore attributes, no mutating calls, hence no way to Python's globals.

- **Names.** A template name (the one rendered, or one a template includes) is
  relative, without ``..``, and resolves inside the diary's prompts folder or the
  package, nowhere else: ``{% include "/proc/self/environ" %}`` is refused. A
  template file that is a symlink out of the prompts folder is refused unread.
- **Limits.** A render the diary's own template takes part in runs in a child
  process (``isolate.py``): stopped after ``RENDER_TIMEOUT_S``, refused past
  ``RENDER_MAX_CHARS`` of output (beyond twice the text it was given) or
  ``RENDER_MEMORY_BYTES`` of memory. Packaged templates are ours and render here.

Any failure is a :class:`TemplateError` naming the file (and line when known).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from paperdiary.errors import PaperDiaryError, TemplateError
from paperdiary.fsutil import diary_relpath, resolve_inside
from paperdiary.isolate import ChildCrashed, ChildDied, ChildTimeout, run_isolated
from paperdiary.text import plural, strip_controls

if TYPE_CHECKING:
    from paperdiary.settings import Settings

_PACKAGED = "(packaged)"  # how a packaged template's file is named in errors and tracebacks
# Limits of a render a diary's template takes part in. A prompt or an entry renders in milliseconds and
# writes what it is given plus a page: these are a thousand times that, and far below what hurts.
RENDER_TIMEOUT_S = 10.0
RENDER_MAX_CHARS = 1_000_000  # beyond twice the text the template is given (a paper's text, a draft)
RENDER_MEMORY_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class DiaryPrompts:
    """A diary's own templates: its prompts folder, and the diary they must stay inside."""

    folder: Path
    diary: Path

    @classmethod
    def of(cls, settings: Settings) -> DiaryPrompts:
        return cls(settings.diary / settings.prompts_dir, settings.diary)


def _name_parts(name: str) -> list[str]:
    """A template name's parts; a name that is absolute or climbs with ``..`` is refused (SecurityError)."""
    if name.startswith(("/", "\\", "~")) or "\\" in name or re.match(r"[A-Za-z]:", name) or \
            ".." in name.split("/"):
        raise jinja2.exceptions.SecurityError(
            f"template name {name!r}: names are relative to the prompts folder, without '..'")
    return split_template_path(name)


def _packaged_template(name: str) -> tuple[str, str, Callable[[], bool]] | None:
    """A template shipped inside the package (``paperdiary.prompts``), read through importlib.resources."""
    resource = resources.files("paperdiary.prompts").joinpath(*_name_parts(name))
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8"), f"{_PACKAGED} {name}", lambda: True


class _DiaryLoader(jinja2.FileSystemLoader):
    """The diary's prompts folder; a template that leads out of it (a symlink) is refused unread."""

    def __init__(self, prompts: DiaryPrompts):
        super().__init__(str(prompts.folder))
        self.prompts = prompts

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = Path(self.searchpath[0], *_name_parts(template))
        if os.path.lexists(path):
            target = resolve_inside(self.prompts.diary, path)  # out of the diary: OutsideDiaryError
            if not target.is_relative_to(self.prompts.folder.resolve()):
                raise jinja2.exceptions.SecurityError(
                    f"{template} is a symlink to {diary_relpath(self.prompts.diary, target)}, outside the prompts "
                    "folder: refused unread")
        return super().get_source(environment, template)


def from_diary(template: str, prompts: DiaryPrompts | None) -> bool:
    """Whether rendering ``template`` runs the diary's own copy (packaged templates include none)."""
    if prompts is None or not prompts.folder.is_dir():
        return False
    try:
        return os.path.lexists(Path(prompts.folder, *_name_parts(template)))
    except jinja2.TemplateError:
        return True  # a refused name: rendering it says why


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
    """Render ``template`` (the diary's copy first); raises TemplateError naming the file and line.

    The diary's own template renders in a child process, within the module's limits.
    """
    if prompts is None or not from_diary(template, prompts):
        return _render(environment(prompts), template, prompts, context)
    shown = _file_of(template, prompts)
    limit = RENDER_MAX_CHARS + 2 * _text_size(context)
    try:
        return run_isolated(_render_in_child, template, prompts, context, limit, timeout=RENDER_TIMEOUT_S,
                            name="paperdiary-template", errors=PaperDiaryError, memory_bytes=RENDER_MEMORY_BYTES)
    except ChildTimeout:
        raise TemplateError(f"{{where}} ran longer than {RENDER_TIMEOUT_S:g} s and was stopped; nothing was "
                            "written.", file=shown, hint=_HINT) from None
    except (ChildDied, ChildCrashed) as exc:
        raise TemplateError("{where} could not be rendered: the process rendering it failed ({detail}).",
                            file=shown, detail=str(exc).splitlines()[-1], hint=_HINT) from None


def _render_in_child(template: str, prompts: DiaryPrompts, context: dict[str, object], limit: int) -> str:
    """The child's side: a fresh environment (no lock another thread held at the fork), output counted."""
    try:
        return _render(environment.__wrapped__(prompts), template, prompts, context, limit=limit)
    except MemoryError:
        raise TemplateError(f"{{where}} needs more than {RENDER_MEMORY_BYTES // 2**20:,} MB of memory: refused; "
                            "nothing was written.", file=_file_of(template, prompts), hint=_HINT) from None


def _text_size(value: object, depth: int = 0) -> int:
    """How many characters of text ``value`` holds (strings inside mappings, sequences and dataclasses)."""
    if isinstance(value, str):
        return len(value)
    if depth > 8:
        return 0
    if isinstance(value, Mapping):
        return sum(_text_size(k, depth + 1) + _text_size(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(_text_size(item, depth + 1) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_text_size(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return 0


def _render(env: jinja2.Environment, template: str, prompts: DiaryPrompts | None, context: Mapping[str, object],
            *, limit: int | None = None) -> str:
    """Render in this process; with ``limit``, refuse once the output passes that many characters."""
    try:
        compiled = env.get_template(template)
        if limit is None:
            return compiled.render(**context)
        pieces: list[str] = []
        size = 0
        for piece in compiled.generate(**context):
            size += len(piece)
            if size > limit:
                raise TemplateError(f"{{where}} writes more than {plural(limit, 'character')}: refused; nothing "
                                    "was written.", file=_file_of(template, prompts), hint=_HINT)
            pieces.append(piece)
        return "".join(pieces)
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


def _file_of(template: str, prompts: DiaryPrompts | None) -> str:
    """The file a template name means to the user: ``prompts/entry.md.j2``, else ``(packaged) entry.md.j2``."""
    if prompts is not None and from_diary(template, prompts):
        return _shown(str(prompts.folder / template), prompts)
    return f"{_PACKAGED} {template}"


def _shown(filename: str | None, prompts: DiaryPrompts | None) -> str:
    """A template's file as the user knows it: relative to the diary, or "(packaged) name"."""
    if not filename or filename.startswith(_PACKAGED) or prompts is None:
        return filename or "a template"
    try:
        return diary_relpath(prompts.diary, Path(filename))
    except ValueError:
        return filename
