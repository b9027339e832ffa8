"""The committed list of real TeSLA CE deviations and its baseline agree (fast; no server needed).

tests/real/test_real_gate.py compares real runs with contracts/tesla-ce/deviations.yaml; this test keeps
the waivers in contracts/tesla-ce/real-baseline.yaml exactly that list, each with its reason.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from apiconform.gate._verdict import load_baseline

FOLDER = Path(__file__).resolve().parents[2] / "contracts" / "tesla-ce"


def test_baseline_waives_exactly_the_listed_deviations_with_their_reasons() -> None:
    listed = yaml.safe_load((FOLDER / "deviations.yaml").read_text())["deviations"]
    baseline = load_baseline(FOLDER / "real-baseline.yaml")
    assert listed and {e["fingerprint"] for e in listed} == {w.fingerprint for w in baseline.waivers}
    waivers = baseline.by_fingerprint()
    for entry in listed:
        assert entry["kind"] in ("vendor-defect", "vendor-deviation")
        assert set(entry["modes"]) <= {"read-only", "writes"} and entry["modes"]
        assert entry["reason"] in waivers[entry["fingerprint"]].reason
        assert waivers[entry["fingerprint"]].operation == entry["operation"]
