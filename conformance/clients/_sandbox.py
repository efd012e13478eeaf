"""Running the real clients against the target: bounded, isolated, recorded.

Every client process starts in a process group of its own with an environment built from
nothing (none of the user's variables: no key, proxy or Claude setting of theirs leaks in),
in a temporary directory, and is killed with its whole group when its time bound ends or the
check is interrupted. Its traffic goes through a :class:`~._proxy.RecordingProxy`.

How Claude Code is kept from running anything the target asks for (the no-command guarantee;
``docs/clients.md``, tested in ``tests/clients/test_sandbox.py``):

* ``--tools ""``: no built-in tool is offered to the model, so no tool_use block the target
  sends names a tool Claude Code would run (an unknown tool is answered with an error result);
* ``--strict-mcp-config`` with no ``--mcp-config``: no MCP server, so no MCP tool either;
* ``--bare``: no hooks, plugins, LSP, CLAUDE.md discovery or background prefetches;
  ``--permission-mode dontAsk``: whatever would need a permission is refused, not asked;
  ``--disable-slash-commands``, ``--no-session-persistence``;
* an empty temporary working directory and a fresh ``HOME`` (and ``CLAUDE_CONFIG_DIR``,
  ``XDG_*``, ``TMPDIR`` inside it): no settings, hooks, skills, agents or credentials of the
  user's are read; stdin is ``/dev/null``;
* non-essential traffic off (``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC``, no autoupdater,
  telemetry, error reporting); ``ANTHROPIC_MODEL`` and ``ANTHROPIC_SMALL_FAST_MODEL`` (and the
  alias and subagent models) set to the run's model;
* the whole process group is killed at the time bound;
* where the machine allows it (root, or unprivileged user namespaces, and ``unshare`` on
  PATH), a network namespace of its own in which only the target is reachable, through the
  proxy's Unix socket (:mod:`._netns`); where it does not, the run says so in its verdict.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from conformance._exchange import Exchange
from conformance._redact import Redactor
from conformance.clients._install import Installed, _kill_group
from conformance.clients._proxy import RecordingProxy

NETNS_HELPER = Path(__file__).resolve().parent / "_netns.py"
OUTPUT_LIMIT = 64 * 1024  # characters of stdout/stderr kept
# Claude Code's flags that keep the target from making it run anything (see the module doc)
CLAUDE_CODE_LOCKDOWN = (
    "--bare",
    "--strict-mcp-config",
    "--permission-mode",
    "dontAsk",
    "--disable-slash-commands",
    "--no-session-persistence",
)


@dataclass
class ProcessRun:
    """What one client process did."""

    argv: list[str]
    exit_code: int | None  # None: killed at the bound
    stdout: str = ""
    stderr: str = ""
    elapsed: float = 0.0
    bound: float = 0.0
    isolation: str = ""  # one sentence: how the process was isolated from the network
    namespace: dict[str, Any] | None = None  # what the namespace helper reported
    pid: int = 0  # of the process, which led its process group

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None


def run_bounded(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | os.PathLike[str],
    bound: float,
    stdin: bytes | None = None,
) -> ProcessRun:
    """Run ``argv`` in its own process group (stdin ``/dev/null`` unless ``stdin`` bytes are
    given); after ``bound`` seconds, or on any interruption (a check's time bound), the whole
    group is killed. The group is killed at the end in every case: nothing it started outlives it."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    run = ProcessRun(list(argv), None, bound=bound, pid=proc.pid)
    out: bytes | None = b""
    err: bytes | None = b""
    try:
        out, err = proc.communicate(input=stdin, timeout=bound)
        run.exit_code = proc.returncode
    except subprocess.TimeoutExpired:
        pass
    finally:
        _kill_group(proc.pid)
        if run.exit_code is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                out, err = proc.communicate(timeout=5)
            if proc.poll() is None:  # pragma: no cover - SIGKILLed above
                proc.kill()
        run.elapsed = time.perf_counter() - t0
    run.stdout = (out or b"").decode("utf-8", "replace")[-OUTPUT_LIMIT:]
    run.stderr = (err or b"").decode("utf-8", "replace")[-OUTPUT_LIMIT:]
    return run


_NETNS: list[tuple[list[str] | None, str]] = []


def netns_prefix() -> tuple[list[str] | None, str]:
    """The command prefix that runs a program in a new network namespace, and a sentence
    saying how (or why not); decided once per process."""
    if not _NETNS:
        _NETNS.append(_find_netns())
    return _NETNS[0]


def _find_netns() -> tuple[list[str] | None, str]:
    if not sys.platform.startswith("linux"):
        return None, f"no network namespace ({sys.platform} has none): the client could reach any host"
    unshare = shutil.which("unshare") or next(
        (p for p in ("/usr/bin/unshare", "/bin/unshare") if os.access(p, os.X_OK)), None
    )
    if unshare is None:
        return None, "no network namespace (unshare(1) not found): the client could reach any host"
    if os.geteuid() == 0:
        prefix = [unshare, "--net"]
    else:
        prefix = [unshare, "--user", "--map-root-user", "--net"]
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-I", "-S", "-c", ""],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"no network namespace ({' '.join(prefix[1:])} failed: {exc}): the client could reach any host"
    if done.returncode != 0:
        why = " ".join(done.stderr.split())[:160] or f"exit {done.returncode}"
        return None, f"no network namespace ({' '.join(prefix[1:])} failed: {why}): the client could reach any host"
    return prefix, "in a network namespace of its own where only the target is reachable (through the harness's proxy)"


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary directory with ``home/``, ``tmp/`` and an empty ``work/``; removed after."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        for name in ("home", "tmp", "work"):
            (root / name).mkdir()
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def base_env(root: Path) -> dict[str, str]:
    """An environment built from nothing: a minimal PATH, a fresh HOME in ``root``."""
    home = root / "home"
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "USER": "conformance",
        "TMPDIR": str(root / "tmp"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
    }


# ---------------------------------------------------------------- the TypeScript SDK driver


@dataclass
class DriverRun:
    """The driver's results, one per scenario, and the exchanges each scenario made."""

    process: ProcessRun
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    exchanges: dict[str, list[Exchange]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    requests: int = 0


def run_typescript_sdk(
    installed: Installed,
    *,
    target: str,
    redactor: Redactor,
    api_key: str,
    config: Mapping[str, Any],
    scenarios: Sequence[str],
    timeout: float,
    bound: float,
    cap: int,
    insecure: bool,
) -> DriverRun:
    """Run ``driver.cjs`` (the official TypeScript SDK) through a recording proxy; ``config``
    goes to it on stdin, the key in its environment (never in argv or a file)."""
    with (
        scratch("conformance-tssdk-") as root,
        RecordingProxy(target, redactor=redactor, timeout=timeout, cap=cap, insecure=insecure) as proxy,
    ):
        base = proxy.start()
        env = base_env(root)
        env["PATH"] = os.pathsep.join([installed.node.bin_dir, env["PATH"]])
        env["CONFORMANCE_CLIENTS_ROOT"] = str(installed.root)
        env["CONFORMANCE_DRIVER_KEY"] = api_key
        payload = dict(config, base_url=base, scenarios=list(scenarios), timeout_ms=int(timeout * 1000))
        process = run_bounded(
            [installed.node.node, str(installed.driver)],
            env=env,
            cwd=root / "work",
            bound=bound,
            stdin=json.dumps(payload).encode(),
        )
        process.isolation = "its own process group, a fresh HOME and an environment built from nothing"
        run = DriverRun(process, requests=proxy.count)
        for line in process.stdout.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("scenario"), str):
                run.results[item["scenario"]] = item
            elif isinstance(item, dict) and item.get("done"):
                run.versions = {k: str(v) for k, v in item.items() if k != "done"}
        for name in scenarios:
            run.exchanges[name] = proxy.exchanges(name)
        return run


# ---------------------------------------------------------------- Claude Code


@dataclass
class ClaudeCodeRun:
    """One print-mode run of Claude Code: the process, its parsed JSON result, its traffic."""

    process: ProcessRun
    result: dict[str, Any] | None
    exchanges: list[Exchange]
    requests: int


def claude_code_argv(claude: str, prompt: str, model: str, *, tools: str = "", extra: Sequence[str] = ()) -> list[str]:
    """Print mode with the lockdown flags; ``tools`` other than "" only where the target is
    trusted (the stub's own tests)."""
    return [
        claude,
        "-p",
        prompt,
        "--output-format",
        "json",
        "--model",
        model,
        "--tools",
        tools,
        *CLAUDE_CODE_LOCKDOWN,
        *extra,
    ]


def claude_code_env(
    root: Path,
    *,
    model: str,
    api_key: str,
    auth_style: str,
    headers: Mapping[str, str],
    timeout: float,
) -> dict[str, str]:
    env = base_env(root)
    env.update(
        {
            "CLAUDE_CONFIG_DIR": str(root / "home" / ".claude"),
            "ANTHROPIC_MODEL": model,
            "ANTHROPIC_SMALL_FAST_MODEL": model,
            "ANTHROPIC_DEFAULT_HAIKU_MODEL": model,
            "ANTHROPIC_DEFAULT_SONNET_MODEL": model,
            "ANTHROPIC_DEFAULT_OPUS_MODEL": model,
            "CLAUDE_CODE_SUBAGENT_MODEL": model,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "DISABLE_BUG_COMMAND": "1",
            "DISABLE_NON_ESSENTIAL_MODEL_CALLS": "1",
            "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
            # one answer per request, as the SDK checks do: a retry would hide a failure and
            # multiply the time a broken target costs
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "API_TIMEOUT_MS": str(int(timeout * 1000)),
        }
    )
    # SDK 0.x inside Claude Code: ANTHROPIC_API_KEY is sent as x-api-key, ANTHROPIC_AUTH_TOKEN as Bearer
    env["ANTHROPIC_AUTH_TOKEN" if auth_style == "bearer" else "ANTHROPIC_API_KEY"] = api_key
    if headers:
        env["ANTHROPIC_CUSTOM_HEADERS"] = "\n".join(f"{name}: {value}" for name, value in headers.items())
    return env


def run_claude_code(
    installed: Installed,
    *,
    target: str,
    redactor: Redactor,
    prompt: str,
    model: str,
    api_key: str,
    auth_style: str = "x-api-key",
    headers: Mapping[str, str] = {},  # noqa: B006 - never mutated
    timeout: float,
    bound: float,
    cap: int = 2 * 1024 * 1024,
    insecure: bool = False,
    tools: str = "",
    extra: Sequence[str] = (),
    workdir: str | os.PathLike[str] | None = None,
    isolate_network: bool = True,
) -> ClaudeCodeRun:
    """Claude Code in print mode against ``target`` through a recording proxy (see the module
    doc for what keeps it from running anything); ``workdir`` (default: an empty temporary
    directory) and ``tools`` only for a trusted target."""
    with (
        scratch("conformance-claude-") as root,
        RecordingProxy(target, redactor=redactor, timeout=timeout, cap=cap, insecure=insecure) as proxy,
    ):
        prefix, isolation = netns_prefix() if isolate_network else (None, "no network namespace (not asked for)")
        sock = str(root / "proxy.sock")
        base = proxy.start(unix_path=sock if prefix is not None else None)
        env = claude_code_env(
            root, model=model, api_key=api_key, auth_style=auth_style, headers=headers, timeout=timeout
        )
        argv = claude_code_argv(str(installed.claude), prompt, model, tools=tools, extra=extra)
        report = root / "netns.json"
        if prefix is not None:
            argv = [
                *prefix,
                sys.executable,
                "-I",
                "-S",
                str(NETNS_HELPER),
                "--unix",
                sock,
                "--env",
                "ANTHROPIC_BASE_URL",
                "--report",
                str(report),
                "--",
                *argv,
            ]
        else:
            env["ANTHROPIC_BASE_URL"] = base
        process = run_bounded(argv, env=env, cwd=workdir or (root / "work"), bound=bound)
        process.isolation = isolation
        if prefix is not None:
            try:
                process.namespace = json.loads(report.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                process.namespace = None
        result = None
        with contextlib.suppress(ValueError):
            parsed = json.loads(process.stdout.strip().splitlines()[-1]) if process.stdout.strip() else None
            result = parsed if isinstance(parsed, dict) else None
        return ClaudeCodeRun(process, result, proxy.exchanges(), proxy.count)
