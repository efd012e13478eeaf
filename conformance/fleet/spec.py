"""The fleet file: reading, validating (one line per problem) and expanding it into cells.

The file (YAML or JSON; schema ``schemas/data/fleet.schema.json``, guide ``docs/fleet.md``)::

    defaults: {checks: ["auth.*"], run_budget: 900}     # run options for every target
    axes: {anthropic_version: [2023-06-01, 2026-10-21], profile: [anthropic, darkbloom]}
    targets:
      - {name: vllm, url: https://vllm.internal, api_key_env: VLLM_KEY}
      - {name: gw, url: https://gw.example, api_key_env: GW_KEY, axes: {profile: [anthropic]}}

Run options are the run's own (``conformance/_options.py``) by their command-line names with
underscores, the repeatable ones plural (``headers``, ``triggers``, ``checks``): any option
the run takes can be given, for all targets (``defaults``) or for one, and a new run option
needs nothing here. A cell is a target with one value of every axis; its options are the
defaults, then the target's own, then the axis values (a target's own scalar value of an axis
option, or its own ``axes``, narrows that axis for it).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any, Iterable, Mapping

from conformance import __version__
from conformance._options import BY_NAME, TRIGGERS, Option
from conformance._schema import API_VERSIONS, PROFILES, default_schema_dir

# Options a fleet file cannot set, and what to write instead.
FORBIDDEN = {
    "target": "give the target's base URL as url",
    "api-key": "keys never go in the fleet file: name the environment variable holding the key with api_key_env",
    "report-dir": "each cell's reports go to OUTPUT/cells/CELL (see conformance fleet --output)",
    "list-checks": "not an option of a run (conformance run --list-checks prints the catalog)",
    "stub-fault": "a fleet runs against URLs: start `conformance stub --fault NAME --port 0` and give its URL",
}
TOP_KEYS = ("defaults", "axes", "targets")
TARGET_KEYS = ("name", "url", "api_key_env", "axes")  # a target's own keys, beside run options
EXTRA_OPTION_KEYS = ("secret_headers_env",)  # fleet-level options that are not run options
# Axes named in cell ids and labels first, in this order; other axes follow in file order.
AXIS_ORDER = ("anthropic_version", "profile", "auth")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FleetFileError(Exception):
    """The fleet file cannot be used: one line for the user (``conformance fleet`` exits 2)."""


@dataclass(frozen=True)
class Cell:
    """One run of the fleet: a target with one value of every axis.

    ``argv`` holds the run's options as ``--conformance-NAME=VALUE`` words, without the report
    directory and without any secret; ``files`` the content of file-valued options (the
    expected-failures file), which the worker writes beside the run and names in ``argv``."""

    id: str  # directory name under OUTPUT/cells, unique in the fleet
    label: str  # "vllm · 2023-06-01 · anthropic"
    target: str  # the target's name
    url: str
    api_key_env: str
    axes: Mapping[str, Any]  # axis name -> this cell's value
    options: Mapping[str, Any]  # run option name ("run-budget") -> value, as resolved
    argv: tuple[str, ...]
    files: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # option name -> (file name, content)
    secret_headers_env: Mapping[str, str] = field(default_factory=dict)  # header name -> env var

    @property
    def anthropic_version(self) -> str:
        return str(self.options.get("anthropic-version") or BY_NAME["anthropic-version"].kwargs["default"])

    @property
    def profile(self) -> str:
        return str(self.options.get("profile") or BY_NAME["profile"].kwargs["default"])

    @property
    def auth(self) -> str:
        return str(self.options.get("auth") or BY_NAME["auth"].kwargs["default"])

    @property
    def run_budget(self) -> float:
        return float(self.options.get("run-budget") or BY_NAME["run-budget"].kwargs["default"])


@dataclass(frozen=True)
class Fleet:
    path: Path
    key: str  # digest of the file, the files it names and the harness version (what --resume keys on)
    axes: tuple[str, ...]  # the axes declared anywhere in the file, in cell-id order
    cells: tuple[Cell, ...]


def schema_path() -> Path:
    return default_schema_dir() / "data" / "fleet.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(schema_path().read_text(encoding="utf-8")))


def option_for(key: str) -> Option | None:
    """The run option a file key names: ``run_budget`` -> --run-budget, ``headers`` -> --header."""
    name = key.replace("_", "-")
    if name in BY_NAME:
        return BY_NAME[name]
    if (
        name.endswith("s")
        and BY_NAME.get(name[:-1]) is not None
        and BY_NAME[name[:-1]].kwargs.get("action") == "append"
    ):
        return BY_NAME[name[:-1]]
    return None


def file_key(option: Option) -> str:
    """The key an option has in the fleet file (the inverse of :func:`option_for`)."""
    key = option.name.replace("-", "_")
    if option.kwargs.get("action") == "append" and not key.endswith("s"):
        key += "s"
    return key


def _where(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "top level"


def _known_keys(in_target: bool) -> list[str]:
    keys = [file_key(o) for o in BY_NAME.values() if o.name not in FORBIDDEN] + list(EXTRA_OPTION_KEYS)
    return keys + list(TARGET_KEYS) if in_target else keys


def _schema_message(error: Any) -> str:
    """A jsonschema error as the one line a person reads."""
    path = list(error.absolute_path)
    where = _where(path)
    last = path[-1] if path else None
    if error.validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        return f"{where}: missing required key {missing.group(1) if missing else error.message!r}"
    if error.validator is None or error.validator == "false" or error.schema is False:
        name = str(last).replace("_", "-")
        return f"{where}: not allowed in a fleet file: {FORBIDDEN.get(name, 'not a fleet key')}"
    if error.validator == "additionalProperties":
        unexpected = re.findall(r"'([^']+)'", error.message)
        allowed = ", ".join(error.schema.get("properties", {}))
        return f"{where}: unknown key {', '.join(repr(u) for u in unexpected)} (expected: {allowed})"
    if error.validator == "pattern":
        value = error.instance
        if last == "name":
            return (
                f"{where}: name {value!r}: use letters, digits, '.', '_' and '-' (at most 64, not starting with a sign)"
            )
        if last == "url" or last == "compare":
            return f"{where}: {value!r} is not a base URL: expected http://HOST or https://HOST"
        if last == "api_key_env" or (len(path) >= 2 and path[-2] == "secret_headers_env"):
            return f"{where}: {value!r} is not an environment variable name"
        if last == "axes":  # propertyNames: the key itself
            return f"{where}: key {value!r}: use lower-case letters, digits and '_'"
    if error.validator in ("oneOf", "anyOf"):
        expected = (
            "a mapping or a list of strings" if last in ("headers", "triggers") else "a string or a list of strings"
        )
        return f"{where}: expected {expected}, got {json.dumps(error.instance)[:80]}"
    if error.validator == "minItems" and isinstance(error.instance, list):
        return f"{where}: must not be empty"
    if error.validator == "uniqueItems":
        return f"{where}: lists a value twice"
    message = error.message if len(error.message) < 160 else error.message[:157] + "..."
    return f"{where}: {message}"


def _check_keys(doc: Mapping[str, Any]) -> None:
    """Unknown keys (with a suggestion) and keys that belong elsewhere."""
    for key in doc:
        if key not in TOP_KEYS:
            near = difflib.get_close_matches(str(key), TOP_KEYS, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"expected {', '.join(TOP_KEYS)}"
            raise FleetFileError(f"unknown top-level key {key!r} ({hint})")
    sections: list[tuple[str, Any, bool]] = [("defaults", doc.get("defaults") or {}, False)]
    sections += [(f"targets[{i}]", t, True) for i, t in enumerate(doc.get("targets") or [])]
    for where, section, in_target in sections:
        if not isinstance(section, Mapping):
            continue
        for key in section:
            if key in TARGET_KEYS and not in_target:
                raise FleetFileError(f"{where}.{key}: belongs to a target, not to defaults")
            if key in TARGET_KEYS or key in EXTRA_OPTION_KEYS:
                continue
            option = option_for(str(key))
            if option is not None and option.name in FORBIDDEN:
                raise FleetFileError(f"{where}.{key}: not allowed in a fleet file: {FORBIDDEN[option.name]}")
            if option is None:
                near = difflib.get_close_matches(str(key), _known_keys(in_target), n=1)
                hint = (
                    f" (did you mean {near[0]!r}?)"
                    if near
                    else " (not a run option: see conformance run --help-options)"
                )
                raise FleetFileError(f"{where}: unknown key {key!r}{hint}")


def _check_value(where: str, option: Option, value: Any) -> None:
    """A value's type against the run option (for options the schema does not list)."""
    kwargs = option.kwargs
    if kwargs.get("action") == "store_true":
        ok = isinstance(value, bool)
        expected = "true or false"
    elif kwargs.get("action") == "append":
        ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ok = ok or (isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()))
        expected = "a string or a list of strings"
    elif kwargs.get("type") is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "an integer"
    elif kwargs.get("type") is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        expected = "a number"
    else:
        ok = isinstance(value, str)
        expected = "a string"
    if not ok:
        raise FleetFileError(f"{where}: expected {expected}, got {json.dumps(value)[:80]}")
    choices = kwargs.get("choices")
    if choices and value not in choices:
        raise FleetFileError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    if option.name == "profile" and value not in PROFILES:
        raise FleetFileError(f"{where}: unknown profile {value!r}: choose one of {', '.join(PROFILES)}")
    if option.name == "anthropic-version" and value not in API_VERSIONS:
        raise FleetFileError(f"{where}: unknown API version {value!r}: choose one of {', '.join(API_VERSIONS)}")


def _words(option: Option, value: Any) -> list[str]:
    """A repeatable option's values: a mapping becomes NAME:VALUE (headers) or STATE=MODEL."""
    if isinstance(value, Mapping):
        sep = ":" if option.name == "header" else "="
        return [f"{k}{sep}{v}" for k, v in value.items()]
    return [value] if isinstance(value, str) else list(value)


def _argv(options: Mapping[str, Any]) -> list[str]:
    argv: list[str] = []
    for name, value in options.items():
        o = BY_NAME[name]
        action = o.kwargs.get("action")
        if value is None or (action == "store_true" and not value):
            continue
        if action == "store_true":
            argv.append(o.long)
        elif action == "append":
            argv.extend(f"{o.long}={v}" for v in _words(o, value))
        else:
            argv.append(f"{o.long}={value}")
    return argv


def _merge(base: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """Options by run option name; a target's mapping (headers, triggers) extends the defaults'."""
    out: dict[str, Any] = {}
    for section in (base, own):
        for key, value in section.items():
            if key in TARGET_KEYS or key in EXTRA_OPTION_KEYS:
                continue
            option = option_for(key)
            assert option is not None
            if isinstance(value, Mapping) and isinstance(out.get(option.name), Mapping):
                value = {**out[option.name], **value}
            out[option.name] = value
    return out


def _component(value: Any) -> str:
    return "-" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))


def load_fleet(path: str | Path) -> Fleet:
    """Read, validate and expand a fleet file; any problem is one :class:`FleetFileError` line
    that starts with the file's name."""
    p = Path(path)
    try:
        return _load(p)
    except FleetFileError as exc:
        raise FleetFileError(f"{p}: {exc}") from None


def _load(p: Path) -> Fleet:
    import yaml

    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise FleetFileError(f"cannot read: {exc.strerror or exc}") from None
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FleetFileError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise FleetFileError(f"not valid YAML{at}: {problem}") from None
    doc = _dates_as_text(doc)
    if not isinstance(doc, dict):
        raise FleetFileError(
            "expected a mapping with targets: (a list of {name, url, api_key_env}), got "
            + ("an empty file" if doc is None else type(doc).__name__)
        )
    _check_keys(doc)
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(doc))
    if error is not None:
        raise FleetFileError(_schema_message(error))

    defaults: dict[str, Any] = doc.get("defaults") or {}
    fleet_axes: dict[str, list[Any]] = doc.get("axes") or {}
    targets: list[dict[str, Any]] = doc["targets"]
    base_dir = p.resolve().parent

    # values of options the schema does not describe, and of every axis
    for where, section in [("defaults", defaults)] + [(f"targets[{i}]", t) for i, t in enumerate(targets)]:
        for key, value in section.items():
            if key in TARGET_KEYS or key in EXTRA_OPTION_KEYS:
                continue
            option = option_for(key)
            assert option is not None
            _check_value(f"{where}.{key}", option, value)
    axis_names: list[str] = [
        a for a in AXIS_ORDER if a in fleet_axes or any(a in (t.get("axes") or {}) for t in targets)
    ]
    for section_axes in [fleet_axes] + [t.get("axes") or {} for t in targets]:
        for name in section_axes:
            if name not in axis_names:
                axis_names.append(name)
    for where, section_axes in [("axes", fleet_axes)] + [
        (f"targets[{i}].axes", t.get("axes") or {}) for i, t in enumerate(targets)
    ]:
        for name, values in section_axes.items():
            option = option_for(name)
            if option is None or option.name in FORBIDDEN:
                near = difflib.get_close_matches(
                    name, [a for a in _known_keys(False) if a not in EXTRA_OPTION_KEYS], n=1
                )
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise FleetFileError(f"{where}.{name}: not a run option that can be an axis{hint}")
            if option.kwargs.get("action") == "append" or file_key(option) != name:
                raise FleetFileError(f"{where}.{name}: a repeatable option cannot be an axis")
            for i, value in enumerate(values):
                _check_value(f"{where}.{name}[{i}]", option, value)

    # the check patterns must select something (a typo would fail every cell alike)
    patterns = {pat for s in [defaults, *targets] for pat in _words(BY_NAME["checks"], s.get("checks") or [])}
    if patterns:
        from conformance.checks import load_catalog

        unmatched = load_catalog().unmatched(sorted(patterns))
        if unmatched:
            raise FleetFileError(
                f"checks {', '.join(unmatched)}: matches no check ID (see conformance run --list-checks)"
            )
    for where, section in [("defaults", defaults)] + [(f"targets[{i}]", t) for i, t in enumerate(targets)]:
        for word in _words(BY_NAME["trigger"], section.get("triggers") or []):
            state, sep, model = word.partition("=")
            if state not in TRIGGERS:
                raise FleetFileError(f"{where}.triggers.{state}: unknown state: choose one of {', '.join(TRIGGERS)}")
            if not sep or not model:
                raise FleetFileError(f"{where}.triggers: {word!r}: expected STATE=MODEL")
        for word in _words(BY_NAME["header"], section.get("headers") or []):
            name, sep, _ = word.partition(":")
            if not sep or not name.strip():
                raise FleetFileError(f"{where}.headers: {word!r}: expected NAME:VALUE")

    digest = hashlib.sha256(f"conformance {__version__}\n".encode() + raw)
    names: set[str] = set()
    cells: list[Cell] = []
    ids: dict[str, str] = {}
    file_cache: dict[Path, tuple[str, str]] = {}
    for i, t in enumerate(targets):
        where = f"targets[{i}]"
        if t["name"] in names:
            raise FleetFileError(f"{where}.name: {t['name']!r} names two targets")
        names.add(t["name"])
        url = _normalise_url(f"{where}.url", t["url"])
        options = _merge(defaults, t)
        secret_env = {**(defaults.get("secret_headers_env") or {}), **(t.get("secret_headers_env") or {})}
        files: dict[str, tuple[str, str]] = {}
        for name in list(options):
            if BY_NAME[name].kwargs.get("metavar") == "FILE":
                files[name] = _read_named_file(
                    f"{where}.{file_key(BY_NAME[name])}", base_dir, options[name], file_cache
                )
                options[name] = files[name][0]
        own_axes = t.get("axes") or {}
        choices: list[list[Any]] = []
        for axis in axis_names:
            option = option_for(axis)
            assert option is not None
            if axis in own_axes:
                choices.append(list(own_axes[axis]))
            elif axis in t:
                choices.append([t[axis]])
            elif axis in fleet_axes:
                choices.append(list(fleet_axes[axis]))
            else:
                choices.append([options.get(option.name, option.kwargs.get("default"))])
        for combo in product(*choices):
            cell_options = dict(options)
            axes = {}
            for axis, value in zip(axis_names, combo, strict=True):
                option = option_for(axis)
                assert option is not None
                axes[axis] = value
                cell_options[option.name] = value
            parts = [t["name"], *(_component(v) for v in combo)]
            cell_id = "__".join(_ID_UNSAFE.sub("-", part) for part in parts)
            label = " · ".join(parts)
            if cell_id in ids:
                raise FleetFileError(
                    f"{where}: cells {ids[cell_id]!r} and {label!r} would share report directory {cell_id}"
                )
            ids[cell_id] = label
            argv = [
                f"{BY_NAME['target'].long}={url}",
                *_argv({k: v for k, v in cell_options.items() if k not in files}),
            ]
            cells.append(
                Cell(
                    id=cell_id,
                    label=label,
                    target=t["name"],
                    url=url,
                    api_key_env=t["api_key_env"],
                    axes=axes,
                    options=cell_options,
                    argv=tuple(argv),
                    files=files,
                    secret_headers_env=dict(secret_env),
                )
            )
    for name, content in sorted({v for v in file_cache.values()}):
        digest.update(f"\n{name}\n".encode() + content.encode())
    return Fleet(path=p, key=digest.hexdigest()[:32], axes=tuple(axis_names), cells=tuple(cells))


def _dates_as_text(node: Any) -> Any:
    """YAML reads ``2023-06-01`` unquoted as a date: an API version is its text."""
    import datetime

    if isinstance(node, dict):
        return {_dates_as_text(k): _dates_as_text(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_dates_as_text(v) for v in node]
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat()
    return node


def _normalise_url(where: str, url: str) -> str:
    from conformance._target import TargetError, _normalise_base_url

    try:
        return _normalise_base_url(url)
    except TargetError as exc:
        raise FleetFileError(f"{where}: {exc}") from None


def _read_named_file(where: str, base_dir: Path, value: Any, cache: dict[Path, tuple[str, str]]) -> tuple[str, str]:
    """(file name, content) of a file option, relative to the fleet file's directory: the
    content travels to the worker with the cell (a remote worker has no copy of the file)."""
    path = (base_dir / str(value)).resolve()
    if path not in cache:
        try:
            cache[path] = (path.name, path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FleetFileError(f"{where}: cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise FleetFileError(f"{where}: {path} is not UTF-8 text") from None
    return cache[path]
