"""A live target's request budget and pacing, shared by every process of one run.

Each pytest-xdist worker has its own Session; without a shared ledger `--workers 2` would double the
budget and the rate. The run's controller (`apiconform run`, or the pytest plugin when pytest is run
directly) creates a private directory and names it in APICONFORM_LEDGER_DIR; workers inherit it.
Per vendor, one small JSON state file `{sent, next}` is read and written under an exclusive `flock`:
one request = one locked read-modify-write, so budget and rate hold whatever the number of workers
(and the preflight's requests count against the same budget).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

ENV = "APICONFORM_LEDGER_DIR"


class Exhausted(Exception):
    """The budget is spent (the Session turns this into BudgetExhausted)."""


class Ledger:
    """`take()` one request: raises Exhausted when the budget is spent, else returns seconds to wait."""

    def __init__(self, key: str, budget: int | None, rate: float | None, directory: str | None = None) -> None:
        self.budget = budget
        self.interval = 1.0 / rate if rate else 0.0
        directory = directory if directory is not None else os.environ.get(ENV)
        self.path = Path(directory) / f"{key}.json" if directory else None
        self._lock = threading.Lock()
        self._state = {"sent": 0, "next": 0.0}

    def take(self) -> float:
        with self._lock:
            if self.path is None:
                return self._step(self._state)
            import fcntl

            with open(self.path.with_suffix(".lock"), "a+") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    try:
                        state = json.loads(self.path.read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        state = {"sent": 0, "next": 0.0}
                    delay = self._step(state)
                    tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_text(json.dumps(state), encoding="utf-8")
                    os.replace(tmp, self.path)
                    return delay
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _step(self, state: dict[str, float]) -> float:
        if self.budget is not None and state["sent"] >= self.budget:
            raise Exhausted()
        state["sent"] += 1
        if not self.interval:
            return 0.0
        now = time.monotonic()  # system-wide on Linux: comparable across the run's processes
        delay = max(0.0, state["next"] - now)
        state["next"] = max(now, state["next"]) + self.interval
        return delay

    def sent(self) -> int:
        """Requests taken so far by the whole run (all processes)."""
        if self.path is None:
            return int(self._state["sent"])
        try:
            return int(json.loads(self.path.read_text(encoding="utf-8"))["sent"])
        except (OSError, ValueError, KeyError):
            return 0
