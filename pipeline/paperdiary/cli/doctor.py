"""`paperdiary doctor`: a few lines that say what works and, for what does not, what to do."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.markup import escape

from paperdiary.errors import PaperDiaryError
from paperdiary.models import PaperRef
from paperdiary.diary.readme import readme_themes
from paperdiary.settings import Settings
from paperdiary.state.store import Store

_PROBE_ID = "1706.03762"  # any long-lived paper will do


class _Report:
    def __init__(self, console: Console):
        self.console = console
        self.ok = True

    def line(self, good: bool | None, what: str, detail: str) -> None:
        """good: True ✓, False ✗ (and the run fails), None — (not applicable)."""
        mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[dim]–[/]"}[good]
        self.ok &= good is not False
        self.console.print(f"{mark} {what}: {escape(detail)}")

    def check(self, what: str, probe: Callable[[], str]) -> bool:
        try:
            self.line(True, what, probe())
            return True
        except PaperDiaryError as exc:
            self.line(False, what, str(exc))
        except Exception as exc:  # doctor reports, it never crashes
            self.line(False, what, f"{type(exc).__name__}: {exc}")
        return False


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def run_checks(settings: Settings, console: Console) -> bool:
    report = _Report(console)

    readme = settings.diary / "README.md"
    if readme.is_file():
        themes = readme_themes(readme, settings.lessons_heading)
        if themes:
            report.line(True, "diary", f"{settings.diary} (README with {len(themes)} themes)")
        else:
            report.line(False, "diary", f"{readme} has no lessons section with ### themes: add one, "
                                        "or set lessons_heading in paperdiary.toml")
    else:
        report.line(False, "diary", f"no README.md in {settings.diary}: run `paperdiary init` or pass --diary")

    def arxiv_probe() -> str:
        from paperdiary.stages.fetch import ArxivFetcher

        quick = dataclasses.replace(settings, retry_max_time=min(settings.retry_max_time, 10))
        with ArxivFetcher(quick) as fetcher:
            found = fetcher.fetch_metadata([PaperRef(raw=_PROBE_ID, arxiv_id=_PROBE_ID)])
        return f"{settings.arxiv_api.replace('?{}', '')} answered ({len(found)} result)"

    report.check("arXiv API", arxiv_probe)

    if not settings.llm_configured:
        report.line(None, "LLM", "none configured: drafts are extractive (set PAPERDIARY_MODEL and "
                                 "OPENAI_BASE_URL to use a model)")
    else:
        from paperdiary.llm.client import LLMClient

        with Store(settings.db_path) as store:
            client = LLMClient(settings, store)
            models: list[str] = []

            def endpoint_probe() -> str:
                models.extend(client.list_models())
                return f"{client.endpoint} answered, {len(models)} models"

            if report.check("LLM endpoint", endpoint_probe):
                if settings.model in models:
                    report.line(True, "model", f"{settings.model} is listed")
                else:
                    report.line(False, "model", f"{settings.model} is not among the endpoint's models "
                                                f"({', '.join(models[:8]) or 'none'}): fix PAPERDIARY_MODEL")
                report.check("structured output", lambda: f"{client.probe_mode()} works for {settings.model}")

    with Store(settings.db_path) as store:
        cached = store.db.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0]
    size = _dir_size(settings.state_path) / 1e6
    report.line(True, "cache", f"{settings.state_path} {size:.1f} MB, {cached} cached LLM answers")
    return report.ok
