"""Budgets that plan coverage (issue 26): every test of a live run gets its first case before any gets a second,
the plan's cost is printed before the first request, a budget too small for the first cases is refused (or, with
--partial, the run is incomplete and names what was cut), rolling runs take the next slice and accumulate coverage,
and the shards of one run share one budget through a real Redis server (or each take budget/N without one)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apiconform.cli import main
from apiconform.contracts import load_contract
from apiconform.engine import plan
from apiconform.engine._budget import make_plan
from apiconform.engine._ledger import Exhausted, Ledger, shard_share
from apiconform.engine._targets import Safety
from apiconform.errors import UsageError
from apiconform.mock import MockServer, mock_app
from tests.support.ports import free_port

OPS = "list_provider_enrolments,list_provider_notifications,list_provider_requests,read_provider"


@pytest.fixture
def tesla(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The TeSLA mock served over real HTTP, posing as a live vendor."""
    seen: list[str] = []
    app = mock_app("tesla-ce")

    async def counting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
        await app(scope, receive, send)

    server = MockServer(counting)
    url = server.start()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APICONFORM_TESLA_CE_ROLE_ID", "mock-tesla-ce-role")
    monkeypatch.setenv("APICONFORM_TESLA_CE_SECRET_ID", "mock-tesla-ce-secret")
    yield url, seen, tmp_path
    server.stop()


def run(tmp: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["run", *args, "--no-allure", "--no-progress", "--reports-dir", str(tmp / "reports")])


def cases(tmp: Path) -> list[dict[str, Any]]:
    return list(json.loads((tmp / "reports" / "run.json").read_text(encoding="utf-8"))["cases"])


def first_cost(vendor: str, operations: str, budget: int = 10_000) -> int:
    items = plan([vendor], operations=set(operations.split(",")))
    return make_plan(vendor, load_contract(vendor), items, replace(Safety.for_live(), max_requests=budget), 10).first


def test_a_budget_below_the_full_plan_still_runs_every_suite_of_every_operation(tesla: Any) -> None:
    """The issue's failure: 5/s and a budget that covers the first cases but not the full plan used to drop the
    whole negative suite (the auth tests) and pass. Now each test runs, with fewer cases, and the plan says so."""
    url, seen, tmp = tesla
    budget = first_cost("tesla-ce", OPS) + 4
    result = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--rate", "1000", "--max-requests", str(budget),
                 "--operation", OPS)
    assert result.exit_code == 0, result.output
    assert "plan tesla-ce: " in result.output and f"budget {budget}" in result.output and "instead of 10" in result.output
    ran = cases(tmp)
    auth = [c for c in ran if c["name"].startswith("auth[")]
    assert len(auth) == 4 and all(c["requests"] >= 2 for c in auth), auth
    starved = [c for c in ran if "request budget" in c.get("skipped", "") and not c["requests"]]
    assert not starved, starved
    assert len(seen) <= budget


def test_a_budget_that_cannot_cover_the_first_cases_is_refused_naming_the_budget_needed(tesla: Any) -> None:
    url, seen, tmp = tesla
    need = first_cost("tesla-ce", OPS)
    result = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--max-requests", str(need - 1), "--operation", OPS)
    assert result.exit_code == 2, result.output
    assert f"the plan needs {need}" in result.output and f"--max-requests {need}" in result.output
    assert "Traceback" not in result.output and seen == []  # refused before any request
    partial = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--rate", "1000", "--max-requests", str(need - 1),
                  "--operation", OPS, "--partial")
    assert partial.exit_code == 1 and "PARTIAL" in partial.output and "INCOMPLETE" in partial.output, partial.output
    cut = [c for c in cases(tmp) if c.get("skipped", "").startswith("cut by the request budget plan")]
    assert cut and all(f"{c['operation']} ({c['suite']})" in partial.output for c in cut)
    assert len(seen) <= need - 1


def test_the_plan_reserves_the_first_cases_of_the_tests_still_to_run() -> None:
    """A test that needs more than estimated cannot starve a later one: the reserve holds their first cases."""
    ledger = Ledger("reserve", budget=10, rate=None, directory=None, store="")
    for _ in range(7):
        ledger.take(reserve=3)
    with pytest.raises(Exhausted):
        ledger.take(reserve=3)  # the 8th would eat into the 3 kept for later tests
    for _ in range(3):
        ledger.take(reserve=0)  # ... which they then get
    with pytest.raises(Exhausted):
        ledger.take()


def test_a_partial_slice_cuts_whole_operations_and_rolling_takes_the_least_recent_first() -> None:
    contract = load_contract("tesla-ce")
    items = plan(["tesla-ce"], operations=set(OPS.split(",")))
    safety = replace(Safety.for_live(), max_requests=first_cost("tesla-ce", OPS) // 2)
    with pytest.raises(UsageError):
        make_plan("tesla-ce", contract, items, safety, 10)
    first = make_plan("tesla-ce", contract, items, safety, 10, partial=True)
    assert first.run and first.cut and first.planned <= safety.max_requests
    ran_ops = {i.subject for i in first.run}
    assert not ran_ops & {i.subject for i in first.cut}, "a slice cuts operations, never one suite of them"
    history = {i.history_key: "2026-12-01T00:00:00+00:00" for i in first.run}
    second = make_plan("tesla-ce", contract, items, safety, 10, partial=True, history=history)
    assert {i.key for i in second.run} <= {i.key for i in first.cut}, "the next slice takes what was cut"


def test_rolling_runs_take_the_next_slice_and_coverage_accumulates(tesla: Any) -> None:
    url, seen, tmp = tesla
    budget = first_cost("tesla-ce", OPS) // 2 + 2
    args = ["tesla-ce", "--target", f"tesla-ce={url}", "--rate", "1000", "--max-requests", str(budget),
            "--operation", OPS, "--rolling"]
    covered: list[int] = []
    for _ in range(6):  # a nightly schedule: each run takes the next slice
        result = run(tmp, *args)
        assert result.exit_code == 0, result.output  # a deferred test is listed, not a failure
        coverage = json.loads((tmp / "reports" / "coverage.json").read_text(encoding="utf-8"))
        covered.append(coverage["rolling"]["tests_covered"])
        if not coverage["rolling"]["never_covered"]:
            break
        assert "ROLLING:" in result.output
    assert len(covered) > 1 and all(a < b for a, b in zip(covered, covered[1:])), covered  # every run adds tests
    assert not coverage["rolling"]["never_covered"], coverage["rolling"]
    assert coverage["rolling"]["tests_covered"] == coverage["rolling"]["tests_planned"] == len(coverage["history"])


def test_without_a_shared_store_each_shard_gets_its_share_of_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APICONFORM_LEDGER_URL", raising=False)
    safety = replace(Safety.for_live(), max_requests=200)
    assert shard_share(safety, (1, 4)).max_requests == 50 and shard_share(safety, None).max_requests == 200
    monkeypatch.setenv("APICONFORM_LEDGER_URL", "redis://127.0.0.1:1/0")
    assert shard_share(safety, (1, 4)).max_requests == 200  # one budget, shared through the store


# ------------------------------------------------------------------ a real Redis server


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
    folder = tmp_path_factory.mktemp("redis")
    for _attempt in range(3):  # a free port can be taken between the pick and redis' bind: then another
        port = free_port()
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
        for _ in range(100):
            if not _free(port) or proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            break
    else:
        raise AssertionError("redis-server did not start on a free port (3 tries)")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.e2e
def test_shards_share_one_budget_and_one_rate_through_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two shards (two ledgers, as on two machines: no common directory) spend one budget and keep one rate."""
    monkeypatch.setenv("APICONFORM_RUN_ID", f"test-{time.time_ns()}")
    rate, budget = 10.0, 25
    shards = [Ledger("acme-1234", budget=budget, rate=rate, directory=None, store=redis_url) for _ in range(2)]
    stamps: list[float] = []
    spent = [0, 0]

    def work(n: int) -> None:
        while True:
            try:
                shards[n].take()
            except Exhausted:
                return
            stamps.append(time.monotonic())  # when the request would go out
            spent[n] += 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(spent) == budget and all(spent), spent  # one budget across both shards, both spent some
    assert shards[0].sent() == shards[1].sent() == budget
    stamps.sort()
    busiest = max(sum(1 for t in stamps if start <= t < start + 1.0) for start in stamps)
    assert busiest <= rate, (busiest, stamps)  # one rate across both shards, in any one-second window
    other = Ledger("acme-1234", budget=budget, rate=rate, directory=None, store=redis_url)
    monkeypatch.setenv("APICONFORM_RUN_ID", f"other-{time.time_ns()}")
    assert Ledger("acme-1234", budget=budget, rate=None, directory=None, store=redis_url).sent() == 0  # another run
    assert other.sent() == budget


@pytest.mark.e2e
def test_a_shard_sending_late_after_its_grant_delays_the_request_a_window_after_it(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through Redis as through the directory ledger: shard 0 is descheduled for 0.32 s between its grant and its
    send; shard 1's requests keep a full window's distance from that actual send (by the Redis server's clock)."""
    monkeypatch.setenv("APICONFORM_RUN_ID", f"late-{time.time_ns()}")
    late, other = (Ledger("acme-late", budget=None, rate=8, directory=None, store=redis_url) for _ in range(2))
    sends: list[float] = []
    late.take()
    granted, pending = time.monotonic(), True
    for _ in range(12):
        if pending and time.monotonic() - granted >= 0.32:
            late.sending()
            sends.append(time.monotonic())
            pending = False
        other.take()
        other.sending()
        sends.append(time.monotonic())
    sends.sort()
    busiest = max(sum(1 for t in sends if start <= t < start + 1.0) for start in sends)
    assert busiest <= 8, (busiest, [round(t - sends[0], 3) for t in sends])


def test_a_shared_store_without_a_run_id_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from apiconform.errors import ConfigError

    monkeypatch.delenv("APICONFORM_RUN_ID", raising=False)
    with pytest.raises(ConfigError, match="APICONFORM_RUN_ID"):
        Ledger("x", budget=1, rate=None, store="redis://127.0.0.1:1/0")

