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
from typing import TYPE_CHECKING, Any, Iterator, cast

import pytest

from conformance._catalog import CATALOG, Check, Outcome, Verdict
from conformance._config import RunConfig, RunSetupError
from conformance._gate import ExpectedFailures, gate_verdict
from conformance._options import BY_NAME, ENV_API_KEY, STUB_TRIGGERS, SUITE_SUFFIX, getoption
from conformance._redact import Redactor
from conformance._run import Result, RunContext, preflight, results_document, run_check
from conformance._target import Target, TargetError
from conformance.checks import load_catalog

if TYPE_CHECKING:  # pragma: no cover
    from _pytest._code.code import TerminalRepr


def _flag(name: str) -> str:
    return BY_NAME[name].flag


# Option names as messages spell them (the short form; see conformance.pytest_plugin)
TARGET, API_KEY, TIMEOUT, HEADER = _flag("target"), _flag("api-key"), _flag("timeout"), _flag("header")
CHECKS, LIST_CHECKS, STUB_FAULT, RUN_BUDGET = (
    _flag("checks"),
    _flag("list-checks"),
    _flag("stub-fault"),
    _flag("run-budget"),
)
HYPOTHESIS_SEED = "--hypothesis-seed"

STUB_KEY = "test-key"
STUB_BODY_LIMIT = 1 << 20
RESULT_PROPERTY = "conformance_result"
MODEL_PROPERTY = "model"
ABORT_PROPERTY = "conformance_abort"  # why the run could not go on (exit 2), on the item that saw it
STOP_AFTER_FAILURES = 6  # requests in a row without any HTTP response: the target is gone
WORKER_STUB_URL = "conformance_stub_url"  # xdist workerinput: the controller's stub
WORKER_SHARE_DIR = "conformance_share_dir"  # xdist workerinput: where workers share the schemathesis pass


# -- options and configuration ----------------------------------------------------------------


def _parse_headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise RunSetupError(f"{HEADER} {value!r}: expected NAME:VALUE")
        headers[name.strip()] = rest.strip()
    return headers


def _parse_triggers(values: list[str], own_stub: bool) -> dict[str, str]:
    """``STATE=MODEL`` values; the bundled stub's own triggers when the run starts it."""
    triggers = dict(STUB_TRIGGERS) if own_stub else {}
    for value in values:
        state, sep, model = value.partition("=")
        if not sep:
            raise RunSetupError(f"--trigger {value!r}: expected STATE=MODEL")
        triggers[state.strip()] = model.strip()
    return triggers


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

    def __init__(self, config: pytest.Config, loaded_at: float | None = None) -> None:
        def opt(name: str) -> Any:
            return getoption(config, name)

        self.pytest_config = config
        self.faults: list[str] = opt("stub-fault")
        self.own_stub = opt("target") is None
        api_key = opt("api-key") or os.environ.get(ENV_API_KEY) or (STUB_KEY if self.own_stub else None)
        # the run budget counts from the entry point's import (before the other plugins load),
        # or from now (a second run in the same process)
        self.started = time.perf_counter() if loaded_at is None else loaded_at
        self.setup_error: str | None = None  # set once the run turned out impossible (exit 2)
        total_timeout = max(4 * opt("timeout"), 10.0)
        self.run_config = RunConfig(
            target=opt("target") or "",
            api_key=api_key,
            auth=opt("auth"),
            model=opt("model"),
            profile=opt("profile"),
            anthropic_version=opt("anthropic-version"),
            timeout=opt("timeout"),
            total_timeout=total_timeout,
            headers=_parse_headers(opt("header")),
            triggers=_parse_triggers(opt("trigger"), self.own_stub),
            secret_headers=tuple(opt("secret-header")),
            insecure=opt("insecure"),
            seed=opt("seed"),
            max_body_bytes=opt("max-body-bytes"),
            check_timeout=opt("check-timeout") if opt("check-timeout") is not None else 3 * total_timeout,
            run_budget=opt("run-budget"),
            stop_after_failures=STOP_AFTER_FAILURES,
            compare=opt("compare"),
            hypothesis_seed=_hypothesis_seed(config),
            examples=opt("examples"),
            fuzz_seconds=opt("fuzz-seconds"),
            # the bundled stub declares its own binding, as it declares its triggers
            receipt_binding=opt("receipt-binding") or ("stub-text" if self.own_stub else "none"),
        )
        self.run_config.validate()
        if not self.own_stub:  # a malformed URL is an option error: say so before anything runs
            try:
                Target(self.run_config.target, api_key=None).close()
            except TargetError as exc:
                raise RunSetupError(str(exc)) from None
        self.patterns: list[str] = opt("checks")
        self.gate: str = opt("gate")
        self.expectations: ExpectedFailures | None = None
        if opt("expect-failures"):
            self.expectations = ExpectedFailures.load(opt("expect-failures"), known_ids=[c.id for c in CATALOG])
        if self.faults and not self.own_stub:
            raise RunSetupError(f"{STUB_FAULT} applies to the bundled stub only; drop it or drop {TARGET}")
        self.report_dir = Path(opt("report-dir")) if opt("report-dir") else None
        self._stub: Any = None
        self._share_dir: str | None = None
        self._ctx: RunContext | None = None
        # filled on the controller from the items' reports (xdist workers' ones included)
        self.results: list[dict] = []
        self.model_seen: str | None = None  # workers resolve the model; the controller may not
        self.aborts: list[str] = []  # why the run could not go on (each reason once)
        self.other_failed = False  # a test of the session that is not a check failed
        # set at the end of the session
        self.gate_line = ""
        self.document: dict | None = None
        self.report_files: list[Path] = []
        self.report_error: str | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Runs on the controller for every report (also xdist workers' ones): collect results.

        The result travels as a JSON user property; it is dropped from the teardown report,
        before pytest's junitxml reads that one, so a ``--junitxml`` file carries
        level/ref/verdict only. A failed test that is not a check (a provider's own tests in
        the same session) is remembered: the gate must not turn it into a pass."""
        if report.when == "teardown":
            report.user_properties = [(n, v) for n, v in report.user_properties if n != RESULT_PROPERTY]
        if report.failed and SUITE_SUFFIX + "::" not in report.nodeid:
            self.other_failed = True
        if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
            return
        for name, value in report.user_properties:
            # every property this plugin sets has a str value (see CheckItem.runtest)
            if name == RESULT_PROPERTY:
                self.results.append(json.loads(cast(str, value)))
            elif name == MODEL_PROPERTY:
                self.model_seen = self.model_seen or cast(str, value)
            elif name == ABORT_PROPERTY and value not in self.aborts:
                self.aborts.append(cast(str, value))

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
            stub = StubProcess(
                api_keys=[c.api_key or STUB_KEY],
                faults=self.faults,
                seed=c.seed,
                max_body_bytes=c.max_body_bytes or STUB_BODY_LIMIT,
                darkbloom=c.profile == "darkbloom",  # the darkbloom profile's reference target
            )
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
        return (
            "the bundled stub" + (f" with faults {', '.join(self.faults)}" if self.faults else "")
            if self.own_stub
            else self.run_config.target
        )

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


def run_state(config: pytest.Config) -> ConformanceState | None:
    """The run state of a session in which a conformance run was asked for (else None)."""
    return config.stash.get(_STATE, None)


def redact_text(text: str, secrets: frozenset[str]) -> str:
    return Redactor(secrets).text(text)


def _error_line(message: str, secrets: frozenset[str] = frozenset()) -> int:
    """Write the one line saying why the run cannot happen; the exit code for it (2)."""
    sys.stderr.write(redact_text(f"conformance: error: {message}", secrets) + "\n")
    sys.stderr.flush()
    return 2


def _make_state(config: pytest.Config, loaded_at: float | None) -> ConformanceState:
    load_catalog()
    state = ConformanceState(config, loaded_at)
    unmatched = CATALOG.unmatched(state.patterns)
    if unmatched:
        raise RunSetupError(f"{CHECKS} {', '.join(unmatched)}: matches no check ID (see {LIST_CHECKS})")
    return state


def pytest_configure(config: pytest.Config) -> None:
    """Runs after option parsing: register the marker (the run state is made by :func:`start`)."""
    config.addinivalue_line("markers", "conformance_check(id): a catalog check item")


def start(config: pytest.Config, loaded_at: float | None = None) -> int | None:
    """Called by the entry point (:mod:`conformance.pytest_plugin`) before the session, once
    this plugin is registered: validate the options (a bad one is one line on stderr, exit 2);
    handle ``--list-checks`` before any collection, like ``--fixtures`` does."""
    try:
        state = config.stash[_STATE] = _make_state(config, loaded_at)
    except RunSetupError as exc:
        return _error_line(str(exc))
    config.pluginmanager.register(state, "conformance-state")
    if getoption(config, "list-checks"):
        for c in CATALOG.select(profile=state.run_config.profile, patterns=state.patterns):
            cap = f" [{c.capability}]" if c.capability else ""
            print(f"{c.id:55} {c.level.value:6} {c.ref:32} {c.requirement}{cap}")
        return 0
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    """Runs at the very end: stop the stub we started."""
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()
        if config.pluginmanager.is_registered(state):
            config.pluginmanager.unregister(state)


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
# the parts of the pass the first group's worker has not claimed yet (conformance._share)
SCHEMATHESIS_LATE = frozenset(
    {
        "fuzz.schemathesis.negative-data-rejection",
        "fuzz.schemathesis.positive-data-acceptance",
        "fuzz.schemathesis.ignored-auth",
    }
)


def share_group(check_id: str) -> str:
    """The checks that share per-process state (probes, the SDK import, a fuzz property's
    answer cache) form one group, which xdist runs on one worker: the state is then built once
    per run instead of once per worker. The schemathesis checks are two groups that share the
    pass's parts through a directory of the run instead (:mod:`conformance._share`)."""
    if check_id in SCHEMATHESIS_LATE:
        return "fuzz.schemathesis.late"
    family, _, rest = check_id.partition(".")
    if family == "fuzz":
        return "fuzz." + rest.partition(".")[0]
    return {"models": "endpoints", "count-tokens": "endpoints"}.get(family, family)


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
        if verdict is Verdict.BLOCKED:
            # not judged: a skip naming the check that reports the missing precondition (the
            # folded view, at the end of the session, files it under that root)
            raise pytest.skip.Exception(
                f"{self.check.id}: blocked by {' or '.join(result.outcome.blocked_by)}: "
                f"{redact_text(result.outcome.message, ctx.secrets)}",
                _use_item_location=True,
            )
        if verdict in (Verdict.SKIPPED, Verdict.UNSUPPORTED, Verdict.INCONCLUSIVE):
            # Not a pass: shown as a skip that names the check, never counted by the gate as passed.
            raise pytest.skip.Exception(
                f"{self.check.id}: {verdict.value}: {redact_text(result.outcome.message, ctx.secrets)}",
                _use_item_location=True,
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, CheckFailure):
            r = excinfo.value.result
            secrets = self.config.stash[_STATE].secrets
            lines = [
                f"{r.check.id} [{r.check.level.value}] {r.verdict.value}: {r.outcome.message}",
                f"requirement: {r.check.requirement} ({r.check.ref})",
            ]
            for ev in r.evidence[:3]:
                req = ev.get("request", {})
                lines.append(f"  $ {req.get('curl', '')}")
                lines.append(f"  -> {ev.get('status')} {ev.get('transport_error') or ''}".rstrip())
            return redact_text("\n".join(lines), secrets)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"check {self.check.id}"


# -- distribution (pytest-xdist, when installed) ----------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Runs on the xdist controller as each worker is set up: the bundled stub is started once,
    here, and every worker is handed its URL (one stub per run, not one per worker), and the
    directory where the workers share the schemathesis pass."""
    config = node.config
    state = config.stash.get(_STATE, None)
    if state is None:
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
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ShareGroupScheduling(LoadScopeScheduling):
        # xdist's own schedulers (loadfile, loadgroup) differ from loadscope by this one
        # method; loadgroup's ``@group`` node-id suffix is lost on pytest 9.2, so the scope
        # comes from the check ID itself
        def _split_scope(self, nodeid: str) -> str:
            if SUITE_SUFFIX + "::" not in nodeid:
                return nodeid  # a test of the session that is not a check: its own unit, as in load
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
    if model is None and not config.option.collectonly and not hasattr(config, "workerinput"):
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
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """Before any check runs: reach the target (preflight) once, so an unreachable target,
    a refused key or a bad answer to ``GET /v1/models`` is one line on stderr and exit 2
    instead of a failure per check. Under xdist the controller does this too (each worker
    still opens its own context, on the controller's stub when the run uses the bundled one)."""
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None or hasattr(config, "workerinput") or config.option.collectonly:
        return None
    if config.pluginmanager.getplugin("dsession") is None and not any(isinstance(i, CheckItem) for i in session.items):
        return None  # every check deselected (-k): nothing to reach the target for
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
    state.results.sort(key=lambda r: order.get(r["id"], len(order)))
    if state.setup_error is not None and not state.results:
        session.exitstatus = 2  # preflight failed: the line is on stderr already
        return
    if not state.results:
        return  # not a conformance run (e.g. the self-tests); pytest's own status stands
    code, line = gate_verdict(state.results, state.gate)
    state.gate_line = line
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # the gate decides for the checks; the session's other tests still fail it
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if state.other_failed and code in (0, 5) else code
    if state.aborts:  # the target stopped answering (or could not be reached by a worker)
        session.exitstatus = 2
        _error_line(state.aborts[0], state.secrets)
    model = state._ctx.model if state._ctx is not None else (state.model_seen or state.run_config.model)
    # the bundled stub listens on a port per process: name it (and its faults) instead
    run_config = replace(state.run_config, target=state.describe_target()) if state.own_stub else state.run_config
    state.document = results_document(state.results, run_config, model, state.gate)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        _refile(reporter.stats, state.document["results"], state.secrets)
    if state.report_dir is not None:
        from conformance.report import write_reports

        secrets = state.secrets
        try:
            state.report_files = write_reports(state.document, state.report_dir, secrets)
        except OSError as exc:
            state.report_error = f"cannot write reports to {state.report_dir}: {exc.strerror or exc}"
            session.exitstatus = 2


def _refile(stats: dict[str, list[Any]], rows: list[dict], secrets: frozenset[str]) -> None:
    """File each check's test report under its folded verdict, so that pytest's own counts
    ("2 failed, 9 folded, 3 blocked, …") and failure list agree with the gate: a failure
    folded under its root leaves "failed"; a blocked check whose precondition no failed check
    reports is a failure of its own."""
    view = {r["id"]: r for r in rows}
    for category in ("failed", "skipped"):
        keep = []
        for rep in stats.get(category, []):
            check_id = getattr(rep, "nodeid", "").rpartition("::")[2]
            row = view.get(check_id) if SUITE_SUFFIX + "::" in getattr(rep, "nodeid", "") else None
            verdict = row["verdict"] if row is not None and getattr(rep, "when", None) == "call" else None
            if verdict in ("folded", "blocked") and category == "failed" or verdict == "blocked":
                stats.setdefault(verdict, []).append(rep)
            elif row is not None and verdict == "failed" and category == "skipped":  # blocked by nothing failed
                rep.outcome = "failed"
                rep.longrepr = redact_text(
                    f"{check_id} [{row['level']}] failed: {row['message']} (the checks of its "
                    f"precondition, {', '.join(row.get('blocked_by') or ['none'])}, did not fail)",
                    secrets,
                )
                stats.setdefault("failed", []).append(rep)
            else:
                keep.append(rep)
        if category in stats:
            stats[category] = keep


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Runs last: a summary per family, the failing checks, where reports went, the gate."""
    state = config.stash.get(_STATE, None)
    if state is None or not state.results:
        return
    tr = terminalreporter
    tr.section("conformance")
    from conformance.report.terminal import summary_lines

    secrets = state.secrets
    doc = state.document or results_document(state.results, state.run_config, None, state.gate)
    for line, markup in summary_lines(doc, report_files=state.report_files):
        tr.write_line(redact_text(line, secrets), **markup)
    if state.report_error:
        tr.write_line(f"conformance: error: {state.report_error}", red=True)
    budget = [
        r
        for r in state.results
        if r["verdict"] == Verdict.ERROR.value
        and r["message"].startswith(("not run: run budget", "not finished: run budget"))
    ]
    if budget:
        tr.write_line(
            f"conformance: run budget of {state.run_config.run_budget:g} s spent: {len(budget)} check(s) "
            f"not run or not finished (errors); raise {RUN_BUDGET} or lower {TIMEOUT}",
            red=True,
        )
    for reason in state.aborts:
        tr.write_line(redact_text(f"conformance: error: {reason}", secrets), red=True)
    tr.write_line(state.gate_line, bold=True)
