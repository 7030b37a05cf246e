"""What arXiv's ``/e-print/ID`` sends, told apart by its magic bytes and unpacked safely.

arXiv answers with a gzipped tar of the LaTeX sources, a single gzipped ``.tex``
file, or the PDF itself when the authors submitted no source. Unpacking is
bounded: the decompressed size (a tar bomb), the number of members, and only
regular files with relative paths inside the archive (no absolute paths, no
``..``, no links) are read; only the text files a LaTeX build reads are kept.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import zlib
from dataclasses import dataclass
from enum import Enum

GZIP_MAGIC = b"\x1f\x8b"
PDF_MAGIC = b"%PDF-"
MAX_MEMBERS = 5000
# The files a LaTeX build of a paper reads as text; figures and fonts are never read.
TEXT_SUFFIXES = (".tex", ".bbl", ".sty", ".cls", ".def", ".cfg", ".ltx", ".latex", ".txt", ".inc", ".tikz")
_CHUNK = 1 << 20


class EprintKind(Enum):
    """What an e-print turned out to be."""

    TAR = "tar"  # a (gzipped) tar of sources
    TEX = "tex"  # one gzipped .tex file
    PDF = "pdf"  # no source was submitted: the PDF itself


class UnusableSource(Exception):
    """A source that cannot give the paper's text; ``reason`` says why, for ``--verbose``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SourceFiles:
    """The text files of a LaTeX source, by their path inside the archive."""

    files: dict[str, str]


def eprint_kind(data: bytes) -> EprintKind:
    """The kind of an e-print, from its first bytes; raises UnusableSource for anything else."""
    if data.startswith(PDF_MAGIC):
        return EprintKind.PDF
    if data.startswith(GZIP_MAGIC):
        return EprintKind.TAR if _is_tar(_gunzip(data, limit=1024, partial=True)) else EprintKind.TEX
    if _is_tar(data[:1024]):
        return EprintKind.TAR
    head = data[:16].lstrip()
    shown = "an HTML page" if head[:1] == b"<" else "an empty answer" if not data else f"data starting {data[:8]!r}"
    raise UnusableSource(f"the e-print is {shown}, not a gzipped tar, a gzipped .tex or a PDF")


def unpack(data: bytes, *, max_bytes: int) -> SourceFiles:
    """The text files of a tar or gzipped-.tex e-print, at most ``max_bytes`` decompressed in all."""
    kind = eprint_kind(data)
    if kind is EprintKind.PDF:
        raise UnusableSource("the e-print is a PDF: the authors submitted no LaTeX source")
    raw = _gunzip(data, limit=max_bytes) if data.startswith(GZIP_MAGIC) else data
    if len(raw) > max_bytes:
        raise UnusableSource(f"the e-print is over the {max_bytes // (1 << 20)} MB limit")
    if kind is EprintKind.TEX:
        return SourceFiles({"main.tex": _decode(raw)})
    return SourceFiles(_tar_text_files(raw))


def _is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def _gunzip(data: bytes, *, limit: int, partial: bool = False) -> bytes:
    """Gunzip at most ``limit`` bytes; past that, the first ``limit`` bytes (``partial``) or UnusableSource."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    try:
        pending = data
        while pending and not inflater.eof:
            out += inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if len(out) > limit:
                if partial:
                    return bytes(out[:limit])
                raise UnusableSource(
                    f"the e-print expands beyond the {limit // (1 << 20)} MB limit (a decompression bomb?)"
                )
    except zlib.error as exc:
        if partial:
            return bytes(out)
        raise UnusableSource(f"the e-print is not valid gzip data ({exc})") from None
    if not partial and not inflater.eof:
        raise UnusableSource("the e-print's gzip data is truncated")
    return bytes(out)


def _safe_member_path(name: str) -> str | None:
    """The member's path inside the archive, or None when it would point outside it."""
    path = posixpath.normpath(name.replace("\\", "/"))
    if path.startswith("/") or path == ".." or path.startswith("../") or ":" in path.split("/")[0]:
        return None
    return path.removeprefix("./")


def _tar_text_files(raw: bytes) -> dict[str, str]:
    files: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
            for count, member in enumerate(archive):
                if count >= MAX_MEMBERS:
                    raise UnusableSource(f"the e-print holds more than {MAX_MEMBERS} files")
                if not member.isreg() or not member.name.lower().endswith(TEXT_SUFFIXES):
                    continue  # links, folders, figures
                path = _safe_member_path(member.name)
                handle = archive.extractfile(member) if path else None
                if path and handle is not None:
                    files[path] = _decode(handle.read())
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UnusableSource(f"the e-print is a broken tar archive ({exc})") from None
    if not files:
        raise UnusableSource("the e-print holds no .tex file")
    return files


def _decode(raw: bytes) -> str:
    """LaTeX sources are UTF-8 nowadays; older ones Latin-1, which decodes any byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
