"""Hypothesis strategies for generated requests: valid ones, and invalid ones with their answer.

Valid requests (:func:`valid_requests`) follow the request schema of the run's profile and API
version (``schemas/messages-request.*.json``) plus the rules a schema cannot state, which are
hand-written here (contract §1.5-§1.6): ``thinking.budget_tokens < max_tokens``, a forced
``tool_choice`` names a declared custom tool, tool round-trips pair ``tool_use`` ids with
``tool_result`` ids, no forced tool together with thinking, a prefill (final assistant turn)
has text that does not end in whitespace. Text is unicode of every kind: astral characters,
combining marks, right-to-left scripts, zero-width characters, as well as plain words.

Invalid requests (:func:`invalid_requests`) are a valid request plus one targeted mutation, so
each carries its exact expected answer (contract §4.2): a missing required field, a wrong JSON
type, a value out of range, an unknown enum value or block type, truncated or non-UTF-8 JSON,
an unknown model (404 ``not_found_error``), an oversize body (413 ``request_too_large``, only
when the target declares its limit), sampling parameters under ``2026-10-21``. Mutations the
contract makes a SHOULD (a wrong content type, an unknown top-level field) are marked so:
they must never get a 5xx, but their exact answer is not a MUST.

Every strategy draws from Hypothesis choices, so a failing example shrinks; nothing here
sends requests. ``tests/generated/test_strategies.py`` checks every valid body against the
schema and every MUST mutation against it too (invalid, or a cross-field rule broken).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

V2023 = "2023-06-01"
V2026 = "2026-10-21"
INVALID = ("invalid_request_error", 400)
UNKNOWN_MODEL = "conformance-fuzz-no-such-model"

# ----------------------------------------------------------------------------- the request


@dataclass(frozen=True)
class GenRequest:
    """One generated request: what to send and, for an invalid one, the exact answer expected."""

    body: Any = None  # a JSON value, sent with content-type application/json (unless ``raw``)
    raw: bytes | None = None  # bytes sent instead of ``body`` (truncated / non-UTF-8 JSON, oversize)
    headers: tuple[tuple[str, str], ...] = ()
    kind: str = "valid"  # "valid" or the mutation's name
    status: int = 200  # expected status
    error_type: str | None = None  # expected error.type (None for a valid request)
    must: bool = True  # False: the exact answer is a SHOULD (only "never a 5xx" is a MUST)
    note: str = ""  # what was mutated, in a few words

    @property
    def valid(self) -> bool:
        return self.error_type is None

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True and self.raw is None

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``ctx.send("POST", "/v1/messages", **kw)``."""
        kw: dict[str, Any] = {}
        if self.raw is not None:
            kw["content"] = self.raw
            kw["headers"] = {"content-type": "application/json", **dict(self.headers)}
        else:
            kw["json"] = self.body
            if self.headers:
                kw["headers"] = dict(self.headers)
        kw["stream"] = self.stream
        return kw

    def __repr__(self) -> str:  # short: Hypothesis prints examples, and an oversize body is huge
        data = self.raw if self.raw is not None else json.dumps(self.body, ensure_ascii=False)
        shown = data[:200] + (b"..." if isinstance(data, bytes) else "...") if len(data) > 200 else data
        return f"GenRequest({self.kind}, {shown!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's printer
        printer.text(repr(self))

    def key(self) -> tuple:
        """Identity of what goes on the wire (for the per-run response cache)."""
        payload = self.raw if self.raw is not None else json.dumps(self.body, ensure_ascii=False, sort_keys=False).encode("utf-8")
        return (payload, self.headers, self.raw is not None)

    def describe(self) -> str:
        if self.valid:
            return "a valid request"
        return f"an invalid request ({self.kind}: {self.note})" if self.note else f"an invalid request ({self.kind})"


@dataclass(frozen=True)
class Scope:
    """What shapes the generated requests: profile, API version, model, declared body limit."""

    profile: str = "anthropic"
    version: str = V2023
    model: str = "claude-opus-4-6"
    max_body_bytes: int | None = None
    # Optional capabilities a valid request may use (a target may decline them correctly).
    tools: bool = True
    thinking: bool = True
    stream: bool = True

    @property
    def darkbloom(self) -> bool:
        return self.profile == "darkbloom"


# ----------------------------------------------------------------------------- text

# Characters that break naive implementations: astral (4-byte UTF-8), combining marks,
# right-to-left scripts, zero-width and bidi controls, and other scripts.
_ASTRAL = "😀🚀𝔘𝔫𝔦𐍈🀄🧪"
_COMBINING = "\u0301\u0308\u0327\u20dd\u0336"
_RTL = "שלום עולם مرحبا بالعالم"
_ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060\u200e\u200f\u202e"
_OTHER = "日本語中文한국어Ελληνικάкириллица"
_SPECIAL = _ASTRAL + _COMBINING + _RTL + _ZERO_WIDTH + _OTHER + "\"\\/\t\n'<>&%${}"

_WORDS = ("alpha", "river", "quartz", "hello", "count", "tool", "weather", "Zürich", "naïve", "façade",
          "東京", "مرحبا", "שלום", "😀", "e\u0301", "zero\u200bwidth")

# any code point but surrogates (not encodable as UTF-8) and NUL-free, to keep curl lines sane
_ANY_CHAR = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_char = st.one_of(st.sampled_from(_SPECIAL), _ANY_CHAR, st.sampled_from("abcdefghij klmnop"))


_words = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6).map(" ".join)


# Strategies are built once (cached): Hypothesis validates every new strategy object, and
# building them inside draws costs more than drawing from them.
@functools.lru_cache(maxsize=None)
def unicode_text(min_size: int = 0, max_size: int = 24) -> st.SearchStrategy[str]:
    """Unicode text of every kind (words, astral, combining, RTL, zero-width, anything)."""
    chars = st.text(alphabet=_char, min_size=min_size, max_size=max_size)
    return st.one_of(_words, chars) if min_size <= 1 else chars


@functools.lru_cache(maxsize=None)
def visible_text(min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[str]:
    """Unicode text with at least one non-whitespace character."""
    return unicode_text(min_size, max_size).filter(_visible)


def _visible(text: str) -> bool:
    return bool(text.strip())


# a substantive user turn: the stub's answer depends on it (repeat:, count from, free text)
_prompt = st.one_of(
    visible_text(1, 40),
    visible_text(1, 30).map(lambda t: "repeat: " + t.replace("\n", " ").replace("\r", " ")),
    st.tuples(st.integers(0, 30), st.integers(0, 30)).map(lambda ab: f"Count from {ab[0]} to {ab[1]}, separated by spaces."),
)

# ----------------------------------------------------------------------------- valid parts

_TOOL_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1, max_size=64)


def _pick(draw: st.DrawFn, items: list) -> Any:
    """``draw(st.sampled_from(items))`` for a list built during the draw (cached strategies only)."""
    return items[draw(st.integers(0, len(items) - 1))]


_enum_values = st.lists(unicode_text(1, 8), min_size=1, max_size=4, unique=True)
_prop_names = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10), max_size=4, unique=True)


@functools.lru_cache(maxsize=None)
def _property_schema(depth: int = 0) -> st.SearchStrategy[dict]:
    return _property_schema_at(depth)


@functools.lru_cache(maxsize=None)
def _object_schema(depth: int = 0) -> st.SearchStrategy[dict]:
    return _object_schema_at(depth)


@st.composite
def _property_schema_at(draw: st.DrawFn, depth: int = 0) -> dict:
    kinds = ["string", "integer", "number", "boolean", "enum", "array"] + (["object"] if depth < 2 else [])
    kind = _pick(draw, kinds)
    if kind == "string":
        schema: dict[str, Any] = {"type": "string"}
        if draw(st.booleans()):
            schema["minLength"] = draw(st.integers(0, 5))
            schema["maxLength"] = schema["minLength"] + draw(st.integers(0, 20))
        return schema
    if kind in ("integer", "number"):
        schema = {"type": kind}
        if draw(st.booleans()):
            low = draw(st.integers(-100, 100))
            schema["minimum"], schema["maximum"] = low, low + draw(st.integers(0, 100))
        return schema
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "enum":
        return {"type": "string", "enum": draw(_enum_values)}
    if kind == "array":
        return {"type": "array", "items": draw(_property_schema(depth + 1)), "minItems": draw(st.integers(0, 2))}
    return draw(_object_schema(depth + 1))


@st.composite
def _object_schema_at(draw: st.DrawFn, depth: int = 0) -> dict:
    names = draw(_prop_names)
    props = {n: draw(_property_schema(depth)) for n in names}
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if names and draw(st.booleans()):
        schema["required"] = [n for n in names if draw(_bool)]
    if draw(st.booleans()):
        schema["description"] = draw(unicode_text(0, 20))
    return schema


@st.composite
def _tools(draw: st.DrawFn) -> list[dict]:
    names = draw(st.lists(_TOOL_NAME, min_size=1, max_size=3, unique_by=str.lower))
    tools = []
    for name in names:
        tool: dict[str, Any] = {"name": name, "input_schema": draw(_object_schema())}
        if draw(st.booleans()):
            tool["description"] = draw(unicode_text(0, 40))
        tools.append(tool)
    return tools


def _text_block(text: str) -> dict:
    return {"type": "text", "text": text}


def _blocks_of(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[dict]]:
    return st.lists(text, min_size=1, max_size=3).map(lambda ts: [_text_block(t) for t in ts])


_plain = visible_text(1, 30)
_plain_blocks = _blocks_of(_plain)
_prompt_blocks = _blocks_of(_prompt)
_toolu = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=24).map(lambda s: "toolu_" + s)
_prefill = unicode_text(1, 20).map(str.rstrip).filter(_visible)
_role = st.sampled_from(["user", "assistant"])
_bool = st.booleans()


def _content(draw: st.DrawFn, scope: Scope, prompt: bool = False) -> Any:
    """String content, or a list of text blocks (never empty text: the real API refuses it)."""
    if scope.darkbloom or draw(_bool):
        return draw(_prompt if prompt else _plain)
    return draw(_prompt_blocks if prompt else _plain_blocks)


@st.composite
def _conversation(draw: st.DrawFn, *, scope: Scope, tools: list[dict] | None, prefill: bool) -> list[dict]:
    """Turns ending in a user turn (or a prefill): alternating, or with merged same-role runs."""
    turns: list[dict] = []
    history = draw(st.integers(0, 6))
    for i in range(history):
        role = draw(_role) if draw(_bool) else ("user" if i % 2 == 0 else "assistant")
        turns.append({"role": role, "content": _content(draw, scope)})
    if tools and not scope.darkbloom and draw(st.booleans()):
        # a tool round trip: assistant tool_use, user tool_result with the same id
        tool = _pick(draw, tools)
        tid = draw(_toolu)
        turns.append({"role": "user", "content": draw(_prompt)})
        turns.append({"role": "assistant", "content": [{"type": "tool_use", "id": tid, "name": tool["name"], "input": {}}]})
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": tid}
        if draw(st.booleans()):
            result["content"] = draw(unicode_text(0, 30))
        if draw(st.booleans()):
            result["is_error"] = draw(st.booleans())
        turns.append({"role": "user", "content": [result]})
    turns.append({"role": "user", "content": _content(draw, scope, prompt=True)})
    if prefill:
        turns.append({"role": "assistant", "content": draw(_prefill)})
    return turns


_system_blocks = _blocks_of(visible_text(1, 30))
_stop_sequences = st.lists(st.one_of(st.sampled_from(list("aeiou0123456789.") + ["alpha", "😀", "e\u0301"]), visible_text(1, 6)), max_size=4)
_metadata = st.one_of(st.just({}), st.fixed_dictionaries({"user_id": st.one_of(st.none(), unicode_text(0, 30))}))
_max_tokens = {low: st.one_of(st.integers(low, 64), st.integers(low, 4096)) for low in (0, 1)}


@functools.lru_cache(maxsize=None)
def valid_bodies(scope: Scope) -> st.SearchStrategy[dict]:
    """Request bodies valid for ``scope`` (schema and cross-field rules)."""
    return _valid_bodies(scope)


@st.composite
def _valid_bodies(draw: st.DrawFn, scope: Scope) -> dict:
    """A request body valid for ``scope`` (schema and cross-field rules)."""
    body: dict[str, Any] = {"model": scope.model}
    use_tools = scope.tools and not scope.darkbloom and draw(st.integers(0, 3)) == 0
    tools = draw(_tools()) if use_tools else None
    thinking: dict[str, Any] | None = None
    if scope.thinking and not scope.darkbloom and draw(st.integers(0, 4)) == 0:
        kind = draw(st.sampled_from(["enabled", "adaptive", "disabled"]))
        thinking = {"type": kind}
        if kind == "enabled":
            thinking["budget_tokens"] = draw(st.integers(1024, 2048))
        if kind != "disabled" and draw(st.booleans()):
            thinking["display"] = draw(st.sampled_from(["summarized", "omitted", None]))
    thinks = thinking is not None and thinking["type"] != "disabled"
    prefill = not thinks and not scope.darkbloom and draw(st.integers(0, 5)) == 0
    body["messages"] = draw(_conversation(scope=scope, tools=tools, prefill=prefill))
    if thinking is not None and thinking["type"] == "enabled":
        body["max_tokens"] = thinking["budget_tokens"] + draw(st.integers(1, 1024))
    else:
        low = 0 if scope.version == V2026 and not scope.darkbloom else 1
        body["max_tokens"] = draw(_max_tokens[low])
    if draw(st.booleans()):
        if scope.darkbloom or draw(st.booleans()):
            body["system"] = draw(unicode_text(0, 40))  # "" is a legal system prompt
        else:
            body["system"] = draw(_system_blocks)
    if scope.darkbloom:
        return body
    if draw(st.booleans()):
        body["stop_sequences"] = draw(_stop_sequences)
    if scope.stream and draw(st.booleans()):
        body["stream"] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        body["metadata"] = draw(_metadata)
    if tools is not None:
        body["tools"] = tools
        if draw(st.booleans()):
            kinds = ["auto", "none"] if thinks else ["auto", "any", "tool", "none"]
            kind = _pick(draw, kinds)
            choice: dict[str, Any] = {"type": kind}
            if kind == "tool":
                choice["name"] = _pick(draw, [t["name"] for t in tools])
            if kind != "none" and draw(st.booleans()):
                choice["disable_parallel_tool_use"] = draw(st.booleans())
            body["tool_choice"] = choice
    if thinking is not None:
        body["thinking"] = thinking
    if scope.version == V2023 and not thinks and draw(st.integers(0, 4)) == 0:
        body["temperature"] = draw(st.floats(0, 1, allow_nan=False))
    return body


@functools.lru_cache(maxsize=None)
def valid_requests(scope: Scope) -> st.SearchStrategy[GenRequest]:
    """Valid requests for ``scope``: each must get 200 (contract §1-§3)."""
    return valid_bodies(scope).map(lambda body: GenRequest(body=body))


# ----------------------------------------------------------------------------- invalid


def _bad(body: Any, kind: str, note: str, *, status: int = 400, error_type: str = "invalid_request_error",
         raw: bytes | None = None, headers: tuple[tuple[str, str], ...] = (), must: bool = True) -> GenRequest:
    return GenRequest(body=body, raw=raw, headers=headers, kind=kind, status=status, error_type=error_type, must=must, note=note)


def _dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# values of the wrong JSON type for each field (integral floats are integers in JSON Schema)
_WRONG = {
    "model": [42, None, ["m"], {"id": "m"}, True],
    "messages": ["hello", 1, None, {"role": "user", "content": "hi"}],
    "max_tokens": ["64", 1.5, None, [64], True, {"n": 64}],
    "system": [7, {"text": "x"}, None, True],
    "stop_sequences": ["STOP", 3, [1, 2], {"s": "x"}],
    "stream": ["yes", 1, None, [True]],
    "metadata": ["user-1", 3, [{"user_id": "u"}]],
    "tools": [{"name": "t"}, "tool", 1],
    "thinking": ["enabled", 1024, True],
    "tool_choice": ["auto", 1, ["auto"]],
}
_DARK_WRONG = ("model", "messages", "max_tokens")


def mutation_kinds(scope: Scope) -> list[str]:
    """The mutations that apply to ``scope`` (the Darkbloom profile: what its page documents)."""
    kinds = ["missing-required", "wrong-type", "out-of-range", "unknown-enum", "truncated-json", "non-utf8-json", "unknown-model"]
    if not scope.darkbloom:
        kinds += ["unknown-block-type", "wrong-content-type", "unknown-field"]
        if scope.version == V2026:
            kinds.append("sampling-param-2026")
        if scope.max_body_bytes is not None and scope.max_body_bytes <= 4 * 2**20:
            kinds.append("oversize")
    return kinds


@st.composite
def _mutate(draw: st.DrawFn, scope: Scope, only: str | None = None) -> GenRequest:
    """One targeted mutation of a valid body, with the exact answer it must get."""
    body = draw(valid_bodies(scope))
    kind = only or _pick(draw, mutation_kinds(scope))
    b = json.loads(json.dumps(body))  # a private copy to mutate

    if kind == "missing-required":
        name = draw(st.sampled_from(["model", "messages", "max_tokens"]))
        del b[name]
        return _bad(b, kind, f"no {name}")
    if kind == "wrong-type":
        names = list(_DARK_WRONG if scope.darkbloom else _WRONG)
        name = _pick(draw, names + ["messages[].content", "messages[].role"])
        if name == "messages[].content":
            i = draw(st.integers(0, len(b["messages"]) - 1))
            b["messages"][i]["content"] = draw(st.sampled_from([42, None, {"text": "x"}, True]))
        elif name == "messages[].role":
            i = draw(st.integers(0, len(b["messages"]) - 1))
            b["messages"][i]["role"] = draw(st.sampled_from([1, None, ["user"]]))
        else:
            b[name] = draw(st.sampled_from(_WRONG[name]))
        return _bad(b, kind, f"{name} of the wrong JSON type")
    if kind == "out-of-range":
        options = ["max_tokens", "empty-messages"]
        if not scope.darkbloom:
            options += ["budget-tokens", "budget-not-below-max"]
            if scope.version == V2023:
                options.append("temperature")
        what = _pick(draw, options)
        if what == "max_tokens":
            top = -1 if scope.version == V2026 and not scope.darkbloom else 0
            b["max_tokens"] = draw(st.integers(-(2**31), top))
            b.pop("thinking", None)
            return _bad(b, kind, f"max_tokens {b['max_tokens']}")
        if what == "empty-messages":
            b["messages"] = []
            return _bad(b, kind, "messages is []")
        if what == "temperature":
            b["temperature"] = draw(st.one_of(st.floats(1.0, 1e9, exclude_min=True), st.floats(-1e9, 0, exclude_max=True)))
            b.pop("thinking", None)
            return _bad(b, kind, f"temperature {b['temperature']}")
        if what == "budget-tokens":
            b["thinking"] = {"type": "enabled", "budget_tokens": draw(st.integers(0, 1023))}
            b["max_tokens"] = max(b["max_tokens"], 2048)
            return _bad(b, kind, f"thinking.budget_tokens {b['thinking']['budget_tokens']} (< 1024)")
        budget = draw(st.integers(1024, 4096))
        b["thinking"] = {"type": "enabled", "budget_tokens": budget}
        b["max_tokens"] = draw(st.integers(1, budget))
        b.pop("temperature", None)
        return _bad(b, kind, f"thinking.budget_tokens {budget} >= max_tokens {b['max_tokens']}")
    if kind == "unknown-enum":
        options = ["role"] if scope.darkbloom else ["role", "tool_choice", "thinking", "service_tier", "block-source"]
        what = _pick(draw, options)
        if what == "role":
            i = draw(st.integers(0, len(b["messages"]) - 1))
            roles = ["robot", "tool", "developer", "User", ""] + (["system"] if scope.version == V2023 or scope.darkbloom else [])
            b["messages"][i]["role"] = _pick(draw, roles)
            return _bad(b, kind, f"messages[{i}].role {b['messages'][i]['role']!r}")
        if what == "tool_choice":
            b["tool_choice"] = {"type": draw(st.sampled_from(["sometimes", "required", "ANY", ""]))}
            return _bad(b, kind, f"tool_choice.type {b['tool_choice']['type']!r}")
        if what == "thinking":
            b["thinking"] = {"type": draw(st.sampled_from(["on", "maybe", "ENABLED", ""]))}
            return _bad(b, kind, f"thinking.type {b['thinking']['type']!r}")
        if what == "service_tier":
            b["service_tier"] = draw(st.sampled_from(["premium", "priority", "free", ""]))
            return _bad(b, kind, f"service_tier {b['service_tier']!r}")
        b["messages"][-1 if b["messages"][-1]["role"] == "user" else -2]["content"] = [
            {"type": "image", "source": {"type": draw(st.sampled_from(["ftp", "carrier-pigeon", ""])), "data": "AAAA"}}]
        return _bad(b, kind, "image source type unknown")
    if kind == "unknown-block-type":
        i = draw(st.integers(0, len(b["messages"]) - 1))
        btype = draw(st.sampled_from(["hologram", "txt", "Text", "video", ""]))
        b["messages"][i]["content"] = [{"type": btype, "text": draw(unicode_text(1, 10))}]
        return _bad(b, kind, f"messages[{i}].content[0].type {btype!r}")
    if kind == "truncated-json":
        data = _dumps(b)
        cut = draw(st.integers(1, len(data) - 1))
        return _bad(b, kind, f"body cut to {cut} of {len(data)} bytes", raw=data[:cut])
    if kind == "non-utf8-json":
        data = _dumps(b)
        # a byte that can never occur in UTF-8, placed inside the last user turn's text
        marker = _dumps(b["messages"][-1]["content"])
        at = data.rfind(marker)
        bad = draw(st.sampled_from([b"\xff", b"\xc0", b"\xe9", b"\xfe\xfe", b"\xed\xa0\x80"]))
        insert = at + 2 if at >= 0 else len(data) - 1
        return _bad(b, kind, f"byte(s) {bad.hex()} inside a string", raw=data[:insert] + bad + data[insert:])
    if kind == "unknown-model":
        b["model"] = UNKNOWN_MODEL + draw(st.sampled_from(["", "-x", "-😀"]))
        return _bad(b, kind, f"model {b['model']!r}", status=404, error_type="not_found_error")
    if kind == "sampling-param-2026":
        name = draw(st.sampled_from(["temperature", "top_p", "top_k"]))
        b[name] = draw(st.integers(0, 1)) if name != "top_k" else draw(st.integers(0, 50))
        return _bad(b, kind, f"{name} under anthropic-version 2026-10-21")
    if kind == "oversize":
        assert scope.max_body_bytes is not None
        data = _dumps(b)
        pad = scope.max_body_bytes + 1 - len(data) + draw(st.integers(0, 64))
        return _bad(b, kind, f"body of {len(data) + max(0, pad)} bytes (limit {scope.max_body_bytes})",
                    raw=data + b" " * max(0, pad), status=413, error_type="request_too_large")
    if kind == "wrong-content-type":
        ctype = draw(st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "application/xml"]))
        return _bad(b, kind, f"content-type {ctype}", raw=_dumps(b), headers=(("content-type", ctype),), must=False)
    # unknown-field: a SHOULD (contract §1 preamble)
    name = draw(st.sampled_from(["temperature_2", "unknown_field", "max_tokens_to_sample", "prompt"]))
    b[name] = draw(st.one_of(st.integers(0, 9), unicode_text(0, 8)))
    return _bad(b, kind, f"unknown top-level field {name!r}", must=False)


@functools.lru_cache(maxsize=None)
def invalid_requests(scope: Scope) -> st.SearchStrategy[GenRequest]:
    """Invalid requests for ``scope``, each with its exact expected status and error type."""
    return _mutate(scope)


@functools.lru_cache(maxsize=None)
def mixed_requests(scope: Scope) -> st.SearchStrategy[GenRequest]:
    """Valid and invalid requests (differential mode)."""
    return st.one_of(valid_requests(scope), invalid_requests(scope))


# ----------------------------------------------------------------------------- explicit examples


def _minimal(scope: Scope, text: str = "Hi", **extra: Any) -> dict:
    return {"model": scope.model, "messages": [{"role": "user", "content": text}], "max_tokens": 16, **extra}


@functools.lru_cache(maxsize=None)
def valid_examples(scope: Scope) -> tuple[GenRequest, ...]:
    """Hand-written valid requests tried before the generated ones, so that each constraint
    is exercised at any budget: a tight max_tokens, a stop sequence the answer contains, a
    forced tool, streaming, thinking."""
    weather = {"name": "get_weather", "description": "Weather for a city",
               "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    bodies: list[dict] = [_minimal(scope, max_tokens=1), _minimal(scope, "Say hello, 世界 😀 مرحبا", system="Be brief.")]
    if not scope.darkbloom:
        stop = _minimal(scope, "repeat: alpha beta gamma delta", max_tokens=64, stop_sequences=["gamma"])
        forced = _minimal(scope, "What is the weather in Paris?", max_tokens=256, tools=[weather],
                          tool_choice={"type": "tool", "name": "get_weather"})
        # The other documented shapes: system as text blocks, content as blocks, a multi-turn
        # conversation with string assistant content.
        shapes = _minimal(scope, "And now?", system=[_text_block("Be brief.")])
        shapes["messages"] = [{"role": "user", "content": [_text_block("Hello")]},
                              {"role": "assistant", "content": "Hi."},
                              {"role": "user", "content": "And now?"}]
        bodies += [stop, forced, shapes]
        if scope.stream:
            bodies += [{**stop, "stream": True}, {**forced, "stream": True}, _minimal(scope, max_tokens=1, stream=True)]
        if scope.thinking:
            bodies.append(_minimal(scope, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024}, stream=scope.stream))
    return tuple(GenRequest(body=b) for b in bodies)


@functools.lru_cache(maxsize=None)
def invalid_examples(scope: Scope) -> tuple[GenRequest, ...]:
    """The simplest example of every mutation kind, tried first so that each kind is sent at
    any budget. Hypothesis generates the simplest example first, so a one-example search
    without shrinking is deterministic and cheap."""
    from hypothesis import HealthCheck, Phase, find, settings

    quiet = settings(database=None, max_examples=1, deadline=None, phases=[Phase.generate],
                     suppress_health_check=list(HealthCheck))
    out = [find(_mutate(scope, only=kind), lambda _: True, settings=quiet) for kind in mutation_kinds(scope)]
    base = find(valid_bodies(scope), lambda _: True, settings=quiet)
    for name in ("messages", "max_tokens"):  # the simplest "missing-required" drops model: each field once
        out.insert(1, _bad({k: v for k, v in base.items() if k != name}, "missing-required", f"no {name}"))
    return tuple(out)


# ----------------------------------------------------------------------------- semantics


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def cross_field_problem(body: Any) -> str | None:
    """A contract rule a JSON Schema cannot state that ``body`` breaks (contract §1.5-§1.6)."""
    if not isinstance(body, dict):
        return None
    thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else {}
    max_tokens, budget = body.get("max_tokens"), thinking.get("budget_tokens")
    # JSON Schema's "integer" admits 18.0 as well as 18
    if thinking.get("type") == "enabled" and _is_number(max_tokens) and _is_number(budget):
        if budget >= max_tokens:
            return "thinking.budget_tokens must be less than max_tokens"
    choice = body.get("tool_choice") if isinstance(body.get("tool_choice"), dict) else {}
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    custom = [t for t in tools if isinstance(t, dict) and "input_schema" in t]
    if choice.get("type") == "any" and not custom:
        return "tool_choice any needs a custom tool"
    if choice.get("type") == "tool" and choice.get("name") not in [t.get("name") for t in custom]:
        return "tool_choice names no declared custom tool"
    return None


@dataclass
class Expectations:
    """The request-side constraints a valid answer must respect (for constraints-hold)."""

    max_tokens: int
    stop_sequences: list[str] = field(default_factory=list)
    forced_tool: str | None = None  # a tool name, or "*" for tool_choice any

    @classmethod
    def of(cls, body: dict) -> "Expectations":
        choice = body.get("tool_choice") or {}
        forced = None
        if choice.get("type") == "tool":
            forced = choice.get("name")
        elif choice.get("type") == "any":
            forced = "*"
        return cls(int(body.get("max_tokens", 0)), [s for s in body.get("stop_sequences") or [] if isinstance(s, str)], forced)
