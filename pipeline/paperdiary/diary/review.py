"""Review stage: queued lessons -> the user's decisions -> the README's themes.

Where each fact lives:

* The queue file (``LESSONS-QUEUE.md``) says which lessons wait, their text,
  suggested theme and source entry, and whether each is accepted: a ticked box
  is an acceptance, whether ``review`` ticked it or the user did on a phone.
  Once a lesson is decided about, its item shows its current text, and the
  theme and kind it would be placed with, so the file never shows stale words.
* The store's ``review_decisions`` table keeps what the checkbox cannot: text
  edited in review, a theme or kind the user chose, the item's lines as the
  queue file is to show them (kept after a rejection, for undo) and, for an
  accepted lesson, the :class:`Placement` it was
  accepted with, whose anchor (a theme's name, a lesson's words) finds its
  place again in a README edited since.

A queue item may also be a new theme the topic map suggests (``ItemKind.NEW_THEME``):
it is listed, accepted, rejected and renamed (``theme``) like a lesson, and applying
it adds the theme's heading to the README, no lesson moved; a theme of that name
already there makes it a no-op.

Kill safety. A decision is committed to the store (``synced = 0``) before the
queue file changes; the queue file is rewritten atomically, then the decision
is marked synced. Every command first replays unsynced decisions onto the queue
file, so a kill between the two writes loses nothing. ``apply`` computes the new
README from every accepted item, writes it atomically, marks the items applied
(unsynced) and only then drops them from the queue. Killed after the README
write, the next run finds the items still accepted, sees each already in the
README (its words are there, or the lesson it extends already cites its entry)
and applies nothing twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from paperdiary.diary.lessons import queue_lessons
from paperdiary.diary.map.embed import Embedder, embedder_for
from paperdiary.diary.catalog import Catalog
from paperdiary.diary.merge import (
    MergeItem,
    Proposal,
    ProposalKind,
    Reranker,
    apply_proposal,
    catalog_entries,
    placement_texts,
    propose,
    terms,
)
from paperdiary.diary.queue import ItemKind, QueueFile, QueueItem, lesson_id, queue_lock, read_queue
from paperdiary.diary.readme import README_NAME, Readme, Theme, cited_path, plain_text
from paperdiary.errors import (
    DiaryError,
    OutsideDiaryError,
    PaperDiaryError,
    ReadmeError,
    ReviewConflictError,
    ReviewError,
    WriteError,
)
from paperdiary.extras import missing_packages
from paperdiary.fsutil import diary_relpath, read_diary_bytes, replace_diary_file, resolve_inside
from paperdiary.settings import Settings
from paperdiary.stages.drafting.contract import Lesson
from paperdiary.state.lock import diary_lock
from paperdiary.state.store import ReviewRecord, Store, utcnow
from paperdiary.text import clean_text, plural, shorten, unified_diff

Status = Literal["pending", "accepted", "rejected", "applied"]
ChosenKind = Literal["add", "extend", "new_theme"]
CHOSEN_KINDS: tuple[ChosenKind, ...] = ("add", "extend", "new_theme")

log = logging.getLogger(__name__)
# The largest README review reads: ten times a big diary's, and about 15 s of placing a lesson.
README_MAX_BYTES = 2 * 2**20


# --------------------------------------------------------------------------- placements


def lesson_words(markdown: str) -> str:
    """A lesson's words without links, markup or numbering: what locates it after the README changed."""
    return " ".join(terms(plain_text(markdown, link_labels=False)))


@dataclass(frozen=True)
class Placement:
    """An accepted proposal as recorded: what to write, and where by name and words rather than position.

    ``theme`` names the theme added to, or holding the lesson extended or
    duplicated; ``lesson_words`` are that lesson's words (:func:`lesson_words`),
    and ``lesson_index`` breaks a tie between lessons with the same words.
    """

    kind: ProposalKind
    theme: str | None
    new_theme_name: str | None
    lesson_index: int | None
    lesson_words: str | None
    text: str
    reason: str
    confidence: float

    @classmethod
    def of(cls, proposal: Proposal, readme: Readme) -> Placement:
        words = None
        if proposal.kind in ("extend", "duplicate") and proposal.theme_key is not None \
                and proposal.lesson_index is not None:
            lesson = readme.theme(proposal.theme_key).lessons[proposal.lesson_index]
            words = lesson_words(lesson.body)
        return cls(proposal.kind, proposal.theme, proposal.new_theme_name, proposal.lesson_index, words,
                   proposal.text, proposal.reason, proposal.confidence)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Placement:
        return cls(**json.loads(text))

    def locate(self, readme: Readme) -> Proposal:
        """The proposal again, against ``readme``; raises ReviewConflictError when its place is gone or ambiguous."""
        def proposal(kind: ProposalKind, theme: Theme | None, index: int | None, new_name: str | None) -> Proposal:
            return Proposal(kind, theme.name if theme else None, theme.key if theme else None, index, new_name,
                            self.text, self.reason, self.confidence)

        if self.kind == "new_theme":
            name = self.new_theme_name or ""
            found = readme.find_themes(name)
            if len(found) > 1:
                raise ReviewConflictError(f"{len(found)} themes in {README_NAME} are now named {name!r}")
            # The theme exists now (an earlier lesson of this apply, or the user, made it): join it.
            return proposal("add", found[0], None, None) if found else proposal("new_theme", None, None, name)
        found = readme.find_themes(self.theme or "")
        if not found:
            raise ReviewConflictError(f"the theme {self.theme!r} is no longer in {README_NAME}")
        if len(found) > 1:
            raise ReviewConflictError(f"{len(found)} themes in {README_NAME} are now named {self.theme!r}")
        theme = found[0]
        if self.kind == "add":
            return proposal("add", theme, None, None)
        matches = [n for n, lesson in enumerate(theme.lessons) if lesson_words(lesson.body) == self.lesson_words]
        if len(matches) > 1 and self.lesson_index in matches:
            matches = [self.lesson_index]
        if len(matches) != 1:
            verb = "extends" if self.kind == "extend" else "duplicates"
            what = "has changed or gone" if not matches else f"now reads like {len(matches)} lessons"
            number = (self.lesson_index or 0) + 1
            raise ReviewConflictError(f"lesson {number} of {self.theme!r}, which it {verb}, {what}")
        return proposal(self.kind, theme, matches[0], None)


def chosen_proposal(readme: Readme, item: MergeItem, proposal: Proposal, *, kind: str | None = None,
                    theme: str | None = None) -> Proposal:
    """The merger's ``proposal`` for ``item``, overridden by the kind and/or theme the user chose.

    A theme that exists takes the lesson as a new item (or keeps the merger's
    extend or duplicate when that is in the same theme); a name no theme has
    opens a new theme. ``extend`` cites the paper beside the most similar
    lesson (in the chosen theme, when one is chosen).
    """
    if kind is None and not theme:
        return proposal
    if kind is not None and kind not in CHOSEN_KINDS:
        raise ReviewError(f"unknown kind {kind!r}.", hint="Choose add, extend or new_theme.")
    text, citation = placement_texts(item, readme.readme_dir)
    target: Theme | None = None
    new_name: str | None = None
    if theme:
        found = readme.find_themes(theme)
        if len(found) > 1:
            raise ReviewError(f"{len(found)} themes in {README_NAME} are named {theme!r}.", hint="Rename one first.")
        target = found[0] if found else None
        new_name = None if found else " ".join(theme.split())
    if kind is None:
        if target is None:
            kind = "new_theme"
        elif proposal.kind in ("extend", "duplicate") and proposal.theme_key == target.key:
            return proposal
        else:
            kind = "add"

    def chosen(kind: ProposalKind, theme: Theme | None, index: int | None, name: str | None, text: str,
               what: str) -> Proposal:
        return replace(proposal, kind=kind, theme=theme.name if theme else None, theme_key=theme.key if theme else None,
                       lesson_index=index, new_theme_name=name, text=text, reason=f"Your choice: {what}.",
                       confidence=1.0)

    if kind == "new_theme":
        suggested = item.suggested_theme if item.suggested_theme and not readme.find_themes(item.suggested_theme) else None
        name = new_name or (None if target else suggested or proposal.new_theme_name)
        if not name and target is not None:
            raise ReviewError(f"{README_NAME} already has a theme named {target.name!r}; a new theme needs a new name.")
        if not name:
            raise ReviewError("a new theme needs a name.", hint="Give one: paperdiary review theme ID 'Name'.")
        return chosen("new_theme", None, None, name, text, f"a new theme {name!r}")
    if kind == "add":
        if target is None and new_name:
            raise ReviewError(f"{README_NAME} has no theme {new_name!r} to add to.", hint="Choose kind new_theme.")
        if target is None:
            name = proposal.theme or (proposal.alternatives[0][0] if proposal.alternatives else None)
            if name is None:
                raise ReviewError(f"{README_NAME} has no theme yet.", hint="Choose kind new_theme.")
            target = readme.theme(proposal.theme_key) if proposal.theme_key is not None else readme.find_themes(name)[0]
        return chosen("add", target, None, None, text, f"add to {target.name!r}")
    # extend
    if not citation:
        raise ReviewError("a lesson without a source entry has no paper to cite.", hint="Add it instead.")
    if target is None and new_name:
        raise ReviewError(f"{README_NAME} has no theme {new_name!r}.", hint="Choose an existing theme to extend in.")
    candidates = [(n.theme_key, n.lesson_index) for n in proposal.neighbours]
    if proposal.kind in ("extend", "duplicate") and proposal.theme_key is not None:
        candidates.insert(0, (proposal.theme_key, proposal.lesson_index or 0))
    if target is not None:
        candidates = [c for c in candidates if c[0] == target.key]
    if not candidates:
        where = f" in {target.name!r}" if target else ""
        raise ReviewError(f"no lesson{where} is similar enough to extend.", hint="Add it as a new lesson instead.")
    key, index = candidates[0]
    theme_found = readme.theme(key)
    return chosen("extend", theme_found, index, None, citation,
                  f"cite it beside lesson {(index or 0) + 1} of {theme_found.name!r}")


def describe(proposal: Proposal) -> str:
    """A proposal in a few words: "add to 'Robotics'", "new theme 'Biology'"..."""
    number = (proposal.lesson_index or 0) + 1
    if proposal.kind == "duplicate" and proposal.lesson_index is None:
        return f"the theme {proposal.theme!r} is already in {README_NAME}: nothing to add"
    return {
        "add": f"add to {proposal.theme!r}",
        "extend": f"cite beside lesson {number} of {proposal.theme!r}",
        "new_theme": f"new theme {proposal.new_theme_name!r}",
        "duplicate": f"already in {README_NAME} (lesson {number} of {proposal.theme!r}): nothing to add",
    }[proposal.kind]


# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class ReviewItem:
    """A lesson in the queue with what the user decided about it."""

    queued: QueueItem
    status: Literal["pending", "accepted"]
    record: ReviewRecord | None  # the user's choices, when any

    @property
    def id(self) -> str:
        return self.queued.id

    @property
    def text(self) -> str:
        return (self.record.lesson if self.record and self.record.lesson else None) or self.queued.text

    @property
    def is_theme(self) -> bool:
        """A suggested new theme rather than a lesson."""
        return self.queued.item_kind is ItemKind.NEW_THEME

    @property
    def edited(self) -> bool:
        """Whether the user rewrote the lesson in review."""
        return bool(self.record and self.record.lesson)

    @property
    def kind(self) -> str | None:
        return self.record.kind if self.record else None

    @property
    def theme(self) -> str | None:
        return self.record.theme if self.record else None

    @property
    def placement(self) -> Placement | None:
        """Where it was accepted to go; None for a lesson ticked by hand (it is placed when applied)."""
        record = self.record
        if self.status != "accepted" or record is None or record.status != "accepted" or not record.placement_json:
            return None
        return Placement.from_json(record.placement_json)


def _effective(queued: QueueItem, record: ReviewRecord | None) -> ReviewItem:
    """Merge the queue file's checkbox with the store: the box is the user's last word on accepting."""
    checked: Literal["pending", "accepted"] = "accepted" if queued.checked else "pending"
    if record is None or record.status in ("rejected", "applied"):
        return ReviewItem(queued, checked, None)  # no decision, or the same lesson queued again since
    return ReviewItem(queued, checked, record)


@dataclass(frozen=True)
class ReviewState:
    """The queue file and the store's decisions, merged; README.md's text as it was read."""

    queue: QueueFile
    items: tuple[ReviewItem, ...]  # queue order
    records: dict[str, ReviewRecord]
    readme_text: str | None  # None: no README.md

    def find(self, ref: str) -> ReviewItem:
        """An item by ID or unambiguous ID prefix (at least 4 characters)."""
        ref = ref.strip().strip("`").lower()
        exact = [item for item in self.items if item.id == ref]
        found = exact or ([item for item in self.items if item.id.startswith(ref)] if len(ref) >= 4 else [])
        if len(found) == 1:
            return found[0]
        record = self.records.get(ref)
        if record is not None and record.status in ("rejected", "applied"):
            raise ReviewError(f"lesson {ref} was {record.status} and has left the queue.")
        what = f"{len(found)} queued lessons have IDs starting with {ref!r}" if found else f"no queued lesson has ID {ref!r}"
        raise ReviewError(f"{what}.", hint="See the IDs with: paperdiary review list")

    def counts(self) -> dict[str, int]:
        return {status: sum(item.status == status for item in self.items) for status in ("pending", "accepted")}


@dataclass(frozen=True)
class Snapshot:
    """An item's state before a decision: what undo puts back (its lines in the queue file among it)."""

    id: str
    record: ReviewRecord | None
    checked: bool
    block: str
    position: int


def _snapshot(item: ReviewItem, queue: QueueFile) -> Snapshot:
    return Snapshot(item.id, item.record, item.status == "accepted", queue.block(item.queued),
                    queue.items.index(item.queued))


def _shown(queue: QueueFile, record: ReviewRecord) -> QueueFile:
    """The queue file showing a decision: the item's lines as decided, ticked or not; or the item gone. Idempotent."""
    if record.status in ("rejected", "applied"):
        return queue.without([record.id])
    if record.block:
        if queue.get(record.id) is None:
            position = record.position if record.position is not None else len(queue.items)
            queue = queue.with_block(record.block, position)
        else:
            queue = queue.with_lines(record.id, record.block)
    return queue.with_checked(record.id, record.status == "accepted")


def _showing(queue: QueueFile, item: ReviewItem, record: ReviewRecord, proposal: Proposal) -> ReviewRecord:
    """``record`` with the item's lines as the queue file is to show it: its current text, and the theme and kind
    ``proposal`` places it with."""
    shown = queue.with_shown(item.id, text=record.lesson, theme=proposal.theme or proposal.new_theme_name,
                             kind=proposal.kind)
    current = shown.get(item.id)
    assert current is not None
    return replace(record, block=shown.block(current), position=queue.items.index(item.queued))


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class PlannedItem:
    """One item placed in the README as it will be when its turn comes (queue order)."""

    item: ReviewItem
    before: Readme  # README.md with the accepted items ahead of it in the queue applied
    proposal: Proposal | None  # None: it cannot be placed (see conflict)
    after: Readme | None  # ``before`` with it placed
    conflict: str | None = None
    already: bool = False  # accepted, and the README already has it (an apply cut short, or by hand)

    def diff(self) -> str:
        return unified_diff(self.before.render(), self.after.render(), README_NAME) if self.after is not None else ""


@dataclass(frozen=True)
class Plan:
    """Every queued item placed: accepted ones applied in queue order, the others proposed against that."""

    state: ReviewState
    base: Readme  # README.md as on disk
    items: tuple[PlannedItem, ...]
    result: Readme  # README.md with every accepted item applied

    def get(self, item_id: str) -> PlannedItem | None:
        return next((p for p in self.items if p.item.id == item_id), None)

    @property
    def accepted(self) -> list[PlannedItem]:
        return [p for p in self.items if p.item.status == "accepted"]

    def diff(self) -> str:
        """What applying would change in README.md."""
        return unified_diff(self.base.render(), self.result.render(), README_NAME)


@dataclass(frozen=True)
class ApplyResult:
    applied: list[PlannedItem]
    readme_changed: bool
    pending: int  # lessons still waiting in the queue


# --------------------------------------------------------------------------- the review


class Review:
    """The review of one diary's queue: reading, deciding, applying. Every decision is saved at once."""

    def __init__(self, settings: Settings, *, store: Store | None = None, reranker: Reranker | None = None,
                 embedder: Embedder | Literal["settings"] | None = "settings"):
        """``store``: the diary's store, when the caller has it open (else the review opens and closes its own);
        ``reranker``: a second opinion on each proposal (``review --llm``: an LLM's); ``embedder``: places
        lessons by meaning as well as words (default: the settings' one, WordLlama, when the ``map`` extra
        is installed; None: by words alone)."""
        self.settings = settings
        self._own_store = store is None
        self.store = Store(settings.db_path) if store is None else store
        self.reranker = reranker
        if isinstance(embedder, str):  # "settings"
            embedder = None if missing_packages("review") else embedder_for(settings, self.store)
        self.embedder = embedder
        self.readme_path = settings.diary / README_NAME
        self._catalog = Catalog(settings, store=self.store)  # the entries, read once per run (on first use)
        self._entries = cache(catalog_entries(self._catalog))
        self._stored = {record.path: record for record in self.store.entries()}
        self._titles: dict[str, str | None] = {}

    def __enter__(self) -> Review:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._own_store:
            self.store.close()

    # ---- reading

    def state(self) -> ReviewState:
        """The queue and decisions, after replaying onto the queue file any decision a killed run left unsynced.

        With a read-only store (a read-only state folder) the decisions are replayed in memory only.
        """
        if self.store.read_only:
            return self._sync(write=False)
        with queue_lock(self.settings):
            return self._sync()

    def plan(self, state: ReviewState | None = None, *, replacing: ReviewItem | None = None) -> Plan:
        """Place every item (``replacing`` stands in for the item with its ID)."""
        state = state or self.state()
        base = self._readme(state)
        doc = base
        planned: list[PlannedItem] = []
        for item in state.items:
            if replacing is not None and item.id == replacing.id:
                item = replacing
            merge_item = self.merge_item(item)
            try:
                if item.is_theme:
                    planned.append(self._plan_theme(doc, item))
                    doc = planned[-1].after if item.status == "accepted" and planned[-1].after is not None else doc
                    continue
                if item.status == "pending":
                    proposal = self._propose(doc, item, merge_item)
                    planned.append(PlannedItem(item, doc, proposal, apply_proposal(doc, proposal)))
                    continue
                found = self._already_there(doc, item, merge_item)
                if found is not None:
                    planned.append(PlannedItem(item, doc, found, doc, already=True))
                    continue
                placement = item.placement
                proposal = placement.locate(doc) if placement else self._propose(doc, item, merge_item)
                after = apply_proposal(doc, proposal)
                planned.append(PlannedItem(item, doc, proposal, after, already=after is doc))
                doc = after
            except (ReviewError, ReviewConflictError, ReadmeError) as exc:
                planned.append(PlannedItem(item, doc, None, None, conflict=exc.message))
        return Plan(state, base, tuple(planned), doc)

    def merge_item(self, item: ReviewItem) -> MergeItem:
        """What the merger needs: the (edited) text, the source entry, its title and description when known."""
        source = source_inside(self.settings.diary, item.queued.source, item.id)
        stored = self._stored.get(source)
        return MergeItem(item.text, source, item.queued.suggested, self._title(source),
                         stored.description if stored else None)

    def _title(self, source: str) -> str | None:
        """The source entry's title: stored when drafted, else its first heading (read once per run)."""
        if source not in self._titles:
            stored = self._stored.get(source)
            self._titles[source] = stored.title if stored else self._title_on_disk(source) if source else None
        return self._titles[source]

    def _title_on_disk(self, source: str) -> str | None:
        """The catalog's title of the entry (None for a path it has no entry at: out of the diary, missing)."""
        entry = self._catalog.entry(source)
        return entry.title if entry is not None and not entry.outside else None

    # ---- deciding

    def accept(self, refs: Sequence[str]) -> list[Snapshot]:
        """Accept lessons where the merger (or the user's choice) puts them; their boxes get ticked."""
        with diary_lock(self.settings, "review accept"), queue_lock(self.settings):
            state = self._sync()
            items = [state.find(ref) for ref in refs]  # every ID checked before anything is saved
            plan = self.plan(state)
            records = []
            for item in items:
                planned = plan.get(item.id)
                assert planned is not None  # items come from the state the plan was made of
                if planned.proposal is None:
                    raise ReviewConflictError(f"cannot accept lesson {item.id}: {planned.conflict}.")
                if item.placement is not None:
                    continue  # accepted already, with its place
                record = self._record(item, "accepted", placement=Placement.of(planned.proposal, planned.before),
                                      digest=plan.base.digest)
                records.append(_showing(state.queue, item, record, planned.proposal))
            self._commit(state, records)
        return [_snapshot(item, state.queue) for item in items]

    def reject(self, refs: Sequence[str]) -> list[Snapshot]:
        """Reject lessons: they leave the queue file (their lines are kept in the store for undo)."""
        with diary_lock(self.settings, "review reject"), queue_lock(self.settings):
            state = self._sync()
            items = [state.find(ref) for ref in refs]
            records = [
                replace(self._record(item, "rejected"), block=state.queue.block(item.queued),
                        position=state.queue.items.index(item.queued))
                for item in items
            ]
            self._commit(state, records)
        return [_snapshot(item, state.queue) for item in items]

    def choose(self, ref: str, *, theme: str | None = None, kind: str | None = None,
               lesson: str | None = None) -> Snapshot:
        """Set an item's theme, kind or text; an accepted item is placed again accordingly."""
        if lesson is not None:
            lesson = clean_text(lesson)
            if not lesson:
                raise ReviewError("a lesson needs some text.")
        with diary_lock(self.settings, "review"), queue_lock(self.settings):
            state = self._sync()
            item = state.find(ref)
            if item.is_theme and (lesson is not None or kind not in (None, "new_theme")):
                raise ReviewError(f"{item.id} suggests a new theme, not a lesson: accept it, reject it, or rename it.",
                                  hint=f"paperdiary review theme {item.id} 'New name'")
            record = item.record or ReviewRecord(item.id, item.status)
            theme = " ".join(theme.split()) if theme is not None else None
            kept_theme, kept_kind = record.theme, record.kind
            # The latest choice wins: an earlier choice of the other kind that contradicts it is dropped
            # (an existing theme takes "add"/"extend", a name no theme has takes "new_theme").
            if kind is not None and theme is None and kept_theme:
                exists = bool(self._readme(state).find_themes(kept_theme))
                kept_theme = kept_theme if exists != (kind == "new_theme") else None
            if theme and kind is None and kept_kind:
                exists = bool(self._readme(state).find_themes(theme))
                kept_kind = kept_kind if exists != (kept_kind == "new_theme") else None
            record = replace(
                record, status=item.status,
                theme=theme if theme is not None else kept_theme,
                kind=kind if kind is not None else kept_kind,
                lesson=lesson if lesson is not None else record.lesson,
            )
            # Place it with the new choice, as if undecided, to check that the choice can be carried out.
            trial = ReviewItem(item.queued, "pending", record)
            planned = self.plan(state, replacing=trial).get(item.id)
            assert planned is not None
            if planned.proposal is None:
                raise ReviewError(planned.conflict or "that choice cannot be carried out.")
            if item.status == "accepted":
                record = replace(record, placement_json=Placement.of(planned.proposal, planned.before).to_json(),
                                 readme_digest=self._readme(state).digest)
            self._commit(state, [_showing(state.queue, item, record, planned.proposal)])
        return _snapshot(item, state.queue)

    def restore(self, snapshot: Snapshot) -> None:
        """Undo: put an item back as it was before a decision (back in the queue after a rejection)."""
        with diary_lock(self.settings, "review"), queue_lock(self.settings):
            state = self._sync()
            status = "accepted" if snapshot.checked else "pending"
            record = replace(snapshot.record or ReviewRecord(snapshot.id, status), status=status,
                             block=snapshot.block, position=snapshot.position)
            self._commit(state, [record])

    def add(self, text: str, source: str | None = None) -> tuple[str, bool]:
        """Queue the user's own lesson (``source``: see :meth:`find_entry`); returns (its ID, whether newly queued)."""
        text = clean_text(text)
        if not text:
            raise ReviewError("--add needs the lesson's text.")
        relpath, arxiv_id = self.find_entry(source) if source else ("", None)
        lesson = Lesson(text)
        with diary_lock(self.settings, "review add"):
            added = queue_lessons(self.settings, [lesson], relpath, arxiv_id, own=True)
        return (added[0].id if added else lesson_id(lesson, arxiv_id or relpath)), bool(added)

    def find_entry(self, value: str) -> tuple[str, str | None]:
        """(diary-relative path, arXiv ID) of an entry named by its path (from here or the diary root)
        or by the arXiv ID of a paper the diary has an entry for."""
        from paperdiary.diary.catalog import entry_for_paper
        from paperdiary.stages.identify import identify

        root = self.settings.diary.resolve()
        for candidate in (self.settings.diary / value, Path(value).expanduser()):
            path = candidate.resolve()
            if path.is_file():
                if not path.is_relative_to(root):
                    raise ReviewError(f"--source {value!r} is outside the diary {root}.")
                relpath = diary_relpath(root, path)
                stored = self._stored.get(relpath)
                return relpath, stored.arxiv_id if stored else None
        try:
            arxiv_id = identify(value).arxiv_id
        except PaperDiaryError:
            arxiv_id = None
        if arxiv_id:
            drafted = self.store.entries_for(arxiv_id)
            found = root / drafted[-1].path if drafted else entry_for_paper(self.settings, arxiv_id, store=self.store)
            if found is not None:
                return diary_relpath(root, found), arxiv_id
        raise ReviewError(f"--source {value!r}: no such entry in the diary.",
                          hint="Give the entry's path (e.g. 'entries/June 2025/11thJuneX.md') or its arXiv ID.")

    # ---- applying

    def apply(self) -> ApplyResult:
        """Write every accepted lesson into README.md, then drop them from the queue.

        Refuses, writing nothing, when an accepted lesson's place is gone or
        ambiguous in the README as it is now.
        """
        with diary_lock(self.settings, "review apply"), queue_lock(self.settings):
            state = self._sync()
            plan = self.plan(state)
            accepted = plan.accepted
            if not accepted:
                return ApplyResult([], False, state.counts()["pending"])
            for planned in accepted:
                if planned.conflict:
                    raise ReviewConflictError(
                        f"cannot apply lesson {planned.item.id} ({shorten(planned.item.text, 40)}): "
                        f"{planned.conflict}; "
                        "nothing was written.",
                        hint=f"Place it again: paperdiary review theme {planned.item.id} NAME, or reject it.",
                    )
            new_text = plan.result.render()
            changed = new_text != state.readme_text
            if changed:
                if self._read_readme() != state.readme_text:  # edited while we worked: place against the new text
                    raise ReviewConflictError(f"{README_NAME} changed while applying; nothing was written.",
                                              hint="Run the command again.")
                replace_diary_file(self.settings.diary, self.readme_path, new_text)
            try:
                self._commit(state, [self._record(p.item, "applied") for p in accepted])
            except WriteError as exc:
                if not changed:
                    raise
                # The README is written in full: saying "nothing was half-written" would hide that it changed.
                raise WriteError(
                    f"{README_NAME} was written in full with {plural(len(accepted), 'lesson')}, but they could not "
                    "be marked applied in the queue: {detail} ({path}).", path=exc.path, detail=exc.detail,
                    hint="Free some space (or make it writable), then run `paperdiary review apply` again: it finds "
                         f"them already in {README_NAME} and applies nothing twice.") from None
            return ApplyResult(accepted, changed, state.counts()["pending"])

    # ---- internals

    def _record(self, item: ReviewItem, status: Status, *, placement: Placement | None = None,
                digest: str | None = None) -> ReviewRecord:
        record = item.record or ReviewRecord(item.id, status)
        return replace(record, status=status, placement_json=placement.to_json() if placement else None,
                       readme_digest=digest or record.readme_digest)

    def _commit(self, state: ReviewState, records: list[ReviewRecord]) -> None:
        """Save decisions (one transaction), then show them in the queue file. The caller holds the queue lock."""
        if not records:
            return
        now = utcnow()
        self.store.save_reviews([replace(r, synced=False, decided_at=now) for r in records])
        queue = state.queue
        for record in records:
            queue = _shown(queue, record)
        if queue.lines != state.queue.lines:
            replace_diary_file(self.settings.diary, self.settings.queue_path, queue.render())
        self.store.mark_reviews_synced([r.id for r in records])

    def _sync(self, *, write: bool = True) -> ReviewState:
        """Replay unsynced decisions onto the queue file (in memory only unless ``write``), then merge the two.

        The caller holds the queue lock when writing.
        """
        queue = read_queue(self.settings)
        records = self.store.review_records()
        unsynced = sorted((r for r in records.values() if not r.synced), key=lambda r: r.decided_at)
        if unsynced:
            shown = queue
            for record in unsynced:
                shown = _shown(shown, record)
            if write:
                if shown.lines != queue.lines:
                    replace_diary_file(self.settings.diary, self.settings.queue_path, shown.render())
                self.store.mark_reviews_synced([r.id for r in unsynced])
                records = {key: replace(r, synced=True) for key, r in records.items()}
            queue = shown
        items = tuple(_effective(queued, records.get(queued.id)) for queued in queue.items)
        return ReviewState(queue, items, records, self._read_readme())

    def _read_readme(self) -> str | None:
        try:
            size = resolve_inside(self.settings.diary, self.readme_path).stat().st_size
            if size > README_MAX_BYTES:  # placing a lesson reads every lesson: seconds per megabyte
                raise DiaryError(f"{README_NAME} is {size / 2**20:.1f} MB, more than review reads "
                                 f"({README_MAX_BYTES // 2**20} MB): nothing was read or changed.",
                                 hint=f"A diary's {README_NAME} is a few hundred KB; see what made it grow (git log -p "
                                      f"{README_NAME}).")
            return read_diary_bytes(self.settings.diary, self.readme_path).decode("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise DiaryError(f"cannot read {self.readme_path}: {exc}.") from None

    def _readme(self, state: ReviewState) -> Readme:
        if state.readme_text is None:
            raise DiaryError(f"no {README_NAME} in {self.settings.diary}.",
                             hint="Run paperdiary init there, or pass --diary.")
        return _parse_readme(state.readme_text, self.settings.lessons_heading)

    def _propose(self, readme: Readme, item: ReviewItem, merge_item: MergeItem) -> Proposal:
        proposal = propose(readme, merge_item, diary_root=self.settings.diary, readme_path=self.readme_path,
                           entries=self._entries, reranker=self.reranker, embedder=self.embedder,
                           store=None if self.store.read_only else self.store)
        return chosen_proposal(readme, merge_item, proposal, kind=item.kind, theme=item.theme)

    @staticmethod
    def _plan_theme(readme: Readme, item: ReviewItem) -> PlannedItem:
        """A suggested theme: its heading added, or nothing when the README has a theme of that name."""
        name = item.theme or item.queued.theme or ""
        found = readme.find_themes(name)
        if found:
            proposal = Proposal("duplicate", found[0].name, found[0].key, None, None, "",
                                f"{README_NAME} already has the theme {found[0].name!r}.", 1.0)
            return PlannedItem(item, readme, proposal, readme, already=item.status == "accepted")
        count = len(item.queued.members)
        reason = (f"A theme for {count} entr{'ies' if count != 1 else 'y'} the topic map groups together: "
                  f"applying adds its heading to {README_NAME}; no lesson moves.")
        proposal = Proposal("new_theme", None, None, None, name, "", reason, 1.0)
        return PlannedItem(item, readme, proposal, apply_proposal(readme, proposal))

    def _already_there(self, readme: Readme, item: ReviewItem, merge_item: MergeItem) -> Proposal | None:
        """A duplicate proposal when the README already holds this accepted lesson as a lesson of its own."""
        placement = item.placement
        if placement is not None and placement.kind not in ("add", "new_theme"):
            return None  # extending is idempotent by itself; a duplicate changes nothing
        text = placement.text if placement is not None else placement_texts(merge_item)[0]
        words = lesson_words(text)
        source = cited_path(merge_item.source_entry)
        for theme in readme.all_themes():
            for index, lesson in enumerate(theme.lessons):
                if lesson_words(lesson.body) == words and (not source or source in lesson.cites):
                    return Proposal("duplicate", theme.name, theme.key, index, None, "",
                                    f"Already in {README_NAME}: lesson {index + 1} of {theme.name!r}.", 1.0)
        return None


def source_inside(diary: Path, source: str, item_id: str) -> str:
    """A queue item's source entry when it names a file inside the diary, else "" (cited without a link).

    The queue is a diary file: a cloned diary's item whose source is ``../../../etc/passwd`` must not
    become a README link out of the diary (nor have that file read for its title).
    """
    if not source:
        return ""
    try:
        resolve_inside(diary, diary / source)
    except OutsideDiaryError:
        if item_id not in _WARNED:  # once: a review plans again after every key
            _WARNED.add(item_id)
            log.warning("lesson %s: its source %r leads out of the diary; it is placed without a link", item_id,
                        shorten(source, 80))
        return ""
    return source


_WARNED: set[str] = set()


@lru_cache(maxsize=4)
def _parse_readme(text: str, heading: str) -> Readme:
    # Parsed once per text: an interactive review plans again after every key press.
    return Readme.parse(text, heading)
