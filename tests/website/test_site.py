"""`paperdiary site` on a diary in the shapes real diaries take: its pages, links, files, feed, sitemap and
search index, the sanitising of a hostile entry, the diary's walls, and what it writes (and refuses to)."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from paperdiary.site.paths import SitePaths, href, slug
from paperdiary.site.render import github_anchor, render_markdown
from tests.conftest import run_cli
from tests.website.conftest import BuiltSite
from tests.website.crawl import crawl
from tests.website.fixture import SECRET, make_site_diary, png

ATOM = "{http://www.w3.org/2005/Atom}"
PRORL = "june-2025/4thjuneprolongedrl/"
FORKING = "july-2025/11thjulytokenentropy/"
DIFFUSION = "rob%C3%B3tica/diffusion-policy-visuomotor/"
TRICKS = "july-2025/2ndjulytricks/"


def page(site: BuiltSite, path: str) -> str:
    from urllib.parse import unquote

    return (site.out / unquote(path) / "index.html").read_text(encoding="utf-8")


def article(html: str) -> str:
    """The page's own content, without the theme's header, navigation and scripts."""
    return html[html.index('<div class="pd-page">'):html.rindex("</article>")]


def links_of(html: str) -> list[str]:
    return re.findall(r'<a [^>]*?href="([^"]*)"', html)


# --------------------------------------------------------------------------- pages


def test_every_entry_gets_a_page_and_the_site_its_listings(built_site: BuiltSite) -> None:
    site = built_site.out
    for path in (PRORL, FORKING, DIFFUSION, TRICKS, "notes/attention/"):
        assert (site / path.replace("%C3%B3", "ó") / "index.html").is_file(), path
    assert len(list((site / "by-month/january-2025").glob("*/index.html"))) == built_site.diary.generated
    for listing in ("", "diary/", "themes/", "themes/reinforcement-learning/", "topics/", "topic-map/", "reading/",
                    "readme/", "contributing/", "notes/"):
        assert (site / listing / "index.html").is_file(), listing
    for name in ("404.html", "sitemap.xml", "feed.xml", "search.json", "charts/topic-map.html",
                 "charts/reading.html", "charts/plotly.min.js", "pd/mathjax/tex-svg-full.js"):
        assert (site / name).is_file(), name
    assert re.search(rf"Site: \d+ pages \({built_site.diary.entries} entries, 2 files copied\)", built_site.stdout)


def test_an_entry_page_shows_its_date_paper_lessons_and_related_entries(built_site: BuiltSite) -> None:
    html = article(page(built_site, PRORL))
    assert "Read 4 June 2025" in html
    assert 'href="https://arxiv.org/abs/2505.24864"' in html
    assert "Lessons from this entry" in html and "Long training keeps paying" in html
    assert 'href="../../themes/reinforcement-learning/"' in html  # its theme, linked
    related = html[html.index('id="pd-related"'):]
    assert len(re.findall(r"<li>", related)) == 3
    assert html.count("ProRL: Prolonged") == 0  # the title is the page's heading, not repeated in the body
    assert "<h1" in page(built_site, PRORL) and "ProRL: Prolonged" in page(built_site, PRORL)


def test_the_home_page_is_the_readme_introduction_and_its_lessons_by_theme(built_site: BuiltSite) -> None:
    html = article(page(built_site, ""))
    assert "I read a paper most days" in html
    assert re.search(r'<h3 id="reinforcement-learning">Reinforcement Learning</h3>', html)
    assert 'href="june-2025/4thjuneprolongedrl/"' in html  # a lesson links its entry's page
    assert 'href="themes/robotics/"' in html
    assert "Full Diary" not in html[:html.index("Latest entries")]  # the README's index is its own page


def test_the_full_diary_lists_every_entry_by_month_with_descriptions(built_site: BuiltSite) -> None:
    html = article(page(built_site, "diary/"))
    months = re.findall(r'<h2 id="(\d{4}-\d{2})">', html)
    assert months == sorted(months, reverse=True) and "2025-07" in months and "2025-01" in months
    assert len(re.findall(r"<li>", html)) == built_site.diary.entries
    assert "Read the appendix" in html or "Self-attention alone" in html  # descriptions


def test_theme_and_topic_pages_list_the_entries(built_site: BuiltSite) -> None:
    theme = article(page(built_site, "themes/reinforcement-learning/"))
    assert "Only a fifth of the tokens" in theme
    cited = theme[theme.index('id="pd-entries"'):]
    assert set(links_of(cited)) == {f"../../{PRORL}", f"../../{FORKING}"}
    topics = sorted((built_site.out / "topics").glob("*/index.html"))
    assert len(topics) >= 3
    members = [len(re.findall(r"<li>", article(p.read_text(encoding="utf-8")))) for p in topics]
    assert sum(members) == built_site.diary.entries  # every entry is in one topic


# --------------------------------------------------------------------------- links


def test_a_crawler_finds_no_broken_internal_link_and_nothing_loaded_from_elsewhere(built_site: BuiltSite) -> None:
    result = crawl(built_site.out)
    assert result.pages > 40 and result.internal > 500
    assert result.broken == []
    assert result.broken_anchors == []
    assert result.external == []


def test_links_written_every_way_lead_to_the_pages(built_site: BuiltSite) -> None:
    home = links_of(article(page(built_site, "")))
    assert f"{FORKING}#key-points" in home  # <July 2025/x.md#key-points>
    assert DIFFUSION in home  # Robótica/Diffusion%20Policy%3A%20Visuomotor%3F.md
    assert "rob%C3%B3tica/" in home  # a folder: its listing page
    assert "contributing/#style" in home  # a note that is not an entry
    prorl = links_of(article(page(built_site, PRORL)))
    assert f"../../{FORKING}#my-notes" in prorl
    timeline = links_of(article(page(built_site, "readme_timeline/")))
    assert f"../{PRORL}" in timeline  # the repository's own github.com URL
    forking = links_of(article(page(built_site, FORKING)))
    assert f"../../{PRORL}" in forking and f"../../{DIFFUSION}" in forking  # <…> with spaces, and "/" from the root
    diffusion = links_of(article(page(built_site, DIFFUSION)))
    assert "../../rob%C3%B3tica/" in diffusion and "../../#robotics" in diffusion  # "./" and ../README.md#robotics


def test_the_files_entries_show_are_copied_and_remote_images_become_links(built_site: BuiltSite) -> None:
    assert (built_site.out / "june-2025/imgs/fig-1.png").read_bytes() == png()
    assert 'src="../imgs/fig-1.png"' in page(built_site, PRORL)
    assert 'src="../imgs/gripper.png"' in page(built_site, DIFFUSION)
    tricks = article(page(built_site, TRICKS))
    assert "tracker.example" not in re.findall(r'<img [^>]*>', tricks).__str__()
    assert 'href="https://tracker.example/pixel.png"' in tricks  # shown as a link to it
    assert 'href="https://example.org/paper"' in tricks  # an external link, as written


def test_links_that_lead_nowhere_are_text_and_reported(built_site: BuiltSite) -> None:
    assert "6 links point nowhere in the diary" in built_site.stdout
    assert "README_timeline.md: notes/missing.md (not in the diary)" in built_site.stdout
    assert "<a>A note I never wrote</a>" in page(built_site, "readme_timeline/")


# --------------------------------------------------------------------------- untrusted entries


def test_a_hostile_entry_runs_nothing_and_reaches_nothing_outside(built_site: BuiltSite) -> None:
    tricks = article(page(built_site, TRICKS))
    for bad in ("<script", "onerror", "onclick", "javascript:", "data:text", "<iframe", "<style", "<form",
                'type="password"', 'id="__search"'):
        assert bad not in tricks, bad
    assert "click" in tricks and "press" in tricks  # the text stays
    for path in built_site.out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    for reported in ("../../secret.txt (outside the diary)", "../notes/leak.md (a symlink out of the diary)",
                     ".paperdiary/paperdiary.db (a hidden or state folder)", ".git/config (a hidden or state folder)"):
        assert f"July 2025/2ndJulyTricks.md: {reported}" in built_site.stdout
    assert not list(built_site.out.rglob("*paperdiary.db*")) and not (built_site.out / ".git").exists()


def test_math_is_marked_for_mathjax_which_only_math_pages_load(built_site: BuiltSite) -> None:
    prorl = page(built_site, PRORL)
    assert '<span class="arithmatex">\\(\\mathcal{L}' in prorl
    assert "pd/mathjax/tex-svg-full.js" in prorl
    assert '<div class="arithmatex">\\[H(p)' in page(built_site, FORKING)  # a ```math block
    assert "$5 and $10" in prorl  # money is not math
    assert "tex-svg-full.js" not in page(built_site, "diary/")


# --------------------------------------------------------------------------- feed, sitemap, search


def test_the_atom_feed_lists_the_newest_entries_with_absolute_links(built_site: BuiltSite) -> None:
    root = ET.fromstring((built_site.out / "feed.xml").read_bytes())
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == built_site.diary.entries
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)
    first = entries[0]
    assert first.findtext(f"{ATOM}title") == "Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive RLVR"
    assert first.findtext(f"{ATOM}id") == f"{built_site.url}{FORKING}"
    assert '<link rel="alternate" type="application/atom+xml"' in page(built_site, "")


def test_the_sitemap_names_every_page_at_the_base_url(built_site: BuiltSite) -> None:
    locations = re.findall(r"<loc>([^<]+)</loc>", (built_site.out / "sitemap.xml").read_text(encoding="utf-8"))
    assert f"{built_site.url}{PRORL}" in locations
    assert all(loc.startswith(built_site.url) for loc in locations)
    assert len(locations) >= built_site.diary.entries + 10  # the entries and the listings


def test_the_search_index_holds_entries_lessons_and_key_points_not_listings(built_site: BuiltSite) -> None:
    items = json.loads((built_site.out / "search.json").read_text(encoding="utf-8"))["items"]
    locations = {item["location"].split("#")[0] for item in items}
    assert PRORL in locations and "" in locations
    assert not {loc for loc in locations if loc.startswith(("diary/", "topics/", "reading/"))}
    texts = " ".join(item["title"] + " " + item["text"] for item in items)
    assert "KL control" in texts  # a key point
    assert "Predicting a whole action chunk" in texts  # a lesson


# --------------------------------------------------------------------------- what it writes


def test_the_state_tree_stays_in_the_state_folder_and_the_site_is_git_ignored(built_site: BuiltSite) -> None:
    root = built_site.diary.root
    assert (root / ".paperdiary/site/mkdocs.yml").is_file()
    assert (root / ".paperdiary/site/docs/index.md").is_file()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    assert status.split() == ["??", ".gitignore"]  # the only change: site/ is ignored, the state folder too
    assert (root / ".gitignore").read_text(encoding="utf-8").count("/site/") == 1


def test_a_rebuild_adds_nothing_to_gitignore_and_respects_its_removal(tmp_path: Path) -> None:
    diary = make_site_diary(tmp_path / "d", per_topic=1).root
    assert run_cli("site", "--no-map", cwd=diary).returncode == 0
    gitignore = diary / ".gitignore"
    assert gitignore.read_text(encoding="utf-8").count("/site/") == 1
    gitignore.write_text("# mine\n", encoding="utf-8")  # the user wants the site committed
    again = run_cli("site", "--no-map", cwd=diary)
    assert again.returncode == 0, again.stderr
    assert gitignore.read_text(encoding="utf-8") == "# mine\n"


def test_an_output_folder_paperdiary_did_not_make_is_never_replaced(tmp_path: Path) -> None:
    diary = make_site_diary(tmp_path / "d", per_topic=1).root
    mine = diary / "public"
    mine.mkdir()
    (mine / "index.html").write_text("my own page", encoding="utf-8")
    done = run_cli("site", "--out", "public", "--no-map", cwd=diary)
    assert done.returncode == 1
    assert "did not build it" in done.stderr and "Traceback" not in done.stderr
    assert (mine / "index.html").read_text(encoding="utf-8") == "my own page"
    assert run_cli("site", "--out", ".", cwd=diary).returncode == 1  # the diary itself


def test_the_readme_of_this_project_as_a_diary(own_site: BuiltSite) -> None:
    out = own_site.out
    home = (out / "index.html").read_text(encoding="utf-8")
    for theme in ("Reinforcement Learning", "Self Improvement", "Robotics", "Open-Endedness and Auto Curriculums"):
        assert f">{theme}</h3>" in home
    readme = (out / "readme" / "index.html").read_text(encoding="utf-8")
    assert "Quick start" in readme and 'id="settings"' in readme
    result = crawl(out, "/")
    assert result.broken == [] and result.external == []


# --------------------------------------------------------------------------- the parts


def test_site_paths_are_slugged_stable_and_never_collide() -> None:
    paths = SitePaths(folders=["notes"], pages=["June 2025/4thJune X.md", "june-2025/4thjune-x.md", "notes.md",
                                                "Robótica/Policy: Visuomotor?.md", "themes/a.md", "x/index.md"],
                      files=["June 2025/imgs/Fig 1.PNG", "June 2025/imgs/fig-1.png"])
    assert paths.page("June 2025/4thJune X.md") == "june-2025/4thjune-x/"
    assert paths.page("june-2025/4thjune-x.md") == "june-2025-2/4thjune-x/"  # a folder slugging alike
    assert paths.folder("notes") == "notes/" and paths.page("notes.md") == "notes-2/"
    assert paths.page("Robótica/Policy: Visuomotor?.md") == "robótica/policy-visuomotor/"
    assert paths.page("themes/a.md") == "themes-2/a/"  # the site's own name
    assert paths.page("x/index.md") == "x/index-2/"
    assert {paths.file("June 2025/imgs/Fig 1.PNG"), paths.file("June 2025/imgs/fig-1.png")} == {
        "june-2025/imgs/fig-1.png", "june-2025/imgs/fig-1-2.png"}
    assert slug("TTT++: When Does It Work?") == "ttt-when-does-it-work"
    assert href("robótica/p/", "diary/") == "rob%C3%B3tica/p.md"
    assert href("", "notes/x/") == "../index.md" and href("notes/imgs/a.png", "notes/x/") == "imgs/a.png"


def test_headings_get_githubs_anchors() -> None:
    seen: dict[str, int] = {}
    assert [github_anchor(t, seen) for t in ("Key Points", "Key Points", "Notes / Questions", "Über `code` 2.0!")] \
        == ["key-points", "key-points-1", "notes--questions", "über-code-20"]


@pytest.mark.parametrize("markdown, absent", [
    ("<script>alert(1)</script>", "<script"),
    ('<img src="a.png" onerror="alert(1)">', "onerror"),
    ("[x](javascript:alert(1))", "href=\"javascript"),
    ('<a href="vbscript:msgbox">x</a>', "vbscript"),
    ('<svg><script>alert(1)</script></svg>', "script"),
    ('<math><mtext><img src=x onerror=alert(1)></mtext></math>', "onerror"),
    ('<p style="background:url(https://evil.example/)">x</p>', "evil.example"),
    ('<object data="https://evil.example/x.swf"></object>', "evil.example"),
    ('<base href="https://evil.example/">', "evil.example"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', "evil.example"),
])
def test_entry_html_is_sanitised(markdown: str, absent: str) -> None:
    rendered = render_markdown(markdown, lambda url, tag: url)
    assert absent not in rendered.html.lower()


def test_markdown_reads_as_github_reads_it() -> None:
    text = "- a\n  - nested with two spaces\n\n| a | b |\n|---|---|\n| 1 | ~~2~~ |\n\nsee https://example.org\n"
    html = render_markdown(text, lambda url, tag: url).html
    assert re.search(r"<li>a\s*<ul>\s*<li>nested", html)  # GitHub nests a two-space list
    assert "<table>" in html and "<s>2</s>" in html
    assert '<a href="https://example.org">' in html
