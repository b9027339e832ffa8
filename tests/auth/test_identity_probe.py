"""Identity probes in the gate (issue 26): where a live target declares a second identity, the first identity's
records are asked for with the second's credentials and must get the answer the contract declares (403/404).

The vendor here is the eduframe mock served over HTTP behind a gate that knows two tokens: a protected version
answers the second token's request for a record with 404, a vulnerable one serves the record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apiconform.auth import mock_credentials
from apiconform.cli import main
from apiconform.contracts import load_contract
from apiconform.engine._suites import other_identity_statuses
from apiconform.mock import MockServer, mock_app

VENDOR = "eduframe"
OTHER = "second-identity-token-Zq77"


class TwoIdentities:
    """The second identity's token is accepted (rewritten to the mock's); `protected`: its requests for an item
    (a path ending in an id) get 404, as another account's records should."""

    def __init__(self, app: Any, token: str, protected: bool) -> None:
        self.app, self.token, self.protected = app, token, protected
        self.other_items: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if headers.get(b"authorization") == f"Bearer {OTHER}".encode():
                if scope["path"].rstrip("/").rsplit("/", 1)[-1].isdigit():
                    self.other_items.append(scope["path"])
                    if self.protected:
                        await send({"type": "http.response.start", "status": 404,
                                    "headers": [(b"content-type", b"application/json")]})
                        await send({"type": "http.response.body", "body": b'{"errors": ["not found"]}'})
                        return
                scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k != b"authorization"]
                             + [(b"authorization", f"Bearer {self.token}".encode())])
        await self.app(scope, receive, send)


@pytest.fixture
def vendor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    token = mock_credentials(load_contract(VENDOR), VENDOR)["token"]
    monkeypatch.setenv("APICONFORM_EDUFRAME_TOKEN", token)
    monkeypatch.chdir(tmp_path)
    servers = []

    def serve(protected: bool, other: bool = True) -> tuple[str, TwoIdentities]:
        if other:
            monkeypatch.setenv("APICONFORM_EDUFRAME_OTHER_TOKEN", OTHER)
        else:
            monkeypatch.delenv("APICONFORM_EDUFRAME_OTHER_TOKEN", raising=False)
        gate = TwoIdentities(mock_app(VENDOR), token, protected)
        server = MockServer(gate)
        servers.append(server)
        return str(server.start()), gate

    yield serve
    for server in servers:
        server.stop()


def run(tmp: Path, url: str) -> Any:
    return CliRunner().invoke(main, ["run", VENDOR, "--target", f"{VENDOR}={url}", "--operation", "list_accounts,get_account",
                                     "--suite", "negative", "--rate", "1000", "--no-allure", "--no-progress",
                                     "--reports-dir", str(tmp / "reports")])


def auth_case(tmp: Path, operation: str) -> dict[str, Any]:
    cases = json.loads((tmp / "reports" / "run.json").read_text(encoding="utf-8"))["cases"]
    return next(c for c in cases if c["name"] == f"auth[{operation}]")


def test_a_protected_vendor_passes_and_the_probe_really_ran(vendor: Any, tmp_path: Path) -> None:
    url, gate = vendor(protected=True)
    result = run(tmp_path, url)
    assert result.exit_code == 0, result.output
    assert gate.other_items and all(p.startswith("/accounts/") for p in gate.other_items)  # a real account id
    case = auth_case(tmp_path, "get_account")
    assert "other_identity" in case["checks"] and case["requests"] == 3
    assert "other_identity" not in auth_case(tmp_path, "list_accounts")["checks"]  # no record in its path
    assert OTHER not in result.output


def test_a_vendor_serving_another_identitys_record_fails_the_gate(vendor: Any, tmp_path: Path) -> None:
    url, gate = vendor(protected=False)
    result = run(tmp_path, url)
    assert result.exit_code == 1, result.output
    findings = auth_case(tmp_path, "get_account")["findings"]
    assert [f["category"] for f in findings] == ["auth"], findings
    assert "broken object-level authorization" in findings[0]["message"] and findings[0]["actual"] == 200
    assert OTHER not in result.output and OTHER not in (tmp_path / "reports" / "run.json").read_text()


def test_without_a_second_identity_nothing_is_probed(vendor: Any, tmp_path: Path) -> None:
    url, gate = vendor(protected=False, other=False)
    result = run(tmp_path, url)
    assert result.exit_code == 0, result.output
    assert gate.other_items == [] and "other_identity" not in auth_case(tmp_path, "get_account")["checks"]


def test_the_contract_declares_what_another_identity_gets() -> None:
    contract = load_contract(VENDOR)
    assert other_identity_statuses(contract) == (403, 404)  # not declared: either refusal
    scheme = next(iter(contract.security_schemes.values()))
    scheme.setdefault("x-apiconform-auth", {})["other-identity"] = [404]
    try:
        assert other_identity_statuses(contract) == (404,)
    finally:
        scheme["x-apiconform-auth"].pop("other-identity")
