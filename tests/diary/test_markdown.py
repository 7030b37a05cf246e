"""The markdown layer: CommonMark + GFM tables as GitHub reads them, every link with its exact span, byte-exact edits."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from paperdiary.diary.markdown import DestinationStyle, Edit, LinkKind, destination_style, format_destination, parse
from tests.diary.commonmark import link_destinations


def spans(text: str) -> list[tuple[str, str, str]]:
    return [(link.kind.value, text[link.span.start:link.span.end], link.written) for link in parse(text).links]


def test_links_of_every_kind_with_their_spans() -> None:
    text = ('See [ProRL](June%202025/4thJuneProRL.md "title"), ![fig](<fig one.png>), <https://arxiv.org/abs/1>,\n'
            "[ref][R], [R] and [x]().\n\n[R]: <r r.md>\n[r]: ignored.md\n")
    assert spans(text) == [
        ("inline", '[ProRL](June%202025/4thJuneProRL.md "title")', "June%202025/4thJuneProRL.md"),
        ("inline", "![fig](<fig one.png>)", "<fig one.png>"),
        ("autolink", "<https://arxiv.org/abs/1>", "https://arxiv.org/abs/1"),
        ("reference", "[ref][R]", ""),
        ("reference", "[R]", ""),
        ("inline", "[x]()", ""),
        ("definition", "[R]: <r r.md>", "<r r.md>"),
        ("definition", "[r]: ignored.md", "ignored.md"),
    ]
    doc = parse(text)
    prorl, fig, auto, ref, *_ = doc.links
    assert (prorl.path, prorl.local, prorl.text, prorl.title) == ("June 2025/4thJuneProRL.md", True, "ProRL", "title")
    assert fig.image and fig.path == "fig one.png" and fig.angle
    assert not auto.local and ref.href == "r%20r.md" and ref.label == "R"
    assert [link.first for link in doc.links if link.kind is LinkKind.DEFINITION] == [True, False]
    assert doc.definition("r").written == "<r r.md>"  # type: ignore[union-attr]


def test_what_github_does_not_read_as_a_link_is_none() -> None:
    text = ("[raw](June 2025/x.md) `[code](c.md)`\n\n```\n[fenced](f.md)\n```\n\n    [indented](i.md)\n\n"
            "<div>\n[html](h.md)\n</div>\n")
    assert parse(text).links == ()


def test_scheme_less_urls_todo_and_anchors() -> None:
    doc = parse("[a](arxiv.org/abs/1504.04909) [b](TODO) [c](#results) [d](//host/x) [e](x.md#key?q)\n")
    assert [link.local for link in doc.links] == [True, True, False, False, True]
    assert doc.links[-1].suffix == "#key?q" and doc.links[-1].path == "x.md"


def test_offsets_hold_with_crlf_a_bom_tabs_quotes_lists_and_tables() -> None:
    text = ("\ufeff# Title\r\n- item [a](a.md)\r\n  wrapped [b\r\n  c](b.md)\r\n> quote [q](q.md)\r\n\r\n"
            "| x \\| y | [t](t.md) |\r\n|---|---|\r\n| `p\\|q` | [u](<u u.md>) |\r\n\r\n\t\t[tab](tab.md)\r\n"
            "1. one\r\n   - [deep](deep.md)\r\n")
    doc = parse(text)
    assert [text[link.dest.start:link.dest.end] for link in doc.links if link.dest] == [
        "a.md", "b.md", "q.md", "t.md", "<u u.md>", "deep.md"]  # "\t\t[tab]" is indented code
    assert doc.headings[0].text == "Title" and doc.headings[0].line == 0
    assert [link.line for link in doc.links] == [1, 2, 4, 6, 8, 12]


def test_blocks_headings_and_fences() -> None:
    text = "Intro\n=====\n\n## 📖 Full *Diary* ##\n### October\n- a\n  - b\n\n```py\nx\n```\n~~~\nopen\n"
    doc = parse(text)
    assert [(h.level, h.text, h.plain, h.line, h.end, h.setext) for h in doc.headings] == [
        (1, "Intro", "Intro", 0, 2, True), (2, "📖 Full *Diary*", "📖 Full Diary", 3, 4, False),
        (3, "October", "October", 4, 5, False)]
    items = doc.blocks_of("list_item")
    assert [(b.start, b.end, b.depth) for b in items] == [(5, 8, 1), (6, 8, 3)]
    fences = doc.blocks_of("fence")
    assert [(f.start, f.end, f.info, f.closed) for f in fences] == [(8, 11, "py", True), (11, 13, "", False)]
    assert doc.open_fence() == fences[1] and 12 in doc.code_lines and 5 not in doc.code_lines
    assert parse("```\nx\n```\n").open_fence() is None


def test_front_matter_is_no_markdown_and_sections_end_at_the_next_heading_of_their_level() -> None:
    doc = parse("---\ntitle: A [x](y.md)\ndate: 2018-01-06\n---\n# T\ntext\n## S\n- # in item\n### s2\n# next\n")
    assert doc.front_matter == 4 and doc.blocks[0].kind == "front_matter" and doc.links == ()
    assert [(h.text, h.depth, doc.section_end(h)) for h in doc.headings] == [
        ("T", 0, 9), ("S", 0, 9), ("in item", 2, 8), ("s2", 0, 9), ("next", 0, 10)]
    assert parse("---\nno end\n").front_matter == 0


def test_edits_change_only_their_spans() -> None:
    text = "a [x](old.md) b\r\n\r\n[r]: old.md\r\nend"
    doc = parse(text)
    inline, definition = doc.links
    assert doc.with_destination(inline, "new%20one.md") == "a [x](new%20one.md) b\r\n\r\n[r]: old.md\r\nend"
    assert doc.edit([Edit(definition.dest.start, definition.dest.end, "<n n.md>")]) == \
        "a [x](old.md) b\r\n\r\n[r]: <n n.md>\r\nend"  # type: ignore[union-attr]
    assert doc.replace_lines(2, 3, "[r]: other.md\r\n") == "a [x](old.md) b\r\n\r\n[r]: other.md\r\nend"
    with pytest.raises(ValueError):
        doc.edit([Edit(0, 5, "x"), Edit(3, 6, "y")])


def test_destinations_are_written_in_the_files_style_never_with_a_raw_space() -> None:
    assert format_destination("June 2025/x (v2).md") == "June%202025/x%20%28v2%29.md"
    assert format_destination("TTT++: Why?.md") == "TTT%2B%2B%3A%20Why%3F.md"
    assert format_destination("June 2025/x.md", DestinationStyle.ANGLE, "#key") == "<June 2025/x.md#key>"
    assert format_destination("a<b>.md", DestinationStyle.ANGLE) == "<a%3Cb%3E.md>"
    for path in ("June 2025/x (v2).md", "a<b>\\c.md", "Été 100%.md", "x:y.md", "TTT++: Why?.md", "C# #1.md"):
        for style in DestinationStyle:
            link = parse(f"[t]({format_destination(path, style)})\n").links
            assert len(link) == 1 and link[0].path == path and link[0].local, (path, style)
    assert destination_style(parse("[a](<x y.md>) [b](<z w.md>) [c](p%20q.md)\n")) is DestinationStyle.ANGLE
    assert destination_style(parse("[a](x.md)\n")) is DestinationStyle.PERCENT


# --------------------------------------------------------------------------- property: spans are exact

_words = st.sampled_from(["word", "two words", "a (paren)", "x<y>", "*em*", "**strong**", "`code`", "`[c](c.md)`",
                          "_u_", "\\[", "[", "]", "(", ")", "Été", "#", "&amp;", "\\"])
_dests = st.sampled_from(["x.md", "June%202025/x.md", "<June 2025/x.md>", "a(b).md", "../up.md#frag", "TODO",
                          "arxiv.org/abs/1504.04909", "https://arxiv.org/abs/1706.03762", "<>", "", "#anchor",
                          "x.md 'title'", "x.md \"t\""])


@st.composite
def _link(draw: st.DrawFn) -> str:
    text = " ".join(draw(st.lists(_words, min_size=0, max_size=3)))
    bang = draw(st.sampled_from(["", "!"]))
    return f"{bang}[{text}]({draw(_dests)})"


@st.composite
def _line(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(_link(), _words), min_size=1, max_size=5))
    prefix = draw(st.sampled_from(["", "", "- ", "1. ", "  - ", "    1) ", "> ", "# ", "### ", "| ", "\t"]))
    return prefix + " ".join(parts)


@st.composite
def _document(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(_line(), st.sampled_from(["", "```", "~~~~", "---", "|---|---|", "<!-- c -->",
                                                                  "[ref]: x.md", "====="])),
                          min_size=1, max_size=12))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(lines) + draw(st.sampled_from(["", eol]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document(), st.sampled_from(["NEW.md", "<N E W.md>", "n%20w.md"]))
def test_every_link_is_found_and_a_rewrite_changes_exactly_its_destination(text: str, new: str) -> None:
    doc = parse(text)
    assume(not doc.front_matter)  # plain markdown-it reads front matter as markdown; GitHub and we do not
    assert doc.edit([]) == text  # written back without an edit: byte for byte
    used = [link for link in doc.links if link.kind is not LinkKind.DEFINITION]
    assert sorted(link.href for link in used) == sorted(link_destinations(text))  # every link markdown-it sees, no other
    for link in doc.links:
        if link.dest is None:
            continue
        assert text[link.dest.start:link.dest.end] == link.written
        changed = doc.with_destination(link, new)
        assert changed == text[:link.dest.start] + new + text[link.dest.end:]
        again = parse(changed)
        moved = [other for other in again.links if other.span.start == link.span.start and other.kind == link.kind]
        assert moved and moved[0].written == new
        assert len(again.links) == len(doc.links)
        break  # one rewrite per example keeps it fast; hypothesis varies which link comes first
