"""Findings grouped by root cause: one drift at many operations is one group, in every report, with every
member reachable; the group key depends on the finding alone (it is printed in each failing test)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from apiconform.findings import CaseResult, Category, Finding
from apiconform.report import RunRecord, allure_categories, group_findings, root_cause, write_reports
from apiconform.report._groups import change_kind, pointer_pattern
from apiconform.report._junit import render_junit
from apiconform.report._matrix import render_matrix_md


def enum_finding(op: str, ptr: str, value: str, allowed: list[str]) -> Finding:
    return Finding("acme", op, "response_schema_conformance", Category.ENUM, f"{ptr}: {value!r} is not one of {allowed!r}",
                   ptr, repr({"enum": allowed}), value, 200, f"curl https://acme.test/{op}")


def drifted_record() -> RunRecord:
    rec = RunRecord(vendors=["acme"], targets={"acme": "mock"}, suites=["properties"])
    for i in range(45):  # one drift (`_v2` suffix) at 45 operations, some hit by several cases
        for case in range(1 + (i % 3 == 0) * 2):
            rec.add_case(CaseResult("acme", f"op{i}", "properties", f"c{case}",
                                    [enum_finding(f"op{i}", f"/{case}/status", "open_v2", ["open", "closed"])]))
    other = Finding("acme", "op0", "response_schema_conformance", Category.FIELD_TYPE, "/id: 'x' is not of type 'integer'",
                    "/id", repr({"type": "integer"}), "x", 200)
    rec.add_case(CaseResult("acme", "op0", "examples", "x", [other]))
    return rec


def test_pointer_patterns_and_change_kinds():
    assert pointer_pattern("/results/3/id") == "/results/*/id"
    assert pointer_pattern("/data/3c90c3cc-0d44-4b50-8888-8dd25736052a/type") == "/data/*/type"
    assert pointer_pattern("/accounts/organisation_mh8hkpria5zdrpr771/id") == "/accounts/*/id"
    assert change_kind(enum_finding("a", "/s", "open_v2", ["open"])) == "values gained suffix `_v2`"
    assert change_kind(enum_finding("a", "/s", "weird", ["open"])) == "string value outside the documented enum"
    typed = Finding("v", "o", "response_schema_conformance", Category.FIELD_TYPE, "m", "/a", repr({"type": "integer"}), "1")
    assert change_kind(typed) == "integer answered as string"
    required = Finding("v", "o", "response_schema_conformance", Category.REQUIRED_FIELD, "m", "/a", repr({"required": ["a"]}))
    assert change_kind(required) == "a required field is missing"
    free = Finding("v", "o", "expected_outcome", Category.AUTH, "valid credentials refused with 401")
    assert change_kind(free) == "valid credentials refused with N"


def test_one_drift_at_45_operations_is_one_group_with_every_member():
    rec = drifted_record()
    groups = group_findings(rec.findings)
    assert len(groups) == 2
    top = groups[0]
    assert top.title == "enum: values gained suffix `_v2` at 45 operations, 75 cases"
    assert len(top.findings) == 75 and len(top.fingerprints) == 45  # same place at one operation: one fingerprint
    assert {f.fingerprint for f in rec.findings if f.category is Category.ENUM} == set(top.fingerprints)
    assert groups[1].title.startswith("field-type: integer answered as string at op0")


def test_every_report_shows_the_group(tmp_path: Path):
    rec = drifted_record()
    (tmp_path / "allure-results").mkdir()
    write_reports(rec, tmp_path)
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    causes = matrix["root_causes"]
    assert causes[0]["title"] == "enum: values gained suffix `_v2` at 45 operations, 75 cases"
    assert len(causes[0]["operations"]) == 45
    md = render_matrix_md(rec)
    assert "### Findings by root cause (2)" in md and "at 45 operations, 75 cases" in md
    assert "at 45 operations" in (tmp_path / "matrix.html").read_text()
    junit = render_junit(rec)
    assert junit.count('name="root_cause"') == len(rec.cases)
    assert "root cause: enum: values gained suffix `_v2` at 45 operations" in junit
    categories = json.loads((tmp_path / "allure-results" / "categories.json").read_text())
    assert categories[0]["name"].startswith("AC602 acme enum: values gained suffix")
    # the regex Allure applies matches the failing test's message (which prints `root cause: <key>`)
    message = f"1 finding(s)\n  [enum] response_schema_conformance: x\n      root cause: {root_cause(rec.findings[0])}\n  seed: 1"
    assert re.match(categories[0]["messageRegex"], message)
    assert not re.match(categories[0]["messageRegex"], message.replace("_v2", "_v3"))
    assert any(c["name"] == "apiconform: enum" for c in categories)
    assert len(allure_categories(group_findings(rec.findings))) == 2 + len(Category) + 1


def test_an_operation_label_the_redactor_masked_does_not_split_a_root_cause() -> None:
    """Issue 24, real Prefect: the Basic user name `admin` is a credential value, so `read_settings_admin_settings_get`
    reaches the message as `read_settings_[REDACTED]_settings_get`; it made one root cause per such operation."""
    def undocumented(op: str, shown: str) -> Finding:
        return Finding("v", op, "status_code_documented", Category.STATUS_CODE,
                       f"status 400 is not documented for {shown}", "", None, 400, 400)

    found = [undocumented("hello_get", "hello_get"),
             undocumented("read_settings_admin_settings_get", "read_settings_[REDACTED]_settings_get"),
             undocumented("read_version_admin_version_get", "read_version_[REDACTED]_version_get")]
    assert len({root_cause(f) for f in found}) == 1 and len(group_findings(found)) == 1
    assert root_cause(found[1]).endswith("status 400 is not documented for the operation")
    other = undocumented("read_flow", "another_[REDACTED]_op")  # a masked text that is not this operation stays
    assert not root_cause(other).endswith("for the operation")
