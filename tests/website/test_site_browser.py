"""The built site in headless Chromium (Debian's, driven by playwright): every page loads with no console error
and no request leaving the site; searching an entry's title finds it; the topic map, the plots and the math
render; the hostile entry runs nothing; the dark/light toggle works."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.website.conftest import BuiltSite

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        # CI installs it (.ci/run): there a missing browser is a failure, not a skipped test.
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(
            "Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        yield chromium
        chromium.close()


class Watched:
    """A page whose console errors and requests off the site are recorded."""

    def __init__(self, browser: Any, site: BuiltSite):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"{self.page.url}: {m.text}") if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda exc: self.errors.append(f"{self.page.url}: {exc}"))
        self.page.on("request", lambda r: None if r.url.startswith((site.url, "data:", "blob:", "about:"))
                     else self.outside.append(r.url))

    def close(self) -> None:
        self.page.close()


def site_pages(out: Path) -> list[str]:
    paths = [p.relative_to(out).as_posix() for p in sorted(out.rglob("*.html"))]
    return [quote(p.removesuffix("index.html"), safe="/") for p in paths if p != "404.html"]


@pytest.mark.slow
def test_every_page_loads_with_no_error_and_nothing_from_elsewhere(browser: Any, built_site: BuiltSite) -> None:
    watched = Watched(browser, built_site)
    pages = site_pages(built_site.out)
    assert len(pages) > 40
    for path in pages:
        response = watched.page.goto(built_site.url + path, wait_until="load")
        assert response is not None and response.status == 200, path
    watched.page.goto(built_site.url + "no/such/page/", wait_until="load")  # the 404 page, styled from the site
    assert "404" in watched.page.content()
    watched.close()
    assert [e for e in watched.errors if "404 (Not Found)" not in e or "no/such/page" not in e] == []
    assert watched.outside == []


def test_the_site_of_this_projects_readme_loads_with_no_error_and_nothing_from_elsewhere(
        browser: Any, own_site: BuiltSite) -> None:
    watched = Watched(browser, own_site)
    pages = site_pages(own_site.out)
    assert "readme/" in pages and len(pages) > 3
    for path in pages:
        response = watched.page.goto(own_site.url + path, wait_until="load")
        assert response is not None and response.status == 200, path
    watched.close()
    assert watched.errors == [] and watched.outside == []


def test_searching_an_entry_title_finds_it(browser: Any, built_site: BuiltSite) -> None:
    watched = Watched(browser, built_site)
    page = watched.page
    page.goto(built_site.url, wait_until="networkidle")
    page.keyboard.press("Control+k")  # the search box, as a reader opens it (a web component: locators pierce it)
    page.locator("dialog input").first.wait_for(state="visible", timeout=10_000)
    page.keyboard.type("Prolonged Reinforcement Learning")
    # The results of the words typed so far show while the last ones are typed: the first result is read once the
    # list has settled on the whole title, else a partial query's first result would be read.
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect(page.locator("dialog a").first).to_have_attribute(
        "href", re.compile(r"june-2025/4thjuneprolongedrl/"), timeout=15_000)
    watched.close()
    assert watched.errors == [] and watched.outside == []


def frame_of(page: Any, name: str) -> Any:
    return next(frame for frame in page.frames if frame.url.endswith(name))


def test_the_topic_map_and_the_plots_render(browser: Any, built_site: BuiltSite) -> None:
    watched = Watched(browser, built_site)
    page = watched.page
    page.goto(built_site.url + "topic-map/", wait_until="networkidle")
    chart = frame_of(page, "charts/topic-map.html")
    chart.wait_for_selector(".scatterlayer .point", timeout=15_000)
    assert chart.eval_on_selector_all(".scatterlayer .point", "points => points.length") == built_site.diary.entries
    page.goto(built_site.url + "reading/", wait_until="networkidle")
    plots = frame_of(page, "charts/reading.html")
    plots.wait_for_selector(".main-svg", timeout=15_000)
    assert plots.eval_on_selector_all(".barlayer .point", "bars => bars.length") >= 2
    watched.close()
    assert watched.errors == [] and watched.outside == []


def test_a_click_on_the_map_opens_the_entry_page(browser: Any, built_site: BuiltSite) -> None:
    watched = Watched(browser, built_site)
    page = watched.page
    page.goto(built_site.url + "charts/topic-map.html", wait_until="networkidle")
    page.wait_for_selector(".scatterlayer .point")
    # the first trace of points (the clusters' hulls come before them and carry no links)
    link = page.evaluate("() => document.getElementById('topic-map').data.find(t => t.customdata).customdata[0][0]")
    page.goto(page.url.rsplit("/", 1)[0] + "/" + link, wait_until="load")
    assert page.url.endswith("/index.html") and "Page not found" not in page.content()
    assert page.locator("h1").count() >= 1
    watched.close()


def test_math_renders_and_the_hostile_entry_runs_nothing(browser: Any, built_site: BuiltSite) -> None:
    watched = Watched(browser, built_site)
    page = watched.page
    page.goto(built_site.url + "june-2025/4thjuneprolongedrl/", wait_until="networkidle")
    page.wait_for_selector("mjx-container svg", timeout=15_000)
    assert page.locator("mjx-container").count() >= 2
    page.goto(built_site.url + "july-2025/2ndjulytricks/", wait_until="networkidle")
    for text in ("click", "press"):
        page.get_by_text(text, exact=True).first.click()
    assert page.evaluate("() => window.pwned") is None
    assert page.title() != "owned"
    assert page.evaluate("() => document.querySelectorAll('#__search').length") == 1
    watched.close()
    assert watched.errors == [] and watched.outside == []


def test_the_palette_toggle_switches_dark_and_light(browser: Any, built_site: BuiltSite) -> None:
    watched = Watched(browser, built_site)
    page = watched.page
    page.goto(built_site.url, wait_until="networkidle")
    schemes = set()
    for _ in range(3):
        page.locator("label.md-header__button[for^='__palette']:visible").first.click()
        schemes.add(page.evaluate("() => document.body.getAttribute('data-md-color-scheme')"))
    assert {"default", "slate"} <= schemes
    watched.close()
