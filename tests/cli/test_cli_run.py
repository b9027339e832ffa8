"""`apiconform run` end to end (the CI gate): exit codes, every report agreeing with run.json, --fail-on,
baselines, compare, shards + merge, seeds, and the same suites driven by plain pytest (-m, -k, -n).

Runs are small (three vendors, --max-examples 3) and shared per module, so the whole file stays fast.
The CLI is invoked in-process through click's CliRunner from a scratch directory (no config or baseline
of the checkout leaks in), and once as a real subprocess.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from apiconform.cli import main
from apiconform.contracts import load_contract

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ["goodstack", "ctrlhub", "tesla-ce"]
SMALL = ["--max-examples", "3", "--no-allure", "--no-progress"]
DRIFTS = ["--drift", "enum-value-changed", "--drift", "goodstack:field-type-changed"]


def cli(cwd: Path, *args: str) -> Result:
    """`apiconform ARGS` in-process, from `cwd`."""
    with contextlib.chdir(cwd):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run_json(reports: Path) -> dict:
    return json.loads((reports / "run.json").read_text())


def verdicts(reports: Path) -> dict[tuple[str, str, str], tuple[bool, tuple[str, ...]]]:
    """case -> (skipped, fingerprints of its findings): everything a verdict is made of."""
    return {
        (c["vendor"], c["suite"], c["name"]): (bool(c["skipped"]), tuple(sorted(f["fingerprint"] for f in c["findings"])))
        for c in run_json(reports)["cases"]
    }


def all_findings(reports: Path) -> list[dict]:
    return [f for c in run_json(reports)["cases"] for f in c["findings"]]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-run")


@pytest.fixture(scope="module")
def faithful(work: Path) -> tuple[Result, Path]:
    out = work / "faithful"
    return cli(work, "run", *VENDORS, *SMALL, "--reports-dir", str(out)), out


@pytest.fixture(scope="module")
def drifted(work: Path) -> tuple[Result, Path]:
    out = work / "drifted"
    return cli(work, "run", *VENDORS, *SMALL, *DRIFTS, "--reports-dir", str(out)), out


# ------------------------------------------------------------------------------------------------ verdicts


def test_faithful_mocks_pass(faithful: tuple[Result, Path]) -> None:
    result, out = faithful
    assert result.exit_code == 0, result.output
    assert "gate: PASS" in result.stdout
    record = run_json(out)
    assert sorted(record["vendors"]) == sorted(VENDORS)
    assert not all_findings(out)
    assert sum(not c["skipped"] for c in record["cases"]) > 50
    for name in ("run.json", "junit.xml", "matrix.json", "matrix.md", "matrix.html", "coverage.json"):
        assert (out / name).is_file(), name


def test_every_operation_gets_its_documented_success_on_the_mocks_or_the_contract_says_why(
        faithful: tuple[Result, Path]) -> None:
    """Issue 26: on apiconform's own mocks an operation that never got its documented success is a disagreement of the
    generator and the mock, unless the contract says so (tesla-ce: list_providers forbidden to provider credentials,
    the auth flow's login/refresh never sent the real secrets as a test case)."""
    result, out = faithful
    coverage = json.loads((out / "coverage.json").read_text())["vendors"]
    unexplained = {v: [n["operation"] for n in c["documented_success"]["never"] if not n["expected"]]
                   for v, c in coverage.items()}
    assert not any(unexplained.values()), unexplained
    explained = sorted(n["operation"] for n in coverage["tesla-ce"]["documented_success"]["never"])
    assert explained == ["list_providers", "login_approle", "refresh_token"], explained
    line = next(x for x in result.output.splitlines() if "tesla-ce: 3 of 33 operations never got" in x)
    assert line.count("expected: ") == 3, line


def test_drift_fails_the_gate_and_every_report_agrees_with_run_json(drifted: tuple[Result, Path]) -> None:
    result, out = drifted
    assert result.exit_code == 1, result.output
    assert "gate: FAIL" in result.stdout
    record = run_json(out)
    failing_cases = [c for c in record["cases"] if c["findings"]]
    findings = all_findings(out)
    assert failing_cases and findings

    # both drifts are caught, each where it was switched on
    by_vendor_cat = Counter((f["vendor"], f["category"]) for f in findings)
    assert by_vendor_cat[("goodstack", "enum")] and by_vendor_cat[("tesla-ce", "enum")]
    assert any(f["vendor"] == "goodstack" and f["category"] == "field-type" and "is not of type" in f["message"]
               for f in findings), "goodstack:field-type-changed went unnoticed"
    assert not any("is not of type" in f["message"] and f["vendor"] != "goodstack" for f in findings), \
        "a per-vendor drift leaked into another vendor"

    # junit.xml: one failing testcase per case with findings, per vendor and in total
    root = ET.parse(out / "junit.xml").getroot()
    assert int(root.get("failures")) == len(failing_cases) == len(root.findall(".//testcase/failure"))
    assert int(root.get("tests")) == len(record["cases"])
    for suite in root.findall("testsuite"):
        assert int(suite.get("failures")) == sum(1 for c in failing_cases if c["vendor"] == suite.get("name"))

    # matrix.json: failed = findings per vendor x category
    matrix = json.loads((out / "matrix.json").read_text())
    assert matrix["verdict"] == "fail"
    for vendor, row in matrix["vendors"].items():
        for category, counts in row["categories"].items():
            assert counts["failed"] == by_vendor_cat[(vendor, category)], (vendor, category)
        assert row["totals"]["failed_cases"] == sum(1 for c in failing_cases if c["vendor"] == vendor)
        assert row["verdict"] == ("fail" if any(v == vendor for v, _ in by_vendor_cat) else "pass")

    # matrix.html lists every failing operation; matrix.md (a job summary: capped rows) at least each vendor's
    md, html = (out / "matrix.md").read_text(), (out / "matrix.html").read_text()
    for operation in {f["operation"] for f in findings}:
        assert operation in html, operation
    assert f"{len(findings)} findings" in md and "create_eligibility_subscription" in md
    for vendor in {f["vendor"] for f in findings}:
        assert f"**{vendor}** ({sum(f['vendor'] == vendor for f in findings)})" in md
        assert any(f["operation"] in md for f in findings if f["vendor"] == vendor), vendor

    # the one-screen summary names findings and how to reproduce the run
    assert "create_eligibility_subscription" in result.stdout
    assert f"--seed={record['seed']}" in result.stdout and "--drift=enum-value-changed" in result.stdout


def test_coverage_lists_documented_and_exercised_operations(drifted: tuple[Result, Path]) -> None:
    _, out = drifted
    coverage = json.loads((out / "coverage.json").read_text())
    for vendor in VENDORS:
        labels = {op.label for op in load_contract(vendor)}
        row = coverage["vendors"][vendor]
        assert row["documented_operations"] == len(labels)
        exercised = {name for name, op in row["operations"].items() if op["exercised"]}
        assert set(row["operations"]) <= labels
        assert 0 < row["exercised_operations"] == len(exercised) <= len(labels)
        assert "create_eligibility_subscription" in exercised or vendor != "goodstack"


def test_compare_faithful_with_drifted_lists_appeared_findings(work: Path, faithful, drifted) -> None:
    result = cli(work, "compare", str(faithful[1]), str(drifted[1]))
    assert result.exit_code == 1, result.output
    appeared = {f["fingerprint"] for f in all_findings(drifted[1])}
    assert f"{len(appeared)} appeared" in result.output
    for fingerprint in appeared:  # grouped by root cause, every member still named
        assert fingerprint in result.output
    same = cli(work, "compare", str(faithful[1]), str(faithful[1]))
    assert same.exit_code == 0, same.output


# ------------------------------------------------------------------------------------------ gate policy


@pytest.fixture(scope="module")
def goodstack_drift(work: Path) -> tuple[Result, Path]:
    """One vendor, enum drift, gating only on pagination (a category the drift cannot touch)."""
    out = work / "fail-on"
    return cli(work, "run", "goodstack", *SMALL, "--drift", "enum-value-changed", "--fail-on", "pagination",
               "--reports-dir", str(out)), out


def test_fail_on_a_category_the_drift_misses_exits_0_but_still_reports(goodstack_drift) -> None:
    result, out = goodstack_drift
    assert result.exit_code == 0, result.output
    findings = all_findings(out)
    assert findings and {f["category"] for f in findings} >= {"enum"}
    assert "gate: PASS" in result.stdout and "reported, not gating" in result.stdout
    matrix = json.loads((out / "matrix.json").read_text())
    assert matrix["fail_on"] == ["pagination"] and matrix["verdict"] == "pass"
    assert matrix["vendors"]["goodstack"]["categories"]["enum"]["failed"] > 0  # counted, just not gating
    assert int(ET.parse(out / "junit.xml").getroot().get("failures")) > 0  # JUnit shows failed checks


def test_baseline_waives_findings_until_it_expires(work: Path, goodstack_drift) -> None:
    _, source = goodstack_drift
    baseline = work / "baseline.yaml"
    made = cli(work, "baseline", "update", "--reports-dir", str(source), "--file", str(baseline), "--reason", "ticket 42")
    assert made.exit_code == 0, made.output
    waivers = yaml.safe_load(baseline.read_text())["waivers"]
    assert {w["fingerprint"] for w in waivers} == {f["fingerprint"] for f in all_findings(source)}

    out = work / "waived"
    waived = cli(work, "run", "goodstack", *SMALL, "--drift", "enum-value-changed", "--baseline", str(baseline),
                 "--reports-dir", str(out))
    assert waived.exit_code == 0, waived.output
    assert f"waived by baseline: {len(all_findings(out))} findings" in waived.stdout
    assert all_findings(out), "waived findings are still in run.json"
    root = ET.parse(out / "junit.xml").getroot()
    assert root.get("failures") == "0" and "WAIVED (ticket 42, until 20" in ET.tostring(root, encoding="unicode")
    matrix = json.loads((out / "matrix.json").read_text())
    assert matrix["verdict"] == "pass" and matrix["totals"]["waived"] == len(all_findings(out))

    data = yaml.safe_load(baseline.read_text())
    for w in data["waivers"]:
        w["expires"] = "2000-01-01"
    expired_file = work / "expired.yaml"
    expired_file.write_text(yaml.safe_dump(data))
    expired = cli(work, "run", "goodstack", *SMALL, "--drift", "enum-value-changed", "--baseline", str(expired_file),
                  "--reports-dir", str(work / "expired"))
    assert expired.exit_code == 1, expired.output
    assert "gate: FAIL" in expired.stdout and "EXPIRED waiver" in expired.stdout


def test_fail_on_and_baseline_config_keys_are_applied_and_the_command_line_wins(work: Path, goodstack_drift) -> None:
    """`fail_on` and `baseline` in apiconform.toml gate the run as --fail-on / --baseline do (paths relative to
    the file); the command line wins over each key."""
    _, source = goodstack_drift
    project = work / "configured"
    (project / "waivers").mkdir(parents=True)
    made = cli(work, "baseline", "update", "--reports-dir", str(source), "--file", str(project / "waivers" / "b.yaml"),
               "--reason", "ticket 43")
    assert made.exit_code == 0, made.output
    drift = ["goodstack", *SMALL, "--drift", "enum-value-changed"]
    (project / "apiconform.toml").write_text('fail_on = ["pagination"]\n', encoding="utf-8")
    gated = cli(project, "run", *drift, "--reports-dir", str(project / "r1"))
    assert gated.exit_code == 0 and "reported, not gating" in gated.stdout, gated.output
    assert json.loads((project / "r1" / "matrix.json").read_text())["fail_on"] == ["pagination"]
    overridden = cli(project, "run", *drift, "--fail-on", "enum", "--reports-dir", str(project / "r2"))
    assert overridden.exit_code == 1, overridden.output
    (project / "apiconform.toml").write_text('baseline = "waivers/b.yaml"\n', encoding="utf-8")
    waived = cli(project, "run", *drift, "--reports-dir", str(project / "r3"))
    assert waived.exit_code == 0 and "waived by baseline" in waived.stdout, waived.output
    data = yaml.safe_load((project / "waivers" / "b.yaml").read_text())
    for w in data["waivers"]:
        w["expires"] = "2000-01-01"
    (work / "expired-43.yaml").write_text(yaml.safe_dump(data))
    expired = cli(project, "run", *drift, "--baseline", str(work / "expired-43.yaml"), "--reports-dir", str(project / "r4"))
    assert expired.exit_code == 1 and "EXPIRED waiver" in expired.stdout, expired.output  # the option wins
    (project / "apiconform.toml").write_text('baseline = "waivers/missing.yaml"\n', encoding="utf-8")
    missing = cli(project, "run", *drift, "--reports-dir", str(project / "r5"))
    assert missing.exit_code == 2 and "missing.yaml" in missing.output, missing.output


# ------------------------------------------------------------------------------------------ shards, seeds


def test_shards_merge_to_the_unsharded_run(work: Path, drifted: tuple[Result, Path]) -> None:
    shards = []
    for i in (1, 2):
        out = work / f"shard-{i}"
        result = cli(work, "run", *VENDORS, *SMALL, *DRIFTS, "--shard", f"{i}/2", "--reports-dir", str(out))
        assert result.exit_code in (0, 1), result.output
        shards.append(out)
    one, two = (set(verdicts(s)) for s in shards)
    assert one and two and not one & two, "shards must partition the cases"

    merged = work / "merged"
    result = cli(work, "report", "--merge", str(shards[0]), "--merge", str(shards[1]), "--reports-dir", str(merged),
                 "--no-allure", "--gate")
    assert result.exit_code == 1, result.output  # --gate: the merged findings decide the exit code
    assert len(run_json(merged)["cases"]) == len(run_json(drifted[1])["cases"])
    assert verdicts(merged) == verdicts(drifted[1])
    assert json.loads((merged / "matrix.json").read_text())["vendors"] == \
        json.loads((drifted[1] / "matrix.json").read_text())["vendors"]
    assert any((merged / "allure-results").iterdir()), "shard allure results are merged too"

    clean = cli(work, "report", "--reports-dir", str(merged), "--no-allure", "--gate", "--fail-on", "pagination")
    assert clean.exit_code == 0, clean.output
    plain = cli(work, "report", "--reports-dir", str(merged), "--no-allure")
    assert plain.exit_code == 0, plain.output  # without --gate, report only renders


@pytest.mark.e2e  # a whole `apiconform run` process: `make test-e2e` (CI runs it)
def test_same_seed_same_verdicts_in_process_and_as_a_subprocess(work: Path) -> None:
    args = ["run", "goodstack", "ctrlhub", *SMALL, "--drift", "enum-value-changed", "--seed", "7"]
    first = cli(work, *args, "--reports-dir", str(work / "seed-a"))
    proc = subprocess.run([sys.executable, "-m", "apiconform", *args, "--reports-dir", str(work / "seed-b")],
                          cwd=work, capture_output=True, text=True, timeout=300)
    assert first.exit_code == proc.returncode == 1, (first.output, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "gate: FAIL" in proc.stdout
    assert run_json(work / "seed-a")["seed"] == run_json(work / "seed-b")["seed"] == 7
    assert verdicts(work / "seed-a") == verdicts(work / "seed-b")
    assert {f["curl"] for f in all_findings(work / "seed-a")} == {f["curl"] for f in all_findings(work / "seed-b")}


def test_no_tests_selected_is_a_usage_error_in_one_line(work: Path) -> None:
    result = cli(work, "run", "goodstack", *SMALL, "--operation", "does_not_exist", "--reports-dir", str(work / "none"))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    # an unknown operationId is caught before anything is planned, naming the known ones
    assert len(lines) == 1 and lines[0].startswith("apiconform: error: --operation 'does_not_exist'"), result.stderr
    assert "create_eligibility_subscription" in lines[0]


# ------------------------------------------------------------------------------------------ plain pytest


def _pytest_start(*args: str, cwd: Path = ROOT) -> subprocess.Popen[str]:
    """`pytest ARGS` through pytest.main in a subprocess (the suites' own pytest, not this one)."""
    code = "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def _finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _pytest(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return _finish(_pytest_start(*args, cwd=cwd))


def _collected(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return [line for line in proc.stdout.splitlines() if "::" in line]


@pytest.mark.e2e  # whole pytest runs in subprocesses: `make test-e2e` (CI runs it)
def test_pytest_markers_and_keywords_select_checks_and_vendors() -> None:
    base = ["suites", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    by_marker = _pytest_start(*base, "--vendor", "goodstack", "-m", "enum")
    by_keyword = _pytest_start(*base, "-k", "eduframe")  # both collections at once: they are mostly start-up
    proc = _finish(by_marker)
    enum = _collected(proc)
    # the enum marker: the suites whose checks validate response bodies (examples, properties), nothing else
    assert {line.split("::")[0] for line in enum} == {"suites/test_examples.py", "suites/test_properties.py"}
    assert all("[goodstack-" in line for line in enum)
    selected, total, deselected = map(int, re.search(r"(\d+)/(\d+) tests collected \((\d+) deselected\)",
                                                     proc.stdout).groups())
    assert selected == len(enum) and deselected > 0 and selected + deselected == total  # negative, stateful left out

    eduframe = _collected(_finish(by_keyword))
    assert len(eduframe) > 100
    assert all("[eduframe-" in line for line in eduframe), [x for x in eduframe if "[eduframe-" not in x][:5]


@pytest.mark.e2e  # whole pytest runs in subprocesses: `make test-e2e` (CI runs it)
def test_pytest_xdist_gives_the_serial_verdicts(work: Path, faithful: tuple[Result, Path]) -> None:
    out = work / "xdist"
    proc = _pytest("suites", "-n", "2", "-p", "xdist", "--vendor", "tesla-ce", "--max-examples", "3", "-q",
                   "-p", "no:cacheprovider", "--apiconform-record", "--reports-dir", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout.splitlines()[-1]
    parallel = verdicts(out)
    serial = {k: v for k, v in verdicts(faithful[1]).items() if k[0] == "tesla-ce"}
    assert len(parallel) > 100
    assert parallel == serial
