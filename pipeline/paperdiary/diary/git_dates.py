"""When each markdown file of a git repository was first committed, renames followed, from one ``git log``.

``git log --diff-filter=A --follow -- PATH`` answers for one file; run per
entry it costs a process each. One ``git log --reverse`` of every addition and
rename below the diary replays the history instead: an addition dates a path,
a rename carries the date to the new path. Moving entries from month folders
into topic folders therefore keeps the day they were first committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from paperdiary.git import git_output

_COMMIT = "\x01"


@dataclass(frozen=True)
class GitHead:
    commit: str  # HEAD's sha: first-commit dates cannot change while it stays
    prefix: str  # the folder's path inside the repository, "" or ending in "/"


def git_head(folder: Path) -> GitHead | None:
    """HEAD of the repository holding ``folder``; None outside a repository or before its first commit."""
    out = git_output(folder, "rev-parse", "--show-prefix", "HEAD")
    lines = out.splitlines() if out is not None else []
    if len(lines) != 2:
        return None
    return GitHead(commit=lines[1].strip(), prefix=lines[0].strip())


def first_commit_dates(folder: Path, head: GitHead) -> dict[str, date]:
    """Markdown path below ``folder`` (relative to it) -> author date of the commit that first added it."""
    out = git_output(folder, "log", "--reverse", "--no-color", "-M", "--diff-filter=AR", "--name-status", "-z",
               f"--format={_COMMIT}%aI", head.commit, "--", ":(icase)*.md", ":(icase)*.markdown")
    if out is None:
        return {}
    dates: dict[str, date] = {}
    for chunk in out.split(_COMMIT)[1:]:
        stamp, _, changes = chunk.partition("\0")
        try:
            day = datetime.fromisoformat(stamp.strip()).date()  # the author's own calendar day
        except ValueError:
            continue
        tokens = changes.lstrip("\n").split("\0")
        k = 0
        while k + 1 < len(tokens) and tokens[k]:
            if tokens[k].startswith("R") and k + 2 < len(tokens):  # R100 old new
                dates[tokens[k + 2]] = dates.pop(tokens[k + 1], day)
                k += 3
            else:  # A path
                dates.setdefault(tokens[k + 1], day)
                k += 2
    prefix = head.prefix
    return {path[len(prefix):]: day for path, day in dates.items() if path.startswith(prefix)}


def staged_renames(folder: Path, head: GitHead) -> dict[str, str]:
    """Markdown files renamed in the index since HEAD (``git mv``, not committed yet): new path -> old,
    relative to ``folder``. A moved entry keeps the date of its first commit before the move is committed."""
    out = git_output(folder, "diff", "--cached", "-M", "--name-status", "-z", "--no-color", head.commit, "--",
               ":(icase)*.md", ":(icase)*.markdown")
    if not out:
        return {}
    tokens = out.split("\0")
    renames: dict[str, str] = {}
    k = 0
    while k < len(tokens) and tokens[k]:
        if tokens[k].startswith(("R", "C")) and k + 2 < len(tokens):
            renames[tokens[k + 2]] = tokens[k + 1]
            k += 3
        else:
            k += 2
    prefix = head.prefix
    return {new[len(prefix):]: old[len(prefix):] for new, old in renames.items()
            if new.startswith(prefix) and old.startswith(prefix)}
