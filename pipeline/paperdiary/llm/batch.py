"""Drafting through the OpenAI Batch API: half the price, answers within 24 hours.

The drafter does not know about batches. In a ``catchup --batch-api`` run the LLM
client's ``defer`` hook is a :class:`BatchQueue`: every request that misses the
response cache is queued here (its body exactly as the client would send it, its
cache key as ``custom_id``) and the drafter gets ``LLMDeferred`` instead of an
answer; the paper waits. At the end of the run the queue is submitted: a JSONL
file uploaded, a batch created (``completion_window`` 24h), and the batch and its
requests recorded in the store.

Any later ``catchup`` first collects the batches that finished: it downloads their
output, validates each answer like a direct one, and stores it in the response
cache and the ledger (at the Batch API's price). Drafting those papers again is
then served from the cache. A long paper takes two rounds (its map requests,
then the reduce over their notes); each run submits what it can.

A request already waiting in a batch is never sent again, with or without
``--batch-api``: the hook defers it in every run. An answer that came back
unusable fails its paper (``--retry-failed`` sends the request again).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from paperdiary.errors import LLMError, LLMOutputError
from paperdiary.models import LLMUsage

if TYPE_CHECKING:
    from pydantic import BaseModel

    from paperdiary.llm.client import DeferredRequest, LLMClient
    from paperdiary.state.store import Store

ENDPOINT: Final = "/v1/chat/completions"
COMPLETION_WINDOW: Final = "24h"
MAX_REQUESTS_PER_FILE = 50_000  # the API's limits per input file: 50,000 requests, 200 MB
MAX_FILE_BYTES = 190 * 1024 * 1024
FINISHED = {"completed", "expired", "cancelled", "failed"}  # statuses after which a batch changes no more


class BatchQueue:
    """The LLM client's ``defer`` hook for one catch-up run.

    ``submit``: queue every cache miss for the Batch API (``--batch-api``); without
    it only requests already waiting in a batch are deferred, the rest go direct.
    """

    def __init__(self, store: Store, *, submit: bool):
        self._waiting, self._failed = store.batch_request_keys()
        self._submit = submit
        self._queued: dict[str, DeferredRequest] = {}
        self._lock = threading.Lock()

    def __call__(self, request: DeferredRequest) -> bool:
        if request.key in self._failed:
            raise LLMOutputError(
                f"the Batch API answer for this paper's {request.purpose} request was unusable: {{detail}}",
                detail=self._failed[request.key],
                hint="catchup --retry-failed sends it again (without --batch-api: directly, with a repair round).",
            )
        if request.key in self._waiting:
            return True  # already paid for, in a batch still running: wait for it
        if not self._submit:
            return False
        with self._lock:
            self._queued.setdefault(request.key, request)  # one line per distinct request
        return True

    @property
    def queued(self) -> list[DeferredRequest]:
        with self._lock:
            return list(self._queued.values())

    def submit(self, client: LLMClient, store: Store) -> list[str]:
        """Upload the queued requests and create their batches; returns the batch IDs."""
        return [_submit_group(client, store, group) for group in _groups(self.queued)]


def _groups(requests: list[DeferredRequest]) -> list[list[tuple[DeferredRequest, bytes]]]:
    """Requests with their JSONL lines, split to stay within the API's limits per file."""
    groups: list[list[tuple[DeferredRequest, bytes]]] = [[]]
    size = 0
    for request in requests:
        line = json.dumps({"custom_id": request.key, "method": "POST", "url": ENDPOINT, "body": request.body},
                          ensure_ascii=False).encode("utf-8") + b"\n"
        if groups[-1] and (len(groups[-1]) >= MAX_REQUESTS_PER_FILE or size + len(line) > MAX_FILE_BYTES):
            groups.append([])
            size = 0
        groups[-1].append((request, line))
        size += len(line)
    return [group for group in groups if group]


def _submit_group(client: LLMClient, store: Store, group: list[tuple[DeferredRequest, bytes]]) -> str:
    data = b"".join(line for _, line in group)
    uploaded = client.call_api(
        lambda api: api.files.create(file=("paperdiary-batch.jsonl", data, "application/jsonl"), purpose="batch")
    )
    batch = client.call_api(lambda api: api.batches.create(
        input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window=COMPLETION_WINDOW,
        metadata={"client": "paperdiary"},
    ))
    # Recorded at once: from here on no run sends these requests again.
    store.save_batch(batch.id, endpoint=client.endpoint, model=client.model, input_file_id=uploaded.id,
                     status=batch.status, requests=[
                         {"custom_id": r.key, "paper": r.paper, "purpose": r.purpose, "schema_name": r.schema_name,
                          "mode": r.mode, "messages": r.messages} for r, _ in group])
    return str(batch.id)


# -- collecting --------------------------------------------------------------------------------------


@dataclass
class CollectSummary:
    """What collecting finished batches brought in."""

    answers: int = 0  # stored in the response cache
    failed: int = 0  # came back unusable (their papers fail on the next draft)
    still_running: int = 0  # batches not finished yet
    other_endpoint: int = 0  # batches of another endpoint or model than the one configured
    usage: LLMUsage = field(default_factory=LLMUsage)  # tokens and cost (at the Batch API's price)


def collect_batches(client: LLMClient, store: Store, schemas: Mapping[str, type[BaseModel]]) -> CollectSummary:
    """Retrieve every open batch; store the answers of those that finished.

    ``schemas``: the answer models the deferred requests asked for, by schema name
    (``paperdiary.llm.client.schemas_by_name``); an answer is validated like a direct one.
    """
    summary = CollectSummary()
    for row in store.batches(open_only=True):
        if (row["endpoint"], row["model"]) != (client.endpoint, client.model):
            summary.other_endpoint += 1
            continue
        batch_id = row["id"]
        batch = client.call_api(lambda api: api.batches.retrieve(batch_id))  # noqa: B023 - called at once
        if batch.status not in FINISHED:
            store.set_batch_status(row["id"], batch.status)
            summary.still_running += 1
            continue
        _collect(client, store, row["id"], batch, schemas, summary)
    return summary


def refresh_batches(client: LLMClient, store: Store) -> list[dict[str, Any]]:
    """The open batches with their status and request counts as the server reports them now (for --status)."""
    out = []
    for row in store.batches(open_only=True):
        view = dict(row)
        if (row["endpoint"], row["model"]) == (client.endpoint, client.model):
            batch_id = row["id"]
            batch = client.call_api(lambda api: api.batches.retrieve(batch_id))  # noqa: B023 - called at once
            store.set_batch_status(row["id"], batch.status)
            counts = batch.request_counts
            view.update(status=batch.status, completed=counts.completed if counts else None,
                        failed=counts.failed if counts else None)
        view["papers"] = sorted({r["paper"] or "?" for r in store.batch_requests(row["id"])})
        out.append(view)
    return out


def _collect(client: LLMClient, store: Store, batch_id: str, batch: Any, schemas: Mapping[str, type[BaseModel]],
             summary: CollectSummary) -> None:
    """Store a finished batch's answers; requests it did not answer are failed (completed) or freed (expired...)."""
    lines = _output_lines(client, batch.output_file_id) | _output_lines(client, batch.error_file_id)
    for request in store.batch_requests(batch_id):
        if request["status"] != "pending":
            continue
        line = lines.get(request["custom_id"])
        if line is None:
            # An expired or cancelled batch leaves requests unanswered: free them to be sent again.
            if batch.status == "completed":
                status, error = "failed", "the batch finished without answering it"
            else:
                status, error = "dropped", f"batch {batch.status}"
            store.set_batch_request(batch_id, request["custom_id"], status, error)
            summary.failed += status == "failed"
            continue
        problem = _store_answer(client, request, line, schemas, summary)
        store.set_batch_request(batch_id, request["custom_id"], "failed" if problem else "done", problem)
        summary.failed += problem is not None
        summary.answers += problem is None
    store.set_batch_status(batch_id, "collected" if batch.status == "completed" else batch.status)


def _store_answer(client: LLMClient, request: dict[str, Any], line: dict[str, Any],
                  schemas: Mapping[str, type[BaseModel]], summary: CollectSummary) -> str | None:
    """Validate and cache one answer; the error that makes it unusable, or None."""
    response = line.get("response") or {}
    body = response.get("body") or {}
    if line.get("error") or response.get("status_code") != 200:
        detail = (line.get("error") or {}).get("message") or (body.get("error") or {}).get("message") \
            or f"HTTP {response.get('status_code')}"
        return f"the Batch API answered with an error: {detail}"
    schema = schemas.get(request["schema_name"])
    if schema is None:
        return f"unknown answer schema {request['schema_name']!r}"
    try:
        result = client.accept_deferred(request["messages"], schema, request["mode"], body,
                                        paper=request["paper"], purpose=request["purpose"])
    except LLMError as exc:
        return exc.message
    summary.usage.add(result.usage.prompt_tokens, result.usage.completion_tokens, result.cost_usd, cached=False,
                      estimated=result.usage.estimated)
    return None


def _output_lines(client: LLMClient, file_id: str | None) -> dict[str, dict[str, Any]]:
    """A batch output (or error) file's lines by custom_id."""
    if not file_id:
        return {}
    content = client.call_api(lambda api: api.files.content(file_id))
    lines = {}
    for text in content.text.splitlines():
        if text.strip():
            item = json.loads(text)
            lines[str(item.get("custom_id"))] = item
    return lines
