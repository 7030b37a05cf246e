"""YAML front matter (Jekyll, Hugo, Obsidian) at the top of an entry: title, date, tags, excerpt.

    ---
    title: "Deep Residual Learning"
    date: 2018-01-06 10:00:00 +0100
    tags: [ICCV 2015, 'vision', resnet]
    excerpt: >
      Residual connections make very deep nets trainable.
    ---

Only the common subset is read, without a YAML library: ``key: value`` pairs at the top level with plain,
quoted or block (``|``, ``>``) values, and lists inline (``[a, b]``), in blocks (``- a``) or comma-separated.
Nested mappings and anything else are skipped, never executed. Hugo's TOML front matter (``+++``) gives its
``key = value`` pairs the same way. A file whose first line is ``---`` without a closing line has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINES = 200  # a front matter longer than this is a document that happens to start with a rule
_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s+(.*)|\s*)$")
_TOML_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*=\s*(.*)$")
_OPENERS = {"---": ("---", "..."), "+++": ("+++",)}


@dataclass(frozen=True)
class FrontMatter:
    """What a front matter says, as plain strings."""

    fields: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    end_line: int = 0  # the number of lines it spans, fences included: the body starts there

    def text(self, *names: str) -> str:
        """The first of ``names`` that holds a (non-empty) string; a list gives its items joined."""
        for name in names:
            value = self.fields.get(name)
            if isinstance(value, tuple):
                value = ", ".join(value)
            if value:
                return value
        return ""

    def items(self, *names: str) -> tuple[str, ...]:
        """Every item of the lists ``names`` hold (a string counts as a comma-separated list), in order."""
        out: list[str] = []
        for name in names:
            value = self.fields.get(name)
            items = value if isinstance(value, tuple) else _split_list(value) if value else ()
            out += [item for item in items if item and item not in out]
        return tuple(out)

    @property
    def title(self) -> str:
        return self.text("title")

    @property
    def date(self) -> str:
        return self.text("date", "date_read", "read", "created")

    @property
    def tags(self) -> tuple[str, ...]:
        return self.items("tags", "tag", "categories", "category", "keywords")

    @property
    def excerpt(self) -> str:
        return self.text("excerpt", "description", "summary", "tldr", "subtitle")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        if value[0] == "'":
            return inner.replace("''", "'")
        return re.sub(r'\\(["\\\\/nt])', lambda m: {"n": " ", "t": " "}.get(m[1], m[1]), inner)
    return re.sub(r"\s+#.*$", "", value).strip()  # a plain scalar's trailing comment


def _split_list(value: str) -> tuple[str, ...]:
    """``[a, 'b, c', "d"]`` or ``a, b`` -> its items."""
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    items = re.findall(r"""\s*("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^,]+)\s*(?:,|$)""", value)
    return tuple(item for item in (_unquote(i) for i in items) if item)


def read_front_matter(text: str) -> FrontMatter | None:
    """The front matter at the very top of ``text`` (a BOM allowed), or None."""
    lines = text.lstrip("\ufeff").split("\n", MAX_LINES + 2)
    opener = lines[0].rstrip("\r").strip() if lines else ""
    if opener not in _OPENERS:
        return None
    body: list[str] = []
    for n, raw in enumerate(lines[1:MAX_LINES + 1], 1):
        line = raw.rstrip("\r")
        if line.strip() in _OPENERS[opener] and not line.startswith((" ", "\t")):
            parsed = _toml(body) if opener == "+++" else _yaml(body)
            return FrontMatter(parsed, n + 1)
        body.append(line)
    return None


def _yaml(lines: list[str]) -> dict[str, str | tuple[str, ...]]:
    out: dict[str, str | tuple[str, ...]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = _KEY.match(line)
        if not m:
            continue  # nested, a comment, or not the subset: skipped
        key, value = m[1].lower(), (m[2] or "").strip()
        if value[:1] in ("|", ">"):  # a block scalar: its indented lines
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i][:1] in (" ", "\t")):
                block.append(lines[i].strip())
                i += 1
            joined = "\n".join(block).strip() if value[0] == "|" else " ".join(" ".join(block).split())
            out[key] = joined
        elif not value or value.startswith("#"):  # a block list, or a nested mapping (skipped)
            items = []
            while i < len(lines) and (not lines[i].strip() or lines[i][:1] in (" ", "\t", "-")):
                item = re.match(r"^\s*-\s+(.*)$", lines[i])
                if item:
                    items.append(_unquote(item[1]))
                i += 1
            if items:
                out[key] = tuple(item for item in items if item)
        elif value.startswith("["):
            out[key] = _split_list(value)
        else:
            scalar = _unquote(value)
            # A plain scalar may go on over indented lines.
            while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip() and value[0] not in "'\"":
                scalar += " " + lines[i].strip()
                i += 1
            out[key] = scalar
    return out


def _toml(lines: list[str]) -> dict[str, str | tuple[str, ...]]:
    out: dict[str, str | tuple[str, ...]] = {}
    for line in lines:
        if line.lstrip().startswith("["):
            break  # a table: the top-level keys are done
        if m := _TOML_KEY.match(line.strip()):
            value = m[2].strip()
            out[m[1].lower()] = _split_list(value) if value.startswith("[") else _unquote(value)
    return out
