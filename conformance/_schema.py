"""The contract as data: load the JSON Schemas in ``schemas/`` and validate instances offline.

Every schema file is ``schemas/<name>.json`` or a variant ``schemas/<name>.<variant>.json``,
where the variant is an API version (``2023-06-01``, ``2026-10-21``) or a profile
(``darkbloom``). For profile P and version V the loader picks the first file that exists of::

    <name>.darkbloom.json   (only when P is "darkbloom")
    <name>.<V>.json
    <name>.json

Two overlay files extend the others when they are loaded: each has ``$defs`` with its own
shapes and an ``x-extend`` list naming where they join the other files (a property added to a
request body or a definition, a branch added to a union, a value added to an enum; see
:func:`apply_overlay`). ``schemas/sdk.json`` holds SDK surface the contract document leaves out
and applies to every validation; ``schemas/beta.json`` holds the beta surface (what the SDK's
``client.beta.messages`` sends beyond ``client.messages``) and applies only to a validator asked
for with ``beta=True`` (its documents are registered under ``schemas/_beta/``). The files on disk
stay without either: ``openapi.yaml``, and so schemathesis, reads them as written. The stub
validates a request that carries an ``anthropic-beta`` header or the ``?beta=true`` query of
the beta clients against the beta documents, every other request against the plain ones.

Files reference each other with relative file references (``defs.json#/$defs/Usage``); each
file is registered in a :mod:`referencing` registry under its ``file://`` URI, and the registry
has no retriever, so nothing is ever fetched from the network.

Validation uses ``jsonschema`` for readable errors (JSON pointer of the failing value, what was
expected, what came) and ``jsonschema-rs`` for the yes/no fast path (and, while jsonschema
explains a failure, to skip the parts that are valid: see ``_pruning_validator``; union branches
whose discriminator differs are explained once per value: ``_TagFirst``): the benchmark in
``benchmarks/bench_schema.py`` shows why, and ``tests/test_schema_loader.py`` checks that both
give the same verdict on every example.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

import jsonschema
import jsonschema_rs
import referencing
import referencing.jsonschema

PROFILES = ("anthropic", "darkbloom")
API_VERSIONS = ("2023-06-01", "2026-10-21")
DEFAULT_PROFILE = "anthropic"
DEFAULT_VERSION = "2023-06-01"
SDK_OVERLAY = "sdk"  # schemas/sdk.json: SDK surface beyond the contract, applied to every validation
BETA_OVERLAY = "beta"  # schemas/beta.json: the beta surface, applied to beta validation (see above)
OVERLAYS = (SDK_OVERLAY, BETA_OVERLAY)
_EXTEND_LISTS = ("anyOf", "oneOf", "enum", "required")

_PACKAGE_DIR = Path(__file__).resolve().parent


def default_schema_dir() -> Path:
    """The schemas shipped inside the wheel (``conformance/_data/schemas``), else, in a checkout,
    ``schemas/`` beside the package. The packaged copy is looked for first: an installed
    package's parent is ``site-packages``, whose ``schemas/`` (if any) belongs to someone else."""
    candidates = (_PACKAGE_DIR / "_data" / "schemas", _PACKAGE_DIR.parent / "schemas")
    for candidate in candidates:
        if (candidate / "defs.json").is_file() and (candidate / "openapi.yaml").is_file():
            return candidate
    raise SchemaLoadError(f"no schemas found: looked in {candidates[0]} and {candidates[1]}")


class SchemaLoadError(Exception):
    """A schema file is missing, unreadable or not JSON, or a schema name is unknown."""


@dataclass(frozen=True)
class SchemaError:
    """One reason an instance does not match its schema, in words a provider can act on."""

    pointer: str  # JSON pointer of the failing value inside the instance ("" is the root)
    expected: str  # what the schema wanted there
    got: str  # a short rendering of what came
    message: str  # one line: "<pointer>: expected <expected>, got <got>"
    schema_path: str  # where in the schema the failing keyword sits, for schema authors

    def __str__(self) -> str:
        return self.message


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _short(value: Any, limit: int = 80) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected(error: jsonschema.ValidationError) -> str:
    """Say what the failing keyword asked for, in the schema's own terms."""
    keyword, value = error.validator, error.validator_value
    if keyword == "required":
        missing = [name for name in value if isinstance(error.instance, dict) and name not in error.instance]
        return "required field " + ", ".join(repr(m) for m in missing or value)
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        return "no fields beyond those the contract defines"
    if keyword == "const":
        return f"the value {_short(value)}"
    if keyword == "enum":
        return "one of " + ", ".join(_short(v) for v in value)
    if keyword == "type":
        return f"type {value if isinstance(value, str) else ' or '.join(value)}"
    if keyword in ("oneOf", "anyOf"):
        return f"a value matching one of the {len(value)} allowed shapes"
    if keyword == "not":
        return "this value to be absent or different (the contract forbids it here)"
    return f"{keyword} {_short(value, 60)}"


_DISCRIMINATORS = ("type", "role")


def _tag_miss(e: jsonschema.ValidationError) -> bool:
    """The error of a ``type``/``role`` discriminator that differs from the branch's constant."""
    return len(e.relative_path) == 1 and e.relative_path[0] in _DISCRIMINATORS and e.validator in ("const", "enum")


def _branch_misses(errors: list[jsonschema.ValidationError]) -> bool:
    """True when a oneOf/anyOf branch fails for not being meant for this instance at all.

    That is: the instance has the wrong JSON type for the branch, or its ``type``/``role``
    discriminator differs from the branch's constant. Such a branch explains nothing.
    """
    for e in errors:
        rel = list(e.relative_path)
        if not rel and e.validator == "type":
            return True
        if _tag_miss(e):
            return True
        if (
            not rel
            and e.validator == "required"
            and any(d in e.validator_value for d in _DISCRIMINATORS)
            and isinstance(e.instance, dict)
            and not any(d in e.instance for d in _DISCRIMINATORS)
        ):
            continue
    return False


def _explain(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For a oneOf/anyOf failure, descend into the branch meant for this instance.

    jsonschema's ``best_match`` prefers shallow errors, which for discriminated unions names
    the wrong branch ("expected type string" for a bad block in a content array). Here a branch
    whose discriminator matches wins; with no such branch the union failure itself is reported.
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return error
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for e in error.context:
        branches.setdefault(e.relative_schema_path[0], []).append(e)
    meant = [errs for errs in branches.values() if not _branch_misses(errs)]
    if len(meant) != 1:
        return error
    deepest = max(meant[0], key=lambda e: (len(e.absolute_path), e.validator not in ("oneOf", "anyOf")))
    return _explain(deepest)


def _to_error(error: jsonschema.ValidationError) -> SchemaError:
    error = _explain(error)
    pointer = _pointer(error.absolute_path)
    expected = _expected(error)
    if error.validator in ("oneOf", "anyOf") and isinstance(error.instance, dict):
        tags = {d: error.instance.get(d) for d in _DISCRIMINATORS if d in error.instance}
        if tags:
            expected = "a known shape for " + ", ".join(f"{k} {_short(v)}" for k, v in tags.items())
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        names = re.findall(r"'([^']*)'", error.message.rsplit("(", 1)[-1])
        got = "unexpected field " + ", ".join(repr(n) for n in names) if names else error.message
    elif error.validator == "required":
        got = "an object without it"
    else:
        got = _short(error.instance)
    where = pointer or "(root)"
    return SchemaError(
        pointer=pointer,
        expected=expected,
        got=got,
        message=f"{where}: expected {expected}, got {got}",
        schema_path=_pointer(error.absolute_schema_path),
    )


_BASE = jsonschema.Draft202012Validator
_PROPERTIES, _ITEMS, _ANY_OF, _ONE_OF = (_BASE.VALIDATORS[k] for k in ("properties", "items", "anyOf", "oneOf"))


def _locations(registry: referencing.Registry) -> dict[int, str]:
    """id of every subschema object in the registry's documents -> its URI with JSON pointer."""
    where: dict[int, str] = {}

    def walk(node: Any, uri: str, pointer: str) -> None:
        if isinstance(node, dict):
            where.setdefault(id(node), f"{uri}#{pointer}")
            for key, value in node.items():
                walk(value, uri, f"{pointer}/{quote(str(key).replace('~', '~0').replace('/', '~1'), safe='$')}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, uri, f"{pointer}/{index}")

    for uri, resource in registry.items():
        walk(resource.contents, uri, "")
    return where


def _pruning_validator(rs_registry: Any, registry: referencing.Registry) -> type:
    """Draft 2020-12 as jsonschema implements it, with one change: before it descends into a
    property, an array item or a union branch, jsonschema-rs is asked whether that part is
    valid, and a valid part is not descended into.

    The errors are jsonschema's own, in its order: the same parts fail either way (both
    implement the draft), and a failing part is explained by jsonschema as before. What goes
    is the cost: a large request with one bad field was explained in milliseconds, nearly all
    of it spent proving its valid parts valid.
    """
    # a subschema is compiled by reference to where it sits in its document, so that its own
    # references ("#/$defs/...") resolve in that document
    where = _locations(registry)
    compiled: dict[int, Any] = {}

    def valid(subschema: Any, value: Any) -> bool:
        if isinstance(subschema, bool):
            return subschema
        key = id(subschema)
        if key not in compiled:
            fast = None
            if key in where:
                try:
                    fast = jsonschema_rs.Draft202012Validator({"$ref": where[key]}, registry=rs_registry)
                except Exception:  # noqa: BLE001 - cannot tell: descend as jsonschema does
                    fast = None
            compiled[key] = fast
        fast = compiled[key]
        try:
            return fast is not None and fast.is_valid(value)
        except Exception:  # noqa: BLE001
            return False

    def properties(validator: Any, props: Any, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "object"):
            props = {k: v for k, v in props.items() if k in instance and not valid(v, instance[k])}
        yield from _PROPERTIES(validator, props, instance, schema)

    def items(validator: Any, item_schema: Any, instance: Any, schema: Any) -> Any:
        if item_schema is False or not validator.is_type(instance, "array"):
            yield from _ITEMS(validator, item_schema, instance, schema)
            return
        for index in range(len(schema.get("prefixItems", [])), len(instance)):
            if not valid(item_schema, instance[index]):
                yield from validator.descend(instance=instance[index], schema=item_schema, path=index)

    # (branch, its index, the instance's discriminators) -> jsonschema's errors showing that
    # the branch is not meant for such an instance, or [] when it may be; see _TagFirst
    misses: dict[tuple, list[jsonschema.ValidationError]] = {}

    def any_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Any:
        if not any(valid(b, instance) for b in branches):
            yield from _ANY_OF(_TagFirst(validator, instance, misses), branches, instance, schema)

    def one_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Any:
        if sum(valid(b, instance) for b in branches) != 1:
            yield from _ONE_OF(_TagFirst(validator, instance, misses), branches, instance, schema)

    return jsonschema.validators.extend(
        _BASE, {"properties": properties, "items": items, "anyOf": any_of, "oneOf": one_of}
    )


_MISSES_KEPT = 4096  # entries of a _TagFirst cache (the discriminator values come from requests)


class _TagFirst:
    """The validator jsonschema's anyOf/oneOf descend with when no branch is valid.

    A branch whose discriminator (``type``, ``role``) differs from the instance's explains
    nothing (:func:`_branch_misses`): only the discriminator's errors are read of it. Which
    branches miss depends on the discriminator values alone, so those errors are found once
    per branch and value, by descending with the discriminators alone, and later failures get
    copies. A branch that may be meant for the instance is
    descended into in full, as jsonschema does.
    """

    __slots__ = ("_validator", "_tags", "_misses")

    def __init__(self, validator: Any, instance: Any, misses: dict[tuple, list[jsonschema.ValidationError]]) -> None:
        self._validator = validator
        self._misses = misses
        tags = tuple((k, instance[k]) for k in _DISCRIMINATORS if k in instance) if isinstance(instance, dict) else ()
        try:
            hash(tags)
        except TypeError:  # a discriminator that is an object or array: no shortcut
            tags = ()
        self._tags = tags

    def descend(
        self, instance: Any, schema: Any, path: Any = None, schema_path: Any = None, resolver: Any = None
    ) -> Any:
        if self._tags and path is None:
            # with the values' types: True, 1 and 1.0 are one key in Python, three values in JSON
            key = (id(schema), schema_path, self._tags, tuple(type(v) for _, v in self._tags))
            found = self._misses.get(key)
            if found is None:
                if len(self._misses) >= _MISSES_KEPT:
                    self._misses.clear()
                found = [
                    e
                    for e in self._validator.descend(dict(self._tags), schema, None, schema_path, resolver)
                    if _tag_miss(e)
                ]
                self._misses[key] = found
            if found:
                return [jsonschema.ValidationError.create_from(e) for e in found]
        return self._validator.descend(instance, schema, path, schema_path, resolver)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._validator, name)


class _Shared:
    """What the validators over one registry share, built once and when first needed: the
    jsonschema-rs registry, and the jsonschema class that explains failures (with the
    subschemas it has compiled)."""

    def __init__(self, registry: referencing.Registry) -> None:
        self.registry = registry

    @cached_property
    def rs_registry(self) -> Any:
        return jsonschema_rs.Registry([(uri, resource.contents) for uri, resource in self.registry.items()])

    @cached_property
    def explaining(self) -> type:
        return _pruning_validator(self.rs_registry, self.registry)


class Validator:
    """A compiled schema: ``is_valid`` is the fast path, ``errors`` explains a failure."""

    def __init__(
        self, name: str, path: Path, schema: dict, registry: referencing.Registry, shared: _Shared | None = None
    ) -> None:
        self.name = name
        self.path = path
        self._schema = schema
        self._registry = registry
        self._shared = shared if shared is not None else _Shared(registry)

    @cached_property
    def _fast(self) -> Any:
        return jsonschema_rs.Draft202012Validator(
            self._schema, registry=self._shared.rs_registry, base_uri=self.path.as_uri()
        )

    @cached_property
    def _slow(self) -> Any:
        """jsonschema, for the errors; it skips what jsonschema-rs finds valid (see _pruning_validator)."""
        # the document itself at the root, less its "$schema": jsonschema would switch to its
        # own class for the dialect named there; the resolver gives relative references their base
        root = {k: v for k, v in self._schema.items() if k != "$schema"}
        resolver = self._registry.resolver(base_uri=self.path.as_uri())
        return self._shared.explaining(root, registry=self._registry, _resolver=resolver)

    def is_valid(self, instance: Any) -> bool:
        return self._fast.is_valid(instance)

    def errors(self, instance: Any) -> list[SchemaError]:
        """Every reason the instance fails, most relevant first; empty when it is valid."""
        if self._fast.is_valid(instance):
            return []
        found = sorted(self._slow.iter_errors(instance), key=jsonschema.exceptions.relevance)
        return [_to_error(e) for e in found]

    def __repr__(self) -> str:
        return f"<Validator {self.name} {self.path.name}>"


def _check_scope(profile: str, version: str) -> None:
    if profile not in PROFILES:
        raise SchemaLoadError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    if version not in API_VERSIONS:
        raise SchemaLoadError(f"unknown API version {version!r}: choose one of {', '.join(API_VERSIONS)}")


def _pointer_get(document: Any, pointer: str, where: str) -> Any:
    node = document
    for part in (p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:] if pointer):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise SchemaLoadError(f"{where}: no such location in the schemas") from None
    return node


def apply_overlay(documents: dict[str, dict], overlay: dict, name: str = "beta.json") -> dict[str, dict]:
    """Copies of ``documents`` (file stem -> schema) with ``overlay["x-extend"]`` applied.

    Each entry is ``{"at": ["<file>.json#<pointer>", ...], <keyword>: <value>, ...}``: a
    ``properties`` object is merged into the node's properties (a name already there is an
    error: the overlay only adds), a list under ``anyOf``/``oneOf``/``enum``/``required`` is
    appended to the node's list (a node without ``anyOf``/``oneOf`` becomes the first branch
    of one). Any other keyword is an error, so a typo cannot pass silently.
    """
    out = copy.deepcopy(documents)
    for index, entry in enumerate(overlay.get("x-extend") or []):
        for target in entry.get("at") or []:
            where = f"{name} x-extend[{index}] {target}"
            file, _, pointer = target.partition("#")
            stem = file[: -len(".json")] if file.endswith(".json") else file
            if stem not in out:
                raise SchemaLoadError(f"{where}: no schema file {file}")
            node = _pointer_get(out[stem], pointer, where)
            if not isinstance(node, dict):
                raise SchemaLoadError(f"{where}: not a schema object")
            for keyword, value in entry.items():
                if keyword in ("at", "$comment", "description"):
                    continue
                if keyword == "properties":
                    props = node.setdefault("properties", {})
                    for prop, sub in value.items():
                        if prop in props:
                            raise SchemaLoadError(f"{where}: property {prop!r} is already defined")
                        props[prop] = copy.deepcopy(sub)
                elif keyword in ("anyOf", "oneOf") and keyword not in node:
                    # a single shape becomes the first of several
                    old = dict(node)
                    node.clear()
                    node[keyword] = [old] + copy.deepcopy(value)
                elif keyword in _EXTEND_LISTS:
                    if not isinstance(node.get(keyword), list) and keyword != "required":
                        raise SchemaLoadError(f"{where}: the node has no {keyword} list to extend")
                    node[keyword] = list(node.get(keyword) or []) + copy.deepcopy(value)
                else:
                    raise SchemaLoadError(f"{where}: x-extend cannot apply {keyword!r}")
    return out


class SchemaSet:
    """Every schema in one directory, selectable by name, profile and API version."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._documents: dict[str, tuple[Path, dict]] = {}
        for path in sorted(directory.glob("*.json")):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise SchemaLoadError(f"{path}: not a readable JSON schema: {exc}") from None
            if not isinstance(document, dict):
                raise SchemaLoadError(f"{path}: a schema must be a JSON object")
            self._documents[path.name[: -len(".json")]] = (path, document)
        if not self._documents:
            raise SchemaLoadError(f"{directory}: no *.json schema files")
        # every validation reads the documents with sdk.json applied, at the files' own URIs
        self._on_disk = self._documents
        sdk = self._on_disk.get(SDK_OVERLAY, (None, {}))[1]
        applied = apply_overlay({stem: doc for stem, (_, doc) in self._on_disk.items()}, sdk, "sdk.json")
        self._documents = {stem: (path, applied[stem]) for stem, (path, _) in self._on_disk.items()}
        self.registry: referencing.Registry = _registry(self._documents.values())
        self._validators: dict[str, Validator] = {}
        self._shared = _Shared(self.registry)

    @cached_property
    def _beta(self) -> tuple[dict[str, tuple[Path, dict]], referencing.Registry, _Shared]:
        """The documents with ``beta.json``'s extensions applied too, under ``<dir>/_beta/``."""
        overlay = self._documents.get(BETA_OVERLAY, (None, {}))[1]
        applied = apply_overlay({stem: doc for stem, (_, doc) in self._documents.items()}, overlay, "beta.json")
        documents = {
            stem: (self.directory / "_beta" / path.name, applied[stem]) for stem, (path, _) in self._documents.items()
        }
        registry = _registry(documents.values())
        return documents, registry, _Shared(registry)

    def _scope(self, beta: bool) -> tuple[dict[str, tuple[Path, dict]], referencing.Registry, _Shared]:
        return self._beta if beta else (self._documents, self.registry, self._shared)

    @property
    def files(self) -> list[str]:
        """Stems of every schema file (``message``, ``messages-request.2026-10-21``, ...)."""
        return list(self._documents)

    @property
    def names(self) -> list[str]:
        """Logical schema names, without variants (``message``, ``messages-request``, ...)."""
        return sorted({stem.split(".", 1)[0] for stem in self._documents} - {"defs", *OVERLAYS})

    def resolve(self, name: str, *, profile: str = DEFAULT_PROFILE, version: str = DEFAULT_VERSION) -> str:
        """The file stem serving ``name`` for this profile and version."""
        _check_scope(profile, version)
        if name in ("defs", *OVERLAYS):
            raise SchemaLoadError("'defs' holds shared definitions only; name a schema: " + ", ".join(self.names))
        candidates = ([f"{name}.darkbloom"] if profile == "darkbloom" else []) + [f"{name}.{version}", name]
        for stem in candidates:
            if stem in self._documents:
                return stem
        raise SchemaLoadError(f"unknown schema {name!r}: known schemas are {', '.join(self.names)}")

    def validator(
        self, name: str, *, profile: str = DEFAULT_PROFILE, version: str = DEFAULT_VERSION, beta: bool = False
    ) -> Validator:
        """A compiled validator for ``name`` (also accepts an exact file stem), cached; with
        ``beta``, of the schema with the beta surface added (``schemas/beta.json``)."""
        if "." in name and name in self._documents:  # an exact variant file, e.g. "message.darkbloom"
            _check_scope(profile, version)
            stem = name
        else:
            stem = self.resolve(name, profile=profile, version=version)
        key = f"beta:{stem}" if beta else stem
        if key not in self._validators:
            documents, registry, shared = self._scope(beta)
            path, document = documents[stem]
            self._validators[key] = Validator(stem, path, document, registry, shared)
        return self._validators[key]

    def validate(
        self,
        name: str,
        instance: Any,
        *,
        profile: str = DEFAULT_PROFILE,
        version: str = DEFAULT_VERSION,
        beta: bool = False,
    ) -> list[SchemaError]:
        """Every reason ``instance`` does not match schema ``name``; empty when it matches."""
        return self.validator(name, profile=profile, version=version, beta=beta).errors(instance)

    def document(self, stem: str, *, beta: bool = False) -> dict:
        """The schema document of a file stem as validation reads it: with ``sdk.json``
        applied, and with ``beta``, ``beta.json`` too (:meth:`on_disk` for the file itself)."""
        try:
            return self._scope(beta)[0][stem][1]
        except KeyError:
            raise SchemaLoadError(f"unknown schema file {stem!r}") from None

    def on_disk(self, stem: str) -> dict:
        """The schema document of a file stem as written in the file."""
        try:
            return self._on_disk[stem][1]
        except KeyError:
            raise SchemaLoadError(f"unknown schema file {stem!r}") from None

    def resolver(self, stem: str, *, beta: bool = False) -> "referencing._core.Resolver[Any]":
        """A resolver based at a file stem's document, for walking its references."""
        documents, registry, _ = self._scope(beta)
        if stem not in documents:
            raise SchemaLoadError(f"unknown schema file {stem!r}")
        return registry.resolver(base_uri=documents[stem][0].as_uri())


def _registry(documents: Iterable[tuple[Path, dict]]) -> referencing.Registry:
    return (
        referencing.Registry()
        .with_resources(
            (path.as_uri(), referencing.jsonschema.DRAFT202012.create_resource(doc)) for path, doc in documents
        )
        .crawl()
    )


_cache: dict[Path, SchemaSet] = {}


def load_schemas(directory: str | Path | None = None) -> SchemaSet:
    """The schema set of ``directory`` (default: the project's), loaded once per process."""
    path = Path(directory).resolve() if directory is not None else default_schema_dir()
    if not path.is_dir():
        raise SchemaLoadError(f"{path}: not a directory of schemas")
    if path not in _cache:
        _cache[path] = SchemaSet(path)
    return _cache[path]


def load_json_file(path: str | Path) -> Any:
    """Read a JSON instance from a file, with a one-line error for anything that is not JSON."""
    p = Path(path)
    try:
        return json.loads(p.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise SchemaLoadError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise SchemaLoadError(f"{p}: is a directory") from None
    except UnicodeDecodeError as exc:
        raise SchemaLoadError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SchemaLoadError(f"{p}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except OSError as exc:
        raise SchemaLoadError(f"{p}: cannot read: {exc.strerror or exc}") from None
