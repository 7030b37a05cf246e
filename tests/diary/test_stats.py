"""`paperdiary stats`: the figures, the two plots (a valid PNG, a page that loads nothing from the network),
and the README block that writing twice leaves as writing once."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from paperdiary.diary.catalog import CatalogEntry, DateSource, DescriptionSource
from paperdiary.diary.stats import STATS_BLOCK, reading_stats
from tests.conftest import clean_env, run_cli
from tests.diary.real_diary import make_diary


def entry(relpath: str, day: date, *, themes: tuple[str, ...] = (), source: DateSource = DateSource.WRITTEN,
          title: str = "") -> CatalogEntry:
    return CatalogEntry(relpath=relpath, title=title or relpath, date_read=day, date_source=source, date_text="",
                        arxiv_id=None, links=(), folder=relpath.rpartition("/")[0], description="",
                        description_source=DescriptionSource.NONE, themes=themes, lessons=(), drafted=False,
                        sha256="")


def test_weeks_months_running_total_streaks_and_topics() -> None:
    entries = [
        entry("June 2025/a.md", date(2025, 6, 2), themes=("Robotics", "RL")),
        entry("June 2025/b.md", date(2025, 6, 3)),  # a month folder: no topic
        entry("Robotics/c.md", date(2025, 6, 3)),
        entry("Robotics/d.md", date(2025, 6, 4)),
        entry("RL/e.md", date(2025, 6, 20), themes=("RL",)),
        entry("RL/f.md", date(2025, 8, 1)),
        entry("g.md", date(2025, 8, 2)),  # at the root: no topic
        entry("Misc/undated.md", date(2025, 8, 3), source=DateSource.MTIME),  # not counted
    ]
    found = reading_stats(entries, today=date(2025, 8, 3))
    assert (found.total, found.undated, found.first, found.last) == (7, 1, date(2025, 6, 2), date(2025, 8, 2))
    assert found.per_month == (("2025-06", 5), ("2025-07", 0), ("2025-08", 2))
    assert found.per_week[0] == ("2025-W23", 4) and ("2025-W30", 0) in found.per_week
    assert found.per_week[-1] == ("2025-W31", 2) and len(found.per_week) == 9  # every week, zeros too
    assert found.running_total() == [(date(2025, 6, 2), 1), (date(2025, 6, 3), 3), (date(2025, 6, 4), 4),
                                      (date(2025, 6, 20), 5), (date(2025, 8, 1), 6), (date(2025, 8, 2), 7)]
    assert (found.longest_streak.days, found.longest_streak.start) == (3, date(2025, 6, 2))
    assert found.current_streak.days == 2  # 1st and 2nd of August; the 3rd (today) may still come
    assert reading_stats(entries, today=date(2025, 8, 4)).current_streak.days == 0
    assert found.topics == (("Robotics", 3), ("RL", 2))  # the theme citing the entry most, else its topic folder
    assert reading_stats([]).total == 0


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's signature and IHDR chunk (raises on anything else)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class Sources(HTMLParser):
    """Every src and href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(tag, value or "") for name, value in attrs if name in ("src", "href")]


def rendered_dom(page: Path) -> str:
    """The page's DOM after headless Chromium ran it with every host unresolvable (so: offline)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("no chromium installed: the page is checked by parsing only")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_stats_writes_a_png_and_an_offline_page_and_the_readme_block_once(tmp_path: Path) -> None:
    README_START, README_END = STATS_BLOCK.start, STATS_BLOCK.end
    make_diary(tmp_path)
    readme_before = (tmp_path / "README.md").read_text(encoding="utf-8")
    result = run_cli("stats", "--readme", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["total"] == 13 and report["longest_streak"]["days"] == 4
    assert report["per_month"] == [{"month": "2025-05", "papers": 1}, {"month": "2025-06", "papers": 12}]
    assert report["files"]["written"] == ["assets/reading.png", "assets/plotly.min.js", "assets/reading.html"]
    assert report["readme_written"]

    assert png_size((tmp_path / "assets/reading.png").read_bytes()) == (900, 600)
    page = tmp_path / "assets/reading.html"
    parser = Sources()
    parser.feed(page.read_text(encoding="utf-8"))
    assert ("script", "plotly.min.js") in parser.found
    for _, target in parser.found:
        assert "//" not in target and not target.startswith("/"), target  # relative paths only
        assert (page.parent / target).is_file(), target
    assert "Kinetix" in page.read_text(encoding="utf-8")  # the titles of each day, for hover

    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(readme_before)  # what was there is untouched; the block follows it
    block = readme[len(readme_before):]
    assert block.startswith("\n" + README_START) and block.endswith(README_END + "\n")
    assert "![Papers read over time](assets/reading.png)" in block and "(assets/reading.html)" in block

    again = run_cli("stats", "--readme", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == readme  # twice is once
    assert json.loads(again.stdout)["files"]["written"] == [] and not json.loads(again.stdout)["readme_written"]

    # The user moves the block and writes around it: a new entry updates only the block, where it now is.
    moved = README_START + block.split(README_START)[1].rstrip("\n") + "\n\nMy words after it.\n"
    (tmp_path / "README.md").write_text(moved + "\n" + readme_before, encoding="utf-8")
    (tmp_path / "Robotics/new.md").write_text("# New\nDate: 2025-06-22\n\nA new paper.\n", encoding="utf-8")
    assert run_cli("stats", "--readme", cwd=tmp_path).returncode == 0
    updated = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert updated.endswith("My words after it.\n\n" + readme_before) and "14 papers" in updated.split(README_END)[0]

    dom = rendered_dom(page)
    plot = dom.split('id="reading-plot"', 1)[1]
    assert 'class="main-svg"' in plot and "Papers read: 14" in plot  # plotly ran, from the file beside the page


def test_stats_without_the_plotting_extra_says_what_to_install(tmp_path: Path) -> None:
    make_diary(tmp_path, commit=False)
    hide = ("import sys; sys.modules['matplotlib'] = None; sys.argv = ['paperdiary', 'stats']; "
            "from paperdiary.cli.main import main; main()")
    result = subprocess.run([sys.executable, "-c", hide], cwd=tmp_path, env=clean_env(), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: `paperdiary stats` needs matplotlib: pip install 'paperdiary[map]'."
    assert not (tmp_path / "assets").exists()


def test_the_assets_folder_must_be_inside_the_diary(tmp_path: Path) -> None:
    make_diary(tmp_path, commit=False)
    outside = run_cli("stats", cwd=tmp_path, env=clean_env(PAPERDIARY_ASSETS_DIR="../elsewhere"))
    assert outside.returncode == 2 and "'assets_dir'" in outside.stderr and "Traceback" not in outside.stderr
    (tmp_path / "plots").symlink_to(tmp_path.parent, target_is_directory=True)
    linked = run_cli("stats", cwd=tmp_path, env=clean_env(PAPERDIARY_ASSETS_DIR="plots"))
    assert linked.returncode == 2 and "outside the diary" in linked.stderr
    assert not list(tmp_path.parent.glob("reading.*"))
