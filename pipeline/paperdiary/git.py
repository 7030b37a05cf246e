"""The one way PaperDiary runs git: every call goes through :func:`git`, with the diary's own config disarmed.

A diary's ``.git/config`` comes with the diary (a tarball, a copied folder), so it is
as untrusted as the rest of it: ``core.fsmonitor`` names a command git runs whenever
it looks at the work tree (``ls-files``, ``diff --cached``, ``mv``), hooks run on
commits and ``log.showSignature`` runs ``gpg.program``. Each call therefore sets
those off on its command line, which beats any config file, and never starts a pager.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 60.0  # a huge history is better undated than a hung command

# Settings given with -c outrank every config file: the repository's, the user's and the system's.
SAFE_CONFIG = ("core.fsmonitor=false", "core.hooksPath=/dev/null", "log.showSignature=false", "core.pager=cat")
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_PAGER": "cat", "PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}


@dataclass(frozen=True)
class GitRun:
    """What one git command gave: its exit code and output (decoded with surrogateescape: paths are bytes)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def command(folder: Path, *args: str) -> list[str]:
    """The argument vector of ``git ARGS`` run in ``folder``, safe options first."""
    safe = [part for setting in SAFE_CONFIG for part in ("-c", setting)]
    return ["git", "--no-pager", *safe, "-C", str(folder), *args]


def git(folder: Path, *args: str, timeout: float = TIMEOUT_S, stdin: str | None = None) -> GitRun | None:
    """Run ``git ARGS`` in ``folder`` (``stdin`` fed to it, else none); None when git is missing or hangs."""
    feed: dict[str, object] = {"input": stdin.encode()} if stdin is not None else {"stdin": subprocess.DEVNULL}
    try:
        done = subprocess.run(command(folder, *args), capture_output=True, timeout=timeout, check=False,
                              env=os.environ | _ENV, **feed)  # type: ignore[call-overload]
    except (OSError, subprocess.SubprocessError):
        return None
    return GitRun(done.returncode, done.stdout.decode("utf-8", "surrogateescape"),
                  done.stderr.decode("utf-8", "surrogateescape"))


def git_output(folder: Path, *args: str, stdin: str | None = None) -> str | None:
    """``git ARGS``'s output; None when git fails, is not installed or hangs."""
    run = git(folder, *args, stdin=stdin)
    return run.stdout if run is not None and run.ok else None
