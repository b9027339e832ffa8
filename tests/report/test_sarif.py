"""apiconform.sarif: valid SARIF 2.1.0 (checked against the official schema with jsonschema), one result per
distinct finding, each located at the contract line of the response it concerns, its rule the failure code."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from apiconform.findings import CaseResult, Category, Finding
from apiconform.report import RunRecord, write_reports
from apiconform.report._sarif import render_sarif

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / ".tools/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    if not SCHEMA.is_file():
        subprocess.run(["make", "--no-print-directory", "sarif-schema"], cwd=ROOT, capture_output=True, timeout=300)
    if not SCHEMA.is_file():
        pytest.skip("the SARIF 2.1.0 schema could not be installed (`make sarif-schema` needs npm)")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def _record() -> RunRecord:
    record = RunRecord(vendors=["goodstack"], argv=["run", "goodstack"])
    enum = Finding("goodstack", "create_eligibility_subscription", "response_schema_conformance", Category.ENUM,
                   "/data/status: 'pending_v2' is not one of ['live']", "/data/status", {"enum": ["live"]}, "pending_v2", 200)
    twice = Finding("goodstack", "create_eligibility_subscription", "not_a_server_error", Category.SERVER_ERROR,
                    "server error 500", "", "< 500", 500, 500)
    record.add_case(CaseResult("goodstack", "create_eligibility_subscription", "properties", "p", [enum, twice], [], [], 200))
    record.add_case(CaseResult("goodstack", "create_eligibility_subscription", "negative", "n", [twice], [], [], 500))
    return record


def test_sarif_is_valid_and_locates_each_finding_on_its_contract_line(tmp_path: Path, validator, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    written = write_reports(_record(), tmp_path, waived={_record().findings[1].fingerprint: "vendor ticket 9"})
    sarif = json.loads((tmp_path / "apiconform.sarif").read_text(encoding="utf-8"))
    assert tmp_path / "apiconform.sarif" in written
    assert not list(validator.iter_errors(sarif)), [e.message for e in validator.iter_errors(sarif)]
    run = sarif["runs"][0]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["AC602", "AC200"]  # the 500 seen twice is one result
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {"AC602", "AC200"}
    contract = (ROOT / "contracts" / "goodstack" / "openapi.yaml").read_text(encoding="utf-8").splitlines()
    for result in results:
        place = result["locations"][0]["physicalLocation"]
        assert place["artifactLocation"]["uri"] == "contracts/goodstack/openapi.yaml"
        line = contract[place["region"]["startLine"] - 1].strip()
        status = str(result["properties"]["status"])
        assert line.startswith((f"'{status}':", f'"{status}":', f"{status}:", "post:", "get:")), line
    assert results[0]["level"] == "error" and "suppressions" not in results[0]
    assert results[1]["suppressions"] == [{"kind": "external", "justification": "vendor ticket 9"}]
    only_enum = render_sarif(_record(), fail_on={Category.ENUM})
    assert [r["level"] for r in only_enum["runs"][0]["results"]] == ["error", "warning"]


def test_the_schema_check_fails_on_broken_sarif(validator) -> None:
    sarif = json.loads(json.dumps(render_sarif(_record())))
    sarif["runs"][0]["results"][0]["level"] = "fatal"
    del sarif["version"]
    messages = [e.message for e in validator.iter_errors(sarif)]
    assert any("'version' is a required property" in m for m in messages), messages
    assert any("'fatal' is not one of" in m for m in messages), messages
