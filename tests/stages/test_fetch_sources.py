"""The fetch stage picks the paper's best source on the arXiv look-alike: LaTeX, then HTML, then the PDF."""

from __future__ import annotations

import itertools

import pytest

from paperdiary.errors import FetchError
from paperdiary.models import PaperRef
from paperdiary.settings import load_settings
from paperdiary.stages.extract import extract_file
from paperdiary.stages.fetch import ArxivFetcher, pdf_cache_path, source_cache_path
from tests.fakes import sources as fake_sources
from tests.fakes.arxiv_server import FakeArxiv, minimal_pdf

ID = "2506.01939"


@pytest.fixture
def fake():
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def make_fetcher(fake, tmp_path):
    fetchers: list[ArxivFetcher] = []

    def factory(**overrides) -> ArxivFetcher:
        settings = load_settings(diary=tmp_path, env={}, overrides={
            "arxiv_api": fake.api_url, "arxiv_delay": 0, "http_timeout": 2, "retry_max_time": 5, **overrides})
        fetcher = ArxivFetcher(settings, backoff=0.01)
        fetchers.append(fetcher)
        return fetcher

    yield factory
    for fetcher in fetchers:
        fetcher.close()


def ref(version: int | None = None) -> PaperRef:
    return PaperRef(raw=ID, arxiv_id=ID, version=version)


def test_the_latex_source_is_used_and_the_pdf_never_downloaded(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.paper_tarball(), html=fake_sources.latexml_html())
    fetcher = make_fetcher()

    fetched = fetcher.fetch(ref())

    assert (fetched.source, fetched.passed_over, fetched.downloaded) == ("tex", [], True)
    assert fetched.path == source_cache_path(fetcher.settings, ID, 1, "tex")
    assert fetched.path.read_bytes() == fake_sources.paper_tarball()
    assert [r.path for r in fake.eprint_requests] == [f"/e-print/{ID}v1"]
    assert fake.pdf_requests == [] and fake.html_requests == []
    paper = extract_file(fetched.path, fetched.source)
    assert paper.source == "tex" and paper.title == fake_sources.TITLE


def test_a_gzipped_tex_file_is_a_source_too(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.gzipped_tex())
    fetched = make_fetcher().fetch(ref())
    assert fetched.source == "tex" and fake.pdf_requests == []
    assert [s.title for s in extract_file(fetched.path, "tex").sections] == fake_sources.SECTIONS


def test_the_cached_source_is_read_again_without_requests(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.paper_tarball())
    fetcher = make_fetcher()
    first = fetcher.fetch(ref(1))
    requests_before = len(fake.requests)

    again = fetcher.best_source(first.meta)

    assert (again.source, again.downloaded, again.path) == ("tex", False, first.path)
    assert len(fake.requests) == requests_before


def test_a_broken_tarball_falls_back_to_html_then_pdf(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.broken_tarball(), html=fake_sources.latexml_html())
    fetched = make_fetcher().fetch(ref())
    assert fetched.source == "html" and fake.pdf_requests == []
    assert len(fetched.passed_over) == 1 and fetched.passed_over[0].startswith("tex: ")
    assert "truncated" in fetched.passed_over[0]
    assert extract_file(fetched.path, "html").title == fake_sources.TITLE


def test_a_stub_html_page_falls_back_to_the_pdf(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.broken_tarball(), html=fake_sources.STUB_HTML)
    fetcher = make_fetcher()
    fetched = fetcher.fetch(ref())
    assert fetched.source == "pdf" and fetched.pdf_path == pdf_cache_path(fetcher.settings, ID, 1)
    assert [reason.split(":", 1)[0] for reason in fetched.passed_over] == ["tex", "html"]
    assert "could not render" in fetched.passed_over[1]
    assert len(fake.pdf_requests) == 1
    assert not source_cache_path(fetcher.settings, ID, 1, "html").exists()  # unusable sources are not cached


def test_missing_sources_fall_back_to_the_pdf(fake, make_fetcher) -> None:
    fake.add_paper(ID)
    fetched = make_fetcher().fetch(ref())
    assert fetched.source == "pdf"
    assert all("HTTP 404" in reason for reason in fetched.passed_over)
    assert (len(fake.eprint_requests), len(fake.html_requests), len(fake.pdf_requests)) == (1, 1, 1)


def test_missing_and_unusable_sources_are_remembered_for_the_next_run(fake, make_fetcher) -> None:
    pdf = minimal_pdf("Only a PDF was submitted")
    fake.add_paper(ID, pdf_bytes=pdf, eprint_bytes=pdf)  # the e-print is the PDF; there is no HTML (404)
    first = make_fetcher().fetch(ref())
    assert first.source == "pdf" and (len(fake.eprint_requests), len(fake.html_requests)) == (1, 1)

    again = make_fetcher().fetch(ref())  # a later run: a new fetcher on the same cache

    assert again.source == "pdf" and again.path == first.path
    assert (len(fake.eprint_requests), len(fake.html_requests), len(fake.pdf_requests)) == (1, 1, 0)
    assert [reason.split(":", 1)[0] for reason in again.passed_over] == ["tex", "html"]
    assert all("remembered from an earlier run" in reason for reason in again.passed_over)
    assert "no LaTeX source" in again.passed_over[0] and "HTTP 404" in again.passed_over[1]


def test_a_remembered_source_is_asked_again_at_another_url_or_limit_or_after_a_week(fake, make_fetcher) -> None:
    import os
    import time

    from paperdiary.stages.fetch import UNUSABLE_FOR_S, unusable_marker_path

    fake.add_paper(ID, html=fake_sources.latexml_html())  # no e-print (404)
    fetcher = make_fetcher()
    assert fetcher.fetch(ref()).source == "html" and len(fake.eprint_requests) == 1
    marker = unusable_marker_path(fetcher.settings, fetcher.fetch_metadata([ref()])[ID], "tex")
    assert marker is not None and marker.is_file()

    make_fetcher(arxiv_eprint_url=f"{fake.base_url}/e-print/{{}}?mirror=1").fetch(ref())
    assert len(fake.eprint_requests) == 2  # another URL: its answer is not known
    make_fetcher(source_max_mb=500).fetch(ref())
    assert len(fake.eprint_requests) == 3  # another size limit: "too big" may no longer hold
    make_fetcher().fetch(ref())
    make_fetcher().fetch(ref())
    assert len(fake.eprint_requests) == 4  # asked once more as before, then remembered again
    old = time.time() - UNUSABLE_FOR_S - 60
    os.utime(marker, (old, old))
    make_fetcher().fetch(ref())
    assert len(fake.eprint_requests) == 5  # the note went stale: arXiv may have the source by now


def test_a_network_failure_is_not_remembered(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.paper_tarball())
    first = make_fetcher(arxiv_eprint_url="http://127.0.0.1:9/e-print/{}", retry_max_time=0.5).fetch(ref())
    assert first.source == "pdf"
    assert make_fetcher().fetch(ref()).source == "tex"


def test_an_eprint_that_is_the_pdf_is_not_downloaded_twice(fake, make_fetcher) -> None:
    pdf = minimal_pdf("Only a PDF was submitted")
    fake.add_paper(ID, pdf_bytes=pdf, eprint_bytes=pdf)
    fetcher = make_fetcher()
    fetched = fetcher.fetch(ref())
    assert fetched.source == "pdf" and fetched.path.read_bytes() == pdf
    assert "no LaTeX source" in fetched.passed_over[0]
    assert fake.pdf_requests == []  # the e-print was the PDF, kept in the PDF cache


def test_the_sources_setting_orders_and_limits_the_sources(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.paper_tarball(), html=fake_sources.latexml_html())
    assert make_fetcher(sources=["html", "tex"]).fetch(ref()).source == "html"
    assert fake.eprint_requests == []
    assert make_fetcher(sources="pdf").fetch(ref()).source == "pdf"


def test_no_usable_source_and_no_pdf_in_the_order_is_an_error(fake, make_fetcher) -> None:
    fake.add_paper(ID, html=fake_sources.STUB_HTML)
    with pytest.raises(FetchError) as caught:
        make_fetcher(sources="tex,html").fetch(ref())
    message = str(caught.value)
    assert "no source of 2506.01939v1 could be used" in message and "HTTP 404" in message
    assert "\n" not in message and "PAPERDIARY_SOURCES" in message


def test_transient_source_failures_are_retried(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.paper_tarball())
    fake.inject("eprint", "status", code=503)
    fake.inject("eprint", "cut", bytes=200)
    fetcher = make_fetcher()
    assert fetcher.fetch(ref()).source == "tex"
    assert len(fake.eprint_requests) == 3 and len(fetcher.retry_waits) == 2


def test_a_source_over_the_size_limits_is_passed_over(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.tar_bomb(8))
    fetched = make_fetcher(source_max_mb=2).fetch(ref())
    assert fetched.source == "pdf" and "decompression bomb" in fetched.passed_over[0]


def test_urls_come_from_the_settings(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.paper_tarball())
    broken = make_fetcher(arxiv_eprint_url=f"{fake.base_url}/nowhere/{{}}", sources="tex,pdf").fetch(ref())
    assert broken.source == "pdf" and "/nowhere/2506.01939v1" in broken.passed_over[0]
    fetched = make_fetcher(arxiv_eprint_url=f"{fake.base_url}/e-print/{{}}").fetch(ref())
    assert fetched.source == "tex"


def test_every_request_is_paced_and_names_the_tool(fake, make_fetcher) -> None:
    fake.add_paper(ID, eprint_bytes=fake_sources.broken_tarball(), html=fake_sources.STUB_HTML)
    make_fetcher(arxiv_delay=0.3).fetch(ref())
    requests = fake.requests
    assert [r.route for r in requests] == ["api", "eprint", "html", "pdf"]
    # Seen by the server, a gap shrinks by however late a loaded machine handled the request before it;
    # unpaced requests come milliseconds apart, so two thirds of the delay still tells pacing apart.
    assert all(later.time - earlier.time >= 0.2 for earlier, later in itertools.pairwise(requests))
    assert all(r.user_agent.startswith("paperdiary/") for r in requests)
