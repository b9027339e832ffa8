"""Stopping a run on SIGINT/SIGTERM without losing what it judged, and without leaving processes behind.

The first SIGINT or SIGTERM raises `RunInterrupted` (a `KeyboardInterrupt`) in the main thread, wherever the run
is: the engine keeps every case that finished, the workers are told to stop (their sessions close, so what a run
created is cleaned up), and the caller writes the reports of a run marked interrupted. A second signal is an
order to stop at once: the workers are killed and the process exits with 128 + the signal's number, one line on
stderr, no traceback.

Worker processes stop on their first signal (the parent's SIGTERM, or the process group's SIGINT/SIGTERM) and
ignore the ones after it, so a group-wide signal and the parent's SIGTERM that follows it never cut their
clean-up short; they die with the parent (Linux: `PR_SET_PDEATHSIG`, else a watchdog thread).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from types import FrameType
from typing import Any

__all__ = ["STOP_GRACE", "RunInterrupted", "WorkerPool", "interruptible", "raise_pending", "resume", "shielded",
           "signal_name"]

#: seconds a stopping worker gets to close its sessions (clean-up of created records) before it is killed
STOP_GRACE = 10.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class RunInterrupted(KeyboardInterrupt):
    """The run was asked to stop (SIGINT or SIGTERM): a `KeyboardInterrupt`, so code that handles Ctrl-C handles it."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum

    @property
    def name(self) -> str:
        return signal_name(self.signum)


_SHIELD = {"depth": 0, "pending": 0}  # inside `shielded()`: a first signal waits for the block's end


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A block a first SIGINT/SIGTERM must not cut short (deleting what the run created): the interruption is
    raised when the block ends. A second signal in the parent still forces the exit (`interruptible`). Python runs
    signal handlers in the main thread only: elsewhere there is nothing to shield (and the count stays the main
    thread's alone)."""
    with deferred():
        yield
    raise_pending()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Like `shielded()`, but a signal that lands in the block stays pending for the next `raise_pending()` instead of
    being raised at its end: for a read that must not be cut in half (a worker's message taken off the result queue:
    interrupted between its length and its bytes, the queue's stream is out of step for every later read) and whose
    result must not be lost either (the caller hands it on, then calls `raise_pending()`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SHIELD["depth"] += 1
    try:
        yield
    finally:
        _SHIELD["depth"] -= 1


def _raise_unless_shielded(signum: int) -> None:
    if _SHIELD["depth"]:
        _SHIELD["pending"] = signum
        return
    import warnings

    # an embedded mock's request cut short leaves a coroutine that will never run: not worth a warning on stderr
    warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
    raise RunInterrupted(signum)


def raise_pending() -> None:
    """Raise the interruption a signal asked for that has not been raised yet: one deferred by `shielded()`, or one
    Python swallowed because the handler ran inside a `__del__` or another finalizer (`_swallowed`). Called where a
    unit of work starts (each item, each request sent)."""
    if _SHIELD["pending"] and not _SHIELD["depth"] and threading.current_thread() is threading.main_thread():
        signum, _SHIELD["pending"] = _SHIELD["pending"], 0
        raise RunInterrupted(signum)


def _swallowed(previous: Callable[[Any], None]) -> Callable[[Any], None]:
    """A `sys.unraisablehook`: a RunInterrupted raised inside a finalizer (the signal handler runs at whatever Python
    code the main thread executes, garbage collection's `__del__` calls included - an event loop's, once per embedded
    mock item) cannot propagate and was printed as "Exception ignored in ..." with a traceback, and the stop was lost:
    a worker that had taken its one signal kept running until killed. Kept as pending instead (`raise_pending`), and
    never printed."""

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, RunInterrupted):
            _SHIELD["pending"] = _SHIELD["pending"] or unraisable.exc_value.signum
            return
        previous(unraisable)

    return hook


def resume(source: Generator[Any, None, None], stop: BaseException) -> Iterator[Any]:
    """What the generator `source` still yields once `stop` is thrown into it at its paused yield (nothing if the
    interruption came from inside it and ended it): how an interrupted stream hands over its last results."""
    try:
        first = source.throw(stop)
    except (KeyboardInterrupt, StopIteration):
        return
    yield first
    try:
        yield from source
    except KeyboardInterrupt:
        return


# --------------------------------------------------------------------------------------------- the main process
_CHILDREN: dict[int, Any] = {}  # pid -> multiprocessing.Process of the pool(s) running now (the forced exit kills them)


class _Handler:
    """First signal: raise RunInterrupted (while armed) or remember it; any later one: stop at once."""

    def __init__(self, on_force: Callable[[int], None] | None) -> None:
        self.pid = os.getpid()
        self.armed = True
        self.received: int | None = None
        self.on_force = on_force

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self.pid:  # a worker forked a moment ago, before it installed its own handler
            raise RunInterrupted(signum)
        if self.received is None:
            self.received = signum
            if self.armed:
                _raise_unless_shielded(signum)
            return
        for process in list(_CHILDREN.values()):
            with contextlib.suppress(Exception):
                process.kill()
        if self.on_force is not None:
            self.on_force(signum)
        os._exit(128 + signum)


@contextlib.contextmanager
def interruptible(on_force: Callable[[int], None] | None = None) -> Iterator[_Handler]:
    """SIGINT/SIGTERM handling for one run in this (main) thread; restores the previous handlers after.
    `handler.armed = False` once nothing may be interrupted any more (the reports are being written): a first
    signal is then only remembered (`handler.received`). Nested (the CLI around `gate.execute`), the handler already
    in place is reused, so a signal the inner run consumed still makes the next one a forced exit. Elsewhere than
    the main thread: nothing is installed."""
    current = signal.getsignal(signal.SIGINT)
    if isinstance(current, _Handler) and current.pid == os.getpid():
        armed = current.armed
        current.armed = True
        try:
            yield current
        finally:
            current.armed = armed
        return
    handler = _Handler(on_force)
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    unraisable = sys.unraisablehook
    for signum in _SIGNALS:
        signal.signal(signum, handler)
    sys.unraisablehook = _swallowed(unraisable)
    try:
        yield handler
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        sys.unraisablehook = unraisable


# --------------------------------------------------------------------------------------------- worker processes
def _worker_signals(parent: int) -> None:
    """In a worker: the first SIGINT/SIGTERM raises RunInterrupted (its sessions close on the way out), later ones are
    ignored; the worker gets SIGTERM when the parent dies."""
    state = {"stopping": False}

    def handler(signum: int, frame: FrameType | None) -> None:
        if not state["stopping"]:
            state["stopping"] = True
            _raise_unless_shielded(signum)

    for signum in _SIGNALS:
        signal.signal(signum, handler)
    sys.unraisablehook = _swallowed(sys.unraisablehook)
    if not _die_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the request above was in place
        os.kill(os.getpid(), signal.SIGTERM)


def _die_with_parent() -> bool:
    """Linux: the kernel sends SIGTERM to this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        pr_set_pdeathsig = 1
        return bool(ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


class _Done:
    """A worker's last message: it ran out of work (or stopped); `error` if it failed."""

    def __init__(self, pid: int, error: str = "", user_error: Exception | None = None) -> None:
        self.pid, self.error = pid, error
        self.user_error = user_error  # an ApiconformError (a target that cannot be built): raised as it is


def _worker_main(parent: int, run: Callable[[Any, Callable[[Any], None]], None], units: list[Any], next_unit: Any,
                 results: Any) -> None:
    _worker_signals(parent)
    error = ""
    user_error: Exception | None = None

    def emit(result: Any) -> None:
        # never cut by a signal: raised inside Queue.put (or at a `with lock:`), RunInterrupted could leave the queue's
        # lock held and the next put - the worker's last message - waited for ever (seen: a run still running 10 s
        # after the signal, its worker in Queue.put's `with self._notempty`); the stop is raised once the put is done
        with shielded():
            results.put(result)

    try:
        while True:
            with shielded(), next_unit.get_lock():  # the other workers take their units under the same lock
                index = next_unit.value
                next_unit.value += 1
            if index >= len(units):
                break
            run(units[index], emit)
    except KeyboardInterrupt:
        pass  # asked to stop: what finished was sent, the sessions are closed
    except BaseException as exc:  # noqa: BLE001 - the parent reports it: never a silent partial run
        error = f"{type(exc).__name__}: {exc}"
        from apiconform.errors import ApiconformError

        user_error = exc if isinstance(exc, ApiconformError) else None
    with contextlib.suppress(KeyboardInterrupt):  # a signal during the last put: raised after it, nothing left to stop
        emit(_Done(os.getpid(), error, user_error))


class WorkerPool:
    """Worker processes that call `run(unit, emit)` for every unit (taken in turn); what `run` emits reaches the
    parent at once and is yielded by `results()`.

    Iterating yields the results as they arrive. A worker that fails or dies is an error (never a silent partial
    run). Interrupting `results()` (`RunInterrupted` raised into it, or closing it) stops the workers: each gets
    SIGTERM, has `STOP_GRACE` seconds to finish its clean-up, and is killed after that; results that arrive while
    they stop are still yielded when the interruption is thrown in."""

    def __init__(self, run: Callable[[Any, Callable[[Any], None]], None], units: list[Any], workers: int) -> None:
        import multiprocessing

        # fork: workers inherit the loaded contracts and compiled validators instead of loading them again
        context: Any = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        self.queue = context.Queue()
        next_unit = context.Value("i", 0)
        self.processes = [context.Process(target=_worker_main, daemon=True,
                                               args=(os.getpid(), run, units, next_unit, self.queue))
                          for _ in range(max(1, min(workers, len(units))))]

    def results(self) -> Generator[Any, None, None]:
        import queue

        running: set[int] = set()
        try:
            for process in self.processes:
                process.start()
                _CHILDREN[process.pid] = process
                running.add(process.pid)
            try:
                while running:
                    raise_pending()  # a signal deferred by the read below, or swallowed by a finalizer, stops the run
                    try:
                        with deferred():  # never cut a message in half: the result is handed on, then the stop
                            result = self.queue.get(timeout=0.2)
                    except queue.Empty:
                        dead = [p for p in self.processes if p.pid in running and not p.is_alive()]
                        if dead and self._quiet():
                            raise RuntimeError(f"a worker process died (exit code {dead[0].exitcode})") from None
                        continue
                    if isinstance(result, _Done):
                        running.discard(result.pid)
                        if result.user_error is not None:
                            raise result.user_error  # one line for the user, as in a single process
                        if result.error:
                            raise RuntimeError(f"a worker process failed: {result.error}")
                        continue
                    yield result
            except KeyboardInterrupt:
                yield from self._stop(running)
                raise
        finally:
            self._stop_now(running)

    def _quiet(self) -> bool:
        """Nothing left in the queue (a dead worker's last results are read before it counts as dead)."""
        time.sleep(0.1)
        return bool(self.queue.empty())

    def _stop(self, running: set[int]) -> Iterator[Any]:
        """Ask every worker to stop, keep reading what they send while they close their sessions."""
        import pickle
        import queue

        for process in self.processes:
            if process.pid in running and process.is_alive():
                with contextlib.suppress(OSError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while running and time.monotonic() < deadline:
            try:
                with deferred():
                    result = self.queue.get(timeout=0.1)
            except queue.Empty:
                running.intersection_update(p.pid for p in self.processes if p.is_alive())
                continue
            except (EOFError, OSError, ValueError, pickle.UnpicklingError):
                break  # a message a worker killed mid-write left unreadable: the rest is drained as bytes (_stop_now)
            if isinstance(result, _Done):
                running.discard(result.pid)
            else:
                yield result

    def _stop_now(self, running: set[int]) -> None:
        """Every worker gone: the ones still running get SIGTERM, a moment, then SIGKILL."""
        alive = [p for p in self.processes if p.pid is not None and p.is_alive()]
        for process in alive:
            if process.pid in running:
                with contextlib.suppress(OSError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + (STOP_GRACE if any(p.pid in running for p in alive) else 2.0)
        # a worker exits only once its queue is flushed: what it still sends is read and dropped as raw bytes, never
        # with queue.get, which waits without end for the rest of a message a dying worker wrote only part of
        # (seen: a run still running 10 s after the signal, the parent in _recv_bytes, the worker a zombie)
        import select

        reader = self.queue._reader.fileno()  # multiprocessing.Queue's receiving end (CPython 3.8+)
        while any(p.is_alive() for p in alive) and time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if select.select([reader], [], [], 0.1)[0]:
                    os.read(reader, 1 << 16)
        for process in alive:
            if process.is_alive():
                process.kill()
            process.join(timeout=2)
        for process in self.processes:
            _CHILDREN.pop(process.pid, None)
        self.queue.close()
        self.queue.cancel_join_thread()
