"""The conformance run's options: one table that the pytest entry point, ``conformance run``
and :func:`conformance.run` read. Imports nothing heavy: every pytest session loads it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AUTH_CHOICES = ("both", "x-api-key", "bearer")
GATES = ("must", "should")
SUITE_SUFFIX = ".suite"
SUITE = Path(__file__).resolve().parent / "suite" / "catalog.suite"
ENV_TARGET = "CONFORMANCE_TARGET"
ENV_API_KEY = "CONFORMANCE_API_KEY"
DEFAULT_RUN_BUDGET = 3600.0
ACTIVATE = "--conformance"
# States a check can only judge where the target can be made to enter them, and the model names
# the bundled stub answers with each (--trigger STATE=MODEL declares a target's own).
TRIGGERS = ("overload", "rate-limit", "mid-stream-error")
STUB_TRIGGERS = {
    "overload": "stub-overloaded",
    "rate-limit": "stub-rate-limited",
    "mid-stream-error": "stub-error-mid-stream",
}
PREFIX = "--conformance-"
# How a target's receipt hash binds the answer (darkbloom profile, attestation §2.4): "none" (not
# recomputable: judged inconclusive), "stub-text" (the bundled stub's), "upstream-openai-sse".
RECEIPT_BINDINGS = ("none", "stub-text", "upstream-openai-sse")


@dataclass(frozen=True)
class Option:
    """One option: ``--conformance-NAME`` always, ``--NAME`` too when it is free."""

    name: str
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    short: bool = True  # also offer --NAME where nothing else claims it

    @property
    def dest(self) -> str:
        return "conformance_" + self.name.replace("-", "_")

    @property
    def long(self) -> str:
        return PREFIX + self.name

    @property
    def flag(self) -> str:
        """The name messages use: the short form (the one the docs teach)."""
        return ("--" + self.name) if self.short else self.long


OPTIONS = (
    Option(
        "target",
        f"base URL of the server under test (env {ENV_TARGET}); default: start the bundled stub",
        {"metavar": "URL"},
    ),
    Option("api-key", f"API key (env {ENV_API_KEY}); never written to any report", {"metavar": "KEY"}),
    Option("auth", "credential styles to check (default: both)", {"default": "both", "choices": AUTH_CHOICES}),
    Option("model", "model id (default: the first id of GET /v1/models)", {"metavar": "ID"}),
    Option("profile", "check profile: anthropic or darkbloom (default anthropic)", {"default": "anthropic"}),
    Option(
        "anthropic-version", "anthropic-version to send: 2023-06-01 (default) or 2026-10-21", {"default": "2023-06-01"}
    ),
    Option(
        "timeout",
        "read / per-event idle bound in seconds (default 30)",
        {"type": float, "default": 30.0, "metavar": "S"},
    ),
    Option("header", "extra request header (repeatable)", {"action": "append", "default": [], "metavar": "NAME:VALUE"}),
    Option(
        "secret-header",
        "header name to redact everywhere (repeatable)",
        {"action": "append", "default": [], "metavar": "NAME"},
    ),
    Option("checks", "select checks by ID glob (repeatable)", {"action": "append", "default": [], "metavar": "GLOB"}),
    Option("list-checks", "print the check catalog and exit", {"action": "store_true", "default": False}),
    Option("gate", "levels that fail the run: must (default) or should", {"default": "must", "choices": GATES}),
    Option("expect-failures", "YAML/JSON list of {id, reason, expires}", {"metavar": "FILE"}),
    Option(
        "max-body-bytes",
        "the target's declared request-size limit (enables the 413 check)",
        {"type": int, "metavar": "N"},
    ),
    Option("insecure", "accept an https certificate that does not verify", {"action": "store_true", "default": False}),
    Option(
        "report-dir",
        "write index.html, results.json, junit.xml and summary.md here (default reports/; empty: no reports)",
        {"default": "reports", "metavar": "DIR"},
    ),
    Option(
        "trigger",
        f"how to make the target enter a state some checks judge: STATE=MODEL, a model whose "
        f"requests the target answers in that state; STATE is one of {', '.join(TRIGGERS)} (repeatable; "
        f"the bundled stub declares its own)",
        {"action": "append", "default": [], "metavar": "STATE=MODEL"},
    ),
    Option(
        "receipt-binding",
        "darkbloom profile: how the target's response_hash binds the answer, so that it can be recomputed: "
        "none (default for a --target), stub-text (the bundled stub's, its default) or upstream-openai-sse",
        {"default": None, "choices": RECEIPT_BINDINGS},
    ),
    Option(
        "stub-fault",
        "fault to switch on in the bundled stub (repeatable)",
        {"action": "append", "default": [], "metavar": "NAME"},
    ),
    Option(
        "seed",
        "seed for the bundled stub and generated payloads",
        {"type": int, "default": 0, "metavar": "N"},
        short=False,
    ),
    Option(
        "check-timeout",
        "bound on one check, all its requests included (default: 3 x the per-request "
        "bound, which is max(4 x --timeout, 10 s))",
        {"type": float, "metavar": "S"},
    ),
    Option(
        "run-budget",
        f"bound on the whole run; checks left when it is spent are errors 'not run' (default {DEFAULT_RUN_BUDGET:g})",
        {"type": float, "default": DEFAULT_RUN_BUDGET, "metavar": "S"},
    ),
    Option(
        "compare",
        "differential mode: send the generated requests to URL2 too and report disagreements (fuzz.compare.*)",
        {"metavar": "URL2"},
    ),
    # --hypothesis-seed belongs to Hypothesis's own pytest plugin (always installed with us);
    # the fuzz checks read the same option, so one seed makes the whole run repeatable.
    Option(
        "examples", "generated examples per fuzz property (default 25)", {"type": int, "default": 25, "metavar": "N"}
    ),
    Option(
        "fuzz-seconds",
        "time bound of each fuzz property, shrinking included (default 3)",
        {"type": float, "default": 3.0, "metavar": "S"},
    ),
)
BY_NAME = {o.name: o for o in OPTIONS}


def getoption(config: Any, name: str) -> Any:
    """The value of conformance option ``name`` (``"target"``, ``"api-key"``, ...), whichever of
    its names was used; the environment's default for the target."""
    value = config.getoption(BY_NAME[name].dest)
    if name == "target" and value is None:
        return os.environ.get(ENV_TARGET) or None
    return value
