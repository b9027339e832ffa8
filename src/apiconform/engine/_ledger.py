"""A live target's request budget and pacing, shared by every process of one run.

Each pytest-xdist worker has its own Session; without a shared ledger `--workers 2` would double the
budget and the rate. The run's controller (`apiconform run`, or the pytest plugin when pytest is run
directly) creates a private directory and names it in the run's options (`EngineOptions.ledger_dir`, a pytest-xdist
worker's `workerinput`); every target of the run carries it (`Target.ledger_dir`).
Per vendor, one small JSON state record `{sent, next}` is read and rewritten in place under an exclusive
`flock`: one request = one locked read-modify-write, so budget and rate hold whatever the number of workers
(and the preflight's requests count against the same budget).

Pacing promises at most `rate` requests in ANY one-second window, as the vendor counts them: a request waits for
its slot while holding the lock and the next slot is counted from the moment that wait really ended (a late
wake-up on a busy machine never lets the following requests bunch up), and slots are 2 % wider than 1/rate so
that a millisecond of arrival jitter cannot put `rate + 1` requests into one second.

Shards of one live run on several machines (CI matrix jobs) share one budget and one rate through a store they can
all reach: with `APICONFORM_LEDGER_URL=redis://HOST:PORT/DB` and `APICONFORM_RUN_ID` (the same value in every shard of
one run), the state lives in one Redis hash per target, changed by one atomic script that checks the budget, counts
the request and hands out its slot by the Redis server's clock (machines' clocks never need to agree); the client
sleeps until its slot outside any lock, so the shards take turns. Without a store, each shard of `--shard I/N` gets
budget/N (`shard_share`) and paces at the full rate on its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

STORE_ENV = "APICONFORM_LEDGER_URL"  # a shared store (Redis) for the shards of one run
RUN_ID_ENV = "APICONFORM_RUN_ID"  # names the run in the shared store (the same in every shard)
HEADROOM = 1.02  # slot width = HEADROOM / rate
RECORD = 64  # bytes of the state record: {"sent": N, "next": T} padded with spaces
_STORE_TTL = 86400  # seconds a run's state stays in the shared store


def shared_store() -> str | None:
    """The shared store's URL (credentials masked) when one is configured, else None."""
    url = os.environ.get(STORE_ENV, "").strip()
    if not url:
        return None
    from apiconform.redact import Redactor

    return str(Redactor(()).url(url))


def shard_share(safety: Any, shard: tuple[int, int] | None) -> Any:
    """A shard's limits: without a shared store, each of N shards may spend budget/N (they cannot see each other)."""
    if shard is None or shared_store() is not None or safety.max_requests is None:
        return safety
    from dataclasses import replace

    return replace(safety, max_requests=max(1, safety.max_requests // shard[1]))


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

    def __init__(self, key: str, budget: int | None, rate: float | None, directory: str | None = None,
                 store: str | None = None) -> None:
        self.budget = budget
        self.interval = slot_interval(rate)
        self.path = Path(directory) / f"{key}.json" if directory else None
        self._lock = threading.Lock()
        self._state = {"sent": 0, "next": 0.0}
        self._fd: tuple[int, int] | None = None  # (pid, descriptor): a forked child opens its own (flock is per open file)
        url = store if store is not None else os.environ.get(STORE_ENV, "").strip()
        self.store = _RedisState(url, key) if url else None

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

    def take(self, reserve: int = 0) -> float:
        """Spend one request of the budget and wait for its slot (under the lock); the seconds waited.
        `reserve`: requests of the budget this request may not use (kept for tests still to run). Also the clean-up's: one delete per record
        the run created that is still there (engine._writes).
        The state is one fixed-size record rewritten in place under `flock` (no temporary file and rename per
        request: on a loaded machine that cost milliseconds each), read and written by every process alike."""
        with self._lock:
            if self.store is not None:
                return self.store.take(self.budget, reserve, self.interval)
            if self.path is None:
                return self._step(self._state, reserve)
            import fcntl

            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                state = self._read(fd)
                try:
                    delay = self._step(state, reserve)
                finally:
                    os.pwrite(fd, json.dumps({"sent": int(state["sent"]), "next": state["next"]}).encode().ljust(RECORD), 0)
                return delay
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _step(self, state: dict[str, float], reserve: int = 0) -> float:
        if self.budget is not None and state["sent"] >= self.budget - reserve:
            raise Exhausted()
        state["sent"] += 1
        return wait_for_slot(state, self.interval)

    def sent(self) -> int:
        """Requests taken so far by the whole run (all processes)."""
        if self.store is not None:
            return self.store.sent()
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


_TAKE = """
local budget, reserve, interval = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local sent = tonumber(redis.call('HGET', KEYS[1], 'sent') or '0')
if budget >= 0 and sent >= budget - reserve then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'next') or '0'))
redis.call('HSET', KEYS[1], 'sent', sent + 1, 'next', slot + interval)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return slot - now
"""


class _RedisState:
    """One target's `{sent, next}` in a Redis hash, changed atomically by one Lua script (redis-py's `Script`),
    timed by the server's clock: the script checks the budget, counts the request and hands out its slot; the
    client sleeps until then outside any lock, so shards take turns fairly."""

    def __init__(self, url: str, key: str) -> None:
        from apiconform.errors import ConfigError

        run_id = os.environ.get(RUN_ID_ENV, "").strip()
        if not run_id:
            raise ConfigError(f"{STORE_ENV} is set but {RUN_ID_ENV} is not: name the run (the same value in every "
                              f"shard, e.g. the CI pipeline's id) so its shards share one budget")
        import redis

        try:
            self.client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        except ValueError as exc:
            raise ConfigError(f"{STORE_ENV}: {exc}") from None
        self.key = f"apiconform:{run_id}:{key}"
        self.script = self.client.register_script(_TAKE)

    def clock(self) -> float:
        seconds, micros = self.client.time()
        return float(seconds) + micros / 1e6

    def take(self, budget: int | None, reserve: int, interval: float) -> float:
        """Spend one request and wait for its slot; the seconds waited. Raises Exhausted."""
        import redis

        from apiconform.errors import TargetUnavailable

        try:
            wait = int(self.script(keys=[self.key], args=[-1 if budget is None else budget, reserve,
                                                          int(interval * 1e6), _STORE_TTL]))
        except redis.RedisError as exc:
            raise TargetUnavailable(f"{STORE_ENV}: the shared budget store does not answer ({type(exc).__name__}); "
                                    f"no request is sent without it") from None
        if wait < 0:
            raise Exhausted()
        if wait:
            time.sleep(wait / 1e6)
        return wait / 1e6

    def sent(self) -> int:
        value = self.client.hget(self.key, "sent")
        return int(value) if value is not None else 0
