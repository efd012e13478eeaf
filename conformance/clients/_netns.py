"""Run a command inside a fresh network namespace where only the target is reachable.

Started by :mod:`conformance.clients._sandbox` as ``unshare --net python -I -S _netns.py ...``
(run by path, standard library only: no import of the package inside the namespace). The new
namespace has a loopback interface and nothing else: no route to any other host, no DNS. This
helper brings loopback up, listens on ``127.0.0.1:<free port>``, and joins every connection
made there to the harness's recording proxy through a Unix socket (a file, reachable across
network namespaces), which forwards only to the target. It then runs the command with
``NAME=http://127.0.0.1:<port>`` in its environment (``--env NAME``), waits for it, and exits
with its status. ``--report FILE`` gets one JSON line: the namespace's interfaces and the port.

    python -I -S _netns.py --unix /tmp/x/proxy.sock --env ANTHROPIC_BASE_URL --report r.json -- claude -p hi
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import threading

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _serve(listener: socket.socket, unix_path: str) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(unix_path)
        except OSError:
            conn.close()
            continue
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def main(argv: list[str]) -> int:
    unix_path = env_name = report = None
    while argv and argv[0] != "--":
        flag, value, argv = argv[0], argv[1], argv[2:]
        if flag == "--unix":
            unix_path = value
        elif flag == "--env":
            env_name = value
        elif flag == "--report":
            report = value
        else:
            print(f"_netns.py: unknown option {flag}", file=sys.stderr)
            return 2
    command = argv[1:]
    if not (unix_path and env_name and command):
        print("_netns.py: usage: --unix PATH --env NAME [--report FILE] -- COMMAND...", file=sys.stderr)
        return 2
    loopback_up()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    if report:
        with open(report, "w", encoding="utf-8") as handle:
            interfaces = sorted(name for _, name in socket.if_nameindex())
            handle.write(json.dumps({"interfaces": interfaces, "port": port, "pid": os.getpid()}) + "\n")
    threading.Thread(target=_serve, args=(listener, unix_path), daemon=True).start()
    env = dict(os.environ)
    env[env_name] = f"http://127.0.0.1:{port}"
    try:
        child = subprocess.Popen(command, env=env)
    except OSError as exc:
        print(f"_netns.py: cannot run {command[0]}: {exc}", file=sys.stderr)
        return 127
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
