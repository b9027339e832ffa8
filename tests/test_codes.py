"""Failure codes: every check's finding carries a stable code, documented, explainable, usable in waivers
and --fail-on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from apiconform.codes import CODES, explain, markdown_table
from apiconform.engine.checks import CHECKS
from apiconform.errors import ConfigError, UsageError
from apiconform.findings import CODE_BY_CHECK, UNREGISTERED_CODE, CaseResult, Category, Finding, code_for
from apiconform.gate._verdict import evaluate, load_baseline, parse_fail_on
from apiconform.report import RunRecord

ROOT = Path(__file__).resolve().parents[1]


def test_codes_are_unique_and_every_check_category_has_one() -> None:
    assert len({c.code for c in CODES}) == len(CODES)
    for spec in CHECKS.values():
        for category in spec.categories:
            code = code_for(spec.name, category)
            assert code != UNREGISTERED_CODE and explain(code).category in (category, Category.FIELD_TYPE), (spec.name, category)
    assert set(CODE_BY_CHECK.values()) <= {c.code for c in CODES}
    for c in CODES:  # each documented code is what its own check and category produce (or a refinement of it)
        assert code_for(c.check, c.category) == c.code or c.code in {"AC402", "AC403", "AC501", "AC502", "AC503"}, c


def test_findings_of_one_check_get_the_code_of_what_went_wrong() -> None:
    auth = Category.AUTH
    assert code_for("expected_outcome", auth, "request without valid credentials accepted with 200") == "AC401"
    assert code_for("expected_outcome", auth, "bad credentials answered 404, documented [401]") == "AC402"
    assert code_for("expected_outcome", auth, "valid credentials refused with 401") == "AC403"
    assert code_for("content_type_conformance", Category.CONTENT_TYPE, "response has a body but no Content-Type") == "AC501"
    assert Finding("v", "op", "response_schema_conformance", Category.ENUM, "x").code == "AC602"
    assert Finding.from_dict({**Finding("v", "o", "not_a_server_error", Category.SERVER_ERROR, "m").to_dict(),
                              "code": ""}).code == "AC200"  # records written before codes get theirs on reading


def test_docs_table_is_the_code_table() -> None:
    text = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    assert markdown_table() in text, "docs/codes.md is out of date: paste apiconform.codes.markdown_table()"


def test_explain_command() -> None:
    from apiconform.cli import main

    out = CliRunner().invoke(main, ["explain", "ac602"])
    assert out.exit_code == 0 and out.output.startswith("AC602: value outside the documented enum"), out.output
    assert "typical cause:" in out.output and "code: AC602" in out.output
    wrong = CliRunner().invoke(main, ["explain", "AC62"])
    assert wrong.exit_code == 2 and "did you mean" in wrong.output and len(wrong.output.strip().splitlines()) == 1
    listed = CliRunner().invoke(main, ["explain", "--list"])
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == len(CODES)


def _record() -> RunRecord:
    record = RunRecord(vendors=["acme"])
    record.add_case(CaseResult("acme", "getThing", "properties", "p", [
        Finding("acme", "getThing", "response_schema_conformance", Category.ENUM, "/s: 'x' is not one of ['a']", "/s"),
        Finding("acme", "getThing", "not_a_server_error", Category.SERVER_ERROR, "server error 500", status=500),
    ], ["response_schema_conformance"], [Category.ENUM], 200))
    record.add_case(CaseResult("acme", "listThings", "properties", "q", [
        Finding("acme", "listThings", "response_schema_conformance", Category.ENUM, "/s: 'y' is not one of ['a']", "/s"),
    ], ["response_schema_conformance"], [Category.ENUM], 200))
    return record


def test_fail_on_takes_codes_and_categories() -> None:
    assert parse_fail_on(["ac602,status"]) == {"AC602", Category.STATUS_CODE}
    with pytest.raises(UsageError, match="unknown failure code 'AC999'"):
        parse_fail_on(["AC999"])
    gate = evaluate(_record(), fail_on=parse_fail_on(["AC200"]))
    assert [f.code for f in gate.failing] == ["AC200"] and len(gate.ignored) == 2 and gate.exit_code == 1
    assert evaluate(_record(), fail_on=parse_fail_on(["AC601"])).exit_code == 0


def test_a_waiver_by_code_waives_every_finding_of_that_kind(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("version: 1\nwaivers:\n  - {code: ac602, vendor: acme, reason: vendor ticket 7, expires: 2999-01-01}\n")
    gate = evaluate(_record(), baseline=load_baseline(path))
    assert len(gate.waived) == 2 and [f.code for f in gate.failing] == ["AC200"] and not gate.unused
    path.write_text("version: 1\nwaivers:\n  - {code: AC602, operation: listThings, reason: r, expires: 2999-01-01}\n")
    assert len(evaluate(_record(), baseline=load_baseline(path)).waived) == 1
    path.write_text("version: 1\nwaivers:\n  - {code: AC602, reason: r, expires: 2000-01-01}\n")
    late = evaluate(_record(), baseline=load_baseline(path), today=date(2026, 1, 1))
    assert not late.waived and late.expired and "AC602" in late.summary[-1]
    path.write_text("version: 1\nwaivers:\n  - {code: AC999, reason: r, expires: 2999-01-01}\n")
    with pytest.raises(ConfigError, match=r"b.yaml:3: waiver 1: unknown failure code 'AC999'"):
        load_baseline(path)
    path.write_text("version: 1\nwaivers:\n  - {reason: r, expires: 2999-01-01}\n")
    with pytest.raises(ConfigError, match="missing field 'fingerprint' .* or 'code'"):
        load_baseline(path)
