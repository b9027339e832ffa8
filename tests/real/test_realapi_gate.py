"""The gate against REAL third-party servers it was never fitted to (../shared/real-apis kits), from the
description each server serves: `apiconform init VENDOR --from-openapi <spec_url>` (Kinto: Swagger 2.0 with no
security declared; Prefect: OpenAPI 3.1 served only with HTTP Basic), then `apiconform run` read-only and
with --allow-writes.

Acceptance (issue 24): every finding is an investigated server deviation listed, with its evidence, in
tests/real/realapis/<kit>/deviations.yaml; with the committed baseline (baseline.yaml, the same fingerprints)
both runs exit 0. A finding not listed (a server change, or a tool error) fails here with its fingerprint.
Prefect runs a bounded selection (--max-examples, see BUDGET) to keep CI time down; README says how long.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from .realapi_server import RealApi

HERE = Path(__file__).resolve().parent / "realapis"
APICONFORM = str(Path(sys.executable).with_name("apiconform"))
FAST = ["--rate", "200", "--max-requests", "20000", "--no-allure", "--no-progress", "--workers", "1"]
BUDGET = {"kinto": ["--max-examples", "5"], "prefect": ["--max-examples", "2"]}
WRITES = ["--suite", "stateful,properties"]  # the writes run: lifecycles and valid writes (negatives ran read-only)


def import_contract(server: RealApi, contracts: Path) -> subprocess.CompletedProcess[str]:
    user, password = server.user
    env = {**server.env(), "APICONFORM_SPEC_PASSWORD": password}
    return subprocess.run([APICONFORM, "init", server.kit, "--from-openapi", server.spec_url, "--user", user,
                           "--dir", str(contracts)], env=env, capture_output=True, text=True, timeout=300)


def listed(kit: str, mode: str) -> dict[str, dict[str, Any]]:
    entries = yaml.safe_load((HERE / kit / "deviations.yaml").read_text())["deviations"]
    return {e["fingerprint"]: e for e in entries if mode in e["modes"]}


def gate(server: RealApi, contracts: Path, workdir: Path, *extra: str) -> tuple[int, dict[str, Any], str, float]:
    began = time.monotonic()
    done = subprocess.run([APICONFORM, "run", server.kit, "--contracts", str(contracts),
                           "--target", f"{server.kit}={server.base_url}", *FAST, *BUDGET[server.kit],
                           "--reports-dir", str(workdir / "reports"),
                           "--baseline", str(HERE / server.kit / "baseline.yaml"), *extra],
                          cwd=workdir, env=server.env(), capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - began
    record = workdir / "reports" / "run.json"
    return done.returncode, json.loads(record.read_text()) if record.is_file() else {}, done.stdout + done.stderr, elapsed


def findings(run: dict[str, Any]) -> dict[str, str]:
    return {f["fingerprint"]: f"{c['operation']} [{f['category']}] {f['message'][:160]} | {f.get('curl', '')[:300]}"
            for c in run.get("cases", []) for f in c["findings"]}


def _gate_matches_the_list(server: RealApi, tmp_path: Path, mode: str) -> None:
    contracts = tmp_path / "contracts"
    imported = import_contract(server, contracts)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    source = (contracts / server.kit / "SOURCE.md").read_text()
    assert "sha256:" in source and server.spec_url in source and server.user[1] not in source
    workdir = tmp_path / mode
    workdir.mkdir(parents=True)
    if mode == "writes":  # only the operations the kit's writes.toml allows (never the run's own login, nor bulk deletes)
        (workdir / "apiconform.toml").write_text((HERE / server.kit / "writes.toml").read_text())
    code, run, output, elapsed = gate(server, contracts, workdir, *(WRITES if mode == "writes" else []))
    print(f"{server.kit} gate {mode}: {elapsed:.0f} s, exit {code}, timings {server.timings}")
    assert run, output[-3000:]
    found, expected = findings(run), listed(server.kit, mode)
    new = {fp: text for fp, text in found.items() if fp not in expected}
    assert not new, (f"findings not in realapis/{server.kit}/deviations.yaml (a server change or a tool error): "
                     f"{json.dumps(new, indent=1)}")
    assert code == 0, output[-3000:]  # every finding is a listed deviation, waived by the committed baseline
    ran = [c for c in run["cases"] if not c.get("skipped")]
    assert len(ran) >= 20, "the run must really test the server"


@pytest.mark.parametrize("mode", ["read-only", "writes"])
def test_kinto_gate_reports_only_listed_deviations(kinto_real: RealApi, tmp_path: Path, mode: str) -> None:
    _gate_matches_the_list(kinto_real, tmp_path, mode)


def test_prefect_gate_reports_only_listed_deviations(prefect_real: RealApi, tmp_path: Path) -> None:
    """Read-only only: 188 operations (most reads are POST .../filter), a bounded run (BUDGET) for CI time."""
    _gate_matches_the_list(prefect_real, tmp_path, "read-only")


@pytest.mark.parametrize("kit", ["kinto", "prefect"])
def test_deviation_lists_and_baselines_agree(kit: str) -> None:
    """Each listed deviation carries its evidence and is waived in the baseline, nothing else is."""
    entries = yaml.safe_load((HERE / kit / "deviations.yaml").read_text())["deviations"]
    waivers = yaml.safe_load((HERE / kit / "baseline.yaml").read_text())["waivers"]
    assert {e["fingerprint"] for e in entries} == {w["fingerprint"] for w in waivers}
    for entry in entries:
        assert entry["kind"] in ("server-defect", "server-deviation") and entry["evidence"] and entry["reason"], entry
