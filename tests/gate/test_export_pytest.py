"""`apiconform run --export-pytest DIR`: a standalone characterization test per failing case. Run against the
drifted mock it was exported from it fails with the finding; against a clean mock (the vendor fixed the drift)
it passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

APICONFORM = Path(sys.executable).with_name("apiconform")


def test_exported_tests_fail_on_the_drift_and_pass_once_it_is_gone(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run([str(APICONFORM), "run", "goodstack", "--drift", "enum-value-changed", "--max-examples", "2",
                          "--no-allure", "--no-progress", "--export-pytest", "exported"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert re.search(r"exported [1-9]\d* characterization tests to exported/", run.stdout), run.stdout[-2000:]
    tests = sorted((tmp_path / "exported").glob("test_*.py"))
    assert tests and all("ac602" in t.name for t in tests)

    def pytest_on(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    drifted = pytest_on(tests[0])
    assert drifted.returncode == 1 and "AC602" in drifted.stdout and "pending_v2" in drifted.stdout, drifted.stdout[-3000:]
    text = tests[0].read_text(encoding="utf-8")
    assert "DRIFTS = ('enum-value-changed',)" in text and "'[REDACTED]'" in text  # no secret in the file
    tests[0].write_text(text.replace("DRIFTS = ('enum-value-changed',)", "DRIFTS = ()"), encoding="utf-8")
    clean = pytest_on(tests[0])
    assert clean.returncode == 0, clean.stdout[-3000:]
