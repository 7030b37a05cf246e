"""`paperdiary review`: the interactive walk through the queue, and a subcommand per decision for scripts.

    paperdiary review                     walk the undecided lessons, one key per decision
    paperdiary review list                each lesson with its ID, status and proposal
    paperdiary review accept ID...        (reject ID..., theme ID NAME, kind ID KIND, add TEXT)
    paperdiary review diff | apply        what applying changes in README.md; apply it

The decisions are :mod:`paperdiary.diary.review`'s; this module parses, calls and
reports, as text (:mod:`paperdiary.cli.review_ui`) or one JSON document. The old
mode flags (``review --accept ID``...) still work for one release, with a note.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from paperdiary.cli.context import DefaultCommandGroup, Invocation, deprecated, stdout_console

if TYPE_CHECKING:
    from rich.console import Console

    from paperdiary.diary.merge import Reranker
    from paperdiary.diary.review import PlannedItem, Review
    from paperdiary.settings import Settings
    from paperdiary.state.store import Store

_LEGACY = "old-flags"  # the hidden command that takes the old mode flags

_llm_option = click.option(
    "--llm", "use_llm", is_flag=True,
    help="Let the configured LLM rerank each proposal's theme and polish its wording (cached).")


@dataclass(frozen=True)
class Report:
    """What one review action has to say: a JSON value under --json, else lines for the terminal."""

    name: str
    data: Any
    show: Callable[[Console], None]


Action = Callable[["Review", "Settings"], Report]


@click.group(cls=DefaultCommandGroup, default=_LEGACY, when_empty=False, invoke_without_command=True)
@_llm_option
@click.pass_context
def review(ctx: click.Context, use_llm: bool) -> None:
    """Review the queued lessons and merge them into the README's themes.

    Without a command, walks the undecided lessons one key at a time:
    accept, edit, theme, kind, reject, skip, undo, quit.
    """
    if ctx.invoked_subcommand is not None:
        return
    invocation: Invocation = ctx.obj
    if invocation.json:  # the old `review --json`: a walk has no JSON form
        deprecated("review --json", "review list --json")
        _carry_out(invocation, use_llm, [_list], writes=None)
        return
    from paperdiary.cli.review_ui import KeyReader, ReviewSession

    settings = invocation.settings()
    console = stdout_console()
    with _open_review(settings, use_llm) as opened:
        ReviewSession(opened, console, KeyReader(console)).run()


@review.command("list")
@_llm_option
@click.pass_context
def list_(ctx: click.Context, use_llm: bool) -> None:
    """List the queued lessons with their IDs, status and proposals (kind, theme, ...)."""
    _carry_out(ctx.obj, _llm(ctx, use_llm), [_list], writes=None)


@review.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@_llm_option
@click.pass_context
def accept(ctx: click.Context, ids: tuple[str, ...], use_llm: bool) -> None:
    """Accept the lessons ID... where proposed (ticks their boxes; `review apply` writes them).

    An ID may be shortened to a unique prefix of at least 4 characters.
    """
    _carry_out(ctx.obj, _llm(ctx, use_llm), [_accept(ids)], writes="review accept")


@review.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.pass_obj
def reject(invocation: Invocation, ids: tuple[str, ...]) -> None:
    """Reject the lessons ID... (they leave the queue)."""
    _carry_out(invocation, False, [_reject(ids)], writes="review reject")


@review.command()
@click.argument("lesson_id", metavar="ID")
@click.argument("name")
@_llm_option
@click.pass_context
def theme(ctx: click.Context, lesson_id: str, name: str, use_llm: bool) -> None:
    """Place lesson ID under theme NAME (a new theme if the README has none of that name)."""
    _carry_out(ctx.obj, _llm(ctx, use_llm), [_choose(lesson_id, theme=name)], writes="review theme")


@review.command()
@click.argument("lesson_id", metavar="ID")
@click.argument("kind", metavar="add|extend|new_theme")
@_llm_option
@click.pass_context
def kind(ctx: click.Context, lesson_id: str, kind: str, use_llm: bool) -> None:
    """Place lesson ID as KIND: add (to a theme), extend (cite beside a similar lesson) or new_theme."""
    _carry_out(ctx.obj, _llm(ctx, use_llm), [_choose(lesson_id, kind=kind)], writes="review kind")


@review.command()
@click.argument("text")
@click.option("--source", metavar="ENTRY", help="Its entry: a path, or a drafted paper's arXiv ID.")
@_llm_option
@click.pass_context
def add(ctx: click.Context, text: str, source: str | None, use_llm: bool) -> None:
    """Queue a lesson of your own, TEXT, placed like the others."""
    _carry_out(ctx.obj, _llm(ctx, use_llm), [_add(text, source)], writes="review add")


@review.command()
@_llm_option
@click.pass_context
def diff(ctx: click.Context, use_llm: bool) -> None:
    """Show the README diff of the accepted lessons not yet applied (writes nothing)."""
    _carry_out(ctx.obj, _llm(ctx, use_llm), [_diff], writes=None)


@review.command()
@_llm_option
@click.pass_context
def apply(ctx: click.Context, use_llm: bool) -> None:
    """Write the accepted lessons into README.md; they leave the queue."""
    _carry_out(ctx.obj, _llm(ctx, use_llm), [_apply], writes="review apply")


@review.command(_LEGACY, hidden=True)
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--list", "list_", is_flag=True)
@click.option("--accept", "accept_", is_flag=True)
@click.option("--reject", "reject_", is_flag=True)
@click.option("--theme", "themes", nargs=2, multiple=True, metavar="ID NAME")
@click.option("--kind", "kinds", nargs=2, multiple=True, metavar="ID KIND")
@click.option("--diff", "diff_", is_flag=True)
@click.option("--apply", "apply_", is_flag=True)
@click.option("--add", "add_text", metavar="TEXT")
@click.option("--source", metavar="ENTRY")
@_llm_option
@click.pass_context
def old_flags(ctx: click.Context, ids: tuple[str, ...], list_: bool, accept_: bool, reject_: bool,
              themes: tuple[tuple[str, str], ...], kinds: tuple[tuple[str, str], ...], diff_: bool, apply_: bool,
              add_text: str | None, source: str | None, use_llm: bool) -> None:
    """The mode flags of earlier releases, carried out as the subcommands in their old order."""
    from paperdiary.errors import UsageError

    invocation: Invocation = ctx.obj
    if accept_ and reject_:
        raise UsageError("--accept and --reject cannot be combined.", hint="Run them one after the other.")
    if (accept_ or reject_) and not ids:
        raise UsageError(f"--{'accept' if accept_ else 'reject'} needs lesson IDs.",
                         hint="See them with: paperdiary review list")
    if ids and not (accept_ or reject_):
        raise UsageError(f"what to do with {' '.join(ids)}?", hint="Use: paperdiary review accept (or reject) ID...")
    if source is not None and add_text is None:
        raise UsageError("--source goes with --add.", hint='paperdiary review add "lesson" --source ENTRY')

    steps: list[tuple[str, str, Action]] = []  # (old flag, new form, action), in the old fixed order
    if add_text is not None:
        steps.append(("--add", _words("review add", add_text, *(("--source", source) if source else ())),
                      _add(add_text, source)))
    steps += [("--theme", _words("review theme", ref, name), _choose(ref, theme=name)) for ref, name in themes]
    steps += [("--kind", _words("review kind", ref, value), _choose(ref, kind=value)) for ref, value in kinds]
    if accept_:
        steps.append(("--accept", _words("review accept", *ids), _accept(ids)))
    if reject_:
        steps.append(("--reject", _words("review reject", *ids), _reject(ids)))
    if list_ or invocation.json or not (steps or diff_ or apply_):  # the old --json listed, whatever else it came with
        steps.append(("--list", "review list" + (" --json" if invocation.json else ""), _list))
    if diff_:
        steps.append(("--diff", "review diff", _diff))
    if apply_:
        steps.append(("--apply", "review apply", _apply))
    deprecated("review " + " ".join(dict.fromkeys(flag for flag, _, _ in steps)), *(new for _, new, _ in steps))
    writing = [flag for flag, _, _ in steps if flag not in ("--list", "--diff")]
    _carry_out(invocation, _llm(ctx, use_llm), [action for _, _, action in steps],
               writes=f"review {' '.join(writing)}" if writing else None)


# --------------------------------------------------------------------------- carrying out


def _carry_out(invocation: Invocation, use_llm: bool, actions: list[Action], *, writes: str | None) -> None:
    """Open the review, carry out each action in turn and report it; one JSON document under --json.

    ``writes``: the command, for actions that change the diary (they hold its write lock);
    None for those that only read (they work with a read-only state folder too).
    """
    settings = invocation.settings()
    console = None if invocation.json else stdout_console()
    reports: list[Report] = []
    with invocation.writing(settings, writes) if writes else nullcontext(), \
            _open_review(settings, use_llm, read_only=writes is None) as opened:
        for action in actions:
            report = action(opened, settings)
            if console is not None:
                report.show(console)
            reports.append(report)
    if invocation.json:
        invocation.emit(reports[0].data if len(reports) == 1 else
                 {"steps": [{"action": report.name, "result": report.data} for report in reports]})


def _llm(ctx: click.Context, flag: bool) -> bool:
    """--llm given to the subcommand, or to `review` before it."""
    return flag or bool(ctx.parent is not None and ctx.parent.params.get("use_llm"))


@contextmanager
def _open_review(settings: Settings, use_llm: bool, *, read_only: bool = False) -> Iterator[Review]:
    """The review of the diary's queue, with the LLM reranker passed in when --llm asks for it.

    ``read_only``: for commands that only read (the store is opened read-only when its folder cannot be written).
    """
    from paperdiary.diary.review import Review
    from paperdiary.state.store import Store, open_for_reading

    with open_for_reading(settings.db_path) if read_only else Store(settings.db_path) as store, \
            Review(settings, store=store, reranker=_llm_reranker(settings, store) if use_llm else None) as opened:
        yield opened


def _llm_reranker(settings: Settings, store: Store) -> Reranker:
    from paperdiary.diary.rerank import LLMReranker
    from paperdiary.errors import UsageError
    from paperdiary.llm.client import LLMClient

    if not settings.llm_configured:
        raise UsageError("--llm needs a model.", hint="Set PAPERDIARY_MODEL (and OPENAI_BASE_URL), or drop --llm.")
    return LLMReranker(settings, LLMClient(settings, store))


def _words(*parts: str) -> str:
    """A command as one would type it: the first part as is, the rest quoted where the shell needs it."""
    return " ".join([parts[0], *(shlex.quote(part) for part in parts[1:])])


# --------------------------------------------------------------------------- the actions


def _list(opened: Review, settings: Settings) -> Report:
    from paperdiary.cli import review_ui

    items = opened.plan().items
    return Report("list", [item_json(planned) for planned in items],
                  lambda console: review_ui.print_list(console, items, settings.queue_file))


def _accept(ids: tuple[str, ...]) -> Action:
    def action(opened: Review, settings: Settings) -> Report:
        from paperdiary.cli import review_ui

        snapshots = opened.accept(ids)
        plan = opened.plan()
        accepted = [planned for s in snapshots if (planned := plan.get(s.id)) is not None]
        waiting = len(plan.accepted)
        return Report("accept", {"accepted": [item_json(planned) for planned in accepted], "waiting": waiting},
                      lambda console: review_ui.print_accepted(console, accepted, waiting))
    return action


def _reject(ids: tuple[str, ...]) -> Action:
    def action(opened: Review, settings: Settings) -> Report:
        from paperdiary.cli import review_ui

        rejected = [snapshot.id for snapshot in opened.reject(ids)]
        return Report("reject", {"rejected": rejected},
                      lambda console: review_ui.print_rejected(console, rejected, settings.queue_file))
    return action


def _choose(ref: str, *, theme: str | None = None, kind: str | None = None) -> Action:
    def action(opened: Review, settings: Settings) -> Report:
        from paperdiary.cli import review_ui

        snapshot = opened.choose(ref, theme=theme, kind=kind)
        planned = opened.plan().get(snapshot.id)
        return Report("theme" if theme is not None else "kind",
                      item_json(planned) if planned is not None else {"id": snapshot.id},
                      lambda console: review_ui.print_choice(console, snapshot.id, planned))
    return action


def _add(text: str, source: str | None) -> Action:
    def action(opened: Review, settings: Settings) -> Report:
        from paperdiary.cli import review_ui

        item_id, new = opened.add(text, source)
        return Report("add", {"id": item_id, "queued": new, "queue_file": settings.queue_file},
                      lambda console: review_ui.print_added(console, item_id, new, settings.queue_file))
    return action


def _diff(opened: Review, settings: Settings) -> Report:
    from paperdiary.cli import review_ui
    from paperdiary.errors import ReviewConflictError
    from paperdiary.text import shorten

    plan = opened.plan()
    for planned in plan.accepted:
        if planned.conflict:
            raise ReviewConflictError(f"lesson {planned.item.id} ({shorten(planned.item.text, 40)}): "
                                      f"{planned.conflict}.",
                                      hint=f"Place it again: paperdiary review theme {planned.item.id} NAME, "
                                           "or reject it.")
    text = plan.diff() if plan.accepted else ""
    return Report("diff", {"accepted": [planned.item.id for planned in plan.accepted], "diff": text},
                  lambda console: review_ui.print_diff(console, text))


def _apply(opened: Review, settings: Settings) -> Report:
    from paperdiary.cli import review_ui
    from paperdiary.diary.review import describe

    result = opened.apply()
    applied = [{"id": planned.item.id, "lesson": planned.item.text, "already_in_readme": planned.already,
                "where": None if planned.proposal is None else describe(planned.proposal)}
               for planned in result.applied]
    return Report("apply", {"applied": applied, "readme_changed": result.readme_changed, "pending": result.pending},
                  lambda console: review_ui.print_applied(console, result, settings.queue_file))


def item_json(planned: PlannedItem) -> dict[str, Any]:
    """One queued lesson as `review list --json` shows it."""
    item, proposal = planned.item, planned.proposal
    return {
        "id": item.id,
        "item_kind": item.queued.item_kind.value,  # "lesson", or "new theme" (from `paperdiary map`)
        "status": item.status,
        "lesson": item.text,
        "edited": item.edited,
        "source": item.queued.source or None,
        "arxiv_id": item.queued.arxiv_id,
        "suggested_theme": item.queued.suggested,
        "why": item.queued.why,
        "members": list(item.queued.members),
        "choice": {"kind": item.kind, "theme": item.theme},
        "proposal": None if proposal is None else {
            "kind": proposal.kind,
            "theme": proposal.theme or proposal.new_theme_name,  # the theme it lands in, new or not
            "lesson_number": None if proposal.lesson_index is None else proposal.lesson_index + 1,
            "text": proposal.text,
            "reason": proposal.reason,
            "confidence": proposal.confidence,
            "alternatives": [{"theme": name, "probability": p} for name, p in proposal.alternatives],
        },
        "already_in_readme": planned.already,
        "conflict": planned.conflict,
    }
