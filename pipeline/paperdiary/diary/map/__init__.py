"""The topic map of the diary: entries embedded, projected to 2-D, clustered and named, drawn, and fed back.

Modules, in the order a map is made:

* ``embed``: an entry's title, description and key points -> a unit vector (WordLlama from its wheel, or an
  OpenAI-compatible ``/v1/embeddings``), cached in the store by text hash;
* ``project``: PCA to a few dozen dimensions (where clusters are found), then t-SNE to 2-D (the picture);
* ``cluster``: K-Means with k chosen by silhouette, a fixed k, or HDBSCAN; ids kept across runs by member overlap;
* ``name``: each cluster's most distinctive words (c-TF-IDF), or the LLM's name from its titles (``--llm``);
* ``build``: all of the above for the catalog's entries -> a :class:`~paperdiary.diary.map.build.TopicMap`;
* ``render``: the interactive HTML page, the PNG, the README block;
* ``suggest``: clusters no README theme covers (new-theme suggestions for review), themes split across clusters;
* ``related``: the nearest earlier entries of a new draft (``draft`` links them).

The heavy libraries are the ``map`` extra: nothing here imports them at module level except the modules
that only run after :func:`require_map_extra` (and the CLI imports those inside its command).
"""

from __future__ import annotations

import importlib.util

from paperdiary.errors import MissingExtraError

MAP_EXTRA_INSTALL = "pip install 'paperdiary[map]'"
# import name -> distribution name, as pip knows it
_MAP_PACKAGES = {"numpy": "numpy", "sklearn": "scikit-learn", "plotly": "plotly", "matplotlib": "matplotlib",
                 "wordllama": "wordllama"}


def missing_map_packages() -> list[str]:
    """The distributions of the ``map`` extra that cannot be imported here ([] when all are installed)."""
    missing = []
    for module, distribution in _MAP_PACKAGES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken install
            found = False
        if not found:
            missing.append(distribution)
    return missing


def require_map_extra(command: str = "paperdiary map") -> None:
    """Raise MissingExtraError (exit 2) naming what to install, unless the ``map`` extra is installed."""
    missing = missing_map_packages()
    if missing:
        raise MissingExtraError(
            "{command} needs the optional map dependencies ({packages} missing): " + MAP_EXTRA_INSTALL + ".",
            extra="map", packages=", ".join(missing), command=command,
        )
