"""Templates (pipeline/paperdiary/templates.py): a diary's own render in the sandbox, errors name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdiary.errors import TemplateError
from paperdiary.templates import DiaryPrompts, md_inline, render


def prompts_with(tmp_path: Path, text: str) -> DiaryPrompts:
    (tmp_path / "prompts").mkdir(exist_ok=True)
    (tmp_path / "prompts" / "entry.md.j2").write_text(text, encoding="utf-8")
    return DiaryPrompts(tmp_path / "prompts", tmp_path)


@pytest.mark.parametrize("escape", [
    "{{ cycler.__init__.__globals__.os }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{% set x = [] %}{{ x.append(1) }}",  # the immutable sandbox: no mutating calls either
])
def test_the_sandbox_refuses_what_a_template_may_not_reach(tmp_path: Path, escape: str) -> None:
    prompts = prompts_with(tmp_path, "# {{ title }}\n\n" + escape + "\n")
    with pytest.raises(TemplateError) as info:
        render("entry.md.j2", prompts, title="T")
    assert (info.value.file, info.value.line, info.value.exit_code) == ("prompts/entry.md.j2", 3, 2)
    assert str(info.value).startswith("prompts/entry.md.j2, line 3 is refused by the sandbox: ")


def test_an_undefined_name_names_the_file_and_line(tmp_path: Path) -> None:
    prompts = prompts_with(tmp_path, "# {{ title }}\n{{ nonsense }}\n")
    with pytest.raises(TemplateError, match=r"^prompts/entry.md.j2, line 2 failed: 'nonsense' is undefined"):
        render("entry.md.j2", prompts, title="T")


def test_a_diary_template_overrides_the_packaged_one_and_filters_still_work(tmp_path: Path) -> None:
    prompts = prompts_with(tmp_path, "# {{ title | md }}\n{{ {'a': 1} | combine({'b': 2}) | tojson }}\n")
    assert render("entry.md.j2", prompts, title="<b>T</b>") == '# &lt;b&gt;T&lt;/b&gt;\n{"a": 1, "b": 2}\n'
    assert "{{" not in render("draft_system.j2", prompts, themes=[], nonce="n")  # packaged, in the same sandbox


def test_md_inline_strips_terminal_escapes_whole() -> None:
    assert md_inline("\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07") == "red link"
