"""Record a target into a HAR cassette, replay it against the mock, measure agreement."""

from __future__ import annotations

import json
from pathlib import Path

from apiconform.exchange import Session
from apiconform.fidelity import read_cassette, record, verify, write_cassette
from apiconform.targets import mock_target


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
