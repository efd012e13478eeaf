"""The ``conformance`` command. Subcommands: ``stub`` (serve the reference stub), ``run``
(the conformance suites, with the pytest plugin's options), ``report`` (``merge`` results
files into a matrix, ``diff`` two runs, ``render`` a stored run), ``fleet`` (many targets ×
axes as runs spread over Dask, one matrix; ``conformance.fleet``), ``clients`` (``install`` the
pinned Node clients the ``clients.*`` checks run, or show their ``status``).

Each subcommand registers itself with :func:`_add_stub` style helpers on the argparse
subparsers, so ``run`` and ``report`` can be added beside it. Exit codes follow pytest's
``ExitCode``: 0 ok, 4 usage error (bad option, unknown fault, port unusable); ``report`` exits
2 for an unusable input file and ``report diff`` 1 on a regression.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import NoReturn, Sequence

EXIT_OK = 0
EXIT_USAGE = 4  # pytest.ExitCode.USAGE_ERROR
EXIT_INPUT = 2  # an input file that cannot be used (missing, not JSON, not a results file)

_STUB_EPILOG = """\
deliberate failures (accepted, never listed by /v1/models):
  model stub-error-mid-stream or header x-stub-fail: mid-stream
      stream: message_start, one delta, then event: error (overloaded_error); JSON: 529
  model stub-rate-limited or x-stub-fail: 429   429 rate_limit_error, retry-after: 1
  model stub-overloaded or x-stub-fail: 529     529 overloaded_error, retry-after: 1
  x-stub-fail: 500                               500 api_error

deterministic answers (see conformance/stub/generate.py):
  "repeat: TEXT" -> TEXT;  "count from A to B" -> "A A+1 ... B";  else 20-40 vocabulary words.
  one token = one whitespace-delimited word; count_tokens == usage.input_tokens.
  tools are called only when tool_choice forces one (any, tool): under auto or none the answer
  is text with end_turn, so an agent's loop ends; --script FILE scripts tool calls and more.

faults: --list-faults prints them; --fault NAME may be repeated.
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and the usage exit code (no traceback, no usage dump)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} out of range 0-65535")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text}")
    return value


def _add_stub(subparsers: "argparse._SubParsersAction[_Parser]") -> None:
    parser = subparsers.add_parser(
        "stub",
        help="serve the reference stub of the Messages API",
        description="Serve a deterministic Anthropic Messages API stub; prints its base URL as the first stdout line.",
        epilog=_STUB_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=_port, default=None, help="TCP port (0 = pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--api-key", action="append", default=[], metavar="KEY", help="accepted key (repeatable; default test-key)"
    )
    parser.add_argument("--fault", action="append", default=[], metavar="NAME", help="switch a fault on (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="seed for generated text and ids (default 0)")
    parser.add_argument(
        "--models", metavar="FILE", help="JSON list of model ids or ModelInfo objects (replaces the catalog)"
    )
    parser.add_argument(
        "--max-body-bytes", type=_positive, default=None, metavar="N", help="request size limit (default 32 MB)"
    )
    parser.add_argument(
        "--latency",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="wait S seconds before answering each API request, as a remote target's round trip (default 0)",
    )
    parser.add_argument(
        "--script",
        metavar="FILE",
        help="answer by the rules of a YAML/JSON script (tool calls, thinking, errors, delays; "
        "format: schemas/data/stub-script.schema.json, conformance/stub/script.py)",
    )
    parser.add_argument(
        "--darkbloom",
        action="store_true",
        help="serve Darkbloom's attestation evidence too: provider roster, coordinator key, provider headers, "
        "signed receipts, sealed transport (a fresh P-256 and X25519 key per start)",
    )
    parser.add_argument(
        "--list-faults", action="store_true", help="print every fault (name, kind, description) and exit"
    )
    parser.set_defaults(handler=_run_stub)


def _run_stub(args: argparse.Namespace) -> int:
    from .stub.app import DEFAULT_MAX_BODY_BYTES
    from .stub.catalog import CatalogError
    from .stub.faults import UnknownFault, catalog_lines
    from .stub.script import ScriptError
    from .stub.server import bind_socket, make_config, serve_forever

    if args.list_faults:
        print("\n".join(catalog_lines()))
        return EXIT_OK
    if args.port is None:
        return _usage("stub: --port is required (use 0 for a free port)")
    try:
        config = make_config(
            api_keys=args.api_key,
            faults=args.fault,
            seed=args.seed,
            models_file=args.models,
            max_body_bytes=args.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
            latency=args.latency,
            script_file=args.script,
            darkbloom=args.darkbloom,
        )
    except (UnknownFault, CatalogError, ScriptError) as exc:
        return _usage(f"stub: {exc}")
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        return _usage(f"stub: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with the
    # handler found at start: make that handler end the process with status 0, not -15
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve_forever(config, sock, sys.stdout)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return EXIT_OK


def _add_run(subparsers: "argparse._SubParsersAction[_Parser]") -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the conformance suites against a target (default: the bundled stub)",
        description=(
            "Run the conformance suites from the installed package; every option of "
            "`pytest --target URL` applies (see `conformance run --help-options`). "
            "Reports go to --report-dir (default: reports/)."
        ),
        add_help=False,
    )
    parser.set_defaults(handler=None, passthrough=True)


def run_suites(args: Sequence[str]) -> int:
    """``conformance run ARGS``: pytest over the packaged suite, isolated from any local config."""
    from ._api import run_pytest

    argv = list(args)
    if "--help-options" in argv:
        argv = ["--help"]
    return run_pytest(argv)


def _add_report(subparsers: "argparse._SubParsersAction[_Parser]") -> None:
    parser = subparsers.add_parser(
        "report",
        help="render, merge and compare results.json files",
        description="Work with stored runs (results.json files, or report directories holding one).",
    )
    actions = parser.add_subparsers(dest="report_command", metavar="ACTION", parser_class=_Parser)
    merge = actions.add_parser(
        "merge",
        help="a matrix of checks x targets (HTML and Markdown)",
        description="Write DIR/index.html and DIR/summary.md: one row per check, one column per results file.",
    )
    merge.add_argument("results", nargs="+", metavar="RESULTS", help="results.json files or report directories")
    merge.add_argument(
        "-o", "--output", default="reports/matrix", metavar="DIR", help="output directory (default reports/matrix)"
    )
    merge.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="NAME",
        help="column name, once per RESULTS in order (default: the report directory's name)",
    )
    merge.set_defaults(handler=_report_merge)
    diff = actions.add_parser(
        "diff",
        help="regressions and fixes between two runs; exit 1 on a regression",
        description="List checks that newly fail (regressions) or newly pass (fixes) in NEW compared with BASE. "
        "Exit 0: no regression; 1: a regression; 2: an input file is unusable.",
    )
    diff.add_argument("base", metavar="BASE", help="baseline results.json (or report directory)")
    diff.add_argument("new", metavar="NEW", help="new results.json (or report directory)")
    diff.add_argument(
        "--gate",
        choices=("must", "should", "all"),
        default="all",
        help="levels whose new failures count as regressions (default all)",
    )
    diff.add_argument(
        "--format", choices=("text", "markdown", "json"), default="text", help="output format (default text)"
    )
    diff.set_defaults(handler=_report_diff)
    render = actions.add_parser(
        "render",
        help="re-render index.html, junit.xml and summary.md from a results.json",
        description="Write every report of a stored run into DIR (results.json is rewritten with the current format).",
    )
    render.add_argument("results", metavar="RESULTS", help="results.json file or report directory")
    render.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    render.set_defaults(handler=_report_render)

    def _help(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    parser.set_defaults(handler=_help)


def _report_merge(args: argparse.Namespace) -> int:
    from .report.matrix import write_matrix
    from .report.model import ReportInputError

    try:
        paths = write_matrix(args.results, args.output, args.label)
    except ReportInputError as exc:
        return _input_error(f"report merge: {exc}")
    except OSError as exc:
        return _input_error(f"report merge: cannot write {args.output}: {exc.strerror or exc}")
    print("\n".join(str(p) for p in paths))
    return EXIT_OK


def _report_diff(args: argparse.Namespace) -> int:
    from .report.diff import diff, render
    from .report.model import ReportInputError, load_results

    try:
        base, new = load_results(args.base), load_results(args.new)
    except ReportInputError as exc:
        return _input_error(f"report diff: {exc}")
    result = diff(base, new, args.gate)
    sys.stdout.write(render(result, base, new, args.format))
    return 1 if result["regressions"] else EXIT_OK


def _report_render(args: argparse.Namespace) -> int:
    from .report import write_reports
    from .report.model import ReportInputError, load_results

    try:
        doc = load_results(args.results)
        paths = write_reports({k: v for k, v in doc.items() if k not in ("format", "diagnoses")}, args.output)
    except ReportInputError as exc:
        return _input_error(f"report render: {exc}")
    except OSError as exc:
        return _input_error(f"report render: cannot write {args.output}: {exc.strerror or exc}")
    print("\n".join(str(p) for p in paths))
    return EXIT_OK


_FLEET_EPILOG = """\
exit status: 0 every cell passed its gate; 1 a cell failed its gate; otherwise 2 when a cell
could not run, or the fleet could not (one line on stderr); 4 a bad command line.

API keys: each target names the environment variable holding its key (api_key_env); the
worker that runs the cell reads it there. Keys are never in the file, a task or a result.
File format, local and cluster use: docs/fleet.md.
"""


def _add_fleet(subparsers: "argparse._SubParsersAction[_Parser]") -> None:
    parser = subparsers.add_parser(
        "fleet",
        help="run many targets x API versions x profiles over Dask; one matrix",
        description="Run every cell of FLEET (a target with one value of each axis) as its own `conformance run`, "
        "spread over a Dask cluster (default: a local one sized to the machine), and write the merged "
        "matrix (index.html, summary.md, results.json) and each cell's reports (cells/CELL/) to --output.",
        epilog=_FLEET_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("fleet", metavar="FLEET.yaml", help="the fleet file (schemas/data/fleet.schema.json)")
    parser.add_argument(
        "-o", "--output", default="reports/fleet", metavar="DIR", help="output directory (default reports/fleet)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler (tcp://HOST:8786 or tls://...); its workers need the package installed "
        "and the keys' environment variables set (default: a local cluster)",
    )
    parser.add_argument(
        "--workers", type=_positive, metavar="N", help="local cluster: worker processes (default: one per core)"
    )
    parser.add_argument(
        "--cells-per-worker",
        type=_positive,
        default=4,
        metavar="N",
        help="local cluster: cells each worker runs at once (default 4; a cell mostly waits on its target)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the cells of --output that finished with this fleet file and harness version; run the rest",
    )
    parser.add_argument(
        "--cell-grace",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="seconds a cell may run past its run budget before it is ended and reported (default 60)",
    )
    parser.add_argument(
        "--connect-timeout", type=_seconds, default=30.0, metavar="S", help="bound on reaching --scheduler (default 30)"
    )
    parser.add_argument(
        "--no-worker-timeout",
        type=_seconds,
        default=300.0,
        metavar="S",
        help="give up the cells left when the cluster has had no worker for S seconds (default 300)",
    )
    parser.add_argument("--tls-ca-file", metavar="FILE", help="Dask TLS: CA certificate (with a tls:// scheduler)")
    parser.add_argument("--tls-cert", metavar="FILE", help="Dask TLS: this client's certificate")
    parser.add_argument("--tls-key", metavar="FILE", help="Dask TLS: this client's private key")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (the per-cell lines stay)")
    parser.add_argument("--list-cells", action="store_true", help="print the cells (id and run options) and exit")
    parser.set_defaults(handler=_run_fleet)


def _run_fleet(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .fleet.runner import FleetError, FleetSettings, run_fleet
    from .fleet.spec import FleetFileError, load_fleet

    try:
        fleet = load_fleet(args.fleet)
    except FleetFileError as exc:
        return _fleet_error(str(exc))
    if args.list_cells:
        for cell in fleet.cells:
            print(f"{cell.id}  {cell.api_key_env}  {' '.join(cell.argv)}")
        return EXIT_OK
    settings = FleetSettings(
        output=Path(args.output),
        scheduler=args.scheduler,
        workers=args.workers,
        cells_per_worker=args.cells_per_worker,
        resume=args.resume,
        cell_grace=args.cell_grace,
        connect_timeout=args.connect_timeout,
        no_worker_timeout=args.no_worker_timeout,
        tls_ca_file=args.tls_ca_file,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        progress=False if args.no_progress else None,
    )
    try:
        return run_fleet(fleet, settings)
    except FleetError as exc:
        return _fleet_error(str(exc))


def _fleet_error(message: str) -> int:
    sys.stderr.write(f"conformance fleet: error: {message}\n")
    return EXIT_INPUT


def _input_error(message: str) -> int:
    sys.stderr.write(f"conformance {message}\n")
    return EXIT_INPUT


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _usage(message: str) -> int:
    sys.stderr.write(f"conformance {message}\n")
    return EXIT_USAGE


def _add_clients(subparsers: "argparse._SubParsersAction[_Parser]") -> None:
    parser = subparsers.add_parser(
        "clients",
        help="install or show the real clients the clients.* checks run (Node.js packages)",
        description="The TypeScript SDK and Claude Code, pinned by the package's lockfile, installed with "
        "`npm ci` into a cache directory ($CONFORMANCE_CLIENTS_DIR, else ~/.cache/conformance/clients).",
    )
    actions = parser.add_subparsers(dest="clients_command", metavar="ACTION", parser_class=_Parser)
    install = actions.add_parser("install", help="npm ci the pinned packages (bounded in time); exit 2 if impossible")
    install.add_argument(
        "--timeout", type=_positive, default=600, metavar="S", help="bound on the install, seconds (default 600)"
    )
    install.set_defaults(handler=_clients_install)
    status = actions.add_parser("status", help="print Node, the pinned versions and the install directory")
    status.set_defaults(handler=_clients_status)

    def _help(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    parser.set_defaults(handler=_help)


def _clients_install(args: argparse.Namespace) -> int:
    from .clients import ClientsUnavailable, install

    try:
        done = install(timeout=float(args.timeout), log=lambda line: print(line, file=sys.stderr))
    except ClientsUnavailable as exc:
        return _input_error(f"clients install: {exc}")
    print(f"{done.root}: @anthropic-ai/sdk {done.sdk_version}, @anthropic-ai/claude-code {done.claude_code_version}")
    return EXIT_OK


def _clients_status(args: argparse.Namespace) -> int:
    from .clients import ClientsUnavailable, find_node, install_dir, installed, pinned_versions

    pins = ", ".join(f"{name} {version}" for name, version in pinned_versions().items())
    print(f"pinned: {pins}")
    try:
        node = find_node()
    except ClientsUnavailable as exc:
        print(f"node: {exc}")
        return EXIT_INPUT
    print(f"node: {node.node} {node.version_text} ({node.source})")
    done = installed(node)
    print(f"installed: {done.root}" if done else f"installed: no (would go to {install_dir()})")
    return EXIT_OK if done else EXIT_INPUT


def build_parser() -> _Parser:
    """The top-level parser with every subcommand registered."""
    parser = _Parser(prog="conformance", description="Conformance harness for Anthropic Messages API servers.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_stub(subparsers)
    _add_run(subparsers)
    _add_report(subparsers)
    _add_fleet(subparsers)
    _add_clients(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``conformance`` console script."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        return run_suites(argv[1:])
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
