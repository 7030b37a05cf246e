"""The GitHub Action's side of a run (``.github/workflows/paperdiary.yml``, written by ``paperdiary ci init``).

- :func:`read_event`: what a run was started by and whether it drafts anything: a push that changed the
  reading list, an issue labelled ``paper`` by the owner or a collaborator (anyone else's does nothing), a
  run by hand with its ``papers`` input. The issue's body and the input arrive as environment variables
  (never interpolated into a script) and are written to a file for ``catchup --from-issue-body``; only
  numbers and names PaperDiary makes go into the step's outputs.
- :func:`pull_request_text`: the pull request's title and body, from ``catchup --json``'s summary and the
  lessons queue, rendered from ``prompts/workflows/pull-request.md.j2``. Paper titles and reasons are
  text from elsewhere: escaped as markdown, so they cannot mention anyone or hide a link.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from paperdiary.errors import UsageError
from paperdiary.settings import Settings

if TYPE_CHECKING:
    from paperdiary.diary.queue import QueueItem

TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})  # GitHub's author_association
READING_LIST_BRANCH = "paperdiary/reading-list"
_TITLE_LIMIT = 120


@dataclass(frozen=True)
class EventDecision:
    draft: bool
    reason: str  # one line for the log: what is drafted, or why nothing is
    source: str = ""  # reading-list, issue, dispatch
    branch: str = ""  # the pull request's branch: one per issue, one for the reading list, one per run by hand
    issue: int | None = None

    def outputs(self) -> dict[str, str]:
        return {"draft": "true" if self.draft else "false", "source": self.source, "branch": self.branch,
                "issue": "" if self.issue is None else str(self.issue)}


def read_event(settings: Settings, event_name: str, payload: Mapping[str, Any], env: Mapping[str, str], *,
               label: str, papers_file: Path) -> EventDecision:
    """Decide what the run drafts; for an issue or a run by hand, write its text to ``papers_file``."""
    if event_name == "push":
        return _push(settings)
    if event_name == "issues":
        issue = payload.get("issue") or {}
        number = issue.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            raise UsageError("the issues event names no issue number.", hint="Is GITHUB_EVENT_PATH GitHub's payload?")
        if payload.get("action") != "labeled" or (payload.get("label") or {}).get("name") != label:
            return EventDecision(False, f"issue #{number}: not labelled {label!r} by this event; nothing to do.")
        association = issue.get("author_association")
        if association not in TRUSTED_ASSOCIATIONS:
            return EventDecision(False, f"issue #{number} was opened by someone who is not the owner or a "
                                        f"collaborator ({association or 'unknown'}); nothing is drafted.")
        _write_text(papers_file, env.get("ISSUE_BODY", ""))
        return EventDecision(True, f"issue #{number}: drafting the papers its body links to.", "issue",
                             f"paperdiary/issue-{number}", number)
    if event_name == "workflow_dispatch":
        run_id = env.get("GITHUB_RUN_ID", "")
        _write_text(papers_file, env.get("PAPERS_INPUT", ""))
        branch = f"paperdiary/run-{run_id}" if run_id.isdigit() else "paperdiary/by-hand"
        return EventDecision(True, "run by hand: drafting the papers given.", "dispatch", branch)
    return EventDecision(False, f"a {event_name!r} event: nothing to do.")


def _push(settings: Settings) -> EventDecision:
    from paperdiary.fsutil import resolve_inside
    from paperdiary.runs.backlog import read_backlog

    path = settings.diary / settings.reading_list
    if not resolve_inside(settings.diary, path).is_file():
        return EventDecision(False, f"{settings.reading_list} is not in the diary; nothing to do.")
    waiting = read_backlog([str(path)])
    if not waiting.items and not waiting.problems:
        return EventDecision(False, f"every paper of {settings.reading_list} is drafted; nothing to do.")
    return EventDecision(True, f"drafting what {settings.reading_list} still lists.", "reading-list",
                         READING_LIST_BRANCH)


def _write_text(path: Path, text: str) -> None:
    from paperdiary.fsutil import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)


def write_outputs(path: Path | None, outputs: Mapping[str, str]) -> None:
    """Append ``name=value`` lines to ``$GITHUB_OUTPUT`` (values are PaperDiary's own: one line, no newline)."""
    if path is None:
        return
    lines = "".join(f"{name}={_one_line(value)}\n" for name, value in outputs.items())
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lines)


@dataclass(frozen=True)
class PullRequestText:
    title: str
    body: str


def read_summary(path: Path) -> dict[str, Any]:
    """``catchup --json``'s summary; one that is missing or not JSON is a usage error."""
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read the catch-up summary {path}: {exc}.",
                         hint="Give the file `paperdiary --json catchup` wrote.") from None
    if not isinstance(summary, dict) or ("papers" not in summary and "error" not in summary):
        raise UsageError(f"{path} is not a catch-up summary.", hint="Give the file `paperdiary --json catchup` wrote.")
    return summary


def pull_request_text(settings: Settings, summary: Mapping[str, Any]) -> PullRequestText:
    """The pull request's title and body for a run's summary, with the lessons its entries queued."""
    from paperdiary.diary.queue import read_queue
    from paperdiary.workflows import render_text

    papers = [p for p in summary.get("papers", []) if isinstance(p, dict)]
    drafted = [p for p in papers if p.get("status") == "drafted"]
    entries = {p["entry_path"] for p in drafted if p.get("entry_path")}
    queued = [item for item in read_queue(settings).items if item.source in entries and not item.checked]
    proposals = _proposals(settings) if queued else {}
    lessons = [_queued_lesson(item, proposals) for item in queued]
    drafter = str(summary.get("drafter") or "offline")
    llm = summary.get("llm") or {}
    body = render_text(
        "pull-request.md.j2", md=markdown_text, drafted=drafted,
        skipped=[p for p in papers if p.get("status") == "skipped"],
        failed=[p for p in papers if p.get("status") in ("failed", "left", "waiting")],
        problems=[p for p in summary.get("problems", []) if isinstance(p, dict)],
        error=summary.get("error"), stopped=summary.get("stopped"), lessons=lessons,
        model=drafter.removeprefix("llm:") if drafter.startswith("llm:") else None,
        tokens=int(llm.get("prompt_tokens") or 0) + int(llm.get("completion_tokens") or 0),
        cost=llm.get("cost_usd"), queue=settings.queue_file,
    )
    return PullRequestText(_title(drafted), body)


def _proposals(settings: Settings) -> dict[str, str]:
    """Where `paperdiary review` would put each queued lesson ("add to 'Robotics'"), by the lesson's ID; none
    when the README cannot be read (the pull request still lists the lessons, with the drafter's theme)."""
    from paperdiary.diary.review import Review, describe
    from paperdiary.errors import PaperDiaryError

    try:
        with Review(settings) as review:
            plan = review.plan()
    except PaperDiaryError:
        return {}
    return {p.item.id: describe(p.proposal) for p in plan.items if p.proposal is not None}


def _queued_lesson(item: QueueItem, proposals: Mapping[str, str]) -> dict[str, str]:
    suggested = f"suggested theme {item.theme!r}" if item.theme else ""
    return {"text": item.text, "where": proposals.get(item.id) or suggested, "source": item.source,
            "why": item.why or ""}


def _title(drafted: list[dict[str, Any]]) -> str:
    if not drafted:
        return "PaperDiary: no new entry"
    first = _one_line(str(drafted[0].get("title") or drafted[0].get("paper") or "a paper"))
    title = f"Draft: {first}" if len(drafted) == 1 else f"Draft {len(drafted)} papers: {first}, …"
    return title if len(title) <= _TITLE_LIMIT else title[: _TITLE_LIMIT - 1].rstrip() + "…"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
_LINK_SPECIAL = re.compile(r"([\\\[\]<>])")


def markdown_text(value: object, *, emphasis: bool = False) -> str:
    """Text from a paper or a model as inert markdown on one line: specials escaped (``emphasis``: all but
    the emphasis and code a lesson is written with), so no link, image or HTML; mentions broken."""
    special = _LINK_SPECIAL if emphasis else _MARKDOWN_SPECIAL
    return special.sub(r"\\\1", _one_line(str(value))).replace("@", "@\u200b")


def _one_line(text: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())
