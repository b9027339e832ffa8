"""A live target's request budget and pacing, shared by every process of one run.

Each pytest-xdist worker has its own Session; without a shared ledger `--workers 2` would double the
budget and the rate. The run's controller (`apiconform run`, or the pytest plugin when pytest is run
directly) creates a private directory and names it in APICONFORM_LEDGER_DIR; workers inherit it.
Per vendor, one small JSON state file `{sent, next}` is read and written under an exclusive `flock`:
one request = one locked read-modify-write, so budget and rate hold whatever the number of workers
(and the preflight's requests count against the same budget).

Pacing promises at most `rate` requests in ANY one-second window, as the vendor counts them: a request waits for
its slot while holding the lock and the next slot is counted from the moment that wait really ended (a late
wake-up on a busy machine never lets the following requests bunch up), and slots are 2 % wider than 1/rate so
that a millisecond of arrival jitter cannot put `rate + 1` requests into one second.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

ENV = "APICONFORM_LEDGER_DIR"
HEADROOM = 1.02  # slot width = HEADROOM / rate


def slot_interval(rate: float | None) -> float:
    """Seconds between two requests at `rate` per second (0: no pacing)."""
    return HEADROOM / rate if rate else 0.0


def wait_for_slot(state: dict[str, float], interval: float) -> float:
    """Sleep until `state["next"]`, then move it one slot past now; the seconds slept. Call it under a lock."""
    if not interval:
        return 0.0
    delay = max(0.0, state["next"] - time.monotonic())  # monotonic is system-wide on Linux: comparable across processes
    if delay:
        time.sleep(delay)
    state["next"] = time.monotonic() + interval
    return delay


class Exhausted(Exception):
    """The budget is spent (the Session turns this into BudgetExhausted)."""


class Ledger:
    """`take()` one request: raises Exhausted when the budget is spent, else waits for the request's slot."""

    def __init__(self, key: str, budget: int | None, rate: float | None, directory: str | None = None) -> None:
        self.budget = budget
        self.interval = slot_interval(rate)
        directory = directory if directory is not None else os.environ.get(ENV)
        self.path = Path(directory) / f"{key}.json" if directory else None
        self._lock = threading.Lock()
        self._state = {"sent": 0, "next": 0.0}

    def take(self) -> float:
        """Spend one request of the budget and wait for its slot (under the lock); the seconds waited."""
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
        return wait_for_slot(state, self.interval)

    def sent(self) -> int:
        """Requests taken so far by the whole run (all processes)."""
        if self.path is None:
            return int(self._state["sent"])
        try:
            return int(json.loads(self.path.read_text(encoding="utf-8"))["sent"])
        except (OSError, ValueError, KeyError):
            return 0
