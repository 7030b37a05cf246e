"""The diary's assets folder (setting ``assets_dir``, default ``assets``): where ``stats`` and ``map`` write
their plots and pages, with plotly's JavaScript once beside them.

- The folder must be inside the diary (a symlink out of it, or the diary root itself, is refused).
- A file is rewritten only when its bytes change, atomically and through ``fsutil``'s diary-safe
  replace (a read-only file is refused), so a git diary sees no change when nothing changed.
- ``plotly.min.js`` (4.5 MB) is written once beside the pages, which load it by a relative ``src``:
  they work offline and on GitHub Pages, and the script is committed once, not in every page.
- Links to an asset are relative to the file that shows it (README.md at the root, a page in the folder).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from paperdiary.errors import SettingsError
from paperdiary.fsutil import read_diary_bytes, relative_link, replace_diary_file
from paperdiary.settings import Settings

PLOTLY_JS = "plotly.min.js"


@dataclass
class AssetsFolder:
    diary: Path
    relpath: str  # the folder relative to the diary root, as the setting names it ("assets", "docs/img")
    written: list[str] = field(default_factory=list)  # diary-relative paths of the files written so far

    @property
    def path(self) -> Path:
        return self.diary / self.relpath

    def relpath_of(self, name: str) -> str:
        """A file of the folder, relative to the diary root."""
        return f"{self.relpath}/{name}"

    def link(self, name: str, from_dir: str = "") -> str:
        """The relative link to a file of the folder from a file in ``from_dir`` (diary-relative; "" the root)."""
        return relative_link(self.relpath_of(name), from_dir)

    def write(self, name: str, data: bytes) -> Path:
        """Write a file of the folder unless it already holds ``data``; its path."""
        path = self.path / name
        try:
            unchanged = read_diary_bytes(self.diary, path) == data
        except FileNotFoundError:
            unchanged = False
        if not unchanged:
            replace_diary_file(self.diary, path, data)
            self.written.append(self.relpath_of(name))
        return path

    def write_plotly_js(self) -> Path:
        """plotly's JavaScript beside the pages (written when missing or when plotly's own changed)."""
        from plotly.offline import get_plotlyjs

        return self.write(PLOTLY_JS, get_plotlyjs().encode("utf-8"))


def assets_folder(settings: Settings) -> AssetsFolder:
    """The settings' assets folder, created; refused (SettingsError) when it leads out of the diary."""
    root = settings.diary.resolve()
    folder = settings.assets_path.resolve()
    if not folder.is_relative_to(root) or folder == root:
        where = "the diary folder itself" if folder == root else f"{folder}, outside the diary"
        raise SettingsError(f"setting 'assets_dir' ({settings.assets_dir!r}) leads to {where}.",
                            hint='Set assets_dir to a folder inside the diary, e.g. "assets".')
    folder.mkdir(parents=True, exist_ok=True)
    return AssetsFolder(settings.diary, posixpath.normpath(settings.assets_dir.replace("\\", "/")))
