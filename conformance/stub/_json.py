"""JSON on the stub's hot path: orjson, with the standard library where orjson says no.

orjson encodes and decodes an order of magnitude faster than :mod:`json`; it refuses what is
not strict JSON (lone surrogates, integers beyond 64 bits, NaN). The standard library takes
over for those, so the stub answers the same requests as before, only faster.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON. What orjson cannot encode (a lone surrogate echoed from a request,
    an integer beyond 64 bits) is written by :mod:`json` with ASCII escapes: still valid JSON."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, separators=(",", ":")).encode()


def dumps_text(value: Any) -> str:
    """:func:`dumps` as text (an SSE ``data:`` line)."""
    return dumps(value).decode()


def sorted_dumps(value: Any) -> bytes:
    """Canonical bytes for a digest: keys sorted, anything unusual as ``str``."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, sort_keys=True, default=str).encode()


# 19 digits in a row may be an integer beyond 64 bits, which orjson reads as a float
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def loads(data: bytes) -> Any:
    """Parse a request body; ValueError (JSONDecodeError, UnicodeDecodeError or RecursionError
    from :mod:`json`) when it is not JSON. orjson's verdict is final only when it accepts:
    on refusal :mod:`json` decides, and its error names the problem. A body with a long run of
    digits goes to :mod:`json` at once: an integer stays an integer, however large."""
    if _LONG_NUMBER.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data.decode("utf-8"))
