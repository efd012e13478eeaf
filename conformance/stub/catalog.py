"""The stub's model catalog (contract §6: ``ModelInfo``, ``GET /v1/models`` pagination).

Default catalog: every model id named by the official SDK 2.14 (``anthropic/types/model.py``
Literal list, deprecated ones included, with the dates of ``anthropic/_data/deprecated_models.py``)
plus ``qwen3.5-27b-claude-opus-8bit`` (the Darkbloom example). ``--models FILE`` replaces it
with a JSON list of ids or of ModelInfo objects.

The deliberate-failure ids of :data:`FAILURE_MODELS` are accepted by ``POST /v1/messages`` but
never listed, so a client that picks "the first listed model" never picks one of them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EPOCH = "1970-01-01T00:00:00Z"

SDK_MODEL_IDS: tuple[str, ...] = (
    "claude-fable-5-2",
    "claude-mythos-5-2",
    "claude-haiku-5-5",
    "claude-sonnet-5-5",
    "claude-fable-5-1",
    "claude-opus-5-5",
    "claude-mythos-5-1",
    "claude-sonnet-5",
    "claude-fable-5",
    "claude-mythos-5",
    "claude-opus-5",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-mythos-preview",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-5",
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
)

# id -> retirement date named by the SDK's deprecation warning
DEPRECATED: dict[str, str] = {
    "claude-mythos-preview": "2026-06-30T00:00:00Z",
    "claude-opus-4-5": "2027-01-22T00:00:00Z",
    "claude-opus-4-5-20251101": "2027-01-22T00:00:00Z",
    "claude-sonnet-4-5": "2026-11-30T00:00:00Z",
    "claude-sonnet-4-5-20250929": "2026-11-30T00:00:00Z",
}

DARKBLOOM_MODEL = "qwen3.5-27b-claude-opus-8bit"

# Deliberate failures (documented in the app module): accepted, never listed.
FAILURE_MODELS: frozenset[str] = frozenset({"stub-error-mid-stream", "stub-rate-limited", "stub-overloaded"})

_LINES = ("haiku", "sonnet", "opus", "fable", "mythos")


class CatalogError(ValueError):
    """The ``--models`` file is unreadable or not a list of ids / ModelInfo objects."""


def _display_name(model_id: str) -> str:
    if not model_id.startswith("claude-"):
        return model_id
    words = [w for w in model_id.split("-")[1:] if not re.fullmatch(r"\d{8}", w)]
    name = [w.capitalize() for w in words if not w.isdigit()]
    version = ".".join(w for w in words if w.isdigit())
    return "Claude " + " ".join(name) + (f" {version}" if version else "")


def model_info(model_id: str) -> dict[str, Any]:
    """A complete ModelInfo for ``model_id`` (every field SDK 2.14 requires: id, type,
    display_name, created_at, lifecycle)."""
    dated = re.search(r"-(\d{4})(\d{2})(\d{2})$", model_id)
    line = (
        next((part for part in model_id.split("-") if part in _LINES), None) if model_id.startswith("claude-") else None
    )
    info: dict[str, Any] = {
        "type": "model",
        "id": model_id,
        "display_name": _display_name(model_id),
        "created_at": f"{dated.group(1)}-{dated.group(2)}-{dated.group(3)}T00:00:00Z" if dated else EPOCH,
        "lifecycle": "deprecated" if model_id in DEPRECATED else "active",
        "deprecated_at": EPOCH if model_id in DEPRECATED else None,
        "retires_at": DEPRECATED.get(model_id),
        "line": line,
        "max_input_tokens": 200000,
        "max_tokens": 64000,
    }
    return info


@dataclass(frozen=True)
class ModelCatalog:
    """An ordered model list (listing order = order here) with id lookup."""

    models: tuple[dict[str, Any], ...]

    @classmethod
    def default(cls) -> "ModelCatalog":
        return cls(tuple(model_info(m) for m in (*SDK_MODEL_IDS, DARKBLOOM_MODEL)))

    @classmethod
    def from_file(cls, path: str | Path) -> "ModelCatalog":
        """Load a JSON list of ids or ModelInfo objects; missing required fields are filled."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CatalogError(f"cannot read models file {path}: {exc}") from exc
        if not isinstance(data, list) or not data:
            raise CatalogError(f"models file {path}: expected a non-empty JSON list")
        models = []
        for item in data:
            if isinstance(item, str):
                models.append(model_info(item))
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                models.append({**model_info(item["id"]), **item})
            else:
                raise CatalogError(f"models file {path}: each item must be an id or an object with an 'id'")
        ids = [m["id"] for m in models]
        if len(set(ids)) != len(ids):
            raise CatalogError(f"models file {path}: duplicate ids")
        return cls(tuple(models))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {m["id"]: i for i, m in enumerate(self.models)})

    def get(self, model_id: str) -> dict[str, Any] | None:
        index = self._index.get(model_id)  # type: ignore[attr-defined]
        return None if index is None else self.models[index]

    def accepts(self, model_id: str) -> bool:
        """Listed models and the deliberate-failure ids are served."""
        return model_id in self._index or model_id in FAILURE_MODELS  # type: ignore[attr-defined]

    def page(self, *, after_id: str | None, before_id: str | None, limit: int) -> dict[str, Any]:
        """One page of ``GET /v1/models`` (§6). Raises KeyError for an unknown cursor id."""
        models = self.models
        if after_id is not None:
            start = self._index[after_id] + 1  # type: ignore[attr-defined]
            data = models[start : start + limit]
            has_more = start + limit < len(models)
        elif before_id is not None:
            end = self._index[before_id]  # type: ignore[attr-defined]
            start = max(0, end - limit)
            data = models[start:end]
            has_more = start > 0
        else:
            data = models[:limit]
            has_more = limit < len(models)
        return {
            "data": list(data),
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
