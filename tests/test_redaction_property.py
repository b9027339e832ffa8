"""Redaction as a property: credentials planted for every vendor and every auth flow, the full gate run
against hostile vendors that echo every secret they know in every place and encoding (tests/support/hostile_vendors.py),
and every output file and stream scanned for raw, escaped, base64, URL-encoded and 8-character partial
forms of every secret (planted, issued at login, seen on the wire, embedded in the --target URL): 0 hits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile_vendors import leak_probe


@pytest.mark.e2e  # minutes of whole runs on a loaded machine: `make test-e2e` (CI runs it)
def test_no_form_of_any_secret_reaches_any_output(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    probe = leak_probe(tmp_path)
    captured = capfd.readouterr()
    assert probe["exit_code"] == 1, probe["output"][-3000:]  # hostile answers are findings, never a crash
    assert probe["issued"], "the login flow was not exercised"
    assert len(probe["secrets"]) >= 10
    texts = probe["texts"]
    assert "reports/run.json" in texts and any("allure-results" in name for name in texts)
    from tests.support.hostile_vendors import scan

    hits = probe["hits"] + scan({"<fd out>": captured.out, "<fd err>": captured.err}, probe["secrets"])
    assert not hits, f"{len(hits)} leaks, e.g. {sorted(set(hits))[:12]}"
    assert "[REDACTED]" in texts["reports/run.json"]
