"""The evidence unit: one request and everything observed about its answer.

An :class:`Exchange` is recorded by :class:`~conformance._target.Target` before any judgement:
the request as sent, the status line and headers as received, the body bytes (capped), the SSE
events with their arrival times, and a one-line transport error when the exchange did not
complete. Checks read it; reports render it through :meth:`Exchange.to_dict` and
:meth:`RecordedRequest.curl`, which never show a credential.
"""

from __future__ import annotations

import json as _json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance._redact import Redactor, env_name_for_header
from conformance._sse import Anomaly, SSEEvent

__all__ = ["Exchange", "RecordedRequest"]

CURL_BODY_LIMIT = 4096
# headers curl computes itself from the URL and the body
_CURL_SKIP = frozenset({"host", "content-length"})
# headers curl adds on its own unless told otherwise; `-H 'name:'` removes them
_CURL_DEFAULTS = ("accept", "user-agent", "content-type")
_DQ_UNSAFE = re.compile(r'["\\$`!]')
_NAME_CHAR = re.compile(r"[A-Za-z0-9_]")


def _as_redactor(base: Redactor | None, secrets: Iterable[str]) -> Redactor:
    return (base or Redactor()).extended(secrets)


# ---------------------------------------------------------------------------- shell quoting


def _shell_word(segments: list[tuple[bool, str]]) -> str:
    """Quote a word made of literal text (False, text) and env var references (True, NAME)."""
    if not any(is_var for is_var, _ in segments):
        return shlex.quote("".join(text for _, text in segments))
    if all(is_var or not _DQ_UNSAFE.search(text) for is_var, text in segments):
        out = []
        for i, (is_var, text) in enumerate(segments):
            if not is_var:
                out.append(text)
                continue
            nxt = segments[i + 1][1][:1] if i + 1 < len(segments) and not segments[i + 1][0] else ""
            out.append("${%s}" % text if _NAME_CHAR.match(nxt) else "$" + text)
        return '"' + "".join(out) + '"'
    return "".join(f'"${text}"' if is_var else shlex.quote(text) for is_var, text in segments if text)


def _segments(text: str, red: Redactor) -> list[tuple[bool, str]]:
    """Split ``text`` around known secrets, which become env var references."""
    if red.pattern is None:
        return [(False, text)]
    out: list[tuple[bool, str]] = []
    pos = 0
    for m in red.pattern.finditer(text):
        out.append((False, text[pos : m.start()]))
        out.append((True, red.env_for[m.group(0)]))
        pos = m.end()
    out.append((False, text[pos:]))
    return [s for s in out if s[0] or s[1]] or [(False, "")]


def _header_word(name: str, value: str, red: Redactor) -> str:
    if red.is_secret_header(name):
        # a credential that is no known secret (nor the public wrong key) becomes a variable too
        value = red.map_credential(
            value, lambda c: c if red.pattern is not None and red.pattern.fullmatch(c) else "\x00"
        )
        if value.endswith("\x00"):
            return _shell_word(_segments(f"{name}: {value[:-1]}", red) + [(True, env_name_for_header(name))])
    return _shell_word(_segments(f"{name}: {value}", red))


def _printf_command(body: bytes, red: Redactor) -> str:
    """A ``printf`` command writing arbitrary bytes (NUL, invalid UTF-8) in POSIX sh.

    Known secrets in the bytes become ``%s`` conversions fed from their env variables.
    """
    fmt: list[str] = []
    args: list[str] = []
    for is_var, text in _segments(body.decode("latin-1"), red):
        if is_var:
            fmt.append("%s")
            args.append(f'"${text}"')
            continue
        for c in text:
            b = ord(c)
            if c == "%":
                fmt.append("%%")
            elif c == "\\":
                fmt.append("\\\\")
            elif 0x20 <= b < 0x7F and c != "'":
                fmt.append(c)
            else:
                fmt.append("\\%03o" % b)
    return " ".join(["printf", "'" + "".join(fmt) + "'", *args])


# ---------------------------------------------------------------------------- request


@dataclass(frozen=True)
class RecordedRequest:
    """The request exactly as handed to the HTTP client (headers in wire order, body bytes)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    stream: bool = False
    redactor: Redactor | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        red = _as_redactor(self.redactor, ())
        heads = ", ".join(f"{n}: {v}" for n, v in red.headers(self.headers))
        return f"RecordedRequest({self.method} {red.text(self.url)} [{heads}] body={len(self.body)} bytes)"

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for n, v in self.headers if n.lower() == name), None)

    def curl(self, secrets: Iterable[str] = (), *, body_limit: int | None = CURL_BODY_LIMIT) -> str:
        """A runnable curl command line; secrets appear as ``$CONFORMANCE_...`` variables.

        Bodies longer than ``body_limit`` bytes are cut, with a ``#`` note on the line before
        (the command then no longer reproduces the request). Bodies that are not UTF-8 text
        are fed through ``printf '...' | curl ... --data-binary @-``.
        """
        red = _as_redactor(self.redactor, secrets)
        words = ["curl", "-sS", "-i"]
        if self.stream:
            words.append("-N")
        if self.method != ("POST" if self.body else "GET"):
            words += ["-X", _shell_word(_segments(self.method, red))]
        words.append(_shell_word(_segments(self.url, red)))
        present = set()
        for name, value in self.headers:
            present.add(name.lower())
            if name.lower() not in _CURL_SKIP:
                words += ["-H", _header_word(name, value, red)]
        for name in _CURL_DEFAULTS:
            if name not in present and (name != "content-type" or self.body):
                words += ["-H", shlex.quote(f"{name}:")]
        note = ""
        body = self.body
        if body_limit is not None and len(body) > body_limit:
            note = f"# request body is {len(body)} bytes; only the first {body_limit} are shown\n"
            body = body[:body_limit]
        prefix = ""
        if body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and "\x00" not in text:
                words += ["--data-raw", _shell_word(_segments(text, red))]
            else:
                prefix = _printf_command(body, red) + " | "
                words += ["--data-binary", "@-"]
        return note + prefix + " ".join(words)


# ---------------------------------------------------------------------------- exchange

_NO_JSON = object()
TRUNCATED_HEAD_BYTES = 64 * 1024  # what is kept of a body cut at the cap: the evidence excerpt and more
# evidence keeps this many characters of each body: a whole Message or error, and enough of
# a page of HTML or garbage to recognise it, without a junk answer filling the report
EXCERPT_CHARS = 16 * 1024


@dataclass(eq=False)
class Exchange:
    """One request and everything observed about its answer."""

    request: RecordedRequest
    status: int | None = None
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    body_truncated: bool = False
    # bytes received; only a truncated body keeps less of them (its head) than it read
    bytes_read: int | None = None
    events: list[SSEEvent] = field(default_factory=list)
    sse_anomalies: list[Anomaly] = field(default_factory=list)
    transport_error: str | None = None
    started_at: float = 0.0
    elapsed: float = 0.0
    first_byte_after: float | None = None
    complete: bool = False
    is_stream: bool = False  # the body was parsed as an event stream
    # why the request differs from what its probe asked for (re-sent in a form the target accepts)
    adapted: str = field(default="", compare=False)
    _json: Any = field(default=_NO_JSON, init=False, repr=False, compare=False)
    _json_error: str | None = field(default=None, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        red = _as_redactor(self.request.redactor, ())
        outcome = self.transport_error if self.status is None else f"{self.status}"
        extra = f", {len(self.events)} events" if self.is_stream else ""
        err = f", error: {self.transport_error}" if self.status is not None and self.transport_error else ""
        return (
            f"<Exchange {self.request.method} {red.text(self.request.url)} -> {red.text(outcome or '')} "
            f"({self.body_bytes} bytes{extra}, {self.elapsed:.3f} s{red.text(err)})>"
        )

    def keep_body(self, received: bytearray) -> None:
        """Store the body as received; a body cut at the cap (``body_truncated``) cannot be
        judged, only shown, so only its head is kept: a run's memory then does not grow by the
        cap per exchange, and :attr:`body_bytes` still says how much arrived."""
        if self.body_truncated:
            self.bytes_read = len(received)
            del received[TRUNCATED_HEAD_BYTES:]
        self.body = bytes(received)

    @property
    def body_bytes(self) -> int:
        """How many body bytes arrived (a truncated body keeps only its head in :attr:`body`)."""
        return len(self.body) if self.bytes_read is None else self.bytes_read

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive), or None."""
        name = name.lower()
        return next((v for n, v in self.headers if n == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    @property
    def content_type(self) -> str | None:
        """The media type of the response (lower case, parameters dropped), or None."""
        value = self.header("content-type")
        if value is None:
            return None
        return value.split(";", 1)[0].strip().lower() or None

    def json(self) -> Any:
        """The body parsed as strict JSON (UTF-8, no NaN); None with :attr:`json_error` set if not."""
        if self._json is _NO_JSON:
            self._json, self._json_error = None, None
            if self.body_truncated:
                self._json_error = f"body truncated at {self.body_bytes} bytes"
            elif not self.body:
                self._json_error = "empty body"
            else:
                try:
                    self._json = _json.loads(self.body.decode("utf-8"), parse_constant=_reject_constant)
                except UnicodeDecodeError as exc:
                    self._json_error = f"body is not UTF-8: {exc.reason} at byte {exc.start}"
                except ValueError as exc:
                    self._json_error = f"body is not JSON: {exc}"
        return self._json

    @property
    def json_error(self) -> str | None:
        self.json()
        return self._json_error

    def to_dict(
        self,
        secrets: Iterable[str] = (),
        *,
        body_limit: int = EXCERPT_CHARS,
        event_limit: int = 2048,
        max_events: int = 2000,
    ) -> dict[str, Any]:
        """JSON-serialisable evidence with every credential redacted."""
        red = _as_redactor(self.request.redactor, secrets)
        req = self.request
        req_body, req_cut = red.cut(req.body[: body_limit * 4].decode("utf-8", "replace"), body_limit)
        body, body_cut = red.cut(
            self.body[: body_limit * 4].decode("utf-8", "replace"), body_limit, truncated=self.body_truncated
        )
        events = []
        for ev in self.events[:max_events]:
            data, _ = red.cut(ev.data, event_limit)
            raw, _ = red.cut(ev.raw[: event_limit * 4].decode("utf-8", "replace"), event_limit)
            events.append(
                {
                    "position": ev.position,
                    "arrived": round(ev.arrived, 6),
                    "event": red.text(ev.event or "") or ev.event,
                    "data": data,
                    "raw": raw,
                }
            )
        return {
            "request": {
                "method": req.method,
                "url": red.text(req.url),
                "headers": red.headers(req.headers),
                "body": req_body,
                "body_bytes": len(req.body),
                "body_excerpt_cut": req_cut or len(req.body) > body_limit * 4,
                "stream": req.stream,
                "curl": req.curl(secrets),
            },
            "status": self.status,
            "reason": red.text(self.reason) if self.reason else self.reason,
            "headers": red.headers(self.headers),
            "content_type": self.content_type,
            "body": body,
            "body_bytes": self.body_bytes,
            "body_excerpt_cut": body_cut or self.body_bytes > body_limit * 4,
            "body_truncated": self.body_truncated,
            "json_error": self.json_error if not self.is_stream else None,
            "events": events,
            "events_total": len(self.events),
            "sse_anomalies": [
                {"kind": a.kind, "message": red.text(a.message), "offset": a.offset} for a in self.sse_anomalies
            ],
            "transport_error": red.text(self.transport_error) if self.transport_error else None,
            "complete": self.complete,
            "timings": {
                "started_at": self.started_at,
                "elapsed": round(self.elapsed, 6),
                "first_byte_after": None if self.first_byte_after is None else round(self.first_byte_after, 6),
            },
        }


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
