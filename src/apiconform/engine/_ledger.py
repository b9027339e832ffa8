"""A live target's request budget and pacing, shared by every process of one run.

Each pytest-xdist worker has its own Session; without a shared ledger `--workers 2` would double the
budget and the rate. The run's controller (`apiconform run`, or the pytest plugin when pytest is run
directly) creates a private directory and names it in APICONFORM_LEDGER_DIR; workers inherit it.
Per vendor, one small JSON state record `{sent, next}` is read and rewritten in place under an exclusive
`flock`: one request = one locked read-modify-write, so budget and rate hold whatever the number of workers
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
RECORD = 64  # bytes of the state record: {"sent": N, "next": T} padded with spaces


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
        self._fd: tuple[int, int] | None = None  # (pid, descriptor): a forked child opens its own (flock is per open file)

    def _descriptor(self) -> int:
        assert self.path is not None
        if self._fd is None or self._fd[0] != os.getpid():
            self._fd = (os.getpid(), os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._fd[1]

    def __del__(self) -> None:
        if self._fd is not None and self._fd[0] == os.getpid():
            os.close(self._fd[1])
            self._fd = None

    @staticmethod
    def _read(fd: int) -> dict[str, float]:
        try:
            state = json.loads(os.pread(fd, RECORD, 0).rstrip(b" \0") or b"{}")
            return {"sent": float(state["sent"]), "next": float(state["next"])}
        except (OSError, ValueError, KeyError, TypeError):
            return {"sent": 0, "next": 0.0}

    def take(self) -> float:
        """Spend one request of the budget and wait for its slot (under the lock); the seconds waited.
        The state is one fixed-size record rewritten in place under `flock` (no temporary file and rename per
        request: on a loaded machine that cost milliseconds each), read and written by every process alike."""
        with self._lock:
            if self.path is None:
                return self._step(self._state)
            import fcntl

            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                state = self._read(fd)
                try:
                    delay = self._step(state)
                finally:
                    os.pwrite(fd, json.dumps({"sent": int(state["sent"]), "next": state["next"]}).encode().ljust(RECORD), 0)
                return delay
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _step(self, state: dict[str, float]) -> float:
        if self.budget is not None and state["sent"] >= self.budget:
            raise Exhausted()
        state["sent"] += 1
        return wait_for_slot(state, self.interval)

    def sent(self) -> int:
        """Requests taken so far by the whole run (all processes)."""
        if self.path is None:
            return int(self._state["sent"])
        if not self.path.exists():
            return 0
        import fcntl

        with self._lock:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                return int(self._read(fd)["sent"])
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
