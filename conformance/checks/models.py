"""models: ``GET /v1/models`` and ``GET /v1/models/{id}`` (contract §6).

The contract makes them SHOULDs (§9 items 31-32); the Darkbloom page does not document them,
so they are in the anthropic profile only. There the endpoint's existence is itself the
requirement: the ``shape`` checks fail when it is declined (404/400), and the checks that build
on it (pagination, unknown ids) are then ``unsupported`` rather than failed a second time.
"""

from __future__ import annotations

import math
from typing import Any, cast
from urllib.parse import quote

from conformance._catalog import ANTHROPIC_ONLY, SHOULD, Outcome, check
from conformance._exchange import Exchange
from conformance._probes import Context, probe
from conformance.checks._common import (
    declined,
    describe,
    expect_error,
    expect_ok,
    first_error,
    missing_endpoint,
    schema_errors,
)

MAX_PAGES = 50
UNKNOWN_MODEL = "conformance-no-such-model-0000"


# ------------------------------------------------------------------------------- probes


@probe("models-list")
def _models_list(ctx: Context):
    return ctx.send("GET", "/v1/models?limit=1000")


@probe("models-pages")
def _models_pages(ctx: Context):
    """Walk the list with ``after_id``: page size 1 (or the smallest size fitting in 40 pages).

    The full listing comes first (probes do not nest, so it is fetched again here) to size the
    pages and to compare the walk against."""
    full = ctx.send("GET", "/v1/models?limit=1000")
    body = full.json() if full.status == 200 else None
    data = body.get("data") if isinstance(body, dict) else None
    size = 1 if not isinstance(data, list) or len(data) < MAX_PAGES else math.ceil(len(data) / 40)
    pages: list[Exchange] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        path = f"/v1/models?limit={size}" + (f"&after_id={quote(after, safe='')}" if after is not None else "")
        ex = ctx.send("GET", path)
        pages.append(ex)
        page = ex.json()
        if ex.status != 200 or not isinstance(page, dict) or page.get("has_more") is not True:
            break
        last = page.get("last_id")
        if not isinstance(last, str) or last == after:
            break
        after = last
    return {"full": full, "size": size, "pages": pages}


@probe("models-retrieve")
def _models_retrieve(ctx: Context):
    """GET /v1/models/{id} of the run's model when the target lists it (it is the first listed id
    unless --model names another), else of the first id it lists: a check about listed models
    is judged on a listed one."""
    model = ctx.model
    listing = ctx.send("GET", "/v1/models?limit=1000")
    body = listing.json() if listing.status == 200 else None
    data = body.get("data") if isinstance(body, dict) else None
    ids = [m.get("id") for m in data if isinstance(m, dict)] if isinstance(data, list) else []
    if ids and model not in ids and isinstance(ids[0], str):
        model = ids[0]
    return ctx.send("GET", f"/v1/models/{quote(model, safe='')}")


@probe("models-retrieve-unknown")
def _models_retrieve_unknown(ctx: Context):
    return ctx.send("GET", f"/v1/models/{UNKNOWN_MODEL}")


# ------------------------------------------------------------------------------ checks


@check(
    "models.list.shape",
    SHOULD,
    "contract §6, §9.31",
    "GET /v1/models answers a model page (data of ModelInfo, has_more, first_id, last_id).",
    profiles=ANTHROPIC_ONLY,
    capability="models",
)
def models_list_shape(ctx: Context) -> Outcome:
    """SHOULD implement ``GET /v1/models`` with the Anthropic page shape: ``data`` of ModelInfo
    (``id``, ``type: "model"``, ``display_name``, ``created_at``), ``has_more``, ``first_id``,
    ``last_id``; an OpenAI ``{"object": "list"}`` page leaves the SDK's fields empty."""
    ex = ctx.probe("models-list")
    if declined(ex):
        return missing_endpoint(ex, "GET /v1/models")
    bad = expect_ok(ex)
    if bad:
        return bad
    errors = schema_errors(ctx, "model-page", ex.json())
    if errors:
        return first_error(errors, "the model page")
    data = ex.json()["data"]
    if not data:
        return Outcome.mismatch("at least one model listed", "an empty data array")
    return Outcome.passed(f"{len(data)} model(s) listed")


def _listed_ids(ex: Exchange) -> tuple[list[str] | None, Outcome | None]:
    if declined(ex):
        return None, Outcome.unsupported("GET /v1/models declined")
    bad = expect_ok(ex)
    if bad:
        return None, bad
    body = ex.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in data):
        return None, Outcome.inconclusive("GET /v1/models lists no ids to page through (see models.list.shape)")
    return [m["id"] for m in data], None


@check(
    "models.pagination.after-id",
    SHOULD,
    "contract §6, §9.31",
    "Walking GET /v1/models with limit and after_id=last_id visits every model once and ends with has_more false.",
    profiles=ANTHROPIC_ONLY,
    capability="models",
)
def models_pagination(ctx: Context) -> Outcome:
    """SHOULD honour ``limit`` and ``after_id`` and report ``has_more``: the SDK's auto-pagination
    follows ``last_id`` while ``has_more`` is not false, so a server that ignores ``after_id`` or
    omits ``has_more`` makes ``for m in client.models.list()`` loop forever (contract §6)."""
    walk = ctx.probe("models-pages")
    listed, bad = _listed_ids(walk["full"])
    if bad:
        return bad
    listed = cast(list[str], listed)  # a list whenever bad is None
    size, pages = walk["size"], walk["pages"]
    seen: list[Any] = []  # the ids as the pages gave them, strings or not
    for n, ex in enumerate(pages, 1):
        bad = expect_ok(ex)
        if bad:
            return Outcome.failed(f"page {n}: {bad.message}")
        page = ex.json()
        data = page.get("data") if isinstance(page, dict) else None
        if not isinstance(data, list):
            return Outcome.mismatch(f"a data array on page {n}", describe(ex))
        if len(data) > size:
            return Outcome.mismatch(f"at most limit={size} models on page {n}", f"{len(data)}")
        ids = [m.get("id") for m in data if isinstance(m, dict)]
        repeated = [i for i in ids if i in seen]
        if repeated:
            return Outcome.mismatch(
                f"no model repeated across pages (page {n})", f"{repeated[0]!r} again: after_id ignored"
            )
        seen.extend(ids)
        has_more = page.get("has_more")
        if not isinstance(has_more, bool):
            return Outcome.mismatch(
                f"has_more as a boolean on page {n}", repr(has_more) if "has_more" in page else "no has_more"
            )
        if has_more:
            if not data or page.get("last_id") != ids[-1]:
                return Outcome.mismatch(
                    f"last_id naming the page's last model on page {n} while has_more is true",
                    f"last_id {page.get('last_id')!r} with {len(data)} model(s)",
                )
            if n == len(pages):
                return Outcome.mismatch(f"has_more false within {MAX_PAGES} pages of {size}", "has_more still true")
    if seen != listed:
        missing = [i for i in listed if i not in seen]
        detail = f"missing {missing[0]!r}" if missing else "a different order"
        return Outcome.mismatch(
            f"the walk to visit the {len(listed)} listed models in order", f"{len(seen)} models, {detail}"
        )
    return Outcome.passed(f"{len(pages)} page(s) of {size}, {len(seen)} models, has_more false at the end")


@check(
    "models.retrieve.shape",
    SHOULD,
    "contract §6, §9.32",
    "GET /v1/models/{id} for the run's model (the first listed unless --model; a listed id when "
    "--model is not listed) answers its ModelInfo.",
    profiles=ANTHROPIC_ONLY,
    capability="models",
)
def models_retrieve_shape(ctx: Context) -> Outcome:
    """SHOULD implement ``GET /v1/models/{id}``: the run's model (a served id) answers 200 with
    a valid ModelInfo whose ``id`` is the one asked for."""
    ex = ctx.probe("models-retrieve")
    wanted = ex.request.url.rsplit("/", 1)[-1]
    if declined(ex):
        return missing_endpoint(ex, "GET /v1/models/{id}")
    bad = expect_ok(ex)
    if bad:
        return bad
    errors = schema_errors(ctx, "model-info", ex.json())
    if errors:
        return first_error(errors, "the ModelInfo")
    got = ex.json().get("id")
    if quote(str(got), safe="") != wanted:
        return Outcome.mismatch(f"the ModelInfo of {wanted!r}", f"id {got!r}")
    listed = (
        ""
        if wanted == quote(ctx.model, safe="")
        else f" (the run's model {ctx.model!r} is not listed: a listed id instead)"
    )
    return Outcome.passed(f"ModelInfo of {got!r}{listed}")


@check(
    "models.retrieve.unknown",
    SHOULD,
    "contract §4.2, §6, §9.32",
    "GET /v1/models/{id} for an unknown id answers 404 not_found_error.",
    profiles=ANTHROPIC_ONLY,
    capability="models",
)
def models_retrieve_unknown(ctx: Context) -> Outcome:
    """SHOULD answer an unknown model id with 404 ``not_found_error`` in the error envelope
    (the SDK raises NotFoundError on the status; tools branch on ``error.type``)."""
    if declined(ctx.probe("models-retrieve")):
        return Outcome.unsupported("GET /v1/models/{id} declined for the run's model")
    return expect_error(ctx.probe("models-retrieve-unknown"), 404, "not_found_error")
