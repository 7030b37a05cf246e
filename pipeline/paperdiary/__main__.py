"""``python -m paperdiary``: the ``paperdiary`` command."""

from paperdiary.cli.main import main

main()
