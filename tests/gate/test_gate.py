"""Gate: exit codes under fail_on, waivers, expiry; baseline parsing errors are one actionable line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from apiconform.cli._report import baseline as baseline_group
from apiconform.errors import ConfigError
from apiconform.findings import CaseResult, Category, Finding
from apiconform.gate._verdict import Baseline, Waiver, evaluate, load_baseline, write_baseline
from apiconform.report import RunRecord, build_matrix

TODAY = date(2025, 6, 1)
FT, EN, AUTH = Category.FIELD_TYPE, Category.ENUM, Category.AUTH


def record(*findings: Finding, clean_cases: int = 1) -> RunRecord:
    rec = RunRecord(vendors=["acme"])
    for i in range(clean_cases):
        rec.add_case(CaseResult("acme", "getThing", "examples", f"ok{i}", [], ["schema"], [FT, EN], 200))
    for i, f in enumerate(findings):
        rec.add_case(CaseResult(f.vendor, f.operation, "examples", f"bad{i}", [f], [f.check], [f.category], 200))
    return rec


FT_FINDING = Finding("acme", "getThing", "schema", FT, "id is a string", "/id")
EN_FINDING = Finding("acme", "listThings", "schema", EN, "status 'x' not in enum", "/items/3/status")


def waiver(f: Finding, expires: date = date(2025, 7, 1), reason: str = "vendor ticket 12") -> Waiver:
    return Waiver(fingerprint=f.fingerprint, reason=reason, expires=expires, vendor=f.vendor, operation=f.operation,
                  category=f.category.value, check=f.check)


# ------------------------------------------------------------------ evaluate


def test_clean_run_exits_zero_and_findings_exit_one() -> None:
    ok = evaluate(record(), today=TODAY)
    assert ok.exit_code == 0 and ok.failing == [] and ok.summary[0] == "gate: PASS - 1 cases, no gating findings"
    bad = evaluate(record(FT_FINDING, EN_FINDING), today=TODAY)
    assert bad.exit_code == 1 and bad.failing == [FT_FINDING, EN_FINDING]
    assert bad.summary[0].startswith("gate: FAIL - 2 findings (1 field-type, 1 enum) in 1 vendor: acme")
    assert any(FT_FINDING.fingerprint in line for line in bad.summary)


def test_nothing_tested_is_visible_in_the_summary_and_never_passes() -> None:
    result = evaluate(RunRecord(), today=TODAY)
    assert result.exit_code == 2 and "nothing tested" in result.summary[0] and "PASS" not in result.summary[0]


def test_a_run_the_budget_stopped_is_incomplete_with_the_uncovered_operations() -> None:
    budget = "request budget of 5 for acme is used up"
    cases = [CaseResult("acme", "getThing", "properties", "p"),
             CaseResult("acme", "getThing", "negative", "n", skipped=budget),  # partly covered: it ran elsewhere
             CaseResult("acme", "listThings", "properties", "p", skipped=budget),
             CaseResult("acme", "listThings", "negative", "n", skipped=budget)]
    result = evaluate(RunRecord(cases=cases), today=TODAY)
    # every suite the budget starved is named, also where another suite of the same operation ran
    assert result.exit_code == 1
    assert result.uncovered == ["acme getThing (negative)", "acme listThings (negative)", "acme listThings (properties)"]
    assert "incomplete" in result.summary[0] and any("acme listThings (negative)" in line for line in result.summary)
    rolling = evaluate(RunRecord(cases=cases), today=TODAY, rolling=True)  # a rolling slice lists, does not fail
    assert rolling.exit_code == 0 and rolling.deferred == result.uncovered
    assert any("ROLLING: 3 tests deferred" in line for line in rolling.summary)


def test_fail_on_restricts_gating_categories_but_still_reports() -> None:
    rec = record(FT_FINDING, EN_FINDING)
    only_auth = evaluate(rec, fail_on={AUTH}, today=TODAY)
    assert only_auth.exit_code == 0 and only_auth.failing == []
    assert only_auth.ignored == [FT_FINDING, EN_FINDING]
    assert any("reported, not gating: 2 findings" in line for line in only_auth.summary)
    only_enum = evaluate(rec, fail_on={EN}, today=TODAY)
    assert only_enum.exit_code == 1 and only_enum.failing == [EN_FINDING] and only_enum.ignored == [FT_FINDING]
    assert evaluate(rec, fail_on=None, today=TODAY).exit_code == 1
    assert evaluate(rec, fail_on=set(), today=TODAY).exit_code == 1  # empty = no restriction, never "gate off"


def test_waiver_waives_and_is_still_reported() -> None:
    rec = record(FT_FINDING, EN_FINDING)
    base = Baseline(waivers=[waiver(FT_FINDING)])
    result = evaluate(rec, baseline=base, today=TODAY)
    assert result.exit_code == 1 and result.failing == [EN_FINDING]
    assert result.waived == [(FT_FINDING, base.waivers[0])]
    assert result.waived_reasons == {FT_FINDING.fingerprint: "vendor ticket 12, until 2025-07-01"}  # reports show reason and expiry
    assert build_matrix(rec, waived=result.waived_reasons)["vendors"]["acme"]["categories"]["field-type"]["waived"] == 1
    both = evaluate(rec, baseline=Baseline(waivers=[waiver(FT_FINDING), waiver(EN_FINDING)]), today=TODAY)
    assert both.exit_code == 0 and len(both.waived) == 2
    assert any("waived by baseline: 2 findings" in line for line in both.summary)


def test_waiver_matches_by_fingerprint_across_array_indices() -> None:
    moved = Finding("acme", "listThings", "schema", EN, "status 'y' not in enum", "/items/0/status")
    assert moved.fingerprint == EN_FINDING.fingerprint
    result = evaluate(record(moved), baseline=Baseline(waivers=[waiver(EN_FINDING)]), today=TODAY)
    assert result.exit_code == 0


def test_expired_waiver_does_not_waive_and_is_listed() -> None:
    old = waiver(FT_FINDING, expires=date(2025, 5, 31))
    result = evaluate(record(FT_FINDING), baseline=Baseline(waivers=[old]), today=TODAY)
    assert result.exit_code == 1 and result.failing == [FT_FINDING] and result.waived == []
    assert result.expired == [old]
    assert any(line.strip().startswith(f"EXPIRED waiver {FT_FINDING.fingerprint}") for line in result.summary)
    on_the_day = evaluate(record(FT_FINDING), baseline=Baseline(waivers=[waiver(FT_FINDING, TODAY)]), today=TODAY)
    assert on_the_day.exit_code == 0 and on_the_day.expired == []  # expires is inclusive


def test_unused_waivers_are_reported() -> None:
    result = evaluate(record(), baseline=Baseline(waivers=[waiver(FT_FINDING)]), today=TODAY)
    assert result.exit_code == 0 and len(result.unused) == 1
    assert any("1 waivers match no finding" in line for line in result.summary)


# ------------------------------------------------------------------ baseline file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "apiconform-baseline.yaml"
    path.write_text(text)
    return path


GOOD = """\
version: 1
waivers:
  - fingerprint: {fp}
    vendor: acme
    operation: getThing
    category: field-type
    check: schema
    reason: vendor ticket 12
    expires: 2025-07-01
"""


def test_load_valid_baseline(tmp_path: Path) -> None:
    base = load_baseline(write(tmp_path, GOOD.format(fp=FT_FINDING.fingerprint)))
    assert base.waivers[0].fingerprint == FT_FINDING.fingerprint
    assert base.waivers[0].expires == date(2025, 7, 1) and base.waivers[0].line == 3
    assert evaluate(record(FT_FINDING), baseline=base, today=TODAY).exit_code == 0
    quoted = load_baseline(write(tmp_path, GOOD.format(fp="abc").replace("2025-07-01", "'2025-07-01'")))
    assert quoted.waivers[0].expires == date(2025, 7, 1)
    assert load_baseline(write(tmp_path, "")).waivers == []
    assert load_baseline(tmp_path / "missing.yaml", missing_ok=True).waivers == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("    reason: vendor ticket 12\n", ""), ":3: waiver 1: missing field 'reason'"),
        (GOOD.replace("    expires: 2025-07-01\n", ""), ":3: waiver 1: missing field 'expires'"),
        (GOOD.replace("reason: vendor ticket 12", "reason: ''"), ":3: waiver 1: missing field 'reason'"),
        (GOOD.replace("2025-07-01", "next week"), ":9: waiver 1: field 'expires' must be a date YYYY-MM-DD"),
        (GOOD.replace("2025-07-01", "2025-13-01"), ":9: waiver 1: field 'expires' must be a date YYYY-MM-DD"),
        (GOOD.replace("category: field-type", "category: typo"), ":6: waiver 1: field 'category' is not a known"),
        (GOOD.replace("    check: schema\n", "    expire: 2025-01-01\n"), ":7: waiver 1: unknown field 'expire'"),
        (GOOD.replace("version: 1", "version: 2"), ":1: field 'version' must be 1"),
        (GOOD.replace("  - fingerprint", "  -  fingerprint: [\n"), ": invalid YAML:"),
        ("version: 1\nwaivers:\n  - fingerprint: a\n    reason: x\n     expires: 2025-01-01\n", ":5: invalid YAML:"),
        ("version: 1\nwaivers: nope\n", ":2: field 'waivers' must be a list"),
        ("version: 1\nwaivers:\n  - just-a-string\n", ":3: waiver 1: must be a mapping"),
        ("- a\n- b\n", ":1: baseline must be a mapping"),
    ],
)
def test_malformed_baseline_is_one_line_config_error(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text.replace("{fp}", "abc"))
    with pytest.raises(ConfigError) as exc:
        load_baseline(path)
    message = str(exc.value)
    assert message.startswith(str(path)) and expected in message, message
    assert "\n" not in message


def test_missing_baseline_file_is_an_error_unless_optional(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing.yaml: baseline file not found"):
        load_baseline(tmp_path / "missing.yaml")


# ------------------------------------------------------------------ write_baseline / CLI


def test_write_baseline_round_trips_and_keeps_existing_deadlines(tmp_path: Path) -> None:
    path = tmp_path / "apiconform-baseline.yaml"
    rec = record(FT_FINDING, FT_FINDING, EN_FINDING)
    write_baseline(rec, path, reason="known vendor bugs", days=14, today=TODAY)
    data = yaml.safe_load(path.read_text())
    assert data["version"] == 1 and len(data["waivers"]) == 2  # duplicate fingerprint written once
    first = load_baseline(path)
    assert {w.expires for w in first.waivers} == {date(2025, 6, 15)}
    assert {w.reason for w in first.waivers} == {"known vendor bugs"}
    assert evaluate(rec, baseline=first, today=TODAY).exit_code == 0
    # a later update with one finding fixed drops its waiver and does not extend the other's deadline
    write_baseline(record(EN_FINDING), path, reason="other", days=90, today=date(2025, 6, 10))
    second = load_baseline(path)
    assert [(w.fingerprint, w.reason, w.expires) for w in second.waivers] == [
        (EN_FINDING.fingerprint, "known vendor bugs", date(2025, 6, 15))
    ]
    with pytest.raises(ConfigError, match="reason is required"):
        write_baseline(rec, path, reason="  ", days=14)


def test_baseline_update_command(tmp_path: Path) -> None:
    record(FT_FINDING).write(tmp_path / "reports")
    target = tmp_path / "b.yaml"
    res = CliRunner().invoke(baseline_group, ["update", "--reports-dir", str(tmp_path / "reports"), "--file", str(target),
                                              "--days", "7", "--reason", "ticket 99"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"wrote {target}: 1 waivers"
    w = load_baseline(target).waivers[0]
    assert (w.fingerprint, w.reason, w.category) == (FT_FINDING.fingerprint, "ticket 99", "field-type")
    res = CliRunner().invoke(baseline_group, ["update", "--reports-dir", str(tmp_path / "reports"), "--file",
                                              str(target), "--days", "0"])
    assert res.exit_code == 2  # click usage error


def test_waivers_are_scoped_to_the_mode_they_were_recorded_in(tmp_path: Path) -> None:
    """A read-only run against a baseline written by a writes run neither uses nor advises deleting its waivers."""
    from apiconform.gate._verdict import write_baseline

    writes = record(FT_FINDING, EN_FINDING)
    writes.targets, writes.context = {"acme": "https://acme.test"}, {"allow_writes": "true"}
    path = write_baseline(writes, tmp_path / "b.yaml", reason="known", today=TODAY)
    baseline = load_baseline(path)
    assert {w.mode for w in baseline.waivers} == {"writes"}
    read_only = record(FT_FINDING)
    read_only.targets, read_only.context = {"acme": "https://acme.test"}, {"allow_writes": "false"}
    result = evaluate(read_only, baseline=baseline, today=TODAY)
    assert result.unused == [] and result.failing == [FT_FINDING]  # scoped: not applied, not "unused"
    assert evaluate(writes, baseline=baseline, today=TODAY).exit_code == 0
    write_baseline(read_only, path, reason="ro", today=TODAY)  # the writes-mode waivers survive a read-only update
    modes = sorted((w.mode, w.fingerprint == FT_FINDING.fingerprint) for w in load_baseline(path).waivers)
    assert modes == [("read-only", True), ("writes", False), ("writes", True)]
