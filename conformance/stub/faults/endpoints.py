"""Faults of the related endpoints: count_tokens and the models listing (§6, §8.10-8.11)."""

from __future__ import annotations

from typing import Callable

from ._base import Fault, Json, defect


def _count_message_words(body: Json, exact: Callable[[Json], int]) -> int:
    """count_tokens counting message words only (no system, tools or per-message overhead)."""
    trimmed = {"messages": body.get("messages") or []}
    return max(1, exact(trimmed) - 1 - 3 * len(trimmed["messages"]))


def _whole_list(page: Json, all_models: tuple[Json, ...]) -> Json:
    data = list(all_models)
    return {"data": data, "first_id": data[0]["id"], "last_id": data[-1]["id"]}


def _openai_list(page: Json, all_models: tuple[Json, ...]) -> Json:
    return {
        "object": "list",
        "data": [{"id": m["id"], "object": "model", "created": 0, "owned_by": "stub"} for m in all_models],
    }


FAULTS: tuple[Fault, ...] = (
    # ---- related endpoints (§6, §8.10-8.11)
    defect(
        "count-tokens-mismatch",
        "count_tokens ignores system, tools and per-message overhead, so it differs from usage.input_tokens",
        "count-tokens.usage.matches-messages",
        "count-tokens.system.counted",
        count_tokens=_count_message_words,
    ),
    defect(
        "no-count-tokens",
        "POST /v1/messages/count_tokens not implemented (404) (Darkbloom §8.10)",
        "count-tokens.response.shape",
        missing_endpoints=frozenset({"count_tokens"}),
    ),
    defect(
        "models-no-pagination",
        "GET /v1/models ignores after_id/before_id/limit and omits has_more (endless SDK auto-pagination)",
        "models.pagination.after-id",
        "models.list.shape",
        models_page=_whole_list,
    ),
    defect(
        "models-openai-shape",
        'GET /v1/models is {"object":"list","data":[{id,object,created,owned_by}]} (Darkbloom §8.11)',
        "models.list.shape",
        "sdk.models.list",
        "fuzz.schemathesis.response-schema-conformance",
        models_page=_openai_list,
    ),
    defect(
        "no-model-retrieve",
        "GET /v1/models/{id} not implemented (404 for listed ids) (Darkbloom §8.10)",
        "models.retrieve.shape",
        missing_endpoints=frozenset({"model"}),
    ),
)
