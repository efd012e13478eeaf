"""Walk the installed ``anthropic`` SDK's types and a JSON Schema in parallel; report drift.

A request parameter type (a ``TypedDict``) or a response model (a pydantic ``BaseModel``) is
walked field by field, recursively, alongside the schema node that should describe it: object
fields are looked up in ``properties``, list items in ``items``, and a union member that is an
object with a literal discriminator (``type``, or ``role`` for messages) is matched with the
schema branch (of ``anyOf``/``oneOf``, through ``$ref`` and ``allOf``) whose discriminator
accepts the same literal. Nothing is listed by hand: whatever the SDK has, the walker visits.

A :class:`Finding` is reported when the schema

* lacks a field the SDK type has (``missing``),
* has no branch for a discriminated union member (``missing``: ``type='compaction'``),
* types a field differently (``type``: the SDK says string, the schema only integer),
* lacks a literal value the SDK allows (``literal``),
* rejects ``null`` where a request parameter is ``Optional`` (``null``; requests only: a
  response schema may demand more than the SDK's model, e.g. a final ``stop_reason``).

Request parameters the SDK sends as headers (``betas`` -> ``anthropic-beta``, ``workspace_id``
-> ``anthropic-workspace-id``) are found in the resource methods' source and not looked for in
the body schema.
"""

from __future__ import annotations

import datetime
import inspect
import os
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Iterable

import pydantic
import referencing
import typing_extensions

# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, order=True)
class Finding:
    path: str  # where in the instance: "output_config.task_budget", "tools[type='mcp_toolset']"
    kind: str  # missing | type | literal | null
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.detail}"


# --------------------------------------------------------------------------- SDK types


def _strip(tp: Any) -> tuple[Any, str | None]:
    """Unwrap Required/NotRequired/ReadOnly/Annotated; return (type, alias from PropertyInfo)."""
    alias = None
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated or origin is typing_extensions.Annotated:
            for meta in tp.__metadata__:
                name = getattr(meta, "alias", None)
                if isinstance(name, str):
                    alias = name
            tp = typing.get_args(tp)[0]
            continue
        if origin in (
            typing.Required,
            typing.NotRequired,
            typing_extensions.Required,
            typing_extensions.NotRequired,
            getattr(typing_extensions, "ReadOnly", None),
        ):
            tp = typing.get_args(tp)[0]
            continue
        return tp, alias


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and (typing.is_typeddict(tp) or typing_extensions.is_typeddict(tp))


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _union_members(tp: Any) -> list[Any] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return list(typing.get_args(tp))
    return None


def _literal_values(tp: Any) -> list[Any] | None:
    if typing.get_origin(tp) in (typing.Literal, typing_extensions.Literal):
        return list(typing.get_args(tp))
    return None


_SEQUENCES = {list, tuple, set, frozenset}
_ABC_SEQUENCES = {"Iterable", "Sequence", "List", "MutableSequence", "Collection", "SequenceNotStr"}


def _item_type(tp: Any) -> Any | None:
    """The element type of a list-like type, else None."""
    origin = typing.get_origin(tp)
    if origin in _SEQUENCES or (origin is not None and getattr(origin, "__name__", "") in _ABC_SEQUENCES):
        args = typing.get_args(tp)
        return args[0] if args else Any
    if getattr(tp, "__name__", "") == "SequenceNotStr" or getattr(origin, "__name__", "") == "SequenceNotStr":
        args = typing.get_args(tp)
        return args[0] if args else Any
    return None


def _marked(hint: Any, marker: str) -> bool:
    """Whether ``Required``/``NotRequired`` wraps the hint (possibly inside Annotated)."""
    while True:
        origin = typing.get_origin(hint)
        if origin is None:
            return False
        if getattr(origin, "_name", None) == marker or getattr(origin, "__name__", None) == marker:
            return True
        if origin is typing.Annotated:
            hint = typing.get_args(hint)[0]
            continue
        return False


def _is_file_input(tp: Any) -> bool:
    """A file the SDK reads and sends as a base64 string (``Base64FileInput``: IO[bytes] | PathLike)."""
    origin = typing.get_origin(tp) or tp
    return origin in (bytes, typing.IO, typing.BinaryIO) or (
        isinstance(origin, type) and issubclass(origin, os.PathLike)
    )


def _fields(tp: Any) -> list[tuple[str, Any, bool]]:
    """(wire name, type, required) of a TypedDict or pydantic model."""
    out = []
    if _is_typeddict(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        # with postponed annotations TypedDict cannot see Required[...]: read it from the hint
        total = getattr(tp, "__total__", True)
        for name, hint in hints.items():
            inner, alias = _strip(hint)
            out.append(
                (alias or name, inner, _marked(hint, "Required") or (total and not _marked(hint, "NotRequired")))
            )
    else:
        for name, info in tp.model_fields.items():
            inner, alias = _strip(info.annotation)
            out.append((info.alias or alias or name, inner, info.is_required()))
    return out


def _discriminator(tp: Any) -> tuple[str, list[Any]] | None:
    """(key, literal values) of the object type's ``type`` (or ``role``) literal field."""
    if not (_is_typeddict(tp) or _is_model(tp)):
        return None
    fields = {name: t for name, t, _ in _fields(tp)}
    for key in ("type", "role"):
        if key in fields:
            lit = _literal_values(fields[key])
            if lit is None:
                inner = _union_members(fields[key])
                if inner:  # Optional[Literal[...]] in some response models
                    lits = [v for m in inner if (vals := _literal_values(m)) for v in vals]
                    lit = lits or None
            if lit:
                return key, lit
    return None


def header_params(params: Iterable[str], *resource_modules: Any) -> set[str]:
    """Those of ``params`` the SDK sends as headers, read from the resources' own source: the
    names on a line that sets an ``anthropic-*`` header (``"anthropic-workspace-id":
    workspace_id``, ``"anthropic-beta": ",".join(str(e) for e in betas)``)."""
    names: set[str] = set()
    for module in resource_modules:
        for line in inspect.getsource(module).splitlines():
            if re.search(r'"anthropic-[a-z-]+":', line):
                names |= set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", line.split(":", 1)[1]))
    return names & set(params)


# --------------------------------------------------------------------------- schema side

_JSON_TYPES = ("string", "integer", "number", "boolean", "null", "object", "array")


@dataclass
class Branch:
    """One alternative shape of a schema node, after $ref, allOf, anyOf and oneOf."""

    types: set[str] | None = None  # None: any JSON type
    props: dict[str, tuple[Any, referencing._core.Resolver]] = field(default_factory=dict)
    values: list[Any] | None = None  # const / enum, None: unconstrained
    items: tuple[Any, referencing._core.Resolver] | None = None
    additional: tuple[Any, referencing._core.Resolver] | None = None  # additionalProperties schema (object maps)
    open_object: bool = True  # additionalProperties is not false

    def merge(self, other: "Branch") -> "Branch":
        types_ = self.types if other.types is None else other.types if self.types is None else self.types & other.types
        values = (
            self.values
            if other.values is None
            else other.values
            if self.values is None
            else [v for v in self.values if v in other.values]
        )
        return Branch(
            types_,
            {**self.props, **other.props},
            values,
            other.items or self.items,
            other.additional or self.additional,
            self.open_object and other.open_object,
        )


def _types_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def branches(node: Any, resolver: referencing._core.Resolver, depth: int = 0) -> list[Branch]:
    """The alternatives a schema node allows (``not`` and conditionals are ignored)."""
    if depth > 40:
        return [Branch()]
    if node is True or node == {}:
        return [Branch()]
    if node is False:
        return []
    own = Branch()
    if "type" in node:
        t = node["type"]
        own.types = set(t if isinstance(t, list) else [t])
        if "number" in own.types:
            own.types.add("integer")
    if "const" in node:
        own.values = [node["const"]]
    if "enum" in node:
        own.values = list(node["enum"])
    for name, sub in (node.get("properties") or {}).items():
        own.props[name] = (sub, resolver)
    if "items" in node and isinstance(node["items"], dict):
        own.items = (node["items"], resolver)
    if isinstance(node.get("additionalProperties"), dict):
        own.additional = (node["additionalProperties"], resolver)
    if node.get("additionalProperties") is False or node.get("unevaluatedProperties") is False:
        own.open_object = False
    alternatives = [own]
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        alternatives = [own.merge(b) for b in branches(resolved.contents, resolved.resolver, depth + 1)]
    for member in node.get("allOf") or []:
        member_branches = branches(member, resolver, depth + 1)
        alternatives = [a.merge(b) for a in alternatives for b in member_branches]
    for key in ("anyOf", "oneOf"):
        if key in node:
            alternatives = [
                a.merge(b) for a in alternatives for sub in node[key] for b in branches(sub, resolver, depth + 1)
            ]
    return alternatives


def _accepts_type(b: Branch, json_type: str) -> bool:
    if b.types is not None and json_type not in b.types:
        return False
    if b.values is not None and not any(
        _types_of(v) == json_type or (json_type == "number" and _types_of(v) == "integer") for v in b.values
    ):
        return False
    return True


def _accepts_value(b: Branch, value: Any) -> bool:
    jt = _types_of(value)
    if b.types is not None and jt not in b.types and not (jt == "integer" and "number" in b.types):
        return False
    if b.values is not None and value not in b.values:
        return False
    return True


# --------------------------------------------------------------------------- the walk


_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


class Walker:
    def __init__(self, *, request: bool, skip_fields: Iterable[str] = ()) -> None:
        self.request = request
        self.skip_fields = set(skip_fields)  # top-level names (header parameters)
        self.findings: list[Finding] = []
        self._seen: set[tuple] = set()
        self.visited = 0  # fields compared, for the report

    def report(self, path: str, kind: str, detail: str) -> None:
        self.findings.append(Finding(path, kind, detail))

    def walk(self, tp: Any, node: Any, resolver: referencing._core.Resolver, path: str = "") -> list[Finding]:
        self._walk(tp, branches(node, resolver), path)
        return sorted(set(self.findings))

    # -- one type against a set of alternatives
    def _walk(self, tp: Any, alts: list[Branch], path: str, nulls: bool = False) -> None:
        tp, _ = _strip(tp)
        if tp is Any or tp is object:
            return
        members = _union_members(tp)
        if members is not None:
            for member in members:
                self._walk(member, alts, path, nulls)
            return
        where = path or "(root)"
        lit = _literal_values(tp)
        if lit is not None:
            for value in lit:
                if not any(_accepts_value(b, value) for b in alts):
                    kinds = {_types_of(value)}
                    if any(_accepts_type(b, k) and b.values is None for b in alts for k in kinds):
                        continue
                    self.report(where, "literal", f"the schema does not accept {value!r}")
            return
        if tp in _PRIMITIVES:
            jt = _PRIMITIVES[tp]
            if jt == "null":
                if nulls and not any(_accepts_type(b, "null") for b in alts):
                    self.report(where, "null", "the SDK allows null (Optional), the schema does not")
                return
            ok = any(_accepts_type(b, jt) or (jt == "integer" and _accepts_type(b, "number")) for b in alts)
            if not ok:
                self.report(where, "type", f"the SDK says {jt}, the schema allows {_describe(alts)}")
            return
        item = _item_type(tp)
        if item is not None:
            arrays = [b for b in alts if _accepts_type(b, "array")]
            if not arrays:
                self.report(where, "type", f"the SDK says array, the schema allows {_describe(alts)}")
                return
            item_alts = [ib for b in arrays for ib in (branches(*b.items) if b.items else [Branch()])]
            self._walk(item, item_alts, f"{path}[]", nulls)
            return
        origin = typing.get_origin(tp)
        if (
            tp is dict
            or origin is dict
            or origin is typing.Dict
            or getattr(origin, "__name__", "") in ("Mapping", "MutableMapping")
        ):
            objects = [b for b in alts if _accepts_type(b, "object")]
            if not objects:
                self.report(where, "type", f"the SDK says object, the schema allows {_describe(alts)}")
                return
            args = typing.get_args(tp)
            if len(args) == 2 and args[1] not in (Any, object):
                value_alts = [vb for b in objects for vb in (branches(*b.additional) if b.additional else [Branch()])]
                self._walk(args[1], value_alts, f"{path}{{}}", nulls)
            return
        if _is_typeddict(tp) or _is_model(tp):
            self._object(tp, alts, path)
            return
        if _is_file_input(tp) or tp in (datetime.datetime, datetime.date):
            tp = str  # a file is sent as base64 (Base64FileInput), a datetime as RFC 3339 text
        if isinstance(tp, type) and issubclass(tp, str):
            if not any(_accepts_type(b, "string") for b in alts):
                self.report(where, "type", f"the SDK says string, the schema allows {_describe(alts)}")
            return
        if isinstance(tp, typing.TypeVar):
            return
        self.report(where, "unknown", f"the walker does not know the type {tp!r}")

    def _object(self, tp: Any, alts: list[Branch], path: str) -> None:
        where = path or "(root)"
        objects = [b for b in alts if _accepts_type(b, "object")]
        if not objects:
            self.report(where, "type", f"the SDK says object ({tp.__name__}), the schema allows {_describe(alts)}")
            return
        if any(b.open_object and not b.props and b.values is None for b in objects):
            return  # a free-form object: anything goes
        disc = _discriminator(tp)
        label = path
        if disc is not None:
            key, values = disc
            for value in values:
                matching = [
                    b
                    for b in objects
                    if key in b.props
                    and any(_accepts_value(x, value) and x.values is not None for x in branches(*b.props[key]))
                ]
                if not matching:
                    matching = [
                        b
                        for b in objects
                        if key in b.props and any(_accepts_value(x, value) for x in branches(*b.props[key]))
                    ]
                label = f"{path}[{key}={value!r}]"
                if not matching:
                    self.report(label, "missing", f"no schema branch for {tp.__name__} ({key}={value!r})")
                    continue
                self._fields(tp, matching, label)
            return
        self._fields(tp, objects, label)

    def _fields(self, tp: Any, objects: list[Branch], path: str) -> None:
        # without a discriminator, the branch that knows most of the fields is meant
        names = [n for n, _, _ in _fields(tp)]
        best = max(sum(n in b.props for n in names) for b in objects)
        chosen = [b for b in objects if sum(n in b.props for n in names) == best]
        # a type met again with the same schema branches (recursive blocks, shared params) is
        # walked once: its findings are reported at the first place it was met
        memo = (id(tp), tuple(sorted(id(v[0]) for b in chosen for v in b.props.values())))
        if memo in self._seen:
            return
        self._seen.add(memo)
        for name, ftp, _required in _fields(tp):
            if not path and name in self.skip_fields:
                continue
            self.visited += 1
            sub = f"{path}.{name}" if path else name
            holders = [b for b in chosen if name in b.props]
            if not holders:
                if any(b.open_object and not b.props for b in chosen):
                    continue  # a free-form object: anything goes
                self.report(sub, "missing", f"{tp.__name__}.{name} is not in the schema")
                continue
            # null is checked where a request parameter (a TypedDict) is Optional; a response
            # model echoed back in a request carries only the nulls the API itself sent
            self._walk(
                ftp, [fb for b in holders for fb in branches(*b.props[name])], sub, self.request and _is_typeddict(tp)
            )


def _describe(alts: list[Branch]) -> str:
    seen: set[str] = set()
    for b in alts:
        if b.values is not None:
            seen |= {repr(v) for v in b.values[:4]}
        elif b.types is None:
            seen.add("anything")
        else:
            seen |= b.types
    return ", ".join(sorted(seen)) or "nothing"
