"""Drawing the next cases and judging the last answer while a request is on the wire.

Against a target over HTTP the client idles while the target answers (the socket wait releases the GIL). Neither
drawing and building the test's next cases nor judging the previous answer (`Recorder.observe`: the checks, shapes,
enums, the sample) depends on the answer awaited, so other threads do them meanwhile:
- `ahead(produce, consume)`: `produce` (the draws and the requests they become, in draw order) runs on a thread of
  its own, handing each result over; this thread `consume`s them in that order (the sends, and whatever else talks
  to the target, stay on this thread);
- `submit(call)`: one judging thread, first in first out, so a recorder sees its exchanges in the order they were
  sent; `drain()` waits for everything handed over (and raises what it raised) before the recorder is read.
An embedded mock answers in this thread (nothing to overlap): there `Overlap(False)` calls everything inline, in
the same order. Hypothesis draws, where a sampler cannot be compiled, take one lock (`engine._draws`).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

#: while work is handed over, the thread waiting for the GIL (the sender, its answer arrived) takes it after this
#: long at most (CPython's default, 5 ms, could add up to that to every request)
SWITCH_INTERVAL = 0.0005

_jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Overlap] | None] | None = None
_start = threading.Lock()


def _work() -> None:
    assert _jobs is not None
    while True:
        job = _jobs.get()
        if job is None:
            return
        call, args, kwargs, owner = job
        try:
            call(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - raised in the sender's thread by drain()
            owner._failed = owner._failed or exc
        finally:
            owner._done.release()


def _queue() -> queue.SimpleQueue[Any]:
    global _jobs
    with _start:
        if _jobs is None:
            _jobs = queue.SimpleQueue()
            threading.Thread(target=_work, name="apiconform-judge", daemon=True).start()
        return _jobs


def _forked() -> None:
    """A forked child (the engine's worker processes) has no judging thread: its own starts on first use (the
    parent's queue, served by no one there, hung every live item of a `--workers 2` run)."""
    global _jobs, _start
    _jobs, _start = None, threading.Lock()


os.register_at_fork(after_in_child=_forked)


class _Stopped(Exception):
    """The consumer stopped taking items: the producer ends quietly."""


class Overlap:
    """Calls handed over run in order on the judging thread (`on`), or at once in this thread (not `on`)."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self._pending = 0
        self._done = threading.Semaphore(0)
        self._failed: BaseException | None = None
        self._interval: float | None = None

    def _switching(self) -> None:
        if self._interval is None:
            self._interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._interval, SWITCH_INTERVAL))

    def ahead(self, produce: Callable[[Callable[[T], None]], R], consume: Callable[[T], None]) -> R:
        """`produce(emit)` calls `emit` with each item; `consume` gets each, in order, in this thread. Returns what
        `produce` returned; an exception of `produce` is raised here after the items it emitted were consumed."""
        if not self.on:
            return produce(consume)
        self._switching()
        handed: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
        stopped = threading.Event()

        def emit(item: T) -> None:
            if stopped.is_set():
                raise _Stopped()
            handed.put((0, item))

        def run() -> None:
            try:
                handed.put((1, produce(emit)))
            except _Stopped:
                pass
            except BaseException as exc:  # noqa: BLE001 - raised in the consuming thread
                handed.put((2, exc))

        threading.Thread(target=run, name="apiconform-draw", daemon=True).start()
        try:
            while True:
                kind, value = handed.get()
                if kind == 0:
                    consume(value)
                elif kind == 1:
                    return cast(R, value)
                else:
                    raise value
        finally:
            stopped.set()  # consumed no further (done, or `consume` raised): the producer stops at its next item

    def submit(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if not self.on:
            call(*args, **kwargs)
            return
        self._raise()
        self._switching()
        self._pending += 1
        _queue().put((call, args, kwargs, self))

    def drain(self) -> None:
        """Wait for every call handed over; raise the first exception one raised."""
        try:
            while self._pending:
                self._done.acquire()
                self._pending -= 1
        finally:
            if self._interval is not None:
                sys.setswitchinterval(self._interval)
                self._interval = None
        self._raise()

    def _raise(self) -> None:
        if self._failed is not None:
            failed, self._failed = self._failed, None
            raise failed
