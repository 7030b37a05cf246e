"""The assets folder stats and map share: the folder the settings name, inside the diary; files written only when
their bytes change, never over a read-only one; links relative to the file that shows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdiary.diary.assets import assets_folder
from paperdiary.errors import ReadOnlyFileError, SettingsError
from paperdiary.settings import load_settings


def test_files_are_written_once_and_linked_relative_to_who_shows_them(tmp_path: Path) -> None:
    assets = assets_folder(load_settings(tmp_path, overrides={"assets_dir": "docs/img/"}, env={}))
    assert assets.relpath == "docs/img" and assets.path.is_dir()
    page = assets.write("page.html", b"<html></html>")
    assert page == tmp_path / "docs/img/page.html" and assets.written == ["docs/img/page.html"]
    assets.write("page.html", b"<html></html>")
    assert assets.written == ["docs/img/page.html"]  # the same bytes: left alone
    assert assets.link("a b.png") == "docs/img/a%20b.png"  # from README.md, at the diary root
    assert assets.link("a b.png", "docs/img") == "a%20b.png" and assets.link("x.png", "entries") == "../docs/img/x.png"

    page.chmod(0o444)
    with pytest.raises(ReadOnlyFileError):
        assets.write("page.html", b"<html>new</html>")
    assert page.read_bytes() == b"<html></html>"


def test_the_folder_is_a_folder_of_the_diary(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="the diary folder itself"):
        assets_folder(load_settings(tmp_path, overrides={"assets_dir": "."}, env={}))
