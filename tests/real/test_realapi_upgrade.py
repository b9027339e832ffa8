"""`apiconform upgrade` between two REAL Prefect releases (issue 26, deliverable 5), with the contract imported from
the newer release's own served description: every ground-truth change (benchmarks/upgrade_real.py: derived on this
run from the releases' own descriptions, or their answers where a description declares nothing) that the run's
answers could show is reported, classified breaking or not as the truth says, and nothing else is reported. The benchmark (`python benchmarks/run.py --only upgrade`) prints the same table.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from . import realapi_server

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "upgrade_real.py"


def _bench(path: Path = BENCH) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not realapi_server.available("prefect"), reason="../shared/real-apis/prefect not found")
def test_upgrade_between_two_real_releases_reports_the_ground_truth_and_nothing_else(tmp_path: Path) -> None:
    bench = _bench()
    result = bench.run(tmp_path)
    print(bench.render(result))
    assert "error" not in result and "skipped" not in result, result
    rows = [r for r in result["rows"] if r["observable"] or r["reported"]]
    # the releases differ in removed (breaking) and added fields and in new operations, on both kinds of evidence
    assert sum(r["breaking"] for r in rows) >= 3 and sum(not r["breaking"] for r in rows) >= 8, result["rows"]
    assert {"spec", "wire"} <= {r["evidence"] for r in rows}, result["rows"]
    missed = [f"{r['id']} {r['operation']}: {r['change']}" for r in rows if not r["reported"]]
    assert not missed, f"true changes upgrade did not report: {missed}"
    misclassed = [f"{r['id']} {r['change']}: {r['as']}" for r in rows if r["reported_breaking"] != r["breaking"]]
    assert not misclassed, f"true changes classified wrongly: {misclassed}"
    assert not result["noise"], f"changes reported that are not changes: {json.dumps(result['noise'], indent=1)}"
    assert result["exit"] == 1  # breaking changes: exit 1


@pytest.mark.skipif(not realapi_server.available("kinto"), reason="../shared/real-apis/kinto not found")
def test_upgrade_between_two_real_kinto_releases_reports_status_changes_the_vendor_made(tmp_path: Path) -> None:
    """Kinto 23.0.2 -> 26.5.0 (benchmarks/upgrade_kinto.py): the vendor's fixes between the releases, each probed on
    both with plain requests, change status codes only (200 -> 400, 500 -> 400, 403 -> 404). Before the request-by-
    request comparison `apiconform upgrade` reported none of those whose statuses both versions answered to other
    requests (a 200 that became 400 on an operation answering 200 and 400 in both)."""
    bench = _bench(BENCH.with_name("upgrade_kinto.py"))
    result = bench.run(tmp_path)
    print(bench.render(result))
    assert "error" not in result and "skipped" not in result, result
    rows = result["rows"]
    assert len(rows) >= 10, rows  # the fixes are client-visible on the wire
    reported = [r for r in rows if r["reported"]]
    # at least one of each kind of fix: a refusal that replaced an answer, a crash that became one, a 403 now 404
    assert {(r["old"] // 100, r["new"] // 100) for r in reported} >= {(2, 4), (5, 4)}, rows
    assert any(r["changes"] == ["K4"] and (r["old"], r["new"]) == (403, 404) for r in reported), rows
    misclassed = [f"{r['id']} {r['operation']} {r['old']}->{r['new']}: {r['as']}" for r in reported
                  if r["reported_breaking"] != r["breaking"]]
    assert not misclassed, misclassed
    assert result["exit"] == 1
