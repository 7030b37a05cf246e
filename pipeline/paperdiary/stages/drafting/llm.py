"""The LLM drafter: a paper -> a grounded Draft, in one call or by map-reduce.

A body that fits the token budget is drafted in one call. A longer one is
summarised chunk by chunk, concurrently (map), and the entry is written from
those notes (reduce). A context-length error from the server shrinks the
budget and takes the map-reduce path instead of failing.

The budget is sized to the model's context window when it is known (the client
asks the server, or ``context_tokens`` says): each request holds the prompt, a
chunk of the paper and room for the answer (``max_tokens``), with headroom for
the model's own tokenizer. Notes too long for one reduce are condensed first,
group by group. Without a known window, chunks are ``chunk_tokens`` long and
answers unbounded on a hosted API (a reasoning model's thinking counts against any bound), while a local
server's answers get an entry's largest size, so a small model that loops cannot run to the window's end.

Every claim arrives with a verbatim quote; grounding marks the ones whose quote
or numbers are not in the paper.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Sequence, TypeVar

from pydantic import BaseModel, Field

from paperdiary.errors import LLMContextLengthError
from paperdiary.llm.client import TOKENIZER_HEADROOM, ContextWindow, LLMClient, LLMResult, schemas_by_name
from paperdiary.llm.schema import format_instruction, schema_spec
from paperdiary.llm.tokens import count_message_tokens, count_tokens
from paperdiary.models import Chunk, ExtractedPaper, LLMUsage, PaperMeta, Section
from paperdiary.settings import Settings
from paperdiary.stages.chunk import chunk_paper
from paperdiary.stages.drafting.contract import Claim, Draft, Lesson, conform_draft, llm_drafter
from paperdiary.stages.drafting.grounding import PaperText
from paperdiary.templates import DiaryPrompts, data_marker, render

# The LLM reads the whole paper, so it may say a little more than the extractive drafter.
LLM_LIST_LIMITS = {
    "key_points": (3, 6),
    "key_methods": (2, 5),
    "results": (2, 6),
    "limitations": (0, 4),
    "lessons": (1, 5),
}
M = TypeVar("M", bound=BaseModel)
_MIN_BUDGET = 1500  # tokens: below this a chunk holds too little to take notes on
_PROMPT_RESERVE = 2500  # tokens for instructions, metadata and the answer
# In a known window: the answer gets a quarter of it, within these bounds (an entry's JSON with quotes
# takes 1,500 to 3,000 tokens), and a chunk at least _MIN_WINDOW_CHUNK tokens of the paper.
_ANSWER_TOKENS = (1024, 4096)
_MIN_WINDOW_CHUNK = 512
# A map step's notes are notes, not an entry: a tenth of the window, within these bounds. A small model that
# loops stops at the bound, and its cut-off notes are salvaged (json_repair), not asked for twice more.
_NOTE_TOKENS = (512, 1024)


# --- what the model answers (JSON schemas are generated from these) -------------------------
class QuotedPoint(BaseModel):
    text: str = Field(description="One or two sentences; the key phrase in **bold**.")
    quote: str = Field(description="8 to 40 words copied verbatim from the paper that support the text.")


class CandidateLesson(BaseModel):
    lesson: str = Field(description="One sentence, a transferable insight; key phrase in **bold**.")
    theme: str = Field(description="One of the diary's themes, or a short new theme name.")
    why: str = Field(description="Why it is worth a line in the README, in a few words.")
    quote: str = Field(description="8 to 40 words copied verbatim from the paper that support the lesson.")


class EntryAnswer(BaseModel):
    short_name: str = Field(description="CamelCase file name, letters and digits, at most 40 characters.")
    description: str = Field(description="One line, at most 20 words, for the diary's index.")
    key_points: list[QuotedPoint]
    key_methods: list[QuotedPoint]
    results: list[QuotedPoint]
    limitations: list[QuotedPoint]
    lessons: list[CandidateLesson] = Field(description="1 to 5 candidate lessons.")


class PartNotes(BaseModel):
    summary: str = Field(description="2 to 4 sentences on this part.")
    key_points: list[QuotedPoint]
    methods: list[QuotedPoint]
    results: list[QuotedPoint]
    limitations: list[QuotedPoint]


# The answers this drafter asks for, by schema name: what the Batch API's answers are validated against.
ANSWER_SCHEMAS = schemas_by_name(EntryAnswer, PartNotes)


@dataclass
class _Note:
    sections: str
    text: str


@dataclass(frozen=True)
class _Sizes:
    chunk: int  # tokens of paper text per request
    answer: int | None  # max_tokens of an entry's answer; None: the server's own limit
    window: int | None  # the context window they were sized to; None: unknown
    notes: int | None = None  # max_tokens of a map step's notes; None: the server's own limit


class LLMDrafter:
    """Drafts entries with an OpenAI-compatible model, through LLMClient (cache, ledger, retries)."""

    def __init__(self, settings: Settings, client: LLMClient, *, themes: Sequence[str] = ()):
        self.settings = settings
        self.client = client
        self.themes = list(themes)  # the README's themes, which the prompt asks the model to prefer
        self.prompts = DiaryPrompts.of(settings)

    # public -----------------------------------------------------------------------------------
    def draft(self, meta: PaperMeta, paper: ExtractedPaper, chunks: list[Chunk]) -> Draft:
        """``chunks`` come from the chunk stage, cut to ``settings.chunk_tokens``; cut again to the window."""
        usage = LLMUsage()
        label = meta.arxiv_id or meta.title
        total_tokens = sum(c.tokens for c in chunks)
        sizes = self._sizes(meta, self.client.context_window())
        if any(chunk.tokens > sizes.chunk for chunk in chunks):
            chunks = chunk_paper(paper, sizes.chunk)
        if len(chunks) == 1:
            try:
                answer = self._single(meta, chunks[0], label, usage, sizes)
                path = "single call"
            except LLMContextLengthError as exc:
                # The server's window is smaller than our budget: split and go the long way.
                sizes = self._after_context_error(meta, exc, chunks[0].tokens)
                chunks = chunk_paper(paper, sizes.chunk)
                answer = self._map_reduce(meta, chunks, label, usage, sizes)
                path = f"map-reduce over {len(chunks)} chunks (context-length fallback)"
        else:
            answer = self._map_reduce(meta, chunks, label, usage, sizes)
            path = f"map-reduce over {len(chunks)} chunks"

        draft = self._to_draft(answer, meta, paper)
        draft.usage = usage
        draft.notes = {
            "path": path,
            "read": f"body {total_tokens} tokens in {len(chunks)} chunk(s) of {len(paper.body_sections)} sections; "
                    "references and appendices skipped",
            "model": self.settings.model,
        }
        if sizes.window is not None:
            draft.notes["window"] = f"{sizes.window} tokens, chunks of at most {sizes.chunk}"
        return draft

    # the two paths --------------------------------------------------------------------------------
    def _single(self, meta: PaperMeta, chunk: Chunk, label: str, usage: LLMUsage, sizes: _Sizes) -> EntryAnswer:
        nonce = data_marker(chunk.text)
        user = render("draft_user.j2", self.prompts, nonce=nonce, paper_text=chunk.text, coverage="",
                      **self._meta_context(meta))
        return self._call(nonce, user, EntryAnswer, label, "draft", usage, sizes.answer)

    def _map_reduce(self, meta: PaperMeta, chunks: list[Chunk], label: str, usage: LLMUsage,
                    sizes: _Sizes) -> EntryAnswer:
        notes = self._condense(meta, self._map(meta, chunks, label, usage, sizes), label, usage, sizes)
        coverage = f"{len(chunks)} parts covering {sum(c.tokens for c in chunks)} tokens of the body"
        nonce = data_marker("\n".join(n.text for n in notes))
        user = render("reduce_user.j2", self.prompts, nonce=nonce, notes=notes, coverage=coverage,
                      **self._meta_context(meta))
        return self._call(nonce, user, EntryAnswer, label, "reduce", usage, sizes.answer)

    def _map(self, meta: PaperMeta, chunks: list[Chunk], label: str, usage: LLMUsage, sizes: _Sizes,
             depth: int = 0) -> list[_Note]:
        def one(chunk: Chunk) -> list[_Note]:
            nonce = data_marker(chunk.text)
            user = render("map_user.j2", self.prompts, nonce=nonce, paper_text=chunk.text, part=chunk.index + 1,
                          parts=len(chunks), title=meta.title, sections=", ".join(chunk.section_titles))
            try:
                notes = self._call(nonce, user, PartNotes, label, "map", usage, sizes.notes)
            except LLMContextLengthError:
                if depth >= 3 or chunk.tokens // 2 < min(_MIN_BUDGET, sizes.chunk):
                    raise
                return self._map(meta, _split_chunk(chunk, chunk.tokens // 2), label, usage, sizes, depth + 1)
            return [_Note(", ".join(chunk.section_titles), _format_notes(notes))]

        # Every part runs even when one fails: pool.map would cancel the parts not yet started, and a
        # deferred (Batch API) part must not keep the others from queueing their requests. Their answers
        # are cached either way, so a retry pays for none of them twice.
        with ThreadPoolExecutor(max_workers=max(1, self.settings.llm_concurrency)) as pool:
            futures = [pool.submit(one, chunk) for chunk in chunks]
            wait(futures)
        return [note for future in futures for note in future.result()]

    def _condense(self, meta: PaperMeta, notes: list[_Note], label: str, usage: LLMUsage, sizes: _Sizes,
                  rounds: int = 3) -> list[_Note]:
        """Notes that fit one reduce call: in a small window, groups of notes are noted again, until they do."""
        text = "\n\n".join(f"## Part {n + 1}: {note.sections}\n{note.text}" for n, note in enumerate(notes))
        if count_tokens(text) <= sizes.chunk:
            return notes
        if len(notes) < 2:
            return _trimmed(notes, sizes.chunk)
        part = ExtractedPaper("", 0, [Section(note.sections, note.text) for note in notes])
        groups = chunk_paper(part, sizes.chunk)
        if len(groups) >= len(notes):  # each note fills a chunk on its own: noting them again would not help
            return _trimmed(notes, sizes.chunk)
        condensed = self._map(meta, groups, label, usage, sizes)
        if rounds == 1:
            return _trimmed(condensed, sizes.chunk)
        return self._condense(meta, condensed, label, usage, sizes, rounds - 1)

    # sizes ----------------------------------------------------------------------------------------------
    def _sizes(self, meta: PaperMeta, window: ContextWindow) -> _Sizes:
        """Chunk and answer sizes for ``window``; today's budget (``chunk_tokens``) when it is unknown."""
        if window.tokens is None:
            if self.client.local:  # a small local model may not stop: an entry's size bounds its answer
                return _Sizes(self.settings.chunk_tokens, _ANSWER_TOKENS[1], None, _NOTE_TOKENS[1])
            return _Sizes(self.settings.chunk_tokens, None, None)
        low, high = _ANSWER_TOKENS
        answer = max(low, min(high, window.tokens // 4))
        room = int((window.tokens - answer) / TOKENIZER_HEADROOM) - self._prompt_tokens(meta)
        if room < _MIN_WINDOW_CHUNK:
            raise LLMContextLengthError(
                f"the context window of model {{model!r}} ({window.describe()}) leaves no room for the paper: "
                f"the prompt takes about {self._prompt_tokens(meta):,} tokens and the answer {answer:,}.",
                endpoint=self.client.endpoint, model=self.settings.model, max_tokens=window.tokens,
                hint="Serve the model with a larger window (llama.cpp -c, Ollama num_ctx) and set context_tokens, "
                     "or use a model with a longer context.")
        notes = min(answer, max(_NOTE_TOKENS[0], min(_NOTE_TOKENS[1], window.tokens // 10)))
        return _Sizes(min(self.settings.chunk_tokens, room), answer, window.tokens, notes)

    def _after_context_error(self, meta: PaperMeta, exc: LLMContextLengthError, tried: int) -> _Sizes:
        """Sizes for the map-reduce path once a prompt of ``tried`` tokens did not fit."""
        if exc.max_tokens:
            sizes = self._sizes(meta, ContextWindow(exc.max_tokens, "the server's context-length error"))
            return replace(sizes, chunk=max(_MIN_WINDOW_CHUNK, min(sizes.chunk, tried // 2)))
        known = self._sizes(meta, self.client.context_window())
        return replace(known, chunk=self._budget(min(known.chunk, tried) // 2))

    def _prompt_tokens(self, meta: PaperMeta) -> int:
        """Tokens of the longest prompt without its paper text: system prompt, instructions, metadata, and the
        schema as the lower rungs of the ladder put it in the system prompt."""
        nonce = data_marker("")
        system = render("draft_system.j2", self.prompts, themes=self.themes, nonce=nonce)
        single = render("draft_user.j2", self.prompts, nonce=nonce, paper_text="", coverage="",
                        **self._meta_context(meta))
        mapped = render("map_user.j2", self.prompts, nonce=nonce, paper_text="", part=1, parts=1, title=meta.title,
                        sections="")
        schema = count_tokens(format_instruction(schema_spec(EntryAnswer)))
        return schema + max(count_message_tokens([{"content": system}, {"content": user}])
                            for user in (single, mapped))

    # helpers ---------------------------------------------------------------------------------------
    def _call(self, nonce: str, user: str, schema: type[M], label: str, purpose: str, usage: LLMUsage,
              max_tokens: int | None) -> M:
        system = render("draft_system.j2", self.prompts, themes=self.themes, nonce=nonce)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        result: LLMResult[M] = self.client.structured(messages, schema, paper=label, purpose=purpose,
                                                      max_tokens=max_tokens)
        usage.add(result.usage.prompt_tokens, result.usage.completion_tokens, result.cost_usd,
                  cached=result.cached, estimated=result.usage.estimated)
        return result.value

    def _budget(self, tokens: int) -> int:
        return max(_MIN_BUDGET, tokens - _PROMPT_RESERVE if tokens > 2 * _PROMPT_RESERVE else tokens)

    @staticmethod
    def _meta_context(meta: PaperMeta) -> dict[str, str]:
        return {"title": meta.title, "authors": ", ".join(meta.authors[:12]) or "unknown",
                "abstract": meta.abstract}

    def _to_draft(self, answer: EntryAnswer, meta: PaperMeta, paper: ExtractedPaper) -> Draft:
        source = PaperText(paper.full_text + "\n" + meta.abstract)

        def claims(points: list[QuotedPoint]) -> list[Claim]:
            out = []
            for point in points:
                check = source.check(point.text, point.quote)
                out.append(Claim(point.text, point.quote, check.verified))
            return out

        known = {t.lower(): t for t in self.themes}
        lessons = []
        for item in answer.lessons:
            check = source.check(item.lesson, item.quote)
            theme = known.get(item.theme.strip().lower(), item.theme.strip()) or None
            lessons.append(Lesson(item.lesson, theme, item.why, item.quote, check.verified))

        return conform_draft(Draft(
            short_name=_plausible_short_name(answer.short_name, meta),
            description=answer.description,
            key_points=claims(answer.key_points),
            key_methods=claims(answer.key_methods),
            results=claims(answer.results),
            limitations=claims(answer.limitations),
            lessons=lessons,
            drafter=llm_drafter(self.settings.model),
        ), LLM_LIST_LIMITS)


def _plausible_short_name(proposed: str, meta: PaperMeta) -> str:
    """The model's file name when it names this paper, else one made from the title.

    A weak model may answer "CoderCom101285697": a name none of whose words occur in
    the title or abstract is not trusted with the file name the user will browse by.
    """
    words = [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", proposed) if len(w) >= 3]
    source = f"{meta.title} {meta.abstract}".lower()
    if words and sum(w in source for w in words) * 2 >= len(words):
        return proposed
    return meta.title


def _format_notes(notes: PartNotes) -> str:
    """The notes as the reduce step reads them; a point said again (a small model looping) is said once."""
    lines = [notes.summary]
    for heading, points in (("Key points", notes.key_points), ("Methods", notes.methods),
                            ("Results", notes.results), ("Limitations", notes.limitations)):
        said = list(dict.fromkeys(f"- {p.text} (quote: \"{p.quote}\")" for p in points))
        if said:
            lines.append(f"{heading}:")
            lines.extend(said)
    return "\n".join(lines)


def _trimmed(notes: list[_Note], budget: int) -> list[_Note]:
    """Notes cut to share ``budget`` tokens equally: each keeps its first lines (the summary's first sentences,
    then its points with their quotes) that fit its share. The last resort of a window too small for them."""
    share = max(1, budget // max(1, len(notes)) - 16)  # 16: the part's heading
    out = []
    for note in notes:
        lines = note.text.splitlines()
        if lines:  # a long summary gives way to the points: two sentences of it are kept
            lines[0] = " ".join(re.split(r"(?<=[.!?])\s+", lines[0])[:2])
        kept: list[str] = []
        for line in lines:
            if count_tokens("\n".join([*kept, line])) > share:
                break
            kept.append(line)
        out.append(_Note(note.sections, "\n".join(kept)))
    return out


def _split_chunk(chunk: Chunk, budget: int) -> list[Chunk]:
    """One chunk's text again, at paragraph boundaries, within a smaller budget."""
    part = ExtractedPaper("", 0, [Section(", ".join(chunk.section_titles), chunk.text)])
    return chunk_paper(part, budget)
