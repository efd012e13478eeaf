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
they must never get a 5xx, but their exact answer is not a MUST. The fuzz properties draw
them in batches (:func:`invalid_batches`): several mutations of one valid body, which none of
them changes.

Every strategy draws from Hypothesis choices, so a failing example shrinks; nothing here
sends requests. A request is built from few, larger choices (a handful, where one choice per
character and per nested schema took over 100): its decisions are the bytes of one drawn
byte string (each byte one decision at a fixed position, 0 its simplest option, "absent"
first, each turn's decisions among them); the tools, a tool round trip and a long history
one byte string more each; text is an index into a curated pool of interesting strings
(:data:`TEXTS`), about one in six a free unicode string (one choice, whatever its length);
tool schemas, thinking configurations, stop sequences and metadata come from precomputed
pools. Hypothesis shrinks a byte string byte by byte, so the simplest request is the minimal
one and a failing example shrinks to what shows the failure.
``tests/generated/test_strategies.py`` checks every valid body against the schema, every MUST
mutation against it too (invalid, or a cross-field rule broken), that each shape promised
above is generated, and that failing examples shrink.
"""

from __future__ import annotations

import contextvars
import functools
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence, TypeGuard

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
        """Keyword arguments for ``ctx.send("POST", "/v1/messages", **kw)``: the body is sent as the
        bytes the request is known by (:attr:`payload`), encoded once."""
        return {
            "content": self.payload,
            "headers": {"content-type": "application/json", **dict(self.headers)},
            "stream": self.stream,
        }

    @functools.cached_property
    def payload(self) -> bytes:
        """What goes on the wire: ``raw``, or ``body`` as compact UTF-8 JSON (as ``Target.send(json=)``
        would encode it)."""
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")

    def __repr__(self) -> str:  # short: Hypothesis prints examples, and an oversize body is huge
        data = self.raw if self.raw is not None else json.dumps(self.body, ensure_ascii=False)
        shown: bytes | str
        if isinstance(data, bytes):
            shown = data[:200] + b"..." if len(data) > 200 else data
        else:
            shown = data[:200] + "..." if len(data) > 200 else data
        return f"GenRequest({self.kind}, {shown!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's printer
        printer.text(repr(self))

    def key(self) -> tuple:
        """Identity of what goes on the wire (for the per-run response cache)."""
        return self._key

    @functools.cached_property
    def _key(self) -> tuple:  # computed once: the answer cache and the pipeline both ask
        return (self.payload, self.headers, self.raw is not None)

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


# ----------------------------------------------------------------------------- choices
#
# Each Hypothesis choice costs far more than the code that turns it into JSON (tens of
# microseconds each, and Hypothesis's mutator and shrinker work per choice), so a request is
# built from few, larger choices. The decisions of a request, or of one of its parts, are the
# bytes of one fixed-size byte string (one choice): byte ``i`` is decision ``i``, scaled onto
# its options, and 0 is always the simplest option ("absent" first, pools simplest first).
# Hypothesis shrinks a byte string byte by byte, so each decision still shrinks on its own,
# and as the bytes sit at fixed positions, setting one decision to "absent" shifts no other.
# Text is an index into a curated pool of interesting strings, or now and then a free string
# (one more choice, whatever its length).

_BYTES: dict[int, st.SearchStrategy[bytes]] = {}


def _decisions(draw: st.DrawFn, n: int) -> bytes:
    """``n`` decisions, as one choice."""
    strategy = _BYTES.get(n)
    if strategy is None:
        strategy = _BYTES[n] = st.binary(min_size=n, max_size=n)
    return draw(strategy)


def _index(byte: int, n: int) -> int:
    """A decision byte scaled onto ``range(n)`` (n <= 256): 0 -> 0, evenly spread."""
    return byte * n >> 8


def _one_in(byte: int, n: int) -> bool:
    """True for one byte value in n (never for 0)."""
    return _index(byte, n) == n - 1


def _absent_or(byte: int, options: Sequence[Any], absent: int) -> Any:
    """None for ``absent`` bytes in ``absent + 1`` (0 among them), else one of ``options``."""
    i = _index(byte, (absent + 1) * len(options)) - absent * len(options)
    return None if i < 0 else options[i]


_INTS: dict[tuple[int, int], st.SearchStrategy[int]] = {}


def _int(draw: st.DrawFn, low: int, high: int) -> int:
    """``draw(st.integers(low, high))`` through a cache of built strategies (mutations)."""
    strategy = _INTS.get((low, high))
    if strategy is None:
        if len(_INTS) >= 4096:  # bounds that follow a body's length vary without end
            _INTS.clear()
        strategy = _INTS[(low, high)] = st.integers(low, high)
    return draw(strategy)


def _pick(draw: st.DrawFn, items: Sequence[Any]) -> Any:
    """One entry of ``items`` (one choice; shrinks towards ``items[0]``)."""
    return items[_int(draw, 0, len(items) - 1)]


# ----------------------------------------------------------------------------- text

# Characters that break naive implementations: astral (4-byte UTF-8), combining marks,
# right-to-left scripts, zero-width and bidi controls, and other scripts.
_ASTRAL = "😀🚀𝔘𝔫𝔦𐍈🀄🧪"
_COMBINING = "\u0301\u0308\u0327\u20dd\u0336"
_RTL = "שלום עולם مرحبا بالعالم"
_ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060\u200e\u200f\u202e"
_OTHER = "日本語中文한국어Ελληνικάкириллица"

# The curated pool: every entry has a non-whitespace character (the real API refuses empty
# text blocks), simplest first.
TEXTS: tuple[str, ...] = (
    "Hi",
    "hello",
    "alpha river quartz",
    "count tool weather",
    # Latin with diacritics, precomposed and combining
    "Zürich naïve façade",
    "e\u0301 a\u0308 c\u0327",
    "Z\u0336a\u0301\u0308l\u20ddgo\u0327",
    # other scripts, right-to-left, mixed direction
    "東京",
    _OTHER,
    "שלום עולם",
    "مرحبا بالعالم",
    "abc שלום def مرحبا 123",
    "\u202eoverride\u202c and \u200fRLM",
    # astral: emoji, mathematical letters, gothic, ZWJ sequences, flags, tags, private use
    "😀",
    _ASTRAL,
    "👩\u200d👩\u200d👧\u200d👦 family",
    "🇫🇷🇯🇵 flags",
    "👍🏽 skin tone",
    "\U000e0067\U000e0062 tags",
    "\U0010fffd private use",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛",
    # zero-width characters and invisible formatting around visible text
    "zero\u200bwidth",
    "\u200b\u200cx\u200d\ufeff",
    "word\u2060joiner\u00adsoft",
    _ZERO_WIDTH + "visible",
    # JSON- and shell-hostile characters, controls, line and paragraph separators
    'quote " backslash \\ slash /',
    "tab\there\nnew line\r\nCRLF",
    "<b>&amp;</b> %s ${x} {} [] '",
    "\x01\x1f\x7f controls",
    "line\u2028separator\u2029paragraph",
    "\\u0000 not a NUL",
    '{"json": [1, 2]}',
    # whitespace around text (legal except at the end of a prefill, which is stripped)
    "  leading and trailing  ",
    "\n\nHuman: hello\n\nAssistant:",
    # everything at once, and long text
    "mixed 😀 مرحبا e\u0301 \u200b日本 " + _COMBINING + " end",
    "lorem ipsum " * 200,
    "😀" * 300,
)
_EMPTY_OR_TEXT: tuple[str, ...] = ("",) + TEXTS  # where "" is legal: system, descriptions, tool results, user_id
_FREE_SLOTS = 8  # pool indices past the pool that draw a free string instead

# any code point but surrogates (category Cs: not encodable as UTF-8) and NUL (to keep curl
# lines sane): one Hypothesis choice per string, whatever its length
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
_free_text = st.text(st.characters(exclude_categories=_SURROGATES, exclude_characters="\x00"), min_size=1, max_size=24)


def _visible(text: str) -> str:
    """``text``, with a visible character added if it has none (no retries, unlike a filter)."""
    return text if text.strip() else text + "x"


def _text(draw: st.DrawFn, byte: int, pool: Sequence[str] = TEXTS) -> str:
    """From a decision byte: a curated string, or (about one byte in six) a free unicode
    string, drawn then (one more choice)."""
    i = _index(byte, len(pool) + _FREE_SLOTS)
    if i < len(pool):
        return pool[i]
    free = draw(_free_text)
    return free if pool is _EMPTY_OR_TEXT else _visible(free)


@st.composite
def _one_text(draw: st.DrawFn, empty: bool) -> str:
    return _text(draw, _decisions(draw, 1)[0], _EMPTY_OR_TEXT if empty else TEXTS)


_TEXT = {e: _one_text(e) for e in (False, True)}


def unicode_text(min_size: int = 0, max_size: int = 24) -> st.SearchStrategy[str]:
    """Unicode text of every kind: the curated pool (words, astral, combining, RTL, zero-width,
    controls, long text) or a free string of any code point; "" too when ``min_size`` is 0."""
    return _TEXT[min_size == 0]


# a substantive user turn: the stub's answer depends on it (repeat:, count from, free text)
def _single_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ").replace("\u2028", " ").replace("\u2029", " ")


PROMPTS: tuple[str, ...] = tuple(
    [t for t in TEXTS[:12]]
    + ["repeat: " + _single_line(t) for t in TEXTS]
    + [f"Count from {a} to {b}, separated by spaces." for a, b in ((1, 5), (0, 0), (3, 1), (0, 30), (7, 20))]
    + list(TEXTS[12:])
)


def _prompt(draw: st.DrawFn, d: bytes) -> str:
    """A prompt from decision bytes ``d[0]`` (which), ``d[1]``, ``d[2]`` (count bounds)."""
    i = _index(d[0], len(PROMPTS) + 4)
    if i < len(PROMPTS):
        return PROMPTS[i]
    if i == len(PROMPTS):
        return f"Count from {d[1] % 31} to {d[2] % 31}, separated by spaces."
    free = _visible(draw(_free_text))
    return "repeat: " + _single_line(free) if i == len(PROMPTS) + 1 else free


# ----------------------------------------------------------------------------- valid parts


def _text_block(text: str) -> dict:
    return {"type": "text", "text": text}


TURN_BYTES = 4  # decisions of a turn: text, form, second and third block
PROMPT_BYTES = 6  # of the final user turn: and the two bounds of "Count from a to b"
MAX_HISTORY = 6  # turns before the final one (besides a long history)


def _turn(draw: st.DrawFn, d: bytes, darkbloom: bool, prompt: bool) -> Any:
    """String content, or a list of one to three text blocks (never empty text: the real API
    refuses it), from its decision bytes ``d``; one more choice per free string.

    A turn's decisions are bytes of the body's decision string, at fixed positions: a turn of
    its own would be two more Hypothesis draws (a span and its byte string) per turn, a quarter
    of the cost of generating a body (measured), and a shorter history shifts no other decision.
    """
    text = _prompt(draw, d[0:1] + d[4:6]) if prompt else _text(draw, d[0])
    form = 0 if darkbloom else _index(d[1], 4)  # a string, or 1-3 blocks
    if form == 0:
        return text
    return [_text_block(text)] + [_text_block(_text(draw, d[1 + k])) for k in range(1, form)]


# Parts that only some requests have are sub-strategies: each is a span of choices, which the
# shrinker deletes as a whole once the decision that asked for it goes to "absent".
@st.composite
def _long_history(draw: st.DrawFn, darkbloom: bool) -> list[Any]:
    """16-64 turns: the pool in turn from a drawn start, as strings and blocks (one choice)."""
    d = _decisions(draw, 2)
    n, start = 16 + _index(d[0], 49), _index(d[1], len(TEXTS))
    out: list[Any] = []
    for i in range(start, start + n):
        text = TEXTS[i % len(TEXTS)]
        out.append(text if darkbloom or i % 3 else [_text_block(text), _text_block(TEXTS[(i * 7) % len(TEXTS)])])
    return out


_LONG = {d: _long_history(d) for d in (False, True)}


# Tool input schemas: precomputed, from the empty object to nested arrays of objects, with
# every property type, ranges, lengths, enums (unicode too), required lists, descriptions.
TOOL_SCHEMAS: tuple[dict, ...] = (
    {"type": "object", "properties": {}},
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    {
        "type": "object",
        "properties": {
            "q": {"type": "string", "minLength": 1, "maxLength": 20},
            "n": {"type": "integer", "minimum": -100, "maximum": 100},
        },
        "required": ["q"],
    },
    {
        "type": "object",
        "properties": {"x": {"type": "number", "minimum": 0, "maximum": 1}, "flag": {"type": "boolean"}},
    },
    {
        "type": "object",
        "properties": {"unit": {"type": "string", "enum": ["celsius", "fahrenheit", "°K", "😀"]}},
        "required": ["unit"],
    },
    {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}, "minItems": 0}}},
    {
        "type": "object",
        "properties": {
            "point": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
            }
        },
        "required": ["point"],
    },
    {
        "type": "object",
        "properties": {
            "a": {
                "type": "object",
                "properties": {
                    "b": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "properties": {"c": {"type": "integer"}, "d": {"type": "string", "enum": ["x"]}},
                        },
                    }
                },
            }
        },
    },
    {
        "type": "object",
        "description": "Ünïcödé 東京 😀 مرحبا",
        "properties": {"naïve": {"type": "string", "maxLength": 5}, "e\u0301": {"type": "boolean"}},
    },
    {
        "type": "object",
        "description": "",
        "properties": {"only": {"type": "integer", "minimum": 0, "maximum": 0}},
        "required": ["only"],
    },
    {
        "type": "object",
        "properties": {
            f"p{i}": {"type": t}
            for i, t in enumerate(["string", "integer", "number", "boolean", "string", "integer", "number", "boolean"])
        },
        "required": ["p0", "p3", "p7"],
    },
    {
        "type": "object",
        "properties": {
            "choice": {"type": "string", "enum": ["a"]},
            "arr": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}, "minItems": 2},
        },
        "required": ["choice", "arr"],
    },
    {
        "type": "object",
        "properties": {
            "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "meta": {"type": "object", "properties": {}},
        },
    },
)
# names: distinct even ignoring case, 1 to 64 characters of [a-zA-Z0-9_-]
TOOL_NAMES: tuple[str, ...] = (
    "get_weather",
    "a",
    "search-web",
    "Calc_2",
    "x" * 64,
    "UPPER_CASE",
    "9lives",
    "_private",
    "-dash-",
    "mixedCase_Name-3",
    "t",
    "lookup",
)
TOOL_DESCRIPTIONS: tuple[str | None, ...] = (
    None,
    "Weather for a city",
    "",
    "Ünïcödé 東京 😀 مرحبا\u200b",
    "multi\nline\tdescription",
    "a long description " * 40,
)


@st.composite
def _tools(draw: st.DrawFn, n: int) -> list[dict]:
    """``n`` tools with distinct names (one choice): the first name, then schema and
    description of each tool."""
    d = _decisions(draw, 1 + 2 * n)
    first = _index(d[0], len(TOOL_NAMES))
    tools = []
    for k in range(n):
        tool: dict[str, Any] = {
            "name": TOOL_NAMES[(first + k) % len(TOOL_NAMES)],
            "input_schema": TOOL_SCHEMAS[_index(d[1 + 2 * k], len(TOOL_SCHEMAS))],
        }
        description = TOOL_DESCRIPTIONS[_index(d[2 + 2 * k], len(TOOL_DESCRIPTIONS))]
        if description is not None:
            tool["description"] = description
        tools.append(tool)
    return tools


_TOOLS = {n: _tools(n) for n in (1, 2, 3)}
TOOL_USE_IDS: tuple[str, ...] = ("toolu_01", "toolu_abc123", "toolu_" + "z" * 24, "toolu_0")
_ABSENT = object()
_RESULT_CONTENT: tuple[Any, ...] = (
    _ABSENT,
    "",
    "72°F and sunny",
    "Ünïcödé 東京 😀",
    [_text_block("a block result")],
    [_text_block("two"), _text_block("blocks 😀")],
)


@st.composite
def _round_trip(draw: st.DrawFn, name: str) -> list[dict]:
    """A tool round trip: a user question, an assistant tool_use, the user's tool_result (same id)."""
    d = _decisions(draw, 6)  # id, result content, is_error, question (3)
    tid = TOOL_USE_IDS[_index(d[0], len(TOOL_USE_IDS))]
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": tid}
    content = _RESULT_CONTENT[_index(d[1], len(_RESULT_CONTENT))]
    if content is not _ABSENT:
        result["content"] = content
    is_error = _index(d[2], 4)  # absent, absent, false, true
    if is_error >= 2:
        result["is_error"] = is_error == 3
    return [
        {"role": "user", "content": _prompt(draw, d[3:6])},
        {"role": "assistant", "content": [{"type": "tool_use", "id": tid, "name": name, "input": {}}]},
        {"role": "user", "content": [result]},
    ]


_ROUND_TRIPS = {name: _round_trip(name) for name in TOOL_NAMES}

# thinking configurations (absent 4 in 5)
THINKING: tuple[dict, ...] = tuple(
    [{"type": "enabled", "budget_tokens": b} for b in (1024, 1025, 1536, 2048)]
    + [{"type": "enabled", "budget_tokens": 1024, "display": d} for d in ("summarized", "omitted", None)]
    + [{"type": "adaptive"}]
    + [{"type": "adaptive", "display": d} for d in ("summarized", "omitted", None)]
    + [{"type": "disabled"}]
)
SYSTEM_BLOCKS: tuple[list[dict], ...] = (
    [_text_block("Be brief.")],
    [_text_block("Tu es concis. 😀"), _text_block("שלום\u200b")],
    [_text_block(t) for t in TEXTS[4:9]],
)
STOP_SEQUENCES: tuple[list[str], ...] = (
    [],
    ["a"],
    ["alpha"],
    ["."],
    ["0", "1", "2"],
    ["😀"],
    ["e\u0301"],
    ["\n\nHuman:"],
    ["e", "o", "u", "alpha"],
    ["gamma", "東京", "مرحبا", "\u200b"],
    ["Count", "5"],
)
METADATA: tuple[dict, ...] = (
    {},
    {"user_id": None},
    {"user_id": ""},
    {"user_id": "user-1"},
    {"user_id": "Ünïcödé 😀 مرحبا"},
    {"user_id": "u" * 256},
)
TEMPERATURES: tuple[float | int, ...] = (0, 1, 0.0, 1.0, 0.5, 0.7, 1e-7, 0.999999)
TOOL_CHOICES = ("auto", "any", "tool", "none")
_TOOL_CHOICES = tuple(
    (kind, parallel) for kind in TOOL_CHOICES for parallel in (None, False, True)
)  # disable_parallel_tool_use
_unit_float = st.floats(0, 1, allow_nan=False)
_free_stop = _free_text.map(lambda t: [_visible(t[:6])])


_SYSTEM = ("text", "text", "block") + tuple(SYSTEM_BLOCKS)
_STOPS = STOP_SEQUENCES + (_ABSENT,)  # _ABSENT: a free one
_TEMPERATURES = TEMPERATURES + (_ABSENT,)  # _ABSENT: a free one


_BODY_BYTES = 16 + TURN_BYTES * MAX_HISTORY + PROMPT_BYTES


@functools.lru_cache(maxsize=None)
def valid_bodies(scope: Scope) -> st.SearchStrategy[dict]:
    """Request bodies valid for ``scope`` (schema and cross-field rules)."""
    return _valid_bodies(scope)


@st.composite
def _valid_bodies(draw: st.DrawFn, scope: Scope) -> dict:
    """A request body valid for ``scope`` (schema and cross-field rules).

    First the decisions (one choice: 16 bytes for the body, then those of up to
    :data:`MAX_HISTORY` history turns and of the final user turn), then the optional parts, each
    its own span.
    """
    full = not scope.darkbloom
    d = _decisions(draw, _BODY_BYTES)
    # -- the decisions (a decision that does not apply to the scope is read and ignored)
    n_tools = _absent_or(d[0], (1, 2, 3), 3) if full and scope.tools else None  # a quarter of requests
    thinking = _absent_or(d[1], THINKING, 4) if full and scope.thinking else None
    thinks = thinking is not None and thinking["type"] != "disabled"
    prefill = full and not thinks and _one_in(d[2], 6)
    history = _index(d[3], MAX_HISTORY + 1)  # turns before the final user turn
    long = _one_in(d[4], 16)  # and 16-64 more turns before those
    flips = max(0, _index(d[5], 128) - 64)  # half the time, roles in the history flipped (bit 0: its last turn)
    round_trip = n_tools is not None and _one_in(d[6], 2)
    which_tool = _index(d[7], 3)
    max_tokens = (d[8] << 8 | d[9]) >> 6  # 0-1023
    system = _absent_or(d[10], _SYSTEM, 1)  # a string ("" is legal) or blocks
    stops = _absent_or(d[11], _STOPS, 1)
    stream = _index(d[12], 4) if full and scope.stream else 0  # absent, absent, false, true
    metadata = _absent_or(d[13], METADATA, 3)
    choice = _absent_or(d[14], _TOOL_CHOICES, 1)
    temperature = _absent_or(d[15], _TEMPERATURES, 4) if scope.version == V2023 and not thinks else None

    # -- the parts
    body: dict[str, Any] = {"model": scope.model}
    tools = draw(_TOOLS[n_tools]) if n_tools else None
    contents = draw(_LONG[scope.darkbloom]) if long else []
    contents += [
        _turn(draw, d[16 + TURN_BYTES * k : 16 + TURN_BYTES * (k + 1)], scope.darkbloom, False) for k in range(history)
    ]
    turns = [{"content": c} for c in contents]
    n = len(turns)
    for i, turn in enumerate(turns):  # alternating up to the final user turn, unless flipped
        turn["role"] = (
            "assistant" if ((n - i) % 2 == 1) != bool(n - 1 - i < history and flips >> (n - 1 - i) & 1) else "user"
        )
    if tools is not None and round_trip:
        turns += draw(_ROUND_TRIPS[tools[which_tool % len(tools)]["name"]])
    turns.append({"role": "user", "content": _turn(draw, d[-PROMPT_BYTES:], scope.darkbloom, True)})
    if prefill:
        turns.append({"role": "assistant", "content": _visible(draw(_TEXT[False]).rstrip())})
    body["messages"] = turns
    if thinking is not None and thinking["type"] == "enabled":
        body["max_tokens"] = thinking["budget_tokens"] + 1 + max_tokens
    else:  # low-64 half the time, else a multiple of 64 up to 4096
        low = 0 if scope.version == V2026 and full else 1
        body["max_tokens"] = low + max_tokens % (65 - low) if max_tokens < 512 else (max_tokens % 64 + 1) * 64
    if system == "text" or (system is not None and not full):
        body["system"] = draw(_TEXT[True])
    elif system == "block":
        body["system"] = [_text_block(draw(_TEXT[False]))]
    elif system is not None:
        body["system"] = system
    if not full:
        return body
    if stops is not None:
        body["stop_sequences"] = stops if stops is not _ABSENT else draw(_free_stop)
    if stream >= 2:
        body["stream"] = stream == 3
    if metadata is not None:
        body["metadata"] = metadata
    if tools is not None:
        body["tools"] = tools
        if choice is not None and not (thinks and choice[0] in ("any", "tool")):
            kind, parallel = choice
            body["tool_choice"] = {"type": kind}
            if kind == "tool":
                body["tool_choice"]["name"] = tools[which_tool % len(tools)]["name"]
            if kind != "none" and parallel is not None:
                body["tool_choice"]["disable_parallel_tool_use"] = parallel
    if thinking is not None:
        body["thinking"] = thinking
    if temperature is not None:
        body["temperature"] = temperature if temperature is not _ABSENT else draw(_unit_float)
    return body


@functools.lru_cache(maxsize=None)
def valid_requests(scope: Scope) -> st.SearchStrategy[GenRequest]:
    """Valid requests for ``scope``: each must get 200 (contract §1-§3)."""
    return valid_bodies(scope).map(lambda body: GenRequest(body=body))


# ----------------------------------------------------------------------------- invalid


def _bad(
    body: Any,
    kind: str,
    note: str,
    *,
    status: int = 400,
    error_type: str = "invalid_request_error",
    raw: bytes | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    must: bool = True,
) -> GenRequest:
    return GenRequest(
        body=body, raw=raw, headers=headers, kind=kind, status=status, error_type=error_type, must=must, note=note
    )


def _dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# values of the wrong JSON type for each field (integral floats are integers in JSON Schema)
_WRONG: dict[str, list[Any]] = {
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
    kinds = [
        "missing-required",
        "wrong-type",
        "out-of-range",
        "unknown-enum",
        "truncated-json",
        "non-utf8-json",
        "unknown-model",
    ]
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
    return _mutation(draw, scope, draw(valid_bodies(scope)), only)


@st.composite
def _mutations(draw: st.DrawFn, scope: Scope, size: int) -> list[GenRequest]:
    """1 to ``size`` distinct targeted mutations of one valid body.

    Drawing the valid body is most of the cost of a mutation (two thirds, measured), and any
    valid body can carry any mutation: a batch of requests shares one. Each mutation is its own
    list element, so shrinking deletes the others and then shrinks the body and the one left.
    """
    body = draw(valid_bodies(scope))
    token = _SHARED_BODY.set(body)
    try:
        return draw(_mutation_lists(scope, size))
    finally:
        _SHARED_BODY.reset(token)


# The body the mutations of a batch share, set by _mutations while it draws them: one list
# strategy per scope and size, built once (a list strategy built per body cost a fifth of
# generating a batch: building and validating it, measured).
_SHARED_BODY: contextvars.ContextVar[dict] = contextvars.ContextVar("_SHARED_BODY")


@functools.lru_cache(maxsize=None)
def _mutation_lists(scope: Scope, size: int) -> st.SearchStrategy[list[GenRequest]]:
    return st.lists(_one_mutation(scope), min_size=1, max_size=size, unique_by=GenRequest.key)


@st.composite
def _one_mutation(draw: st.DrawFn, scope: Scope) -> GenRequest:
    return _mutation(draw, scope, _SHARED_BODY.get(), None)


def _mutation(draw: st.DrawFn, scope: Scope, body: dict, only: str | None) -> GenRequest:
    """One targeted mutation of ``body`` (which it leaves as it is), with its exact answer."""
    kinds = mutation_kinds(scope)
    kind = only or kinds[_index(_decisions(draw, 1)[0], len(kinds))]  # evenly spread
    # a private copy to mutate: the body and its turns (the mutations below replace values in
    # these, never change a shared value in place)
    b = dict(body)
    b["messages"] = [dict(turn) for turn in body["messages"]]

    if kind == "missing-required":
        name = _pick(draw, ["model", "messages", "max_tokens"])
        del b[name]
        return _bad(b, kind, f"no {name}")
    if kind == "wrong-type":
        names = list(_DARK_WRONG if scope.darkbloom else _WRONG)
        name = _pick(draw, names + ["messages[].content", "messages[].role"])
        if name == "messages[].content":
            i = _int(draw, 0, len(b["messages"]) - 1)
            b["messages"][i]["content"] = _pick(draw, [42, None, {"text": "x"}, True])
        elif name == "messages[].role":
            i = _int(draw, 0, len(b["messages"]) - 1)
            b["messages"][i]["role"] = _pick(draw, [1, None, ["user"]])
        else:
            b[name] = _pick(draw, _WRONG[name])
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
            b["max_tokens"] = _int(draw, -(2**31), top)
            b.pop("thinking", None)
            return _bad(b, kind, f"max_tokens {b['max_tokens']}")
        if what == "empty-messages":
            b["messages"] = []
            return _bad(b, kind, "messages is []")
        if what == "temperature":
            b["temperature"] = draw(
                st.one_of(st.floats(1.0, 1e9, exclude_min=True), st.floats(-1e9, 0, exclude_max=True))
            )
            b.pop("thinking", None)
            return _bad(b, kind, f"temperature {b['temperature']}")
        if what == "budget-tokens":
            b["thinking"] = {"type": "enabled", "budget_tokens": _int(draw, 0, 1023)}
            b["max_tokens"] = max(b["max_tokens"], 2048)
            return _bad(b, kind, f"thinking.budget_tokens {b['thinking']['budget_tokens']} (< 1024)")
        budget = _int(draw, 1024, 4096)
        b["thinking"] = {"type": "enabled", "budget_tokens": budget}
        b["max_tokens"] = _int(draw, 1, budget)
        b.pop("temperature", None)
        return _bad(b, kind, f"thinking.budget_tokens {budget} >= max_tokens {b['max_tokens']}")
    if kind == "unknown-enum":
        options = ["role"] if scope.darkbloom else ["role", "tool_choice", "thinking", "service_tier", "block-source"]
        what = _pick(draw, options)
        if what == "role":
            i = _int(draw, 0, len(b["messages"]) - 1)
            roles = ["robot", "tool", "developer", "User", ""] + (
                ["system"] if scope.version == V2023 or scope.darkbloom else []
            )
            b["messages"][i]["role"] = _pick(draw, roles)
            return _bad(b, kind, f"messages[{i}].role {b['messages'][i]['role']!r}")
        if what == "tool_choice":
            b["tool_choice"] = {"type": _pick(draw, ["sometimes", "required", "ANY", ""])}
            return _bad(b, kind, f"tool_choice.type {b['tool_choice']['type']!r}")
        if what == "thinking":
            b["thinking"] = {"type": _pick(draw, ["on", "maybe", "ENABLED", ""])}
            return _bad(b, kind, f"thinking.type {b['thinking']['type']!r}")
        if what == "service_tier":
            b["service_tier"] = _pick(draw, ["premium", "priority", "free", ""])
            return _bad(b, kind, f"service_tier {b['service_tier']!r}")
        b["messages"][-1 if b["messages"][-1]["role"] == "user" else -2]["content"] = [
            {"type": "image", "source": {"type": _pick(draw, ["ftp", "carrier-pigeon", ""]), "data": "AAAA"}}
        ]
        return _bad(b, kind, "image source type unknown")
    if kind == "unknown-block-type":
        i = _int(draw, 0, len(b["messages"]) - 1)
        btype = _pick(draw, ["hologram", "txt", "Text", "video", ""])
        b["messages"][i]["content"] = [{"type": btype, "text": draw(unicode_text(1, 10))}]
        return _bad(b, kind, f"messages[{i}].content[0].type {btype!r}")
    if kind == "truncated-json":
        data = _dumps(b)
        cut = _int(draw, 1, len(data) - 1)
        return _bad(b, kind, f"body cut to {cut} of {len(data)} bytes", raw=data[:cut])
    if kind == "non-utf8-json":
        data = _dumps(b)
        # a byte that can never occur in UTF-8, placed inside the last user turn's text
        marker = _dumps(b["messages"][-1]["content"])
        at = data.rfind(marker)
        bad = _pick(draw, [b"\xff", b"\xc0", b"\xe9", b"\xfe\xfe", b"\xed\xa0\x80"])
        insert = at + 2 if at >= 0 else len(data) - 1
        return _bad(b, kind, f"byte(s) {bad.hex()} inside a string", raw=data[:insert] + bad + data[insert:])
    if kind == "unknown-model":
        b["model"] = UNKNOWN_MODEL + _pick(draw, ["", "-x", "-😀"])
        return _bad(b, kind, f"model {b['model']!r}", status=404, error_type="not_found_error")
    if kind == "sampling-param-2026":
        name = _pick(draw, ["temperature", "top_p", "top_k"])
        b[name] = _int(draw, 0, 1) if name != "top_k" else _int(draw, 0, 50)
        return _bad(b, kind, f"{name} under anthropic-version 2026-10-21")
    if kind == "oversize":
        assert scope.max_body_bytes is not None
        data = _dumps(b)
        pad = scope.max_body_bytes + 1 - len(data) + _int(draw, 0, 64)
        return _bad(
            b,
            kind,
            f"body of {len(data) + max(0, pad)} bytes (limit {scope.max_body_bytes})",
            raw=data + b" " * max(0, pad),
            status=413,
            error_type="request_too_large",
        )
    if kind == "wrong-content-type":
        ctype = _pick(draw, ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
        return _bad(b, kind, f"content-type {ctype}", raw=_dumps(b), headers=(("content-type", ctype),), must=False)
    # unknown-field: a SHOULD (contract §1 preamble)
    name = _pick(draw, ["temperature_2", "unknown_field", "max_tokens_to_sample", "prompt"])
    b[name] = draw(st.one_of(st.integers(0, 9), unicode_text(0, 8)))
    return _bad(b, kind, f"unknown top-level field {name!r}", must=False)


@functools.lru_cache(maxsize=None)
def invalid_requests(scope: Scope) -> st.SearchStrategy[GenRequest]:
    """Invalid requests for ``scope``, each with its exact expected status and error type."""
    return _mutate(scope)


@functools.lru_cache(maxsize=None)
def invalid_batches(scope: Scope, size: int) -> st.SearchStrategy[list[GenRequest]]:
    """Batches of 1 to ``size`` distinct invalid requests for ``scope``: mutations of one
    valid body, each with its exact expected status and error type."""
    return _mutations(scope, size)


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
    forced tool, a sampling parameter (2023-06-01), streaming, thinking."""
    weather = {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    bodies: list[dict] = [
        _minimal(scope, max_tokens=1),
        _minimal(scope, "Say hello, 世界 😀 مرحبا", system="Be brief."),
    ]
    if not scope.darkbloom:
        stop = _minimal(scope, "repeat: alpha beta gamma delta", max_tokens=64, stop_sequences=["gamma"])
        forced = _minimal(
            scope,
            "What is the weather in Paris?",
            max_tokens=256,
            tools=[weather],
            tool_choice={"type": "tool", "name": "get_weather"},
        )
        # The other documented shapes: system as text blocks, content as blocks, a multi-turn
        # conversation with string assistant content.
        shapes = _minimal(scope, "And now?", system=[_text_block("Be brief.")])
        shapes["messages"] = [
            {"role": "user", "content": [_text_block("Hello")]},
            {"role": "assistant", "content": "Hi."},
            {"role": "user", "content": "And now?"},
        ]
        bodies += [stop, forced, shapes]
        if scope.version == V2023:  # sampling parameters are documented under 2023-06-01 only
            bodies.append(_minimal(scope, "Hello", temperature=0.5))
        if scope.stream:
            bodies += [{**stop, "stream": True}, {**forced, "stream": True}, _minimal(scope, max_tokens=1, stream=True)]
        if scope.thinking:
            bodies.append(
                _minimal(
                    scope, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024}, stream=scope.stream
                )
            )
    return tuple(GenRequest(body=b) for b in bodies)


@functools.lru_cache(maxsize=None)
def invalid_examples(scope: Scope) -> tuple[GenRequest, ...]:
    """The simplest example of every mutation kind, tried first so that each kind is sent at
    any budget. Hypothesis generates the simplest example first, so a one-example search
    without shrinking is deterministic and cheap."""
    from hypothesis import HealthCheck, Phase, find, settings

    quiet = settings(
        database=None, max_examples=1, deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
    )
    out = [find(_mutate(scope, only=kind), lambda _: True, settings=quiet) for kind in mutation_kinds(scope)]
    base = find(valid_bodies(scope), lambda _: True, settings=quiet)
    for name in ("messages", "max_tokens"):  # the simplest "missing-required" drops model: each field once
        out.insert(1, _bad({k: v for k, v in base.items() if k != name}, "missing-required", f"no {name}"))
    return tuple(out)


# ----------------------------------------------------------------------------- semantics


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def cross_field_problem(body: Any) -> str | None:
    """A contract rule a JSON Schema cannot state that ``body`` breaks (contract §1.5-§1.6)."""
    if not isinstance(body, dict):
        return None
    thinking = body.get("thinking")
    if not isinstance(thinking, dict):
        thinking = {}
    max_tokens, budget = body.get("max_tokens"), thinking.get("budget_tokens")
    # JSON Schema's "integer" admits 18.0 as well as 18
    if thinking.get("type") == "enabled" and _is_number(max_tokens) and _is_number(budget):
        if budget >= max_tokens:
            return "thinking.budget_tokens must be less than max_tokens"
    choice = body.get("tool_choice")
    if not isinstance(choice, dict):
        choice = {}
    tools = body.get("tools")
    if not isinstance(tools, list):
        tools = []
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
        return cls(
            int(body.get("max_tokens", 0)), [s for s in body.get("stop_sequences") or [] if isinstance(s, str)], forced
        )
