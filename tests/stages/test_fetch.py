"""The fetch stage against FakeArxiv: real HTTP, the real arxiv client and requests."""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path

import pytest

from paperdiary.errors import DownloadTooLargeError, FetchError, NotAPdfError, PaperNotFoundError
from paperdiary.stages.fetch import ArxivFetcher, cached_pdf, is_withdrawn, local_paper, sha256_file
from paperdiary.models import PaperMeta, PaperRef
from paperdiary.settings import load_settings
from tests.fakes.arxiv_server import FakeArxiv

PUBLISHED = datetime(2025, 6, 2, 17, 59, 46, tzinfo=UTC)
UPDATED = datetime(2025, 6, 9, 8, 0, 0, tzinfo=UTC)


def make_pdf(text: str = "A tiny paper") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


@pytest.fixture
def fake():
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def pdf_bytes() -> bytes:
    return make_pdf()


@pytest.fixture
def make_fetcher(fake, tmp_path):
    """A fetcher on the fake, with tiny back-off; keyword arguments override settings."""
    fetchers: list[ArxivFetcher] = []

    def factory(**overrides) -> ArxivFetcher:
        settings = load_settings(
            diary=tmp_path,
            overrides={
                "arxiv_api": fake.api_url,
                "arxiv_delay": 0,
                "http_timeout": 0.5,
                "retry_max_time": 10,
                **overrides,
            },
            env={},
        )
        fetcher = ArxivFetcher(settings, backoff=0.01)
        fetchers.append(fetcher)
        return fetcher

    yield factory
    for fetcher in fetchers:
        fetcher.close()


def ref(arxiv_id: str, version: int | None = None) -> PaperRef:
    return PaperRef(raw=arxiv_id, arxiv_id=arxiv_id, version=version)


def gaps(requests) -> list[float]:
    return [later.time - earlier.time for earlier, later in itertools.pairwise(requests)]


# -- metadata --------------------------------------------------------------------


def test_metadata_of_a_new_style_id(fake, make_fetcher):
    fake.add_paper(
        "2506.01939",
        version=3,
        title="Beyond the 80/20 Rule:\n  High-Entropy Minority Tokens",
        authors=["Shenzhi Wang", "Le Yu"],
        abstract="The abstract is long enough to be wrapped over several lines by the server. " * 3,
        published=PUBLISHED,
        updated=UPDATED,
        categories=["cs.CL", "cs.LG"],
        comment="25 pages,\n  17 figures",
        doi="10.1234/example.5678",
        journal_ref="NeurIPS 2025",
    )
    meta = make_fetcher().fetch_metadata([ref("2506.01939")])["2506.01939"]

    assert meta.title == "Beyond the 80/20 Rule: High-Entropy Minority Tokens"
    assert meta.authors == ["Shenzhi Wang", "Le Yu"]
    assert meta.abstract == ("The abstract is long enough to be wrapped over several lines by the server. " * 3).strip()
    assert (meta.arxiv_id, meta.version) == ("2506.01939", 3)
    assert (meta.published, meta.updated) == (PUBLISHED, UPDATED)
    assert meta.categories == ["cs.CL", "cs.LG"]
    assert meta.primary_category == "cs.CL"
    assert meta.comment == "25 pages, 17 figures"
    assert meta.doi == "10.1234/example.5678"
    assert meta.journal_ref == "NeurIPS 2025"
    assert meta.pdf_url == f"{fake.base_url}/pdf/2506.01939v3"


def test_metadata_of_an_old_style_id_keeps_the_slash(fake, make_fetcher, pdf_bytes):
    fake.add_paper("hep-th/9901001", version=2, title="Old style", categories=["hep-th"], pdf_bytes=pdf_bytes)
    fetcher = make_fetcher()

    paper = fetcher.fetch(ref("hep-th/9901001"))

    assert (paper.meta.arxiv_id, paper.meta.version) == ("hep-th/9901001", 2)
    assert paper.meta.primary_category == "hep-th"
    assert paper.meta.comment is None and paper.meta.doi is None and paper.meta.journal_ref is None
    assert paper.pdf_path == fetcher.settings.cache_path / "pdf" / "hep-th_9901001v2.pdf"
    assert paper.pdf_path.read_bytes() == pdf_bytes


def test_a_versioned_ref_gets_that_version_and_a_bare_one_the_latest(fake, make_fetcher):
    fake.add_paper("2401.00001", version=1, title="First")
    fake.add_paper("2401.00001", version=2, title="Second")
    fake.add_paper("2401.00002", version=1, title="Other")
    fetcher = make_fetcher()

    pinned = fetcher.fetch_metadata([ref("2401.00001", 1), ref("2401.00002")])
    latest = fetcher.fetch_metadata([ref("2401.00001")])

    assert (pinned["2401.00001"].version, pinned["2401.00001"].title) == (1, "First")
    assert pinned["2401.00002"].version == 1
    assert (latest["2401.00001"].version, latest["2401.00001"].title) == (2, "Second")


def test_150_ids_take_exactly_two_api_requests(fake, make_fetcher):
    ids = [f"2501.{n:05d}" for n in range(1, 151)]
    for arxiv_id in ids[:-5]:  # the last five are unknown to arXiv
        fake.add_paper(arxiv_id)

    found = make_fetcher().fetch_metadata([ref(i) for i in ids])

    assert sorted(found) == ids[:-5]
    assert all(found[i].arxiv_id == i for i in found)
    assert [len(r.query["id_list"].split(",")) for r in fake.api_requests] == [100, 50]


def test_no_refs_no_request(fake, make_fetcher):
    assert make_fetcher().fetch_metadata([]) == {}
    assert fake.requests == []


# -- PDF and cache ---------------------------------------------------------------


def test_pdf_is_cached_and_never_downloaded_twice(fake, make_fetcher, pdf_bytes):
    fake.add_paper("2506.01939", pdf_bytes=pdf_bytes)
    fetcher = make_fetcher()

    first = fetcher.fetch(ref("2506.01939"))
    second = fetcher.fetch(ref("2506.01939", 1))

    assert first.downloaded and not second.downloaded
    assert first.pdf_path == second.pdf_path == fetcher.settings.cache_path / "pdf" / "2506.01939v1.pdf"
    assert first.sha256 == second.sha256 == hashlib.sha256(pdf_bytes).hexdigest()
    assert len(fake.pdf_requests) == 1
    assert [p.name for p in first.pdf_path.parent.iterdir()] == ["2506.01939v1.pdf"]  # no temp files left


def test_without_a_version_the_cache_is_not_trusted(fake, make_fetcher):
    fake.add_paper("2506.01939")
    fetcher = make_fetcher()
    unversioned = PaperMeta(title="t", arxiv_id="2506.01939", pdf_url=f"{fake.base_url}/pdf/2506.01939")
    from_url = PaperMeta(title="t", arxiv_id="2506.01939", pdf_url=f"{fake.base_url}/pdf/2506.01939v1")

    # "latest" may have moved on since the last download: fetch it again.
    assert fetcher.download_pdf(unversioned).downloaded
    assert fetcher.download_pdf(unversioned).downloaded
    # A version in the PDF URL is as good as one in the metadata.
    assert fetcher.download_pdf(from_url).downloaded
    cached = fetcher.download_pdf(from_url)

    assert not cached.downloaded and cached.pdf_path.name == "2506.01939v1.pdf"
    assert len(fake.pdf_requests) == 3


def test_the_cached_pdf_is_found_where_downloads_put_it(fake, make_fetcher, pdf_bytes):
    fake.add_paper("hep-th/9901001", pdf_bytes=pdf_bytes)
    fake.add_paper("hep-th/9901001", version=2, pdf_bytes=pdf_bytes)
    fetcher = make_fetcher()
    settings = fetcher.settings
    assert cached_pdf(settings, "hep-th/9901001", None) is None

    v1 = fetcher.fetch(ref("hep-th/9901001", 1)).pdf_path
    assert cached_pdf(settings, "hep-th/9901001", 1) == v1 and cached_pdf(settings, "hep-th/9901001", 2) is None
    assert cached_pdf(settings, "hep-th/9901001", None) == v1
    v2 = fetcher.fetch(ref("hep-th/9901001", 2)).pdf_path
    os.utime(v1, (time.time() + 60, time.time() + 60))  # whichever came last, not the highest number
    assert cached_pdf(settings, "hep-th/9901001", None) == v1 != v2


def test_html_instead_of_pdf_is_not_a_pdf(fake, make_fetcher):
    fake.add_paper("2506.01939")
    fake.inject("pdf", "html")
    fetcher = make_fetcher()

    with pytest.raises(NotAPdfError, match="HTML page") as caught:
        fetcher.fetch(ref("2506.01939"))

    assert "pass its path" in str(caught.value)
    assert not (fetcher.settings.cache_path / "pdf" / "2506.01939v1.pdf").exists()


def test_oversized_pdf_is_refused(fake, make_fetcher, pdf_bytes):
    fake.add_paper("2506.01939", pdf_bytes=pdf_bytes)
    fetcher = make_fetcher(pdf_max_mb=0.0001)  # about 100 bytes

    with pytest.raises(DownloadTooLargeError, match=r"2506\.01939v1.*PAPERDIARY_PDF_MAX_MB"):
        fetcher.fetch(ref("2506.01939"))

    assert len(fake.pdf_requests) == 1
    assert not list((fetcher.settings.cache_path / "pdf").glob("*"))


def test_oversized_pdf_without_content_length_is_cut_off_while_streaming(fake, make_fetcher):
    fake.add_paper("2506.01939", pdf_bytes=b"%PDF-1.4\n" + b"0" * 300_000)
    fake.inject("pdf", "unsized")
    fetcher = make_fetcher(pdf_max_mb=0.1)

    with pytest.raises(DownloadTooLargeError, match=r"over the 0\.1 MB limit"):
        fetcher.fetch(ref("2506.01939"))


def test_a_connection_closed_mid_pdf_is_retried(fake, make_fetcher, pdf_bytes):
    fake.add_paper("2506.01939", pdf_bytes=pdf_bytes)
    fake.inject("pdf", "cut", bytes=100)

    paper = make_fetcher().fetch(ref("2506.01939"))

    assert paper.pdf_path.read_bytes() == pdf_bytes
    assert len(fake.pdf_requests) == 2


def test_user_agent_names_the_tool_on_api_and_pdf_requests(fake, make_fetcher):
    fake.add_paper("2506.01939")
    make_fetcher(sources="pdf").fetch(ref("2506.01939"))

    agents = {r.route: r.user_agent for r in fake.requests}
    assert set(agents) == {"api", "pdf"}
    assert all(agent.startswith("paperdiary/") and "arxiv.py" not in agent for agent in agents.values())


# -- not found -------------------------------------------------------------------


def test_unknown_id_is_not_found(fake, make_fetcher):
    with pytest.raises(PaperNotFoundError, match=r"2506\.99999"):
        make_fetcher().fetch(ref("2506.99999"))


def test_withdrawn_paper_is_not_found_and_points_to_the_earlier_version(fake, make_fetcher):
    fake.add_paper("2506.01939", version=1)
    fake.add_paper("2506.01939", version=2, withdrawn=True)

    with pytest.raises(PaperNotFoundError, match="withdrawn") as caught:
        make_fetcher().fetch(ref("2506.01939"))

    assert "2506.01939v1" in str(caught.value)
    assert fake.pdf_requests == []


@pytest.mark.parametrize(
    ("comment", "withdrawn"),
    [
        ("This paper has been withdrawn by the author due to a crucial error in Lemma 2", True),
        ("Withdrawn", True),
        ("Paper withdrawn: superseded by 2507.00001", True),
        ("This submission has been withdrawn by arXiv administrators", True),
        ("Replaces a withdrawn preprint; 12 pages", False),
        ("12 pages, 3 figures", False),
        (None, False),
    ],
)
def test_is_withdrawn_reads_arxivs_notices(comment, withdrawn):
    assert is_withdrawn(PaperMeta(title="t", comment=comment)) is withdrawn


def test_malformed_id_fails_at_once(fake, make_fetcher):
    with pytest.raises(FetchError, match="HTTP 400"):
        make_fetcher().fetch_metadata([ref("not-an-id")])
    assert len(fake.api_requests) == 1


def test_html_from_the_api_is_an_error_not_an_empty_result(fake, make_fetcher):
    fake.add_paper("2506.01939")
    fake.inject("api", "html")
    with pytest.raises(FetchError, match="HTML page instead of an Atom feed"):
        make_fetcher().fetch_metadata([ref("2506.01939")])


# -- retries ---------------------------------------------------------------------


def test_429_retry_after_is_honoured(fake, make_fetcher):
    fake.add_paper("2506.01939")
    fake.inject("api", "status", code=429, headers={"Retry-After": "1"})
    fetcher = make_fetcher()

    assert "2506.01939" in fetcher.fetch_metadata([ref("2506.01939")])

    assert fetcher.retry_waits == [1.0]  # the wait asked for (recorded; tests sleep no back-off)
    assert len(fake.api_requests) == 2


def test_retry_after_as_an_http_date(fake, make_fetcher):
    fake.add_paper("2506.01939")
    fake.inject("api", "status", code=503, headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)})
    fetcher = make_fetcher()

    fetcher.fetch_metadata([ref("2506.01939")])

    # HTTP dates have whole seconds: "in 2 s" means a wait in (1, 2].
    assert 1.0 < fetcher.retry_waits[0] <= 2.0


def test_a_burst_of_503s_is_ridden_out(fake, make_fetcher):
    fake.add_paper("2506.01939")
    for _ in range(3):
        fake.inject("api", "status", code=503)
    fetcher = make_fetcher()

    assert "2506.01939" in fetcher.fetch_metadata([ref("2506.01939")])
    assert len(fake.api_requests) == 4
    assert len(fetcher.retry_waits) == 3


@pytest.mark.parametrize("route", ["api", "pdf"])
def test_a_hang_longer_than_the_timeout_is_retried(fake, make_fetcher, route):
    fake.add_paper("2506.01939")
    fake.inject(route, "hang", seconds=3)
    started = time.monotonic()

    paper = make_fetcher().fetch(ref("2506.01939"))

    assert paper.downloaded
    assert len(fake.api_requests if route == "api" else fake.pdf_requests) == 2
    assert time.monotonic() - started < 2.5  # timed out after 0.5 s, did not wait out the hang


def test_a_reset_connection_is_retried(fake, make_fetcher):
    fake.add_paper("2506.01939")
    fake.inject("api", "reset")
    assert "2506.01939" in make_fetcher().fetch_metadata([ref("2506.01939")])
    assert len(fake.api_requests) == 2


def test_persistent_500_gives_up_with_a_clear_error(fake, make_fetcher):
    fake.add_paper("2506.01939")
    for _ in range(10):
        fake.inject("api", "status", code=500)
    started = time.monotonic()

    with pytest.raises(FetchError) as caught:
        make_fetcher().fetch_metadata([ref("2506.01939")])

    message = str(caught.value)
    assert "2506.01939" in message and "6 tries" in message and "HTTP 500" in message
    assert "\n" not in message
    assert len(fake.api_requests) == 6
    assert time.monotonic() - started < 5


def test_a_retry_after_beyond_the_budget_gives_up_at_once(fake, make_fetcher):
    fake.add_paper("2506.01939")
    fake.inject("api", "status", code=429, headers={"Retry-After": "60"})
    started = time.monotonic()

    with pytest.raises(FetchError, match="Retry-After 60 s"):
        make_fetcher(retry_max_time=2).fetch_metadata([ref("2506.01939")])

    assert len(fake.api_requests) == 1
    assert time.monotonic() - started < 1


def test_api_requests_are_paced(fake, make_fetcher):
    fake.add_paper("2506.01939")
    fetcher = make_fetcher(arxiv_delay=0.3)

    fetcher.fetch_metadata([ref("2506.01939")])
    fetcher.fetch_metadata([ref("2506.01939")])

    assert gaps(fake.api_requests)[0] >= 0.29  # 10 ms of slack between the two clocks


# -- local PDFs ------------------------------------------------------------------


def test_local_paper_is_hashed_in_place(tmp_path, pdf_bytes):
    path = tmp_path / "mine.pdf"
    path.write_bytes(pdf_bytes)

    paper = local_paper(PaperRef(raw=str(path), local_pdf=path))

    assert paper.pdf_path == path and not paper.downloaded
    assert paper.sha256 == sha256_file(path) == hashlib.sha256(pdf_bytes).hexdigest()
    assert paper.meta.title == ""


def test_missing_local_pdf_is_a_clear_error(tmp_path):
    path = tmp_path / "gone.pdf"
    with pytest.raises(FetchError, match=r"no such PDF file: .*gone\.pdf"):
        local_paper(PaperRef(raw=str(path), local_pdf=Path(path)))
