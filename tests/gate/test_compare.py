"""Compare: appeared / disappeared / changed category / shape drift, and the exit code they give."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from apiconform.cli._report import compare as compare_cmd
from apiconform.gate.compare import compare_runs, diff_shapes
from apiconform.findings import CaseResult, Category, Finding
from apiconform.report import RunRecord

FT, EN, RF = Category.FIELD_TYPE, Category.ENUM, Category.REQUIRED_FIELD


def run(findings: list[Finding], bodies: dict[tuple[str, int], object] | None = None) -> RunRecord:
    rec = RunRecord(vendors=["acme"])
    rec.add_case(CaseResult("acme", "getThing", "examples", "ok", [], ["schema"], [FT], 200))
    for i, f in enumerate(findings):
        rec.add_case(CaseResult(f.vendor, f.operation, "examples", f"c{i}", [f], [f.check], [f.category], 200))
    for (op, status), body in (bodies or {}).items():
        rec.observe_response("acme", op, status, body)
    return rec


A = Finding("acme", "getThing", "schema", FT, "id wrong type", "/id")
B = Finding("acme", "listThings", "schema", EN, "bad enum", "/items/2/status")
B_AS_RF = Finding("acme", "listThings", "schema", RF, "status missing", "/items/0/status")  # same place, new category
C = Finding("acme", "getOther", "status_code", Category.STATUS_CODE, "500 undocumented")
BODY = {"id": 1, "name": "a", "tags": ["x"], "address": {"city": "Oslo"}}


def test_identical_runs_exit_zero() -> None:
    a = run([A, B], {("getThing", 200): BODY})
    b = run([A, B], {("getThing", 200): BODY})
    report = compare_runs(a, b)
    assert (report.appeared, report.disappeared, report.changed_category, report.shape_changes) == ([], [], [], [])
    assert report.exit_code == 0
    assert report.render_text().startswith("compare A -> B: 0 appeared, 0 disappeared, 0 changed category, 0 shape")


def test_appeared_and_disappeared_by_fingerprint() -> None:
    report = compare_runs(run([A, B]), run([B, C]))
    assert report.appeared == [C] and report.disappeared == [A] and report.changed_category == []
    assert report.exit_code == 1
    text = report.render_text()
    assert f"  + acme getOther [status-code] AC900 500 undocumented ({C.fingerprint})" in text
    assert f"  - acme getThing [field-type] AC900 id wrong type ({A.fingerprint})" in text


def test_only_fixes_exit_zero() -> None:
    report = compare_runs(run([A, B]), run([B]))
    assert report.disappeared == [A] and report.exit_code == 0


def test_changed_category_is_not_reported_as_fixed_plus_new() -> None:
    report = compare_runs(run([B]), run([B_AS_RF]))
    assert report.changed_category == [(B, B_AS_RF)]
    assert report.appeared == [] and report.disappeared == []
    assert report.exit_code == 1
    assert "~ acme listThings schema enum -> required-field: status missing" in report.render_text()


def test_shape_drift_detected_although_both_runs_passed() -> None:
    drifted = {"id": "1", "tags": ["x"], "address": {"city": None}, "nickname": "z"}
    report = compare_runs(run([], {("getThing", 200): BODY}), run([], {("getThing", 200): drifted}))
    changes = {(c.path, c.kind, json.dumps(c.before), json.dumps(c.after)) for c in report.shape_changes}
    assert changes == {
        ("/id", "type-changed", '"integer"', '"string"'),
        ("/name", "removed", '"string"', "null"),
        ("/nickname", "added", "null", '"string"'),
        ("/address/city", "type-changed", '"string"', '"null"'),
    }
    assert report.appeared == [] and report.exit_code == 1
    assert all(c.vendor == "acme" and c.operation == "getThing" and c.status == "200" for c in report.shape_changes)


def test_shape_diff_rules() -> None:
    assert diff_shapes({"a": []}, {"a": ["string"]}) == []  # an empty page is not drift
    assert diff_shapes([{"a": "integer"}], [{"a": "string"}]) == [("/*/a", "type-changed", "integer", "string")]
    assert diff_shapes({"a/b": "integer"}, {"a/b": "null"}) == [("/a~1b", "type-changed", "integer", "null")]
    # seen sometimes null in one run only: which values the generator sent, not vendor drift
    assert diff_shapes({"a": {"b": "integer"}}, {"a": "object|null"}) == []
    assert diff_shapes({"a": "string"}, {"a": "string|null"}) == [] and diff_shapes({"a": "null"}, {"a": "integer|null"}) == []
    assert diff_shapes({"a": {"b": "integer"}}, {"a": "string|null"}) == [("/a", "type-changed", {"b": "integer"}, "string|null")]
    # statuses/operations seen in only one run are not shape changes
    report = compare_runs(run([], {("getThing", 200): BODY}), run([], {("getThing", 404): {"error": "x"}, ("new", 200): {}}))
    assert report.shape_changes == []
    # ... but getThing answering 404 where it answered 200 is a status change (issue 26: compare was blind to it)
    assert [(c.operation, c.gained, c.lost) for c in report.status_changes] == [("getThing", (404,), (200,))]


def test_renderers() -> None:
    report = compare_runs(run([A, B], {("getThing", 200): BODY}), run([B_AS_RF, C], {("getThing", 200): {**BODY, "x": 1}}),
                          a_label="last-week", b_label="today")
    data = json.loads(report.render("json"))
    assert data["schema"] == "apiconform.gate.compare/1" and data["exit_code"] == 1
    assert [f["fingerprint"] for f in data["appeared"]] == [C.fingerprint]
    assert [f["fingerprint"] for f in data["disappeared"]] == [A.fingerprint]
    assert data["changed_category"][0]["after"]["category"] == "required-field"
    assert data["shape_changes"] == [{"vendor": "acme", "operation": "getThing", "status": "200", "path": "/x",
                                      "kind": "added", "before": None, "after": "integer"}]
    md = report.render("md")
    assert md.startswith("## ❌ apiconform compare: last-week → today")
    assert "| ➕ appeared | acme | getOther | status-code | 500 undocumented |" in md
    assert "| 🔀 category | acme | listThings | enum → required-field | status missing |" in md
    assert "| acme | getThing | 200 | `/x` | added (integer) |" in md
    assert "shape acme getThing 200 /x: field added (integer)" in report.render("text")


def test_compare_command_exit_codes(tmp_path: Path) -> None:
    run([A]).write(tmp_path / "a")
    run([A, C]).write(tmp_path / "b")
    runner = CliRunner()
    same = runner.invoke(compare_cmd, [str(tmp_path / "a"), str(tmp_path / "a" / "run.json")])
    assert same.exit_code == 0, same.output
    worse = runner.invoke(compare_cmd, [str(tmp_path / "a"), str(tmp_path / "b"), "--format", "json"])
    assert worse.exit_code == 1 and json.loads(worse.output)["appeared"][0]["operation"] == "getOther"
    better = runner.invoke(compare_cmd, [str(tmp_path / "b"), str(tmp_path / "a"), "--format", "md"])
    assert better.exit_code == 0 and "➖ fixed" in better.output


# ------------------------------------------------------------------ issue 26: statuses, modes, seeds


def _with_statuses(statuses: list[int], seed: int = 1, writes: bool = False, live: bool = True) -> RunRecord:
    rec = RunRecord(vendors=["acme"], seed=seed, targets={"acme": "https://acme.test" if live else "mock"},
                    context={"allow_writes": "true" if writes else "false", "suites": "properties"})
    rec.add_case(CaseResult("acme", "listThings", "properties", "p", [], ["status"], [Category.STATUS_CODE], 200,
                            requests=3))
    for status in statuses:
        rec.observe_response("acme", "listThings", status)
    return rec


def test_a_status_change_is_seen_although_no_check_failed() -> None:
    report = compare_runs(_with_statuses([200, 404]), _with_statuses([403, 404]))
    assert report.exit_code == 1 and len(report.status_changes) == 1
    change = report.status_changes[0]
    assert (change.gained, change.lost) == ((403,), (200,))
    assert "  status acme listThings: statuses changed: no longer 200; now 403" in report.render_text()
    assert compare_runs(_with_statuses([200]), _with_statuses([200])).exit_code == 0


def test_runs_of_different_modes_are_refused_and_different_seeds_warned(tmp_path: Path) -> None:
    ro, rw = _with_statuses([200]), _with_statuses([200, 201], writes=True)
    report = compare_runs(ro, rw)
    assert [m.what for m in report.mismatches if m.refuse] == ["mode"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ro.write(tmp_path / "a")
    rw.write(tmp_path / "b")
    from apiconform.cli import main

    refused = CliRunner().invoke(main, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert refused.exit_code == 2 and "differ in mode (read-only vs writes)" in refused.output
    assert "Traceback" not in refused.output
    forced = CliRunner().invoke(main, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--accept-mismatch"])
    assert forced.exit_code == 1 and "WARNING: the runs differ in mode" in forced.output
    seeds = compare_runs(_with_statuses([200], seed=1), _with_statuses([200, 404], seed=2))
    assert seeds.status_changes == [] and any("seed (1 vs 2)" in w for w in seeds.warnings())
