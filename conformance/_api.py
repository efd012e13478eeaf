"""The Python API: :func:`run` runs the conformance suites and returns the result model.

``conformance run`` (the command), :func:`run` and ``pytest --target URL`` are one engine: the
pytest plugin over the packaged suite. :func:`run_pytest` is the shared seam: the packaged
suite, the run's own configuration file (a caller's pytest.ini or conftest.py stays out), the
plugin by its entry point name.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from conformance._options import BY_NAME, DEFAULT_RUN_BUDGET, ENV_API_KEY, SUITE

RUN_INI = SUITE.parent / "pytest-run.ini"


def run_pytest(argv: Sequence[str], plugins: Sequence[object] = ()) -> int:
    """pytest over the packaged suite with ``argv`` (the plugin's options); its exit code.

    Hypothesis's files (its unicode tables) go to the user's cache directory, not to a
    ``.hypothesis/`` in the directory the run starts from, unless HYPOTHESIS_STORAGE_DIRECTORY
    says otherwise."""
    import pytest
    from hypothesis.configuration import set_hypothesis_home_dir

    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        set_hypothesis_home_dir(cache / "messages-conformance" / "hypothesis")

    return int(
        pytest.main(
            [str(SUITE.parent), "-p", "conformance", "-c", str(RUN_INI), "--rootdir", str(SUITE.parent), *argv],
            plugins=list(plugins),
        )
    )


@dataclass
class RunResult:
    """What one run decided. ``document`` is the result model every report is written from
    (``results.json``, schema ``schemas/data/results.schema.json``); None when the run could
    not happen, and ``error`` then says why in one line."""

    exit_code: int
    document: dict | None
    report_files: list[Path] = field(default_factory=list)
    error: str | None = None

    @property
    def gate_passed(self) -> bool:
        return self.exit_code == 0

    @property
    def gate_line(self) -> str:
        return self.document["gate"]["verdict"] if self.document else (self.error or "")

    @property
    def results(self) -> list[dict]:
        """One dict per check: id, level, verdict, message, evidence, ..."""
        return list(self.document["results"]) if self.document else []

    def verdicts(self) -> dict[str, str]:
        """Check ID to verdict (``passed``, ``failed``, ``unsupported``, ...)."""
        return {r["id"]: r["verdict"] for r in self.results}

    @property
    def failed(self) -> list[str]:
        """IDs of the checks that failed or errored, in catalog order."""
        return [r["id"] for r in self.results if r["verdict"] in ("failed", "error")]


class _Collector:
    """A plugin object handed to pytest.main: reads the run's document at the end."""

    def __init__(self) -> None:
        self.document: dict | None = None
        self.report_files: list[Path] = []

    def pytest_unconfigure(self, config: Any) -> None:
        from conformance.plugin import run_state

        state = run_state(config)
        if state is not None:
            self.document = state.document
            self.report_files = list(state.report_files)


class _Tee(io.TextIOBase):
    """Writes through to a stream and keeps the ``conformance: error:`` lines."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.error_lines: list[str] = []

    def write(self, text: str) -> int:
        self.error_lines.extend(line for line in text.splitlines() if line.startswith("conformance: error: "))
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return self.stream.isatty()


def _argv(options: Mapping[str, Any]) -> list[str]:
    """Command-line arguments from option values keyed by option name (``api-key`` style)."""
    argv: list[str] = []
    for name, value in options.items():
        o = BY_NAME[name]
        action = o.kwargs.get("action")
        if value is None or (action == "store_true" and not value):
            continue
        if action == "store_true":
            argv.append(o.long)
        elif action == "append":
            argv.extend(f"{o.long}={v}" for v in value)
        else:
            argv.append(f"{o.long}={value}")
    return argv


def run(
    target: str | None = None,
    *,
    api_key: str | None = None,
    model: str | None = None,
    profile: str = "anthropic",
    anthropic_version: str = "2023-06-01",
    checks: Iterable[str] = (),
    auth: str = "both",
    gate: str = "must",
    expect_failures: str | os.PathLike[str] | None = None,
    report_dir: str | os.PathLike[str] | None = None,
    headers: Mapping[str, str] | None = None,
    secret_headers: Iterable[str] = (),
    triggers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    check_timeout: float | None = None,
    run_budget: float = DEFAULT_RUN_BUDGET,
    max_body_bytes: int | None = None,
    insecure: bool = False,
    compare: str | None = None,
    stub_faults: Iterable[str] = (),
    seed: int = 0,
    examples: int = 25,
    fuzz_seconds: float = 3.0,
    quiet: bool = True,
    receipt_binding: str | None = None,
) -> RunResult:
    """Run the conformance suites against ``target`` (None: the bundled stub) and return what
    they decided; no pytest knowledge needed. Options mean what the command's options mean
    (``conformance run --help-options``); ``report_dir`` None writes no report files.

    The API key reaches the run through ``CONFORMANCE_API_KEY`` for the call's duration (never
    through arguments that a process listing or pytest's own records would show) and is
    redacted from the document as from every report. Call from the main thread (the run's
    time bounds use SIGALRM), one run at a time. ``quiet`` keeps pytest's terminal output
    off stdout; a reason the run cannot happen is still one line on stderr and in ``error``.
    """
    argv = _argv(
        {
            "target": target,
            "model": model,
            "profile": profile,
            "anthropic-version": anthropic_version,
            "checks": list(checks),
            "auth": auth,
            "gate": gate,
            "expect-failures": os.fspath(expect_failures) if expect_failures is not None else None,
            "header": [f"{k}:{v}" for k, v in (headers or {}).items()],
            "secret-header": list(secret_headers),
            "trigger": [f"{k}={v}" for k, v in (triggers or {}).items()],
            "timeout": timeout,
            "check-timeout": check_timeout,
            "run-budget": run_budget,
            "max-body-bytes": max_body_bytes,
            "insecure": insecure,
            "compare": compare,
            "stub-fault": list(stub_faults),
            "seed": seed,
            "examples": examples,
            "fuzz-seconds": fuzz_seconds,
            "receipt-binding": receipt_binding,
        }
    )
    argv.append(f"{BY_NAME['report-dir'].long}={os.fspath(report_dir) if report_dir is not None else ''}")
    collector = _Collector()
    tee = _Tee(sys.stderr)
    saved = os.environ.get(ENV_API_KEY)
    if api_key is not None:
        os.environ[ENV_API_KEY] = api_key
    try:
        with contextlib.redirect_stderr(tee), contextlib.redirect_stdout(io.StringIO() if quiet else sys.stdout):
            code = run_pytest(argv, plugins=[collector])
    finally:
        if api_key is not None:
            if saved is None:
                os.environ.pop(ENV_API_KEY, None)
            else:
                os.environ[ENV_API_KEY] = saved
    error = tee.error_lines[0][len("conformance: error: ") :] if tee.error_lines else None
    return RunResult(code, collector.document, collector.report_files, error)
