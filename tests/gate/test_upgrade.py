"""`apiconform upgrade VENDOR --from URL --to URL` (issue 26): one plan against two versions served over real HTTP.

The same version twice is clean (values, generated ids and data never count); a version with a known change is
reported as that change, classified breaking, exit 1. The "new versions" are the contract-driven mocks with a drift
switched on, or wrapped so that anonymous callers are served: each is a change whose ground truth we know.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apiconform.auth import mock_credentials
from apiconform.cli import main
from apiconform.contracts import load_contract
from apiconform.mock import MockServer, mock_app

VENDOR = "eduframe"
OPS = "list_accounts,get_account"


class AnonymousServed:
    """A version that serves anonymous callers as if they had logged in (the upgrade that opened every endpoint)."""

    def __init__(self, app: Any, authorization: bytes) -> None:
        self.app, self.authorization = app, authorization

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not any(k == b"authorization" for k, _ in scope["headers"]):
            scope = dict(scope, headers=[*scope["headers"], (b"authorization", self.authorization)])
        await self.app(scope, receive, send)


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    servers: list[MockServer] = []
    token = mock_credentials(load_contract(VENDOR), VENDOR)["token"]
    monkeypatch.setenv("APICONFORM_EDUFRAME_TOKEN", token)
    monkeypatch.chdir(tmp_path)

    def start(drifts: tuple[str, ...] = (), anonymous: bool = False) -> str:
        app = mock_app(VENDOR, drifts=drifts)
        server = MockServer(AnonymousServed(app, f"Bearer {token}".encode()) if anonymous else app)
        servers.append(server)
        return str(server.start())

    yield start
    for server in servers:
        server.stop()


def upgrade(tmp: Path, old: str, new: str, *extra: str) -> tuple[Any, dict[str, Any]]:
    result = CliRunner().invoke(main, ["upgrade", VENDOR, "--from", old, "--to", new, "--operation", OPS,
                                       "--max-examples", "3", "--rate", "1000", "--reports-dir", str(tmp / "up"), *extra])
    data = json.loads((tmp / "up" / "upgrade.json").read_text(encoding="utf-8")) if (tmp / "up" / "upgrade.json").exists() else {}
    return result, data


def test_the_same_version_twice_shows_no_change(serve: Any, tmp_path: Path) -> None:
    result, data = upgrade(tmp_path, serve(), serve())
    assert result.exit_code == 0, result.output
    assert data["changes"] == [], result.output
    assert "plan eduframe" in result.output and "0 breaking, 0 non-breaking" in result.output


@pytest.mark.parametrize("drift, kind", [
    ("enum-value-changed", "response-enum-value-added"),
    ("field-type-changed", "response-field-retyped"),
    ("status-code-changed", "status-changed"),  # the same requests answered 202 where they got 200
    ("content-type-changed", "response-content-type-removed"),
    ("pagination-header-missing", "response-header-removed"),
])
def test_a_known_change_is_reported_as_that_change_and_breaking(serve: Any, tmp_path: Path, drift: str, kind: str) -> None:
    result, data = upgrade(tmp_path, serve(), serve((drift,)))
    assert result.exit_code == 1, result.output
    kinds = {c["kind"] for c in data["changes"] if c["breaking"]}
    assert kind in kinds, result.output


def test_anonymous_callers_served_by_the_new_version_is_a_breaking_auth_change(serve: Any, tmp_path: Path) -> None:
    result, data = upgrade(tmp_path, serve(), serve(anonymous=True))
    assert result.exit_code == 1, result.output
    relaxed = [c for c in data["changes"] if c["kind"] == "auth-relaxed"]
    assert {c["operation"] for c in relaxed} == set(OPS.split(",")), result.output
    assert all(c["breaking"] and "anonymous callers now get" in c["message"] for c in relaxed), relaxed
    # list_accounts answers anonymous callers 200; get_account lets them past the auth check to a 404 (no such id)
    assert any("now get 200 (was 403)" in c["message"] for c in relaxed), relaxed


def test_bad_urls_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["upgrade", VENDOR, "--from", "ftp://x", "--to", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "--from expects a URL" in result.output and "Traceback" not in result.output


# --- what does not count: volatile statuses, maps keyed by data, a null that got a value; absent operations ---------
MAPS_DOC: dict[str, Any] = {
    "openapi": "3.1.0", "info": {"title": "Runs", "version": "1"},
    "components": {"schemas": {"Run": {"type": "object", "properties": {
        "id": {"type": "string"}, "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "payload": {"type": "object"}, "end": {"type": ["string", "null"]}}}}},
    "paths": {
        "/runs": {"get": {"operationId": "list_runs", "responses": {"200": {"description": "runs", "content": {
            "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}}}}}}},
        "/runs/next": {"get": {"operationId": "next_runs", "responses": {"200": {"description": "by run", "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Run"}}}}}}}},
        "/states": {"get": {"operationId": "list_states", "responses": {"200": {"description": "states"}}}},
    },
}
UUIDS = ["0a5f3ef8-3914-2cd3-a0ad-c9768914a045", "15548c11-5a09-42e3-b55f-49173d71290d"]


def _record(answers: dict[str, list[tuple[int, Any]]]) -> Any:
    from apiconform.findings import CaseResult
    from apiconform.runrecord import RunRecord

    record = RunRecord()
    for label, seen in answers.items():
        record.add_case(CaseResult("runs", label, "properties", f"properties[{label}]", requests=len(seen)))
        for status, body in seen:
            record.observe_response("runs", label, status, body)
            record.observe_behaviour("runs", label, "status", status)
    return record


def test_data_and_availability_are_not_changes_but_a_removed_field_and_an_absent_operation_are(tmp_path: Path) -> None:
    from apiconform.gate.upgrade import behaviour_diff

    (tmp_path / "runs.json").write_text(json.dumps(MAPS_DOC))
    contract = load_contract(tmp_path / "runs.json")
    run = {"id": "r", "labels": {"team": "a"}, "payload": {"rows": 3}, "end": None, "gone": 1}
    old = _record({
        "list_runs": [(200, [run]), (422, {"detail": [{"input": "x"}]}), (422, {"detail": [{"input": {"a": 1}}]})],
        "next_runs": [(200, {UUIDS[0]: {"id": "r", "labels": {}, "payload": {}, "end": None}})],
        "list_states": [(404, {"detail": "Not Found"})],
    })
    new = _record({
        # other labels and payload keys (data), end now set (it was always null), a busy moment (503), an error echoing
        # one of the types it echoed before (the request, not the version); `gone` removed
        "list_runs": [(200, [{"id": "r", "labels": {"flow.id": "x"}, "payload": {"error": "e"}, "end": "2026"}]),
                      (503, {"exception_message": "Service Unavailable"}), (422, {"detail": [{"input": "y"}]})],
        "next_runs": [(200, {UUIDS[1]: {"id": "r", "labels": {}, "payload": {}, "end": "2026"}})],
        "list_states": [(200, [{"state": "COMPLETED"}]), (422, {"detail": []})],
    })
    report = behaviour_diff(old, new, contract, "runs")
    seen = sorted((c.operation, c.kind.value, str(c.location), c.breaking) for c in report.changes)
    assert seen == [
        ("list_runs", "response-field-removed", "list_runs 200 #/*/gone", True),
        ("list_states", "operation-added", "list_states", False),
    ], seen


def test_an_error_answers_validation_context_is_data_but_its_members_are_fields() -> None:
    """A 422's undocumented detail items keep their members (a member gone is a change), but the context object one
    of them holds is data: its keys depend on which rule the input broke (real Prefect: `ctx.expected` present for
    one drawn input, absent for another, same release)."""
    from apiconform.contracts import load_contract
    from apiconform.gate.upgrade import _maps_collapsed

    contract = load_contract("goodstack")
    answer = {"exception_detail": [{"loc": ["body"], "msg": "m", "ctx": {"expected": "'a' or 'b'"}}]}
    error = _maps_collapsed(contract, answer, None, error=True)
    assert error == {"exception_detail": [{"loc": ["body"], "msg": "m", "ctx": {}}]}
    assert _maps_collapsed(contract, answer, None) == answer  # a success answer keeps every key


def _trail(statuses: dict[str, list[int]]) -> Any:
    """A run record whose tests got `statuses`, request by request in the order sent."""
    from apiconform.findings import CaseResult
    from apiconform.runrecord import RunRecord

    record = RunRecord()
    for label, seen in statuses.items():
        record.add_case(CaseResult("runs", label, "properties", f"properties[{label}]", requests=len(seen),
                                   status=seen[-1], statuses=list(seen)))
        for status in seen:
            record.observe_response("runs", label, status, {"detail": "x"} if status >= 400 else [])
            record.observe_behaviour("runs", label, "status", status)
    return record


def test_the_same_request_answered_another_status_is_a_change_even_where_both_versions_answered_both_statuses(
        tmp_path: Path) -> None:
    """Real Kinto 23.0.2 -> 26.5.0: `?_since=<a time in the future>` answered 200, now 400 (vendor commit 965f7d1e),
    while other requests of the same test got 200 and 400 from both versions: the sets of statuses are equal, the
    answers to the same request are not. A pair that flips both ways in one operation is the data, not the version;
    statuses only one version answered at all are still told once (not again beside the pair that explains them)."""
    from apiconform.gate.upgrade import behaviour_diff

    (tmp_path / "runs.json").write_text(json.dumps(MAPS_DOC))
    contract = load_contract(tmp_path / "runs.json")
    old = _trail({"list_runs": [200, 200, 400, 200], "list_states": [200, 404, 200, 200], "next_runs": [500, 200]})
    new = _trail({"list_runs": [200, 400, 400, 200], "list_states": [404, 200, 200, 200], "next_runs": [422, 200]})
    report = behaviour_diff(old, new, contract, "runs")
    seen = sorted((c.operation, c.kind.value, str(c.location), c.breaking) for c in report.changes)
    assert seen == [
        ("list_runs", "status-changed", "list_runs 200->400", True),  # a request that worked is refused now
        ("next_runs", "status-changed", "next_runs 500->422", False),  # a crash became an answer (not told twice)
    ], seen
