"""Hostile and broken responses: each is a finding in the right category, the run continues, and
every other result is kept — in-process (fault middleware around the embedded mock) and, for the
transport-level ones, over real HTTP (MockServer). Cases the fault registry lacks use tiny ASGI apps.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiconform.engine.checks import POSITIVE, CheckContext, run_checks
from apiconform.engine._session import FailureKind, Session
from apiconform.findings import Category
from apiconform.mock import MockServer
from apiconform.gate._run import RunOptions, execute
from apiconform.engine._discovery import Discovery
from apiconform.engine._suites import run_properties
from apiconform.engine._targets import Safety, http_target, mock_target

VENDOR = "eduframe"
OP = "list_accounts"
TOKEN = "mock-eduframe-token"  # the embedded mock's default credential

IN_PROCESS = {
    "html-error-page": Category.CONTENT_TYPE,
    "empty-body": Category.REQUIRED_FIELD,  # a documented body is missing
    "invalid-json": Category.CONTENT_TYPE,
    "truncated-body": Category.TRANSPORT,
    "no-content-type": Category.CONTENT_TYPE,
    "gzip-mislabelled": Category.CONTENT_TYPE,
    "non-utf8": Category.CONTENT_TYPE,
    "connection-reset": Category.TRANSPORT,
    "redirect-loop": Category.STATUS_CODE,  # 302 to itself: not followed, undocumented status
    "intermittent-5xx:1": Category.SERVER_ERROR,
    "429-storm:0": Category.STATUS_CODE,  # retried (bounded), then the undocumented 429 is reported
}


@pytest.mark.parametrize("fault", list(IN_PROCESS))
def test_fault_in_process_is_a_finding_in_the_right_category(fault: str) -> None:
    target = mock_target(VENDOR, faults=(fault,))
    session = Session(target)
    result = run_properties(session, target.contract.operations[OP], 2, 7, Discovery(session)).result()
    assert not result.skipped, result.skipped
    categories = {f.category for f in result.findings}
    assert IN_PROCESS[fault] in categories, [(f.category.value, f.message) for f in result.findings]
    assert all(f.curl.startswith(f"apiconform mock {VENDOR} --port 8100") and "\ncurl " in f.curl for f in result.findings)  # each one reproducible


def test_a_faithful_mock_gives_no_findings_for_the_same_case() -> None:
    target = mock_target(VENDOR)
    session = Session(target)
    recorder = run_properties(session, target.contract.operations[OP], 2, 7, Discovery(session))
    assert recorder.result().findings == [] and recorder.requests > 0


# ------------------------------------------------------------------ over real HTTP


def _judge(url: str, path: str, **safety: Any) -> tuple[Any, set[Category]]:
    target = http_target(VENDOR, url, credentials={"token": TOKEN}, safety=Safety(**safety))
    session = Session(target)
    op = target.contract.operations["get_account" if path != "/accounts" else OP]
    exchange = session.send(op, httpx.Request("GET", url + path))
    session.close()
    findings, _, _ = run_checks(CheckContext(target.contract, op, exchange, POSITIVE, target.redactor()))
    return exchange, {f.category for f in findings}


@pytest.mark.parametrize("fault, category", [
    ("connection-reset", Category.TRANSPORT),
    ("truncated-body", Category.TRANSPORT),
    ("redirect-loop", Category.STATUS_CODE),
    ("html-error-page", Category.CONTENT_TYPE),
    ("non-utf8", Category.CONTENT_TYPE),
])
def test_fault_over_http_is_a_finding_in_the_right_category(fault: str, category: Category,
        served_mock: Callable[..., str]) -> None:
    url = served_mock(VENDOR, faults=[fault])
    exchange, categories = _judge(url, "/accounts")
    assert category in categories, (exchange.status, exchange.error)
    if fault == "redirect-loop":
        assert exchange.status == 302 and exchange.attempts == 1  # never followed round the loop


def test_slow_drip_hits_the_read_timeout_over_http(served_mock: Callable[..., str]) -> None:
    url = served_mock(VENDOR, faults=["slow-drip:300"])
    exchange, categories = _judge(url, "/accounts/999999", read_timeout=0.1)  # a small 404 body
    assert exchange.error is not None and "timeout" in exchange.error
    assert Category.TRANSPORT in categories


def test_a_50_mb_body_is_capped_and_memory_stays_bounded(served_mock: Callable[..., str]) -> None:
    url = served_mock(VENDOR, faults=["huge-body:50"])
    tracemalloc.start()
    try:
        exchange, categories = _judge(url, "/accounts", max_body_bytes=2 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exchange.error is not None and "cap" in exchange.error and Category.TRANSPORT in categories
    assert exchange.failure is FailureKind.BODY
    assert len(exchange.body) <= 2 * 1024 * 1024
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB for a 50 MB body"


class Hostile:
    """Answers every request with one fixed (status, headers, body)."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = [(k.encode(), v.encode()) for k, v in self.headers.items()]
        raw.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


@pytest.mark.parametrize("name, app, category", [
    ("json labelled text/plain", Hostile(200, {"content-type": "text/plain"}, b"[]"), Category.CONTENT_TYPE),
    ("json labelled application/xml", Hostile(200, {"content-type": "application/xml"}, b"[]"), Category.CONTENT_TYPE),
    ("gzip claimed, plain body", Hostile(200, {"content-type": "application/json", "content-encoding": "gzip"}, b"[]"),
     Category.TRANSPORT),
    ("gzip bomb", Hostile(200, {"content-type": "application/json", "content-encoding": "gzip"},
                          gzip.compress(b"[" + b" " * (8 * 1024 * 1024) + b"]")), Category.TRANSPORT),
    ("HTML 500 page", Hostile(500, {"content-type": "text/html"}, b"<html>oops</html>"), Category.SERVER_ERROR),
])
def test_hostile_cases_the_faults_lack(name: str, app: Any, category: Category) -> None:
    with MockServer(app) as url:
        exchange, categories = _judge(url, "/accounts", max_body_bytes=1024 * 1024)
    assert category in categories, (name, exchange.status, exchange.error)


def test_connection_closed_before_any_answer_is_a_transport_finding() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)

    def slam() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=slam, daemon=True).start()
    try:
        exchange, categories = _judge(f"http://127.0.0.1:{sock.getsockname()[1]}", "/accounts")
    finally:
        sock.close()
    assert exchange.response is None and exchange.error.startswith("transport")
    assert exchange.failure is FailureKind.TRANSPORT
    assert categories == {Category.TRANSPORT}


# ------------------------------------------------------------------ the run continues; other results are kept


def _verdicts(record: Any, vendor: str) -> dict[str, tuple[bool, tuple[str, ...]]]:
    return {c.name: (bool(c.skipped), tuple(sorted(f.fingerprint for f in c.findings)))
            for c in record.cases if c.vendor == vendor}


def test_a_broken_vendor_does_not_lose_any_other_result(tmp_path: Path) -> None:
    def run(faults: list[str], out: str) -> Any:
        options = RunOptions(vendors=[VENDOR, "tesla-ce"], suites=["properties", "negative"], max_examples=2, seed=5,
                             operations=[OP, "get_account", "list_providers"], faults=faults,
                             reports_dir=tmp_path / out, allure=False)
        return execute(options)

    clean = run([], "clean")
    broken = run([f"{VENDOR}:connection-reset", f"{VENDOR}:invalid-json"], "broken")
    assert clean.exit_code == 0 and broken.exit_code == 1
    # the other vendor's verdicts are exactly those of the clean run
    assert _verdicts(broken.record, "tesla-ce") == _verdicts(clean.record, "tesla-ce")
    # every case of the broken vendor was still run and recorded, with findings instead of a crash
    assert _verdicts(broken.record, VENDOR).keys() == _verdicts(clean.record, VENDOR).keys()
    ran = [c for c in broken.record.cases if c.vendor == VENDOR and not c.skipped]
    assert ran and all(c.findings for c in ran)
    assert Category.TRANSPORT in {f.category for c in ran for f in c.findings}
    data = json.loads((tmp_path / "broken" / "run.json").read_text(encoding="utf-8"))
    assert len(data["cases"]) == len(clean.record.cases)
