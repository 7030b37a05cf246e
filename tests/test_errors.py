"""The exception tree (pipeline/paperdiary/errors.py): errors carry their data and render their message from it."""

from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path

import pytest

import paperdiary.errors as errors
from paperdiary.errors import (
    CorruptPdfError,
    ExtractionError,
    FetchError,
    IdentifierError,
    LLMQuotaError,
    PaperDiaryError,
    UsageError,
)

PACKAGE = Path(errors.__file__).parent


def test_a_message_is_rendered_from_the_fields_as_they_are_now() -> None:
    error = CorruptPdfError("{subject} is truncated or corrupt ({detail}).", path=Path("/cache/x.pdf"),
                            detail="no %%EOF marker", hint="Download it again.")
    assert error.message == "/cache/x.pdf is truncated or corrupt (no %%EOF marker)."
    renamed = copy.copy(error)
    renamed.subject = "the PDF of arXiv 2506.01939v1"
    assert str(renamed) == "the PDF of arXiv 2506.01939v1 is truncated or corrupt (no %%EOF marker). Download it again."
    assert error.subject == "/cache/x.pdf" and renamed.path == Path("/cache/x.pdf")


def test_text_from_outside_is_never_read_as_a_template() -> None:
    error = FetchError("cannot request {url}: {detail}.", url="https://a.example/{paper}", detail="{url} {nope}",
                       paper="P")
    assert error.message == "cannot request https://a.example/{paper}: {url} {nope}."
    assert UsageError("a {subject} of {detail}").message == "a {subject} of {detail}"  # no fields: no template


def test_repr_conversion_and_unknown_names() -> None:
    error = IdentifierError("not a paper identifier: {text!r} ({other}).", text="x y")
    assert error.message == "not a paper identifier: 'x y' ({other})." and error.text == "x y"


@pytest.mark.parametrize(
    "error",
    [
        CorruptPdfError("{subject} is broken ({detail}).", path=Path("a.pdf"), detail="d", hint="h"),
        LLMQuotaError("no credit at {endpoint} for {model!r}.", endpoint="http://127.0.0.1:9/v1", model="m"),
        FetchError("arXiv has no paper {paper}.", paper="2506.01939", url="https://arxiv.org/pdf/x"),
    ],
)
def test_errors_keep_their_data_through_pickling(error: PaperDiaryError) -> None:
    """Extraction errors travel from the worker process to the parent this way."""
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error) and vars(again) == vars(error)


def test_every_error_class_lives_in_errors_py() -> None:
    """The exception tree is in one module: no other module subclasses an error of it."""
    names = {name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, Exception)}
    elsewhere = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", getattr(b, "attr", None)) in names
                                                      for b in node.bases):
                elsewhere.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    assert elsewhere == []
    assert all(issubclass(getattr(errors, n), PaperDiaryError) for n in names if n != "PaperDiaryError")
    assert issubclass(ExtractionError, PaperDiaryError)
