"""`paperdiary map`: the diary's topic map drawn, its clusters listed, new themes queued for review."""

from __future__ import annotations

import click

from paperdiary.cli.context import Command, Invocation, stderr_console, stdout_console


@click.command("map", cls=Command)
@click.option("--llm", "use_llm", is_flag=True, help="Name the clusters with the configured LLM (cached).")
@click.option("--readme", is_flag=True,
              help="Show the map in README.md: its image and link between <!-- paperdiary:map --> markers.")
@click.option("--no-suggest", is_flag=True, help="Do not queue new-theme suggestions in the review queue.")
@click.pass_obj
def map_(invocation: Invocation, use_llm: bool, readme: bool, no_suggest: bool) -> None:
    """Draw the topic map (topic-map.html and .png in assets_dir) and list its clusters.

    Clusters that no README theme covers are queued as new themes for `paperdiary review`.
    Needs the map extra: pip install 'paperdiary[map]'.
    """
    from paperdiary.extras import require_extra

    require_extra("map")
    settings = invocation.settings()

    from paperdiary.cli.map_ui import ProgressReporter, print_outcome
    from paperdiary.diary.map.make import make_map
    from paperdiary.state.store import Store

    with Store(settings.db_path) as store:
        namer = None
        if use_llm:
            from paperdiary.diary.map.name import LLMClusterNamer
            from paperdiary.errors import UsageError
            from paperdiary.llm.client import LLMClient

            if not settings.llm_configured:
                raise UsageError("--llm needs a model.", hint="Set PAPERDIARY_MODEL (and OPENAI_BASE_URL), or drop --llm.")
            namer = LLMClusterNamer(settings, LLMClient(settings, store))
        with invocation.writing(settings, "map"), \
                ProgressReporter(stderr_console(), enabled=not invocation.json) as reporter:
            outcome = make_map(settings, store, namer=namer, readme=readme, suggest=not no_suggest, reporter=reporter)
    if invocation.json:
        invocation.emit(outcome.as_json(settings))
        return
    print_outcome(stdout_console(), outcome, settings.diary, settings.queue_file, verbose=invocation.verbose)
