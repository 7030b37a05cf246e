"""`paperdiary site`: the diary as a static site (for GitHub Pages), built into site/; --serve previews it;
--workflow writes the GitHub Actions workflow that publishes it on every push."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from paperdiary.cli.context import Command, Invocation

if TYPE_CHECKING:
    from paperdiary.settings import Settings
    from paperdiary.site.build import SiteOutcome

DEFAULT_OUT = "site"
_SHOWN_MISSING = 5


class _StepLines:
    """One line per step on stderr: ``Rendering 120 entries… 1.3 s``."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def step_started(self, step: str, label: str) -> None:
        if self.enabled:
            click.echo(f"{label}…", err=True, nl=False)

    def step_finished(self, step: str, seconds: float) -> None:
        if self.enabled:
            click.echo(f" {seconds:.1f} s", err=True)

    def note(self, text: str) -> None:
        if self.enabled:
            click.echo(f"note: {text}", err=True)


@click.command("site", cls=Command)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Where the site goes (default: {DEFAULT_OUT}/ in the diary, git-ignored).")
@click.option("--base-url", "base_url", default=None, metavar="URL",
              help="The site's address, for its sitemap, feed and links (default: the GitHub Pages address of "
                   "the repository's origin, or the local one with --serve).")
@click.option("--serve", is_flag=True, help="Build, then serve the site on 127.0.0.1 until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port for --serve.")
@click.option("--no-map", is_flag=True, help="Leave out the topic map and its topic pages.")
@click.option("--workflow", is_flag=True,
              help="Write .github/workflows/pages.yml, which builds and deploys the site on every push, and stop.")
@click.option("--force", is_flag=True, help="With --workflow: replace a pages.yml that has other text.")
@click.pass_obj
def site(invocation: Invocation, out: Path | None, base_url: str | None, serve: bool, port: int, no_map: bool,
         workflow: bool, force: bool) -> None:
    """Build the diary's website: home, Full Diary, a page per entry, theme and topic, the plots and the topic
    map, offline search, an Atom feed and a sitemap (needs pip install 'paperdiary[site]')."""
    settings = invocation.settings()
    if workflow:
        _write_workflow(invocation, settings, force)
        return
    from paperdiary.extras import require_extra

    require_extra("site")
    from paperdiary.site import SiteOptions, build_site
    from paperdiary.state.store import Store

    target = out if out is not None else settings.diary / DEFAULT_OUT
    url = _base_url(settings, base_url, serve, port)
    if not settings.state_path.exists():  # a hand-kept diary never ran `init`: keep the state out of git status
        from paperdiary.fsutil import atomic_create_text

        settings.state_path.mkdir()
        atomic_create_text(settings.state_path / ".gitignore", "*\n")
    started = time.perf_counter()
    with Store(settings.db_path) as store, invocation.writing(settings, "site"):
        outcome = build_site(settings, store, SiteOptions(target, url, topic_map=not no_map),
                             _StepLines(not invocation.json))
    seconds = time.perf_counter() - started
    if invocation.json:
        invocation.emit(outcome.as_json() | {"seconds": round(seconds, 3)})
    else:
        _print(outcome, seconds, invocation.verbose)
    if serve:
        _serve(outcome.out, port)


def _base_url(settings: Settings, given: str | None, serve: bool, port: int) -> str:
    from paperdiary.errors import UsageError

    if given:
        if not re.match(r"^https?://[^/\s]+", given):
            raise UsageError(f"--base-url {given!r} is not an http(s) address.",
                             hint="Give the site's address, e.g. https://you.github.io/diary/")
        return given if given.endswith("/") else given + "/"
    if serve:
        return f"http://127.0.0.1:{port}/"
    from paperdiary.site.build import github_pages_url

    return github_pages_url(settings.diary) or "http://127.0.0.1:8000/"


def _print(outcome: SiteOutcome, seconds: float, verbose: bool) -> None:
    mb = outcome.size / 1e6
    click.echo(f"Site: {outcome.pages} pages ({outcome.entries} entries, {outcome.files} files copied), "
               f"{mb:.1f} MB in {outcome.out} ({seconds:.1f} s).")
    extras = [name for name, shown in (("topic map", outcome.topic_map), ("reading plots", outcome.plots)) if shown]
    if extras:
        click.echo(f"With the {' and the '.join(extras)}; feed.xml and sitemap.xml for {outcome.base_url}")
    if outcome.missing:
        shown = outcome.missing if verbose else outcome.missing[:_SHOWN_MISSING]
        click.echo(f"{len(outcome.missing)} link{'s' if len(outcome.missing) != 1 else ''} point nowhere in the diary "
                   "(kept as text):")
        for m in shown:
            click.echo(f"  {m.source}: {m.url} ({m.reason})")
        if len(shown) < len(outcome.missing):
            click.echo(f"  … and {len(outcome.missing) - len(shown)} more (--verbose lists them)")
    if outcome.gitignore:
        click.echo(f".gitignore: added {outcome.gitignore} (the site is built, not committed)")
    click.echo("Preview it: paperdiary site --serve; publish it: paperdiary site --workflow")


def _serve(folder: Path, port: int) -> None:
    from paperdiary.site.serve import site_server

    try:
        server = site_server(folder, port)
    except OSError as exc:
        from paperdiary.errors import UsageError

        raise UsageError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}.",
                         hint="Choose another port with --port.") from None
    click.echo(f"Serving {folder} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops).")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()


def _write_workflow(invocation: Invocation, settings: Settings, force: bool) -> None:
    from paperdiary.git import git_output
    from paperdiary.workflows import WORKFLOWS_DIR, render_workflow, write_workflow

    branch = (git_output(settings.diary, "symbolic-ref", "--short", "HEAD") or "").strip() or "main"
    text = render_workflow("pages", branch=branch, package="paperdiary[site]", out="_site")
    with invocation.writing(settings, "site"):
        written = write_workflow(settings.diary, "pages", text, force=force)
    relpath = f"{WORKFLOWS_DIR}/pages.yml"
    if invocation.json:
        invocation.emit({"workflow": relpath, "changed": written.changed, "branch": branch})
        return
    click.echo(f"{relpath}: {'written' if written.changed else 'already up to date'} (deploys on every push to "
               f"{branch}).")
    click.echo("Next: commit and push it (git add .github && git commit -m 'Publish the diary' && git push), and once, "
               "on GitHub: Settings -> Pages -> Build and deployment -> Source: GitHub Actions.")
