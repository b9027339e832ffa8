"""Drifts and faults: each one breaks the mock in exactly its intended way, and only when it is on."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any, Callable

import httpx
import pytest

from apiconform.auth import auth_for
from apiconform.contracts import Contract, load_contract
from apiconform.errors import UsageError
from apiconform.findings import Category
from apiconform.mock import DRIFTS, FAULTS, MockServer, build_app, resolve_drifts, wrap_faults
from apiconform.engine._transports import SyncASGITransport

BASE = "http://mock.test"


def exchange(vendor: str, method: str, path: str, *, drifts: list[str] = (), faults: list[str] = (),
             auth: bool = True, **kwargs: Any) -> tuple[Contract, Any, httpx.Response]:
    """One request to a fresh mock of `vendor` with the given drifts/faults on."""
    contract = load_contract(vendor)
    app = build_app(contract, drifts=drifts, faults=faults)
    plain = build_app(contract)  # same contract and seed: the behaviour (credentials, schemas) of the wrapped app
    http = httpx.Client(transport=SyncASGITransport(app), base_url=BASE,
                        auth=auth_for(contract, plain.behaviour.credentials()) if auth else None)
    return contract, plain, http.request(method, path, **kwargs)


def schema_errors(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> list[Any]:
    op = contract.operation(op_id)
    ptr = app.ctx.response_schema(op, response.status_code)
    assert ptr is not None, f"{op_id} documents no body for {response.status_code}"
    return contract.validate(ptr, response.json())


def _violates(validator: str, path: list[Any] | None = None) -> Callable[[Contract, Any, str, httpx.Response], None]:
    def check(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
        errors = schema_errors(contract, app, op_id, response)
        assert [e.validator for e in errors] == [validator], [e.message for e in errors]
        if path is not None:
            assert list(errors[0].absolute_path) == path

    return check


def _undocumented_status(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
    assert contract.operation(op_id).response_for(response.status_code) is None, response.status_code
    assert 200 <= response.status_code < 300


def _undocumented_media_type(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
    documented = contract.operation(op_id).response_for(response.status_code)
    media = response.headers["content-type"].split(";")[0]
    assert documented is not None and media not in documented.content and media == "text/plain"
    json.loads(response.content)  # the body itself is still the JSON answer: only its label changed


def _error_shape(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500
    errors = schema_errors(contract, app, op_id, response)
    assert errors and {e.validator for e in errors} == {"required"}


def _no_link(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
    assert "link" not in response.headers and response.status_code == 200
    assert not schema_errors(contract, app, op_id, response)  # the body is fine: only the metadata went


def _no_count(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
    errors = schema_errors(contract, app, op_id, response)
    assert [(e.validator, e.message) for e in errors] == [("required", "'count' is a required property")]


def _echo_changed(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
    assert response.status_code == 201 and not schema_errors(contract, app, op_id, response)  # only the echo changed
    assert response.json()["data"]["type"] == "AWARDS"


def _tokens_null(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
    assert response.status_code == 200 and response.json()["token"]["access_token"] is None
    assert {e.validator for e in schema_errors(contract, app, op_id, response)} == {"type"}


def _login_html(contract: Contract, app: Any, op_id: str, response: httpx.Response) -> None:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")


LOGIN_BODY = {"json": {"role_id": "mock-tesla-ce-role", "secret_id": "mock-tesla-ce-secret"}}
AWARD = {"data": {"type": "awards", "attributes": {"due": "2026-01-01T00:00:00Z"},
                  "relationships": {k: {"data": {"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a", "type": "x"}}
                                    for k in ("organisation", "qualification", "user")}}}

# drift -> (vendor, operation, method, path, kwargs, how the drifted answer breaks the contract)
DRIFT_CASES: dict[str, list[tuple[str, str, str, str, dict[str, Any], Callable[..., None]]]] = {
    "enum-value-changed": [("eduframe", "get_account", "GET", "/accounts/1001", {}, _violates("enum", ["account_type"]))],
    "field-type-changed": [("eduframe", "get_account", "GET", "/accounts/1001", {}, _violates("type", ["id"])),
                           ("tesla-ce", "list_provider_enrolments", "GET", "/api/v2/provider/1001/enrolment/", {}, _violates("type"))],
    "required-field-dropped": [("eduframe", "get_account", "GET", "/accounts/1001", {}, _violates("required", [])),
                               ("goodstack", "create_eligibility_subscription", "POST", "/v1/eligibility-subscriptions",
                                {"json": {"organisationId": "organisation_1"}}, _violates("required"))],
    "field-renamed": [("eduframe", "get_account", "GET", "/accounts/1001", {}, _violates("required", []))],
    "null-not-allowed": [("eduframe", "get_account", "GET", "/accounts/1001", {}, _violates("type", ["id"]))],
    "status-code-changed": [("eduframe", "get_account", "GET", "/accounts/1001", {}, _undocumented_status),
                            ("tesla-ce", "list_provider_enrolments", "GET", "/api/v2/provider/1001/enrolment/", {}, _undocumented_status)],
    "content-type-changed": [("eduframe", "get_account", "GET", "/accounts/1001", {}, _undocumented_media_type)],
    "error-shape-changed": [("eduframe", "get_account", "GET", "/accounts/424242", {}, _error_shape),
                            ("ctrlhub", "create_qualification_award", "POST", "/v3/qualification-awards",
                             {"json": {}, "headers": {"Content-Type": "application/vnd.api+json"}}, _error_shape)],
    "pagination-header-missing": [("eduframe", "list_accounts", "GET", "/accounts", {"params": {"per_page": 1}}, _no_link),
                                  ("tesla-ce", "list_provider_enrolments", "GET", "/api/v2/provider/1001/enrolment/", {}, _no_count)],
    "echo-value-changed": [("ctrlhub", "create_qualification_award", "POST", "/v3/qualification-awards",
                            {"json": AWARD, "headers": {"Content-Type": "application/vnd.api+json"}}, _echo_changed)],
    "login-tokens-null": [("tesla-ce", "login_approle", "POST", "/api/v2/auth/approle", LOGIN_BODY, _tokens_null)],
    "login-html-200": [("tesla-ce", "login_approle", "POST", "/api/v2/auth/approle", LOGIN_BODY, _login_html)],
}


def test_every_drift_has_a_case() -> None:
    assert set(DRIFT_CASES) == set(DRIFTS)
    assert {spec.category for spec in DRIFTS.values()} <= set(Category)


@pytest.mark.parametrize(
    "drift, vendor, op_id, method, path, kwargs, check",
    [(name, *case) for name, cases in DRIFT_CASES.items() for case in cases],
    ids=[f"{name}-{case[0]}" for name, cases in DRIFT_CASES.items() for case in cases],
)
def test_drift_breaks_the_contract_in_its_intended_way(drift: str, vendor: str, op_id: str, method: str, path: str,
                                                       kwargs: dict[str, Any], check: Callable[..., None]) -> None:
    contract, app, faithful = exchange(vendor, method, path, **kwargs)
    op = contract.operation(op_id)
    # without the drift: documented status, documented media type, a body that validates, pagination metadata
    documented = op.response_for(faithful.status_code)
    assert documented is not None and faithful.headers["content-type"].split(";")[0] in documented.content
    assert not schema_errors(contract, app, op_id, faithful)
    if op.pagination is not None and op.pagination.link_header:
        assert "next" in faithful.links and "last" in faithful.links
    _, _, drifted = exchange(vendor, method, path, drifts=[drift], **kwargs)
    check(contract, app, op_id, drifted)


def test_drifts_compose_and_accept_comma_lists() -> None:
    contract, app, response = exchange("eduframe", "GET", "/accounts/1001", drifts=["enum-value-changed,null-not-allowed"])
    assert {e.validator for e in schema_errors(contract, app, "get_account", response)} == {"enum", "type"}
    assert len(resolve_drifts(["enum-value-changed, field-renamed", "null-not-allowed"])) == 3


@pytest.mark.parametrize("names", [["nosuch"], ["enum-value-changed,nosuch"]])
def test_unknown_drift_is_a_usage_error(names: list[str]) -> None:
    with pytest.raises(UsageError, match="unknown drift 'nosuch'"):
        build_app(load_contract("eduframe"), drifts=names)


# --- faults ----------------------------------------------------------------------------------------
def _client(faults: list[str], **kwargs: Any) -> tuple[httpx.Client, str]:
    contract = load_contract("eduframe")
    app = build_app(contract, faults=faults, seed=3)
    token = build_app(contract).behaviour.credentials()["token"]
    return httpx.Client(transport=SyncASGITransport(app), base_url=BASE, **kwargs), token


def _faithful(path: str = "/accounts/1001") -> httpx.Response:
    http, token = _client([])
    return http.get(path, headers={"Authorization": f"Bearer {token}"})


def _get(fault: str, path: str = "/accounts/1001", **kwargs: Any) -> httpx.Response:
    http, token = _client([fault], **kwargs)
    return http.get(path, headers={"Authorization": f"Bearer {token}"})


def test_every_fault_has_a_test() -> None:
    tested = {"latency", "intermittent-5xx", "connection-reset", "truncated-body", "html-error-page", "429-storm",
              "empty-body", "invalid-json", "no-content-type", "huge-body", "gzip-mislabelled", "non-utf8", "slow-drip",
              "redirect-loop"}
    assert set(FAULTS) == tested


def test_latency_delays_an_unchanged_answer() -> None:
    started = time.monotonic()
    response = _get("latency:150")
    assert time.monotonic() - started >= 0.15
    assert response.status_code == 200 and response.json() == _faithful().json()


def test_intermittent_5xx_is_seeded_and_partial() -> None:
    def statuses() -> list[int]:
        http, token = _client(["intermittent-5xx:2"])
        return [http.get("/accounts/1001", headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(16)]

    first = statuses()
    assert set(first) == {200, 503} and first == statuses()


@pytest.mark.parametrize("fault", ["connection-reset", "truncated-body"])
def test_broken_connections_surface_as_protocol_errors(fault: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        _get(fault)
    with MockServer(build_app(load_contract("eduframe"), faults=[fault])) as base_url:  # and the same over real HTTP
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{base_url}/accounts")


def test_html_error_page() -> None:
    response = _get("html-error-page")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_429_storm_with_retry_after() -> None:
    http, _ = _client(["429-storm:7"])
    for path in ("/accounts", "/accounts/1001", "/no/such/path"):
        response = http.get(path)
        assert response.status_code == 429 and response.headers["retry-after"] == "7"


def test_empty_body_keeps_status_and_headers() -> None:
    response = _get("empty-body")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"] == "application/json" and response.headers["content-length"] == "0"


def test_invalid_json() -> None:
    response = _get("invalid-json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_no_content_type() -> None:
    response = _get("no-content-type")
    assert "content-type" not in response.headers and response.json() == _faithful().json()


def test_huge_body_pads_inside_a_json_string() -> None:
    response = _get("huge-body:1")
    assert len(response.content) == 1024 * 1024 + len('{"padding":""}')
    assert int(response.headers["content-length"]) == len(response.content)
    assert set(response.json()["padding"]) == {"x"}
    with MockServer(build_app(load_contract("eduframe"), faults=["huge-body:0.25"])) as base_url:  # whole over HTTP too
        assert len(httpx.get(f"{base_url}/accounts").json()["padding"]) == 256 * 1024


def test_gzip_mislabelled() -> None:
    response = _get("gzip-mislabelled")
    assert "content-encoding" not in response.headers and response.content[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(response.content)) == _faithful().json()


def test_non_utf8() -> None:
    response = _get("non-utf8")
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert json.loads(response.content.decode("utf-16")) == _faithful().json()


def test_slow_drip_sends_the_same_body_slowly() -> None:
    expected = _faithful("/accounts/424242")
    started = time.monotonic()
    response = _get("slow-drip:20", "/accounts/424242")
    pieces = -(-len(expected.content) // 16)
    assert time.monotonic() - started >= pieces * 0.02
    assert (response.status_code, response.content) == (expected.status_code, expected.content)


def test_redirect_loop() -> None:
    response = _get("redirect-loop", "/accounts?page=2")
    assert response.status_code == 302 and response.headers["location"] == "/accounts?page=2"
    with pytest.raises(httpx.TooManyRedirects):
        _get("redirect-loop", follow_redirects=True)


@pytest.mark.parametrize("spec, message", [
    ("nosuch", "unknown fault 'nosuch'"), ("latency:soon", "invalid argument"), ("latency:-5", "invalid argument"),
    ("huge-body:lots", "invalid argument"), ("429-storm:later", "invalid argument"), ("slow-drip:x", "invalid argument"),
    ("intermittent-5xx:often", "invalid argument"),
])
def test_unknown_fault_or_bad_argument_is_a_usage_error(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_app(load_contract("eduframe"), faults=[spec])
    with pytest.raises(UsageError):
        wrap_faults(build_app(load_contract("eduframe")), [f"latency:1,{spec}"])
