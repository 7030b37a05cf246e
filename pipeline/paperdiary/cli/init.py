"""`paperdiary init`: create an empty diary."""

from __future__ import annotations

from pathlib import Path

import click

from paperdiary.cli.context import Command, Invocation


@click.command(cls=Command)
@click.argument("directory", type=click.Path(file_okay=False), required=False)
@click.pass_obj
def init(invocation: Invocation, directory: str | None) -> None:
    """Create a new, empty diary in DIRECTORY (default: --diary, else the current folder); existing files are kept."""
    from paperdiary.diary.home import init_diary

    root = Path(directory or invocation.diary or ".")
    created, kept = init_diary(root)
    if invocation.json:
        invocation.emit({"diary": str(root), "created": [str(p) for p in created], "kept": [str(p) for p in kept]})
        return
    for path in created:
        click.echo(f"created {path}")
    for path in kept:
        click.echo(f"kept    {path} (already there, left untouched)")
