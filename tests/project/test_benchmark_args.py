"""benchmarks/run.py's argument handling (the benchmark itself is not run in CI: it takes minutes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_help_names_the_throughput_options() -> None:
    out = subprocess.run([sys.executable, str(RUN), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--runs" in out.stdout and "--only" in out.stdout


def test_unknown_section_is_one_usage_error() -> None:
    out = subprocess.run([sys.executable, str(RUN), "--only", "nonsense"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "invalid choice: 'nonsense'" in out.stderr and "Traceback" not in out.stderr
