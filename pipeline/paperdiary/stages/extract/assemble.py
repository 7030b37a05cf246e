"""One PDF, start to end, in this process: read, clean, find the paragraphs, the sections, the title and authors."""

from __future__ import annotations

from pathlib import Path

from paperdiary.errors import ImageOnlyPdfError
from paperdiary.models import ExtractedPaper
from paperdiary.stages.extract.clean import move_footnotes, normalize_pages, remove_furniture, remove_stamp
from paperdiary.stages.extract.frontmatter import title_and_authors
from paperdiary.stages.extract.hyphens import Vocabulary
from paperdiary.stages.extract.layout import Layout, Page, letters
from paperdiary.stages.extract.pdf import read_raw
from paperdiary.stages.extract.sections import PatternHeadings, build_sections, merge_headings, outline_headings
from paperdiary.stages.extract.tables import move_captions, remove_tables


# A document with fewer letters than this per page has no usable text layer.
_MIN_LETTERS_PER_PAGE = 20


def parse(path: Path, data: bytes, sha: str) -> ExtractedPaper:
    """The whole extraction of one PDF, in-process."""
    raw = read_raw(path, data)
    pages = raw.pages
    if sum(letters(line.text) for page in pages for line in page.lines) < _MIN_LETTERS_PER_PAGE * len(pages):
        raise ImageOnlyPdfError(
            "{subject} has no text layer (scanned images?).", path=path,
            hint="Run OCR first, e.g. `ocrmypdf in.pdf out.pdf`, and give PaperDiary the result.",
        )
    return _assemble(sha, pages, raw.outline, raw.title, raw.authors)


def _assemble(
    sha: str, pages: list[Page], outline: list[tuple[str, int, int]], meta_title: str | None, meta_authors: list[str]
) -> ExtractedPaper:
    """From pages of lines to the cleaned, sectioned paper."""
    normalize_pages(pages)
    first_page = list(pages[0].lines)
    stamp_id = remove_stamp(pages)
    remove_furniture(pages)
    remove_tables(pages, Layout.of([line for page in pages for line in page.lines]).body_size)
    lines = [line for page in pages for line in page.lines]
    layout = Layout.of(lines)
    lines = move_captions(move_footnotes(lines, layout.body_size))
    vocab = Vocabulary.of([line.text for line in lines])
    page_title, page_authors = title_and_authors(first_page, vocab)
    title = meta_title or page_title
    patterns = PatternHeadings(lines, layout)
    headings = outline_headings(lines, outline) if outline else []
    # The outline lacks unnumbered headings (Abstract, References...): patterns add those.
    headings = merge_headings(headings, patterns.find(numbered=False)) if headings else patterns.find(numbered=True)
    return ExtractedPaper(
        sha256=sha,
        pages=len(pages),
        sections=build_sections(lines, headings, layout, vocab, title),
        title=title,
        authors=meta_authors or page_authors,
        invisible_chars_dropped=sum(page.hidden_chars for page in pages),
        arxiv_stamp_id=stamp_id,
    )
