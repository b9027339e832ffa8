"""The real-apis benchmark's triage (benchmarks/real_apis.py): each schemathesis failure is classified by the committed
rules of tests/real/realapis/<kit>/schemathesis.yaml, each apiconform finding by deviations.yaml; what no rule
explains is counted as not triaged, never as a true deviation."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("real_apis", ROOT / "benchmarks" / "real_apis.py")
assert spec is not None and spec.loader is not None
real_apis = importlib.util.module_from_spec(spec)
sys.modules.setdefault("real_apis", real_apis)
spec.loader.exec_module(real_apis)


def failure(label: str, check: str, status: int, *headers: str) -> dict[str, object]:
    return {"label": label, "check": check, "status": status, "headers": sorted(headers)}


def test_schemathesis_failures_are_classified_by_the_committed_rules() -> None:
    found = [failure("GET /accounts", "positive_data_acceptance", 400, "If-None-Match", "Authorization"),
             failure("GET /accounts/{id}", "not_a_server_error", 500, "If-Match"),
             failure("GET /permissions", "response_schema_conformance", 200),
             failure("GET /buckets", "positive_data_acceptance", 400)]  # no precondition header: no rule explains it
    triaged = real_apis.triage_schemathesis("kinto", found)
    assert triaged == {"classes": ["ifmatch", "ifmatch-search", "permnobucket"], "false_positives": 0, "untriaged": 1}
    assert real_apis.triage_schemathesis("prefect", [failure("GET /flows/{id}", "status_code_conformance", 404)]) == \
        {"classes": ["undoc404"], "false_positives": 0, "untriaged": 0}


def test_apiconform_findings_are_classified_by_the_deviation_list() -> None:
    listed = next(iter(real_apis._deviations("kinto").values()))
    run = {"cases": [{"findings": [{"fingerprint": listed["fingerprint"]}, {"fingerprint": "not-listed"}]}]}
    assert real_apis.triage_apiconform("kinto", run) == {"classes": [listed["defect"]], "false_positives": 0,
                                                          "untriaged": 1}
