"""A diary's markdown as the site shows it: read the way GitHub reads it, sanitised, its links pointed at the site.

- **Parsing**: CommonMark with GitHub's additions (tables, strikethrough, task lists, autolinked URLs,
  footnotes) and math (``$…$``, ``$$…$$``, ```` ```math ```` blocks) by markdown-it-py, so an entry looks
  on the site as it does on GitHub. Headings get GitHub's anchors (``## Key Points`` -> ``#key-points``,
  repeats ``-1``, ``-2``), so links written for GitHub keep their ``#fragment``.
- **Sanitising**: an entry is untrusted (a cloned diary is someone else's). Its HTML keeps only what
  GitHub keeps (no script, style, iframe, form, event handler, ``javascript:`` or ``data:`` URL; classes
  only those the site styles), by nh3 (ammonia). Ids that could clobber the theme's own (``__search``...)
  are dropped.
- **Links**: every ``href`` and ``src`` that survives goes through the caller's hook, which says where
  it points on the site, or that it points nowhere (the link is then kept as text, the image as its alt).
  Math reaches the page as ``<span class="arithmatex">\\(…\\)</span>`` for MathJax, served by the site.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

LinkHook = Callable[[str, str], "str | None"]
"""(URL as written, "a" or "img") -> the URL on the site, or None when it leads nowhere there."""

_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "input", "ins", "kbd", "li", "mark", "ol", "p", "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp",
    "section", "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
}
_HEADINGS = {f"h{n}" for n in range(1, 7)}
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "id", "name"},
    "img": {"src", "alt", "title", "width", "height", "align"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start", "type", "reversed"},
    "li": {"value", "id"},
    "input": {"checked"},  # "type" only as "checkbox" (below); "disabled" always set
    "details": {"open"},
    "sup": {"id"},
    "div": {"align"},
    "p": {"align"},
    "time": {"datetime"},
    **{tag: {"id", "align"} for tag in _HEADINGS},
    "*": {"title", "lang", "dir"},
}
_CLASSES = {
    "span": {"arithmatex"}, "div": {"arithmatex"}, "section": {"footnotes"}, "ul": {"contains-task-list"},
    "li": {"task-list-item", "footnote-item"}, "input": {"task-list-item-checkbox"}, "a": {"footnote-backref"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Rendered:
    html: str
    ids: frozenset[str]  # the anchors the fragment defines (headings, footnotes)
    math: bool  # it holds math: the page loads MathJax


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin

    md = MarkdownIt("commonmark", {"html": True, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    # GitHub's rules: no space inside the dollars, and "$5 and $10" is money, not math.
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    md.use(tasklists_plugin).use(footnote_plugin)

    def inline_math(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f'<span class="arithmatex">\\({html.escape(tokens[idx].content)}\\)</span>'

    def display_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f'<span class="arithmatex">\\[{html.escape(tokens[idx].content)}\\]</span>'

    def display_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f'<div class="arithmatex">\\[{html.escape(tokens[idx].content.strip())}\\]</div>\n'

    fence = md.renderer.rules["fence"]  # type: ignore[attr-defined]

    def fence_or_math(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        if tokens[idx].info.strip().lower() == "math":
            return display_block(self, tokens, idx, options, env)
        assert fence is not None
        return fence(tokens, idx, options, env)

    md.add_render_rule("math_inline", inline_math)
    md.add_render_rule("math_inline_double", display_inline)
    md.add_render_rule("math_block", display_block)
    md.add_render_rule("math_block_label", display_block)
    md.add_render_rule("fence", fence_or_math)
    return md


def github_anchor(text: str, seen: dict[str, int]) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as ``-``; ``-1``... for repeats."""
    base = re.sub(r"[^\w\- ]", "", text.strip().casefold()).replace(" ", "-")
    count = seen.get(base, 0)
    seen[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def _inline_text(token: Token) -> str:
    return "".join(child.content for child in token.children or () if child.type in ("text", "code_inline"))


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def render_markdown(markdown: str, links: LinkHook, *, drop_title: str | None = None,
                    served: Callable[[str], bool] = lambda url: not external(url)) -> Rendered:
    """The markdown as safe HTML for the site. ``drop_title``: the entry's title, whose heading the page
    shows itself (the first heading is left out when its text is that title). ``served(src)``: whether an
    image comes from the site itself; any other image becomes a link to it (a page fetches nothing from
    elsewhere)."""
    md = _parser()
    env: dict[str, Any] = {}
    tokens = md.parse(markdown, env)
    if drop_title is not None:
        tokens = _without_title(tokens, drop_title)
    _images_as_links(tokens, served)
    seen: dict[str, int] = {}
    for n, token in enumerate(tokens):
        if token.type == "heading_open" and n + 1 < len(tokens):
            anchor = github_anchor(_inline_text(tokens[n + 1]), seen)
            if anchor:
                token.attrSet("id", anchor)
    raw = md.renderer.render(tokens, md.options, env)
    math = any(t.type.startswith("math_") or (t.type == "fence" and t.info.strip().lower() == "math")
               or any(c.type.startswith("math_") for c in t.children or ()) for t in tokens)
    return sanitise(raw, links, math=math)


def _images_as_links(tokens: Sequence[Token], served: Callable[[str], bool]) -> None:
    from markdown_it.token import Token

    for token in tokens:
        children = token.children or []
        for n, child in enumerate(children):
            src = str(child.attrGet("src") or "") if child.type == "image" else ""
            if src and not served(src):
                label = "".join(c.content for c in child.children or ()) or "image"
                opening = Token("link_open", "a", 1, attrs={"href": src})
                children[n:n + 1] = [opening, Token("text", "", 0, content=f"🖼 {label}"), Token("link_close", "a", -1)]


def _without_title(tokens: list[Token], title: str) -> list[Token]:
    for n, token in enumerate(tokens):
        if token.type == "heading_open":
            if _plain(_inline_text(tokens[n + 1])) == _plain(title):
                return tokens[:n] + tokens[n + 3:]
            return tokens
        if token.type not in ("html_block",):  # a leading comment (the drafter's) may come first
            return tokens
    return tokens


def sanitise(fragment: str, links: LinkHook, *, math: bool = False) -> Rendered:
    """HTML from the diary, cleaned to what GitHub would show, every link and image source through ``links``."""
    import nh3

    ids: set[str] = set()

    def attribute(tag: str, name: str, value: str) -> str | None:
        if name in ("id", "name"):
            if value.startswith("__") or not value.strip():
                return None  # the theme's own ids (__search, __drawer...) stay the theme's
            ids.add(value)
            return value
        if (tag, name) in (("a", "href"), ("img", "src")):
            if value.startswith("#"):
                return value
            return links(value, tag)
        return value

    cleaned = nh3.clean(
        fragment, tags=_TAGS, attributes=_ATTRIBUTES, allowed_classes=_CLASSES, url_schemes=_URL_SCHEMES,
        attribute_filter=attribute, link_rel=None, strip_comments=True,
        clean_content_tags={"script", "style", "textarea", "noscript", "iframe", "object", "template"},
        tag_attribute_values={"input": {"type": {"checkbox"}}},
        set_tag_attribute_values={"input": {"disabled": "disabled"}},
    )
    return Rendered(cleaned, frozenset(ids), math or 'class="arithmatex"' in cleaned)


def external(url: str) -> bool:
    """A URL with a scheme (``https:``, ``mailto:``) or protocol-relative: left as written."""
    return url.startswith("//") or bool(_SCHEME.match(url))
