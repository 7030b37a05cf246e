"""The README blocks commands own (``stats --readme``, ``map --readme``): the lines between a pair of markers,
replaced wherever the user moved them, else appended at the end of README.md.

A block is ``<!-- paperdiary:NAME -->``, its lines, ``<!-- /paperdiary:NAME -->``. Only what is
between the markers changes, in the README's own line endings, so writing a block twice is writing
it once.

A marker counts only alone on its line, at the README's top level, outside code: a mention of it in
prose, in inline code, in a fence or quoted is text, never a block's edge (else everything between the
mention and the end marker would be replaced). There must be no marker or exactly one start followed by
one end, and what lies between them must be what PaperDiary writes there (no heading: the README's own
sections never go); anything else is refused with :class:`BlockMarkersError`, the README untouched.

README.md is read and replaced through ``fsutil``'s diary-safe calls (a symlink inside
the diary is written through, one leading out and a read-only README are refused) under the
diary's write lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paperdiary.diary.markdown import parse
from paperdiary.diary.readme import README_NAME
from paperdiary.errors import DiaryError
from paperdiary.fsutil import read_diary_bytes, replace_diary_file
from paperdiary.settings import Settings
from paperdiary.state.lock import diary_lock
from paperdiary.text import line_body, line_ending, split_lines


class BlockMarkersError(ValueError):
    """The README's markers for a block are not one balanced pair around text PaperDiary wrote."""


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
        span = self.find(text)
        if span is not None:
            doc = parse(text)
            return doc.replace_lines(span[0], span[1], block + line_ending(existing[span[1] - 1]))
        if not text.strip():
            return text + block + eol
        if not endings[-1]:
            text += eol
        if line_body(existing[-1]).strip():  # a blank line between what was there and the block
            text += eol
        return text + block + eol

    def find(self, text: str) -> tuple[int, int] | None:
        """The lines (first, after last) of the block's one balanced pair of markers, None when there is none."""
        doc = parse(text)
        starts: list[int] = []
        ends: list[int] = []
        for b in doc.blocks:  # a comment alone on its line is an HTML block of its own, never code or prose
            if b.kind == "html" and b.depth == 0:
                body = line_body(doc.lines[b.start]).strip()
                (starts if body == self.start else ends if body == self.end else []).append(b.start)
        if not starts and not ends:
            return None
        if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
            raise BlockMarkersError(f"has {len(starts)} {self.start} and {len(ends)} {self.end} line(s), "
                                    f"not one pair in that order")
        inside = [h for h in doc.headings if starts[0] < h.line < ends[0]]
        if inside:
            raise BlockMarkersError(f"has the heading {inside[0].plain!r} between {self.start} and {self.end}, "
                                    "which PaperDiary never writes there")
        return starts[0], ends[0] + 1


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
        try:
            new = block.put(text, lines)
        except BlockMarkersError as exc:
            raise DiaryError(f"{path} {exc}: nothing was written.",
                             hint=f"Leave one {block.start} line and one {block.end} line, alone on their "
                                  "lines, around PaperDiary's block only (or remove both to append it).") from None
        if new == text:
            return False
        replace_diary_file(settings.diary, path, new)
        return True
