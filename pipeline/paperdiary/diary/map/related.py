"""Related entries: the earlier entries nearest to a new draft, by the topic map's embeddings (and cache).

``draft`` adds a "Related in this diary" line linking them. It is an extra, never
a failure: with ``related_entries = false``, without the ``map`` extra installed,
with no earlier entry, or when a configured embedding endpoint fails, the entry is
written without the line and :class:`RelatedOutcome` says why (``--verbose``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from paperdiary.diary.map.build import map_entries
from paperdiary.diary.map.embed import Embedder, embed_texts, embedder_for, entry_text
from paperdiary.errors import PaperDiaryError
from paperdiary.extras import missing_packages
from paperdiary.models import RelatedEntry
from paperdiary.settings import Settings
from paperdiary.state.store import Store

log = logging.getLogger(__name__)

RELATED_COUNT = 3


@dataclass(frozen=True)
class RelatedOutcome:
    entries: tuple[RelatedEntry, ...]
    note: str  # what happened, in a few words ("3 entries", or why there are none)


def find_related(settings: Settings, store: Store, *, title: str, description: str, key_points: Sequence[str],
                 date_read: date, arxiv_id: str | None = None, embedder: Embedder | None = None) -> RelatedOutcome:
    """The :data:`RELATED_COUNT` entries read on or before ``date_read`` closest to the new entry's text.

    The new entry itself (same arXiv ID) is left out; so are entries with nothing in common with it.
    ``embedder``: the one to use (default: the settings' own).
    """
    if not settings.related_entries:
        return RelatedOutcome((), "off (related_entries = false)")
    if missing := missing_packages("map"):
        return RelatedOutcome((), f"skipped: the map extra is not installed ({', '.join(missing)} missing)")

    earlier = [e for e in map_entries(settings, store)
               if e.date_read <= date_read and not (arxiv_id and e.arxiv_id == arxiv_id)]
    if not earlier:
        return RelatedOutcome((), "none: no earlier entry")
    texts = [entry_text(e.title, e.description, e.key_point_items) for e in earlier]
    texts.append(entry_text(title, description, key_points))
    try:
        vectors = embed_texts(texts, embedder or embedder_for(settings, store), store)
    except PaperDiaryError as exc:
        log.warning("related entries skipped: %s", exc)
        return RelatedOutcome((), f"skipped: {exc}")
    similarity = vectors[:-1] @ vectors[-1]
    ranked = sorted(range(len(earlier)), key=lambda n: (-float(similarity[n]), -earlier[n].date_read.toordinal(),
                                                         earlier[n].relpath))
    nearest = [earlier[n] for n in ranked[:RELATED_COUNT] if similarity[n] > 0]
    found = tuple(RelatedEntry(e.title, e.relpath) for e in nearest)
    return RelatedOutcome(found, f"{len(found)} entr{'ies' if len(found) != 1 else 'y'}" if found
                          else "none: nothing close enough")
