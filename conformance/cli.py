"""The ``conformance`` command. Subcommands: ``stub`` (serve the reference stub), ``run``
(the conformance suites, with the pytest plugin's options), ``report`` (``merge`` results
files into a matrix, ``diff`` two runs, ``render`` a stored run).

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
        "--list-faults", action="store_true", help="print every fault (name, kind, description) and exit"
    )
    parser.set_defaults(handler=_run_stub)


def _run_stub(args: argparse.Namespace) -> int:
    from .stub.app import DEFAULT_MAX_BODY_BYTES
    from .stub.catalog import CatalogError
    from .stub.faults import UnknownFault, catalog_lines
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
        )
    except (UnknownFault, CatalogError) as exc:
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


def _input_error(message: str) -> int:
    sys.stderr.write(f"conformance {message}\n")
    return EXIT_INPUT


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _usage(message: str) -> int:
    sys.stderr.write(f"conformance {message}\n")
    return EXIT_USAGE


def build_parser() -> _Parser:
    """The top-level parser with every subcommand registered."""
    parser = _Parser(prog="conformance", description="Conformance harness for Anthropic Messages API servers.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_stub(subparsers)
    _add_run(subparsers)
    _add_report(subparsers)
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
