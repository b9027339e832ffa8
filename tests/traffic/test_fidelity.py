"""Record a target into a HAR cassette, replay it against the mock, measure agreement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apiconform.engine._session import Session
from apiconform.traffic import read_cassette, record, verify, write_cassette
from apiconform.engine._targets import mock_target


def test_a_mock_recorded_and_replayed_against_itself_agrees_and_a_drifted_one_does_not(tmp_path: Path) -> None:
    source = Session(mock_target("tesla-ce"))
    entries = record(source)
    ops = {e["_operation"] for e in entries}
    assert len(ops) >= 25 and "login_approle" in ops and "delete_provider_notification" in ops
    path = tmp_path / "tesla.har"
    write_cassette(path, "tesla-ce", entries)
    har = json.loads(path.read_text())
    assert har["log"]["version"] == "1.2" and "eyJ" not in path.read_text()  # HAR, tokens redacted
    vendor, loaded = read_cassette(path)
    same = verify(Session(mock_target("tesla-ce", seed=5)), loaded)
    assert vendor == "tesla-ce" and same.exchanges == len(entries)
    assert same.agreement == 1.0, same.lines()
    drifted = verify(Session(mock_target("tesla-ce", drifts=("field-renamed",))), loaded)
    assert drifted.agreement < 0.9 and any(d.aspect == "body-shape" for d in drifted.differences)


def test_record_and_fidelity_commands_as_the_readme_shows(tmp_path: Path, monkeypatch: Any) -> None:
    """`apiconform record tesla-ce --target URL --allow-writes --out X` then `apiconform fidelity tesla-ce X`
    and `apiconform mock tesla-ce --verify X`, against a mock served over real HTTP (as a live vendor)."""
    from click.testing import CliRunner

    from apiconform.cli import main
    from apiconform.contracts import load_contract
    from apiconform.mock import MockServer, build_app

    app = build_app(load_contract("tesla-ce"))
    creds = app.behaviour.credentials()
    monkeypatch.setenv("APICONFORM_TESLA_CE_ROLE_ID", creds["role_id"])
    monkeypatch.setenv("APICONFORM_TESLA_CE_SECRET_ID", creds["secret_id"])
    out = tmp_path / "tesla.har"
    with MockServer(app) as base_url:
        recorded = CliRunner().invoke(main, ["record", "tesla-ce", "--target", base_url, "--allow-writes",
                                             "--out", str(out), "--rate", "100"])
    assert recorded.exit_code == 0, recorded.output
    # the three writes on the mock's seeded verification requests (no create documented for them) are refused
    # under the default write policy "own": the recording never changes a record it did not create
    assert "covering 30/33 operations" in recorded.output and creds["secret_id"] not in out.read_text()
    assert "not recorded: partial_update_provider_request, status_provider_request, update_provider_request" in recorded.output
    checked = CliRunner().invoke(main, ["fidelity", "tesla-ce", str(out), "--min-agreement", "0.95"])
    assert checked.exit_code == 0 and "(100.0%;" in checked.output, checked.output
    drifted = CliRunner().invoke(main, ["mock", "tesla-ce", "--verify", str(out), "--drift", "field-renamed",
                                        "--min-agreement", "0.95"])
    assert drifted.exit_code == 1 and "body-shape" in drifted.output, drifted.output
    bad = CliRunner().invoke(main, ["fidelity", "tesla-ce", str(tmp_path / "missing.har")])
    assert bad.exit_code == 2 and "not a HAR cassette" in bad.output
