"""The ``conformance`` command. Subcommands: ``stub`` (serve the reference stub), ``run``
(the conformance suites, with the pytest plugin's options).

Each subcommand registers itself with :func:`_add_stub` style helpers on the argparse
subparsers, so ``run`` and ``report`` can be added beside it. Exit codes follow pytest's
``ExitCode``: 0 ok, 4 usage error (bad option, unknown fault, port unusable).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import NoReturn, Sequence

EXIT_OK = 0
EXIT_USAGE = 4  # pytest.ExitCode.USAGE_ERROR

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
    parser.add_argument("--api-key", action="append", default=[], metavar="KEY", help="accepted key (repeatable; default test-key)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME", help="switch a fault on (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="seed for generated text and ids (default 0)")
    parser.add_argument("--models", metavar="FILE", help="JSON list of model ids or ModelInfo objects (replaces the catalog)")
    parser.add_argument("--max-body-bytes", type=_positive, default=None, metavar="N", help="request size limit (default 32 MB)")
    parser.add_argument("--list-faults", action="store_true", help="print every fault (name, kind, description) and exit")
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
        asyncio.run(serve_forever(config, sock, sys.stdout))
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
    import os
    from pathlib import Path

    import pytest

    suite = Path(__file__).resolve().parent / "suite"
    argv = list(args)
    if "--help-options" in argv:
        argv = ["--help"]
    if not any(a == "--report-dir" or a.startswith("--report-dir=") for a in argv):
        argv += ["--report-dir", "reports"]
    # -c os.devnull and --rootdir keep a user's pytest.ini/conftest.py out of the run.
    return int(pytest.main([
        str(suite), "-p", "conformance.plugin", "-p", "no:cacheprovider",
        "-c", os.devnull, "--rootdir", str(suite), *argv,
    ]))


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
