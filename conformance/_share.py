"""How the processes of one run share work through the run's directory (xdist workers).

A piece of work is split into numbered parts, each computed once per run. With a share
directory, a process claims a part by creating its claim file (``O_EXCL``: exactly one process
wins), computes it, and publishes the result as JSON (written aside, then renamed into place,
so a reader never sees half a file); a claimant that gives a part up (its run budget ran out)
leaves an ``abandoned`` marker. A process that needs a part another claimed waits for its JSON,
and computes the part itself when it was given up or did not come within its bound.

Without a share directory (one process) every part is claimed at once, and nothing is written.
The files of work ``name``, part ``i``: ``{name}-part{i}.claim``, ``.json``, ``.abandoned``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class Parts:
    """The parts of one piece of work, named ``name`` in the run's ``directory`` (None: no
    other process shares this run)."""

    def __init__(self, directory: str | None, name: str) -> None:
        self.directory = Path(directory) if directory else None
        self.name = name

    def _path(self, index: int, what: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{self.name}-part{index}.{what}"

    def claim(self, index: int) -> bool:
        """Whether this process computes part ``index`` (no other process claimed it first)."""
        if self.directory is None:
            return True
        try:
            os.close(os.open(self._path(index, "claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def put(self, index: int, result: dict[str, Any]) -> None:
        """Publish the result of a part this process claimed."""
        if self.directory is not None:
            tmp = self._path(index, f"{os.getpid()}.tmp")
            tmp.write_text(json.dumps(result), encoding="utf-8")
            os.replace(tmp, self._path(index, "json"))

    def abandon(self, index: int) -> None:
        """Give up a part this process claimed: whoever needs it computes it."""
        if self.directory is not None:
            self._path(index, "abandoned").touch()

    def wait(self, index: int, seconds: float) -> dict[str, Any] | None:
        """The result of a part another process claimed, once it is there; None if it was given
        up or did not come within ``seconds``."""
        deadline = time.monotonic() + seconds
        done, abandoned = self._path(index, "json"), self._path(index, "abandoned")
        while time.monotonic() < deadline:
            if done.exists():
                result: dict[str, Any] = json.loads(done.read_text(encoding="utf-8"))
                return result
            if abandoned.exists():
                return None
            time.sleep(0.02)
        return None
