"""The configuration of one run, validated: what the plugin, the command, the API and the
self-tests hand the engine. Plain data; imports only the option table and the schema names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from conformance._options import AUTH_CHOICES, RECEIPT_BINDINGS, TRIGGERS
from conformance._schema import API_VERSIONS, PROFILES


class RunSetupError(Exception):
    """The run cannot happen (bad options, unreachable target): one line for the user, exit 2."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs to know, from options or the environment."""

    target: str
    api_key: str | None = None
    auth: str = "both"  # each auth style is its own check; probes use x-api-key unless "bearer"
    model: str | None = None  # None: the first id listed by GET /v1/models
    profile: str = "anthropic"
    anthropic_version: str = "2023-06-01"
    timeout: float = 30.0  # read and per-event idle bound, seconds
    total_timeout: float = 120.0  # per exchange
    headers: Mapping[str, str] = field(default_factory=dict)
    secret_headers: tuple[str, ...] = ()
    insecure: bool = False
    seed: int = 0
    # The target's declared request-size limit; the 413 check runs only when it is known.
    max_body_bytes: int | None = None
    check_timeout: float | None = None  # bound on one check (all its exchanges), seconds; None: none
    run_budget: float | None = None  # bound on the whole run, seconds; None: none
    # Stop (remaining checks "not run") after this many requests in a row got no HTTP response.
    stop_after_failures: int | None = None
    # Generated payloads (the fuzz family): a second target for differential mode, the
    # Hypothesis seed (None: ``seed``), and the budget of each generated property.
    compare: str | None = None
    hypothesis_seed: int | None = None
    examples: int = 25
    fuzz_seconds: float = 3.0
    # States the target can be made to enter (overload, rate-limit, mid-stream-error) -> the
    # model whose requests it answers in that state; checks of an undeclared state send the
    # stub's model names and call an answer that refuses the model inconclusive.
    triggers: Mapping[str, str] = field(default_factory=dict)
    # Where the processes of one run (xdist workers) share the parts of the schemathesis pass;
    # None: this process computes them all. Set by the plugin, not an option.
    share_dir: str | None = None
    # How the target's Darkbloom receipts bind the answer (darkbloom.receipt.hash-binding):
    # one of RECEIPT_BINDINGS; "none": the hash is not recomputable (inconclusive, never failed).
    receipt_binding: str = "none"

    def validate(self) -> None:
        if self.profile not in PROFILES:
            raise RunSetupError(f"unknown profile {self.profile!r}: choose one of {', '.join(PROFILES)}")
        if self.anthropic_version not in API_VERSIONS:
            raise RunSetupError(
                f"unknown API version {self.anthropic_version!r}: choose one of {', '.join(API_VERSIONS)}"
            )
        for state, model in self.triggers.items():
            if state not in TRIGGERS:
                raise RunSetupError(
                    f"--trigger {state}={model}: unknown state {state!r}: choose one of {', '.join(TRIGGERS)}"
                )
            if not model:
                raise RunSetupError(f"--trigger {state}=: expected a model name after '='")
        if self.receipt_binding not in RECEIPT_BINDINGS:
            raise RunSetupError(
                f"unknown receipt binding {self.receipt_binding!r}: choose one of {', '.join(RECEIPT_BINDINGS)}"
            )
        if self.auth not in AUTH_CHOICES:
            raise RunSetupError(f"unknown auth style {self.auth!r}: choose one of {', '.join(AUTH_CHOICES)}")
        if not (self.timeout > 0 and self.total_timeout > 0):
            raise RunSetupError("timeouts must be positive numbers of seconds")
        if self.examples < 1:
            raise RunSetupError(f"--examples must be a positive number, got {self.examples}")
        if not 0 < self.fuzz_seconds < float("inf"):
            raise RunSetupError(f"--fuzz-seconds must be a positive number of seconds, got {self.fuzz_seconds:g}")
        for name, value in (("--check-timeout", self.check_timeout), ("--run-budget", self.run_budget)):
            if value is not None and not 0 < value < float("inf"):
                raise RunSetupError(f"{name} must be a positive number of seconds, got {value:g}")
