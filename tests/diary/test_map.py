"""The topic map: offline embeddings from the installed wheel, clusters that recover the topics of a generated
diary, the same map twice, stable cluster ids, an offline HTML page whose points open their entries, the README
block, theme suggestions through review, split themes, and related entries."""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from paperdiary.diary.assets import assets_folder
from paperdiary.diary.blocks import ReadmeBlock
from paperdiary.diary.map.build import build_map, map_entries
from paperdiary.diary.map.cluster import ClusterMethod, cluster, cluster_method, match_previous
from paperdiary.diary.map.embed import (
    EndpointEmbedder, WordLlamaEmbedder, embed_texts, embedder_for, entry_text, load_wordllama, unit_rows,
)
from paperdiary.diary.map.make import make_map
from paperdiary.diary.map.name import keyword_names
from paperdiary.diary.map.related import find_related
from paperdiary.diary.map.render import MAP_BLOCK, map_html, map_png, readme_lines, write_map_files
from paperdiary.diary.map.suggest import split_themes, theme_suggestions
from paperdiary.diary.queue import ItemKind, read_queue
from paperdiary.diary.readme import Readme, iter_lessons
from paperdiary.diary.review import Review
from paperdiary.errors import LLMUnavailableError, MissingExtraError, SettingsError
from paperdiary.extras import missing_packages, require_extra
from paperdiary.settings import load_settings
from paperdiary.state.store import MapClusterRow, Store
from tests.fakes.llm_server import FakeLLM
from tests.fakes.topic_diary import write_topic_diary, write_topic_entry

# Four clearly separated topics, 8 entries each. Adjusted Rand index: 1 is the topics exactly, 0 what random
# labels score. At 0.8 a clustering can misplace about two of the 32 entries, or merge no two topics (merging
# two of four even topics scores about 0.7): the bar says "the topics were recovered", while leaving room for
# one odd entry whose sentences lean to another topic.
MIN_ARI = 0.8


@pytest.fixture(scope="session")
def embedder(tmp_path_factory) -> WordLlamaEmbedder:
    """One WordLlama for the whole session: its load is cached per process and folder."""
    return WordLlamaEmbedder(tmp_path_factory.mktemp("wordllama"))


def settings_of(root: Path, **overrides: object):
    return load_settings(root, overrides=overrides, env={})


def topic_diary(diary: Path, per_topic: int = 8, **kwargs):
    return write_topic_diary(diary, per_topic, **kwargs)


def build(diary: Path, embedder, **overrides):
    settings = settings_of(diary, **overrides)
    with Store(settings.db_path) as store:
        return build_map(settings, store, embedder)


# --------------------------------------------------------------------------- embeddings


def test_loading_wordllama_leaves_the_root_logger_alone(tmp_path: Path) -> None:
    # wordllama's import calls logging.basicConfig(level=INFO): every library's INFO lines would be printed.
    code = ("import logging, sys; from pathlib import Path; from paperdiary.diary.map.embed import load_wordllama; "
            "load_wordllama(Path(sys.argv[1])); root = logging.getLogger(); print(len(root.handlers), root.level)")
    done = subprocess.run([__import__("sys").executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", str(logging.WARNING)]


def test_wordllama_loads_offline_from_the_installed_wheel(tmp_path: Path) -> None:
    import wordllama

    model = load_wordllama(tmp_path / "cache")
    copied = sorted(p.name for p in (tmp_path / "cache" / "tokenizers").iterdir())
    assert copied and all(name.endswith(".json") for name in copied)  # the JSON only, no __pycache__
    weights = Path(wordllama.__file__).parent / "weights"
    assert any(weights.glob("*.safetensors"))  # the weights are the wheel's own: nothing was downloaded
    assert not (tmp_path / "cache" / "weights").exists()
    vectors = WordLlamaEmbedder(tmp_path / "cache").embed(["diffusion models denoise images", ""])
    assert vectors.shape == (2, 256) and np.isfinite(vectors).all()
    assert load_wordllama(tmp_path / "cache") is model  # once per process


def test_unit_rows_keep_zero_vectors_zero() -> None:
    rows = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0], [1e-20, 0.0]]))
    assert np.allclose(rows[0], [0.6, 0.8]) and not rows[1].any() and not rows[2].any()
    assert np.isfinite(rows).all()


def test_entry_text_joins_title_description_and_key_points() -> None:
    assert entry_text("A  title", "", ["one", "  two "]) == "A title\none\ntwo"


class CountingEmbedder:
    name = "counting"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts):
        self.calls.append(len(texts))
        return np.array([[len(t), t.count("a") + 1.0] for t in texts], dtype=np.float32)


def test_embeddings_are_cached_by_text(tmp_path: Path) -> None:
    counting = CountingEmbedder()
    with Store(tmp_path / "db.sqlite") as store:
        first = embed_texts(["alpha", "beta", "alpha"], counting, store)
        again = embed_texts(["beta", "alpha", "gamma"], counting, store)
    assert counting.calls == [2, 1]  # "alpha" once, then only the new "gamma"
    assert np.array_equal(first[0], again[1]) and np.array_equal(first[1], again[0])
    assert np.allclose(np.linalg.norm(again, axis=1), 1.0)


def test_endpoint_embedder_uses_the_configured_server(tmp_path: Path) -> None:
    with FakeLLM() as fake:
        settings = load_settings(tmp_path, overrides={"embedder": "fake-embed", "base_url": fake.base_url}, env={})
        with Store(settings.db_path) as store:
            chosen = embedder_for(settings, store)
            assert isinstance(chosen, EndpointEmbedder) and "fake-embed" in chosen.name
            vectors = embed_texts(["robot grasping", "robot grasping objects", "diffusion noise"], chosen, store)
            embed_texts(["robot grasping"], chosen, store)  # cached: no second request
        assert len(fake.embedding_requests) == 1
        assert fake.embedding_requests[0].json["model"] == "fake-embed"
    assert np.allclose(vectors[0], unit_rows(np.array([fake.embed_text("robot grasping")]))[0])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_a_configured_embedder_that_cannot_be_reached_is_an_error(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, overrides={"embedder": "fake-embed", "embedder_url": "http://127.0.0.1:9/v1",
                                                  "retry_max_time": 0.5, "llm_timeout": 1}, env={})
    with Store(settings.db_path) as store:
        with pytest.raises(LLMUnavailableError) as info:
            embed_texts(["text"], embedder_for(settings, store), store)
    assert "127.0.0.1:9" in str(info.value)


# --------------------------------------------------------------------------- clusters


def test_clusters_recover_the_topics(diary: Path, embedder) -> None:
    written = topic_diary(diary)
    topic_map = build(diary, embedder)
    truth = {entry.relpath: entry.topic for entry in written}
    ari = adjusted_rand_score([truth[p.relpath] for p in topic_map.points], [p.cluster_id for p in topic_map.points])
    print(f"adjusted Rand index: {ari:.3f} ({topic_map.method})")
    assert ari >= MIN_ARI
    assert len(topic_map.points) == len(written) and len(topic_map.clusters) == 4


def test_cluster_names_are_distinctive_words(diary: Path, embedder) -> None:
    written = topic_diary(diary)
    topic_map = build(diary, embedder)
    topic_of = {e.relpath: e.topic for e in written}
    names = {topic_of[c.members[0]]: " ".join(c.keywords).lower() for c in topic_map.clusters}
    assert re.search(r"image|noise|denois", names["diffusion"])
    assert re.search(r"passage|retriev|quer|document|index", names["retrieval"])
    assert len({c.name for c in topic_map.clusters}) == len(topic_map.clusters)


def test_keyword_names_prefer_what_sets_a_cluster_apart() -> None:
    words = keyword_names([["Robots grasp cups.", "A robot grasps a mug with a gripper."],
                           ["Diffusion denoises images.", "Images come from noise by diffusion."]])
    assert words[0].keywords[0] in ("robot", "grasp", "robots") and "Diffusion" in words[1].name + "".join(
        w.title() for w in words[1].keywords)


def test_the_same_diary_gives_the_same_map_twice(diary: Path, embedder) -> None:
    topic_diary(diary, 5)
    first, second = build(diary, embedder), build(diary, embedder)
    assert json.dumps(first.as_json()) == json.dumps(second.as_json())
    assert map_html(first, "assets") == map_html(second, "assets")


def test_an_added_entry_relabels_no_other_entry(diary: Path, embedder) -> None:
    written = topic_diary(diary)
    before = build(diary, embedder)
    added = write_topic_entry(diary, "retrieval", date(2025, 3, 1), random.Random(99), serial=999)
    after = build(diary, embedder)
    for point in before.points:
        old, new = before.cluster(point.cluster_id), after.cluster(after.point(point.relpath).cluster_id)
        assert (new.id, new.name) == (old.id, old.name), point.relpath
    topic_of = {e.relpath: e.topic for e in [*written, added]}
    assert {topic_of[m] for m in after.cluster(after.point(added.relpath).cluster_id).members} == {"retrieval"}
    assert [(c.id, c.name) for c in after.clusters] == [(c.id, c.name) for c in before.clusters]


def test_matching_keeps_ids_by_overlap() -> None:
    previous = [MapClusterRow(1, "Robots", "keywords", ("a", "b", "c", "d")),
                MapClusterRow(2, "Diffusion", "llm", ("e", "f", "g", "h"))]
    groups = [frozenset("efghi"), frozenset("abcd"), frozenset("xyz")]
    matched = match_previous(groups, previous)
    assert [row.id if row else None for row in matched] == [2, 1, None]
    split = match_previous([frozenset("ab"), frozenset("cd")], previous)  # half of a cluster: J = 0.5
    assert [row.id if row else None for row in split] in ([1, None], [None, 1])


def test_cluster_settings(tmp_path: Path) -> None:
    assert cluster_method(settings_of(tmp_path)) == ClusterMethod("auto", k_range=(2, 15))
    assert cluster_method(settings_of(tmp_path, map_clusters="5")).k == 5
    assert cluster_method(settings_of(tmp_path, map_clusters="HDBSCAN", map_k_range="3..6")).kind == "hdbscan"
    for bad in ({"map_clusters": "many"}, {"map_k_range": "1-3"}, {"map_k_range": "eight"}):
        with pytest.raises(SettingsError):
            cluster_method(settings_of(tmp_path, **bad))


def test_fixed_k_and_hdbscan(diary: Path, embedder) -> None:
    topic_diary(diary, 6)
    fixed = build(diary, embedder, map_clusters="2")
    assert len(fixed.clusters) == 2 and all(p.cluster_id is not None for p in fixed.points)
    hdbscan = build(diary, embedder, map_clusters="hdbscan")
    assert 2 <= len(hdbscan.clusters) <= 6 and "HDBSCAN" in hdbscan.method


def test_tiny_diaries_map_without_error(diary: Path, embedder) -> None:
    topic_diary(diary, 1, topics=("rl", "robotics"))
    topic_map = build(diary, embedder)
    assert len(topic_map.points) == 2 and len(topic_map.clusters) == 1
    assert np.isfinite([[p.x, p.y] for p in topic_map.points]).all()
    assert cluster(np.zeros((0, 3)), ClusterMethod("auto")).labels == ()


# --------------------------------------------------------------------------- outputs


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.loads.append((tag, name, value))


def plotted_points(page: str) -> list[list[str]]:
    """The customdata rows of the traces shown at load (topic view), from the page's Plotly.newPlot call."""
    at = page.index("Plotly.newPlot(")
    start = page.index("[", at)
    traces, _ = json.JSONDecoder().raw_decode(page, start)
    return [row for trace in traces if trace.get("visible", True) is True for row in trace.get("customdata", [])]


def plotted_traces(page: str) -> list[dict]:
    start = page.index("[", page.index("Plotly.newPlot(") + len("Plotly.newPlot("))
    traces, _ = json.JSONDecoder().raw_decode(page, start)
    return traces


def test_the_page_works_offline_and_every_point_opens_its_entry(diary: Path, embedder) -> None:
    written = topic_diary(diary, 4)
    odd = diary / "January 2025" / "A %20 odd & name.md"
    (diary / written[0].relpath).rename(odd)
    odd.write_text(odd.read_text(encoding="utf-8").replace("# ", "# Attack <img src=x onerror=alert(1)> ", 1),
                   encoding="utf-8")
    settings = settings_of(diary)
    with Store(settings.db_path) as store:
        topic_map = build_map(settings, store, embedder)
    files = write_map_files(topic_map, assets_folder(settings))
    page = files.html.read_text(encoding="utf-8")
    links = _Links()
    links.feed(page)
    assert links.loads == [("script", "src", "plotly.min.js")]  # the one script, beside the page; no font, no style
    assert files.plotly_js.stat().st_size > 1_000_000 and not re.search(r"<link\b|@import|url\(http", page)
    points = plotted_points(page)
    assert len(points) == len(written)
    targets = sorted((files.html.parent / unquote(row[0])).resolve() for row in points)
    assert targets == sorted((diary / p.relpath).resolve() for p in topic_map.points)
    assert all(path.is_file() for path in targets)
    assert "plotly_click" in page and "window.location.href = point.customdata[0]" in page
    assert "Colour by month read" in page
    assert "Attack" in page and "<img" not in page  # entry text is shown, escaped, never as markup
    assert files.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed: the static checks stand")
def test_the_page_renders_in_headless_chromium_without_network(diary: Path, embedder) -> None:
    written = topic_diary(diary, 3)
    settings = settings_of(diary)
    with Store(settings.db_path) as store:
        topic_map = build_map(settings, store, embedder)
        files = write_map_files(topic_map, assets_folder(settings))
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--virtual-time-budget=5000", "--dump-dom", files.html.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count('<path class="point') == len(written)
    dom = result.stdout
    assert dom.count('class="js-fill"') >= 4  # a shaded hull per topic (four topics of three entries)
    legend = dom[dom.index('class="legend"'):]
    for found in topic_map.clusters:  # the legend names each cluster with its size
        assert f"{found.name} ({len(found.members)})" in legend
    assert 'class="updatemenu-container"' in dom and re.search(r'class="modebar[^"]* vertical"', dom)  # buttons apart from the toolbar


def test_readme_block_twice_is_once(diary: Path, embedder) -> None:
    topic_diary(diary, 2)
    settings = settings_of(diary)
    readme = diary / "README.md"
    original = readme.read_text(encoding="utf-8")
    with Store(settings.db_path) as store:
        first = make_map(settings, store, embedder=embedder, readme=True, suggest=False)
        once = readme.read_text(encoding="utf-8")
        second = make_map(settings, store, embedder=embedder, readme=True, suggest=False)
    assert (first.readme_changed, second.readme_changed) == (True, False)
    assert readme.read_text(encoding="utf-8") == once and once.startswith(original)
    assert "[![Topic map of the diary: 8 entries" in once and "](assets/topic-map.html)" in once
    # Moved by the user, the block is updated where it is.
    moved = MAP_BLOCK.start + "\nold\n" + MAP_BLOCK.end + "\n\n" + original
    lines = readme_lines(first.topic_map, assets_folder(settings))
    assert MAP_BLOCK.put(moved, lines).startswith(MAP_BLOCK.start + "\n[![")
    # (The one block helper, shared with stats: CRLF kept, a blank line before a block put at the end.)
    assert ReadmeBlock("a").put("# D\r\n", ["x"]) == "# D\r\n\r\n<!-- paperdiary:a -->\r\nx\r\n<!-- /paperdiary:a -->\r\n"


# --------------------------------------------------------------------------- back into the workflow

README_WITH_LESSONS = """\
# Diary

## Interesting Methods and Lesson Learned

### Reinforcement Learning
1. **Entropy bonuses** keep exploring ([A]({rl1})).
2. **Clipped updates** stabilise training ([B]({rl2})).

### Robotics
1. **Action chunks** smooth motion ([C]({rob1})).
"""


def test_a_new_theme_flows_through_review_and_loses_no_lesson(diary: Path, embedder) -> None:
    written = topic_diary(diary, 5)
    by_topic = {t: [e.relpath.replace(" ", "%20") for e in written if e.topic == t] for t in ("rl", "robotics")}
    readme_path = diary / "README.md"
    readme_path.write_text(README_WITH_LESSONS.format(rl1=by_topic["rl"][0], rl2=by_topic["rl"][1],
                                                      rob1=by_topic["robotics"][0]), encoding="utf-8")
    lessons_before = [lesson.raw.strip() for _, _, lesson in iter_lessons(Readme.read(readme_path))]
    settings = settings_of(diary)
    with Store(settings.db_path) as store:
        outcome = make_map(settings, store, embedder=embedder)
    topic_of = {e.relpath: e.topic for e in written}
    suggested = {topic_of[s.members[0]] for s in outcome.suggestions}
    assert suggested == {"diffusion", "retrieval"}  # RL and robotics have themes
    queue = read_queue(settings)
    themes = [item for item in queue.items if item.item_kind is ItemKind.NEW_THEME]
    assert len(themes) == 2 and all(len(item.members) == 5 for item in themes)
    diffusion = next(item for item in themes if topic_of[item.members[0]] == "diffusion")

    with Store(settings.db_path) as store, Review(settings, store=store) as review:
        planned = review.plan().get(diffusion.id)
        assert planned is not None and planned.proposal.kind == "new_theme"
        review.choose(diffusion.id, theme="Diffusion Models")
        review.accept([diffusion.id])
        with pytest.raises(Exception, match="suggests a new theme"):
            review.choose(diffusion.id, kind="add")
        result = review.apply()
    assert [p.item.id for p in result.applied] == [diffusion.id] and result.readme_changed
    after = Readme.read(readme_path)
    assert [t.name for t in after.themes] == ["Reinforcement Learning", "Robotics", "Diffusion Models"]
    assert [lesson.raw.strip() for _, _, lesson in iter_lessons(after)] == lessons_before
    remaining = read_queue(settings)
    assert diffusion.id not in {item.id for item in remaining.items} and len(remaining.items) == 1

    with Store(settings.db_path) as store:  # mapping again suggests neither the applied theme nor the queued one twice
        again = make_map(settings, store, embedder=embedder)
    assert again.queued == [] and len(read_queue(settings).items) == 1


def test_a_theme_spanning_distant_clusters_is_reported(diary: Path, embedder) -> None:
    written = topic_diary(diary)
    rl = [e.relpath.replace(" ", "%20") for e in written if e.topic == "rl"]
    diffusion = [e.relpath.replace(" ", "%20") for e in written if e.topic == "diffusion"]
    (diary / "README.md").write_text(
        "# D\n\n## Lessons\n\n### Mixed Bag\n" + "".join(f"{n + 1}. Lesson {n} ([x]({p})).\n" for n, p in
                                                           enumerate(rl[:2] + diffusion[:3])), encoding="utf-8")
    topic_map = build(diary, embedder, lessons_heading="## Lessons")
    [split] = split_themes(topic_map)
    assert split.theme == "Mixed Bag" and [n for _, _, n in split.parts] == [3, 2]
    assert theme_suggestions(topic_map, ["Mixed Bag"], 4)  # a theme citing a few entries covers no cluster


def test_related_entries_are_the_nearest_earlier_ones(diary: Path, embedder) -> None:
    written = topic_diary(diary, 4)
    settings = settings_of(diary)
    with Store(settings.db_path) as store:
        outcome = find_related(settings, store, title="Denoising Diffusion for Video Frames",
                               description="A diffusion model learns to denoise video frames from Gaussian noise.",
                               key_points=["Sampling uses a few denoising steps."], date_read=date(2025, 6, 1),
                               embedder=embedder)
        early = find_related(settings, store, title="x", description="diffusion", key_points=[],
                             date_read=date(2024, 1, 1), embedder=embedder)
        off = find_related(settings_of(diary, related_entries=False), store, title="x", description="", key_points=[],
                           date_read=date(2025, 6, 1), embedder=embedder)
    topic_of = {e.relpath: e.topic for e in written}
    assert len(outcome.entries) == 3 and {topic_of[r.relpath] for r in outcome.entries} == {"diffusion"}
    assert early.entries == () and "no earlier entry" in early.note
    assert off.entries == () and "off" in off.note


def test_without_the_map_extra(monkeypatch, diary: Path) -> None:
    monkeypatch.setitem(__import__("sys").modules, "sklearn", None)
    assert missing_packages("map") == ["scikit-learn"]
    with pytest.raises(MissingExtraError) as info:
        require_extra("map")
    assert info.value.exit_code == 2 and "pip install 'paperdiary[map]'" in str(info.value)
    settings = settings_of(diary)
    with Store(settings.db_path) as store:
        outcome = find_related(settings, store, title="t", description="d", key_points=[], date_read=date.today())
    assert outcome.entries == () and "map extra is not installed" in outcome.note


# --------------------------------------------------------------------------- issue 21: topics, names, picture


def test_a_diffuse_diary_is_not_two_topics_with_a_theme_queued(diary: Path, embedder) -> None:
    rng = random.Random(7)
    words = ("lantern harbour velvet quarry meadow cobalt thimble orchard saddle glacier pepper violin "
             "ember canyon mosaic falcon turnip anchor marble willow ribbon tundra beacon parsley").split()
    for n in range(40):  # every entry about something else: no topics to find
        title = " ".join(rng.sample(words, 4)).title()
        body = " ".join(rng.sample(words, 8))
        path = diary / "entries" / f"entry-{n:02}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {title}\nDate read: 2025-01-{n % 28 + 1:02}\n\n## Key Points\n- {body}.\n",
                        encoding="utf-8")
    settings = settings_of(diary)
    with Store(settings.db_path) as store:
        outcome = make_map(settings, store, embedder=embedder)
    topic_map = outcome.topic_map
    assert len(topic_map.clusters) != 2, topic_map.method  # the prior (about sqrt(n/2) = 4) holds it off 2
    assert not outcome.queued and not outcome.suggestions
    if not topic_map.topics:
        assert "no better than chance" in topic_map.method and "no clear topics" in map_html(topic_map, "assets")


def test_clearly_separated_topics_beat_chance_and_say_why(diary: Path, embedder) -> None:
    topic_diary(diary)
    topic_map = build(diary, embedder)
    assert topic_map.topics and "above chance" in topic_map.method and "prior k=" in topic_map.method
    assert len(topic_map.clusters) == 4  # a clear silhouette wins over a prior one away (5 README themes)


def test_k_leans_towards_the_diarys_topic_folders(tmp_path: Path) -> None:
    diary = tmp_path / "d"
    for folder in ("vision", "speech", "robots", "July 2025"):
        for n in range(3):
            (diary / folder).mkdir(parents=True, exist_ok=True)
            (diary / folder / f"e{n}.md").write_text(  # a note, not a stub: the catalog leaves stubs out
                f"# A paper on {folder} number {n}\n\nDate read: {n + 1} July 2025\n\n"
                f"- It learns {folder} from data and reports what it found.\n", encoding="utf-8")
    from paperdiary.diary.map.build import structure_prior

    entries = map_entries(settings_of(diary), None)
    assert structure_prior(settings_of(diary), entries).k == 3  # "July 2025" is when, not what


def test_names_are_distinct_phrases_with_no_split_ligature() -> None:
    from paperdiary.diary.map.phrases import phrase_names

    names = phrase_names([
        ["Unsupervised Domain Adaptation via Self-Training", "Unsupervised Domain Adaptation for Segmentation",
         "Contrastive Unsupervised Domain Adaptation"],
        ["E\ufb03cient Fine-Tuning of Language Models", "Parameter-e\ufb03cient ﬁne-tuning with adapters",
         "Sparse \ufb01ne-tuning of language models"],
        ["Test-Time Adaptation under Distribution Shift", "Continual Test-Time Adaptation",
         "Test-Time Adaptation without Source Data"],
        ["Test-Time Adaptation for Segmentation", "Robust Test-Time Adaptation", "Test-Time Adaptation in the wild"],
    ])
    assert names[0] == "Unsupervised Domain Adaptation" and names[2] == "Test-Time Adaptation"
    assert "Fine-Tuning" in names[1] and "ﬁ" not in names[1] and not re.search(r"\bNe\b|\bCient\b", names[1])
    assert len({n.casefold() for n in names}) == len(names)  # the fourth cluster does not repeat the third's name
    assert all(2 <= len(n.replace("-", " ").split()) <= 4 and "," not in n for n in names)


def test_an_incoherent_or_badly_named_cluster_is_not_suggested(diary: Path, embedder) -> None:
    topic_diary(diary, 5)
    topic_map = build(diary, embedder)
    assert theme_suggestions(topic_map, [], 4)  # coherent, well-named topics no theme covers: suggested
    vague = replace(topic_map, clusters=tuple(replace(c, cohesion=0.0) for c in topic_map.clusters))
    assert not theme_suggestions(vague, [], 4)
    chance = replace(topic_map, topics=False)
    assert not theme_suggestions(chance, [], 4)
    misnamed = replace(topic_map, clusters=tuple(replace(c, name="Quantum Gravity") for c in topic_map.clusters))
    assert not theme_suggestions(misnamed, [], 4)


def test_the_png_has_hulls_and_a_legend(diary: Path, embedder) -> None:
    topic_diary(diary, 4)
    topic_map = build(diary, embedder)
    from paperdiary.diary.map.render import hull

    assert all(len(hull([p.x for p in pts], [p.y for p in pts])) >= 4 for c in topic_map.clusters
               for pts in [[topic_map.point(m) for m in c.members]])
    page = map_html(topic_map, "assets")
    fills = [t for t in plotted_traces(page) if t.get("fill") == "toself"]
    assert len(fills) == len(topic_map.clusters) and 'name="viewport"' in page
    assert map_png(topic_map)[:8] == b"\x89PNG\r\n\x1a\n"
