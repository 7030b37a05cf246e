"""The diary as a static site (``paperdiary site``): pages for the home, the Full Diary, each entry, theme and
topic, the reading plots and the topic map; offline search, an Atom feed, a sitemap; built by Zensical.

paths (diary paths -> site URLs) · render (markdown as GitHub reads it, sanitised) · targets (links
resolved) · pages (the listings) · feed (Atom) · config (mkdocs.yml, the theme's additions) · build (the
steps) · serve (a local preview).
"""

from paperdiary.site.build import SiteOptions, SiteOutcome, build_site

__all__ = ["SiteOptions", "SiteOutcome", "build_site"]
