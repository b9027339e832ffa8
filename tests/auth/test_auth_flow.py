"""Adding an auth flow is one object: a sixth flow defined and registered here (nothing in apiconform names
it) drives the mock, the engine, the redactor and `apiconform mock`'s example against the test-only
contract tests/data/auth-flow/toy-token."""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import apiconform
from apiconform import auth
from apiconform.auth import AuthRequest, BaseFlow, ExampleCall, Owned, SensitiveNames
from apiconform.auth._common import equal, header, require
from apiconform.contracts import load_contract, use_contracts
from apiconform.redact import MASK, Redactor

CONTRACTS = Path(__file__).resolve().parents[1] / "data" / "auth-flow"
VENDOR = "toy-token"
PLANTED = "UnknownToyKeyValue-7f3a"  # a key no redactor was told about: only its header name can mask it


class ToyAuth(httpx.Auth):
    def __init__(self, key: str) -> None:
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Toy-Key"] = f"toy:{self.key}"
        yield request


class ToyTokenFlow(BaseFlow):
    """`X-Toy-Key: toy:<key>`: a header the scheme (`type: http, scheme: toy`) does not name, so only the
    flow knows it owns it."""

    name = "toy-token"
    credential_fields = ("toy_key",)
    sensitive = SensitiveNames(headers=frozenset({"x-toy-key"}), params=frozenset({"toy_key"}), keys=frozenset({"toy_key"}))

    def owned_parameters(self, scheme: Mapping[str, Any]) -> Owned:
        return super().owned_parameters(scheme) | Owned(headers=frozenset({"x-toy-key"}))

    def client_auth(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], *,
                    base_url: str | httpx.URL | None = None) -> httpx.Auth:
        require(credentials, self.credential_fields, self.name)
        return ToyAuth(credentials["toy_key"])

    def verify(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], request: AuthRequest) -> str | None:
        given = header(request.headers, "x-toy-key")
        if not given:
            return "missing X-Toy-Key"
        return None if equal(given, f"toy:{credentials.get('toy_key', '')}") else "invalid X-Toy-Key"

    def example(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], call: ExampleCall) -> list[str]:
        return call.curl("-H", f"X-Toy-Key: toy:{credentials.get('toy_key', '')}")


@pytest.fixture
def toy() -> Iterator[ToyTokenFlow]:
    use_contracts(CONTRACTS)
    flow = ToyTokenFlow()
    auth.register(flow)
    try:
        yield flow
    finally:
        auth.unregister(flow.name)
        use_contracts(None)


def test_unregistered_the_vendor_has_no_flow_and_its_header_is_not_masked() -> None:
    """What the other tests prove is the registration's doing (they would fail without it)."""
    use_contracts(CONTRACTS)
    try:
        contract = load_contract(VENDOR)
        assert auth.select_scheme(contract) is None and auth.credential_fields(contract) == ()
        assert "x-toy-key" not in auth.owned_parameters(contract).headers
    finally:
        use_contracts(None)
    assert PLANTED in Redactor(()).text(f"X-Toy-Key: toy:{PLANTED}")


def test_registered_flow_is_the_schemes_and_rejects_bad_registrations(toy: ToyTokenFlow) -> None:
    contract = load_contract(VENDOR)
    assert auth.flow_for(contract.security_schemes["toy"]) is toy and auth.flow_of(contract.security_schemes["toy"]) == VENDOR
    assert auth.CREDENTIAL_FIELDS[VENDOR] == ("toy_key",) and auth.credential_fields(contract) == ("toy_key",)
    assert toy in auth.flows()
    with pytest.raises(ValueError, match="already registered"):
        auth.register(ToyTokenFlow())
    bad = ToyTokenFlow()
    bad.name = "Toy Token"  # type: ignore[misc]
    with pytest.raises(ValueError, match="lower-case words"):
        auth.register(bad)
    with pytest.raises(TypeError):
        auth.register(object())  # type: ignore[arg-type]


def test_mock_accepts_the_flows_credentials_and_refuses_others(toy: ToyTokenFlow) -> None:
    from apiconform.engine._targets import mock_target

    target = mock_target(VENDOR)
    assert target.credentials == {"toy_key": "mock-toy-token-toy-key"}  # BaseFlow.mock_credentials
    with target.client() as client:
        answer = client.get("/v1/widgets")
        assert answer.status_code == 200 and answer.request.headers["X-Toy-Key"] == "toy:mock-toy-token-toy-key"
    with target.client(authenticated=False) as client:
        assert client.get("/v1/widgets").status_code == 401
        assert client.get("/v1/widgets", headers={"X-Toy-Key": "toy:guess"}).status_code == 401


def test_engine_owns_the_flows_header_and_runs_every_suite_green(toy: ToyTokenFlow) -> None:
    from apiconform.engine._judge import _security_params, judge

    contract = load_contract(VENDOR)
    headers, query = _security_params(contract)
    assert headers == {"authorization", "x-toy-key"} and query == frozenset()
    # the contract documents X-Toy-Key as a required header: the flow owns it, so its absence is no violation
    op = contract.operation("list_widgets")
    assert judge(contract, op, httpx.Request("GET", "https://toy.example.invalid/v1/widgets")) == "positive"

    run = apiconform.run([VENDOR], max_examples=5)
    assert apiconform.evaluate(run).exit_code == 0
    cases = {c["name"]: c for c in run.to_dict()["cases"]}
    assert not [c["findings"] for c in cases.values() if c["findings"]]
    # the negative auth suite sent no credentials and the flow's wrong ones, and the mock refused both
    auth_cases = [c for name, c in cases.items() if name.startswith("auth[")]
    assert len(auth_cases) == 2 and all(c["status"] == 401 and c["requests"] == 2 and "auth" in c["categories"]
                                        for c in auth_cases), auth_cases
    assert all(cases[f"properties[{op}]"]["requests"] == 5 for op in ("list_widgets", "get_widget"))


def test_redaction_masks_the_flows_names_in_every_output(toy: ToyTokenFlow) -> None:
    redactor = Redactor(())
    assert redactor.text(f"X-Toy-Key: toy:{PLANTED}") == f"X-Toy-Key: {MASK}"
    assert PLANTED not in redactor.url(f"https://toy.example.invalid/v1/widgets?toy_key={PLANTED}")
    assert redactor.json({"toy_key": PLANTED}) == {"toy_key": MASK}
    curl = redactor.curl("GET", "https://toy.example.invalid/v1/widgets", {"X-Toy-Key": f"toy:{PLANTED}"})
    assert PLANTED not in curl and f"X-Toy-Key: {MASK}" in curl
    # and in a run's findings (a drift makes some): the reproduction carries the header masked by name
    record = apiconform.run([VENDOR], drifts=["enum-value-changed"], max_examples=5).to_dict()
    curls = [re.sub(r"(?i)x-toy-key:", "X-Toy-Key:", f["curl"]) for c in record["cases"] for f in c["findings"]]
    assert curls and all(f"-H 'X-Toy-Key: {MASK}'" in curl for curl in curls), curls  # by name: not `toy:[REDACTED]`
    assert "mock-toy-token-toy-key" not in json.dumps(record)


def test_mock_command_prints_the_flows_credentials_and_a_working_example(toy: ToyTokenFlow,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from apiconform.cli import main
    from apiconform.engine._transports import SyncASGITransport

    served: list[Any] = []
    monkeypatch.setattr("apiconform.mock.serve", lambda app, host, port: served.append(app))
    result = CliRunner().invoke(main, ["mock", VENDOR, "--port", "8123", "--contracts", str(CONTRACTS)])
    assert result.exit_code == 0, result.output
    assert "credentials:\n  toy_key=mock-toy-token-toy-key\nexample:\n" in result.output
    curl = next(line.strip() for line in result.output.splitlines() if line.strip().startswith("curl -i"))
    assert curl == "curl -i -H 'X-Toy-Key: toy:mock-toy-token-toy-key' http://127.0.0.1:8123/v1/widgets"
    with httpx.Client(transport=SyncASGITransport(served[0])) as http:  # the example works as printed
        assert http.get("http://127.0.0.1:8123/v1/widgets", headers={"X-Toy-Key": "toy:mock-toy-token-toy-key"}).status_code == 200
