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


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("upgrade_real", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["upgrade_real"] = module
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
