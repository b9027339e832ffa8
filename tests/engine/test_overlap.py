"""Drawing the next cases and judging the last answer while a request is on the wire (engine._overlap): over HTTP
the draws and the judging run on other threads, in the same order, with the same verdicts as inline."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest

from apiconform._defaults import LIVE_DEFAULTS
from apiconform.contracts import load_contract
from apiconform.engine import _suites
from apiconform.engine._discovery import Discovery
from apiconform.engine._overlap import Overlap
from apiconform.engine._session import Session
from apiconform.engine._suites import run_negative, run_properties
from apiconform.engine._targets import Safety, http_target
from apiconform.mock import MockServer, build_app


def test_ahead_hands_items_over_in_order_and_returns_what_produce_returned() -> None:
    seen: list[tuple[int, int]] = []
    overlap = Overlap(True)

    def produce(emit: Any) -> str:
        for i in range(50):
            emit((i, threading.get_ident()))
        return "done"

    assert overlap.ahead(produce, seen.append) == "done"
    assert [i for i, _ in seen] == list(range(50))
    assert {t for _, t in seen} != {threading.get_ident()}  # produced on another thread
    inline: list[tuple[int, int]] = []
    assert Overlap(False).ahead(produce, inline.append) == "done"
    assert {t for _, t in inline} == {threading.get_ident()}


def test_ahead_raises_the_producers_error_after_its_items_and_stops_a_producer_no_one_reads() -> None:
    got: list[int] = []

    def failing(emit: Any) -> None:
        emit(1)
        emit(2)
        raise KeyError("drawn badly")

    with pytest.raises(KeyError):
        Overlap(True).ahead(failing, got.append)
    assert got == [1, 2]
    produced: list[int] = []
    finished = threading.Event()

    def endless(emit: Any) -> None:
        try:
            for i in range(10_000):
                produced.append(i)
                emit(i)
        finally:
            finished.set()

    def consume(item: int) -> None:
        if item == 3:
            raise RuntimeError("budget")

    with pytest.raises(RuntimeError):
        Overlap(True).ahead(endless, consume)
    assert finished.wait(5) and len(produced) < 10_000


def test_submitted_calls_run_in_order_off_this_thread_and_drain_raises_the_first_failure() -> None:
    order: list[int] = []
    overlap = Overlap(True)
    threads: set[int] = set()

    def note(i: int) -> None:
        threads.add(threading.get_ident())
        order.append(i)

    for i in range(200):
        overlap.submit(note, i)
    overlap.drain()
    assert order == list(range(200)) and threading.get_ident() not in threads

    def boom() -> None:
        raise ValueError("a check crashed")

    overlap.submit(boom)
    overlap.submit(note, 200)
    with pytest.raises(ValueError):
        overlap.drain()
    assert order[-1] == 200


OPERATIONS = ["list_accounts", "get_account", "create_course", "patch_category", "list_teachers", "create_user",
              "update_label", "get_invoice", "list_planned_courses", "create_lead"]


def _results(overlapped: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict[str, Any]], list[int]]:
    """The eduframe properties and negative results of OPERATIONS against a fresh mock served over HTTP, with the
    overlap on or forced off; and the threads each case was built on (`pin_path`)."""
    built_on: list[int] = []
    pin = _suites.pin_path

    def pinned(*args: Any, **kwargs: Any) -> Any:
        built_on.append(threading.get_ident())
        return pin(*args, **kwargs)

    monkeypatch.setattr(_suites, "pin_path", pinned)
    if not overlapped:
        monkeypatch.setattr(_suites, "Overlap", lambda on: Overlap(False))
    app = build_app(load_contract("eduframe"), seed=5)
    creds = dict(app.behaviour.credentials())
    results = []
    with MockServer(app) as url:
        safety = dataclasses.replace(Safety.of(LIVE_DEFAULTS, allow_writes=True), rate=None, max_requests=None)
        session = Session(http_target("eduframe", url, creds, safety=safety))
        discovery = Discovery(session)
        contract = session.target.contract
        for name in OPERATIONS:
            op = contract.operation(name)
            for run in (run_properties, run_negative):
                rec = run(session, op, 6, 11, discovery)
                results.append({"name": rec.name, "findings": sorted(rec.findings), "checks": sorted(rec.checks),
                                "categories": sorted(c.value for c in rec.categories), "skipped": rec.skipped,
                                "notes": rec.notes, "requests": rec.requests, "statuses": rec.statuses,
                                "sample": rec.sample is not None, "shapes": rec.record.shapes})
        session.close()
    return results, built_on


def test_a_live_run_draws_on_another_thread_and_judges_exactly_as_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    overlapped, threads = _results(True, monkeypatch)
    monkeypatch.undo()
    inline, inline_threads = _results(False, monkeypatch)
    here = threading.get_ident()
    # the cases were built while the target answered; here only the first valid case's real references, once per test
    assert threads.count(here) <= len(OPERATIONS) < len(threads) - threads.count(here)
    assert set(inline_threads) == {here} and len(inline_threads) == len(threads)
    assert overlapped == inline
    assert sum(r["requests"] for r in inline) > 60


def test_a_forked_worker_judges_on_a_thread_of_its_own() -> None:
    """The engine's worker processes are forked: a judging thread started in the parent does not exist there, and a
    child handing work to the parent's queue waited for ever (a `--workers 2` live run hung)."""
    import os
    import time

    warm = Overlap(True)
    warm.submit(lambda: None)
    warm.drain()  # the parent's judging thread is running
    pid = os.fork()
    if pid == 0:  # the child: judge something, exit 0 only if it was judged
        done: list[int] = []
        child = Overlap(True)
        child.submit(done.append, 1)
        child.drain()
        os._exit(0 if done == [1] else 1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child never got its work judged")
