"""`paperdiary doctor`: a few lines that say what works and, for what does not, what to do."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from paperdiary.cli.context import Command, Invocation, stdout_console
from paperdiary.text import plural

if TYPE_CHECKING:
    from rich.console import Console

    from paperdiary.settings import Settings
    from paperdiary.state.store import Store

_PROBE_ID = "1706.03762"  # any long-lived paper will do


@click.command(cls=Command)
@click.option("--model", help="Check this model instead of the configured one.")
@click.pass_obj
def doctor(invocation: Invocation, model: str | None) -> None:
    """Check the diary, the arXiv API, the LLM endpoint and model, and the cache."""
    settings = invocation.settings(need_diary=False, model=model)
    if invocation.json:
        checks = run_checks(settings)
    else:
        console = stdout_console()
        checks = run_checks(settings, on_check=lambda check: print_check(console, check))  # as they finish
    ok = all(check.ok is not False for check in checks)
    if invocation.json:
        invocation.emit({"ok": ok, "checks": [dataclasses.asdict(check) for check in checks]})
    if not ok:
        raise click.exceptions.Exit(1)


@dataclass(frozen=True)
class Check:
    name: str  # "diary", "layout", "arXiv API", "LLM endpoint", "model", "structured output", "context window", "cache"
    ok: bool | None  # None: not applicable (no LLM configured)
    detail: str  # what was found, or what to do


class _Checks:
    def __init__(self, on_check: Callable[[Check], None]):
        self.done: list[Check] = []
        self.on_check = on_check

    def line(self, ok: bool | None, name: str, detail: str) -> None:
        check = Check(name, ok, detail)
        self.done.append(check)
        self.on_check(check)

    def probe(self, name: str, probe: Callable[[], str]) -> bool:
        try:
            self.line(True, name, probe())
            return True
        except Exception as exc:  # doctor reports, it never crashes
            from paperdiary.errors import PaperDiaryError

            self.line(False, name, str(exc) if isinstance(exc, PaperDiaryError) else f"{type(exc).__name__}: {exc}")
        return False


def _dir_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) \
        if path.exists() else 0


# Doctor answers within seconds: a 10 s budget per probe, and a back-off short enough that the waits
# between all RETRY_ATTEMPTS tries fit in it (0.25 + 0.5 + 1 + 2 + 4 s at most), so that a failing
# probe counts its tries as `draft` does.
_BUDGET_S = 10.0
_BACKOFF_S = 0.25


def run_checks(settings: Settings, on_check: Callable[[Check], None] = lambda check: None) -> list[Check]:
    """Every check, in order; ``on_check`` hears of each one as it finishes (the network ones take time).

    A folder that is not a diary is reported, never created: nothing is written there.
    """
    from paperdiary.models import PaperRef
    from paperdiary.state.store import open_for_reading

    checks = _Checks(on_check)
    is_diary = _check_diary(settings, checks)
    quick = dataclasses.replace(settings, retry_max_time=min(settings.retry_max_time, _BUDGET_S))

    def arxiv_probe() -> str:
        from paperdiary.stages.fetch import ArxivFetcher

        with ArxivFetcher(quick, backoff=_BACKOFF_S) as fetcher:
            found = fetcher.fetch_metadata([PaperRef(raw=_PROBE_ID, arxiv_id=_PROBE_ID)])
        return f"{settings.arxiv_api.replace('?{}', '')} answered ({plural(len(found), 'result')})"

    checks.probe("arXiv API", arxiv_probe)

    if not settings.llm_configured:
        checks.line(None, "LLM", "none configured: drafts are extractive (set PAPERDIARY_MODEL and "
                                 "OPENAI_BASE_URL to use a model)")
    else:
        # The probes' records (structured-output mode, ledger) go to the diary's store when it can be written,
        # else (outside a diary, a read-only state folder) to a throwaway one.
        with _probe_store(settings, is_diary) as store:
            _check_llm(quick, store, checks)

    if is_diary:
        def cache_probe() -> str:
            with open_for_reading(settings.db_path) as store:
                cached = store.db.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0]
            size = _dir_size(settings.state_path) / 1e6
            return f"{settings.state_path} {size:.1f} MB, {plural(cached, 'cached LLM answer')}"

        checks.probe("cache", cache_probe)
    else:
        checks.line(None, "cache", "none: not a diary")
    return checks.done


def _probe_store(settings: Settings, is_diary: bool) -> Store:
    from paperdiary.errors import PaperDiaryError
    from paperdiary.state.store import Store, open_for_reading

    if is_diary:
        try:
            store = open_for_reading(settings.db_path)
        except PaperDiaryError:  # a store doctor cannot open: its own line says why
            return Store(Path(":memory:"))
        if not store.read_only:
            return store
        store.close()
    return Store(Path(":memory:"))


def _check_diary(settings: Settings, checks: _Checks) -> bool:
    """The diary line; whether the folder is a diary at all."""
    from paperdiary.diary.home import require_diary
    from paperdiary.diary.readme import README_NAME, readme_themes
    from paperdiary.errors import DiaryError

    try:
        require_diary(settings)
    except DiaryError as exc:
        checks.line(False, "diary", str(exc))
        return False
    readme = settings.diary / README_NAME
    themes = readme_themes(readme, settings.lessons_heading) if readme.is_file() else []
    if themes:
        checks.line(True, "diary", f"{settings.diary} (README with {plural(len(themes), 'theme')})")
    elif readme.is_file():
        checks.line(False, "diary", f"{readme} has no lessons section with ### themes: add one, "
                                    "or set lessons_heading in paperdiary.toml")
    else:
        checks.line(False, "diary", f"no {README_NAME} in {settings.diary}: `paperdiary init {settings.diary}` "
                                    "adds one (and keeps your files)")
    checks.probe("layout", lambda: _layout(settings))
    return True


def _layout(settings: Settings) -> str:
    """Where `draft` puts a new entry: the entry_path setting, else the shape the diary's notes show."""
    from paperdiary.diary.catalog import Catalog
    from paperdiary.diary.shape import diary_shape

    return diary_shape(settings, Catalog(settings).entries()).describe()


def _check_llm(settings: Settings, store: Store, checks: _Checks) -> None:
    from paperdiary.errors import PaperDiaryError
    from paperdiary.llm.client import LLMClient
    from paperdiary.retry import RetryPolicy

    try:
        client = LLMClient(settings, store, retry=RetryPolicy.for_settings(settings, backoff=_BACKOFF_S))
    except PaperDiaryError as exc:  # no endpoint to ask (a model set without a key or base URL)
        checks.line(False, "LLM endpoint", str(exc))
        return
    models: list[str] = []

    def endpoint_probe() -> str:
        models.extend(client.list_models())
        return f"{client.endpoint} answered, {plural(len(models), 'model')}"

    if checks.probe("LLM endpoint", endpoint_probe):
        if settings.model in models:
            checks.line(True, "model", f"{settings.model} is listed")
        else:
            checks.line(False, "model", f"{settings.model} is not among the endpoint's models "
                                        f"({', '.join(models[:8]) or 'none'}): fix PAPERDIARY_MODEL")
        checks.probe("structured output", lambda: f"{client.probe_mode()} works for {settings.model}")
        # Asked afresh: a server restarted with another window must not be sized by the old one.
        checks.probe("context window", lambda: client.context_window(refresh=True).describe())


def print_check(console: Console, check: Check) -> None:
    from rich.markup import escape

    mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[dim]–[/]"}[check.ok]
    console.print(f"{mark} {check.name}: {escape(check.detail)}")
