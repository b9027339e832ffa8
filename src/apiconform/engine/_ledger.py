"""A live target's request budget and pacing, shared by every process of one run.

Each pytest-xdist worker has its own Session; without a shared ledger `--workers 2` would double the
budget and the rate. The run's controller (`apiconform run`, or the pytest plugin when pytest is run
directly) creates a private directory and names it in the run's options (`EngineOptions.ledger_dir`, a pytest-xdist
worker's `workerinput`); every target of the run carries it (`Target.ledger_dir`).
Per vendor, one small fixed-size binary state record (requests sent, next slot, the ring below; `VENDOR.ledger`)
is read and rewritten in place under an exclusive `flock`: one request = one locked read-modify-write, so budget
and rate hold whatever the number of workers (and the preflight's requests count against the same budget). Binary,
not JSON: it is parsed and written twice per request, and the ring's JSON cost ~0.25 ms of CPU each time.

Pacing promises at most `rate` requests in ANY one-second window, as the vendor counts them, whatever happens
between a request's grant and its send. Two rules, both under the lock:
- spacing: a request waits for its slot and the next slot is counted from the moment that wait really ended (a
  late wake-up never lets the following requests bunch up); slots are 2 % wider than 1/rate;
- the window: the ledger keeps a ring of the last K = floor(rate) requests' actual send times (K at most
  `RING_MAX`) and grants request n+K only HEADROOM * K / rate seconds (1.02 s for an integer rate) after request
  n really went out. A request's grant time stands in for it until the Session reports the send (`sending()`,
  just before the request is written): a process descheduled between its grant and its send on a busy machine
  moves its own send later, and so the slot of the request K after it, instead of letting the vendor see
  `rate + 1` requests in one second.

Shards of one live run on several machines (CI matrix jobs) share one budget and one rate through a store they can
all reach: with `APICONFORM_LEDGER_URL=redis://HOST:PORT/DB` and `APICONFORM_RUN_ID` (the same value in every shard of
one run), the state lives in one Redis hash per target, changed by one atomic script that checks the budget, counts
the request and hands out its slot by the Redis server's clock (machines' clocks never need to agree); the client
sleeps until its slot outside any lock, so the shards take turns. Without a store, each shard of `--shard I/N` gets
budget/N (`shard_share`) and paces at the full rate on its own.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from pathlib import Path
from typing import Any

STORE_ENV = "APICONFORM_LEDGER_URL"  # a shared store (Redis) for the shards of one run
RUN_ID_ENV = "APICONFORM_RUN_ID"  # names the run in the shared store (the same in every shard)
HEADROOM = 1.02  # slot width = HEADROOM / rate
RING_MAX = 64  # send times kept: the window rule is exact for rates up to 64/s (above, spacing alone paces)
# the state record, fixed-size binary (parsing and writing it is on every request's path, twice): a header (magic,
# requests sent, next slot, ring length) then the ring's (send time, request number) pairs
_HEADER = struct.Struct("<4sqdi")
_SLOT = struct.Struct("<dq")
_MAGIC = b"ACL2"
RECORD = _HEADER.size + _SLOT.size * RING_MAX
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


def ring_window(rate: float | None) -> tuple[int, float]:
    """(K, seconds): request n+K goes out no earlier than `seconds` after request n did; (0, 0) without pacing."""
    if not rate:
        return 0, 0.0
    size = min(RING_MAX, max(1, int(rate)))
    return size, HEADROOM * size / rate


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
    """`take()` one request: raises Exhausted when the budget is spent, else waits for the request's slot; then
    `sending()` just before the request goes out records its actual send time (see the module's pacing rules)."""

    def __init__(self, key: str, budget: int | None, rate: float | None, directory: str | None = None,
                 store: str | None = None) -> None:
        self.budget = budget
        self.interval = slot_interval(rate)
        self.ring, self.window = ring_window(rate)
        self.path = Path(directory) / f"{key}.ledger" if directory else None
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"sent": 0, "next": 0.0, "ring": []}
        self._fd: tuple[int, int] | None = None  # (pid, descriptor): a forked child opens its own (flock is per open file)
        self._ticket = threading.local()  # the calling thread's last granted request, until it is sent
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
    def _read(fd: int) -> dict[str, Any]:
        """The record's state; a new (empty) or unreadable file is a run that has sent nothing yet."""
        try:
            data = os.pread(fd, RECORD, 0)
            magic, sent, next_slot, length = _HEADER.unpack_from(data)
            if magic != _MAGIC or not 0 <= length <= RING_MAX:
                raise ValueError(magic)
            end = _HEADER.size + _SLOT.size * length
            ring = [[t, n] for t, n in _SLOT.iter_unpack(data[_HEADER.size:end])]
            return {"sent": sent, "next": next_slot, "ring": ring}
        except (OSError, ValueError, struct.error):
            return {"sent": 0, "next": 0.0, "ring": []}

    @staticmethod
    def _write(fd: int, state: dict[str, Any]) -> None:
        ring = state["ring"]
        slots = b"".join(_SLOT.pack(t, n) for t, n in ring)
        os.pwrite(fd, _HEADER.pack(_MAGIC, int(state["sent"]), float(state["next"]), len(ring)) + slots, 0)

    def _locked(self, change: Any) -> Any:
        """`change(state)` under the run-wide lock: the process's own state, or the shared record under `flock`
        (one fixed-size record rewritten in place: no temporary file and rename per request, which on a loaded
        machine cost milliseconds each), read and written by every process alike."""
        if self.path is None:
            return change(self._state)
        import fcntl

        fd = self._descriptor()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            state = self._read(fd)
            try:
                return change(state)
            finally:
                self._write(fd, state)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def take(self, reserve: int = 0) -> float:
        """Spend one request of the budget and wait for its slot (under the lock); the seconds waited.
        `reserve`: requests of the budget this request may not use (kept for tests still to run). Also the clean-up's: one delete per record
        the run created that is still there (engine._writes)."""
        with self._lock:
            if self.store is not None:
                delay, self._ticket.value = self.store.take(self.budget, reserve, self.interval, self.ring, self.window)
                return delay
            delay, self._ticket.value = self._locked(lambda state: self._step(state, reserve))
            return float(delay)

    def sending(self) -> None:
        """The calling thread's granted request goes out now: its actual send time replaces its grant time in the
        ring (only ever later), so the request `K` after it keeps a full window's distance as the vendor sees it."""
        ticket = getattr(self._ticket, "value", None)
        if ticket is None:
            return
        self._ticket.value = None
        with self._lock:
            if self.store is not None:
                self.store.sending(ticket, self.ring)
            else:
                self._locked(lambda state: self._sent(state, int(ticket)))

    def _step(self, state: dict[str, Any], reserve: int = 0) -> tuple[float, Any]:
        if self.budget is not None and state["sent"] >= self.budget - reserve:
            raise Exhausted()
        number = int(state["sent"])
        state["sent"] += 1
        if not self.interval:
            return 0.0, None
        ring = state["ring"]
        ring.extend([[float("-inf"), -1]] * (self.ring - len(ring)))
        index = number % self.ring
        state["next"] = max(state["next"], ring[index][0] + self.window)  # a window after request number - K went out
        delay = wait_for_slot(state, self.interval)
        ring[index] = [state["next"] - self.interval, number]  # the grant stands in for the send until `sending()`
        return delay, number

    def _sent(self, state: dict[str, Any], number: int) -> None:
        ring = state["ring"]
        index = number % self.ring
        if index < len(ring) and ring[index][1] == number:
            ring[index][0] = max(ring[index][0], time.monotonic())

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
local ring, window = tonumber(ARGV[5]), tonumber(ARGV[6])
local sent = tonumber(redis.call('HGET', KEYS[1], 'sent') or '0')
if budget >= 0 and sent >= budget - reserve then return {-1, 0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'next') or '0'))
if ring > 0 then
  local i = sent % ring
  local last = redis.call('HGET', KEYS[1], 'r' .. i)
  if last then slot = math.max(slot, tonumber(last) + window) end
  redis.call('HSET', KEYS[1], 'r' .. i, slot, 'o' .. i, sent)
end
redis.call('HSET', KEYS[1], 'sent', sent + 1, 'next', slot + interval)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {slot - now, sent, now}
"""

_SENDING = """
local i, number, at = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if tonumber(redis.call('HGET', KEYS[1], 'o' .. i) or '-1') == number then
  if at > tonumber(redis.call('HGET', KEYS[1], 'r' .. i) or '0') then redis.call('HSET', KEYS[1], 'r' .. i, at) end
end
return 0
"""


class _RedisState:
    """One target's `{sent, next}` and send-time ring (`r<i>`, owned by request `o<i>`) in a Redis hash, changed
    atomically by Lua scripts (redis-py's `Script`), timed by the server's clock: the take script checks the budget,
    counts the request and hands out its slot; the client sleeps until then outside any lock, so shards take turns
    fairly; the sending script moves the request's ring entry to its actual send time."""

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
        self.mark = self.client.register_script(_SENDING)

    def clock(self) -> float:
        seconds, micros = self.client.time()
        return float(seconds) + micros / 1e6

    def take(self, budget: int | None, reserve: int, interval: float, ring: int = 0,
             window: float = 0.0) -> tuple[float, Any]:
        """Spend one request and wait for its slot; (the seconds waited, the ticket `sending()` takes). Raises
        Exhausted."""
        asked = time.monotonic()
        try:
            wait, number, now = (int(v) for v in self.script(keys=[self.key], args=[
                -1 if budget is None else budget, reserve, int(interval * 1e6), _STORE_TTL, ring, int(window * 1e6)]))
        except self._errors() as exc:
            raise self._down(exc) from None
        if wait < 0:
            raise Exhausted()
        if wait:
            time.sleep(wait / 1e6)
        # the server's clock when asked is at most `now`: now + the client's elapsed time since it asked is never
        # earlier than the send really is, in the server's clock
        return wait / 1e6, (number, now, asked) if ring else None

    def sending(self, ticket: tuple[int, int, float], ring: int) -> None:
        number, now, asked = ticket
        at = now + int((time.monotonic() - asked) * 1e6)
        try:
            self.mark(keys=[self.key], args=[number % ring, number, at])
        except self._errors() as exc:
            raise self._down(exc) from None

    @staticmethod
    def _errors() -> type[Exception]:
        import redis

        return redis.RedisError

    @staticmethod
    def _down(exc: Exception) -> Exception:
        from apiconform.errors import TargetUnavailable

        return TargetUnavailable(f"{STORE_ENV}: the shared budget store does not answer ({type(exc).__name__}); "
                                 f"no request is sent without it")

    def sent(self) -> int:
        value = self.client.hget(self.key, "sent")
        return int(value) if value is not None else 0
