"""Jinja2 templates from prompts/: the diary's own copies first, then the packaged defaults.

Templates render markdown and prompts, not HTML, so autoescape is off; text that
came from a paper or a model goes through the ``md`` filter, which keeps it
from forming raw HTML, links or images.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _packaged_template(name: str) -> str | None:
    """A template shipped inside the package (``paperdiary.prompts``), read through importlib.resources."""
    resource = resources.files("paperdiary.prompts").joinpath(name)
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def md_inline(text: object) -> str:
    """Untrusted text -> one line of markdown that cannot open HTML, links or images.

    Bold (``**``) and code spans survive; ``[``/``]`` and ``<``/``>`` are escaped
    so the only links in an entry are the ones the template writes itself.
    """
    value = _CONTROL.sub("", str(text))
    value = " ".join(value.split())
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
    return _CONTROL.sub("", str(text)).replace("--", "- -").replace(">", "&gt;")


@lru_cache(maxsize=8)
def environment(diary_prompts: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if diary_prompts is not None and diary_prompts.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(diary_prompts)))
    loaders.append(jinja2.FunctionLoader(_packaged_template))
    env = jinja2.Environment(
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


def render(template: str, diary_prompts: Path | None = None, **context: object) -> str:
    return environment(diary_prompts).get_template(template).render(**context)
