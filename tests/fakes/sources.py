"""Generate what arXiv serves besides PDFs: e-print tarballs, single gzipped .tex files, LaTeXML HTML, stubs.

One made-up paper, known exactly, in each form, so tests can check what each
reader gets back: its main file ``\\input``s a section file, defines macros with
and without arguments, cites a ``.bbl`` bibliography, has a figure (a real PNG
in the tarball), a table, display and inline math, and an appendix.
"""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import zlib
from html import escape

TITLE = "Routing Tokens: Sparse Attention for Long Documents"
AUTHORS = ["Ada Lovelace", "Alan Turing"]
ABSTRACT_START = "We propose SparseRouter, a router that sends each token to 4 experts."
FIGURE_CAPTION = "Figure 1: The SparseRouter architecture: tokens go to 4 experts."
TABLE_CAPTION = "Table 1: Perplexity on PG-19."
INLINE_MATH = r"$x \in \mathbb{R}^{d}$"
DISPLAY_MATH = r"$$y = \mathrm{softmax}(QK^\top / \sqrt{d}) V$$"
RESULT_SENTENCE = "SparseRouter is 3.2× faster than dense attention at 64K tokens."
SECTIONS = ["Abstract", "1 Introduction", "2 Method", "2.1 Routing", "3 Experiments", "References", "A Proofs"]
KINDS = ["abstract", "body", "body", "body", "body", "references", "appendix"]
_FILLER = ("Routing keeps the cost of attention linear in the length of the document while keeping the quality "
           "of dense attention on every benchmark we tried. ")

MAIN_TEX = r"""\documentclass{article}
\usepackage{amsmath,graphicx}
%% \newcommand{\hidden}{COMMENTED OUT}
\newcommand{\method}{SparseRouter}
\newcommand{\R}{\mathbb{R}}
\newcommand{\experts}[1]{#1 experts}
\renewcommand{\vec}[2][d]{#2 \in \R^{#1}}
\def\speedup#1{#1$\times$}
\title{Routing Tokens:\\ Sparse Attention for Long Documents}
\author{Ada Lovelace\thanks{Equal contribution.} \\ University of Somewhere \and Alan Turing \\ Example Lab}
\begin{document}
\maketitle
\begin{abstract}
We propose \method{}, a router that sends each token to \experts{4}. % not in the text
It needs 50\% less memory than dense attention~\cite{vaswani2017}.
\end{abstract}
\section{Introduction}\label{sec:intro}
Long documents need attention over many tokens. \textbf{\method} maps each token $\vec{x}$ to a few
experts, as \citet{vaswani2017} route heads. We describe it in Section~\ref{sec:method} and
Figure~\ref{fig:arch}.
FILLER
\begin{figure}[t]
\centering
\includegraphics[width=\linewidth]{figures/arch.png}
\caption{The \method{} architecture: tokens go to \experts{4}.}\label{fig:arch}
\end{figure}
\input{sections/method}
\section{Experiments}\label{sec:experiments}
\method{} is \speedup{3.2} faster than dense attention at 64K tokens.
Table~\ref{tab:ppl} lists the perplexity.
\begin{table}[h]
\caption{Perplexity on PG-19.}\label{tab:ppl}
\begin{tabular}{lc} Model & PPL \\ \hline Dense & 20.1 \\ Ours & 19.8 \end{tabular}
\end{table}
FILLER
\bibliographystyle{plainnat}
\bibliography{refs}
\appendix
\section{Proofs}\label{app:proofs}
The bound of Equation~\eqref{eq:attn} holds for every router. FILLER
\end{document}
""".replace("FILLER", _FILLER * 3)

METHOD_TEX = r"""\section{Method}\label{sec:method}
% a comment with 100\% of nothing
The router scores tokens with
\begin{equation}
y = \mathrm{softmax}(QK^\top / \sqrt{d}) V \label{eq:attn}
\end{equation}
and keeps the top \experts{4} for each token (see \cref{sec:intro}).
\subsection{Routing}
Each expert sees at most $k$ tokens, so the cost is $O(nk)$. FILLER
""".replace("FILLER", _FILLER * 2)

BBL = r"""\begin{thebibliography}{1}
\bibitem[Vaswani et~al.(2017)Vaswani, Shazeer, and Parmar]{vaswani2017}
Ashish Vaswani, Noam Shazeer, and Niki Parmar.
\newblock Attention is all you need.
\newblock In \emph{NeurIPS}, 2017.
\end{thebibliography}
"""


def png(width: int = 4, height: int = 4) -> bytes:
    """A small grey PNG, a figure of the tarball (never read as text)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def tarball(files: dict[str, str | bytes], *, gzipped: bool = True) -> bytes:
    """A (gzipped) tar holding ``files`` (path -> text or bytes), as arXiv's e-print sends it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return gzip.compress(raw, mtime=0) if gzipped else raw


def paper_tarball() -> bytes:
    """The made-up paper as arXiv serves its source: main file, an \\input file, the .bbl, a figure."""
    return tarball({
        "main.tex": MAIN_TEX,
        "sections/method.tex": METHOD_TEX,
        "main.bbl": BBL,
        "figures/arch.png": png(),
        "neurips_2024.sty": "% a style file\n\\ProvidesPackage{neurips_2024}\n",
    })


def gzipped_tex() -> bytes:
    """The same paper as one gzipped .tex file (the \\input pasted in, the bibliography inline)."""
    single = MAIN_TEX.replace(r"\input{sections/method}", METHOD_TEX)
    single = single.replace(r"\bibliography{refs}", BBL)
    return gzip.compress(single.encode(), mtime=0)


def tar_bomb(expanded_mb: int = 64) -> bytes:
    """A gzipped tar whose one member inflates to ``expanded_mb`` MB of zeros."""
    return tarball({"main.tex": b"\\documentclass{article}\n" + b"\0" * (expanded_mb << 20)})


def broken_tarball() -> bytes:
    """Gzip data cut in the middle: the download arXiv sent was damaged."""
    data = paper_tarball()
    return data[: len(data) // 2]


def _p(text: str) -> str:
    return f'<div class="ltx_para"><p class="ltx_p">{text}</p></div>'


def _math(latex: str, *, block: bool = False) -> str:
    display = "block" if block else "inline"
    return (f'<math alttext="{escape(latex)}" class="ltx_Math" display="{display}"><semantics><mrow><mi>x</mi>'
            f'</mrow></semantics></math>')


def latexml_html() -> str:
    """The made-up paper as arXiv's LaTeXML HTML rendering (the parts of its markup the reader meets)."""
    filler = escape(_FILLER * 3)
    cite = ('<cite class="ltx_cite ltx_citemacro_citep">(<a class="ltx_ref" href="#bib.bib1">'
            'Vaswani et al., <span class="ltx_text">2017</span></a>)</cite>')
    note = ('<span class="ltx_note ltx_role_footnote"><sup class="ltx_note_mark">1</sup>'
            '<span class="ltx_note_outer"><span class="ltx_note_content">A footnote.</span></span></span>')
    intro = _p("Long documents need attention over many tokens. SparseRouter maps each token "
               + _math(r"x \in \mathbb{R}^{d}") + " to a few experts" + note + ". " + filler)
    equation = _math(r"y = \mathrm{softmax}(QK^\top / \sqrt{d}) V", block=True)
    routing = _p("Each expert sees at most " + _math("k") + " tokens, so the cost is " + _math("O(nk)") + ". "
                 + filler)
    return f"""<!DOCTYPE html><html lang="en"><head><title>{escape(TITLE)}</title>
<script>var x = "not text";</script><style>.ltx_p {{ }}</style></head>
<body><nav class="ltx_page_navbar"><a href="#S1">1 Introduction</a></nav>
<div class="ltx_page_main"><div class="ltx_page_content">
<article class="ltx_document ltx_authors_1line">
<h1 class="ltx_title ltx_title_document">Routing Tokens:<br class="ltx_break"/>Sparse Attention for Long Documents</h1>
<div class="ltx_authors"><span class="ltx_creator ltx_role_author"><span class="ltx_personname">Ada Lovelace
<br class="ltx_break"/>University of Somewhere</span></span><span class="ltx_author_before"> and </span>
<span class="ltx_creator ltx_role_author"><span class="ltx_personname">Alan Turing<br class="ltx_break"/>Example Lab
</span></span></div>
<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p">We propose SparseRouter, a router that sends each token to 4 experts.
It needs 50% less memory than dense attention {cite}.</p></div>
<section class="ltx_section" id="S1"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">1
</span>Introduction</h2>
{intro}
<figure class="ltx_figure" id="S1.F1"><img src="x1.png" class="ltx_graphics" alt=""/>
<figcaption class="ltx_caption ltx_centering"><span class="ltx_tag ltx_tag_figure">Figure 1: </span>The
SparseRouter architecture: tokens go to 4 experts.</figcaption></figure>
</section>
<section class="ltx_section" id="S2"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">2
</span>Method</h2>
{_p("The router scores tokens with")}
<table class="ltx_equation ltx_eqn_table" id="S2.E1"><tbody><tr class="ltx_equation ltx_eqn_row">
<td class="ltx_eqn_cell">{equation}</td>
<td class="ltx_eqn_cell ltx_eqn_eqno"><span class="ltx_tag ltx_tag_equation">(1)</span></td></tr></tbody></table>
<section class="ltx_subsection" id="S2.SS1"><h3 class="ltx_title ltx_title_subsection"><span class="ltx_tag
ltx_tag_subsection">2.1 </span>Routing</h3>
{routing}
</section></section>
<section class="ltx_section" id="S3"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">3
</span>Experiments</h2>
{_p(RESULT_SENTENCE + " " + filler)}
<figure class="ltx_table" id="S3.T1"><figcaption class="ltx_caption"><span class="ltx_tag ltx_tag_table">Table 1:
</span>Perplexity on PG-19.</figcaption><table class="ltx_tabular"><tr><td>Dense</td><td>20.1</td></tr></table>
</figure></section>
<section class="ltx_bibliography" id="bib"><h2 class="ltx_title ltx_title_bibliography">References</h2>
<ul class="ltx_biblist"><li class="ltx_bibitem" id="bib.bib1"><span class="ltx_bibblock">Ashish Vaswani, Noam
Shazeer, and Niki Parmar. Attention is all you need. In NeurIPS, 2017.</span></li></ul></section>
<section class="ltx_appendix" id="A1"><h2 class="ltx_title ltx_title_appendix"><span class="ltx_tag
ltx_tag_appendix">Appendix A </span>Proofs</h2>
{_p("The bound of Equation (1) holds for every router. " + filler)}
</section></article></div>
<footer class="ltx_page_footer"><div class="ltx_page_logo">Generated by LaTeXML</div></footer>
</div></body></html>"""


STUB_HTML = """<!DOCTYPE html><html><head><title>arXiv</title></head><body>
<h1>No HTML for '2506.01939'</h1><p>HTML is not available for the source.
This could be due to the source files not being HTML, LaTeX, or a conversion failure.</p></body></html>"""
