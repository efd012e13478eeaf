"""Start and stop the stub: in this process (a thread, for tests) or as a subprocess (the CLI).

``serve_in_thread(...)`` runs uvicorn in a background thread on a free loopback port and yields
the base URL; ``StubProcess(...)`` launches ``python -m conformance stub --port 0 ...`` and
reads the base URL from the first line of its stdout. Both stop the server on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

import uvicorn

from .app import DEFAULT_MAX_BODY_BYTES, StubConfig, create_app
from .catalog import ModelCatalog
from .faults import FaultSet

_REPO_ROOT = Path(__file__).resolve().parents[2]


class StubStartError(RuntimeError):
    """The stub did not come up in time (or exited first)."""


def make_config(
    *,
    api_keys: Sequence[str] = (),
    faults: Sequence[str] = (),
    seed: int = 0,
    models_file: str | os.PathLike[str] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    latency: float = 0.0,
    script_file: str | os.PathLike[str] | None = None,
    darkbloom: bool = False,
) -> StubConfig:
    """A StubConfig from plain values (raises UnknownFault / CatalogError / ScriptError on bad
    input)."""
    from .script import Script

    return StubConfig(
        api_keys=tuple(api_keys) or StubConfig().api_keys,
        faults=FaultSet(tuple(faults)),
        seed=seed,
        catalog=ModelCatalog.from_file(os.fspath(models_file)) if models_file else ModelCatalog.default(),
        max_body_bytes=max_body_bytes,
        latency=latency,
        script=Script.load(script_file) if script_file else None,
        darkbloom=darkbloom,
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one); OSError if the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # accepted sockets inherit this on Linux: uvicorn writes headers and body separately,
        # and Nagle + delayed ACK would add ~40 ms to every response
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def base_url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def uvicorn_server(config: StubConfig) -> uvicorn.Server:
    """One-worker uvicorn around the stub app, quiet (no access log: it costs throughput)."""
    uv_config = uvicorn.Config(
        create_app(config),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(uv_config)


class ThreadedStub:
    """uvicorn serving the stub from a daemon thread on a free port (tests, plugins).

    ``start()`` returns the base URL; ``request_stop()`` asks uvicorn to exit and ``join()``
    waits for it, so many stubs can be stopped in parallel.
    """

    def __init__(self, *, host: str = "127.0.0.1", startup_timeout: float = 10.0, **options: Any) -> None:
        self.config = make_config(**options)
        self.host = host
        self.startup_timeout = startup_timeout
        self.server = uvicorn_server(self.config)
        self.base_url = ""
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        self._sock = bind_socket(self.host, 0)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, name="conformance-stub", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.request_stop()
                self.join()
                raise StubStartError("stub server thread did not start")
            time.sleep(0.005)
        self.base_url = base_url_of(self._sock)
        return self.base_url

    def request_stop(self) -> None:
        self.server.should_exit = True

    def join(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()


@contextlib.contextmanager
def serve_in_thread(
    *,
    host: str = "127.0.0.1",
    api_keys: Sequence[str] = (),
    faults: Sequence[str] = (),
    seed: int = 0,
    models_file: str | os.PathLike[str] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    startup_timeout: float = 10.0,
    script_file: str | os.PathLike[str] | None = None,
    darkbloom: bool = False,
) -> Iterator[str]:
    """Serve the stub from a background thread; yields its base URL."""
    stub = ThreadedStub(
        host=host,
        startup_timeout=startup_timeout,
        api_keys=api_keys,
        faults=faults,
        seed=seed,
        models_file=models_file,
        max_body_bytes=max_body_bytes,
        script_file=script_file,
        darkbloom=darkbloom,
    )
    try:
        yield stub.start()
    finally:
        stub.request_stop()
        stub.join()


def serve_forever(config: StubConfig, sock: socket.socket, announce: IO[str]) -> None:
    """Run uvicorn on ``sock``; print the base URL as the first stdout line once listening.

    The event loop is the one ``uvicorn.run`` would pick (uvloop when installed, as with
    ``uvicorn[standard]``): the plain asyncio loop costs the stub a third of its throughput.
    """
    server = uvicorn_server(config)
    with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
        runner.run(_serve_announced(server, sock, announce))


async def _serve_announced(server: uvicorn.Server, sock: socket.socket, announce: IO[str]) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        announce.write(base_url_of(sock) + "\n")
        announce.flush()
    await task


class StubProcess:
    """The stub as a subprocess (``python -m conformance stub --port 0``), as a context manager.

    ``base_url`` is read from the first stdout line within ``startup_timeout`` seconds.
    """

    def __init__(
        self,
        *,
        api_keys: Sequence[str] = (),
        faults: Sequence[str] = (),
        seed: int = 0,
        models_file: str | os.PathLike[str] | None = None,
        max_body_bytes: int | None = None,
        host: str = "127.0.0.1",
        startup_timeout: float = 15.0,
        python: str = sys.executable,
        latency: float = 0.0,
        script_file: str | os.PathLike[str] | None = None,
        darkbloom: bool = False,
    ) -> None:
        self.args = [python, "-m", "conformance", "stub", "--port", "0", "--host", host, "--seed", str(seed)]
        for key in api_keys:
            self.args += ["--api-key", key]
        for fault in faults:
            self.args += ["--fault", fault]
        if models_file:
            self.args += ["--models", os.fspath(models_file)]
        if max_body_bytes is not None:
            self.args += ["--max-body-bytes", str(max_body_bytes)]
        if latency:
            self.args += ["--latency", repr(latency)]
        if script_file:
            self.args += ["--script", os.fspath(script_file)]
        if darkbloom:
            self.args += ["--darkbloom"]
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self._stderr: IO[str] | None = None

    def start(self) -> str:
        env = dict(os.environ)
        # make the package importable even when it is not installed (running from a checkout)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env)
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            self.stop()
            raise StubStartError(
                f"stub printed no base URL within {self.startup_timeout:g} s: {self._stderr_text()}"
            ) from None
        if not line.startswith("http"):
            self.stop()
            raise StubStartError(f"stub failed to start: {self._stderr_text() or line.strip() or 'no output'}")
        self.base_url = line.strip()
        return self.base_url

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().strip()[-2000:]

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then kill after ``timeout`` seconds; returns the exit code."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stdout:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> "StubProcess":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._stderr is not None:
            self._stderr.close()
