"""The subprocess of one fleet cell: ``python -m conformance.fleet._cell RUN-OPTIONS``.

It is ``conformance run RUN-OPTIONS`` (the same engine entry, :func:`conformance._api.run_pytest`,
in this process's main thread, where the run's time bounds work) that also ends when the worker
that started it dies: a cell must not outlive its worker and run a second time beside its
retry. On Linux the kernel delivers SIGKILL when the parent goes (``PR_SET_PDEATHSIG``); a
watchdog thread notices a changed parent on any system and ends this process group (the cell
is a session leader, so the group holds nothing else).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Sequence

PARENT_ENV = "CONFORMANCE_FLEET_PARENT"


def _die_with_parent() -> None:
    expected = int(os.environ.get(PARENT_ENV) or os.getppid())
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def end_group() -> None:
        try:
            if os.getpgid(0) == os.getpid():  # started as a group leader: the group is the cell's
                os.killpg(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(3)

    if os.getppid() != expected:  # the parent went before the signal was armed
        end_group()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != expected:
                end_group()

    threading.Thread(target=watch, name="conformance-fleet-watchdog", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    _die_with_parent()
    from conformance._api import run_pytest

    return run_pytest(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
