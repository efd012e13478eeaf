"""Progress a person can follow: one line per finished cell and, on a terminal, a ``rich``
progress bar with the cells done, running, failed and not run, and the time left.

The lines go to the output stream whether or not the bar is shown (the bar only on a terminal,
and never with ``--no-progress``); they are the same in a CI log as on a screen.
"""

from __future__ import annotations

from typing import IO, Any, Mapping

from conformance.fleet.report import GATE_WORDS


class FleetProgress:
    """Counts and prints; call from one thread (the fleet's main loop)."""

    def __init__(self, total: int, kept: int, stream: IO[str], *, bar: bool, axes: tuple[str, ...] = ()) -> None:
        self.total = total
        self.done = kept
        self.failed = 0
        self.not_run = 0
        self.running: set[str] = set()
        self.stream = stream
        self.axes = axes
        self._width = len(str(total))
        self._progress: Any = None
        self._task: Any = None
        if bar:
            try:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                    TimeRemainingColumn,
                )
            except ImportError:  # rich comes with the [fleet] extra; lines alone still tell everything
                return
            self._progress = Progress(
                TextColumn("cells"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(
                    "running {task.fields[running]} · failed {task.fields[failed]} · not run {task.fields[not_run]}"
                ),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=Console(file=stream),
                redirect_stdout=False,
                redirect_stderr=False,
            )

    def __enter__(self) -> FleetProgress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(
                "cells", total=self.total, completed=self.done, running=0, failed=0, not_run=0
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._refresh()
            self._progress.stop()

    def line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def started(self, cell_id: str) -> None:
        self.running.add(cell_id)
        self._refresh()

    def stopped(self, cell_id: str) -> None:
        self.running.discard(cell_id)
        self._refresh()

    def finished(self, record: Mapping[str, Any]) -> None:
        self.running.discard(record["id"])
        self.done += 1
        if record["status"] == "failed":
            self.failed += 1
        elif record["status"] != "passed":
            self.not_run += 1
        self.line(self.cell_line(record))
        self._refresh()

    def cell_line(self, record: Mapping[str, Any]) -> str:
        """``[ 3/12] vllm 2023-06-01 anthropic  gate FAILED  2 failed  14.2 s``."""
        parts = [
            f"[{self.done:>{self._width}}/{self.total}]",
            record["target"],
            record["anthropic_version"],
            record["profile"],
        ]
        if "auth" in self.axes:
            parts.append(record["auth"])
        parts += [
            str(v) for k, v in record.get("axes", {}).items() if k not in ("anthropic_version", "profile", "auth")
        ]
        word = GATE_WORDS.get(record["status"], record["status"])
        text = " ".join(parts) + f"  gate {word}"
        if record["status"] != "error":
            text += f"  {record.get('failed', 0)} failed"
            if record.get("errors"):
                text += f", {record['errors']} errors"
        duration = record.get("duration")
        if isinstance(duration, (int, float)):
            text += f"  {duration:.1f} s"
        if record.get("attempts", 1) > 1:
            text += f"  (try {record['attempts']})"
        if record["status"] == "error" and record.get("error"):
            text += f": {record['error']}"
        return text

    def _refresh(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=self.done, running=len(self.running), failed=self.failed, not_run=self.not_run
            )
