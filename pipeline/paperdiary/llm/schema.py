"""The JSON schema a model answers, and how it travels in each rung of the structured-output ladder.

``json_schema`` sends it strict (``strict_json_schema``); ``json_object`` and plain ``text`` carry it in
the system prompt (``messages_for``), ``json_object`` also as llama-cpp-python's ``schema`` extension.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, cast

from pydantic import BaseModel

Mode = Literal["json_schema", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "text")  # best first: the ladder


@dataclass(frozen=True)
class SchemaSpec:
    name: str  # OpenAI wants ^[A-Za-z0-9_-]{1,64}$
    schema: dict[str, Any]
    text: str  # compact canonical JSON, for prompts and the cache key


@lru_cache(maxsize=64)
def schema_spec(model: type[BaseModel]) -> SchemaSpec:
    schema = strict_json_schema(model)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", model.__name__)[:64] or "answer"
    return SchemaSpec(name, schema, json.dumps(schema, sort_keys=True, separators=(",", ":")))


def schemas_by_name(*models: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The answer models under the names requests record them by (``DeferredRequest.schema_name``).

    A caller that collects deferred answers (the Batch API) hands this to the
    collector, which validates each answer against the model it names.
    """
    return {schema_spec(model).name: model for model in models}


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The pydantic model's JSON schema, made acceptable to OpenAI's strict ``json_schema`` mode.

    Strict mode wants every object closed (``additionalProperties: false``) and
    every property required (optional fields stay nullable through their
    ``anyOf``), no ``$ref`` with sibling keywords, ``anyOf`` rather than ``oneOf``,
    and defaults are useless once everything is required.
    """
    schema = model.model_json_schema()
    return cast(dict[str, Any], _strictify(schema, schema.get("$defs", {}), frozenset()))


def _strictify(node: Any, defs: dict[str, Any], inlining: frozenset[str]) -> Any:
    if isinstance(node, list):
        return [_strictify(item, defs, inlining) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith("#/$defs/") and name in defs and name not in inlining:
            # {"$ref": ..., "description": ...}: strict mode rejects the siblings, so inline the target.
            del node["$ref"]
            node = {**defs[name], **node}
            inlining = inlining | {name}
        else:
            node = {"$ref": ref}  # a recursive model: keep the bare reference
    if "allOf" in node and len(node["allOf"]) == 1:
        only = node.pop("allOf")[0]
        node = {**only, **node}
        return _strictify(node, defs, inlining)
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "default":
            continue
        if key in ("properties", "$defs", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _strictify(sub, defs, inlining) for name, sub in value.items()}
        elif (key in ("items", "additionalProperties", "not", "contains") and isinstance(value, dict)) or (
            key in ("anyOf", "allOf", "prefixItems") and isinstance(value, list)
        ):
            out[key] = _strictify(value, defs, inlining)
        else:
            out[key] = value
    if "properties" in out or (out.get("type") == "object" and "additionalProperties" not in out):
        out["required"] = list(out.get("properties", {}))
        out["additionalProperties"] = False
    return out


def format_instruction(spec: SchemaSpec) -> str:
    return (
        "Answer with one JSON object and nothing else: no prose, no code fences. "
        f"It must match this JSON Schema: {spec.text}"
    )


def messages_for(mode: Mode, messages: Sequence[dict[str, str]], spec: SchemaSpec) -> list[dict[str, str]]:
    """The conversation as sent in ``mode``: without json_schema the schema goes into the system prompt."""
    out = [dict(m) for m in messages]
    if mode == "json_schema":
        return out
    instruction = format_instruction(spec)
    # Merged into the first system message: some local chat templates accept only one, at the top.
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0].get('content', '')}\n\n{instruction}"
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out


def response_format(mode: Mode, spec: SchemaSpec) -> dict[str, Any] | None:
    """The request's ``response_format`` in ``mode`` (None for plain text)."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": spec.name, "schema": spec.schema, "strict": True}}
    if mode == "json_object":
        # "schema" is llama-cpp-python's extension: it constrains the output to it; others ignore it.
        return {"type": "json_object", "schema": spec.schema}
    return None
