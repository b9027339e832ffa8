"""A login answer that drifts (tokens null, an HTML page with 200) is a categorised finding on the login
operation in every report, and the run fails as a conformance failure (exit 1); credentials the vendor
refuses (401/403) still stop the run before any test (exit 3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from apiconform.cli import main
from apiconform.gate._run import RunOptions, execute

VENDOR = "tesla-ce"
LOGIN = "login_approle"
CASES = {"login-tokens-null": "field-type", "login-html-200": "content-type"}


@pytest.mark.parametrize("drift", sorted(CASES))
def test_drifted_login_is_a_finding_on_the_login_operation(drift: str, tmp_path: Path) -> None:
    options = RunOptions(vendors=[VENDOR], suites=["properties"], max_examples=2, seed=3, drifts=[drift],
                         operations=["list_providers", LOGIN], reports_dir=tmp_path, allure=False)
    outcome = execute(options)
    assert outcome.exit_code == 1
    findings = [f for c in outcome.record.cases for f in c.findings]
    assert findings and {f.operation for f in findings} == {LOGIN}
    assert {f.category.value for f in findings} == {CASES[drift]}
    assert not any(f.category.value == "transport" for f in findings)  # not "authentication failed" noise
    junit = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    matrix = json.loads((tmp_path / "matrix.json").read_text(encoding="utf-8"))
    assert LOGIN in junit and CASES[drift] in junit
    assert CASES[drift] in json.dumps(matrix)
    assert "[REDACTED]" in findings[0].curl or "secret" not in findings[0].curl


def _live(url: str, tmp: Path, monkeypatch: pytest.MonkeyPatch, secret: str) -> object:
    monkeypatch.chdir(tmp)
    (tmp / "apiconform.toml").write_text('[targets.tesla-ce]\ncredentials = { role_id = "T_ROLE", secret_id = "T_SECRET" }\n')
    monkeypatch.setenv("T_ROLE", "mock-tesla-ce-role")
    monkeypatch.setenv("T_SECRET", secret)
    return CliRunner().invoke(main, ["run", VENDOR, "--target", f"{VENDOR}={url}", "--operation", "list_providers",
                                     "--suite", "properties", "--max-examples", "2", "--no-allure", "--no-progress",
                                     "--reports-dir", str(tmp / "reports")])


def test_live_target_with_a_drifted_login_fails_conformance_not_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        served_mock: Callable[..., str]) -> None:
    url = served_mock(VENDOR, drifts=["login-tokens-null"])
    result = _live(url, tmp_path, monkeypatch, _mock_secret())
    assert result.exit_code == 1, result.output
    cases = json.loads((tmp_path / "reports" / "run.json").read_text(encoding="utf-8"))["cases"]
    assert {f["operation"] for c in cases for f in c["findings"]} == {LOGIN}


def test_live_target_refusing_credentials_still_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        served_mock: Callable[..., str]) -> None:
    url = served_mock(VENDOR, drifts=["login-tokens-null"])
    result = _live(url, tmp_path, monkeypatch, "a-wrong-secret-id-value")
    assert result.exit_code == 3, result.output
    assert "a-wrong-secret-id-value" not in result.output


def _mock_secret() -> str:
    from apiconform.engine._targets import mock_target

    return mock_target(VENDOR).credentials["secret_id"]
