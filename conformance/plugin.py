"""The pytest plugin: ``pytest --target URL`` runs the conformance suites against URL.

With no ``--target`` the bundled stub is started on a free loopback port for the run and
stopped after it. Each catalog check becomes one test item whose name is the check ID; the
check's result travels in ``user_properties`` (so it survives pytest-xdist) and the gate
decides the exit code: 0 when every gated check passed, 1 when one failed, 2 when the run
could not happen, 5 when no check ran.

Hooks are grouped by lifecycle: options and configuration, collection, running, reporting.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import pytest

from conformance._catalog import CATALOG, Check, Outcome, Verdict, load_catalog
from conformance._redact import Redactor
from conformance._run import (
    AUTH_CHOICES,
    GATES,
    Expectations,
    Result,
    RunConfig,
    RunContext,
    RunSetupError,
    gate_verdict,
    preflight,
    results_document,
    run_check,
)
from conformance._schema import API_VERSIONS, PROFILES
from conformance._target import Target, TargetError

# Option names, kept as constants so cli.py, docs and tests spell them one way.
TARGET = "--target"
API_KEY = "--api-key"
AUTH = "--auth"
MODEL = "--model"
PROFILE = "--profile"
VERSION = "--anthropic-version"
TIMEOUT = "--timeout"
HEADER = "--header"
SECRET_HEADER = "--secret-header"
CHECKS = "--checks"
LIST_CHECKS = "--list-checks"
GATE = "--gate"
EXPECT_FAILURES = "--expect-failures"
MAX_BODY_BYTES = "--max-body-bytes"
INSECURE = "--insecure"
REPORT_DIR = "--report-dir"
STUB_FAULT = "--stub-fault"
SEED = "--conformance-seed"
CHECK_TIMEOUT = "--check-timeout"
RUN_BUDGET = "--run-budget"
COMPARE = "--compare"
HYPOTHESIS_SEED = "--hypothesis-seed"
EXAMPLES = "--examples"
FUZZ_SECONDS = "--fuzz-seconds"

ENV_API_KEY = "CONFORMANCE_API_KEY"
ENV_TARGET = "CONFORMANCE_TARGET"
STUB_KEY = "test-key"
STUB_BODY_LIMIT = 1 << 20
SUITE_SUFFIX = ".suite"
RESULT_PROPERTY = "conformance_result"
MODEL_PROPERTY = "model"
_IMPORTED = [time.perf_counter()]  # the run budget counts from here (once per process; see ConformanceState)
ABORT_PROPERTY = "conformance_abort"  # why the run could not go on (exit 2), on the item that saw it
DEFAULT_RUN_BUDGET = 3600.0
STOP_AFTER_FAILURES = 6  # requests in a row without any HTTP response: the target is gone
WORKER_STUB_URL = "conformance_stub_url"  # xdist workerinput: the controller's stub
WORKER_SHARE_DIR = "conformance_share_dir"  # xdist workerinput: where workers share the schemathesis pass


# -- options and configuration ----------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Runs once at start-up: declare the options (each with an environment fallback where useful)."""
    g = parser.getgroup("conformance", "Anthropic Messages API conformance")
    g.addoption(TARGET, default=os.environ.get(ENV_TARGET), metavar="URL",
                help=f"base URL of the server under test (env {ENV_TARGET}); default: start the bundled stub")
    g.addoption(API_KEY, default=None, metavar="KEY", help=f"API key (env {ENV_API_KEY}); never written to any report")
    g.addoption(AUTH, default="both", choices=AUTH_CHOICES, help="credential styles to check (default: both)")
    g.addoption(MODEL, default=None, metavar="ID", help="model id (default: the first id of GET /v1/models)")
    g.addoption(PROFILE, default="anthropic", help=f"check profile: {', '.join(PROFILES)} (default anthropic)")
    g.addoption(VERSION, default="2023-06-01", help=f"anthropic-version to send: {', '.join(API_VERSIONS)}")
    g.addoption(TIMEOUT, type=float, default=30.0, metavar="S", help="read / per-event idle bound in seconds (default 30)")
    g.addoption(HEADER, action="append", default=[], metavar="NAME:VALUE", help="extra request header (repeatable)")
    g.addoption(SECRET_HEADER, action="append", default=[], metavar="NAME", help="header name to redact everywhere (repeatable)")
    g.addoption(CHECKS, action="append", default=[], metavar="GLOB", help="select checks by ID glob (repeatable)")
    g.addoption(LIST_CHECKS, action="store_true", default=False, help="print the check catalog and exit")
    g.addoption(GATE, default="must", choices=GATES, help="levels that fail the run: must (default) or should")
    g.addoption(EXPECT_FAILURES, default=None, metavar="FILE", help="YAML/JSON list of {id, reason, expires}")
    g.addoption(MAX_BODY_BYTES, type=int, default=None, metavar="N", help="the target's declared request-size limit (enables the 413 check)")
    g.addoption(INSECURE, action="store_true", default=False, help="accept an https certificate that does not verify")
    g.addoption(REPORT_DIR, default="reports", metavar="DIR",
                help="write index.html, results.json, junit.xml and summary.md here (default reports/)")
    g.addoption(STUB_FAULT, action="append", default=[], metavar="NAME", help="fault to switch on in the bundled stub (repeatable)")
    g.addoption(SEED, type=int, default=0, metavar="N", help="seed for the bundled stub and generated payloads")
    g.addoption(CHECK_TIMEOUT, type=float, default=None, metavar="S",
                help="bound on one check, all its requests included (default: 3 x the per-request bound, "
                     "which is max(4 x --timeout, 10 s))")
    g.addoption(RUN_BUDGET, type=float, default=DEFAULT_RUN_BUDGET, metavar="S",
                help=f"bound on the whole run; checks left when it is spent are errors 'not run' "
                     f"(default {DEFAULT_RUN_BUDGET:g})")
    g.addoption(COMPARE, default=None, metavar="URL2",
                help="differential mode: send the generated requests to URL2 too and report disagreements (fuzz.compare.*)")
    # --hypothesis-seed belongs to Hypothesis's own pytest plugin (always installed with us);
    # the fuzz checks read the same option, so one seed makes the whole run repeatable.
    g.addoption(EXAMPLES, type=int, default=25, metavar="N", help="generated examples per fuzz property (default 25)")
    g.addoption(FUZZ_SECONDS, type=float, default=3.0, metavar="S",
                help="time bound of each fuzz property, shrinking included (default 3)")


def _parse_headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise RunSetupError(f"{HEADER} {value!r}: expected NAME:VALUE")
        headers[name.strip()] = rest.strip()
    return headers


def _hypothesis_seed(config: pytest.Config) -> int | None:
    raw = config.getoption("hypothesis_seed", default=None)
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise RunSetupError(f"{HYPOTHESIS_SEED} {raw!r}: expected an integer") from None


class ConformanceState:
    """Per-process run state: configuration, the stub (if we started it), the context."""

    def __init__(self, config: pytest.Config) -> None:
        opt = config.getoption
        self.pytest_config = config
        self.faults: list[str] = opt(STUB_FAULT)
        self.own_stub = opt(TARGET) is None
        api_key = opt(API_KEY) or os.environ.get(ENV_API_KEY) or (STUB_KEY if self.own_stub else None)
        # the run budget counts from the plugin's import (before the other plugins load), or
        # from now for a second run in the same process
        self.started = _IMPORTED.pop() if _IMPORTED else time.perf_counter()
        self.setup_error: str | None = None  # set once the run turned out impossible (exit 2)
        total_timeout = max(4 * opt(TIMEOUT), 10.0)
        self.run_config = RunConfig(
            target=opt(TARGET) or "",
            api_key=api_key,
            auth=opt(AUTH),
            model=opt(MODEL),
            profile=opt(PROFILE),
            anthropic_version=opt(VERSION),
            timeout=opt(TIMEOUT),
            total_timeout=total_timeout,
            headers=_parse_headers(opt(HEADER)),
            secret_headers=tuple(opt(SECRET_HEADER)),
            insecure=opt(INSECURE),
            seed=opt(SEED),
            max_body_bytes=opt(MAX_BODY_BYTES),
            check_timeout=opt(CHECK_TIMEOUT) if opt(CHECK_TIMEOUT) is not None else 3 * total_timeout,
            run_budget=opt(RUN_BUDGET),
            stop_after_failures=STOP_AFTER_FAILURES,
            compare=opt(COMPARE),
            hypothesis_seed=_hypothesis_seed(config),
            examples=opt(EXAMPLES),
            fuzz_seconds=opt(FUZZ_SECONDS),
        )
        self.run_config.validate()
        if not self.own_stub:  # a malformed URL is an option error: say so before anything runs
            try:
                Target(self.run_config.target, api_key=None).close()
            except TargetError as exc:
                raise RunSetupError(str(exc)) from None
        self.patterns: list[str] = opt(CHECKS)
        self.gate: str = opt(GATE)
        self.expectations: Expectations | None = None
        if opt(EXPECT_FAILURES):
            self.expectations = Expectations.load(opt(EXPECT_FAILURES), known_ids=[c.id for c in CATALOG])
        if self.faults and not self.own_stub:
            raise RunSetupError(f"{STUB_FAULT} applies to the bundled stub only; drop it or drop {TARGET}")
        self.report_dir = Path(opt(REPORT_DIR)) if opt(REPORT_DIR) else None
        self._stub: Any = None
        self._share_dir: str | None = None
        self._ctx: RunContext | None = None
        self.results: list[dict] = []  # filled on the controller from report properties

    def context(self) -> RunContext:
        """The run context, opened (and the stub started, and the target checked) on first use."""
        if self.setup_error is not None:
            raise RunSetupError(self.setup_error)
        if self._ctx is None:
            config = self.run_config
            share = getattr(self.pytest_config, "workerinput", {}).get(WORKER_SHARE_DIR)
            if share:
                config = replace(config, share_dir=share)
                self.run_config = config
            if self.own_stub:
                # The stub declares its request-size limit, so the 413 check runs against it.
                limit = config.max_body_bytes or STUB_BODY_LIMIT
                config = replace(config, target=self.stub_url(), max_body_bytes=limit)
                self.run_config = config
            try:
                ctx = RunContext.open(config, started=self.started)
                try:
                    preflight(ctx)
                except BaseException:
                    ctx.close()
                    raise
            except RunSetupError as exc:
                self.setup_error = str(exc)
                raise
            self._ctx = ctx
        return self._ctx

    def stub_url(self) -> str:
        """The bundled stub's base URL: an xdist worker uses the controller's; otherwise the
        stub is started here, once (RunSetupError when it cannot start)."""
        given = getattr(self.pytest_config, "workerinput", {}).get(WORKER_STUB_URL)
        if given:
            return given
        if self._stub is None:
            from conformance.stub.server import StubProcess, StubStartError

            c = self.run_config
            stub = StubProcess(api_keys=[c.api_key or STUB_KEY], faults=self.faults, seed=c.seed,
                               max_body_bytes=c.max_body_bytes or STUB_BODY_LIMIT)
            try:
                stub.__enter__()
            except StubStartError as exc:
                raise RunSetupError(f"the bundled stub did not start: {exc}") from None
            self._stub = stub
        return self._stub.base_url

    def share_dir(self) -> str:
        """On the xdist controller: a directory of this run's own, where its workers share the
        parts of the schemathesis pass; removed when the run ends."""
        if self._share_dir is None:
            self._share_dir = tempfile.mkdtemp(prefix="conformance-run-")
        return self._share_dir

    @property
    def secrets(self) -> frozenset[str]:
        """The strings never to show, also before (or without) a run context."""
        if self._ctx is not None:
            return self._ctx.secrets
        c = self.run_config
        names = {n.lower() for n in c.secret_headers} | {"authorization", "x-api-key", "proxy-authorization"}
        values = {v.split(None, 1)[-1] for n, v in c.headers.items() if n.lower() in names and v.strip()}
        return frozenset(({c.api_key} if c.api_key else set()) | values)

    def describe_target(self) -> str:
        return "the bundled stub" + (f" with faults {', '.join(self.faults)}" if self.faults else "") if self.own_stub else self.run_config.target

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
        if self._stub is not None:
            self._stub.__exit__(None, None, None)
            self._stub = None
        if self._share_dir is not None:
            shutil.rmtree(self._share_dir, ignore_errors=True)
            self._share_dir = None


_STATE = pytest.StashKey[ConformanceState]()


def redact_text(text: str, secrets: frozenset[str]) -> str:
    return Redactor(secrets).text(text)


def _setup_error(message: str) -> None:
    # One line, exit 2: the run could not happen (bad options, unreachable target).
    pytest.exit(f"conformance: error: {message}", returncode=2)


def _error_line(message: str, secrets: frozenset[str] = frozenset()) -> int:
    """Write the one line saying why the run cannot happen; the exit code for it (2)."""
    sys.stderr.write(redact_text(f"conformance: error: {message}", secrets) + "\n")
    sys.stderr.flush()
    return 2


def _make_state(config: pytest.Config) -> ConformanceState:
    load_catalog()
    state = ConformanceState(config)
    unmatched = CATALOG.unmatched(state.patterns)
    if unmatched:
        raise RunSetupError(f"{CHECKS} {', '.join(unmatched)}: matches no check ID (see {LIST_CHECKS})")
    return state


def pytest_configure(config: pytest.Config) -> None:
    """Runs after option parsing: validate options into run state, register the marker."""
    config.addinivalue_line("markers", "conformance_check(id): a catalog check item")
    if _STATE in config.stash:  # made (and validated) by pytest_cmdline_main
        return
    try:
        state = _make_state(config)
    except RunSetupError as exc:
        _setup_error(str(exc))
        return
    config.stash[_STATE] = state


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Runs before the session: validate the options (a bad one is one line on stderr, exit 2);
    handles ``--list-checks`` before any collection, like ``--fixtures`` does."""
    try:
        config.stash[_STATE] = _make_state(config)
    except RunSetupError as exc:
        return _error_line(str(exc))
    if config.getoption(LIST_CHECKS, default=False):
        load_catalog()
        state = config.stash.get(_STATE, None)
        patterns = state.patterns if state else []
        profile = state.run_config.profile if state else None
        for c in CATALOG.select(profile=profile, patterns=patterns):
            cap = f" [{c.capability}]" if c.capability else ""
            print(f"{c.id:55} {c.level.value:6} {c.ref:32} {c.requirement}{cap}")
        return 0
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    """Runs at the very end: stop the stub we started."""
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


# -- collection -------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A ``*.suite`` file (``conformance/suite/catalog.suite``) expands into one item per check."""
    if file_path.suffix == SUITE_SUFFIX:
        return SuiteFile.from_parent(parent, path=file_path)
    return None


class SuiteFile(pytest.File):
    def collect(self) -> Iterator["CheckItem"]:
        state = self.config.stash[_STATE]
        for entry in CATALOG.select(profile=state.run_config.profile, patterns=state.patterns):
            yield CheckItem.from_parent(self, name=entry.id, check=entry)


class CheckFailure(Exception):
    """A check did not hold; carries the result for a readable failure report."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.outcome.message)
        self.result = result


# Seconds a share group takes in a default run against the stub (reports/results.json, summed
# per group); every other group takes well under one. The xdist scheduler starts the longest first.
GROUP_SECONDS = {"fuzz.schemathesis": 9.7, "sdk": 3.3, "fuzz.invalid": 0.3, "fuzz.valid": 0.3}
# The schemathesis checks that form a second group, scheduled last: its worker then computes
# the parts of the pass the first group's worker has not claimed yet (generated._Parts)
SCHEMATHESIS_LATE = frozenset({"fuzz.schemathesis.negative-data-rejection", "fuzz.schemathesis.positive-data-acceptance",
                               "fuzz.schemathesis.ignored-auth"})


def share_group(check_id: str) -> str:
    """The checks that share per-process state (probes, the SDK import, a fuzz property's
    answer cache) form one group, which xdist runs on one worker: the state is then built once
    per run instead of once per worker. The schemathesis checks are two groups that share the
    pass's parts through a directory of the run instead (:func:`generated._shared_pass`)."""
    if check_id in SCHEMATHESIS_LATE:
        return "fuzz.schemathesis.late"
    family, _, rest = check_id.partition(".")
    if family == "fuzz":
        return "fuzz." + rest.partition(".")[0]
    return {"models": "capabilities", "count-tokens": "capabilities"}.get(family, family)


class CheckItem(pytest.Item):
    def __init__(self, *, check: Check, **kw: Any) -> None:
        super().__init__(**kw)
        self.check = check
        self.add_marker(pytest.mark.conformance_check(check.id))
        self.user_properties.extend([("level", check.level.value), ("ref", check.ref)])

    def runtest(self) -> None:
        state = self.config.stash[_STATE]
        try:
            ctx = state.context()
        except RunSetupError as exc:
            # The run cannot happen: every check is "not run" (fast), and the run exits 2.
            self.user_properties.append((ABORT_PROPERTY, str(exc)))
            result = Result(self.check, Outcome(Verdict.ERROR, f"not run: {exc}"), 0.0)
            self.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_dict(), ensure_ascii=False)))
            raise CheckFailure(result) from None
        result = run_check(ctx, self.check, state.expectations)
        if ctx.target_dead:
            self.user_properties.append((ABORT_PROPERTY, ctx.stop_reason() or "target stopped answering"))
        self.user_properties.append(("verdict", result.verdict.value))
        self.user_properties.append((MODEL_PROPERTY, ctx.model))
        self.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_dict(), ensure_ascii=False)))
        verdict = result.verdict
        if verdict in (Verdict.FAILED, Verdict.ERROR):
            raise CheckFailure(result)
        if verdict is Verdict.XFAIL:
            pytest.xfail(redact_text(result.outcome.message, ctx.secrets))
        if verdict in (Verdict.SKIPPED, Verdict.UNSUPPORTED, Verdict.INCONCLUSIVE):
            # Not a pass: shown as a skip that names the check, never counted by the gate as passed.
            raise pytest.skip.Exception(
                f"{self.check.id}: {verdict.value}: {redact_text(result.outcome.message, ctx.secrets)}",
                _use_item_location=True,
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailure):
            r = excinfo.value.result
            secrets = self.config.stash[_STATE].secrets
            lines = [f"{r.check.id} [{r.check.level.value}] {r.verdict.value}: {r.outcome.message}",
                     f"requirement: {r.check.requirement} ({r.check.ref})"]
            for ev in r.evidence[:3]:
                req = ev.get("request", {})
                lines.append(f"  $ {req.get('curl', '')}")
                lines.append(f"  -> {ev.get('status')} {ev.get('transport_error') or ''}".rstrip())
            return redact_text("\n".join(lines), secrets)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"check {self.check.id}"


# -- distribution (pytest-xdist, when installed) ----------------------------------------------


def _is_conformance_run(config: pytest.Config) -> bool:
    """Whether the run's arguments name the suites (``conformance/suite`` or a ``.suite`` file),
    as opposed to, say, the self-tests; the xdist controller collects nothing to tell by."""
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        if path.suffix == SUITE_SUFFIX or (path.is_dir() and any(path.glob("*" + SUITE_SUFFIX))):
            return True
    return False


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Runs on the xdist controller as each worker is set up: the bundled stub is started once,
    here, and every worker is handed its URL (one stub per run, not one per worker), and the
    directory where the workers share the schemathesis pass."""
    config = node.config
    state = config.stash.get(_STATE, None)
    if state is None or not _is_conformance_run(config):
        return
    node.workerinput[WORKER_SHARE_DIR] = state.share_dir()
    if not state.own_stub or state.setup_error is not None:
        return
    try:
        node.workerinput[WORKER_STUB_URL] = state.stub_url()
    except RunSetupError as exc:
        state.setup_error = str(exc)  # pytest_runtestloop says it in one line, exit 2


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Runs on the xdist controller: a conformance run under ``-n`` (xdist's ``load`` or
    ``loadgroup`` distribution) sends all checks of one :func:`share_group` to one worker, so
    shared state is built once per run. Any other ``--dist`` choice stands."""
    if config.getvalue("dist") not in ("load", "loadgroup") or not _is_conformance_run(config):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ShareGroupScheduling(LoadScopeScheduling):
        # xdist's own schedulers (loadfile, loadgroup) differ from loadscope by this one
        # method; loadgroup's ``@group`` node-id suffix is lost on pytest 9.2, so the scope
        # comes from the check ID itself
        def _split_scope(self, nodeid: str) -> str:
            return share_group(nodeid.rpartition("::")[2].partition("@")[0])

        def _assign_work_unit(self, node: Any) -> None:
            if not getattr(self, "_longest_first", False):
                # longest group first (xdist orders groups by their number of checks): one
                # worker starts the schemathesis pass at once, another the SDK checks, and the
                # quick groups fill in behind them
                self._longest_first = True
                for scope in sorted(self.workqueue, key=lambda s: -GROUP_SECONDS.get(s, 0.0)):
                    self.workqueue.move_to_end(scope)
            super()._assign_work_unit(node)

    return ShareGroupScheduling(config, log)


# -- reporting --------------------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Runs before collection output: name target, profile, API version, model and seed.

    In a conformance run the target is reached here (the preflight), so the header names the
    model actually used; if it cannot be reached, pytest_runtestloop says why in one line."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return None
    model = state.run_config.model
    if (model is None and not config.option.collectonly and not hasattr(config, "workerinput")
            and _is_conformance_run(config)):
        try:
            model = state.context().model
        except RunSetupError:
            model = None
    c = state.run_config
    return [
        f"conformance: target {state.describe_target()}, profile {c.profile}, "
        f"anthropic-version {c.anthropic_version}, model {model or '(first from GET /v1/models: not reached)'}, "
        f"seed {c.seed}, gate {state.gate}"
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Runs on the controller for every report (also xdist workers' ones): collect results.

    The result travels as a JSON user property; it is dropped from the teardown report, before
    pytest's junitxml reads that one, so a ``--junitxml`` file carries level/ref/verdict only.
    """
    if report.when == "teardown":
        report.user_properties = [(n, v) for n, v in report.user_properties if n != RESULT_PROPERTY]
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for name, value in report.user_properties:
        if name == RESULT_PROPERTY:
            _results_sink.append(json.loads(value))
        elif name == MODEL_PROPERTY:
            _run_info.setdefault("model", value)  # workers resolve the model; the controller may not
        elif name == ABORT_PROPERTY and value not in _abort_sink:
            _abort_sink.append(value)


_results_sink: list[dict] = []
_run_info: dict[str, str] = {}
_abort_sink: list[str] = []  # why the run could not go on (each reason once)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """Before any check runs: reach the target (preflight) once, so an unreachable target,
    a refused key or a bad answer to ``GET /v1/models`` is one line on stderr and exit 2
    instead of a failure per check. Under xdist the controller does this too (each worker
    still opens its own context, on the controller's stub when the run uses the bundled one)."""
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None or hasattr(config, "workerinput") or config.option.collectonly:
        return None
    if config.pluginmanager.getplugin("dsession") is not None:
        if not _is_conformance_run(config):
            return None
    elif not any(isinstance(item, CheckItem) for item in session.items):
        return None  # not a conformance run (e.g. the self-tests)
    try:
        state.context()
    except RunSetupError as exc:
        _error_line(str(exc), state.secrets)
        return True  # no item runs; pytest_sessionfinish makes the exit code 2
    return None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Runs after all items: write results.json and let the gate decide the exit code."""
    state = session.config.stash.get(_STATE, None)
    if state is None or hasattr(session.config, "workerinput"):
        return
    # catalog order, whatever order xdist workers finished in (reports and results.json are stable)
    order = {c.id: i for i, c in enumerate(CATALOG)}
    state.results = sorted(_results_sink, key=lambda r: order.get(r["id"], len(order)))
    _results_sink.clear()
    state.aborts = list(_abort_sink)
    _abort_sink.clear()
    if state.setup_error is not None and not state.results:
        session.exitstatus = 2  # preflight failed: the line is on stderr already
        return
    if not state.results:
        return  # not a conformance run (e.g. the self-tests); pytest's own status stands
    code, line = gate_verdict(state.results, state.gate)
    state.gate_line = line
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = code
    if state.aborts:  # the target stopped answering (or could not be reached by a worker)
        session.exitstatus = 2
        _error_line(state.aborts[0], state.secrets)
    model = state._ctx.model if state._ctx is not None else _run_info.get("model", state.run_config.model)
    _run_info.clear()
    # the bundled stub listens on a port per process: name it (and its faults) instead
    run_config = replace(state.run_config, target=state.describe_target()) if state.own_stub else state.run_config
    state.document = results_document(state.results, run_config, model, state.gate)
    if state.report_dir is not None:
        from conformance.report import write_reports

        secrets = state.secrets
        try:
            state.report_files = write_reports(state.document, state.report_dir, secrets)
        except OSError as exc:
            state.report_error = f"cannot write reports to {state.report_dir}: {exc.strerror or exc}"
            session.exitstatus = 2


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Runs last: a summary per family, the failing checks, where reports went, the gate."""
    state = config.stash.get(_STATE, None)
    if state is None or not state.results:
        return
    tr = terminalreporter
    tr.section("conformance")
    from conformance.report.terminal import summary_lines

    secrets = state.secrets
    doc = getattr(state, "document", None) or results_document(state.results, state.run_config, None, state.gate)
    for line, markup in summary_lines(doc, report_files=getattr(state, "report_files", ())):
        tr.write_line(redact_text(line, secrets), **markup)
    if getattr(state, "report_error", None):
        tr.write_line(f"conformance: error: {state.report_error}", red=True)
    budget = [r for r in state.results if r["verdict"] == Verdict.ERROR.value
              and r["message"].startswith(("not run: run budget", "not finished: run budget"))]
    if budget:
        tr.write_line(f"conformance: run budget of {state.run_config.run_budget:g} s spent: {len(budget)} check(s) "
                      f"not run or not finished (errors); raise {RUN_BUDGET} or lower {TIMEOUT}", red=True)
    for reason in getattr(state, "aborts", ()):
        tr.write_line(redact_text(f"conformance: error: {reason}", secrets), red=True)
    tr.write_line(getattr(state, "gate_line", ""), bold=True)
