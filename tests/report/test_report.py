"""Run record, writers and merge: numbers in every report match the findings put in."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from apiconform.cli._report import report as report_cmd
from apiconform.errors import ConfigError
from apiconform.findings import CaseResult, Category, Finding
from apiconform.report import (
    RUN_SCHEMA,
    RunRecord,
    build_coverage,
    build_matrix,
    load_run,
    merge_records,
    merge_shapes,
    render_junit,
    render_matrix_html,
    render_matrix_md,
    shape_of,
    write_reports,
)

FT, EN, SC, AUTH = Category.FIELD_TYPE, Category.ENUM, Category.STATUS_CODE, Category.AUTH
COVERED = [FT, EN, SC]
XSS = "value <script>alert('x')</script> not allowed"


def finding(vendor: str, op: str, cat: Category, msg: str = "bad", check: str = "schema", ptr: str = "/id") -> Finding:
    return Finding(vendor, op, check, cat, msg, ptr, "integer", "x", 200, f"curl -sS https://{vendor}.test/{op}")


def synthetic(started: str = "2025-01-01T10:00:00+00:00", finished: str = "2025-01-01T10:01:00+00:00") -> RunRecord:
    """acme: 4 cases (2 field-type findings in one case, 1 enum finding, 1 skipped); zed: 2 clean; nil: nothing ran."""
    rec = RunRecord(started=started, finished=finished, duration=60, seed=7, argv=["apiconform", "run"],
                    targets={"acme": "mock", "zed": "https://zed.test", "nil": "mock"}, vendors=["acme", "zed", "nil"],
                    suites=["examples"])
    rec.add_case(CaseResult("acme", "getThing", "examples", "ok", [], ["schema"], COVERED, 200, 0.5))
    rec.add_case(CaseResult("acme", "getThing", "examples", "two-bad", [
        finding("acme", "getThing", FT, "id wrong", ptr="/id"),
        finding("acme", "getThing", FT, "name wrong", ptr="/name"),
    ], ["schema"], COVERED, 200, 0.25))
    rec.add_case(CaseResult("acme", "listThings", "examples", "enum", [finding("acme", "listThings", EN, XSS, ptr="/s")],
                            ["schema"], COVERED, 200, 0.25))
    rec.add_case(CaseResult("acme", "deleteThing", "negative", "skip", [], [], [AUTH], None, 0.0, "destructive"))
    rec.add_case(CaseResult("zed", "ping", "examples", "a", [], ["schema"], [SC, AUTH], 200, 0.1))
    rec.add_case(CaseResult("zed", "ping", "examples", "b", [], ["schema"], [SC], 204, 0.1))
    for op in ("getThing", "listThings", "deleteThing"):
        rec.document_operation("acme", op, ["200", "4XX"], {"/s": ["on", "off"]} if op == "listThings" else None)
    rec.observe_response("acme", "getThing", 200, {"id": 1, "tags": ["a"]})
    rec.observe_response("acme", "getThing", 404, {"error": "nope"})
    rec.observe_enum("acme", "listThings", "/s", "on")
    rec.observe_enum("acme", "listThings", "/s", "maybe")
    rec.document_operation("zed", "ping", ["200"])
    rec.document_operation("nil", "a", ["200"])
    rec.coverage["nil"]["documented_operations"] = 31
    return rec


# ------------------------------------------------------------------ checkers used below, each shown failing


def external_urls(page: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//[^"')\s>]+""", page, re.I)


def junit_problems(text: str) -> list[str]:
    """Structural rules of the common JUnit XSD that CI parsers rely on."""
    try:
        root = ET.fromstring(text.encode())
    except ET.ParseError as exc:
        return [f"not XML: {exc}"]
    problems = []
    if root.tag != "testsuites":
        problems.append(f"root is {root.tag}")
    for suite in root.iter("testsuite"):
        for attr in ("name", "tests", "failures", "errors", "time", "timestamp"):
            if attr not in suite.attrib:
                problems.append(f"testsuite without {attr}")
        cases = suite.findall("testcase")
        if int(suite.get("tests", -1)) != len(cases):
            problems.append("tests count mismatch")
        if int(suite.get("failures", -1)) != sum(1 for c in cases if c.find("failure") is not None):
            problems.append("failures count mismatch")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", suite.get("timestamp", "")):
            problems.append("timestamp not XSD dateTime without zone")
        for case in cases:
            if len(case.findall("failure")) + len(case.findall("error")) > 1:
                problems.append("more than one failure/error in a testcase")
            if not {"classname", "name", "time"} <= set(case.attrib):
                problems.append("testcase attributes missing")
    return problems


def test_checkers_catch_broken_input() -> None:
    assert external_urls('<img src="https://cdn.example/x.png">')
    assert external_urls("<link href='http://x/y.css'>")
    assert external_urls("body{background:url(//evil/x)}")
    assert not external_urls('<a href="#top">top</a>')
    assert junit_problems("<testsuites><testsuite") and "not XML" in junit_problems("<x")[0]
    broken = '<testsuites><testsuite name="a" tests="2" failures="0" errors="0" time="0" timestamp="2025-01-01T00:00:00+00:00">' \
             '<testcase classname="a" name="b" time="0"><failure/><failure/></testcase></testsuite></testsuites>'
    problems = junit_problems(broken)
    assert "tests count mismatch" in problems and "failures count mismatch" in problems
    assert "timestamp not XSD dateTime without zone" in problems and "more than one failure/error in a testcase" in problems


# ------------------------------------------------------------------ record


def test_record_round_trips_through_json(tmp_path: Path) -> None:
    rec = synthetic()
    left = {"vendor": "acme", "operation": "createThing", "id": "7", "url": "https://acme.test/things/7", "reason": "x"}
    rec.writes = {"acme": {"policy": "own", "created": 2, "deleted": 1, "refused_requests": 3, "refused": {"putThing": "r"},
                           "left_behind": [left], "cleanup_seconds": 0.5}}
    path = rec.write(tmp_path)
    assert path == tmp_path / "run.json"
    data = json.loads(path.read_text())
    assert data["schema"] == RUN_SCHEMA == "apiconform.gate._run/1"
    assert set(data) == {"schema", "started", "finished", "duration", "seed", "argv", "context", "targets", "vendors", "suites",
                         "cases", "coverage", "shapes", "interrupted", "planned", "history", "writes"}
    assert data["interrupted"] is None and data["planned"] is None  # a run that finished
    assert load_run(tmp_path).left_behind == [left]
    from apiconform.runrecord import merge_records

    merged = merge_records([load_run(tmp_path), load_run(tmp_path)]).writes["acme"]
    assert (merged["created"], merged["deleted"], merged["left_behind"]) == (4, 2, [left, left])
    assert data["cases"][1]["findings"][0]["fingerprint"] == rec.cases[1].findings[0].fingerprint
    back = load_run(tmp_path)
    assert back.to_dict() == rec.to_dict()
    assert back.cases[1].findings == rec.cases[1].findings
    assert back.shapes["acme"]["getThing"]["200"] == {"id": "integer", "tags": ["string"]}
    assert back.coverage["acme"]["operations"]["listThings"]["enums"]["/s"] == {"documented": ["off", "on"], "seen": ["maybe", "on"]}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"schema": "something/else"}', "not an apiconform run record"),
        ('{"schema": "apiconform.gate._run/9"}', "unsupported run record schema"),
        ('{"schema": "apiconform.gate._run/1",\n "cases": [}', "run.json:2: invalid JSON"),
        ('{"schema": "apiconform.gate._run/1", "cases": [{"vendor": "a"}]}', "invalid case"),
    ],
)
def test_bad_run_record_is_one_line_config_error(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "run.json").write_text(content)
    with pytest.raises(ConfigError) as exc:
        load_run(tmp_path)
    assert expected in str(exc.value) and str(tmp_path) in str(exc.value) and "\n" not in str(exc.value)


def test_missing_run_record_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run.json: no run record"):
        load_run(tmp_path)


def test_shape_of_and_merge() -> None:
    body = {"id": 1, "name": "a", "tags": ["x", "y"], "address": {"city": None}, "score": 1.5, "ok": True, "list": []}
    assert shape_of(body) == {"address": {"city": "null"}, "id": "integer", "list": [], "name": "string",
                              "ok": "boolean", "score": "number", "tags": ["string"]}
    assert shape_of([{"a": 1}, {"a": None, "b": "x"}]) == [{"a": "integer|null", "b": "string"}]
    merged = merge_shapes(shape_of({"address": {"city": "Oslo"}}), shape_of({"address": {"city": None}}))
    assert merged == {"address": {"city": "string|null"}}
    assert merge_shapes([], ["string"]) == ["string"]
    # a sometimes-null object keeps its members (a member added inside it must stay visible); another scalar collapses
    assert merge_shapes({"a": "integer"}, "null") == {"a": "integer"} == merge_shapes("null", {"a": "integer"})
    assert merge_shapes(["string"], "null") == ["string"]
    assert merge_shapes({"a": "integer"}, "string") == "string|object"
    assert merge_shapes("string|null", "integer") == "integer|string|null"
    assert merge_shapes("string", "string") == "string"


# ------------------------------------------------------------------ matrix / coverage numbers


def test_matrix_counts_match_findings() -> None:
    m = build_matrix(synthetic())
    acme = m["vendors"]["acme"]
    assert acme["categories"]["field-type"] == {"passed": 2, "failed": 2, "waived": 0}  # ok + enum case pass FT
    assert acme["categories"]["enum"] == {"passed": 2, "failed": 1, "waived": 0}
    assert acme["categories"]["status-code"] == {"passed": 3, "failed": 0, "waived": 0}
    assert acme["categories"]["auth"] == {"passed": 0, "failed": 0, "waived": 0}  # only a skipped case covered it
    assert acme["totals"] == {"cases": 4, "executed": 3, "skipped": 1, "failed_cases": 2,
                              "passed": 7, "failed": 3, "waived": 0}
    assert acme["verdict"] == "fail"
    assert m["vendors"]["zed"]["verdict"] == "pass"
    assert m["vendors"]["zed"]["categories"]["status-code"]["passed"] == 2
    assert m["vendors"]["nil"]["verdict"] == "untested"
    assert m["totals"]["failed"] == 3 and m["totals"]["executed"] == 5
    assert m["verdict"] == "fail"
    assert any("nil: 0 of 31 operations exercised" in w for w in m["warnings"])


def test_matrix_waived_and_fail_on() -> None:
    rec = synthetic()
    fts = {f.fingerprint: "vendor ticket" for f in rec.findings if f.category is FT}
    m = build_matrix(rec, waived=fts)
    assert m["vendors"]["acme"]["categories"]["field-type"] == {"passed": 2, "failed": 0, "waived": 2}
    assert m["verdict"] == "fail"  # the enum finding is not waived
    assert build_matrix(rec, waived=fts, fail_on=[FT])["verdict"] == "pass"
    assert build_matrix(rec, fail_on=[FT])["verdict"] == "fail"


def test_empty_run_is_untested_not_pass() -> None:
    rec = RunRecord(vendors=["acme"])
    rec.coverage = {"acme": {"documented_operations": 31, "operations": {}}}
    m = build_matrix(rec)
    assert m["verdict"] == "untested"
    assert m["warnings"][:2] == ["no test cases ran", "acme: 0 of 31 operations exercised - a pass here tested nothing"]


def test_coverage_numbers() -> None:
    cov = build_coverage(synthetic())
    acme = cov["vendors"]["acme"]
    assert acme["documented_operations"] == 3 and acme["exercised_operations"] == 2
    get = acme["operations"]["getThing"]
    assert get["seen_statuses"] == [200, 404] and get["unseen_statuses"] == [] and get["undocumented_statuses"] == []
    assert acme["operations"]["deleteThing"]["exercised"] is False
    assert acme["statuses"] == {"documented": 6, "seen": 3, "undocumented_seen": 0}
    assert acme["enum_values"] == {"documented": 2, "seen": 1, "undocumented_seen": 1}
    assert acme["operations"]["listThings"]["enums"]["/s"]["unseen"] == ["off"]
    zed = cov["vendors"]["zed"]["operations"]["ping"]
    assert zed["undocumented_statuses"] == [204]  # seen via a case status, not documented
    assert cov["vendors"]["nil"]["warnings"] == ["nil: 0 of 31 operations exercised - a pass here tested nothing"]


def test_every_operation_without_its_documented_success_is_listed_with_why() -> None:
    """Issue 26: the summary named 4 of them ("e.g.") and left out the operations whose cases were all skipped."""
    rec = synthetic()
    rec.document_operation("acme", "patchThing", ["200", "404"])
    rec.add_case(CaseResult("acme", "patchThing", "properties", "p", [], ["schema"], [SC], 404, 0.1))
    cov = build_coverage(rec)
    success = cov["vendors"]["acme"]["documented_success"]
    assert success["operations"] == 4 and success["observed"] == 2
    assert [(n["operation"], n["why"]) for n in success["never"]] == [
        ("deleteThing", "not run; skipped: destructive"), ("patchThing", "answered 404")]
    line = next(w for w in cov["warnings"] if "documented success" in w)
    assert line == ("acme: 2 of 4 operations never got a documented success: deleteThing 200 (not run; skipped: "
                    "destructive); patchThing 200 (answered 404)")
    assert "### Documented success never observed (2)" in render_matrix_md(rec)
    rec.document_operation("acme", "patchThing", ["200", "404"], no_success="the contract says so")
    never = build_coverage(rec)["vendors"]["acme"]["documented_success"]["never"]
    assert [(n["why"], n["expected"]) for n in never if n["operation"] == "patchThing"] == [
        ("answered 404; expected: the contract says so", "the contract says so")]


# ------------------------------------------------------------------ writers


def test_writers_produce_parseable_consistent_output(tmp_path: Path) -> None:
    rec = synthetic()
    paths = write_reports(rec, tmp_path)
    assert [p.name for p in paths] == ["junit.xml", "matrix.json", "matrix.md", "matrix.html", "coverage.json", "apiconform.sarif"]
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert matrix == json.loads(json.dumps(build_matrix(rec)))
    assert matrix["schema"] == "apiconform.matrix/1"
    assert json.loads((tmp_path / "coverage.json").read_text())["vendors"]["acme"]["exercised_operations"] == 2
    md = (tmp_path / "matrix.md").read_text()
    assert "| acme | mock | ✅ 3 | ❌ 2 | ❌ 1 |" in md  # status-code, field-type, enum columns
    assert "| zed | https://zed.test | ✅ 2 |" in md and "⚠️ untested" in md
    assert md.startswith("## apiconform conformance: ❌ fail")
    assert "| nil | ⚠️ 0 of 31 |" in md


def test_markdown_escapes_and_limits_findings() -> None:
    rec = synthetic()
    rec.add_case(CaseResult("acme", "x|y", "examples", "pipe", [finding("acme", "x|y", SC, "a | b\nc")], [], [SC]))
    md = render_matrix_md(rec)
    assert "<script>" not in md and "&lt;script&gt;alert('x')&lt;/script&gt;" in md
    assert "| x\\|y | status-code AC900 | a \\| b c |" in md  # pipes escaped, newline folded: the table stays a table
    short = render_matrix_md(rec, max_findings=2)
    assert "| … | | 2 more in matrix.html / run.json |" in short  # acme has 4 findings, 2 shown
    assert "x\\|y" not in short


def test_junit_parses_and_counts(tmp_path: Path) -> None:
    rec = synthetic()
    rec.cases[0].findings.append(finding("acme", "getThing", SC, "ctrl \x01 char \x1b[31m"))
    text = render_junit(rec)
    assert junit_problems(text) == []
    root = ET.parse(write_junit_file(rec, tmp_path)).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped"), root.get("errors")) == ("6", "3", "1", "0")
    assert "\x01" not in text and "\x1b" not in text and "ctrl \ufffd char" in text  # XML 1.0 forbids them
    acme = root.find("testsuite[@name='acme']")
    assert acme is not None and acme.get("failures") == "3" and acme.get("skipped") == "1"
    names = [(c.get("classname"), c.get("name")) for c in acme.findall("testcase")]
    assert names[1] == ("acme.getThing", "examples::two-bad")
    fail = acme.findall("testcase")[1].find("failure")
    assert fail is not None and fail.get("type") == "field-type"
    assert "[field-type] getThing: id wrong" in fail.text and "[field-type] getThing: name wrong" in fail.text
    assert "reproduce: curl -sS https://acme.test/getThing" in fail.text
    skipped = acme.findall("testcase")[3].find("skipped")
    assert skipped is not None and skipped.get("message") == "destructive"
    assert root.find("testsuite[@name='nil']").get("tests") == "0"


def test_junit_waived_findings_do_not_fail(tmp_path: Path) -> None:
    rec = synthetic()
    waived = {f.fingerprint: "ticket 7" for f in rec.findings if f.category is FT}
    root = ET.fromstring(render_junit(rec, waived).encode())
    assert root.get("failures") == "1"
    case = root.find("testsuite[@name='acme']").findall("testcase")[1]
    assert case.find("failure") is None and "WAIVED (ticket 7)" in case.find("system-out").text


def write_junit_file(rec: RunRecord, out: Path) -> Path:
    from apiconform.report import write_junit

    path = write_junit(rec, out)
    assert path == out / "junit.xml"
    return path


def test_html_is_self_contained_and_escaped() -> None:
    rec = synthetic()
    rec.targets["zed"] = "https://zed.test/<b>"
    page = render_matrix_html(rec, waived={rec.findings[0].fingerprint: "reason <i>x</i>"})
    assert external_urls(page) == []
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<b>" not in page and "<i>x</i>" not in page and "reason &lt;i&gt;x&lt;/i&gt;" in page
    assert "nil: 0 of 31 operations exercised" in page
    assert 'class="badge b-fail"' in page and 'class="c fail"' in page and 'class="c none"' in page
    assert "<details>" in page and "curl -sS https://acme.test/getThing" in page
    ET.fromstring(page.replace("<!doctype html>", "").replace("<br>", "<br/>").replace('<meta charset="utf-8">', "")
                  .replace('<meta name="viewport" content="width=device-width,initial-scale=1">', "")
                  .replace("&nbsp;", " ").encode())  # well-formed: every tag closed


# ------------------------------------------------------------------ merge


def test_merge_sums_shards() -> None:
    a = synthetic(started="2025-01-01T10:00:00+00:00", finished="2025-01-01T10:01:00+00:00")
    b = RunRecord(started="2025-01-01T09:59:00+00:00", finished="2025-01-01T10:05:00+00:00", seed=7,
                  targets={"acme": "mock"}, vendors=["acme", "extra"], suites=["stateful"])
    b.add_case(CaseResult("acme", "deleteThing", "stateful", "s", [finding("acme", "deleteThing", AUTH)], [], [AUTH], 401))
    b.add_case(CaseResult("extra", "op", "stateful", "t", [], [], [SC], 200))
    b.document_operation("acme", "deleteThing", ["204", "401"])
    b.observe_response("acme", "getThing", 200, {"id": None, "extra": "x"})
    b.observe_enum("acme", "listThings", "/s", "off")
    m = merge_records([a, b])
    assert len(m.cases) == len(a.cases) + len(b.cases) == 8
    assert (m.started, m.finished, m.duration) == ("2025-01-01T09:59:00+00:00", "2025-01-01T10:05:00+00:00", 360.0)
    assert m.vendors == ["acme", "zed", "nil", "extra"] and m.suites == ["examples", "negative", "stateful"] and m.seed == 7
    ops = m.coverage["acme"]["operations"]
    assert ops["deleteThing"]["documented_statuses"] == ["204", "200", "401", "4XX"] or sorted(
        ops["deleteThing"]["documented_statuses"]) == ["200", "204", "401", "4XX"]
    assert ops["listThings"]["enums"]["/s"]["seen"] == ["maybe", "off", "on"]
    assert m.shapes["acme"]["getThing"]["200"] == {"extra": "string", "id": "integer|null", "tags": ["string"]}
    assert m.shapes["acme"]["getThing"]["404"] == {"error": "string"}
    matrix = build_matrix(m)
    assert matrix["totals"]["failed"] == build_matrix(a)["totals"]["failed"] + 1
    assert matrix["vendors"]["acme"]["categories"]["auth"]["failed"] == 1
    b.seed = 8
    assert merge_records([a, b]).seed is None
    assert merge_records([a]).to_dict() == a.to_dict() and merge_records([a]) is not a
    with pytest.raises(ConfigError):
        merge_records([])


# ------------------------------------------------------------------ CLI


def test_report_command_renders_and_merges(tmp_path: Path) -> None:
    s1, s2, out = tmp_path / "s1", tmp_path / "s2", tmp_path / "reports"
    synthetic().write(s1)
    shard = RunRecord(vendors=["zed"])
    shard.add_case(CaseResult("zed", "ping", "examples", "c", [], [], [SC], 200))
    shard.write(s2)
    (s1 / "allure-results").mkdir()
    (s1 / "allure-results" / "a-result.json").write_text("{}")
    runner = CliRunner()
    res = runner.invoke(report_cmd, ["--reports-dir", str(out), "--merge", str(s1), "--merge", str(s2), "--no-allure",
                                     "--baseline", str(tmp_path / "none.yaml")])
    assert res.exit_code == 0, res.output
    assert "merged 2 runs (7 cases, 1 allure files)" in res.output
    assert (out / "allure-results" / "a-result.json").exists()
    assert len(load_run(out).cases) == 7
    for name in ("junit.xml", "matrix.json", "matrix.md", "matrix.html", "coverage.json"):
        assert (out / name).stat().st_size > 0
    assert json.loads((out / "matrix.json").read_text())["vendors"]["zed"]["totals"]["executed"] == 3
    # re-render without merge reads reports/run.json; a baseline waiving everything shows as waived
    fps = sorted({f.fingerprint for f in load_run(out).findings})
    (tmp_path / "b.yaml").write_text("version: 1\nwaivers:\n" + "".join(
        f"  - {{fingerprint: '{fp}', reason: known, expires: 2999-01-01}}\n" for fp in fps))
    res = runner.invoke(report_cmd, ["--reports-dir", str(out), "--baseline", str(tmp_path / "b.yaml"), "--no-allure"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "matrix.json").read_text())["totals"]["waived"] == 3
    assert "gate: PASS" in res.output


def test_report_command_says_how_to_install_allure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import apiconform.report._allure_html as allure_html

    synthetic().write(tmp_path)
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "x-result.json").write_text("{}")
    monkeypatch.setattr(allure_html, "find_allure", lambda: None)
    res = CliRunner().invoke(report_cmd, ["--reports-dir", str(tmp_path), "--baseline", str(tmp_path / "none.yaml")])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1].startswith("allure: CLI not found; install it with `make allure`")


def test_report_command_without_run_record_fails_cleanly(tmp_path: Path) -> None:
    res = CliRunner().invoke(report_cmd, ["--reports-dir", str(tmp_path), "--no-allure"])
    assert isinstance(res.exception, ConfigError) and "no run record" in str(res.exception)


def _shard_record(spec: str, seed: int = 7, suite_case: str = "") -> RunRecord:
    record = RunRecord(seed=seed, vendors=["acme"], context={"shard": spec, "seed": str(seed), "vendors": "acme",
                                                             "drifts": "none", "apiconform": "0.1.0"})
    record.add_case(CaseResult("acme", "getThing", "examples", suite_case or f"case-{spec}", [], [], [SC], 200))
    return record


def test_merge_refuses_what_is_not_one_whole_run() -> None:
    from apiconform.report import check_mergeable

    whole = [(f"s{i}", _shard_record(f"{i}/3")) for i in (1, 2, 3)]
    check_mergeable(whole)  # every shard once, same options: fine
    merged = merge_records(r for _, r in whole)
    assert merged.context["shard"].startswith("3 merged")
    cases = [
        (whole[:2], "shard 3/3 missing (merged 2 of 3)"),
        ([*whole, ("again", _shard_record("2/3", suite_case="other"))], "shard 2 merged 2 times: s2, again"),
        ([*whole[:2], ("s3", _shard_record("3/3", seed=8))], "seed differs: '7' in s1, '8' in s3"),
        ([*whole, ("s4", _shard_record("1/4"))], "shards of different splits"),
        ([*whole, ("plain", _shard_record("none"))], "plain not sharded, merged with shards"),
        ([("a", _shard_record("none", suite_case="x")), ("b", _shard_record("none", suite_case="x"))],
         "x (acme) recorded in both a and b"),
    ]
    for runs, message in cases:
        with pytest.raises(ConfigError, match=re.escape(message)):
            check_mergeable(runs)


def test_installed_tool_names_an_allure_install_it_can_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import apiconform.report._allure_html as allure_html

    assert allure_html.allure_install_hint() == "`make allure`"  # this checkout has the Makefile target
    monkeypatch.setattr(allure_html, "__file__", str(tmp_path / "site-packages" / "apiconform" / "report" / "x.py"))
    assert allure_html.allure_install_hint() == "`npm install -g allure-commandline@2`"
