"""Reading a model's JSON: finding it in the answer, mending it locally, fitting it to the schema.

``parse_answer`` climbs a ladder, cheapest first, and stops at the first rung that gives an object
the schema accepts:

1. the answer as it is: the whole, the whole inside one code fence, each fenced piece, each object
   in the prose (``json_objects``);
2. cut off at the token limit: closed locally, brackets and quotes (``close_truncated_json``);
3. mended locally (``repair_json``): single or curly quotes, unquoted keys, Python's True/None,
   comments, trailing or missing commas, raw newlines inside strings, whatever was left open;
4. fitted to the schema (``fit_to_schema``): keys matched whatever their case or spelling
   (``keyPoints``, ``Key Points``), one item where a list was wanted wrapped in a list, a number
   where a string was wanted written out, a bare string where a quoted point was wanted taken as its
   text. Nothing is invented: a field the answer lacks stays missing, and the answer invalid;
5. salvaged, for an answer cut off at the token limit only (``salvage_cut_off``): the closed answer
   keeps what it wrote, and the lists it never reached are empty (a small model that loops on one
   list until ``max_tokens`` has still written the fields before it). A missing string stays missing.

What none of them mends is for the model to repair (``repair_prompt``); the client asks it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from paperdiary.llm.schema import SchemaSpec, schema_spec

M = TypeVar("M", bound=BaseModel)

_FENCE_RE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_WHOLE_FENCE_RE = re.compile(r"\A\s*```[\w-]*[ \t]*\r?\n(.*)\n[ \t]*```\s*\Z", re.DOTALL)  # greedy: to the last fence


# -- 1. the JSON in an answer --------------------------------------------------------------------


def json_objects(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects an answer may be, the likeliest first: the whole answer, the whole answer inside one
    code fence, each fenced piece, then each object in the prose.

    The whole comes first because a fence can sit inside the answer's strings (a
    lesson quoting code): cut at that inner fence, a piece would be a fragment.
    Objects nested in another are not offered on their own.
    """
    whole = [text.strip()]
    if m := _WHOLE_FENCE_RE.match(text):
        whole.append(m[1])
    for candidate in whole:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            yield value
    decoder = json.JSONDecoder()
    for candidate in [m[1] for m in _FENCE_RE.finditer(text)] + [text]:
        start = candidate.find("{")
        while start != -1:
            try:
                value, end = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                end = start + 1
            else:
                if isinstance(value, dict):
                    yield value
            start = candidate.find("{", end)


def extract_json(text: str) -> Any:
    """The likeliest JSON object in ``text`` (see :func:`json_objects`).

    Raises ``json.JSONDecodeError`` describing the first object that does not parse when none does.
    """
    for value in json_objects(text):
        return value
    raise json_error(text)


def json_error(text: str) -> json.JSONDecodeError:
    """Why ``text`` holds no JSON object: the error at its first ``{``."""
    start = text.find("{")
    try:
        json.JSONDecoder().raw_decode(text, max(start, 0))
    except json.JSONDecodeError as exc:
        return exc
    return json.JSONDecodeError("no JSON object in the answer", text, 0)


# -- 2. an answer cut off ----------------------------------------------------------------------------


def close_truncated_json(text: str, *, limit: int = 8) -> list[str]:
    """Ways to complete JSON cut off mid-way, most complete first (``[]`` if nothing is open).

    First the text itself with the open string and brackets closed; then the text
    backed up to each earlier point where a value was complete (dropping a
    dangling key or a half-written array item), at most ``limit`` candidates.
    """
    start = text.find("{")
    if start == -1:
        return []
    text = text[start:]
    closers: list[str] = []
    in_string = escaped = string_is_key = False
    expecting_key = False  # inside an object, after "{" or ","
    safe: list[tuple[int, str]] = []  # (end, closers) where everything before is complete
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if not string_is_key:
                    safe.append((index + 1, "".join(reversed(closers))))
            continue
        if char == '"':
            in_string, string_is_key, expecting_key = True, expecting_key, False
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
            expecting_key = char == "{"
            safe.append((index + 1, "".join(reversed(closers))))
        elif char in "}]":
            if closers:
                closers.pop()
            expecting_key = False
            safe.append((index + 1, "".join(reversed(closers))))
        elif char == ",":
            # The value before a comma is complete (numbers and literals end there).
            safe.append((index, "".join(reversed(closers))))
            expecting_key = bool(closers) and closers[-1] == "}"
    if not closers and not in_string:
        return []  # nothing open: the cut was not inside the object
    tail = "".join(reversed(closers))
    options = [text + '"' + tail] if in_string and not string_is_key else []
    if not in_string:
        options.append(text.rstrip() + tail)  # ends on a whole number or literal, perhaps
    for end, closing in reversed(safe):
        option = text[:end].rstrip().rstrip(",") + closing
        if option not in options:
            options.append(option)
        if len(options) >= limit:
            break
    return options


# -- 3. mended locally ---------------------------------------------------------------------------------

_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}  # opening -> closing
_LITERALS = {"true": "true", "false": "false", "null": "null", "True": "true", "False": "false", "None": "null"}
_WORD_RE = re.compile(r"[A-Za-z_$][\w$-]*")
_NUMBER_RE = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def repair_json(text: str) -> str | None:
    """The first object in ``text`` rewritten as strict JSON, mending what small models get wrong; None when
    there is no ``{`` at all. The result may still not parse (then the model is asked)."""
    start = text.find("{")
    if start == -1:
        return None
    out: list[str] = []
    stack: list[str] = []  # the closers of what is open
    i, n = start, len(text)

    def value_ended() -> bool:  # the last thing written completes a value (a comma may be missing after it)
        last = out[-1][-1:] if out else ""
        return bool(last) and last not in "{[,:"

    while i < n:
        char = text[i]
        if char in " \t\r\n":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
        elif char in "{[":
            if value_ended():
                out.append(",")
            stack.append("}" if char == "{" else "]")
            out.append(char)
            i += 1
        elif char in "}]":
            if not stack:
                break
            if out and out[-1] == ",":
                out.pop()  # a trailing comma
            out.append(stack.pop())
            i += 1
            if not stack:
                break  # the object is complete: what follows is prose
        elif char == ",":
            if value_ended():
                out.append(",")
            i += 1
        elif char == ":":
            out.append(":")
            i += 1
        elif char in _QUOTES:
            string, i = _read_string(text, i, _QUOTES[char])
            if value_ended():
                out.append(",")
            out.append(json.dumps(string, ensure_ascii=False))
        elif m := _NUMBER_RE.match(text, i):
            if value_ended():
                out.append(",")
            number = m[0]
            out.append(number if not number.endswith(".") else number + "0")
            i = m.end()
            if number.startswith("."):
                out[-1] = "0" + out[-1]
        elif m := _WORD_RE.match(text, i):
            word = m[0]
            if value_ended():
                out.append(",")
            following = text[m.end():].lstrip()[:1]
            if following == ":" or word not in _LITERALS:
                out.append(json.dumps(word))  # an unquoted key (or a bare word: kept as a string)
            else:
                out.append(_LITERALS[word])
            i = m.end()
        else:
            i += 1  # a stray character
    if out and out[-1] == ",":
        out.pop()
    elif out and out[-1] == ":":
        out.append("null")  # a key cut off before its value
    out.extend(reversed(stack))
    return "".join(out)


def _read_string(text: str, start: int, closing: str) -> tuple[str, int]:
    """The string opening at ``start`` and where it ends; a string never closed runs to the end of the text."""
    chars: list[str] = []
    i = start + 1
    escapes = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"', "'": "'"}
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2:i + 6]):
                chars.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            chars.append(escapes.get(following, following))
            i += 2
            continue
        if char == closing and _closes(text, i + 1):
            return "".join(chars), i + 1
        chars.append(char)
        i += 1
    return "".join(chars), i


def _closes(text: str, after: int) -> bool:
    """Whether a quote ends its string: only if what follows can follow a string (so the quotes a small model
    leaves unescaped inside a string, 'the so-called "attention" layer', stay in it)."""
    rest = text[after:].lstrip()
    return not rest or rest[0] in ',}]:"\'\u201c\u2018'


# -- 4. fitted to the schema -------------------------------------------------------------------------------


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def fit_to_schema(data: Any, schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """``data`` reshaped where the schema leaves no doubt what was meant (see the module's rung 4)."""
    defs = schema.get("$defs", {}) if defs is None else defs
    if "$ref" in schema:
        return fit_to_schema(data, defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs)
    options = schema.get("anyOf")
    if options:
        if data is None and any(o.get("type") == "null" for o in options):
            return None
        real = [o for o in options if o.get("type") != "null"]
        return fit_to_schema(data, real[0], defs) if len(real) == 1 else data
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _fit_object(data, schema, defs)
    if kind == "array":
        items = data if isinstance(data, list) else [] if data is None else [data]
        fitted = [fit_to_schema(item, schema.get("items", {}), defs) for item in items]
        return [item for item in fitted if item not in (None, "", {})]
    if kind == "string":
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return str(data)
        if isinstance(data, list) and data and all(isinstance(item, str) for item in data):
            return " ".join(data)
        if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), str):
            return next(iter(data.values()))
    if kind in ("integer", "number") and isinstance(data, str):
        try:
            number = float(data.strip())
        except ValueError:
            return data
        return int(number) if kind == "integer" and number.is_integer() else number
    return data


def _fit_object(data: Any, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    properties: dict[str, Any] = schema.get("properties", {})
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, str) and properties:
        # A bare string where {"text": ..., "quote": ...} was wanted: the string is the first string field.
        strings = [name for name, sub in properties.items() if sub.get("type") == "string"]
        if strings and len(strings) == len(properties):
            return {name: data if n == 0 else "" for n, name in enumerate(strings)}
        return data
    if not isinstance(data, dict):
        return data
    by_key = {_key(name): name for name in properties}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = key if key in properties else by_key.get(_key(key))
        if name is not None and name not in out:
            out[name] = fit_to_schema(value, properties[name], defs)
    return out


def salvage_cut_off(data: Any, schema: dict[str, Any]) -> Any:
    """A closed, fitted answer cut off at the token limit, with every list field it never reached empty.

    Only lists: an empty list says "nothing written", which is true of a cut-off answer, where an empty
    string would pass for a description or a name.
    """
    if not isinstance(data, dict):
        return data
    properties: dict[str, Any] = schema.get("properties", {})
    return data | {name: [] for name, sub in properties.items() if name not in data and sub.get("type") == "array"}


# -- the ladder ------------------------------------------------------------------------------------------


@dataclass
class Parsed(Generic[M]):
    value: M | None
    data: Any = None
    problem: str = ""  # why no rung gave a valid answer
    rung: str = ""  # which rung gave it: "as sent", "closed", "mended", "fitted", "salvaged"


def parse_answer(content: str, model: type[M], *, truncated: bool) -> Parsed[M]:
    """The answer validated against ``model``, by the first rung of the ladder that gives a valid one."""
    spec = schema_spec(model)
    mismatch: tuple[Any, ValidationError] | None = None
    tried: list[tuple[str, Any]] = []

    def attempt(rung: str, data: Any) -> Parsed[M] | None:
        nonlocal mismatch
        tried.append((rung, data))
        try:
            return Parsed(model.model_validate(data), data, rung=rung)
        except ValidationError as exc:
            mismatch = mismatch or (data, exc)
            return None

    candidates: list[tuple[str, Any]] = [] if truncated else [("as sent", data) for data in json_objects(content)]
    candidates += [("closed", text) for text in close_truncated_json(content)] if truncated else []
    mended = repair_json(content)
    if mended is not None:
        candidates.append(("mended", mended))
    for rung, candidate in candidates:
        if isinstance(candidate, str):
            try:
                candidate = json.loads(candidate)
            except json.JSONDecodeError:
                continue
        if (parsed := attempt(rung, candidate)) is not None:
            return parsed
    fitted = [fit_to_schema(data, spec.schema) for _, data in tried]
    for data in fitted:
        if (parsed := attempt("fitted", data)) is not None:
            return parsed
    if truncated:
        for data in fitted:
            if (parsed := attempt("salvaged", salvage_cut_off(data, spec.schema))) is not None:
                return parsed
        return Parsed(None, problem="the answer was cut off at the token limit (finish_reason 'length')")
    if mismatch is not None:
        return Parsed(None, mismatch[0], problem=f"JSON does not match the schema: {validation_summary(mismatch[1])}")
    exc = json_error(content)
    return Parsed(None, problem=f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")


def validation_summary(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:8]:
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def repair_prompt(problem: str, spec: SchemaSpec, *, truncated: bool) -> str:
    if truncated:
        return (
            "Your answer was cut off at the length limit. Answer again with a complete JSON object "
            f"that matches the schema, shorter this time. JSON only, no prose.\nSchema: {spec.text}"
        )
    return (
        f"Your answer could not be used: {problem}. Reply with the corrected JSON object only "
        f"(no prose, no code fences), matching this JSON Schema: {spec.text}"
    )
