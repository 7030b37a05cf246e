"""Every form a user pastes resolves to the same paper; anything else is a clear usage error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperdiary.errors import IdentifierError
from paperdiary.stages.identify import ACCEPTED_FORMS, identify


@pytest.mark.parametrize(
    ("text", "arxiv_id", "version"),
    [
        ("2506.01939", "2506.01939", None),
        ("2506.01939v2", "2506.01939", 2),
        ("arXiv:2506.01939", "2506.01939", None),
        ("arxiv: 2506.01939v3", "2506.01939", 3),
        ("  2506.01939\n", "2506.01939", None),
        ("https://arxiv.org/abs/2506.01939", "2506.01939", None),
        ("https://arxiv.org/abs/2506.01939v2", "2506.01939", 2),
        ("http://arxiv.org/abs/2506.01939/", "2506.01939", None),
        ("https://arxiv.org/abs/2506.01939?context=cs.LG#sec", "2506.01939", None),
        ("arxiv.org/abs/2506.01939", "2506.01939", None),
        ("https://www.arxiv.org/abs/2506.01939", "2506.01939", None),
        ("https://arxiv.org/pdf/2506.01939", "2506.01939", None),
        ("https://arxiv.org/pdf/2506.01939.pdf", "2506.01939", None),
        ("https://arxiv.org/pdf/2506.01939v2", "2506.01939", 2),
        ("https://arxiv.org/pdf/2506.01939v2.pdf", "2506.01939", 2),
        ("http://export.arxiv.org/abs/2506.01939", "2506.01939", None),
        ("https://export.arxiv.org/pdf/2506.01939v1", "2506.01939", 1),
        ("https://huggingface.co/papers/2506.01939", "2506.01939", None),
        ("https://www.alphaxiv.org/abs/2506.01939", "2506.01939", None),
        ("https://www.alphaxiv.org/overview/2506.01939v2", "2506.01939", 2),
        ("https://doi.org/10.48550/arXiv.2506.01939", "2506.01939", None),
        ("hep-th/9901001", "hep-th/9901001", None),
        ("math.GT/0309136v2", "math/0309136", 2),
        ("https://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001", 1),
        ("https://arxiv.org/pdf/math.GT/0309136v2", "math/0309136", 2),
        ("1412.6980", "1412.6980", None),
    ],
)
def test_accepted_forms(text: str, arxiv_id: str, version: int | None) -> None:
    ref = identify(text)
    assert (ref.arxiv_id, ref.version, ref.local_pdf) == (arxiv_id, version, None)
    assert ref.raw == text


def test_local_pdf_path(tmp_path) -> None:
    pdf = tmp_path / "My Paper.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    ref = identify(str(pdf))
    assert ref.local_pdf == pdf.resolve() and ref.arxiv_id is None


def test_missing_local_pdf_names_the_file(tmp_path) -> None:
    with pytest.raises(IdentifierError, match="no such PDF file") as info:
        identify(str(tmp_path / "nope.pdf"))
    assert "nope.pdf" in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["", "hello", "2513.01939", "2506.01939v0", "1706", "https://example.com/paper.pdf",
     "https://arxiv.org/list/cs.LG/recent", "https://github.com/x/2506.01939", "2506.01939 2506.01940",
     "../../etc/passwd"],
)
def test_rejected_with_accepted_forms(text: str) -> None:
    with pytest.raises(IdentifierError) as info:
        identify(text)
    assert info.value.exit_code == 2
    message = str(info.value)
    assert "\n" not in message
    if text.strip():
        assert "Accepted forms" in message


new_ids = st.builds(
    lambda yy, mm, n, five: f"{yy:02d}{mm:02d}.{n:05d}" if five else f"{yy:02d}{mm:02d}.{n % 10000:04d}",
    st.integers(7, 99), st.integers(1, 12), st.integers(0, 99999), st.booleans(),
)
old_ids = st.builds(
    lambda archive, num: f"{archive}/{num:07d}",
    st.sampled_from(["hep-th", "math", "cond-mat", "astro-ph", "cs", "q-bio", "nlin"]),
    st.integers(0, 9_999_999),
)
versions = st.one_of(st.none(), st.integers(1, 30))
wrappers = st.sampled_from([
    "{}", "arXiv:{}", "https://arxiv.org/abs/{}", "http://arxiv.org/pdf/{}", "https://arxiv.org/pdf/{}.pdf",
    "https://export.arxiv.org/abs/{}", "https://huggingface.co/papers/{}", "https://www.alphaxiv.org/abs/{}",
    " {} ", "<https://arxiv.org/abs/{}>",
])


@given(st.one_of(new_ids, old_ids), versions, wrappers)
def test_any_wrapped_id_round_trips(arxiv_id: str, version: int | None, wrapper: str) -> None:
    text = wrapper.format(f"{arxiv_id}v{version}" if version else arxiv_id)
    ref = identify(text)
    assert ref.arxiv_id == arxiv_id
    assert ref.version == version
    assert ref.versioned_id == (f"{arxiv_id}v{version}" if version else arxiv_id)


@given(st.text(max_size=40))
def test_parser_never_crashes(text: str) -> None:
    try:
        ref = identify(text)
    except IdentifierError as exc:
        assert exc.exit_code == 2
    else:
        assert ref.arxiv_id or ref.local_pdf


def test_accepted_forms_lists_every_kind() -> None:
    for needle in ("arXiv:", "huggingface", "alphaxiv", "hep-th", "local .pdf", "/pdf/"):
        assert needle in ACCEPTED_FORMS
