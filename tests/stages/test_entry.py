"""Writing entries: the user's format, safe file names, and never a human's file overwritten."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperdiary.diary.catalog import entry_for_paper as find_existing_entry
from paperdiary.stages.entry import entry_relpath, long_date, ordinal, write_entry
from paperdiary.stages.entry_metadata import EntryMetadata, metadata_comment, read_metadata
from paperdiary.models import PaperMeta
from paperdiary.stages.drafting.contract import Claim, Draft, Lesson
from paperdiary.settings import load_settings


def make_draft(short_name: str = "TokenEntropyRLVR", **overrides) -> Draft:
    fields = dict(
        short_name=short_name,
        description="Training only on high-entropy tokens improves RLVR.",
        key_points=[Claim("**High-entropy tokens** act as forks in the road."), Claim("Second point.", verified=False)],
        key_methods=[Claim("Restrict the policy gradient to the top 20% entropy tokens.")],
        results=[Claim("Improves AIME'25 by **11.04** points on Qwen3-32B.")],
        limitations=[],
        lessons=[Lesson("**High-entropy tokens** drive RL gains.", theme="Reinforcement Learning")],
        drafter="offline",
    )
    fields.update(overrides)
    return Draft(**fields)


META = PaperMeta(title="Beyond the 80/20 Rule", arxiv_id="2506.01939", version=2)


@pytest.fixture
def settings(tmp_path: Path):
    (tmp_path / "entries").mkdir()
    return load_settings(tmp_path, env={})


@pytest.mark.parametrize(("day", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                           (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"),
                                           (31, "31st")])
def test_ordinal(day: int, text: str) -> None:
    assert ordinal(day) == text


def test_default_path_and_shape(settings) -> None:
    written = write_entry(settings, make_draft(), META, date(2025, 6, 11))
    assert written.created
    assert written.relpath == "entries/June 2025/11thJuneTokenEntropyRLVR.md"
    text = written.path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# Beyond the 80/20 Rule"
    assert "Date read: 11th June 2025" in lines
    assert "[arXiv link](https://arxiv.org/abs/2506.01939)" in lines
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == ["## Key Points", "## Key Methods", "## Results", "## Limitations", "## My Notes"]
    assert "- **High-entropy tokens** act as forks in the road." in lines
    assert "- Second point. ⚠ unverified" in lines
    assert "Drafted without an LLM" in text  # the visible line
    comment = re.search(r"<!-- paperdiary: (.*) -->", text)
    assert comment and '"arxiv_id": "2506.01939"' in comment[1] and '"drafter": "offline"' in comment[1]
    assert '"version": 2' in comment[1]
    # My Notes is left empty for the human.
    notes = text.split("## My Notes", 1)[1]
    assert notes.strip().startswith("<!--")


def test_long_date() -> None:
    assert long_date(date(2025, 5, 23)) == "23rd May 2025"


def test_existing_file_is_never_overwritten(settings) -> None:
    first = write_entry(settings, make_draft(), META, date(2025, 6, 11))
    first.path.write_text("# my own words\n", encoding="utf-8")
    second = write_entry(settings, make_draft(), META, date(2025, 6, 11))
    assert first.path.read_text(encoding="utf-8") == "# my own words\n"
    assert second.path.name == "11thJuneTokenEntropyRLVR-2.md" and second.created


def test_finds_hand_written_entry_anywhere(settings) -> None:
    hand = settings.diary / "June 2025" / "4thJuneProlongedRL.md"
    hand.parent.mkdir()
    hand.write_text("# ProRL\n[paper](https://arxiv.org/pdf/2505.24864v1)\nnotes\n", encoding="utf-8")
    assert find_existing_entry(settings, "2505.24864") == hand
    assert find_existing_entry(settings, "2505.2486") is None  # a prefix is another paper
    assert find_existing_entry(settings, "2505.24865") is None


def test_readme_and_state_are_not_entries(settings) -> None:
    (settings.diary / "README.md").write_text("[x](https://arxiv.org/abs/2505.24864)\n")
    settings.state_path.mkdir()
    (settings.state_path / "x.md").write_text("https://arxiv.org/abs/2505.24864\n")
    assert find_existing_entry(settings, "2505.24864") is None


HOSTILE = [
    "../../../etc/passwd", "/absolute/path", "a/b\\c", "..", ".", "con:nul", "\x00\x01\x1b[31mred",
    "🚀🔥 Emoji Only 🤖", "x" * 5000, "", "   ", "-rf", "title\nwith\nnewlines",
]


@pytest.mark.parametrize("short_name", HOSTILE)
def test_hostile_short_names_stay_inside_entries(settings, short_name: str) -> None:
    written = write_entry(settings, make_draft(short_name=short_name), META, date(2025, 6, 11))
    entries = settings.entries_path.resolve()
    assert written.path.resolve().is_relative_to(entries)
    assert written.path.parent == entries / "June 2025"
    assert len(written.path.name.encode()) <= 255
    assert not re.search(r"[\x00-\x1f]", written.path.name)


@hsettings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=300), short=st.text(max_size=300))
def test_any_title_renders_and_stays_inside(settings, title: str, short: str) -> None:
    meta = PaperMeta(title=title, arxiv_id="2506.01939")
    rel = entry_relpath(settings, make_draft(short_name=short), meta, date(2025, 6, 11))
    assert not rel.is_absolute() and ".." not in rel.parts
    assert (settings.entries_path / rel).resolve().is_relative_to(settings.entries_path.resolve())


def test_title_with_markup_cannot_inject(settings) -> None:
    meta = PaperMeta(title="<script>alert(1)</script> [click](javascript:alert(1))\n# Fake", arxiv_id="2506.01939")
    draft = make_draft(key_points=[Claim("<img src=x onerror=alert(1)> ![i](http://evil) [a](javascript:x)")])
    text = write_entry(settings, draft, meta, date(2025, 6, 11)).path.read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text
    links = re.findall(r"(?<!\\)\]\(", text)  # an unescaped "](" opens a link or image
    assert len(links) == 1  # only the arXiv link the template writes
    assert "javascript:" not in text
    assert "\n# Fake" not in text


def test_path_pattern_setting(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, overrides={"entry_path": "{theme}/{year}-{day}-{short_name}"}, env={})
    rel = entry_relpath(settings, make_draft(), META, date(2025, 6, 1), theme="Robotics/../x")
    assert rel.as_posix() == "Robotics_.._x/2025-01-TokenEntropyRLVR.md"


def test_diary_template_override(settings) -> None:
    (settings.diary / "prompts").mkdir()
    (settings.diary / "prompts" / "entry.md.j2").write_text("# {{ title | md }} — mine\n", encoding="utf-8")
    text = write_entry(settings, make_draft(), META, date(2025, 6, 11)).path.read_text(encoding="utf-8")
    # The template is the diary's; the hidden comment is PaperDiary's, appended when the template leaves it out.
    assert text.startswith("# Beyond the 80/20 Rule — mine\n\n<!-- paperdiary: ")
    meta = read_metadata(text)
    assert meta is not None and meta.paper_id == "2506.01939" and meta.drafter == "offline"
    assert text.count("<!-- paperdiary:") == 1


def test_template_places_the_metadata_comment_once(settings) -> None:
    (settings.diary / "prompts").mkdir()
    template = "{{ metadata }}\n# {{ title | md }}\n"
    (settings.diary / "prompts" / "entry.md.j2").write_text(template, encoding="utf-8")
    text = write_entry(settings, make_draft(), META, date(2025, 6, 11)).path.read_text(encoding="utf-8")
    assert text.startswith("<!-- paperdiary: ") and text.endswith("\n# Beyond the 80/20 Rule\n")
    assert text.count("<!-- paperdiary:") == 1


def test_metadata_comment_round_trips_and_cannot_be_closed_early() -> None:
    meta = EntryMetadata("2506.01939v2", 2, "llm", "2025-06-11T10:00:00+00:00", "Forks --> carry <b>signal</b>",
                         {"coverage": "0.8", "arxiv_id": "1234.5678"})
    comment = metadata_comment(meta)
    assert comment.count("-->") == 1 and comment.endswith(" -->") and "\n" not in comment
    read = read_metadata(f"# T\n\nbody\n\n{comment}\n")
    assert read is not None and read.paper_id == "2506.01939" and read.version == 2
    assert read.description == "Forks - -> carry <b>signal</b>"  # the comment's own "--" is defused
    assert read.extra == {"coverage": "0.8"}  # a note cannot override a known field
    assert read_metadata("# T\n<!-- paperdiary: {not json} -->\n") == EntryMetadata(damaged=True)
    assert read_metadata("# Hand-written\n<!-- a comment -->\n") is None


def test_local_pdf_entry_names_its_source(settings) -> None:
    meta = PaperMeta(title="Local Paper")
    text = write_entry(settings, make_draft(), meta, date(2025, 6, 11), source_name="paper.pdf").path.read_text()
    assert "Source: `paper.pdf`" in text and "arxiv.org" not in text


def test_topic_folders_use_the_first_lesson_theme(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, overrides={"entry_path": "{theme}/{short_name}.md"}, env={})
    written = write_entry(settings, make_draft(), META, date(2025, 6, 11))
    assert written.relpath == "entries/Reinforcement Learning/TokenEntropyRLVR.md"
    no_theme = make_draft(short_name="Other", lessons=[Lesson("A lesson.")])
    assert write_entry(settings, no_theme, META, date(2025, 6, 11)).relpath == "entries/Unsorted/Other.md"


def test_related_entries_are_linked_from_the_entry_folder(settings) -> None:
    from paperdiary.models import RelatedEntry
    from paperdiary.stages.entry import render_entry, same_entry

    related = [RelatedEntry("Older [one]", "entries/May 2025/1stMayOld.md"), RelatedEntry("Root", "notes/x y.md")]
    written = write_entry(settings, make_draft(), META, date(2025, 6, 11), related=related)
    text = written.path.read_text(encoding="utf-8")
    [line] = [line for line in text.splitlines() if line.startswith("Related in this diary:")]
    assert line == ("Related in this diary: [Older \\[one\\]](../May%202025/1stMayOld.md), "
                    "[Root](../../notes/x%20y.md)")
    # The line depends on the diary when written: a re-render without it is still the same entry.
    assert same_entry(text, render_entry(settings, make_draft(), META, date(2025, 6, 11), ""))
    plain = write_entry(settings, make_draft(short_name="Other"), META, date(2025, 6, 11))
    assert "Related in this diary" not in plain.path.read_text(encoding="utf-8")
