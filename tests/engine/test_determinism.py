"""scripts/determinism.py: the same gate with the same seed, repeated at 1 and 2 workers, gives identical verdicts
and findings (issue 23). Run as the README shows it (`python scripts/determinism.py`), which ended in
ModuleNotFoundError with any Python but the checkout's .venv."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "determinism.py"


def _script() -> object:
    spec = importlib.util.spec_from_file_location("determinism", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_differing_verdict_or_finding_is_counted() -> None:
    """The comparison sees a flip of state, a finding that changed message, and a case missing from a run."""
    differences = _script().differences  # type: ignore[attr-defined]
    same = {("v", "op", "s", "t"): ("failed", (("fp", "enum", "check", "message"),)), ("v", "op2", "s", "t"): ("passed", ())}
    assert differences([same, dict(same)]) == {}
    changed = {**same, ("v", "op", "s", "t"): ("failed", (("fp", "enum", "check", "other message"),))}
    flipped = {**same, ("v", "op2", "s", "t"): ("skipped", ())}
    missing = {("v", "op", "s", "t"): same[("v", "op", "s", "t")]}
    assert list(differences([same, changed])) == [("v", "op", "s", "t")]
    assert list(differences([same, flipped])) == [("v", "op2", "s", "t")]
    assert list(differences([same, missing])) == [("v", "op2", "s", "t")]


@pytest.mark.e2e
def test_determinism_script_runs_as_the_readme_shows_it(tmp_path: Path) -> None:
    python = shutil.which("python", path=os.environ.get("PATH", "").replace(str(Path(sys.executable).parent), "")) or "python3"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    proc = subprocess.run([python, "scripts/determinism.py", "--runs", "2", "--vendors", "cofe-cms",
                           "--max-examples", "2"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "workers 1, run 2/2" in proc.stdout and "workers 2, run 2/2" in proc.stdout
    assert "x 4 runs (workers 1,2); cases whose verdict or findings differ: 0 (expected 0)" in proc.stdout
