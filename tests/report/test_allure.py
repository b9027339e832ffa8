"""Allure: a drifted run leaves allure-results labelled epic=vendor, feature=operation, story=category, with a
severity and the reproduction attached; `apiconform report` renders them when the Allure CLI is installed
(`make allure`), and the rendered summary counts what run.json says."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from apiconform.cli._report import find_allure
from apiconform.cli import main

VENDORS = ["goodstack", "ctrlhub"]
SEVERITIES = {"blocker", "critical", "normal", "minor", "trivial"}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("allure")
    out = work / "reports"
    with contextlib.chdir(work):
        result = CliRunner().invoke(main, ["run", *VENDORS, "--max-examples", "3", "--no-progress", "--no-allure",
                                           "--drift", "enum-value-changed", "--drift", "goodstack:field-type-changed",
                                           "--reports-dir", str(out)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    return out


def _results(reports: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((reports / "allure-results").glob("*-result.json"))]


def _labels(result: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for label in result.get("labels", []):
        out.setdefault(label["name"], []).append(label["value"])
    return out


def _case_status(case: dict) -> str:
    return "failed" if case["findings"] else "skipped" if case["skipped"] else "passed"


def test_results_are_labelled_by_vendor_operation_and_category(reports: Path) -> None:
    results = _results(reports)
    cases = json.loads((reports / "run.json").read_text())["cases"]
    assert results and len(results) == len(cases)

    # one Allure result per case, with the same vendor / operation / suite / outcome
    seen = Counter()
    for result in results:
        labels = _labels(result)
        assert len(labels["epic"]) == len(labels["feature"]) == len(labels["suite"]) == 1, labels
        seen[(labels["epic"][0], labels["feature"][0], labels["suite"][0], result["status"])] += 1
    assert seen == Counter((c["vendor"], c["operation"], c["suite"], _case_status(c)) for c in cases)
    assert {status for *_, status in seen} >= {"failed", "passed"}

    by_key: dict[tuple[str, str, str], list[dict]] = {}
    for case in cases:
        if case["findings"]:
            by_key.setdefault((case["vendor"], case["operation"], case["suite"]), []).append(case)
    fingerprints = {f["fingerprint"] for c in cases for f in c["findings"]}
    for result in results:
        labels = _labels(result)
        assert labels["severity"][0] in SEVERITIES and len(labels["severity"]) == 1
        assert result["attachments"], result["name"]  # every test carries at least its pytest reproduction
        for attachment in result["attachments"]:
            assert (reports / "allure-results" / attachment["source"]).stat().st_size > 0, attachment
        if result["status"] != "failed":
            continue
        key = (labels["epic"][0], labels["feature"][0], labels["suite"][0])
        categories = {f["category"] for c in by_key[key] for f in c["findings"]}
        assert set(labels["story"]) <= categories and labels["story"], (labels["story"], categories)
        assert labels["severity"][0] in {f["severity"] for c in by_key[key] for f in c["findings"]}
        names = [a["name"] for a in result["attachments"]]
        assert "reproduce (curl)" in names and "reproduce (pytest)" in names, names
        attached = [json.loads((reports / "allure-results" / a["source"]).read_text())
                    for a in result["attachments"] if a["type"] == "application/json" and ": " in a["name"]]
        assert attached and all(a["fingerprint"] in fingerprints for a in attached)


def test_report_renders_allure_html_whose_counts_match(reports: Path) -> None:
    cli = find_allure()
    if cli is None:
        pytest.skip("Allure CLI not installed (run `make allure`: needs npm and Java 17); results were still checked")
    result = CliRunner().invoke(main, ["report", "--reports-dir", str(reports)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = reports / "allure-report" / "index.html"
    assert f"wrote {html} (one file: open it from disk)" in result.output
    assert html.is_file() and html.stat().st_size > 1000
    # one self-contained file (`--single-file`: opens from disk): its data files are embedded, base64, in index.html
    import base64
    import re

    assert not (reports / "allure-report" / "widgets").exists()
    embedded = re.search(r"d\('widgets/summary.json','([A-Za-z0-9+/=]+)'\)", html.read_text(encoding="utf-8"))
    assert embedded, "no embedded widgets/summary.json in the single-file report"
    summary = json.loads(base64.b64decode(embedded.group(1)))["statistic"]
    statuses = Counter(r["status"] for r in _results(reports))
    assert summary["failed"] == statuses["failed"] > 0
    assert summary["passed"] == statuses["passed"] and summary["skipped"] == statuses["skipped"]
    assert summary["broken"] == 0 and summary["total"] == sum(statuses.values())


def test_every_failed_result_falls_into_a_root_cause_category(reports: Path) -> None:
    """Allure's Categories tab: categories.json (one per root cause) matches every failing result's message."""
    import re

    categories = json.loads((reports / "allure-results" / "categories.json").read_text())
    assert categories
    failed = [r for r in _results(reports) if r["status"] == "failed"]
    assert failed
    for result in failed:
        message = result["statusDetails"]["message"]
        assert any(re.match(c["messageRegex"], message) for c in categories if "messageRegex" in c), message[:300]


@pytest.mark.skipif(find_allure() is None, reason="Allure CLI not installed (make allure)")
def test_each_rendered_report_adds_one_point_to_the_trend(reports: Path, tmp_path: Path) -> None:
    """The single-file report embeds the run's history instead of writing allure-report/history: it is taken out
    so the next rendering reads it, and the Trend holds one point per run (it stayed at the first run's before)."""
    import shutil

    from apiconform.report import render_allure

    work = tmp_path / "reports"
    shutil.copytree(reports / "allure-results", work / "allure-results")
    counts = []
    for _ in range(3):
        render_allure(work)
        trend = json.loads((work / "allure-report" / "history" / "history-trend.json").read_text(encoding="utf-8"))
        counts.append(len(trend))
    assert counts == [1, 2, 3]
    assert trend[0]["data"]["total"] == len(_results(reports))
