"""Fidelity on any client's recording (chains inferred from the recording, flows, which side to change) and
the learned data file the mock executes; each seen to fail where the mock or the recording is broken."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from apiconform.cli import main
from apiconform.contracts import load_contract
from apiconform.engine._session import Session
from apiconform.engine._targets import mock_target
from apiconform.engine._transports import SyncASGITransport
from apiconform.errors import ContractError
from apiconform.mock import build_app
from apiconform.traffic import Chain, RecordingTransport, TrafficJudge, replay, write_cassette
from apiconform.traffic._learn import learn, write_learned

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "client-traffic"))
from provider_client import ProviderClient  # noqa: E402  (the example team client)

# a vendor whose ids are not the mock's: provider 7, a notification 42 the client reads later
VENDOR_DATA = {
    "records": {
        "providers": [{"scope": [], "id": "7", "record": {"id": 7}}],
        "notifications": [{"scope": ["7"], "id": "42", "record": {
            "id": 42, "provider": 7, "key": "pending_models", "when": "2026-11-30T09:00:00Z", "info": {"learners": ["a"]},
            "created_at": "2026-11-30T09:00:00Z", "updated_at": "2026-11-30T09:00:00Z"}}],
    },
    "lifetimes": {"login_approle": {"/token/access_token": 3600}},
}


def _vendor(tmp_path: Path, data: dict[str, Any] = VENDOR_DATA) -> Any:
    path = tmp_path / "vendor-learned.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return build_app(load_contract("tesla-ce"), learned=path, seed=11)


def _client_session(app: Any) -> list[dict[str, Any]]:
    """A team's client against the 'vendor': login, read its provider, list, read the one listed, create,
    read and delete its own notification: ids travel from answers into later paths."""
    creds = app.mock.behaviour.credentials()
    judge = TrafficJudge("tesla-ce")
    client = ProviderClient("http://vendor.test", creds["role_id"], creds["secret_id"],
                            transport=RecordingTransport(judge, SyncASGITransport(app)))
    assert client.provider()["id"] == client.provider_id
    listed = client.notifications()
    client._get(f"/api/v2/provider/{client.provider_id}/notification/{listed[0]['id']}/")
    made = client.notify("retrain", "2026-12-01T10:00:00Z", {"reason": "new samples"})
    client._get(f"/api/v2/provider/{client.provider_id}/notification/{made['id']}/")
    client.forget(made["id"])
    assert not judge.findings, judge.findings
    return judge.entries


def test_values_the_client_carried_are_carried_on_the_mock_and_without_the_chain_it_falls_apart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entries = _client_session(_vendor(tmp_path))
    learned = tmp_path / "learned.yaml"
    write_learned(learned, learn(load_contract("tesla-ce"), [("client.har", entries)]))
    result = replay(Session(mock_target("tesla-ce", learned=learned)), entries)
    assert result.agreement == 1.0 and result.flows_agreeing == 1, "\n".join(result.lines())
    plain = replay(Session(mock_target("tesla-ce")), entries)  # provider 1001 on the mock: 7 is carried from the login
    assert plain.carried >= 3 and all(e.status_agrees for e in plain.results[:3]), "\n".join(plain.lines())
    monkeypatch.setattr(Chain, "carry", lambda self, value, *_: value)  # no chain: the vendor's ids literally
    broken = replay(Session(mock_target("tesla-ce")), entries)
    assert broken.status_agreement < 0.5 and broken.carried == 0, "\n".join(broken.lines())


def test_a_drifted_mock_differs_per_exchange_and_flow_and_the_mock_is_the_side_to_change(tmp_path: Path) -> None:
    entries = _client_session(_vendor(tmp_path))
    result = replay(Session(mock_target("tesla-ce", drifts=("null-not-allowed",))), entries)
    assert result.agreement < 0.9 and result.flows_agreeing == 0
    shaped = [a for e in result.results for a in e.aspects if a[0] == "body-shape"]
    assert shaped and all(change == "mock" for _aspect, _detail, change in shaped)
    assert any("vendor" in d and "mock null" in d for _a, d, _c in shaped), shaped
    assert any(line.startswith("what to change:") and "the mock" in line for line in result.lines())


def test_the_vendor_answering_what_the_contract_does_not_say_asks_to_change_the_contract(tmp_path: Path) -> None:
    entries = _client_session(_vendor(tmp_path))
    read = next(e for e in entries if e["_operation"] == "read_provider")
    read["response"]["content"]["text"] = read["response"]["content"]["text"].replace('"id": 7', '"id": "seven"')
    result = replay(Session(mock_target("tesla-ce")), entries)
    differing = next(e for e in result.results if e.operation == "read_provider")
    assert differing.aspects and differing.aspects[0][2] == "contract", differing


def test_token_lifetimes_are_compared_and_learned(tmp_path: Path) -> None:
    entries = _client_session(_vendor(tmp_path))
    assert entries[0]["_lifetimes"]["/token/access_token"] == 3600
    result = replay(Session(mock_target("tesla-ce")), entries)  # the mock's own 300 s
    assert any(a[0] == "token-lifetime" and "vendor 3600 s, mock 300 s" in a[1] for a in result.results[0].aspects)
    data = learn(load_contract("tesla-ce"), [("c.har", entries)])
    assert data["lifetimes"]["login_approle"]["/token/access_token"] == 3600


def test_learned_data_is_redacted_and_keeps_parents(tmp_path: Path) -> None:
    entries = _client_session(_vendor(tmp_path))
    data = learn(load_contract("tesla-ce"), [("c.har", entries)])
    text = yaml.safe_dump(data)
    assert "eyJ" not in text and "mock-tesla-ce-secret" not in text
    assert data["answers"]["login_approle"]["token"] == {"access_token": "[REDACTED]", "refresh_token": "[REDACTED]"}
    notifications = {r["id"]: r for r in data["records"]["notifications"]}
    assert set(notifications) == {"42"}  # the one the client created is not a seed
    assert notifications["42"]["scope"] == ["7"] and {r["id"] for r in data["records"]["providers"]} == {"7"}
    assert data["open"]["list_provider_notifications"]["/results/*/info"] == {"learners": ["a"]}


def test_a_learned_record_without_its_parent_is_one_clear_error(tmp_path: Path) -> None:
    orphan = {"records": {"providers": [{"scope": [], "id": "7", "record": {"id": 7}}],
                          "notifications": [{"scope": ["8"], "id": "1", "record": {"id": 1}}]}}
    with pytest.raises(ContractError, match=r"records.notifications: parent providers '8'"):
        _vendor(tmp_path, orphan)


def test_formats_the_vendor_accepts_are_learned_and_the_mock_accepts_them(tmp_path: Path) -> None:
    app = _vendor(tmp_path)
    creds = app.mock.behaviour.credentials()
    judge = TrafficJudge("tesla-ce")
    with httpx.Client(base_url="http://vendor.test", transport=RecordingTransport(judge, SyncASGITransport(app))) as c:
        token = c.post("/api/v2/auth/approle", json=creds).json()["token"]["access_token"]
        c.headers["Authorization"] = f"JWT {token}"
        refused = c.post("/api/v2/provider/7/notification/", json={"key": "k", "when": "2026-12-01T10:00:00"})
    assert refused.status_code == 400  # the contract's date-time needs an offset; this vendor (the mock) refuses
    accepted = judge.entries[-1]
    accepted["response"]["status"] = 201  # as the real vendor answers it (Django reads a naive date-time)
    data = learn(load_contract("tesla-ce"), [("c.har", judge.entries)])
    assert data["accepted"]["create_provider_notification"] == [{"location": "body", "name": "when", "format": "date-time"}]
    learned = tmp_path / "learned.yaml"
    write_learned(learned, data)
    mock = build_app(load_contract("tesla-ce"), learned=learned)
    with httpx.Client(base_url="http://mock.test", transport=SyncASGITransport(mock)) as c:
        token = c.post("/api/v2/auth/approle", json=creds).json()["token"]["access_token"]
        made = c.post("/api/v2/provider/7/notification/", json={"key": "k", "when": "2026-12-01T10:00:00"},
                      headers={"Authorization": f"JWT {token}"})
    assert made.status_code == 201, made.text


def test_fidelity_says_it_only_measured_and_with_a_minimum_it_is_a_gate(tmp_path: Path) -> None:
    entries = _client_session(_vendor(tmp_path))
    har = tmp_path / "client.har"
    write_cassette(har, "tesla-ce", entries)
    measured = CliRunner().invoke(main, ["fidelity", "tesla-ce", str(har), "--learned", str(tmp_path / "none.yaml")])
    assert measured.exit_code == 2 and "learned data unreadable" in measured.output
    learned = tmp_path / "learned.yaml"
    assert CliRunner().invoke(main, ["learn", "tesla-ce", str(har), "--out", str(learned)]).exit_code == 0
    measured = CliRunner().invoke(main, ["fidelity", "tesla-ce", str(har), "--learned", str(learned)])
    assert measured.exit_code == 0 and "measured only" in measured.output and "1/1 flows end the same" in measured.output
    gate = CliRunner().invoke(main, ["fidelity", "tesla-ce", str(har), "--min-agreement", "0.95", "--learned", str(learned)])
    assert gate.exit_code == 0 and "gate passed" in gate.output
    drifted = CliRunner().invoke(main, ["mock", "tesla-ce", "--verify", str(har), "--drift", "field-renamed",
                                        "--min-agreement", "0.95"])
    assert drifted.exit_code == 1 and "gate failed" in drifted.output
    bad = CliRunner().invoke(main, ["fidelity", "tesla-ce", str(har), "--min-agreement", "95"])
    assert bad.exit_code == 2 and "between 0 and 1" in bad.output


# --- what a store-like vendor's own client needs learned (Kinto-like: records in a `data` envelope) --------------
STORE = Path(__file__).resolve().parents[1] / "data" / "store-contract.yaml"  # Kinto-like, see its header


def _entry(method: str, path: str, status: int, answer: Any, sent: Any = None) -> dict[str, Any]:
    import json

    request: dict[str, Any] = {"method": method, "url": f"http://vendor.test/v1{path}", "headers": [], "queryString": []}
    if sent is not None:
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(sent)}
    return {"request": request, "response": {"status": status, "headers": [],
                                             "content": {"mimeType": "application/json", "text": json.dumps(answer)}}}


def test_learned_members_errors_and_absent_records_with_put_replacing_and_a_conventional_sort(tmp_path: Path) -> None:
    """`members`: the mock answers the vendor's members (drops `permissions.read` it never answered, adds the
    `last_modified` it always sets); `absent` + `errors`: a read of a record the traffic deleted answers what the
    vendor answered (403, its body); a PUT replaces what it sends (no stale member), `_sort=-rank` sorts."""
    contract = load_contract(STORE)
    made = {"data": {"id": "a", "rank": 1, "tags": ["x"], "last_modified": 1}, "permissions": {"write": ["me"]}}
    recording = [
        _entry("PUT", "/things/a", 201, made, {"data": {"rank": 1, "tags": ["x"]}}),
        _entry("PUT", "/things/a", 200, {"data": {"id": "a", "rank": 2, "last_modified": 2}, "permissions": {"write": ["me"]}},
               {"data": {"rank": 2}}),
        _entry("GET", "/things/a", 200, {"data": {"id": "a", "rank": 2, "last_modified": 2}, "permissions": {"write": ["me"]}}),
        _entry("DELETE", "/things/a", 200, {"data": {"id": "a", "deleted": True, "last_modified": 3}}),
        _entry("GET", "/things/a", 403, {"code": 403, "errno": 121, "error": "Forbidden"}),
    ]
    data = learn(contract, [("store.har", recording)])
    assert data["absent"] == {"get_thing": 403} and data["errors"]["get_thing"][403]["errno"] == 121
    assert data["members"]["put_thing"]["/permissions"]["seen"] == ["write"]
    assert "last_modified" in data["members"]["put_thing"]["/data"]["always"]
    learned = tmp_path / "learned.yaml"
    write_learned(learned, data)

    http = httpx.Client(transport=SyncASGITransport(build_app(contract, learned=learned)), base_url="http://mock.test")
    created = http.put("/v1/things/b", json={"data": {"rank": 1, "tags": ["x"]}})
    assert created.status_code == 201 and set(created.json()["permissions"]) == {"write"}
    assert set(created.json()["data"]) == {"id", "rank", "tags", "last_modified"}
    replaced = http.put("/v1/things/b", json={"data": {"rank": 5}}).json()["data"]
    assert replaced["id"] == "b" and replaced["rank"] == 5 and "tags" not in replaced
    http.put("/v1/things/c", json={"data": {"rank": 9}})
    ranks = [t.get("rank") for t in http.get("/v1/things", params={"_sort": "-rank"}).json()["data"] if "rank" in t]
    assert ranks == sorted(ranks, reverse=True) and ranks[:2] == [9, 5]
    assert http.delete("/v1/things/b").status_code == 200
    hidden = http.get("/v1/things/b")
    assert hidden.status_code == 403 and hidden.json() == {"code": 403, "errno": 121, "error": "Forbidden"}
    plain = httpx.Client(transport=SyncASGITransport(build_app(contract)), base_url="http://mock.test")
    plain.put("/v1/things/b", json={"data": {"rank": 1}})
    plain.delete("/v1/things/b")
    assert plain.get("/v1/things/b").status_code == 404  # without the learned data: the documented 404
