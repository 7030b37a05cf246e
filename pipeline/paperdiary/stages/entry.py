"""Write-entry stage: a Draft -> a markdown file in the diary, never over a human's file."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from pathlib import Path

from paperdiary.errors import DiaryError, SettingsError
from paperdiary.fsutil import atomic_create_text, diary_relpath, relative_link, resolve_inside
from paperdiary.models import PaperMeta, RelatedEntry, WrittenEntry
from paperdiary.settings import DEFAULT_ENTRY_PATH, Settings
from paperdiary.stages.drafting.contract import OFFLINE_DRAFTER, Draft
from paperdiary.stages.entry_metadata import EntryMetadata, metadata_comment, with_metadata, without_drafted_time
from paperdiary.templates import DiaryPrompts, render


ENTRY_TEMPLATE = "entry.md.j2"
_MAX_COMPONENT = 80  # characters per path component; file systems allow 255 bytes
_FORCE_SUFFIX_LIMIT = 100


def ordinal(day: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def long_date(day: date) -> str:
    """The user's way of writing a date: ``11th June 2025``."""
    return f"{ordinal(day.day)} {day:%B %Y}"


def safe_component(text: str, fallback: str = "Untitled") -> str:
    """One path component that cannot escape its folder or upset a file system."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in ("C",) and ch not in '/\\:*?"<>|')
    text = text.strip().strip(".").strip()
    while len(text.encode("utf-8")) > _MAX_COMPONENT:
        text = text[:-1]
    return text or fallback


def slug(text: str, separator: str = "-", max_words: int = 10) -> str:
    """Lowercase ASCII words joined by ``separator``: ``Attention Is All You Need`` -> ``attention-is-all-you-need``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return separator.join(re.findall(r"[a-z0-9]+", ascii_text.lower())[:max_words]) or "untitled"


def layout_fields(date_read: date, short_name: str, arxiv_id: str | None, theme: str = "",
                  title: str = "") -> dict[str, str]:
    """The fields of the ``entry_path`` pattern for one entry (``title``: the paper's, else the short name)."""
    title = " ".join(title.split()) or short_name
    return {
        "month_year": f"{date_read:%B %Y}",
        "month": f"{date_read:%B}",
        "month_num": f"{date_read.month:02d}",
        "title": title,
        "slug": slug(title),
        "snake": slug(title, "_"),
        "year": f"{date_read:%Y}",
        "day": f"{date_read.day:02d}",
        "ordinal_day": ordinal(date_read.day),
        "short_name": short_name,
        "arxiv_id": (arxiv_id or "local").replace("/", "_"),
        "theme": theme or "Unsorted",
    }


def layout_relpath(pattern: str, fields: dict[str, str]) -> Path:
    """A path from an ``entry_path`` pattern: each component sanitised, so no value can add folders."""
    try:
        parts = [
            safe_component(part.format(**{k: v.replace("/", "_") for k, v in fields.items()}))
            for part in pattern.split("/")
            if part
        ]
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(
            f"entry path pattern {pattern!r} is not valid ({exc}).",
            hint="Use fields like {month_year}/{ordinal_day}{month}{short_name}.md.",
        ) from None
    if not parts:
        raise SettingsError(f"entry path pattern {pattern!r} is empty.", hint="e.g. {theme}/{short_name}.md")
    if not parts[-1].lower().endswith(".md"):
        parts[-1] += ".md"
    return Path(*parts)


def entry_relpath(settings: Settings, draft: Draft, meta: PaperMeta, date_read: date, theme: str = "") -> Path:
    """The entry's path below the entries folder, from the ``entry_path`` pattern."""
    return layout_relpath(settings.entry_path or DEFAULT_ENTRY_PATH,
                          layout_fields(date_read, draft.short_name, meta.arxiv_id, theme, meta.title))


# Where an entry names a paper: a link to arXiv or a mirror, or "arXiv:" (the hidden comment is
# entry_metadata's to read).
_ID_PREFIXES = r"(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|alphaxiv\.org/(?:abs|overview)/|arxiv:\s*)"
# Any arXiv ID after such a prefix: new style, or old style with an optional subject class.
_ANY_ID = re.compile(
    rf"{_ID_PREFIXES}(?:(?P<new>\d{{4}}\.\d{{4,5}})(?!\d)|(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.[a-z]{{2}})?/(?P<old>\d{{7}}))",
    re.IGNORECASE,
)
# A task-list line naming a paper: two of them make a file a list of papers to read, not an entry.
_PAPER_CHECKBOX = re.compile(rf"^[ \t]*[-*+][ \t]+\[[ xX]\][ \t].*?{_ID_PREFIXES}", re.IGNORECASE | re.MULTILINE)
RELATED_LABEL = "Related in this diary:"
# The related line depends on the diary at the time of writing, not on the draft.
_RELATED_LINE = re.compile(rf"^{re.escape(RELATED_LABEL)}.*(?:\r?\n)?", re.MULTILINE)


def arxiv_ids(text: str) -> list[str]:
    """The arXiv IDs some markdown names (links, ``arXiv:``), in order, without repeats.

    IDs come back without version; old-style ones without subject class
    (``math.GT/0309136`` -> ``math/0309136``), as ``identify`` gives them.
    """
    found = (m["new"] or f"{m['archive'].lower()}/{m['old']}" for m in _ANY_ID.finditer(text)
             if not m["new"] or _valid_new_id(m["new"]))
    return list(dict.fromkeys(found))


def _valid_new_id(arxiv_id: str) -> bool:
    """A new-style ID as arXiv issues them: a real month, and five digits from 2015 on (four before)."""
    yymm, _, number = arxiv_id.partition(".")
    month = int(yymm[2:])
    return 1 <= month <= 12 and len(number) == (5 if yymm >= "1501" else 4)


def is_paper_checklist(text: str) -> bool:
    """A checklist of papers (``- [ ] https://arxiv.org/abs/...`` lines): a reading list by another name,
    never an entry, whatever it is called (a ``backlog.md`` beside the entries)."""
    return len(_PAPER_CHECKBOX.findall(text)) >= 2


def same_entry(text: str, other: str) -> bool:
    """True when two renderings of an entry differ at most in their ``drafted`` timestamp and related line."""
    def core(value: str) -> str:
        return _RELATED_LINE.sub("", without_drafted_time(value))

    return core(text) == core(other)


def related_links(related: Sequence[RelatedEntry], entry_dir: str) -> list[dict[str, str]]:
    """Title and relative, percent-encoded link (from the diary-relative folder ``entry_dir``) of each entry."""
    return [{"title": r.title, "href": relative_link(r.relpath, entry_dir)} for r in related]


def render_entry(settings: Settings, draft: Draft, meta: PaperMeta, date_read: date, source_name: str,
                 *, related: Sequence[RelatedEntry] = (), entry_dir: str = "") -> str:
    """The entry's markdown; ``related`` entries are linked from its folder ``entry_dir`` (diary-relative)."""
    drafted_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    comment = metadata_comment(EntryMetadata(meta.arxiv_id or "", meta.version, draft.drafter, drafted_at,
                                             draft.description, draft.notes))
    rendered = render(
        ENTRY_TEMPLATE,
        DiaryPrompts.of(settings),
        title=meta.title,
        date_read_long=long_date(date_read),
        abs_url=meta.abs_url,
        source_name=source_name,
        arxiv_id=meta.arxiv_id,
        version=meta.version,
        offline=draft.drafter == OFFLINE_DRAFTER,
        draft=draft,
        drafted_at=drafted_at,
        related_label=RELATED_LABEL,
        related=related_links(related, entry_dir),
        metadata=comment,
    )
    return with_metadata(rendered, comment)


def entry_theme(draft: Draft) -> str:
    """The theme a diary filed by topic files the paper under: its first lesson's."""
    return next((lesson.theme for lesson in draft.lessons if lesson.theme), "")


def write_entry(
    settings: Settings,
    draft: Draft,
    meta: PaperMeta,
    date_read: date,
    *,
    source_name: str = "",
    before_create: Callable[[Path], None] | None = None,
    related: Sequence[RelatedEntry] = (),
) -> WrittenEntry:
    """Write the entry atomically, never over any existing file.

    The caller checks ``catalog.entry_for_paper`` first; when a file of the same name
    exists anyway (``--force``, or two papers with one short name on one day) the
    draft lands beside it as ``-2``, ``-3``...

    ``before_create(path)`` is called with each free name just before the file is
    created there: the journal records it, so a run killed right after the create
    knows the file is its own. ``related``: earlier entries to link ("Related in this diary").
    """
    entries_root = resolve_inside(settings.diary, settings.entries_path)
    theme = entry_theme(draft)
    target = (entries_root / entry_relpath(settings, draft, meta, date_read, theme)).resolve()
    if not target.is_relative_to(entries_root):  # belt and braces: sanitising should make this impossible
        raise DiaryError(f"refusing to write outside {entries_root}: {target}.")
    text = render_entry(settings, draft, meta, date_read, source_name, related=related,
                        entry_dir=diary_relpath(settings.diary, target.parent))

    for attempt in range(1, _FORCE_SUFFIX_LIMIT + 1):
        candidate = target if attempt == 1 else target.with_name(f"{target.stem}-{attempt}{target.suffix}")
        if candidate.exists():  # cheap pre-check; the create below is what guarantees no clobber
            continue
        if before_create is not None:
            before_create(candidate)
        if atomic_create_text(candidate, text):
            return WrittenEntry(candidate, diary_relpath(settings.diary, candidate), created=True)
    raise DiaryError(f"too many drafts named {target.name} already.", hint="Tidy the folder and try again.")
