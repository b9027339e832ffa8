"""engine._stop: how a run is interrupted (the signal handlers, the shield around clean-up, the worker pool)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apiconform.engine._stop import RunInterrupted, WorkerPool, interruptible, shielded


def test_a_signal_while_inputs_are_validated_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's handler is armed until the gate returns: a first signal during validation was swallowed (the
    gate's own handler was not installed yet) and the run went on to the preflight and the tests."""
    import apiconform.gate._run as gate
    from apiconform.cli import main

    validate = gate.validate_options

    def interrupted_while_validating(options: Any) -> list[str]:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)
        return validate(options)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(gate, "validate_options", interrupted_while_validating)
    result = CliRunner().invoke(main, ["run", "goodstack", "--no-allure", "--no-progress"])
    assert result.exit_code == 4, result.output
    assert result.stderr.splitlines() == ["apiconform: interrupted by SIGTERM before any test ran; nothing written"]
    assert not (tmp_path / "reports" / "run.json").exists()


def test_an_armed_handler_raises_at_once_and_is_restored_after() -> None:
    with interruptible() as outer:
        with pytest.raises(RunInterrupted) as caught:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert caught.value.name == "SIGTERM" and outer.received == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


def test_nested_handlers_share_one_state_and_disarmed_only_remember() -> None:
    with interruptible() as outer:
        outer.armed = False
        with interruptible() as inner:
            assert inner is outer and inner.armed
            inner.armed = False  # the reports are being written
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            assert inner.received == signal.SIGINT  # remembered, not raised
        assert outer.armed is False


def test_a_shielded_block_finishes_and_the_interruption_follows() -> None:
    steps: list[str] = []
    with interruptible(), pytest.raises(RunInterrupted):
        with shielded():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            steps.append("clean-up finished")
        steps.append("never")
    assert steps == ["clean-up finished"]


def _count(unit: int, emit: Callable[[Any], None]) -> None:
    for i in range(unit):
        emit((unit, i))


def _slow(unit: int, emit: Callable[[Any], None]) -> None:
    try:
        for i in range(1000):
            emit((unit, i))
            time.sleep(0.05)
    finally:
        emit((unit, "cleaned up"))  # what a stopping worker emits in its finally reaches the parent


def _fail(unit: int, emit: Callable[[Any], None]) -> None:
    raise ValueError(f"unit {unit} broke")


def test_worker_pool_streams_every_result() -> None:
    results = list(WorkerPool(_count, [3, 1, 2], 2).results())
    assert sorted(results) == sorted((u, i) for u in (3, 1, 2) for i in range(u))


def test_a_failing_worker_is_an_error_never_a_partial_run() -> None:
    with pytest.raises(RuntimeError, match="a worker process failed: ValueError: unit 1 broke"):
        list(WorkerPool(_fail, [1], 1).results())


def test_an_interrupted_pool_stops_its_workers_and_hands_over_their_last_results() -> None:
    pool = WorkerPool(_slow, [1, 2], 2)
    stream = pool.results()
    seen = {next(stream)}
    while {u for u, _ in seen} != {1, 2}:  # both units are running (a unit not started yet has nothing to clean up)
        seen.add(next(stream))
    first = sorted(seen)[0]
    started = time.monotonic()
    rest = []
    try:
        rest.append(stream.throw(RunInterrupted(signal.SIGINT)))
        rest.extend(stream)
    except KeyboardInterrupt:
        pass
    assert time.monotonic() - started < 5
    assert first and {(1, "cleaned up"), (2, "cleaned up")} <= set(rest)
    assert not any(p.is_alive() for p in pool.processes)


def test_a_signal_while_the_parent_reads_a_result_never_cuts_the_message_nor_loses_it() -> None:
    """A signal landing inside the parent's read of a worker's message (between its length and its bytes) put the
    queue's stream out of step: the next read during the stop failed with `EOFError: Ran out of input`, an internal
    error instead of the interrupted run (CI, test_signal_stops_a_live_run[term-group-2]). The read now completes,
    the message is handed on, and the stop follows."""
    pool = WorkerPool(_count, [3], 1)
    real_get = pool.queue.get
    calls = {"n": 0}

    def get(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:  # the signal arrives while this read is under way
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        return real_get(*args, **kwargs)

    pool.queue.get = get  # type: ignore[method-assign]
    seen: list[Any] = []
    with interruptible(), pytest.raises(RunInterrupted):
        for result in pool.results():
            seen.append(result)
    assert seen and seen[0] == (3, 0), seen  # the message read when the signal came is not lost
    assert not any(p.is_alive() for p in pool.processes)


@pytest.mark.parametrize("where", ["loop", "request", "close"])
def test_an_interrupted_in_process_request_leaves_no_asyncio_noise(where: str, monkeypatch: pytest.MonkeyPatch,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The signal lands while an embedded mock's request builds its private event loop (between the loop's
    allocation and the end of its __init__), or while the request runs on it. Seen under load: "Exception ignored in
    BaseEventLoop.__del__ ... no attribute '_ssock'" and "Task was destroyed but it is pending!" on the user's stderr
    after the one-line interruption message. Now: RunInterrupted, then nothing unraisable, nothing logged by asyncio."""
    import asyncio
    import gc
    import sys

    import httpx

    from apiconform.engine import _stop
    from apiconform.engine._transports import SyncASGITransport

    def signal_now() -> None:
        _stop._raise_unless_shielded(signal.SIGINT)  # what the installed handler does on SIGINT

    def new_event_loop() -> asyncio.AbstractEventLoop:
        loop = asyncio.SelectorEventLoop.__new__(asyncio.SelectorEventLoop)
        signal_now()
        loop.__init__()  # type: ignore[misc]
        return loop

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if where == "request":
            await asyncio.sleep(0)
            signal_now()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    if where == "loop":
        monkeypatch.setattr(asyncio, "new_event_loop", new_event_loop)
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    transport = SyncASGITransport(app)
    if where == "close":  # the request is answered; the signal lands inside the loop's close()
        assert transport.handle_request(httpx.Request("GET", "http://mock.test/accounts")).status_code == 200
        from asyncio import selector_events

        close_self_pipe, signalled = selector_events.BaseSelectorEventLoop._close_self_pipe, []

        def closing(loop: Any) -> None:
            close_self_pipe(loop)
            if not signalled:
                signalled.append(True)
                signal_now()

        monkeypatch.setattr(selector_events.BaseSelectorEventLoop, "_close_self_pipe", closing)
        with pytest.raises(RunInterrupted):
            transport.close()
    else:
        with pytest.raises(RunInterrupted):
            transport.handle_request(httpx.Request("GET", "http://mock.test/accounts"))
        transport.close()
    del transport
    gc.collect()
    assert unraisable == []
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_a_signal_the_handler_raised_inside_a_finalizer_still_stops_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Python runs the signal handler at whatever the main thread executes, a garbage-collected object's `__del__`
    included (an embedded mock's event loop, once per item). Raised there, RunInterrupted could not propagate: it was
    printed ("Exception ignored in ... __del__", a traceback) and lost, so a worker that had taken its one signal ran
    on until killed (`still running 10 s after the signal`). Now it is kept and raised before the next request."""
    import gc

    import httpx

    from apiconform.engine import _stop
    from apiconform.engine._session import Session
    from apiconform.engine._targets import mock_target

    class Finalized:
        def __del__(self) -> None:
            _stop._raise_unless_shielded(signal.SIGTERM)  # what the installed handler does, run inside a finalizer

    with interruptible():
        session = Session(mock_target("eduframe"))
        op = session.target.contract.operations["list_accounts"]
        request = httpx.Request("GET", session.target.base_url + op.path)
        assert session.send(op, request).status == 200
        Finalized()
        gc.collect()
        with pytest.raises(RunInterrupted) as stopped:
            session.send(op, request)
        session.close()
    assert stopped.value.signum == signal.SIGTERM and session.sent == 1  # nothing sent after the signal
    assert "Exception ignored" not in capsys.readouterr().err
