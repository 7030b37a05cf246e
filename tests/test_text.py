"""Shared plain-text helpers (pipeline/paperdiary/text.py)."""

from __future__ import annotations

import pytest

from paperdiary.text import (
    clean_text,
    line_body,
    shorten,
    split_lines,
    split_paragraphs,
    split_sentences,
    strip_controls,
    unified_diff,
)


# ---------------------------------------------------------------------- splitting


def test_split_paragraphs_on_blank_lines():
    assert split_paragraphs("one\nline two\n\n  \n\nthree\n \nfour\n\n") == ["one\nline two", "three", "four"]


@pytest.mark.parametrize(
    "text",
    [
        "Vaswani et al. [12] show that attention suffices.",
        "Models such as BERT, e.g. BERT-large, are big.",
        "We use a transformer, i.e. A stack of attention layers.",
        "As shown in Fig. 2 and Eq. 3, the loss falls.",
        "The model reaches 28.4 BLEU vs. 27.3 BLEU for the baseline.",
        "Adam vs. SGD is compared in Sec. 4 and Tab. 2 of the paper.",
    ],
)
def test_split_sentences_keeps_abbreviations_and_decimals_inside(text):
    assert split_sentences(text) == [text]


def test_split_sentences_splits_real_boundaries():
    text = 'We propose X. It works! Does it scale? "Yes," they said. (See below.) 42 runs were made. [3] agrees.'
    assert split_sentences(text) == [
        "We propose X.",
        "It works!",
        "Does it scale?",
        '"Yes," they said.',
        "(See below.)",
        "42 runs were made.",
        "[3] agrees.",
    ]


def test_split_sentences_keeps_line_breaks_inside_a_sentence():
    assert split_sentences("A long\nsentence here. Next\none.") == ["A long\nsentence here.", "Next\none."]


def test_split_lines_keeps_every_ending():
    text = "a\r\nb\rc\nd"
    assert split_lines(text) == ["a\r\n", "b\r", "c\n", "d"] and "".join(split_lines(text)) == text
    assert [line_body(line) for line in split_lines(text)] == ["a", "b", "c", "d"]


def test_shorten_cuts_on_one_line():
    assert shorten("a  b\nc") == "a b c"
    assert shorten("word " * 30, 20) == "word word word word…"


def test_unified_diff_names_the_file_and_ignores_line_endings():
    diff = unified_diff("one\r\ntwo\r\n", "one\r\n2\r\n", "README.md")
    assert diff.splitlines() == ["--- a/README.md", "+++ b/README.md", "@@ -1,2 +1,2 @@", " one", "-two", "+2"]


# ---------------------------------------------------------------------- sanitising


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mred\x1b[0m", "red"),  # CSI colours go whole, not just their ESC
        ("\x1b[2J\x1b[1;1Hwiped", "wiped"),  # clear screen, cursor home
        ("\x1b]8;;http://evil\x07link\x1b]8;;\x07", "link"),  # OSC 8 hyperlink, BEL-terminated
        ("\x1b]0;new title\x1b\\text", "text"),  # OSC window title, ST-terminated
        ("\x9b31mC1 CSI", "C1 CSI"),
        ("a\u202eb\u2066c\u200bd", "abcd"),  # bidi override, isolate, zero-width space
        ("bell\x07 back\x08space", "bell backspace"),
        ("tab\tand\nlines\r\n", "tab\tand\nlines\r\n"),  # white space stays for the caller to fold
    ],
)
def test_strip_controls_removes_escape_sequences_whole(raw: str, clean: str) -> None:
    assert strip_controls(raw) == clean


def test_clean_text_folds_what_strip_controls_keeps() -> None:
    assert clean_text("  \x1b[1mBold\x1b[0m\n  claim\t ") == "Bold claim"
