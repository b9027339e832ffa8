"""Live-target safety, proven end to end against a MockServer posing as a live vendor.

`apiconform run --target VENDOR=http://127.0.0.1:PORT` with credentials from environment variables
named in a tmp apiconform.toml: read-only by default, request budget, client-side rate limit,
bounded Retry-After, retries only where safe, timeouts on every request, and the up-front
preflight (unreachable target / refused credentials: exit 3, one line).

Timed assertions are lower bounds only (pacing and waits can only make things slower).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from apiconform.cli import main
from apiconform.config import Settings
from apiconform.contracts import load_contract
from apiconform.errors import TargetUnavailable
from apiconform.engine._session import FailureKind, Session, WriteRefused
from apiconform.mock import MockServer, mock_app
from apiconform.gate._run import preflight
from apiconform.engine._request import USER_AGENT
from apiconform.engine._targets import Safety, http_target, mock_target, replace, target_from_config
from apiconform.mock._server import free_port

VENDOR = "eduframe"
TOKEN = "planted-eduframe-token-0123456789"
OPS = "list_accounts,create_account,get_account"


class Counting:
    """ASGI middleware recording (method, path, user-agent, monotonic time) of every request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str, float]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            self.seen.append((scope["method"], scope["path"], headers.get(b"user-agent", b"").decode(), time.monotonic()))
        await self.app(scope, receive, send)

    def suite_requests(self) -> list[tuple[str, str, str, float]]:
        """Requests the suites sent (preflight's probe uses the default client user agent)."""
        return [s for s in self.seen if s[2] == USER_AGENT]


def _faithful_app() -> Any:
    app = mock_app(VENDOR)
    engine = getattr(app, "mock", app)
    engine.behaviour.credentials = lambda: {"token": TOKEN}  # the "live" vendor accepts only the planted token
    return app


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A served eduframe mock as a 'live' target; config in tmp apiconform.toml, token in the environment."""
    counting = Counting(_faithful_app())
    server = MockServer(counting)
    url = server.start()
    (tmp_path / "apiconform.toml").write_text(
        f'[targets.{VENDOR}]\ncredentials = {{ token = "APICONFORM_TEST_EDU_TOKEN" }}\n', encoding="utf-8")
    monkeypatch.setenv("APICONFORM_TEST_EDU_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    yield url, counting, tmp_path
    server.stop()


def _run(url: str, tmp: Path, *extra: str) -> Any:
    args = ["run", VENDOR, "--target", f"{VENDOR}={url}", "--operation", OPS, "--max-examples", "2",
            "--no-allure", "--no-progress", "--reports-dir", str(tmp / "reports"), *extra]
    return CliRunner().invoke(main, args)


def _cases(tmp: Path) -> list[dict[str, Any]]:
    return json.loads((tmp / "reports" / "run.json").read_text(encoding="utf-8"))["cases"]


# ------------------------------------------------------------------ read-only by default


def test_live_target_is_read_only_by_default_and_the_summary_says_why(live: Any) -> None:
    url, counting, tmp = live
    result = _run(url, tmp, "--rate", "1000", "--suite", "examples,properties,negative")
    assert result.exit_code == 0, result.output
    methods = {m for m, *_ in counting.seen}
    assert methods <= {"GET", "HEAD", "OPTIONS"}, f"a write reached the read-only live target: {methods}"
    assert any(path.endswith("/accounts") for _, path, *_ in counting.suite_requests())  # reads did run
    writes = [c for c in _cases(tmp) if c["operation"] == "create_account"]
    assert writes and all(c.get("skipped") for c in writes)  # no write case ran...
    by_suite = {c["name"].split("[")[0]: c["skipped"] for c in writes}
    for name in ("properties", "negative"):  # ...and the reason says why and what to do
        assert "read-only" in by_suite[name] and "--allow-writes" in by_suite[name], by_suite
    # the summary says what was skipped and why (and what to do about it)
    assert any("skipped" in line and "read-only" in line and "--allow-writes" in line for line in result.output.splitlines())


def test_allow_writes_flag_lets_writes_through(live: Any) -> None:
    url, counting, tmp = live
    result = _run(url, tmp, "--rate", "1000", "--suite", "properties", "--allow-writes")
    assert result.exit_code == 0, result.output
    assert ("POST", "/accounts") in {(m, p) for m, p, *_ in counting.suite_requests()}


def test_allowed_writes_list_permits_only_the_named_operations(live: Any) -> None:
    url, counting, tmp = live
    (tmp / "apiconform.toml").write_text(
        f'[targets.{VENDOR}]\ncredentials = {{ token = "APICONFORM_TEST_EDU_TOKEN" }}\n'
        'allowed_writes = ["create_category"]\nrate = 1000\n', encoding="utf-8")
    result = CliRunner().invoke(main, [
        "run", VENDOR, "--target", f"{VENDOR}={url}", "--operation", "create_account,create_category,update_category",
        "--max-examples", "2", "--suite", "properties,stateful", "--no-allure", "--no-progress",
        "--reports-dir", str(tmp / "reports")])
    assert result.exit_code in (0, 1), result.output
    writes = {(m, p.rsplit("/", 1)[0] if m != "POST" else p) for m, p, *_ in counting.seen if m not in ("GET", "HEAD")}
    assert ("POST", "/categories") in writes
    # neither the other create nor the lifecycle's update/delete steps (not allowed) reached the server
    assert writes == {("POST", "/categories")}, writes


def test_session_refuses_writes_to_a_read_only_target_as_the_last_line_of_defence() -> None:
    contract = load_contract(VENDOR)
    target = http_target(VENDOR, "http://127.0.0.1:9", credentials={"token": "x" * 8}, safety=Safety.for_live())
    session = Session(target)
    op = contract.operations["create_account"]
    with pytest.raises(WriteRefused, match="read-only"):
        session.send(op, httpx.Request("POST", target.base_url + op.path, json={}))
    assert session.sent == 0


def test_mocks_always_allow_writes_and_live_defaults_are_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICONFORM_COFE_CMS_API_ID", "id")  # credentials from the default env var names
    monkeypatch.setenv("APICONFORM_COFE_CMS_API_KEY", "key")
    mock = mock_target(VENDOR)
    assert mock.safety.allows("create_account", "post") and mock.safety.max_requests is None and mock.safety.rate is None
    live = target_from_config("cofe-cms", Settings(), base_url="http://127.0.0.1:9")
    assert live.safety.read_only and live.safety.max_requests == 200 and live.safety.rate == 5.0
    assert not live.safety.allows("create_contact_course", "post") and live.safety.allows("x", "get")
    overridden = target_from_config("cofe-cms", Settings(), base_url="http://127.0.0.1:9", max_requests=7, rate=2.5,
                                    allow_writes=True)
    assert overridden.safety.max_requests == 7 and overridden.safety.rate == 2.5 and not overridden.safety.read_only


# ------------------------------------------------------------------ budget and pacing (end to end)


def test_request_budget_caps_what_the_live_target_receives(live: Any) -> None:
    url, counting, tmp = live
    result = _run(url, tmp, "--rate", "1000", "--max-requests", "9", "--suite", "properties,negative", "--max-examples", "6",
                  "--partial")  # 9 cannot cover every test's first case: without --partial the plan refuses (exit 2)
    assert result.exit_code == 1, result.output  # incomplete: the plan cut what did not fit
    assert 0 < len(counting.suite_requests()) and len(counting.seen) <= 9
    assert "budget 9" in result.output and "PARTIAL" in result.output


def test_client_side_rate_limit_paces_the_run(live: Any) -> None:
    url, counting, tmp = live
    rate = 20.0
    result = _run(url, tmp, "--rate", str(rate), "--max-requests", "12", "--suite", "properties", "--max-examples", "4")
    assert result.exit_code in (0, 1), result.output
    times = [t for *_, t in counting.suite_requests()]
    assert len(times) >= 5
    # lower bound only: n requests at `rate`/s cannot span less than (n-1)/rate (small jitter allowance)
    assert times[-1] - times[0] >= (len(times) - 1) / rate * 0.8


# ------------------------------------------------------------------ Session-level: Retry-After, retries, timeouts


class Scripted:
    """A tiny hostile ASGI app: answers from a script of (status, headers, body), then 200 JSON; counts calls."""

    def __init__(self, *script: tuple[int, dict[str, str], bytes], delay: float = 0.0) -> None:
        self.script = list(script)
        self.calls = 0
        self.delay = delay

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        status, headers, body = self.script.pop(0) if self.script else (200, {"content-type": "application/json"}, b"[]")
        raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def _session(url: str, **safety: Any) -> tuple[Session, Any]:
    target = http_target(VENDOR, url, credentials={"token": "t" * 12}, safety=Safety(**safety))
    return Session(target), target.contract.operations["list_accounts"]


def _get(session: Session, op: Any, method: str = "GET") -> Any:
    return session.send(op, httpx.Request(method, session.target.base_url + op.path))


TOO_MANY = (429, {"content-type": "application/json", "retry-after": "1"}, b'{"error":"slow down"}')


def test_429_retry_after_is_honoured_then_the_request_succeeds() -> None:
    app = Scripted(TOO_MANY)
    with MockServer(app) as url:
        session, op = _session(url)
        started = time.monotonic()
        exchange = _get(session, op)
        waited = time.monotonic() - started
    assert exchange.status == 200 and exchange.attempts == 2 and app.calls == 2
    assert waited >= 0.9  # the server asked for 1 s


def test_retry_after_beyond_the_bound_is_not_waited_for_and_429_storms_stop() -> None:
    app = Scripted((429, {"content-type": "application/json", "retry-after": "3600"}, b"{}"))
    with MockServer(app) as url:
        session, op = _session(url, max_retry_after=2.0)
        exchange = _get(session, op)
    assert exchange.status == 429 and exchange.attempts == 1 and app.calls == 1  # one hour is not waited for
    storm = Scripted(*[(429, {"content-type": "application/json", "retry-after": "0.1"}, b"{}")] * 10)
    with MockServer(storm) as url:
        session, op = _session(url, max_retries=2)
        exchange = _get(session, op)
    assert exchange.status == 429 and exchange.attempts == 3 and storm.calls == 3  # bounded, then reported


class Slammer:
    """A raw TCP server that accepts and closes every connection at once (a transport error), counting them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.accepted = 0
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_transport_errors_are_retried_with_backoff_only_for_idempotent_requests() -> None:
    slammer = Slammer()
    try:
        session, op = _session(slammer.url, max_retries=2)
        started = time.monotonic()
        get = _get(session, op, "GET")
        elapsed = time.monotonic() - started
        assert get.error and get.error.startswith("transport") and get.attempts == 3
        assert get.failure is FailureKind.TRANSPORT  # typed: the retry decision reads the kind, not the text
        assert elapsed >= 0.1 + 0.2 * 0.9  # exponential backoff between attempts (lower bound)
        time.sleep(0.1)
        before = slammer.accepted
        assert before >= 3
        post_target = http_target(VENDOR, slammer.url, credentials={"token": "t" * 12}, safety=Safety(max_retries=2))
        post_session = Session(post_target)
        create = post_target.contract.operations["create_account"]
        post = post_session.send(create, httpx.Request("POST", slammer.url + create.path, json={"name": "x"}))
        time.sleep(0.1)
        assert post.error and post.attempts == 1 and slammer.accepted == before + 1  # never replayed
    finally:
        slammer.close()


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_not_retried(status: int) -> None:
    """A server error is the answer (never hidden by a retry); only a 503, "not handled, come back later", is sent
    again, boundedly (test_hardening.py)."""
    app = Scripted((status, {"content-type": "application/json"}, b'{"error":"down"}'))
    with MockServer(app) as url:
        session, op = _session(url)
        exchange = _get(session, op)
    assert exchange.status == status and exchange.attempts == 1 and app.calls == 1


def test_every_client_carries_connect_and_read_timeouts_and_a_stalled_answer_times_out() -> None:
    session, op = _session("http://127.0.0.1:9", connect_timeout=1.5, read_timeout=0.4)
    for mode in ("valid", "none", "wrong"):
        timeout = session.client(mode).timeout
        assert (timeout.connect, timeout.read) == (1.5, 0.4), mode
    app = Scripted(delay=1.0)
    with MockServer(app) as url:
        session, op = _session(url, read_timeout=0.3, max_retries=0)
        started = time.monotonic()
        exchange = _get(session, op)
        assert time.monotonic() - started >= 0.25
    assert exchange.error is not None and exchange.error.startswith("timeout") and exchange.response is None
    assert exchange.failure is FailureKind.TIMEOUT


def test_session_pacing_spaces_requests_at_the_configured_rate() -> None:
    counting = Counting(Scripted())
    with MockServer(counting) as url:
        session, op = _session(url, rate=25.0)
        for _ in range(8):
            _get(session, op)
    times = [t for *_, t in counting.seen]
    assert len(times) == 8 and times[-1] - times[0] >= 7 / 25.0 * 0.8


def test_session_budget_raises_once_spent() -> None:
    from apiconform.engine._session import BudgetExhausted

    app = Scripted()
    with MockServer(app) as url:
        session, op = _session(url, max_requests=3)
        for _ in range(3):
            _get(session, op)
        with pytest.raises(BudgetExhausted, match="budget of 3"):
            _get(session, op)
    assert app.calls == 3


# ------------------------------------------------------------------ preflight: exit 3, one line


def test_unreachable_target_exits_3_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "apiconform.toml").write_text('[targets.eduframe]\ncredentials = { token = "APICONFORM_TEST_EDU_TOKEN" }\n')
    monkeypatch.setenv("APICONFORM_TEST_EDU_TOKEN", TOKEN)
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["run", VENDOR, "--target", f"{VENDOR}={url}", "--no-allure", "--no-progress",
                                       "--reports-dir", str(tmp_path / "reports"), "--partial"])
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "unreachable" in lines[0] and url in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "reports" / "run.json").exists()  # nothing ran


def test_wrong_credentials_exit_3_before_any_test(live: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url, counting, tmp = live
    monkeypatch.setenv("APICONFORM_TEST_EDU_TOKEN", "not-the-right-token-000")
    result = _run(url, tmp)
    assert result.exit_code == 3, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "credentials refused" in lines[0], result.stderr
    assert "not-the-right-token-000" not in result.output
    assert counting.suite_requests() == []  # no suite request was sent


def test_failing_jwt_login_is_detected_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        served_mock: Callable[..., str]) -> None:
    url = served_mock("tesla-ce")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "apiconform.toml").write_text(
        '[targets.tesla-ce]\ncredentials = { role_id = "T_ROLE", secret_id = "T_SECRET" }\n')
    monkeypatch.setenv("T_ROLE", "mock-tesla-ce-role")
    monkeypatch.setenv("T_SECRET", "a-wrong-secret-id-value")
    with pytest.raises(TargetUnavailable) as info:
        preflight("tesla-ce", url)
    assert info.value.exit_code == 3 and "authentication failed" in str(info.value)
    assert "a-wrong-secret-id-value" not in str(info.value)


def test_a_refused_login_is_a_typed_auth_failure_and_a_wrong_auth_mode_is_refused(served_mock: Callable[..., str]) -> None:
    url = served_mock("tesla-ce")
    target = http_target("tesla-ce", url, credentials={"role_id": "mock-tesla-ce-role", "secret_id": "wrong-0000"},
                         live=False)
    session = Session(target)
    op = target.contract.operations["list_providers"]
    exchange = session.send(op, httpx.Request("GET", url + op.path))
    right = Session(replace(target, credentials=mock_target("tesla-ce").credentials))
    fine = right.send(op, httpx.Request("GET", url + op.path))
    assert exchange.failure is FailureKind.AUTH and exchange.login_answer is None and "AuthFailed" in str(exchange.error)
    assert fine.failure is None and fine.error is None and fine.status not in (None, 401)  # logged in (403: scope)
    with pytest.raises(ValueError, match="auth mode"):
        session.client("bogus")  # type: ignore[arg-type]


def _writer(url: str) -> tuple[Session, Any]:
    return _session(url, read_only=False, writes="sandbox")


def test_a_value_the_run_sent_and_the_vendor_echoed_under_a_sensitive_key_is_not_learned_as_a_secret() -> None:
    """A write body's made-up value echoed back under a sensitive key (`{"access_token": "made-up-0001"}`) is the
    run's own, not a secret. A value the vendor issued under such a key is still learned and masked."""
    answer = b'{"access_token": "made-up-0001", "refresh_token": "vendor-issued-0f3a9c"}'
    app = Scripted((201, {"content-type": "application/json"}, answer))
    with MockServer(app) as url:
        session, op = _writer(url)
        session.send(op, httpx.Request("POST", url + "/accounts", json={"access_token": "made-up-0001", "name": "x"}))
    assert "made-up-0001" not in session.redactor.secrets
    assert "vendor-issued-0f3a9c" in session.redactor.secrets
    assert "vendor-issued-0f3a9c" not in session.redactor.text("token vendor-issued-0f3a9c echoed")


def test_a_made_up_value_read_back_by_another_session_is_not_learned_as_a_secret() -> None:
    """The record one work item created, read back by another item's session of the same process, still holds the
    run's own value; and a string of the vendor's published description (an example) is public too."""
    from apiconform.engine._session import published_strings

    example = "string"  # `type: string` in the published description: what a generated placeholder reads
    assert example in published_strings(load_contract(VENDOR).document)
    read_back = (b'{"id": "1", "token": "string-made-up-77", "secret": "' + example.encode()
                 + b'", "api_key": "vendor-key-77aa01"}')
    app = Scripted((201, {"content-type": "application/json"}, b'{"id": "1"}'),
                   (200, {"content-type": "application/json"}, read_back))
    with MockServer(app) as url:
        first, op = _writer(url)
        first.send(op, httpx.Request("POST", url + "/accounts", json={"data": {"token": "string-made-up-77"}}))
        second, _ = _writer(url)
        _get(second, op)
    assert "string-made-up-77" not in second.redactor.secrets and example not in second.redactor.secrets
    assert "vendor-key-77aa01" in second.redactor.secrets


def test_a_finding_keeps_its_pointer_and_fingerprint_whatever_the_redactor_learned() -> None:
    """On a real server (writes run) a JSON Schema answered under `password` taught the redactor `string`; the
    writeOnly finding at `/server/api/auth_string` then read `/server/api/auth_[REDACTED]` and got a second
    fingerprint. Pointers are structure: masked by whole secret segments only."""
    from apiconform.engine._session import Exchange
    from apiconform.engine.checks import CheckContext
    from apiconform.findings import Category
    from apiconform.redact import Redactor

    contract = load_contract(VENDOR)
    op = contract.operations["list_accounts"]
    exchange = Exchange(op, httpx.Request("GET", "http://127.0.0.1:1/api/admin/settings"),
                        httpx.Response(200, json={}))
    learned = Redactor(["pw-secret-1234"])
    learned.learn_json({"fields": {"properties": {"password": {"type": "string"}}}})
    learned.add("string")  # even were it learned some other way
    plain = CheckContext(contract, op, exchange, redactor=Redactor(["pw-secret-1234"]))
    masked = CheckContext(contract, op, exchange, redactor=learned)
    where = "/server/api/auth_string"
    a = plain.finding("write_only_absent", Category.FIELD_TYPE, f"{where}: a writeOnly property", pointer=where)
    b = masked.finding("write_only_absent", Category.FIELD_TYPE, f"{where}: a writeOnly property", pointer=where)
    assert b.pointer == where and a.fingerprint == b.fingerprint
