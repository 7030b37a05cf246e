"""README tells the truth about the code: the How it works tree names every module and sub-package (and no
module that is not there), the settings table documents every setting with its default, the Commands table
names every command, every benchmark script is named, and Quick start keeps its two commands."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import paperdiary
from paperdiary.settings import Settings

PACKAGE = Path(paperdiary.__file__).parent
ROOT = PACKAGE.parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(heading: str) -> str:
    """The text of README's section ``heading`` (``### Settings``), up to the next heading of its level or above."""
    level = heading.split(" ")[0]
    start = README.index(f"\n{heading}\n") + 1
    following = re.compile(rf"^#{{1,{len(level)}}} ", re.M)
    found = following.search(README, start + len(heading))
    return README[start:found.start() if found else len(README)]


def tree() -> str:
    return re.search(r"```text\n(pipeline/paperdiary/\n.*?)```", section("### How it works"), re.S)[1]


def rooms(block: str) -> dict[str, str]:
    """Each room's part of the tree block (``cli`` -> its lines), by the two-space indented ``name/`` lines."""
    parts = re.split(r"^  (?=\S)", block, flags=re.M)
    return {m[1]: part for part in parts if (m := re.match(r"(\w+)/\s", part))}


MODULES = sorted(path.relative_to(PACKAGE) for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


@pytest.mark.parametrize("module", [str(m) for m in MODULES])
def test_the_how_it_works_tree_names_every_module(module: str) -> None:
    block, path = tree(), Path(module)
    if len(path.parts) == 1:  # a shared top-level module, or the package's __init__ and __main__
        assert re.search(rf"(?<![\w/]){re.escape(path.name)}\b", block), f"{module} is not in README's tree"
        return
    room = rooms(block).get(path.parts[0])
    assert room is not None, f"the room {path.parts[0]}/ is not in README's tree"
    if len(path.parts) > 2:  # a sub-package (diary/map/, stages/extract/...): named as "map/" in its room
        assert f"{path.parts[1]}/" in room, f"{path.parent}/ is not in README's tree"
    if path.stem != "__init__":
        assert re.search(rf"\b{re.escape(path.stem)}\b", room), f"{module} is not named in its room's lines"


def test_the_how_it_works_tree_names_no_module_that_is_gone() -> None:
    block = tree()
    named = set(re.findall(r"([\w/]*?\w+\.py)\b", block))
    files = {m.name for m in MODULES} | {str(m) for m in MODULES}
    assert {name for name in named if name not in files and name.split("/")[-1] not in files} == set()
    assert set(rooms(block)) == {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} - {"prompts"}


SETTING_ROW = re.compile(r"^\| `\[?(\w+)\]?` \|(.*?)\| .* \|$", re.M)


def documented_settings() -> dict[str, str]:
    return {m[1]: m[2].strip() for m in SETTING_ROW.finditer(section("### Settings"))}


def test_the_settings_table_documents_every_setting() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)} - {"diary"}  # the diary is --diary, not a setting
    assert set(documented_settings()) == fields


SETTINGS = [f for f in dataclasses.fields(Settings) if f.name != "diary"]


@pytest.mark.parametrize("field", SETTINGS, ids=lambda f: f.name)
def test_each_documented_default_is_the_real_one(field: dataclasses.Field) -> None:
    default = Settings().__dict__[field.name]
    cell = documented_settings()[field.name]
    literal = re.match(r"`([^`]*)`", cell)
    if default in ("", (), {}):  # no value: the cell says in words what stands in (or nothing)
        assert literal is None or literal[1] != str(default), cell
        return
    assert literal is not None, f"{field.name}: the default {default!r} is not given"
    shown = literal[1]
    if isinstance(default, bool):
        assert shown == str(default).lower()
    elif isinstance(default, (int, float)):
        assert float(shown) == default
    elif isinstance(default, tuple):
        assert tuple(json.loads(shown)) == default
    else:
        assert shown == default


def test_the_commands_table_names_every_command() -> None:
    from paperdiary.cli.main import cli

    table = section("### Commands")
    for name, command in cli.commands.items():
        if not command.hidden:
            assert f"`paperdiary {name}" in table, f"paperdiary {name} is not in the Commands table"


def test_every_benchmark_script_is_named() -> None:
    for script in sorted((ROOT / "scripts").glob("*.py")):
        assert f"python scripts/{script.name}" in README, f"scripts/{script.name} is not in README"


def test_quick_start_keeps_its_two_commands() -> None:
    commands = re.search(r"```bash\n(.*?)```", section("## Quick start"), re.S)[1].strip().splitlines()
    assert len(commands) == 2 and commands[0].endswith("paperdiary draft 1706.03762")
    assert commands[1] == 'pip install -e ".[test]" && python -m pytest -n auto'
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")  # CI runs README's test command


def test_the_library_surface_lists_what_it_exports() -> None:
    assert paperdiary.__all__ == ["__version__", *paperdiary._EXPORTS]
    assert all(getattr(paperdiary, name) is not None for name in paperdiary.__all__)
