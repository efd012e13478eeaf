"""Deterministic answers for the stub: text, tool inputs, thinking, token counts (no model).

Everything here is a pure function of the request body and the stub's seed, so a harness can
design requests whose correct answer it knows in advance.

Tokens (the stub's definition, contract §2.3 leaves the tokenizer to the server)
    One token = one whitespace-delimited word (``len(text.split())``).
    ``input_tokens`` = 1 (per request)
                     + words of ``system`` (string or text blocks)
                     + for each message: 3 + words of its text (text blocks, ``tool_result``
                       text, ``tool_use`` input JSON, thinking text); image/document/other
                       blocks count 8 each
                     + for each tool: words of ``json.dumps(tool, sort_keys=True)``.
    ``POST /v1/messages/count_tokens`` returns exactly this number for the same body (§6).
    ``output_tokens`` = words of the generated text + words of the thinking text
                        + words of ``json.dumps(tool_use.input)``.

The answer (from the text of the last ``user`` turn; a final ``assistant`` turn is a prefill,
which the answer continues and never repeats, §1.2: when the answer the rules below give
starts with the prefill's text, only the rest is sent, e.g. "Count from 1 to 10" with the
prefill "1 2 3 4 5" answers " 6 7 8 9 10")
    1. ``repeat: <text>``  -> the answer is ``<text>`` verbatim (up to the end of that line).
    2. ``count from A to B`` -> ``"A A+1 ... B"`` separated by single spaces (at most 5000 numbers).
       Example: user "Count from 1 to 20, separated by spaces." with ``stop_sequences: ["7"]``
       gives text ``"1 2 3 4 5 6 "`` and ``stop_reason: "stop_sequence"``, ``stop_sequence: "7"``.
    3. the last user turn holds ``tool_result`` blocks -> ``"The <tool> tool returned: <first
       words of the result>."``
    4. otherwise 20-40 words from a fixed vocabulary, chosen by a hash of the request's
       messages, system and the seed.
    Limits then apply in generation order: a stop sequence ends the text just before its first
    occurrence (``stop_reason: "stop_sequence"``) if the word completing it is within
    ``max_tokens``; otherwise the text is cut to ``max_tokens`` words (``"max_tokens"``).

Tools (§1.5): only a forced ``tool_choice`` calls a tool: ``{type:"tool", name}`` that tool,
``{type:"any"}`` the first custom tool. Under ``{type:"auto"}`` (or no tool_choice) and
``{type:"none"}`` the answer is text with ``end_turn``, so an agent's loop (Claude Code, an SDK
tool runner) pointed at the stub ends, and no client is made to run a tool it did not script
(scripted tool calls: ``conformance stub --script``, :mod:`.script`). A forced tool yields one
``tool_use`` block whose ``input`` is a minimal instance valid against the tool's
``input_schema``; ``stop_reason: "tool_use"``.

Thinking (§1.6): ``enabled`` or ``adaptive`` -> a ``thinking`` block first (its words count
toward ``max_tokens``), with a deterministic ``signature``; ``display: "omitted"`` gives empty
thinking text with a signature.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from . import _json

VOCABULARY: tuple[str, ...] = tuple(
    """alpha bright canyon delta ember forest granite harbor island jasper kettle lantern meadow
    nectar orbit pebble quartz river summit timber umber valley willow xenon yonder zephyr amber
    breeze cobalt drift echo fable glacier horizon ivory juniper kernel lagoon marble north
    opal prairie quiet ridge saffron tundra unity velvet whisper yarrow zenith anchor beacon
    cedar dune""".split()
)

# _WORD_TABLE[i][b]: the i-th word of an answer when its digest byte is b (see _full_text)
_WORD_TABLE: tuple[tuple[str, ...], ...] = tuple(
    tuple(VOCABULARY[b * (i + 1) % len(VOCABULARY)] for b in range(256)) for i in range(40)
)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_REPEAT = re.compile(r"repeat:[ \t]?([^\n]*)", re.IGNORECASE)
_COUNT = re.compile(r"count from (-?\d+) to (-?\d+)", re.IGNORECASE)
_NON_TEXT_BLOCK_TOKENS = 8
_PER_MESSAGE_TOKENS = 3
_MAX_COUNT = 5000


def count_words(text: str) -> int:
    """The stub's token: one whitespace-delimited word."""
    return len(text.split())


# byte -> base62 character, one C-level bytes.translate per id (ids are on every request's path)
_BASE62_OF_BYTE = bytes(ord(_BASE62[b % 62]) for b in range(256))


def base62_id(*parts: object, length: int = 24) -> str:
    """A reproducible base62 string of ``length`` (at most 64) chars derived from ``parts``."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=length).digest()
    return digest.translate(_BASE62_OF_BYTE).decode("ascii")


# ---------------------------------------------------------------- reading the request


def _blocks(content: Any) -> list[dict]:
    """String content is shorthand for one text block (§1.2)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    return []


def _tool_result_text(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in _blocks(content) if b.get("type") == "text")


def _block_tokens(block: dict) -> int:
    kind = block.get("type")
    if kind == "text":
        return count_words(str(block.get("text", "")))
    if kind == "tool_result":
        return count_words(_tool_result_text(block)) + 1
    if kind == "tool_use":
        return count_words(json.dumps(block.get("input", {}), sort_keys=True))
    if kind == "thinking":
        return count_words(str(block.get("thinking", "")))
    return _NON_TEXT_BLOCK_TOKENS


def input_tokens(body: dict) -> int:
    """``usage.input_tokens`` for a request body; equals count_tokens for the same body (§6)."""
    total = 1
    system = body.get("system")
    if isinstance(system, str):
        total += count_words(system)
    elif isinstance(system, list):
        total += sum(_block_tokens(b) for b in _blocks(system))
    for message in body.get("messages") or ():
        if isinstance(message, dict):
            total += _PER_MESSAGE_TOKENS + sum(_block_tokens(b) for b in _blocks(message.get("content")))
    for tool in body.get("tools") or ():
        total += count_words(json.dumps(tool, sort_keys=True))
    return total


def _last_user(messages: list) -> dict | None:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message
    return None


def _turn_text(message: dict | None) -> str:
    if message is None:
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content  # the shorthand for one text block
    return "\n".join(str(b.get("text", "")) for b in _blocks(content) if b.get("type") == "text")


def last_user_text(messages: list[dict]) -> str:
    """Text of the last ``user`` turn (a final assistant turn is a prefill, skipped)."""
    return _turn_text(_last_user(messages))


# ---------------------------------------------------------------- tool inputs


class UnsupportedSchema(ValueError):
    """The stub cannot build an instance for this ``input_schema``."""


def _resolve(schema: dict, root: dict) -> dict:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return _resolve(node, root)
    return schema


def minimal_instance(schema: Any, root: dict | None = None, name: str = "value", depth: int = 0) -> Any:
    """A small instance valid against ``schema`` (required properties only, type-appropriate
    values, first enum member, minimum sizes). Validated by :func:`tool_input`."""
    if depth > 20:
        raise UnsupportedSchema("schema nests too deeply")
    if schema is True or schema == {} or not isinstance(schema, dict):
        return name if schema is True or schema == {} else None
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return minimal_instance(schema[key][0], root, name, depth + 1)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part, root)
            for k, v in part.items():
                if k == "properties":
                    merged.setdefault("properties", {}).update(v)
                elif k == "required":
                    merged["required"] = list(merged.get("required", [])) + list(v)
                else:
                    merged.setdefault(k, v)
        return minimal_instance(merged, root, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties") or {}
        out: dict[str, Any] = {}
        for key in schema.get("required") or ():
            out[key] = minimal_instance(props.get(key, {}), root, key, depth + 1)
        for key in list(props)[: max(0, int(schema.get("minProperties", 0)) - len(out))]:
            out.setdefault(key, minimal_instance(props[key], root, key, depth + 1))
        return out
    if kind == "array":
        count = int(schema.get("minItems", 0) or 0)
        items = schema.get("items", {})
        values = [minimal_instance(items, root, name, depth + 1) for _ in range(count)]
        if schema.get("uniqueItems") and count > 1:
            values = [f"{v}{i}" if isinstance(v, str) else v for i, v in enumerate(values)]
        return values
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        value: float = 1 if low is None else (low + 1 if "exclusiveMinimum" in schema else low)
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if high is not None and value > high:
            value = high - 1 if "exclusiveMaximum" in schema else high
        step = schema.get("multipleOf")
        if step:
            value = -(-value // step) * step
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    # string
    fmt = schema.get("format")
    formats = {
        "date-time": "2025-01-01T00:00:00Z",
        "date": "2025-01-01",
        "time": "00:00:00Z",
        "email": "stub@example.com",
        "uri": "https://example.com/",
        "url": "https://example.com/",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "ipv4": "127.0.0.1",
    }
    text = formats.get(fmt, str(name))
    minimum, maximum = int(schema.get("minLength", 0) or 0), schema.get("maxLength")
    if len(text) < minimum:
        text = text + "x" * (minimum - len(text))
    if maximum is not None and len(text) > int(maximum):
        text = text[: int(maximum)]
    return text


def tool_input(input_schema: dict) -> dict:
    """A minimal ``tool_use.input`` checked against ``input_schema`` (raises UnsupportedSchema)."""
    try:
        instance = minimal_instance(input_schema)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnsupportedSchema(f"cannot build an instance: {exc}") from exc
    if not isinstance(instance, dict):
        raise UnsupportedSchema("input_schema does not describe an object")
    validator_cls = jsonschema.validators.validator_for(input_schema, default=jsonschema.Draft202012Validator)
    error = jsonschema.exceptions.best_match(validator_cls(input_schema).iter_errors(instance))
    if error is not None:
        raise UnsupportedSchema(f"generated input does not validate: {error.message}")
    return instance


# ---------------------------------------------------------------- the answer


@dataclass
class Block:
    """One output content block as planned (§2.4)."""

    type: str  # "text" | "thinking" | "tool_use"
    text: str = ""
    signature: str = ""
    tool_id: str = ""
    name: str = ""
    input: dict = field(default_factory=dict)

    def wire(self) -> dict:
        """The block as it appears in a Message's ``content``."""
        if self.type == "text":
            return {"type": "text", "text": self.text}
        if self.type == "thinking":
            return {"type": "thinking", "thinking": self.text, "signature": self.signature}
        return {"type": "tool_use", "id": self.tool_id, "name": self.name, "input": self.input}


@dataclass
class Reply:
    """The full planned answer; the app renders it as a Message or as SSE events."""

    blocks: list[Block]
    stop_reason: str
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Options:
    """Request-side switches (the fault layer flips some of them)."""

    honour_max_tokens: bool = True
    honour_stop_sequences: bool = True
    keep_stop_sequence: bool = False  # the sequence stays in the text (a defect)
    canned_text: str | None = None  # every text answer is this, whatever the prompt (a defect)


def prefill_text(messages: list) -> str:
    """Text of a final ``assistant`` turn (the prefill), or ``""``."""
    last = messages[-1] if messages else None
    if not isinstance(last, dict) or last.get("role") != "assistant":
        return ""
    return "".join(str(b.get("text", "")) for b in _blocks(last.get("content")) if b.get("type") == "text")


def _base_text(body: dict, seed: int) -> str:
    """The whole answer; a prefill it starts with is cut off (the answer continues it)."""
    text = _full_text(body, seed)
    prefill = prefill_text(body.get("messages") or []).rstrip()
    rest = text[len(prefill) :]
    if prefill and text.startswith(prefill) and (not rest or rest[0].isspace()):
        return rest
    return text


def _full_text(body: dict, seed: int) -> str:
    messages = body.get("messages") or []
    last_user = _last_user(messages)
    user_text = _turn_text(last_user)
    match = _REPEAT.search(user_text)
    if match:
        return match.group(1)
    match = _COUNT.search(user_text)
    if match:
        start, end = int(match.group(1)), int(match.group(2))
        step = 1 if end >= start else -1
        end = start + step * min(abs(end - start), _MAX_COUNT - 1)
        return " ".join(str(n) for n in range(start, end + step, step))
    content = last_user.get("content") if last_user else None
    results = [b for b in _blocks(content) if b.get("type") == "tool_result"] if isinstance(content, list) else []
    if results:
        names = {
            b.get("id"): b.get("name")
            for m in messages
            if isinstance(m, dict) and m.get("role") == "assistant"
            for b in _blocks(m.get("content"))
            if b.get("type") == "tool_use"
        }
        result = results[-1]
        words = _tool_result_text(result).split()[:20]
        return f"The {names.get(result.get('tool_use_id'), 'requested')} tool returned: {' '.join(words)}."
    digest = hashlib.blake2b(_json.sorted_dumps([messages, body.get("system"), seed]), digest_size=32).digest()
    count = 20 + digest[0] % 21
    # word i is VOCABULARY[digest[1 + i % 31] * (i + 1) % len(VOCABULARY)], looked up in C
    words = list(map(operator.getitem, _WORD_TABLE[:count], (digest[1:32] * 2)[:count]))
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


_WORD = re.compile(r"\S+")  # \s is exactly str.isspace, so these words are count_words' words


def _word_ends(text: str) -> list[int]:
    """Character offsets at which each word of ``text`` ends."""
    return [m.end() for m in _WORD.finditer(text)]


def _limit_text(text: str, budget: int, stops: list[str], opts: Options) -> tuple[str, int, str, str | None]:
    """Apply stop sequences and the token budget, in generation order (§9 items 14-15)."""
    best: tuple[int, str] | None = None
    if opts.honour_stop_sequences:
        for seq in stops:
            if seq:
                pos = text.find(seq)
                if pos >= 0 and (best is None or pos < best[0]):
                    best = (pos, seq)
    if best is None:
        # the common case, without word offsets: no stop sequence, within budget
        n = count_words(text)
        if n <= budget or not opts.honour_max_tokens:
            return text, n, "end_turn", None
    ends = _word_ends(text)
    if best is not None:
        pos, seq = best
        # the token that completes the sequence is the word containing its last character
        completing = next((i for i, end in enumerate(ends) if end >= pos + len(seq)), len(ends) - 1)
        if completing + 1 <= budget or not opts.honour_max_tokens:
            cut = pos + len(seq) if opts.keep_stop_sequence else pos
            return text[:cut], completing + 1, "stop_sequence", seq
    if opts.honour_max_tokens and len(ends) > budget:
        return (text[: ends[budget - 1]] if budget > 0 else ""), budget, "max_tokens", None
    return text, len(ends), "end_turn", None


def pick_tool(body: dict) -> dict | None:
    """The custom tool the answer calls, per ``tool_choice`` (§1.5), or None: only a forced
    choice (``tool``, ``any``) calls one; ``auto``, ``none`` and no choice answer with text."""
    tools = [t for t in body.get("tools") or () if isinstance(t, dict) and "input_schema" in t]
    choice = body.get("tool_choice") or {"type": "auto"}
    kind = choice.get("type")
    if not tools:
        return None
    if kind == "tool":
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    if kind == "any":
        return tools[0]
    return None


def plan_reply(body: dict, *, seed: int, ident: str, opts: Options = Options()) -> Reply:
    """Plan the whole answer for a validated request body."""
    budget = int(body.get("max_tokens", 0))
    if budget <= 0 and opts.honour_max_tokens:
        # max_tokens 0 (allowed from 2026-10-21) pre-warms the cache: no content (§1.1)
        return Reply([], "max_tokens", None, input_tokens(body), 0)
    used = 0
    blocks: list[Block] = []
    thinking = body.get("thinking") or {}
    if thinking.get("type") in ("enabled", "adaptive") and budget > 0:
        display = thinking.get("display")
        thought = (
            ""
            if display == "omitted"
            else f"The user wrote {count_words(last_user_text(body.get('messages') or []))} words; I answer deterministically."
        )
        words = thought.split()
        if opts.honour_max_tokens:
            words = words[: max(0, budget - 1)]
        thought = " ".join(words)
        blocks.append(Block("thinking", text=thought, signature="sig_" + base62_id(ident, "sig", length=40)))
        used += len(words)
    tool = pick_tool(body)
    stops = [s for s in body.get("stop_sequences") or () if isinstance(s, str)]
    if tool is not None:  # forced: the tool_use block alone, no text before it
        args = tool_input(tool.get("input_schema") or {"type": "object"})
        cost = count_words(json.dumps(args))
        if used + cost <= budget or not opts.honour_max_tokens:
            blocks.append(Block("tool_use", tool_id="toolu_" + base62_id(ident, "tool"), name=tool["name"], input=args))
            return Reply(blocks, "tool_use", None, input_tokens(body), used + cost)
        return Reply(blocks, "max_tokens", None, input_tokens(body), used)
    base = _base_text(body, seed) if opts.canned_text is None else opts.canned_text
    text, n, reason, seq = _limit_text(base, max(0, budget - used), stops, opts)
    if text:
        blocks.append(Block("text", text=text))
    return Reply(blocks, reason, seq, input_tokens(body), used + n)


def text_chunks(text: str, words_per_chunk: int = 2) -> list[str]:
    """Split text into stream increments whose concatenation is exactly ``text``."""
    pieces = re.findall(r"\s*\S+", text)
    if not pieces:
        return [text] if text else []
    tail = text[len("".join(pieces)) :]
    chunks = ["".join(pieces[i : i + words_per_chunk]) for i in range(0, len(pieces), words_per_chunk)]
    chunks[-1] += tail
    return chunks


def json_chunks(value: Any, size: int = 12) -> list[str]:
    """``input_json_delta`` fragments: first ``""``, then pieces of the compact JSON (§3.3)."""
    text = json.dumps(value, separators=(",", ":"))
    return [""] + [text[i : i + size] for i in range(0, len(text), size)]
