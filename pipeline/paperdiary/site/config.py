"""The generator's configuration (``mkdocs.yml``, which Zensical reads) and the files the site serves itself.

All of it is written into the state folder's ``site/`` (never among the user's files):
``mkdocs.yml``, ``overrides/`` (the theme's additions: the feed link, MathJax on pages
with math), and under ``docs/pd/`` our stylesheet, MathJax's configuration and MathJax
itself (from the ``django-static-mathjax`` wheel: one file, SVG output, no fonts to
fetch). The theme loads no web font (``theme.font: false``) and has no repository
widget (it would call GitHub's API): a page of the site loads nothing from elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

CONFIG_NAME = "mkdocs.yml"
DOCS_DIR = "docs"
BUILD_DIR = "build"
OVERRIDES_DIR = "overrides"
STATIC_DIR = "pd"  # our files on the site: pd/paperdiary.css, pd/mathjax-config.js, pd/mathjax/…
MATHJAX_FILE = "tex-svg-full.js"
_STATIC_FILES = ("paperdiary.css", "mathjax-config.js")


@dataclass(frozen=True)
class NavItem:
    title: str
    docs_file: str  # "index.md", "diary.md"


def config_document(site_name: str, base_url: str, description: str, nav: list[NavItem]) -> dict[str, Any]:
    """``mkdocs.yml`` as data (dumped as YAML by the caller)."""
    return {
        "site_name": site_name,
        "site_url": base_url,
        "site_description": description or None,
        "docs_dir": DOCS_DIR,
        "site_dir": BUILD_DIR,
        "use_directory_urls": True,
        "theme": {
            "name": "material",
            "custom_dir": OVERRIDES_DIR,
            "font": False,  # no Google Fonts: the system's fonts, nothing fetched
            "language": "en",
            "features": ["search.highlight", "navigation.top", "navigation.tracking", "toc.follow"],
            "palette": [
                {"media": "(prefers-color-scheme)", "toggle": {"icon": "material/brightness-auto",
                                                               "name": "Switch to light mode"}},
                {"media": "(prefers-color-scheme: light)", "scheme": "default", "primary": "indigo",
                 "accent": "indigo", "toggle": {"icon": "material/brightness-7", "name": "Switch to dark mode"}},
                {"media": "(prefers-color-scheme: dark)", "scheme": "slate", "primary": "indigo",
                 "accent": "indigo", "toggle": {"icon": "material/brightness-4", "name": "Switch to system preference"}},
            ],
        },
        "extra_css": [f"{STATIC_DIR}/paperdiary.css"],
        # Our pages are HTML already (render.py): Python-Markdown only passes them through.
        "markdown_extensions": ["toc"],
        "plugins": ["search"],
        "validation": False,  # the build checks its own links (targets.py): none points nowhere
        "nav": [{item.title: item.docs_file} for item in nav],
        "not_in_nav": "*.md\n",  # entries, themes, topics...: reached from the pages in the nav, not listed in it
    }


def static_files() -> dict[str, bytes]:
    """Our stylesheet and MathJax's configuration, by their name under ``pd/``."""
    folder = resources.files("paperdiary.site").joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in _STATIC_FILES}


def overrides() -> dict[str, bytes]:
    folder = resources.files("paperdiary.site").joinpath("static", OVERRIDES_DIR)
    return {"main.html": folder.joinpath("main.html").read_bytes()}


def mathjax_files() -> dict[str, bytes]:
    """MathJax's single-file build (TeX in, SVG out) and its licence, from the ``mathjax`` package."""
    folder = resources.files("mathjax").joinpath("static", "mathjax")
    return {MATHJAX_FILE: folder.joinpath("es5", MATHJAX_FILE).read_bytes(),
            "LICENSE": folder.joinpath("LICENSE").read_bytes()}
