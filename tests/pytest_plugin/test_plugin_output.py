"""What `pytest suites` prints when the input is wrong or a finding is reported: one line for a wrong name
(as `apiconform run` says it), and a reproduction a person can paste (a mock on loopback, then the curl)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


def pytest_suites(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites"), "--rootdir", str(ROOT), "-q",
                           "-p", "no:cacheprovider", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize(("args", "line"), [
    (("--vendor", "goodstak"), "ERROR: unknown vendor 'goodstak' (did you mean goodstack? known vendors: "),
    (("--drift", "nah"), "ERROR: unknown drift 'nah'"),
    (("--target", "nope=http://127.0.0.1:9"), "ERROR: --target names unknown vendor 'nope'"),
])
def test_a_wrong_name_is_one_line(pytester: pytest.Pytester, args: tuple[str, ...], line: str) -> None:
    # in-process (pytest's own main, as the command runs it): what reaches the screen is what pytest prints for a
    # usage error; test_a_finding_reproduces_on_loopback runs `pytest suites` as a whole process
    result = pytester.runpytest_inprocess(str(ROOT / "suites"), "--rootdir", str(ROOT), "-q", "-p", "no:cacheprovider",
                                          *args)
    out = "\n".join(result.outlines + result.errlines).strip()
    assert result.ret == 4, out  # pytest's usage error
    assert "Traceback" not in out and len(out.splitlines()) == 1 and out.startswith(line), out


@pytest.mark.e2e  # a whole `pytest suites` process: `make test-e2e` (CI runs it)
def test_a_finding_reproduces_on_loopback(tmp_path: Path) -> None:
    proc = pytest_suites(tmp_path, "--vendor", "goodstack", "--drift", "enum-value-changed", "--max-examples", "2",
                         "-k", "properties")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "mock.apiconform.invalid" not in proc.stdout
    assert "reproduce: apiconform mock goodstack --port 8100 --drift=enum-value-changed --seed=" in proc.stdout
    assert "curl -X POST http://127.0.0.1:8100/v1/" in proc.stdout
