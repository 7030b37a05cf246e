"""One built site of the fixture diary for the site's tests (built once: Zensical and the topic map take
seconds), served on 127.0.0.1 from the folder the CLI writes."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.website.fixture import FixtureDiary, make_site_diary


@dataclass(frozen=True)
class BuiltSite:
    diary: FixtureDiary
    out: Path
    url: str  # where it is served, with a trailing "/"
    stdout: str


@pytest.fixture(scope="session")
def own_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltSite]:
    """This project's README (itself a diary) as a site, served."""
    pytest.importorskip("zensical")
    from paperdiary.site.serve import site_server
    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("own") / "own"
    (root / "entries").mkdir(parents=True)
    shutil.copy(REPO / "README.md", root / "README.md")
    out = root / "site"
    server = site_server(out, 0)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    done = run_cli("site", "--no-map", "--base-url", url, cwd=root, timeout=600)
    assert done.returncode == 0, done.stderr
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield BuiltSite(FixtureDiary(root, {}, 0), out, url, done.stdout)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltSite]:
    pytest.importorskip("zensical")
    from paperdiary.site.serve import site_server

    base = tmp_path_factory.mktemp("site")
    diary = make_site_diary(base / "diary", outside=base)
    out = diary.root / "site"
    server = site_server(out, 0)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    done = run_cli("site", "--verbose", "--base-url", url, cwd=diary.root, timeout=600)
    assert done.returncode == 0, done.stderr
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield BuiltSite(diary, out, url, done.stdout)
    finally:
        server.shutdown()
        server.server_close()
