"""Regression tests for issue 13 (hostile vendors and bad config), each against loopback servers.

Live safety (settings validated, budget and rate global to a run, preflight inside the budget and size-capped,
Retry-After dates), crashes and hangs (deep JSON, slow drip, alias bombs, remote $refs, bad local inputs) and
secrets in --target URLs. Timed assertions are bounds a broken implementation misses by far.
"""

from __future__ import annotations

import gzip
import json
import socket
import tempfile
import threading
import time
import tracemalloc
from email.utils import formatdate
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from apiconform.engine.checks import POSITIVE, CheckContext, run_checks
from apiconform.cli import main
from apiconform.errors import ConfigError
from apiconform.engine._session import Session
from apiconform.findings import Category
from apiconform.mock import MockServer, mock_app
from apiconform.engine._targets import Safety, http_target

VENDOR = "eduframe"
TOKEN = "Zqhardening0123456789"


class Counting:
    def __init__(self, app: Any) -> None:
        self.app, self.seen = app, []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"], time.monotonic()))
        await self.app(scope, receive, send)


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    app = mock_app(VENDOR)
    getattr(app, "mock", app).behaviour.credentials = lambda: {"token": TOKEN}
    counting = Counting(app)
    server = MockServer(counting)
    url = server.start()
    monkeypatch.setenv("HARDEN_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path)
    yield url, counting, tmp_path
    server.stop()


def write_config(tmp: Path, extra: str = "") -> None:
    (tmp / "apiconform.toml").write_text(f'[targets.{VENDOR}]\ncredentials = {{ token = "HARDEN_TOKEN" }}\n{extra}',
                                         encoding="utf-8")


def run(url: str, tmp: Path, *extra: str) -> Any:
    return CliRunner().invoke(main, ["run", VENDOR, "--target", f"{VENDOR}={url}", "--no-allure", "--no-progress",
                                     "--reports-dir", str(tmp / "reports"), *extra])


def one_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


# ------------------------------------------------------------------ settings: type, range, finite


@pytest.mark.parametrize("setting, needle", [
    ('allow_writes = "false"', "allow_writes"), ("max_requests = 0.4", "max_requests"),
    ("max_body_mb = 1e-9", "max_body_mb"), ("rate = -5", "rate"), ("rate = nan", "rate"), ("rate = inf", "rate"),
    ("read_timeout = 0", "read_timeout"), ('max_requests = "20"', "max_requests"),
])
def test_bad_config_setting_is_one_line_exit_2_and_nothing_is_sent(live: Any, setting: str, needle: str) -> None:
    url, counting, tmp = live
    write_config(tmp, setting + "\n")
    result = run(url, tmp, "--suite", "properties", "--allow-writes")
    assert result.exit_code == 2 and needle in one_line(result)
    assert counting.seen == []  # not even the preflight


@pytest.mark.parametrize("option", [["--rate", "-5"], ["--rate", "nan"], ["--rate", "inf"], ["--rate", "0"]])
def test_bad_cli_rate_is_rejected(live: Any, option: list[str]) -> None:
    url, counting, tmp = live
    result = run(url, tmp, *option)
    assert result.exit_code == 2 and "--rate" in one_line(result) and counting.seen == []


def test_string_false_never_turns_writes_on() -> None:
    from apiconform.config import _parse

    with pytest.raises(ConfigError, match="allow_writes"):
        _parse(Path("apiconform.toml"), {"targets": {VENDOR: {"allow_writes": "false"}}}, "")


# ------------------------------------------------------------------ budget and rate are global to a run


def test_budget_and_rate_hold_across_xdist_workers_and_include_the_preflight(live: Any) -> None:
    url, counting, tmp = live
    result = run(url, tmp, "--workers", "2", "--max-requests", "16", "--rate", "8", "--suite", "properties,negative", "--partial",
                 "--operation", "list_accounts,get_account,list_categories,get_category", "--max-examples", "6")
    assert result.exit_code in (0, 1), result.output
    times = sorted(t for *_, t in counting.seen)
    assert len(times) <= 16, f"{len(times)} requests for a budget of 16 at 2 workers"
    assert len(times) >= 10
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 8, f"{busiest} requests in one second at --rate 8 (any window, as the vendor counts)"


def test_a_request_sent_late_after_its_grant_delays_the_request_a_window_after_it() -> None:
    """Two workers of one run (two Sessions, one ledger directory) at rate 8: the first request's process is
    descheduled for 0.32 s between its grant and its send (as on a loaded machine). Paced by grant times, the other
    worker's requests 3..10 land in the same second as that late one: 9 in one second, as the vendor counts. The
    ledger paces by actual send times, so request 8 waits a window after the late send."""
    app = mock_app(VENDOR)
    getattr(app, "mock", app).behaviour.credentials = lambda: {"token": TOKEN}
    counting = Counting(app)
    with MockServer(counting) as url, tempfile.TemporaryDirectory() as ledger_dir:
        sessions = []
        for _ in range(2):
            target = http_target(VENDOR, url, credentials={"token": TOKEN}, safety=Safety(rate=8.0, max_requests=100))
            target.ledger_dir = ledger_dir
            sessions.append(Session(target))
        late, other = sessions
        op = late.target.contract.operations["list_accounts"]
        assert late.ledger is not None
        granted, take = threading.Event(), late.ledger.take

        def descheduled_after_the_grant(reserve: int = 0) -> float:
            waited = take(reserve)
            granted.set()
            time.sleep(0.32)
            return waited

        late.ledger.take = descheduled_after_the_grant  # type: ignore[method-assign]
        worker = threading.Thread(target=lambda: late.send(op, httpx.Request("GET", url + "/accounts")))
        worker.start()
        assert granted.wait(10)
        for _ in range(12):
            assert other.send(op, httpx.Request("GET", url + "/accounts")).status == 200
        worker.join(10)
    times = sorted(t for *_, t in counting.seen)
    assert len(times) == 13
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 8, f"{busiest} requests in one second at rate 8: {[round(t - times[0], 3) for t in times]}"


@pytest.mark.parametrize("budget", ["1", "2"])
def test_the_preflight_keeps_to_the_command_line_budget_and_rate(live: Any, budget: str) -> None:
    """--max-requests / --rate hold from the first request: the preflight's too (not the configured default)."""
    url, counting, tmp = live
    result = run(url, tmp, "--max-requests", budget, "--rate", "2", "--suite", "properties", "--operation", "list_accounts",
                 "--partial")
    assert result.exit_code in (0, 1), result.output
    times = sorted(t for *_, t in counting.seen)
    assert 1 <= len(times) <= int(budget), f"{len(times)} requests for a budget of {budget}"
    assert all(b - a >= 0.45 for a, b in zip(times, times[1:])), f"faster than --rate 2: {times}"


def test_skipped_writes_spend_nothing_and_nothing_tested_never_passes(live: Any) -> None:
    url, counting, tmp = live
    result = run(url, tmp, "--operation", "create_account,update_affiliation", "--max-requests", "20")
    assert result.exit_code == 2, result.output  # every case skipped (read-only): no verdict, not PASS
    assert "nothing tested" in result.output and "PASS" not in result.output
    assert all(m == "GET" for m, *_ in counting.seen) and len(counting.seen) <= 2  # the preflight only


# ------------------------------------------------------------------ Retry-After and 429s


class Scripted:
    def __init__(self, *script: tuple[int, dict[str, str], bytes]) -> None:
        self.script, self.calls = list(script), 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.calls += 1
        status, headers, body = self.script.pop(0) if self.script else (200, {"content-type": "application/json"}, b"[]")
        raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def _session(url: str, **safety: Any) -> tuple[Session, Any]:
    target = http_target(VENDOR, url, credentials={"token": TOKEN}, safety=Safety(**safety))
    return Session(target), target.contract.operations["list_accounts"]


def test_retry_after_http_date_is_honoured_and_the_429_is_no_finding() -> None:
    when = formatdate(time.time() + 2, usegmt=True)
    app = Scripted((429, {"content-type": "application/json", "retry-after": when}, b'{"error":"slow down"}'))
    with MockServer(app) as url:
        session, op = _session(url, max_retry_after=5.0)
        started = time.monotonic()
        exchange = session.send(op, httpx.Request("GET", url + "/accounts"))
        waited = time.monotonic() - started
    assert exchange.status == 200 and app.calls == 2 and waited >= 0.5
    findings, _, _ = run_checks(CheckContext(session.target.contract, op, exchange, POSITIVE, session.redactor))
    assert not [f for f in findings if f.category is Category.STATUS_CODE]


def test_retry_after_date_far_in_the_future_is_not_waited_for() -> None:
    when = formatdate(time.time() + 3600, usegmt=True)
    app = Scripted((429, {"content-type": "application/json", "retry-after": when}, b"{}"))
    with MockServer(app) as url:
        session, op = _session(url, max_retry_after=2.0)
        started = time.monotonic()
        exchange = session.send(op, httpx.Request("GET", url + "/accounts"))
    assert exchange.status == 429 and app.calls == 1 and time.monotonic() - started < 2


def test_a_503_is_sent_again_and_one_that_persists_is_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """503 "currently unable to handle the request" (a real Prefect on SQLite: a database busy for a moment, which its
    own client retries): sent again after a short wait; a 503 that persists is what the vendor answered. The waits
    are recorded, not slept (the Session's own clock: 0.5 s, then 1 s)."""
    from types import SimpleNamespace

    from apiconform.engine import _session as session_module

    waits: list[float] = []
    monkeypatch.setattr(session_module, "time", SimpleNamespace(perf_counter=time.perf_counter, monotonic=time.monotonic,
                                                          sleep=waits.append))
    unavailable = (503, {"content-type": "application/json"}, b'{"exception_message": "Service Unavailable"}')
    app = Scripted(unavailable)
    with MockServer(app) as url:
        session, op = _session(url)
        exchange = session.send(op, httpx.Request("GET", url + "/accounts"))
    assert exchange.status == 200 and app.calls == 2 and exchange.attempts == 2
    assert waits == [0.5]
    app = Scripted(unavailable, unavailable, unavailable, unavailable)
    with MockServer(app) as url:
        session, op = _session(url, max_retries=2)
        exchange = session.send(op, httpx.Request("GET", url + "/accounts"))
    assert exchange.status == 503 and app.calls == 3
    assert waits == [0.5, 0.5, 1.0]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_503_to_a_write_that_is_not_idempotent_is_never_sent_twice(method: str) -> None:
    """A POST/PATCH answered 503 may still have been half done: sending it again could leave a record the run never
    learns of (so never cleans up), so it is the answer, like any other server error."""
    app = Scripted((503, {"content-type": "application/json"}, b'{"exception_message": "Service Unavailable"}'))
    with MockServer(app) as url:
        session, op = _session(url)
        exchange = session.send(op, httpx.Request(method, url + "/accounts", json={"name": "x"}))
    assert exchange.status == 503 and app.calls == 1 and exchange.attempts == 1


# ------------------------------------------------------------------ preflight: capped, bounded gzip, in budget


def test_preflight_survives_a_gzip_bomb_with_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from apiconform.gate._run import preflight

    bomb = gzip.compress(b"\0" * (256 * 1024 * 1024))  # 256 MiB of zeros in ~250 KB
    app = Scripted((200, {"content-type": "application/json", "content-encoding": "gzip"}, bomb),
                   (200, {"content-type": "application/json"}, b"[]"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARDEN_TOKEN", TOKEN)
    write_config(tmp_path, "max_body_mb = 1\nrate = 1000\n")
    with MockServer(app) as url:
        tracemalloc.start()
        started = time.monotonic()
        try:
            preflight(VENDOR, url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert time.monotonic() - started < 10 and peak < 64 * 1024 * 1024, peak


# ------------------------------------------------------------------ crashes and hangs


def test_deeply_nested_json_answer_is_a_finding_not_a_crash() -> None:
    body = b"[" * 600 + b"]" * 600
    with MockServer(Scripted((200, {"content-type": "application/json"}, body))) as url:
        session, op = _session(url)
        exchange = session.send(op, httpx.Request("GET", url + "/accounts"))
    findings, _, _ = run_checks(CheckContext(session.target.contract, op, exchange, POSITIVE, session.redactor))
    assert Category.TRANSPORT in {f.category for f in findings}
    assert any("nested deeper" in f.message for f in findings)


def test_the_mock_answers_a_deeply_nested_request_body_with_a_4xx(served_mock: Callable[..., str]) -> None:
    url = served_mock(VENDOR)
    response = httpx.post(url + "/accounts", content=b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                          headers={"authorization": "Bearer mock-eduframe-token", "content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.status_code


def test_slow_drip_is_bounded_by_the_request_deadline() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)

    def drip() -> None:
        try:
            conn, _ = sock.accept()
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n")
            for _ in range(100):
                conn.send(b" ")
                time.sleep(0.25)  # always faster than the read timeout
        except OSError:
            pass

    threading.Thread(target=drip, daemon=True).start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        session, op = _session(url, read_timeout=1.0, request_deadline=1.5, max_retries=0)
        started = time.monotonic()
        exchange = session.send(op, httpx.Request("GET", url + "/accounts"))
        elapsed = time.monotonic() - started
    finally:
        sock.close()
    assert elapsed < 4, elapsed  # 25 s without the deadline
    assert exchange.error and "deadline" in exchange.error
    findings, _, _ = run_checks(CheckContext(session.target.contract, op, exchange, POSITIVE, session.redactor))
    assert Category.TRANSPORT in {f.category for f in findings}


def _contract_copy(tmp: Path) -> Path:
    import shutil

    from apiconform.contracts import contract_path

    folder = tmp / "c"
    shutil.copytree(contract_path(VENDOR).parent, folder)
    return folder / "openapi.yaml"


def test_yaml_alias_bomb_is_refused_quickly_in_one_line(tmp_path: Path) -> None:
    path = _contract_copy(tmp_path)
    bomb = 'x-bomb:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi"):
        bomb += f"  {name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
    path.write_text(path.read_text(encoding="utf-8") + bomb, encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(main, ["contracts", "check", str(path)])
    assert time.monotonic() - started < 10
    assert result.exit_code == 2 and "alias bomb" in result.output, result.output


def test_a_tightly_written_flow_alias_bomb_is_refused_too(tmp_path: Path) -> None:
    """The loader skips the bomb check only for documents with no anchor and alias at all: the tightest flow
    spelling (`{"b":&b [*a,*a]}`) must still be seen as one."""
    path = _contract_copy(tmp_path)
    levels = ['"a":&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f'"{n}":&{n} [{",".join(["*" + p] * 9)}]' for p, n in zip("abcdefgh", "bcdefghi")]
    path.write_text(path.read_text(encoding="utf-8") + "x-bomb: {" + ",".join(levels) + "}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["contracts", "check", str(path)])
    assert result.exit_code == 2 and "alias bomb" in result.output, result.output


def test_the_lint_never_fetches_a_remote_ref(tmp_path: Path) -> None:
    hits: list[str] = []

    class Spy:
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                hits.append(scope["path"])
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": b'{"type": "object"}'})

    path = _contract_copy(tmp_path)
    with MockServer(Spy()) as url:
        text = path.read_text(encoding="utf-8").replace("components:\n", f"components:\n  x-remote:\n    $ref: '{url}/schema.json'\n", 1)
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["contracts", "check", str(path)])
    assert hits == [] and result.exit_code != 0 and "remote $ref" in result.output, result.output


# ------------------------------------------------------------------ local inputs: one line, exit 2, before any request


def test_non_utf8_baseline_is_one_line_before_any_request(live: Any) -> None:
    url, counting, tmp = live
    (tmp / "baseline.yaml").write_bytes(b"version: 1\nwaivers: [\xff\xfe]\n")
    result = run(url, tmp, "--baseline", str(tmp / "baseline.yaml"))
    assert result.exit_code == 2 and "baseline.yaml" in one_line(result) and counting.seen == []


def test_unwritable_reports_dir_is_one_line_before_any_request(live: Any) -> None:
    url, counting, tmp = live
    (tmp / "file").write_text("x")
    result = CliRunner().invoke(main, ["run", VENDOR, "--target", f"{VENDOR}={url}", "--no-allure", "--no-progress",
                                       "--reports-dir", str(tmp / "file" / "reports")])
    assert result.exit_code == 2 and "--reports-dir" in one_line(result) and counting.seen == []


def test_malformed_target_url_is_one_line(live: Any) -> None:
    url, counting, tmp = live
    result = run("http://[::1", tmp)
    assert result.exit_code == 2 and "malformed URL" in one_line(result)


def test_credentials_in_an_unreachable_target_url_are_never_printed(live: Any) -> None:
    _, _, tmp = live
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://someone:Zqpassw0rd9911@127.0.0.1:{port}/?api_key=Zqquerykey7733"
    result = run(url, tmp, "--partial")
    assert result.exit_code == 3, result.output
    assert "Zqpassw0rd9911" not in result.output and "Zqquerykey7733" not in result.output
    assert "unreachable" in result.output


def test_pacing_holds_in_every_one_second_window_even_when_wake_ups_are_late(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy machine wakes a sleeping request late: the following requests must not catch up and put rate + 1
    requests into one second (the vendor counts any window). Deterministic: a fake clock whose every third sleep
    overshoots by 40 ms."""
    from apiconform.engine import _ledger
    from apiconform.engine._targets import RateLimiter

    clock = [1000.0]
    sleeps = [0]

    def sleep(seconds: float) -> None:
        sleeps[0] += 1
        clock[0] += seconds + (0.04 if sleeps[0] % 3 == 0 else 0.0)

    monkeypatch.setattr(_ledger.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(_ledger.time, "sleep", sleep)
    for make in (lambda: _ledger.Ledger("pace-test", None, 10, directory="").take, lambda: RateLimiter(10).wait):
        take = make()
        sent = []
        for _ in range(40):
            take()
            sent.append(clock[0])
            clock[0] += 0.001  # the request itself
        busiest = max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent)
        assert busiest <= 10, f"{busiest} requests in one second at rate 10"
        assert sent[-1] - sent[0] < 39 * 0.1 * 1.3  # ... and still close to the rate, not a crawl
