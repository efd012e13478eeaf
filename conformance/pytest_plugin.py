"""The pytest entry point (``pytest11``): dormant unless a conformance run is asked for.

Installed, this module is loaded by every pytest session on the machine, so it imports nothing
heavy and changes nothing by itself. It declares the options, each under a namespaced name
(``--conformance-target``) and, where no other plugin or initial conftest claims it, under its
short name (``--target``): a provider whose own conftest defines ``--target`` keeps it, and
uses ``--conformance-target`` for ours.

A conformance run is asked for by ``--conformance``, by any conformance option given a value,
or by naming the suites (a ``.suite`` file, or a directory holding one, such as
``conformance/suite`` in a checkout). Then the engine plugin (:mod:`conformance.plugin`) is
registered, and the packaged suite is added to what the session collects when the arguments
do not name it: ``pytest --target URL`` in a provider's repository runs its own tests and the
conformance checks side by side, and the gate decides with them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from conformance._options import ACTIVATE, OPTIONS, SUITE, SUITE_SUFFIX

IMPORTED = [time.perf_counter()]  # a run's budget counts from here (once per process)

# -- options and configuration ----------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """The namespaced options, always (the short names come once the conftests have spoken)."""
    g = parser.getgroup("conformance", "Anthropic Messages API conformance (messages-conformance)")
    g.addoption(
        ACTIVATE,
        action="store_true",
        default=False,
        dest="conformance",
        help="run the conformance suites in this session (implied by any other conformance option)",
    )
    for o in OPTIONS:
        g.addoption(o.long, dest=o.dest, help=o.help, **o.kwargs)


def _claimed(parser: pytest.Parser) -> set[str]:
    names: set[str] = set()
    for group in [parser._anonymous, *parser._groups]:  # noqa: SLF001 (pytest has no public listing)
        for argument in group.options:
            names.update(argument.names())
    return names


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> Any:
    """After the initial conftests declared their options: offer each short name nobody took."""
    result = yield
    claimed = _claimed(parser)
    group = parser.getgroup("conformance")
    for o in OPTIONS:
        if o.short and o.flag not in claimed:
            group.addoption(o.flag, dest=o.dest, help=f"same as {o.long}", **o.kwargs)
    return result


def _names_suite(config: pytest.Config) -> bool:
    """Whether the session's arguments name the suites (a ``.suite`` file, or a directory with one)."""
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        if path.suffix == SUITE_SUFFIX or (path.is_dir() and any(path.glob("*" + SUITE_SUFFIX))):
            return True
    return False


def _asked(config: pytest.Config) -> bool:
    if config.getoption("conformance"):
        return True
    for o in OPTIONS:
        default = o.kwargs.get("default")
        if config.getoption(o.dest) != default:
            return True
    return _names_suite(config)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | pytest.ExitCode | None:
    """When a conformance run is asked for: add the packaged suite if the arguments do not name
    it, register the engine plugin and let it validate the options (a bad one is one line on
    stderr, exit 2) or list the checks. Runs on xdist workers too."""
    if not _asked(config):
        return None
    if not _names_suite(config):
        config.args.append(str(SUITE))
    from conformance import plugin

    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, "conformance.plugin")
    return plugin.start(config, IMPORTED.pop() if IMPORTED else None)
