"""The optional extras: which packages each command needs, whether they are installed, and the one way of
saying what to install (``MissingExtraError``: "`paperdiary map` needs scikit-learn: pip install
'paperdiary[map]'.", exit 2).

Checked with ``importlib.util.find_spec``, which imports nothing: a command says what is missing before it
loads any heavy library, and ``paperdiary --help`` loads none of them.
"""

from __future__ import annotations

import importlib.util

from paperdiary.errors import MissingExtraError

MAP_EXTRA = "map"
SITE_EXTRA = "site"
# import name -> distribution name, as pip knows it
_DISTRIBUTIONS = {"numpy": "numpy", "sklearn": "scikit-learn", "plotly": "plotly", "matplotlib": "matplotlib",
                  "wordllama": "wordllama", "zensical": "zensical", "nh3": "nh3", "mdit_py_plugins": "mdit-py-plugins",
                  "linkify_it": "linkify-it-py", "mathjax": "django-static-mathjax", "yaml": "PyYAML"}
# command -> (the extra, the modules it imports from it)
NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stats": (MAP_EXTRA, ("matplotlib", "plotly", "numpy")),
    "map": (MAP_EXTRA, ("numpy", "sklearn", "plotly", "matplotlib", "wordllama")),
    "review": (MAP_EXTRA, ("numpy", "wordllama")),  # placement by meaning; without it, by words alone
    # the site's generator, sanitiser, markdown plugins and MathJax; its plots and map come with the map extra
    "site": (SITE_EXTRA, ("zensical", "nh3", "mdit_py_plugins", "linkify_it", "mathjax", "yaml")),
}


def missing_packages(command: str) -> list[str]:
    """The distributions ``command`` needs that cannot be imported here ([] when all are installed)."""
    missing = []
    for module in NEEDS[command][1]:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken install
            found = False
        if not found:
            missing.append(_DISTRIBUTIONS[module])
    return missing


def require_extra(command: str) -> None:
    """Raise :class:`MissingExtraError` naming what ``command`` misses and what to install, unless it misses nothing."""
    missing = missing_packages(command)
    if missing:
        packages = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
        raise MissingExtraError(command=command, extra=NEEDS[command][0], packages=packages)


def install_hint(command: str) -> str:
    """What to run so that ``command`` has its extra: ``pip install 'paperdiary[map]'``."""
    return f"pip install 'paperdiary[{NEEDS[command][0]}]'"
