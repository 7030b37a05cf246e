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


# A file this small is a placeholder (GitHub's web editor makes one to create a folder): its commit is not
# the birth of the note later written over it, nor is a "rename" of it the move of a note.
PLACEHOLDER_MAX_BYTES = 2


@dataclass(frozen=True)
class _Change:
    day: date
    status: str  # A, M or R
    blob: str  # the new content
    path: str
    old_path: str = ""
    old_blob: str = ""


def _changes(out: str) -> list[_Change]:
    """``git log --raw -z`` output, in history order."""
    changes: list[_Change] = []
    for chunk in out.split(_COMMIT)[1:]:
        stamp, _, rest = chunk.partition("\0")
        try:
            day = datetime.fromisoformat(stamp.strip()).date()  # the author's own calendar day
        except ValueError:
            continue
        tokens = rest.lstrip("\n").split("\0")
        k = 0
        while k + 1 < len(tokens) and tokens[k].startswith(":"):
            fields = tokens[k].split()  # :old-mode new-mode old-blob new-blob STATUS
            if len(fields) < 5:
                break
            status = fields[4][:1]
            if status == "R" and k + 2 < len(tokens):
                changes.append(_Change(day, "R", fields[3], tokens[k + 2], tokens[k + 1], fields[2]))
                k += 3
            else:
                changes.append(_Change(day, status, fields[3], tokens[k + 1]))
                k += 2
    return changes


def _blob_sizes(folder: Path, blobs: set[str]) -> dict[str, int]:
    out = git_output(folder, "cat-file", "--batch-check=%(objectname) %(objectsize)", stdin="\n".join(sorted(blobs)))
    sizes = {}
    for line in (out or "").splitlines() if blobs else ():
        name, _, size = line.partition(" ")
        if size.isdigit():
            sizes[name] = int(size)
    return sizes


def first_commit_dates(folder: Path, head: GitHead) -> dict[str, date]:
    """Markdown path below ``folder`` (relative to it) -> author date of the commit that first added it.

    Renames are followed (git's own detection, ``-M``: a file moved with most of its text), copies are not.
    A placeholder (at most PLACEHOLDER_MAX_BYTES) is no note: the note is born with the commit that first
    gives the path real content, and a placeholder moved elsewhere carries no date with it.
    """
    out = git_output(folder, "log", "--reverse", "--no-color", "-M", "--diff-filter=AMR", "--raw", "--no-abbrev", "-z",
                  f"--format={_COMMIT}%aI", head.commit, "--", ":(icase)*.md", ":(icase)*.markdown")
    if out is None:
        return {}
    changes = _changes(out)
    sizes = _blob_sizes(folder, {c.blob for c in changes if c.status in "AR"} | {c.old_blob for c in changes if c.old_blob})

    def placeholder(blob: str) -> bool:
        return sizes.get(blob, PLACEHOLDER_MAX_BYTES + 1) <= PLACEHOLDER_MAX_BYTES

    dates: dict[str, date] = {}
    pending: set[str] = set()  # paths that hold only a placeholder so far
    pending_changes: list[_Change] = []
    for change in changes:
        if change.status == "R" and not placeholder(change.old_blob):
            born = dates.pop(change.old_path, change.day)
            if change.old_path in pending:
                pending.discard(change.old_path)
                pending.add(change.path)
            dates[change.path] = born
        elif change.status in "AR" and change.path not in dates:
            dates[change.path] = change.day
            if placeholder(change.blob):
                pending.add(change.path)
        elif change.status == "M" and change.path in pending:
            pending_changes.append(change)
    if pending_changes:
        sizes |= _blob_sizes(folder, {c.blob for c in pending_changes})
        for change in pending_changes:
            if change.path in pending and not placeholder(change.blob):
                dates[change.path] = change.day
                pending.discard(change.path)
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
