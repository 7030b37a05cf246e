"""The README model: byte-for-byte round trips, the user's shapes, and edits that touch only their lines."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperdiary.fsutil import relative_link
from paperdiary.diary.readme import Readme, lessons_section_themes, readme_themes
from paperdiary.errors import ReadmeError
from paperdiary.text import split_lines

FIXTURES = Path(__file__).parent.parent / "fixtures" / "readmes"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def diff_ops(old: str, new: str) -> list[tuple[str, list[str], list[str]]]:
    """Non-equal difflib opcodes between two texts, line by line (line endings included)."""
    a, b = split_lines(old), split_lines(new)
    return [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in
            difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if tag != "equal"]


def assert_pure_insertion(old: str, new: str) -> list[str]:
    """The edit only inserted lines (one block); returns them."""
    ops = diff_ops(old, new)
    assert [tag for tag, _, _ in ops] == ["insert"], ops
    return ops[0][2]


# --------------------------------------------------------------------------- generated READMEs

_WORDS = st.sampled_from(
    ["RL", "tokens", "**bold**", "*it*", "`code`", "[ProRL](June%202025/4thJuneProlongedRL.md)", "#tag", "5 #",
     "(x)", "ÉtÉ", "🤖", "<b>", "a|b", "1.", "2)", "-", "*", ">", "!", "\\", "[ref]", "![img](a.png)", "~~~"]
)
_TEXT = st.lists(_WORDS, min_size=1, max_size=5).map(" ".join)
_INDENT = st.sampled_from(["", " ", "  ", "   ", "\t"])
_NESTED_INDENT = st.sampled_from(["   ", "    ", "\t", "  \t", "      "])


@st.composite
def _block(draw: st.DrawFn) -> list[str]:
    kind = draw(st.sampled_from(
        ["prose", "heading", "item", "item", "item", "bullet", "continuation", "nested", "sub", "quote", "image",
         "details", "iframe", "fence", "comment", "blank", "setext", "refdef", "hr"]
    ))
    text = draw(_TEXT)
    if kind == "prose":
        return [text]
    if kind == "heading":
        hashes = "#" * draw(st.integers(1, 5))
        closing = draw(st.sampled_from(["", " #", " ###"]))
        indent, emoji = draw(st.sampled_from(["", " ", "   "])), draw(st.sampled_from(["", "🧠 ", "✨"]))
        return [f"{indent}{hashes} {emoji}{text}{closing}"]
    if kind == "item":
        number = draw(st.sampled_from(["1", "2", "2", "10", "10", "07", "123"]))
        delimiter, spacing = draw(st.sampled_from([".", ")"])), draw(st.sampled_from([" ", "  ", "\t"]))
        return [f"{draw(_INDENT)}{number}{delimiter}{spacing}{text}"]
    if kind == "bullet":
        return [f"{draw(_INDENT)}{draw(st.sampled_from(['-', '*', '+']))} {text}"]
    if kind == "continuation":
        return [text]
    if kind == "nested":
        return [f"{draw(_NESTED_INDENT)}- {text}"]
    if kind == "sub":
        return [f"{draw(_NESTED_INDENT)}{draw(st.sampled_from(['1.', '2)', '1)']))} {text}"]
    if kind == "quote":
        return [f"> {text}", f"> # not a heading {text}"]
    if kind == "image":
        return [f"![{text}](assets/fig%201.png)"]
    if kind == "details":
        return ["<details>", f"<summary>{text}</summary>", "", f"1. inside details {text}", "", "</details>"]
    if kind == "iframe":
        return ['<iframe width="560" src="https://www.youtube.com/embed/x" allowfullscreen></iframe>']
    if kind == "fence":
        indent = draw(st.sampled_from(["", "   ", "    "]))
        fence = draw(st.sampled_from(["```", "~~~", "````"]))
        body = [f"{indent}{fence}python", f"{indent}# {text}", f"{indent}## not a heading", f"{indent}1. not an item"]
        return body if draw(st.booleans()) and draw(st.booleans()) else [*body, f"{indent}{fence}"]
    if kind == "comment":
        return ["<!--", f"### hidden {text}", "-->"]
    if kind == "blank":
        return [draw(st.sampled_from(["", " ", "\t", "   "]))]
    if kind == "setext":
        return [text, draw(st.sampled_from(["---", "===", "-"]))]
    if kind == "refdef":
        return [f"[ref]: June%202025/{draw(st.sampled_from(['a', 'b c']))}.md"]
    return [draw(st.sampled_from(["---", "***", "- - -"]))]


@st.composite
def readmes(draw: st.DrawFn) -> str:
    blocks = lambda n: draw(st.lists(_block(), max_size=n))  # noqa: E731
    lines = [line for block in blocks(4) for line in block]
    lines.append(draw(st.sampled_from(
        ["## Interesting Methods and Lesson Learned", "## 📚 Lessons Learned ##", "##\tLesson notes"])))
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"### {draw(st.sampled_from(['', '🤖 ', '✨ ']))}{draw(_TEXT)}")
        lines += [line for block in blocks(8) for line in block]
    if draw(st.booleans()):
        lines.append("## After")
        lines += [line for block in blocks(3) for line in block]
    mode = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    out = []
    for line in lines:
        trailing = draw(st.sampled_from(["", "", "", " ", "  ", "\t"]))
        ending = draw(st.sampled_from(["\n", "\r\n", "\r"])) if mode == "mixed" else mode
        out.append(line + trailing + ending)
    text = "".join(out)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(readmes())
def test_generated_readmes_round_trip(text: str) -> None:
    try:
        readme = Readme.parse(text)
    except ReadmeError:
        # Only when the lessons heading itself sits inside an unclosed fence, comment or HTML block.
        # (Any line opening with a tag can start a CommonMark HTML block that swallows the heading.)
        assert "```" in text or "~~~" in text or any(line.lstrip().startswith("<") for line in text.splitlines())
        return
    assert readme.render() == text
    for theme in readme.all_themes():
        for lesson in theme.lessons:
            assert lesson.lines and lesson.raw == "".join(lesson.lines + lesson.trailing)
            assert all(not line.strip(" \t\r\n") for line in lesson.trailing)
            assert all("%" not in path for path in lesson.cites)


_PIECES = st.text(st.characters(codec="utf-8"), max_size=3) | st.sampled_from(
    ["\n", "\r", "\r\n", "#", "### T\n", "1. ", "10) ", "```", "~~~", "<!--", "-->", "<details>", "   - ", "\t",
     "---\n", "> ", "[a](b%20c.md)", "[r]: x.md\n", "\ufeff"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_any_text_round_trips(tail: str) -> None:
    text = "## Lessons\n" + tail
    assert Readme.parse(text).render() == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(readmes(), st.sampled_from(["**New** lesson ([X](July%202025/x.md))", "first\nsecond line\n- nested"]))
def test_add_lesson_only_inserts(text: str, lesson: str) -> None:
    try:
        readme = Readme.parse(text)
    except ReadmeError:
        return
    if not readme.themes:
        return
    theme = readme.themes[-1]
    try:
        edited = readme.add_lesson(theme.key, lesson)
    except ReadmeError:
        return  # refused: an unclosed fence or HTML block would swallow the new lesson
    assert len(edited.theme(theme.key).lessons) == len(theme.lessons) + 1
    ops = diff_ops(text, edited.render())
    if text.endswith(("\n", "\r")) or [tag for tag, _, _ in ops] == ["insert"]:
        assert [tag for tag, _, _ in ops] == ["insert"], ops
    else:  # the file's last line gained the newline it needs to be followed by the lesson
        assert [tag for tag, _, _ in ops] == ["replace"] and ops[0][2][0].rstrip("\r\n") == ops[0][1][0]
        assert not edited.render().endswith(("\n", "\r"))


# --------------------------------------------------------------------------- fixtures: shape


@pytest.mark.parametrize("name", ["seedlike.md", "crlf_emoji_html.md", "irregular.md"])
def test_fixtures_round_trip(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    assert Readme.parse(raw.decode("utf-8")).render().encode("utf-8") == raw
    assert Readme.read(FIXTURES / name, diary_root=FIXTURES).render().encode("utf-8") == raw


def test_seedlike_structure() -> None:
    readme = Readme.parse(fixture("seedlike.md"))
    assert readme.section_title == "Interesting Methods and Lesson Learned"
    assert [t.name for t in readme.themes] == [
        "Language Models", "Computer Vision", "Optimisation and Training", "Agents and Planning",
        "Generative Models", "Evaluation",
    ]
    assert [len(t.lessons) for t in readme.themes] == [6, 5, 6, 4, 3, 2]
    assert readme.preamble[0] == "# ReadingLog\n"
    assert readme.after[0] == "## Tools I Use\n"  # its numbered list is not lessons
    assert readme.intro[0].startswith("This section keeps")

    lm, cv, opt, agents = readme.themes[:4]
    # Continuation lines without indent stay in their lesson.
    assert len(lm.lessons[0].lines) == 2 and lm.lessons[0].text.endswith("beats hashing tokens to experts.")
    # Numbered sub-items (3 spaces under "3.", "1)" with 4 spaces under "4.") are not lessons.
    assert [line.lstrip()[:2] for line in cv.lessons[2].lines[1:]] == ["1.", "2."]
    assert [line.lstrip()[:2] for line in opt.lessons[3].lines[1:]] == ["1)", "2)"]
    # A nested bullet and the indented paragraph after it belong to the lesson, not its first paragraph.
    assert len(agents.lessons[0].lines) == 3 and agents.lessons[0].paragraph == 1
    # Cited entries: decoded, relative to the diary root.
    assert lm.lessons[1].cites == ("July 2025/5thJulyLongContextScaling.md", "July 2025/9thJulyRopeStretch.md")
    assert lm.lessons[1].citations[0].label == "LongCtx"
    assert lm.lessons[1].citations[0].target == "July%202025/5thJulyLongContextScaling.md"
    assert [x.number for x in lm.lessons] == ["1", "2", "3", "4", "5", "6"]
    assert lessons_section_themes(fixture("seedlike.md"))[0] == "Language Models"


def test_crlf_emoji_html_structure() -> None:
    readme = Readme.parse(fixture("crlf_emoji_html.md"))
    assert readme.newline == "\r\n"
    assert readme.section_title == "📚 Lessons Learned"
    assert [t.name for t in readme.themes] == ["🤖 Robotics", "🧠 Memory & Retrieval", "🧪 Experiments ✨"]
    memory = readme.theme("memory & retrieval")
    assert [(t.key, t.name, t.level) for t in memory.subthemes] == [((1, 0), "Long-term memory", 4)]
    # A "#" inside a fenced code block and a theme inside an HTML comment are not headings.
    assert len(memory.lessons) == 2 and any("## neither is this" in line for line in memory.lessons[1].lines)
    long_term = memory.subthemes[0]
    assert [x.delimiter for x in long_term.lessons] == [")", ")"]
    assert any("<!--" in line for line in long_term.lessons[1].lines)
    # The image, <details> and <iframe> stay inside their lessons.
    robotics = readme.themes[0]
    assert any("![policy rollout]" in line for line in robotics.lessons[1].lines)
    assert any("<iframe" in line for line in robotics.lessons[2].lines)
    assert robotics.lessons[2].cites == ("entries/Juin 2025/3rdJuinÉté.md",)
    # Bullets are the lessons of a theme that uses them; a nested bullet and a fence stay inside.
    experiments = readme.themes[2]
    assert [x.number for x in experiments.lessons] == [None, None]
    assert any("1. not a lesson" in line for line in experiments.lessons[1].lines)
    assert readme.after[0] == "## 🔗 Links\r\n"


def test_irregular_structure() -> None:
    text = fixture("irregular.md")
    assert not text.endswith("\n")
    readme = Readme.parse(text)
    assert readme.section_title == "Lessons"  # not "Reading queue": the first "##" containing "Lesson"
    scaling, efficiency, misc = readme.themes
    assert [x.number for x in scaling.lessons] == ["1", "2", "2", "10", "10", "11"]
    assert [x.delimiter for x in scaling.lessons] == [".", ".", ".", ".", ".", ")"]
    assert len(scaling.lessons[4].lines) == 3  # tab-indented bullet and sub-item stay nested under "10."
    assert scaling.lessons[1].lines[0].endswith("point.\t\n")  # trailing tab kept
    assert len(efficiency.lessons[1].lines) == 3
    assert [x.delimiter for x in misc.lessons] == ["*", "*", "*"]
    # The setext "Notes" heading closes the section; a reference-style link resolves.
    assert readme.after[:2] == ("Notes\n", "-----\n")
    assert scaling.lessons[0].cites == ("2025/ChinchillaScaling.md",)
    # The heading is configurable.
    other = Readme.parse(text, "Reading queue")
    assert other.section_title == "Reading queue" and other.themes == ()
    assert Readme.parse(text, "## lessons").section_title == "Lessons"


def test_citations_resolve_against_the_readme_folder() -> None:
    text = "## Lessons\n### T\n1. a [A](../June%202025/a.md), [B](/May%202025/b.md#x), [C](https://x.org/c.md)\n"
    readme = Readme.parse(text, readme_dir="docs")
    assert readme.themes[0].lessons[0].cites == ("June 2025/a.md", "May 2025/b.md")


def test_no_lessons_section() -> None:
    with pytest.raises(ReadmeError, match="no lessons section"):
        Readme.parse("# Diary\n\n## Reading\n1. x\n")
    with pytest.raises(ReadmeError):
        Readme.parse("```\n## Lessons\n```\n")  # a heading inside a fence does not count
    created = Readme.parse("# Diary\r\nprose", create=True)
    assert created.render() == "# Diary\r\nprose\r\n\r\n## Interesting Methods and Lesson Learned\r\n"
    assert Readme.parse("", "### Notes", create=True).render() == "### Notes\n"
    assert lessons_section_themes("# nothing here\n") == []


def test_readme_themes_reads_a_file(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_bytes(fixture("crlf_emoji_html.md").encode())
    assert readme_themes(tmp_path / "README.md")[0] == "🤖 Robotics"
    assert readme_themes(tmp_path / "missing.md") == []


def test_theme_lookup() -> None:
    readme = Readme.parse(fixture("crlf_emoji_html.md"))
    assert readme.theme("ROBOTICS").name == "🤖 Robotics"
    assert readme.theme((1, 0)).name == "Long-term memory"
    assert readme.theme(readme.themes[2]).key == (2,)
    with pytest.raises(ReadmeError, match="no theme named"):
        readme.theme("Vision")
    with pytest.raises(ReadmeError, match="2 themes"):
        Readme.parse("## Lessons\n### A\n### A\n").theme("A")


# --------------------------------------------------------------------------- edits


def test_add_lesson_is_a_pure_insertion_in_the_lists_style() -> None:
    text = fixture("seedlike.md")
    edited = Readme.parse(text).add_lesson("Computer Vision", "**Depth from one image** works ([D](a.md)).")
    inserted = assert_pure_insertion(text, edited.render())
    assert inserted == ["6. **Depth from one image** works ([D](a.md)).\n"]
    # Right after the last lesson, before the blank line that ends the theme.
    assert edited.render().index(inserted[0]) < edited.render().index("\n\n### Optimisation")
    assert len(edited.theme("Computer Vision").lessons) == 6


def test_add_lesson_keeps_crlf_delimiters_and_bullets() -> None:
    text = fixture("crlf_emoji_html.md")
    readme = Readme.parse(text)
    after_details = readme.add_lesson("Robotics", "**Tactile sensing** helps grasping.")
    # After </details> a blank line must end the HTML block, or the item would be part of it.
    assert assert_pure_insertion(text, after_details.render()) == ["\r\n", "4. **Tactile sensing** helps grasping.\r\n"]
    assert after_details.render().index("4. **Tactile") > after_details.render().index("</details>")
    paren = readme.add_lesson("Long-term memory", "Summaries age well.")
    assert assert_pure_insertion(text, paren.render()) == ["3) Summaries age well.\r\n"]
    bullets = readme.add_lesson("Experiments", "Log everything.")
    assert assert_pure_insertion(text, bullets.render()) == ["- Log everything.\r\n"]


def test_add_lesson_with_irregular_numbering_and_no_final_newline() -> None:
    text = fixture("irregular.md")
    readme = Readme.parse(text)
    assert assert_pure_insertion(text, readme.add_lesson("Scaling", "x").render()) == ["12) x\n"]
    assert assert_pure_insertion(text, readme.add_lesson("Efficiency", "y").render()) == ["4) y\n"]
    assert assert_pure_insertion(text, readme.add_lesson("Miscellany", "z").render()) == ["* z\n"]

    bare = "## Lessons\r\n### A\r\n1. x"
    edited = Readme.parse(bare).add_lesson("A", "y")
    assert edited.render() == "## Lessons\r\n### A\r\n1. x\r\n2. y"  # still no final newline
    empty_theme = Readme.parse("## Lessons\n### A\n\n### B\n1) b\n").add_lesson("A", "a")
    assert empty_theme.render() == "## Lessons\n### A\n1) a\n\n### B\n1) b\n"  # the README's own style


def test_add_lesson_list_styles() -> None:
    ones = Readme.parse("## Lessons\n### A\n1. a\n1. b\n").add_lesson("A", "c")
    assert ones.render().endswith("1. b\n1. c\n")
    padded = Readme.parse("## Lessons\n### A\n 08.  a\n 09.  b\n").add_lesson("A", "c")
    assert padded.render().endswith(" 10.  c\n")
    loose = Readme.parse("## Lessons\n### A\n1. a\n\n2. b\n\n## Next\n").add_lesson("A", "c")
    assert loose.render() == "## Lessons\n### A\n1. a\n\n2. b\n\n3. c\n\n## Next\n"


def test_multiline_lesson_stays_one_item() -> None:
    edited = Readme.parse("## Lessons\n### A\n1. a\n").add_lesson("A", "first\nsecond\n- detail\n## not a heading")
    assert edited.render() == "## Lessons\n### A\n1. a\n2. first\nsecond\n   - detail\n   ## not a heading\n"
    assert len(edited.themes[0].lessons) == 2
    with pytest.raises(ReadmeError, match="needs some text"):
        Readme.parse("## Lessons\n### A\n").add_lesson("A", " \n ")


def test_add_lesson_refuses_to_land_inside_an_unclosed_fence() -> None:
    readme = Readme.parse("## Lessons\n### A\n1. a\n```\ncode\n")
    with pytest.raises(ReadmeError, match="unclosed code fence"):
        readme.add_lesson("A", "b")


def test_extend_cites_beside_the_old_link() -> None:
    text = fixture("seedlike.md")
    readme = Readme.parse(text)
    new = "[NewPaper](August%202025/1stAugustNew.md)"
    grouped = readme.extend_lesson("Language Models", 2, new)
    (tag, old, changed), = diff_ops(text, grouped.render())
    assert tag == "replace" and len(old) == len(changed) == 1
    assert changed[0].endswith("([DraftVerify](July%202025/11thJulySpeculativeDecoding.md), " + new + ").\n")
    assert grouped.theme("Language Models").lessons[2].cites[-1] == "August 2025/1stAugustNew.md"
    # No parenthesised group: appended to the end of the first paragraph (its continuation line).
    appended = readme.extend_lesson("Language Models", 0, new)
    (_, _, changed), = diff_ops(text, appended.render())
    assert changed == [f"router with a load-balancing loss beats hashing tokens to experts. ({new})\n"]
    # Trailing spaces (a possible hard break) stay at the end of the line.
    spaced = readme.extend_lesson("Language Models", 4, new)
    assert f"long prompts. ({new}) \n" in spaced.render()
    # Already cited: nothing to do.
    assert grouped.extend_lesson("Language Models", 2, new).render() == grouped.render()


def test_extend_an_and_group_and_crlf() -> None:
    text = "## Lessons\r\n### A\r\n1. X works ([A](a.md) and [B](b.md)).  \r\n"
    edited = Readme.parse(text).extend_lesson("A", 0, "[C](c%20d.md)")
    assert edited.render() == "## Lessons\r\n### A\r\n1. X works ([A](a.md), [B](b.md) and [C](c%20d.md)).  \r\n"
    assert edited.themes[0].lessons[0].cites == ("a.md", "b.md", "c d.md")
    with pytest.raises(ReadmeError, match="no lesson 5"):
        Readme.parse(text).extend_lesson("A", 4, "[C](c.md)")


def test_add_theme_lands_at_the_end_of_the_section() -> None:
    text = fixture("seedlike.md")
    edited = Readme.parse(text).add_theme("Biology 🧬", "**Protein folding** is solved-ish.")
    assert len(assert_pure_insertion(text, edited.render())) == 3
    assert edited.render() == text.replace(
        "measure the bias.\n\n## Tools",
        "measure the bias.\n\n### Biology 🧬\n1. **Protein folding** is solved-ish.\n\n## Tools")
    assert edited.themes[-1].key == (6,) and edited.after == Readme.parse(text).after

    crlf = fixture("crlf_emoji_html.md")
    edited = Readme.parse(crlf).add_theme("Vision")
    assert len(assert_pure_insertion(crlf, edited.render())) == 2
    assert edited.render() == crlf.replace("```\r\n\r\n## 🔗", "```\r\n\r\n### Vision\r\n\r\n## 🔗")

    irregular = fixture("irregular.md")
    edited = Readme.parse(irregular).add_theme("Data", "Clean it.")
    assert len(assert_pure_insertion(irregular, edited.render())) == 3
    assert edited.render() == irregular.replace(
        "reproducibility.\n\nNotes", "reproducibility.\n\n### Data\n1. Clean it.\n\nNotes")

    seed_shape = "## Lessons\n### A\n1. a"
    assert Readme.parse(seed_shape).add_theme("B", "b").render() == "## Lessons\n### A\n1. a\n\n### B\n1. b"
    assert Readme.parse("## Lessons\n## Next\n").add_theme("A").render() == "## Lessons\n### A\n\n## Next\n"
    with pytest.raises(ReadmeError, match="already has a theme"):
        Readme.parse(text).add_theme("language models")


def test_remove_lesson_renumbers_only_a_counted_list() -> None:
    text = fixture("seedlike.md")
    edited = Readme.parse(text).remove_lesson("Computer Vision", 1)
    assert [x.number for x in edited.theme("Computer Vision").lessons] == ["1", "2", "3", "4"]
    assert edited.render().count("\n") == text.count("\n") - 1
    irregular = Readme.parse(fixture("irregular.md")).remove_lesson("Scaling", 0)
    assert [x.number for x in irregular.theme("Scaling").lessons] == ["2", "2", "10", "10", "11"]
    last = Readme.parse(fixture("irregular.md")).remove_lesson("Miscellany", 2)
    assert last.render().endswith("[chin]: 2025/ChinchillaScaling.md")
    tail = Readme.parse("## Lessons\n### A\n1. a\n\n2. b").remove_lesson("A", 1)
    assert tail.render() == "## Lessons\n### A\n1. a"


def test_relative_link_encodes_like_github() -> None:
    assert relative_link("June 2025/4thJuneProlongedRL.md") == "June%202025/4thJuneProlongedRL.md"
    assert relative_link("entries/Juin 2025/3rdJuinÉté.md") == "entries/Juin%202025/3rdJuin%C3%89t%C3%A9.md"
    assert relative_link("entries/June 2025/a (b).md", "docs/notes") == "../../entries/June%202025/a%20%28b%29.md"
    assert relative_link(Path("entries/x.md"), Path("entries")) == "x.md"
