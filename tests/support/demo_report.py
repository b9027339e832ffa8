"""A synthetic run record, for looking at the reports without running a suite.

`python tests/support/demo_report.py OUT_DIR` writes run.json and every report into OUT_DIR
(scripts/screenshot_matrix.sh uses it to check the HTML renders properly; a development fixture, not shipped in
the wheel; tests/project/test_architecture.py renders it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from apiconform.findings import CaseResult, Category, Finding, Severity
from apiconform.report import write_reports
from apiconform.runrecord import RunRecord

__all__ = ["demo_record"]


def demo_record() -> RunRecord:
    """Three vendors: one with findings (one waived), one clean, one where nothing ran."""
    rec = RunRecord(
        started="2025-06-01T10:00:00+00:00",
        finished="2025-06-01T10:02:05+00:00",
        duration=125.0,
        seed=1234,
        argv=["apiconform", "run", "--suite", "examples"],
        targets={"goodstack": "mock", "ctrlhub": "https://api.ctrlhub.example", "tesla-ce": "mock"},
        vendors=["goodstack", "ctrlhub", "tesla-ce"],
        suites=["examples", "negative"],
    )
    all_cats = [Category.STATUS_CODE, Category.FIELD_TYPE, Category.ENUM, Category.REQUIRED_FIELD, Category.CONTENT_TYPE]
    curl = "curl -sS -X GET 'http://127.0.0.1:8000/v1/donations?page=2' -H 'Authorization: Bearer [REDACTED]'"
    gs_findings = {
        "listDonations": [
            Finding("goodstack", "listDonations", "response_schema", Category.FIELD_TYPE,
                    "/results/0/amount: '12.50' is not of type 'integer'", "/results/0/amount",
                    "integer", "12.50", 200, curl),
            Finding("goodstack", "listDonations", "pagination", Category.PAGINATION,
                    "next link points past the last page", "/next", None, "/v1/donations?page=9", 200, curl,
                    Severity.NORMAL),
        ],
        "getCause": [
            Finding("goodstack", "getCause", "response_schema", Category.ENUM,
                    "/status: 'paused' is not one of ['active', 'closed'] <script>alert(1)</script>", "/status",
                    ["active", "closed"], "paused", 200,
                    "curl -sS 'http://127.0.0.1:8000/v1/causes/42'"),
        ],
        "createDonation": [
            Finding("goodstack", "createDonation", "status_code", Category.STATUS_CODE,
                    "status 500 not documented for createDonation", "", ["201", "400", "422"], 500, 500,
                    "curl -sS -X POST 'http://127.0.0.1:8000/v1/donations' -d '{\"amount\": -1}'"),
            Finding("goodstack", "createDonation", "server_error", Category.SERVER_ERROR,
                    "server error 500 Internal Server Error", "", None, 500, 500, ""),
        ],
    }
    for op in ["listDonations", "getCause", "createDonation", "getDonation", "listCauses"]:
        for i in range(4):
            findings = gs_findings.get(op, []) if i == 0 else []
            rec.add_case(CaseResult("goodstack", op, "examples", f"example-{i}", findings, ["response_schema"],
                                    all_cats + [Category.PAGINATION, Category.SERVER_ERROR], 200, 0.05))
        rec.observe_response("goodstack", op, 200, {"id": 1, "name": "x", "tags": ["a"], "address": {"city": None}})
    rec.add_case(CaseResult("goodstack", "deleteDonation", "negative", "no-auth", [], ["auth"], [Category.AUTH],
                            None, 0.0, "destructive operation skipped against this target"))
    for op in ["listDonations", "getCause", "createDonation", "getDonation", "listCauses", "deleteDonation"]:
        rec.document_operation("goodstack", op, ["200", "4XX"], {"/status": ["active", "closed"]} if op == "getCause" else None)
    rec.observe_enum("goodstack", "getCause", "/status", "active")
    rec.observe_enum("goodstack", "getCause", "/status", "paused")
    rec.coverage["goodstack"]["documented_operations"] = 12

    for op in ["listDevices", "getDevice", "updateDevice"]:
        for i in range(6):
            rec.add_case(CaseResult("ctrlhub", op, "properties", f"prop-{i}", [], ["response_schema"],
                                    all_cats + [Category.AUTH, Category.ERROR_SHAPE], 200, 0.02))
        rec.document_operation("ctrlhub", op, ["200", "401", "404"])
        rec.observe_response("ctrlhub", op, 200, {"id": "d1", "online": True})
    rec.coverage["ctrlhub"]["documented_operations"] = 3

    for op in ["listVehicles", "getVehicle", "wakeUp"]:
        rec.document_operation("tesla-ce", op, ["200", "408"])
    rec.coverage["tesla-ce"]["documented_operations"] = 31
    return rec


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "reports")
    rec = demo_record()
    rec.write(out)
    waived = {rec.cases[0].findings[1].fingerprint: "vendor ticket GS-1234, fix promised for July"}
    for path in write_reports(rec, out, waived=waived):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
