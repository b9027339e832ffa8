"""What a team adopting the tool sees first: one spelling per category, reports that carry the run's
context, reproduction that reproduces (a standalone mock + curl), waivers with reason and expiry,
world-readable reports, Allure history kept between runs, no finding printed twice.

One small drifted goodstack run (in-process) is shared by the module.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import socket
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from apiconform.cli import main
from apiconform.errors import UsageError
from apiconform.findings import CATEGORY_ALIASES, Category

ARGS = ["run", "goodstack", "--drift", "field-type-changed", "--max-examples", "2", "--no-allure", "--no-progress"]


def cli(cwd: Path, *args: str) -> Result:
    with contextlib.chdir(cwd):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    work = tmp_path_factory.mktemp("adoption")
    history = work / "reports" / "allure-report" / "history"
    history.mkdir(parents=True)  # a previous run's rendered report: its history must feed the next one
    (history / "history-trend.json").write_text('[{"data": {"passed": 3}}]')
    return cli(work, *ARGS), work / "reports"


# ------------------------------------------------------------------ item 6: one spelling per category


@pytest.mark.parametrize("typed, expected", [
    ("field-type", Category.FIELD_TYPE), ("field_type", Category.FIELD_TYPE), ("types", Category.FIELD_TYPE),
    ("Status", Category.STATUS_CODE), ("5xx", Category.SERVER_ERROR), ("ctype", Category.CONTENT_TYPE),
])
def test_category_aliases_are_accepted_on_input(typed: str, expected: Category) -> None:
    assert Category.parse(typed) is expected


def test_unknown_category_names_close_matches() -> None:
    with pytest.raises(UsageError, match="did you mean field-type"):
        Category.parse("feild_type")


def test_run_help_lists_every_canonical_category() -> None:
    text = " ".join(CliRunner().invoke(main, ["run", "--help"]).output.split())
    for category in Category:
        assert category.value in text.replace("- ", "-")
    assert "types=field-type" in text.replace("- ", "-")


def test_terminal_uses_the_canonical_spellings_only(drifted: tuple[Result, Path]) -> None:
    result, _ = drifted
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["category"])
    cells = [line.split()[0] for line in lines[start + 2:start + 2 + len(Category)]]  # after the header rule
    assert cells == [c.value for c in Category], lines[start:start + 14]
    assert not set(CATEGORY_ALIASES) & set(cells)


# ------------------------------------------------------------------ item 7: context, no duplicates, modes, history


def test_every_report_carries_the_run_context(drifted: tuple[Result, Path]) -> None:
    result, out = drifted
    assert result.exit_code == 1, result.output
    context = json.loads((out / "run.json").read_text())["context"]
    for key in ("apiconform", "python", "schemathesis", "hypothesis", "seed", "targets", "drifts", "faults",
                "max_examples", "max_requests", "reproduce"):
        assert key in context, key
    assert context["drifts"] == "field-type-changed" and context["targets"] == "goodstack=mock"
    assert "--drift=field-type-changed" in context["reproduce"]
    junit = ET.parse(out / "junit.xml").getroot()
    props = {p.get("name"): p.get("value") for p in junit.find("properties")}  # type: ignore[union-attr]
    assert props["drifts"] == "field-type-changed" and props["max_examples"] == "2"
    assert json.loads((out / "matrix.json").read_text())["run"]["context"]["drifts"] == "field-type-changed"
    md = (out / "matrix.md").read_text()
    assert "drifts `field-type-changed`" in md and "Reproduce: `apiconform run goodstack" in md
    assert "field-type-changed" in (out / "matrix.html").read_text()
    env = (out / "allure-results" / "environment.properties").read_text()
    assert "drifts=field-type-changed" in env and "schemathesis=" in env


def test_no_finding_line_is_printed_twice(drifted: tuple[Result, Path]) -> None:
    result, _ = drifted
    lines = [line.strip() for line in result.stdout.splitlines() if "string answered as integer" in line]
    assert lines and len(lines) == len(set(lines)) == 2, result.stdout  # two root causes, one line each


def test_reports_are_world_readable(drifted: tuple[Result, Path]) -> None:
    _, out = drifted
    for name in ("run.json", "junit.xml", "matrix.json", "matrix.md", "matrix.html", "coverage.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) & 0o044 == 0o044, name


def test_allure_history_is_kept_for_the_trend(drifted: tuple[Result, Path]) -> None:
    _, out = drifted
    assert (out / "allure-results" / "history" / "history-trend.json").read_text() == '[{"data": {"passed": 3}}]'


def test_waivers_show_reason_and_expiry(tmp_path: Path) -> None:
    from apiconform.gate._verdict import evaluate, load_baseline, write_baseline
    from apiconform.report import load_run

    assert cli(tmp_path, *ARGS).exit_code == 1
    record = load_run(tmp_path / "reports")
    path = write_baseline(record, tmp_path / "baseline.yaml", reason="vendor ticket ACME-12", days=30)
    gate = evaluate(record, baseline=load_baseline(path))
    assert gate.exit_code == 0
    lines = "\n".join(gate.summary)
    assert "until 20" in lines and "vendor ticket ACME-12" in lines, lines
    assert all(", until 20" in reason for reason in gate.waived_reasons.values())


# ------------------------------------------------------------------ item 5: reproduction that reproduces


def test_mock_findings_carry_a_standalone_mock_and_a_clean_curl(drifted: tuple[Result, Path]) -> None:
    result, out = drifted
    findings = [f for c in json.loads((out / "run.json").read_text())["cases"] for f in c["findings"] if f.get("curl")]
    assert findings
    for finding in findings:
        mock_line, curl = finding["curl"].split("\n")[:2]
        assert mock_line.startswith("apiconform mock goodstack --port 8100 --drift=field-type-changed --seed=")
        assert "http://127.0.0.1:8100/" in curl and "mock.apiconform.invalid" not in curl
        lowered = curl.lower()
        assert "x-schemathesis" not in lowered and "user-agent" not in lowered and "accept-encoding" not in lowered
    assert "apiconform mock goodstack --port 8100" in result.stdout
    junit = (out / "junit.xml").read_text()
    assert "apiconform mock goodstack --port 8100" in junit


def test_the_reproduction_reproduces_the_finding_against_a_real_mock(drifted: tuple[Result, Path], tmp_path: Path) -> None:
    """Start the printed mock (on a free port), send the printed curl: the drifted field comes back."""
    _, out = drifted
    finding = next(f for c in json.loads((out / "run.json").read_text())["cases"] for f in c["findings"]
                   if f.get("curl") and f["category"] == "field-type")
    mock_line, curl = finding["curl"].split("\n")[:2]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = shlex.split(mock_line.rstrip(" &").replace("--port 8100", f"--port {port}"))
    exe = Path(sys.executable).with_name("apiconform")
    proc = subprocess.Popen([str(exe), *args[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        argv = shlex.split(curl.replace(":8100/", f":{port}/"))
        method = argv[argv.index("-X") + 1] if "-X" in argv else "GET"
        url = next(a for a in argv if a.startswith("http://"))
        headers = dict(argv[i + 1].split(": ", 1) for i, a in enumerate(argv) if a == "-H")
        headers = {k: ("mock-goodstack-key" if "[REDACTED]" in v else v) for k, v in headers.items()}
        body = argv[argv.index("--data-raw") + 1] if "--data-raw" in argv else None
        from apiconform.contracts import load_contract
        from apiconform.engine._targets import mock_target

        creds = mock_target("goodstack").credentials
        headers = {k: (next(iter(creds.values())) if v == "mock-goodstack-key" else v) for k, v in headers.items()}
        answer = httpx.request(method, url, headers=headers, content=body, timeout=10)
        assert load_contract("goodstack")  # the contract the finding is about
        assert answer.status_code in (200, 201, 400), answer.text
        assert '"id": 12345' in answer.text.replace('"id":12345', '"id": 12345') or "12345" in answer.text, answer.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
