"""Keeping credentials out of every rendering.

One :class:`Redactor` knows the secret strings of a run (API key, values of secret headers),
the names of headers that always carry credentials, and the environment variable that stands
for each secret in a reproduction command. Every piece of evidence that leaves an
:class:`~conformance._exchange.Exchange` (curl line, report dict, repr, error message) goes
through it.

Two rules, applied together:

* by value: every occurrence of a known secret, anywhere (URL, header, body, SSE data, error
  text), is replaced; a hostile server echoing the key back is redacted too. A secret shorter
  than 8 characters (only a test key is that short) is replaced where it stands as a whole
  token, not inside words: a key ``k`` must not turn ``x-api-key`` into ``x-api-[redacted]ey``;
* by name: the value of a header named ``authorization``, ``x-api-key``,
  ``proxy-authorization`` (and any name declared secret) is replaced even when the value is
  not a known secret; only the auth scheme word (``Bearer``) is kept. The harness's public
  wrong key (:data:`WRONG_API_KEY`) is the one value shown as is, so a reproduction of an
  "invalid key" probe still sends the wrong key.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

__all__ = ["REDACTED", "SECRET_HEADER_NAMES", "WRONG_API_KEY", "Redactor", "env_name_for_header"]

REDACTED = "[redacted]"
SECRET_HEADER_NAMES = frozenset({"authorization", "x-api-key", "proxy-authorization"})
# A syntactically plausible key that no server accepts; used for "wrong key" probes.
WRONG_API_KEY = "sk-ant-conformance-wrong-key-0000000000000000"
# A secret prefix this long at the very end of a cut text is treated as a leak.
_MIN_PARTIAL = 8
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)(\s+)(.*)$", re.S)


def _alternative(form: str) -> str:
    """One secret form as a regex: anywhere, or, for a form too short to be a real key (a
    test key like ``k``), only as a whole token, so ``x-api-key`` stays readable."""
    if len(form) >= _MIN_PARTIAL:
        return re.escape(form)
    return rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])"


def env_name_for_header(name: str) -> str:
    """``x-gateway-token`` -> ``CONFORMANCE_X_GATEWAY_TOKEN``."""
    return "CONFORMANCE_" + re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


class Redactor:
    """Replaces secrets in text; ``secrets`` maps each secret value to its env var name."""

    def __init__(
        self,
        secrets: Mapping[str, str] | Iterable[str] = (),
        *,
        names: Iterable[str] = (),
        public: Iterable[str] = (WRONG_API_KEY,),
    ) -> None:
        if not isinstance(secrets, Mapping):
            secrets = {s: "" for s in secrets}
        named: dict[str, str] = {}
        for value, env in secrets.items():
            if value and value not in named:
                named[value] = env or f"CONFORMANCE_SECRET_{len(named) + 1}"
        self.placeholders: dict[str, str] = named
        self.names = SECRET_HEADER_NAMES | {n.lower() for n in names}
        self.public = frozenset(p for p in public if p and p not in named)
        # Each secret is also looked for as it appears inside JSON strings and URLs, so a
        # server echoing it in a JSON body or a query is redacted too.
        self.env_for: dict[str, str] = {}
        for value, env in named.items():
            for form in (
                value,
                _json.dumps(value)[1:-1],
                _json.dumps(value, ensure_ascii=False)[1:-1],
                quote(value, safe=""),
            ):
                self.env_for.setdefault(form, env)
        # longest first, so a secret containing another is replaced whole
        ordered = sorted(self.env_for, key=len, reverse=True)
        self.pattern: re.Pattern[str] | None = re.compile("|".join(map(_alternative, ordered))) if ordered else None

    def __repr__(self) -> str:
        return f"<Redactor {len(self.placeholders)} secret(s), {len(self.names)} secret header name(s)>"

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self.placeholders)

    def extended(self, secrets: Iterable[str] = (), names: Iterable[str] = ()) -> Redactor:
        """This redactor plus more secret strings / header names (``self`` if none are new)."""
        extra = [s for s in secrets if s and s not in self.placeholders]
        new_names = {n.lower() for n in names} - self.names
        if not extra and not new_names:
            return self
        merged = dict(self.placeholders)
        for s in extra:
            merged.setdefault(s, f"CONFORMANCE_SECRET_{len(merged) + 1}")
        return Redactor(merged, names=self.names | new_names, public=self.public)

    # ------------------------------------------------------------------ text

    def text(self, s: str) -> str:
        """``s`` with every known secret replaced by :data:`REDACTED`."""
        return self.pattern.sub(REDACTED, s) if self.pattern is not None and s else s

    def cut(self, s: str, limit: int, *, truncated: bool = False) -> tuple[str, bool]:
        """Redact ``s`` then keep its first ``limit`` characters.

        Redaction happens before cutting, so a cut never leaves half a secret; when the text
        was cut here or earlier (``truncated``), a trailing prefix of a secret is removed too.
        Returns (text, whether it was shortened here).
        """
        red = self.text(s)
        shortened = len(red) > limit
        if shortened:
            red = red[:limit]
        if shortened or truncated:
            red = self._drop_partial_tail(red)
        return red, shortened

    def _drop_partial_tail(self, s: str) -> str:
        for secret in self.env_for:
            for n in range(min(len(secret) - 1, len(s)), _MIN_PARTIAL - 1, -1):
                if s.endswith(secret[:n]):
                    return s[:-n] + REDACTED
        return s

    # ------------------------------------------------------------------ headers

    def is_secret_header(self, name: str) -> bool:
        return name.lower() in self.names

    def header(self, name: str, value: str) -> str:
        """A header value fit for a report."""
        if self.is_secret_header(name):
            return self.map_credential(value, lambda _credential: REDACTED)
        return self.text(value)

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
        return [[self.text(n), self.header(n, v)] for n, v in pairs]

    def map_credential(self, value: str, replace) -> str:
        """Apply ``replace`` to the credential part of a secret header value (scheme kept)."""
        m = _SCHEME.match(value)
        scheme, space, credential = (m.group(1), m.group(2), m.group(3)) if m else ("", "", value)
        if not m or scheme.lower() not in ("bearer", "basic", "token"):
            scheme, space, credential = "", "", value
        if credential in self.public:
            return value
        return scheme + space + replace(credential)
