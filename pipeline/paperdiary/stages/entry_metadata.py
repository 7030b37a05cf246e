"""The drafter's hidden metadata comment at the end of an entry: written and read here, and nowhere else.

    <!-- paperdiary: {"arxiv_id": "2506.01939", "version": 1, "drafter": "offline", ...} -->

It says which paper a drafted entry is about, by which drafter and when, and the
entry's one-line description. It is built in code, not by the entry template a
diary may override: the template only places it (``{{ metadata }}``), and when
an overriding template leaves it out, :func:`with_metadata` appends it after
rendering. A comment whose JSON no longer parses (hand-edited) still marks the
entry as drafted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from paperdiary.text import strip_controls

_COMMENT = re.compile(r"<!--\s*paperdiary:\s*(\{.*?\})\s*-->", re.DOTALL)
_DRAFTED_AT = re.compile(r'"drafted": "[^"]*"')
_KNOWN = ("arxiv_id", "version", "drafter", "drafted", "description")


@dataclass(frozen=True)
class EntryMetadata:
    """What the drafter records about an entry it wrote."""

    arxiv_id: str = ""  # as identified, possibly with a version ("2506.01939v2")
    version: int | None = None
    drafter: str = ""
    drafted: str = ""  # when, ISO 8601 UTC
    description: str = ""  # the entry's one-line description
    extra: Mapping[str, str] = field(default_factory=dict)  # the drafter's notes (path taken, coverage...)
    damaged: bool = False  # a comment is there but its JSON does not parse

    @property
    def paper_id(self) -> str:
        """The arXiv ID without its version."""
        return re.sub(r"v\d+$", "", self.arxiv_id)


def _safe(json_text: str) -> str:
    """JSON for inside an HTML comment: ``<``, ``>`` and ``&`` as JSON escapes (no tag or comment end a
    renderer could see, as Jinja's ``tojson`` writes them) and no ``--`` (which would close it early)."""
    escaped = json_text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return strip_controls(escaped).replace("--", "- -")


def metadata_comment(meta: EntryMetadata) -> str:
    """The comment, one line, without a line end. The known fields win over notes of the same name."""
    known: dict[str, object] = {"arxiv_id": meta.arxiv_id or None, "version": meta.version, "drafter": meta.drafter,
                                "drafted": meta.drafted, "description": meta.description}
    data = {**{str(k): str(v) for k, v in meta.extra.items() if k not in _KNOWN}, **known}
    return f"<!-- paperdiary: {_safe(json.dumps(data, ensure_ascii=False))} -->"


def read_metadata(text: str) -> EntryMetadata | None:
    """The metadata comment of an entry, or None for a hand-written one."""
    m = _COMMENT.search(text)
    if not m:
        return None
    try:
        data = json.loads(m[1].replace("&gt;", ">"))
    except ValueError:
        return EntryMetadata(damaged=True)
    if not isinstance(data, dict):
        return EntryMetadata(damaged=True)
    version = data.get("version")
    return EntryMetadata(
        arxiv_id=str(data.get("arxiv_id") or ""),
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        drafter=str(data.get("drafter") or ""),
        drafted=str(data.get("drafted") or ""),
        description=" ".join(str(data.get("description") or "").split()),
        extra={str(k): str(v) for k, v in data.items() if k not in _KNOWN},
    )


def with_metadata(rendered: str, comment: str) -> str:
    """The rendered entry with the comment: as placed by the template, else appended on a line of its own."""
    if _COMMENT.search(rendered):
        return rendered
    if rendered and not rendered.endswith("\n"):
        rendered += "\n"
    return f"{rendered}\n{comment}\n" if rendered.strip() else f"{comment}\n"


def without_drafted_time(text: str) -> str:
    """The entry with the comment's ``drafted`` time blanked: two renderings of one draft then compare equal."""
    return _COMMENT.sub(lambda m: _DRAFTED_AT.sub("", m[0]), text)
