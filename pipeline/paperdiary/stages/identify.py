"""Identify stage: whatever the user pasted -> a PaperRef.

Accepts bare arXiv IDs (new and old style, with or without version), ``arXiv:``
prefixes, arxiv.org / export.arxiv.org abs and pdf links, Hugging Face and
alphaXiv paper pages, arXiv DOIs, and paths to local PDFs.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from paperdiary.errors import IdentifierError
from paperdiary.models import PaperRef

ACCEPTED_FORMS = (
    "2506.01939, 2506.01939v2, arXiv:2506.01939, hep-th/9901001, math.GT/0309136v2, "
    "https://arxiv.org/abs/… or /pdf/… (also export.arxiv.org), https://huggingface.co/papers/…, "
    "https://www.alphaxiv.org/abs/…, https://doi.org/10.48550/arXiv.…, or a path to a local .pdf"
)

# New style (April 2007 on): YYMM.NNNN (to 2014) or YYMM.NNNNN (2015 on).
_NEW_ID = r"(?P<new>\d{4}\.\d{4,5})"
# Old style: archive[.SUBJECT-CLASS]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD_ID = r"(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.[A-Z]{2})?/(?P<old>\d{7})"
_VERSION = r"(?:v(?P<version>\d{1,3}))?"
_ID_RE = re.compile(rf"(?:{_NEW_ID}|{_OLD_ID}){_VERSION}")

_ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "xxx.lanl.gov"}
_MIRROR_HOSTS = {"huggingface.co", "www.huggingface.co", "alphaxiv.org", "www.alphaxiv.org"}
# Path prefixes under which an ID follows, per kind of host.
_ARXIV_PATHS = ("abs/", "pdf/", "html/", "format/")
_MIRROR_PATHS = ("papers/", "abs/", "overview/", "pdf/")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?10\.48550/arxiv\.", re.IGNORECASE)


def _parse_bare_id(text: str) -> tuple[str, int | None] | None:
    """``2506.01939v2`` -> ("2506.01939", 2); old style keeps archive/number, drops subject class."""
    match = _ID_RE.fullmatch(text)
    if not match:
        return None
    if match["new"]:
        yymm = int(match["new"][2:4])
        if not 1 <= yymm <= 12:
            return None
        arxiv_id = match["new"]
    else:
        # The subject class (".GT") is not part of the identifier: arXiv resolves math/0309136.
        arxiv_id = f"{match['archive']}/{match['old']}"
    version = int(match["version"]) if match["version"] else None
    if version == 0:
        return None
    return arxiv_id, version


def _id_from_url(text: str) -> str | None:
    """The ID part of a paper URL, or None when the URL is not a paper link we know."""
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path).lstrip("/")
    if host in _ARXIV_HOSTS:
        prefixes = _ARXIV_PATHS
    elif host in _MIRROR_HOSTS:
        prefixes = _MIRROR_PATHS
    else:
        return None
    for prefix in prefixes:
        if path.startswith(prefix):
            candidate = path[len(prefix):].rstrip("/")
            return candidate.removesuffix(".pdf")
    return None


def _expand(text: str) -> Path:
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~someone" with no such user
        return Path(text)


def _looks_like_pdf_path(text: str) -> bool:
    """A ``.pdf`` name (existing or not, to say it is missing), or any file that starts with ``%PDF-``."""
    if text.lower().endswith(".pdf"):
        return True
    path = _expand(text)
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"%PDF-"
    except (OSError, ValueError):  # ValueError: a NUL byte in the text
        return False


def identify(text: str) -> PaperRef:
    """Resolve one pasted identifier; raise IdentifierError (exit 2) for anything else."""
    raw = text
    text = text.strip().strip("<>\"'")
    if not text:
        raise IdentifierError("empty paper identifier.", text=raw, hint=f"Accepted forms: {ACCEPTED_FORMS}.")

    candidate: str | None = text
    is_url = bool(re.match(r"^(?:https?://|(?:www\.|export\.)?arxiv\.org/)", text, re.IGNORECASE))
    if _DOI_PREFIX.match(text):
        candidate = _DOI_PREFIX.sub("", text)
    elif is_url:
        candidate = _id_from_url(text if "://" in text else f"https://{text}")
    elif text.lower().startswith("arxiv:"):
        candidate = text[len("arxiv:"):].strip()

    parsed = _parse_bare_id(candidate) if candidate else None
    if parsed:
        return PaperRef(raw=raw, arxiv_id=parsed[0], version=parsed[1])

    if not is_url and _looks_like_pdf_path(text):
        path = _expand(text)
        if not path.is_file():
            raise IdentifierError("no such PDF file: {text}.", text=text, hint="Check the path.")
        return PaperRef(raw=raw, local_pdf=path.resolve())

    raise IdentifierError("not a paper identifier: {text!r}.", text=text, hint=f"Accepted forms: {ACCEPTED_FORMS}.")
