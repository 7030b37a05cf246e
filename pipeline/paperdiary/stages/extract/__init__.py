"""Extract clean text and sections from a paper PDF (or, through :mod:`paperdiary.stages.sources`, its source).

    extract_file(path, source, timeout=..., cache_dir=...) -> ExtractedPaper  # worker process + cache
    extract_pdf(path, timeout=..., cache_dir=...) -> ExtractedPaper   # the same for a PDF
    read_pdf(path) -> ExtractedPaper                                   # the work itself, in-process
    page_count(path) -> int | None                                     # pages only (cost estimates)

By its layers, in the order a PDF goes through them:

* :mod:`.worker` runs the extraction in a time-limited process and caches it;
* :mod:`.assemble` runs the steps below on one PDF;
* :mod:`.pdf` reads it with pypdf, lines with their geometry, dropping what
  :mod:`.visibility` finds nobody sees (a prompt-injection vector); a page whose
  glyphs pypdf cannot decode gets them from pdfium (:mod:`.glyphs`);
* :mod:`.clean` normalises the lines (NFKC ligatures) and removes the arXiv side
  stamp, page numbers, running headers and footers and conference banners;
* :mod:`.layout` joins wrapped lines into paragraphs, re-joining words
  hyphenated at line ends (:mod:`.hyphens`) unless the document spells them with
  a hyphen elsewhere;
* :mod:`.sections` splits the text from the PDF outline, or from heading patterns;
* :mod:`.frontmatter` reads the title and authors off page 1.
"""

from paperdiary.stages.extract.clean import normalize_line
from paperdiary.stages.extract.hyphens import Vocabulary, join_lines, keep_hyphen
from paperdiary.stages.extract.pdf import page_count
from paperdiary.stages.extract.worker import extract_file, extract_pdf, read_pdf

__all__ = ["Vocabulary", "extract_file", "extract_pdf", "join_lines", "keep_hyphen", "normalize_line", "page_count",
           "read_pdf"]
