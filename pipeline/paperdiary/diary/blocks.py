"""The README blocks commands own (``stats --readme``, ``map --readme``): the lines between a pair of markers,
replaced wherever the user moved them, else appended at the end of README.md.

A block is ``<!-- paperdiary:NAME -->``, its lines, ``<!-- /paperdiary:NAME -->``. Only what is
between the markers changes, in the README's own line endings, so writing a block twice is writing
it once. README.md is read and replaced through ``fsutil``'s diary-safe calls (a symlink inside
the diary is written through, one leading out and a read-only README are refused) under the
diary's write lock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from paperdiary.diary.readme import README_NAME
from paperdiary.errors import DiaryError
from paperdiary.fsutil import read_diary_bytes, replace_diary_file
from paperdiary.settings import Settings
from paperdiary.state.lock import diary_lock
from paperdiary.text import line_body, line_ending, split_lines


@dataclass(frozen=True)
class ReadmeBlock:
    name: str  # "stats" -> <!-- paperdiary:stats --> ... <!-- /paperdiary:stats -->

    @property
    def start(self) -> str:
        return f"<!-- paperdiary:{self.name} -->"

    @property
    def end(self) -> str:
        return f"<!-- /paperdiary:{self.name} -->"

    def put(self, text: str, lines: Sequence[str]) -> str:
        """``text`` with the block holding ``lines``: in place of the one between the markers, else at the end
        (after a blank line)."""
        existing = split_lines(text)
        endings = [line_ending(line) for line in existing]
        eol = max(("\r\n", "\n"), key=endings.count) if any(endings) else "\n"
        block = eol.join([self.start, *lines, self.end])
        found = re.compile(re.escape(self.start) + r".*?" + re.escape(self.end), re.DOTALL)
        if found.search(text):
            return found.sub(lambda _: block, text, count=1)
        if not text.strip():
            return text + block + eol
        if not endings[-1]:
            text += eol
        if line_body(existing[-1]).strip():  # a blank line between what was there and the block
            text += eol
        return text + block + eol


def write_readme_block(settings: Settings, block: ReadmeBlock, lines: Sequence[str]) -> bool:
    """Put ``block`` holding ``lines`` into README.md (atomically); False when it was already there as is."""
    path = settings.diary / README_NAME
    with diary_lock(settings, f"{block.name} --readme"):
        try:
            text = read_diary_bytes(settings.diary, path).decode("utf-8")
        except FileNotFoundError:
            raise DiaryError(f"no {README_NAME} in {settings.diary} for --readme.",
                             hint="Run paperdiary init there, or drop --readme.") from None
        except UnicodeDecodeError:
            raise DiaryError(f"{path} is not UTF-8: nothing was written.",
                             hint="Save it as UTF-8, or drop --readme.") from None
        except OSError as exc:
            raise DiaryError(f"cannot read {path}: {exc.strerror or exc}.") from None
        new = block.put(text, lines)
        if new == text:
            return False
        replace_diary_file(settings.diary, path, new)
        return True
