"""Scripted answers: ``conformance stub --script FILE`` (an offline backend for client developers).

The stub's own answers are text with ``end_turn`` unless ``tool_choice`` forces a tool
(:mod:`.generate`). A script makes it answer by rules instead, as fakellm or llmock let their
users do: the tool calls an agent should make, the thinking it should see, the errors and the
delays it should survive. The file is YAML or JSON, valid against
``schemas/data/stub-script.schema.json``::

    description: a Read, then the answer
    rules:
      - name: answer-the-file
        when: {tool_name: Read, tool_result: "the secret is"}
        reply:
          - text: "The file says the secret is 42."
      - name: read-it
        when: {text: "What does notes.txt say?"}
        reply:
          - thinking: "I should read the file."
          - tool_use: {name: Read, input: {file_path: /tmp/work/notes.txt}}
      - name: first-call-overloaded
        when: {text: "flaky"}
        times: 1
        delay: 0.5
        error: {status: 529, type: overloaded_error, message: "try again"}

Each ``POST /v1/messages`` that passed authentication and validation is matched against the
rules in order; the first whose ``when`` holds answers it:

* ``when`` (all given conditions must hold; none matches every request): ``text`` a substring
  and ``text_regex`` a Python regular expression of the last user turn's text blocks;
  ``tool_result`` a substring, ``tool_result_regex`` a regular expression of the text of that
  turn's ``tool_result`` blocks, ``tool_name`` the name of a tool one of them answers (looked
  up by ``tool_use_id`` in the conversation). A rule with a tool_result condition matches only
  a turn that carries a tool_result; put it before the rules matching the question, since
  clients repeat earlier text in later turns.
* ``reply``: the content blocks, in order, sent as written (``text``, ``thinking`` with a
  generated signature, ``tool_use`` with the given ``name`` and ``input`` and a generated
  ``toolu_`` id); ``stop_reason`` defaults to ``tool_use`` when a tool_use block is there,
  else ``end_turn``; ``max_tokens`` and ``stop_sequences`` do not apply. Streamed or not, as
  the request asks; usage counts words as the stub always does.
* ``error``: ``{status, type, message}`` answered in the error envelope (§4.1).
* neither: the stub's own answer (useful with ``delay``).
* ``delay``: seconds before the answer or the error starts; ``times``: the rule answers only its
  first N matches, later requests fall through to the rules after it.

A request no rule matches gets the stub's own answer. Faults (``--fault``) still apply to the
rendered answer.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .generate import Block, Reply, _blocks, _last_user, _tool_result_text, base62_id, count_words, input_tokens


class ScriptError(ValueError):
    """The script file is unreadable or not valid against the script schema (one line)."""


@dataclass
class Scripted:
    """What a rule answers: a reply, an error (status, type, message), or neither (the stub's
    own answer), after ``delay`` seconds."""

    rule: str
    reply: Reply | None = None
    error: tuple[int, str, str] | None = None
    delay: float = 0.0


@dataclass
class Rule:
    name: str
    when: dict[str, Any]
    reply: list[dict[str, Any]] | None
    stop_reason: str | None
    error: dict[str, Any] | None
    delay: float
    times: int | None
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    used: int = 0


def _turn_facts(body: dict) -> tuple[str, str, set[str], bool]:
    """(text of the last user turn, text of its tool_result blocks, the names of the tools they
    answer, whether it carries any tool_result)."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    last = _last_user(messages)
    blocks = _blocks(last.get("content")) if last is not None else []
    text = "\n".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
    results = [b for b in blocks if b.get("type") == "tool_result"]
    names = {
        b.get("id"): b.get("name")
        for m in messages
        if m.get("role") == "assistant"
        for b in _blocks(m.get("content"))
        if b.get("type") == "tool_use"
    }
    result_text = "\n".join(_tool_result_text(b) for b in results)
    tools = {str(names.get(b.get("tool_use_id"))) for b in results if names.get(b.get("tool_use_id"))}
    return text, result_text, tools, bool(results)


class Script:
    """The rules of one script file; :meth:`answer` picks the rule for a request."""

    def __init__(self, rules: list[Rule], source: str = "") -> None:
        self.rules = rules
        self.source = source

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Script":
        """Read and validate a script file (YAML or JSON); raises :class:`ScriptError`."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScriptError(f"cannot read script {p}: {getattr(exc, 'strerror', None) or exc}") from None
        return cls.parse(text, str(p))

    @classmethod
    def parse(cls, text: str, source: str = "script") -> "Script":
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScriptError(f"script {source}: not YAML or JSON: {' '.join(str(exc).split())}") from None
        return cls.from_data(data, source)

    @classmethod
    def from_data(cls, data: Any, source: str = "script") -> "Script":
        import jsonschema

        from .._schema import default_schema_dir, load_json_file

        schema = load_json_file(default_schema_dir() / "data" / "stub-script.schema.json")
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "the top level"
            raise ScriptError(f"script {source}: {where}: {error.message}")
        rules = []
        for i, raw in enumerate(data["rules"]):
            name = raw.get("name") or f"rules[{i}]"
            when = raw.get("when") or {}
            patterns = {}
            for key in ("text_regex", "tool_result_regex"):
                if key in when:
                    try:
                        patterns[key] = re.compile(when[key])
                    except re.error as exc:
                        raise ScriptError(
                            f"script {source}: {name}: when.{key}: not a regular expression: {exc}"
                        ) from None
            rules.append(
                Rule(
                    name=name,
                    when=when,
                    reply=raw.get("reply"),
                    stop_reason=raw.get("stop_reason"),
                    error=raw.get("error"),
                    delay=float(raw.get("delay", 0)),
                    times=raw.get("times"),
                    patterns=patterns,
                )
            )
        return cls(rules, source)

    def _matches(self, rule: Rule, facts: tuple[str, str, set[str], bool]) -> bool:
        text, result_text, tools, has_result = facts
        when = rule.when
        if any(k in when for k in ("tool_result", "tool_result_regex", "tool_name")) and not has_result:
            return False
        return (
            ("text" not in when or when["text"] in text)
            and ("text_regex" not in when or rule.patterns["text_regex"].search(text) is not None)
            and ("tool_result" not in when or when["tool_result"] in result_text)
            and ("tool_result_regex" not in when or rule.patterns["tool_result_regex"].search(result_text) is not None)
            and ("tool_name" not in when or when["tool_name"] in tools)
        )

    def answer(self, body: dict, *, ident: str) -> Scripted | None:
        """The answer of the first rule matching ``body`` (a validated request), or None."""
        facts = _turn_facts(body)
        for rule in self.rules:
            if rule.times is not None and rule.used >= rule.times:
                continue
            if not self._matches(rule, facts):
                continue
            rule.used += 1
            out = Scripted(rule.name, delay=rule.delay)
            if rule.error is not None:
                err = rule.error
                out.error = (int(err["status"]), str(err["type"]), str(err.get("message") or f"scripted {err['type']}"))
            elif rule.reply is not None:
                out.reply = _reply(rule, body, ident)
            return out
        return None


def _reply(rule: Rule, body: dict, ident: str) -> Reply:
    blocks: list[Block] = []
    output = 0
    for i, spec in enumerate(rule.reply or ()):
        if "text" in spec:
            blocks.append(Block("text", text=spec["text"]))
            output += count_words(spec["text"])
        elif "thinking" in spec:
            signature = "sig_" + base62_id(ident, "sig", i, length=40)
            blocks.append(Block("thinking", text=spec["thinking"], signature=signature))
            output += count_words(spec["thinking"])
        else:
            use = spec["tool_use"]
            args = dict(use.get("input") or {})
            blocks.append(
                Block("tool_use", tool_id="toolu_" + base62_id(ident, "tool", i), name=use["name"], input=args)
            )
            output += count_words(json.dumps(args))
    stop = rule.stop_reason or ("tool_use" if any(b.type == "tool_use" for b in blocks) else "end_turn")
    return Reply(blocks, stop, None, input_tokens(body), output)
