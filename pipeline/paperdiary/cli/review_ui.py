"""What `paperdiary review` shows in the terminal: each action's report, and the interactive walk.

The decisions themselves are :mod:`paperdiary.diary.review`'s; this module asks, shows
and reports. Every key that decides something is saved before the next item is
shown, so quitting (or a kill) keeps all of them and the next run resumes with
the undecided lessons.
"""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from paperdiary.diary.readme import README_NAME
from paperdiary.diary.review import ApplyResult, PlannedItem, Review, Snapshot, describe
from paperdiary.errors import PaperDiaryError
from paperdiary.text import shorten, strip_controls

KEYS_HELP = "[a]ccept  [e]dit  [t]heme  [k]ind  [r]eject  [s]kip  [u]ndo  [q]uit"


# --------------------------------------------------------------------------- reports of the scripted actions


def print_added(console: Console, item_id: str, new: bool, queue_file: str) -> None:
    console.print(f"{'Queued' if new else 'Already queued:'} {item_id} in {queue_file}")


def print_choice(console: Console, item_id: str, planned: PlannedItem | None) -> None:
    if planned is not None and planned.proposal is not None:
        console.print(Text(f"{item_id}: {describe(planned.proposal)}"))


def print_accepted(console: Console, accepted: list[PlannedItem], waiting: int) -> None:
    for planned in accepted:
        if planned.proposal is not None:
            console.print(Text(f"Accepted {planned.item.id}: {describe(planned.proposal)}"))
    console.print(f"{waiting} accepted lesson{'s' if waiting != 1 else ''} waiting: "
                  "`paperdiary review diff` shows them, `paperdiary review apply` writes them.")


def print_rejected(console: Console, rejected: list[str], queue_file: str) -> None:
    for item_id in rejected:
        console.print(f"Rejected {item_id}: removed from {queue_file}")


def print_diff(console: Console, diff: str) -> None:
    if not diff:
        console.print("Nothing accepted to apply.", style="dim")
    else:
        print(strip_controls(diff), end="")  # plain, for piping into a pager or `git apply`


def print_list(console: Console, items: tuple[PlannedItem, ...], queue_file: str) -> None:
    accepted = sum(p.item.status == "accepted" for p in items)
    console.print(f"{queue_file}: {len(items) - accepted} undecided, {accepted} accepted (not yet applied)")
    for planned in items:
        item = planned.item
        line = Text(f"[{'x' if item.status == 'accepted' else ' '}] ", style="green" if item.status == "accepted" else "")
        line.append(item.id, style="bold")
        line.append(f"  {item.text}")
        console.print(line)
        detail = Text("             ")
        if planned.proposal is not None:
            detail.append(f"→ {describe(planned.proposal)}", style="cyan")
            detail.append(f" · {planned.proposal.confidence:.2f}", style="dim")
        if item.queued.source:
            detail.append(f" · {item.queued.source}", style="dim")
        console.print(detail)
        if planned.conflict:
            console.print(Text(f"             ⚠ cannot be placed: {planned.conflict}", style="red"))


def print_applied(console: Console, result: ApplyResult, queue_file: str) -> None:
    if not result.applied:
        console.print("Nothing accepted to apply.")
        return
    for planned in result.applied:
        assert planned.proposal is not None  # apply refuses items that cannot be placed
        note = "already there" if planned.already else describe(planned.proposal)
        console.print(Text(f"  {planned.item.id}  {shorten(planned.item.text)}  → {note}"))
    n = len(result.applied)
    where = f"written into {README_NAME}" if result.readme_changed else f"already in {README_NAME}"
    console.print(f"Applied {n} lesson{'s' if n != 1 else ''} ({where}); {result.pending} still in {queue_file}.")


_CONTINUED = "  "  # after the marker, on the rows a long diff line wraps onto


def diff_text(diff: str, console: Console) -> Text:
    """A unified diff, coloured, each line wrapped to the console's width with its marker on every row.

    A terminal wrapping a long ``+`` line itself would start its next rows without
    the ``+``, and they would read as context. Cropping would hide words of the
    lesson being decided on; so each row keeps the marker, and the rows a line
    wraps onto are indented after it (a hanging indent) so that they read as one line.
    Without a terminal the console is wide enough that no line wraps.
    """
    out = Text()
    for line in strip_controls(diff).splitlines():
        header = line.startswith(("+++", "---", "@@"))
        style = ("bold" if line.startswith(("+++", "---")) else "cyan" if header else "green"
                 if line.startswith("+") else "red" if line.startswith("-") else "")
        marker, body = ("", line) if header or not line else (line[0], line[1:])
        room = max(console.width - len(marker) - len(_CONTINUED), 10)
        rows = Text(body).wrap(console, room, no_wrap=False) if body else [Text()]
        for number, row in enumerate(rows):
            lead = marker if number == 0 else marker + _CONTINUED
            out.append(lead + row.plain.rstrip() + "\n", style=style)
    return out


# --------------------------------------------------------------------------- interactive


class KeyReader:
    """Single key presses from a terminal (no Enter needed); whole lines when stdin is not a terminal."""

    def __init__(self, console: Console, stream: IO[str] | None = None):
        self.console = console
        self.stream = stream or sys.stdin
        self.raw = self.stream.isatty()

    def key(self, prompt: str) -> str:
        """One lower-case key; "q" at end of input."""
        self.console.print(Text(prompt), end="")
        if self.raw:
            key = self._read_key()
        else:
            line = self.stream.readline()
            key = line.strip()[:1] if line else "q"
        self.console.print(Text(key))
        return key.lower()

    def line(self, prompt: str) -> str:
        """A line of text ("" at end of input)."""
        self.console.print(Text(prompt), end="")
        if not self.raw:
            return self.stream.readline().strip()
        # The terminal is in its usual line mode between key presses: read its line directly,
        # bypassing sys.stdin's buffer so that no key typed ahead is lost between the two.
        data = b""
        while not data.endswith(b"\n"):
            chunk = os.read(self.stream.fileno(), 4096)
            if not chunk:
                break
            data += chunk
        return data.decode("utf-8", "replace").strip()

    def _read_key(self) -> str:
        import termios
        import tty

        fd = self.stream.fileno()
        saved = termios.tcgetattr(fd)
        try:
            tty.setcbreak(fd)  # keys arrive one by one; Ctrl-C still interrupts
            data = os.read(fd, 1)
            while select.select([fd], [], [], 0.02)[0]:  # the rest of an escape sequence (arrow keys)
                data += os.read(fd, 32)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        if data in (b"", b"\x04"):  # end of input, Ctrl-D
            return "q"
        return data.decode("utf-8", "replace") if len(data) == 1 else ""


def edit_in_editor(text: str) -> str | None:
    """The lesson after the user edited it in $VISUAL/$EDITOR: one paragraph, or None when left unchanged."""
    import click

    edited = click.edit(text + "\n", extension=".md", require_save=True)
    if edited is None:
        return None
    paragraph: list[str] = []
    for line in edited.splitlines():
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    result = " ".join(paragraph)
    return result if result and result != " ".join(text.split()) else None


@dataclass
class _Step:
    """One entry of the undo history: the item and what it was before (None for a skip)."""

    item_id: str
    snapshot: Snapshot | None
    action: str  # "accepted", "rejected", "skipped", "edited", "theme", "kind"


class ReviewSession:
    """The interactive review: each undecided lesson with its proposal and README diff, one key per decision."""

    def __init__(self, review: Review, console: Console, keys: KeyReader,
                 editor: Callable[[str], str | None] = edit_in_editor):
        self.review = review
        self.console = console
        self.keys = keys
        self.editor = editor
        self.history: list[_Step] = []
        self.queue_file = review.settings.queue_file

    def run(self) -> None:
        order = [item.id for item in self.review.state().items if item.status == "pending"]
        if not order:
            self.console.print(f"Nothing to review: {self.queue_file} has no undecided lessons.")
            self._finish(order)
            return
        position = 0
        while position < len(order):
            plan = self.review.plan()
            planned = plan.get(order[position])
            if planned is None or planned.item.status != "pending":
                position += 1  # decided elsewhere meanwhile (ticked on a phone) or gone from the queue
                continue
            self.show(planned, position + 1, len(order))
            key = self.keys.key(KEYS_HELP + " › ")
            try:
                if key == "q":
                    break
                if key == "u":
                    position = self.undo(order, position)
                    continue
                position += self.decide(key, planned)
            except PaperDiaryError as exc:
                self.console.print(Text(f"✗ {exc}", style="red"))
        self._finish(order)

    def decide(self, key: str, planned: PlannedItem) -> int:
        """Carry out one key on an item; returns how far to move on (0: show it again)."""
        item_id = planned.item.id
        if key == "a":
            [snapshot] = self.review.accept([item_id])
            self.history.append(_Step(item_id, snapshot, "accepted"))
            return 1
        if key == "r":
            [snapshot] = self.review.reject([item_id])
            self.history.append(_Step(item_id, snapshot, "rejected"))
            return 1
        if key == "s":
            self.history.append(_Step(item_id, None, "skipped"))
            return 1
        if key == "e":
            edited = self.editor(planned.item.text)
            if edited is None:
                self.console.print("Unchanged.", style="dim")
                return 0
            self.history.append(_Step(item_id, self.review.choose(item_id, lesson=edited), "edited"))
            return 0
        if key == "t":
            name = self.pick_theme(planned)
            if name:
                self.history.append(_Step(item_id, self.review.choose(item_id, theme=name), "theme"))
            return 0
        if key == "k":
            choice = self.pick_kind(planned)
            if choice is not None:
                kind, name = choice
                self.history.append(_Step(item_id, self.review.choose(item_id, kind=kind, theme=name), "kind"))
            return 0
        if key:
            self.console.print(f"Unknown key {key!r}: {KEYS_HELP}", style="yellow")
        return 0

    def undo(self, order: list[str], position: int) -> int:
        """Take back the last step of this session; returns the position of its item, shown again."""
        if not self.history:
            self.console.print("Nothing to undo in this session.", style="yellow")
            return position
        step = self.history.pop()
        if step.snapshot is not None:
            self.review.restore(step.snapshot)
        self.console.print(Text(f"Undone: {step.action} {step.item_id}", style="yellow"))
        return order.index(step.item_id)

    def pick_theme(self, planned: PlannedItem) -> str | None:
        themes = [theme.name for theme in planned.before.all_themes()]
        listing = Text()
        for number, name in enumerate(themes, 1):
            listing.append(f"  {number:>2}. {name}\n")
        self.console.print(listing, end="")
        answer = self.keys.line("Theme number, or a new theme's name (Enter: keep): ")
        if answer.isdigit() and 1 <= int(answer) <= len(themes):
            return themes[int(answer) - 1]
        return answer or None

    def pick_kind(self, planned: PlannedItem) -> tuple[str, str | None] | None:
        key = self.keys.key("[a]dd to a theme  [e]xtend a similar lesson  [n]ew theme  (other: cancel) › ")
        if key == "a":
            return "add", None
        if key == "e":
            return "extend", None
        if key == "n":
            proposal = planned.proposal
            default = (proposal.new_theme_name if proposal and proposal.new_theme_name else None) or \
                planned.item.queued.suggested or ""
            name = self.keys.line(f"New theme's name{f' (Enter: {default})' if default else ''}: ") or default
            return ("new_theme", name or None)
        return None

    def show(self, planned: PlannedItem, number: int, total: int) -> None:
        item, proposal = planned.item, planned.proposal
        body = Text()
        body.append(item.text + "\n", style="bold")
        if item.edited:
            body.append("(edited)\n", style="dim")
        source = item.queued.source
        if source:
            title = self.review.merge_item(item).title
            body.append("\nSource: ", style="dim")
            body.append(f"{title} ({source})" if title else source)
            if item.queued.arxiv_id:
                body.append(f" · arXiv {item.queued.arxiv_id}", style="dim")
            body.append("\n")
        if item.queued.members:
            body.append("\nEntries: ", style="dim")
            body.append(", ".join(item.queued.members) + "\n")
        if item.queued.why:
            body.append("Why: ", style="dim")
            body.append(item.queued.why + "\n")
        if item.queued.suggested:
            body.append("Suggested theme: ", style="dim")
            body.append(item.queued.suggested + "\n")
        body.append("\nProposal: ", style="dim")
        if proposal is not None:
            body.append(describe(proposal), style="bold cyan")
            body.append(f" · confidence {proposal.confidence:.2f}\n", style="dim")
            body.append(proposal.reason, style="italic")
        else:
            body.append(f"cannot be placed: {planned.conflict}", style="red")
        self.console.print()
        what = "New theme" if item.is_theme else "Lesson"
        self.console.print(Panel(body, title=f"{what} {number}/{total} · {item.id}", title_align="left",
                                 expand=self.console.is_terminal))  # piped, the console is too wide to fill
        diff = planned.diff()
        if diff:
            self.console.print(diff_text(diff, self.console), end="")
        elif proposal is not None and proposal.kind == "duplicate":
            self.console.print(f"No change to {README_NAME}: accepting drops it from the queue.", style="dim")

    def _finish(self, order: list[str]) -> None:
        done = {step.item_id: step.action for step in self.history if step.action in ("accepted", "rejected",
                                                                                        "skipped")}
        state = self.review.state()
        counts = state.counts()
        if order:
            tally = ", ".join(f"{sum(a == action for a in done.values())} {action}"
                              for action in ("accepted", "rejected", "skipped"))
            self.console.print(f"\nThis session: {tally}; {counts['pending']} undecided in {self.queue_file}.")
        if not counts["accepted"]:
            return
        waiting = counts["accepted"]
        self.console.print(f"{waiting} accepted lesson{'s' if waiting != 1 else ''} waiting for {README_NAME}.")
        if self.keys.key("Apply now? [y/N] ") == "y":
            print_applied(self.console, self.review.apply(), self.queue_file)
        else:
            self.console.print("Apply later with: paperdiary review apply (paperdiary review diff shows the change first)")
