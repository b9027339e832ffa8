"""The built wheel works outside the checkout: bundled contracts and suites ship inside it, the pytest plugin
comes through its `pytest11` entry point, and a team's own contracts folder joins the bundled vendors.

Builds the wheel, installs it into a fresh venv in a temp directory (dependencies from the pip cache) and
runs the gate and plain pytest there, far from this repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: one venv for the module's tests (under `--dist loadgroup`); ~55 s with a warm pip cache, so not marked slow
pytestmark = [pytest.mark.xdist_group("install"), pytest.mark.e2e]  # builds and installs a wheel: `make test-e2e`
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "reports", ".tools", "node_modules", "mutants",
                                     "__pycache__", "*.egg-info", ".hypothesis", ".pytest_cache")


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(venv bin dir, project dir outside the checkout, environment) with the wheel installed."""
    base = tmp_path_factory.mktemp("install")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("APICONFORM_", "PYTEST_", "VIRTUAL_ENV", "PYTHON"))}
    dist = base / "dist"
    source = base / "source"  # a copy: setuptools' build/ never lands in (or leaks stale files from) the checkout
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCE)
    built = _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(dist)], base, env)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(dist.glob("apiconform-*.whl"))
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], base, env)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / "bin"
    pip = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], base, env, 900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    project = base / "project"
    team = project / "team-contracts" / "acme"
    shutil.copytree(ROOT / "contracts" / "ctrlhub", team)  # one vendor's contract under a new name
    contract = team / "openapi.yaml"
    contract.write_text(contract.read_text(encoding="utf-8").replace("vendor: ctrlhub", "vendor: acme", 1), encoding="utf-8")
    return bin_dir, project, env


def test_wheel_ships_contracts_and_suites(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, project, env = installed
    probe = _run([str(bin_dir / "python"), "-c",
                  "import apiconform, apiconform.suites, pathlib; print(pathlib.Path(apiconform.__file__).parent)"],
                 project, env)
    package = Path(probe.stdout.strip())
    assert str(package).startswith(str(bin_dir.parent)), package  # the installed copy, not the checkout
    bundled = package / "contracts" / "bundled"
    for vendor in ("cofe-cms", "ctrlhub", "eduframe", "goodstack", "tesla-ce"):
        assert (bundled / vendor / "openapi.yaml").is_file() and (bundled / vendor / "SOURCE.md").is_file(), vendor
    assert (bundled / "tesla-ce" / "deviations.yaml").is_file() and (bundled / "tesla-ce" / "real-baseline.yaml").is_file()
    assert list((bundled / "eduframe" / "examples").rglob("*.json"))
    assert {p.name for p in (package / "suites").glob("test_*.py")} == {
        "test_examples.py", "test_negative.py", "test_properties.py", "test_stateful.py"}


def test_gate_runs_outside_the_checkout_with_a_team_folder(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, project, env = installed
    cli = str(bin_dir / "apiconform")
    listed = _run([cli, "contracts", "list", "--contracts", "team-contracts"], project, env)
    assert listed.returncode == 0 and {"acme", "goodstack", "tesla-ce"} <= {
        line.split()[0] for line in listed.stdout.splitlines()}, listed.stdout + listed.stderr

    team = _run([cli, "run", "acme", "--contracts", "team-contracts", "--max-examples", "2", "--no-allure",
                 "--reports-dir", "reports-team"], project, env)
    assert team.returncode == 0, team.stdout[-3000:] + team.stderr[-3000:]
    record = json.loads((project / "reports-team" / "run.json").read_text(encoding="utf-8"))
    assert record["vendors"] == ["acme"] and record["cases"], record.keys()
    assert (project / "reports-team" / "junit.xml").is_file() and (project / "reports-team" / "matrix.html").is_file()
    assert "--contracts=team-contracts" in team.stdout  # the reproduce line finds the same folder

    bundled = _run([cli, "run", "goodstack", "--max-examples", "2", "--no-allure"], project, env)
    assert bundled.returncode == 0, bundled.stdout[-3000:] + bundled.stderr[-3000:]
    assert json.loads((project / "reports" / "run.json").read_text(encoding="utf-8"))["vendors"] == ["goodstack"]

    bad = _run([cli, "run", "goodstack", "--contracts", "no-such-folder"], project, env)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "no-such-folder" in bad.stderr, bad.stderr


def test_config_key_names_the_team_folder(installed: tuple[Path, Path, dict[str, str]], tmp_path: Path) -> None:
    bin_dir, project, env = installed
    work = tmp_path / "configured"
    shutil.copytree(project / "team-contracts", work / "team-contracts")
    (work / "apiconform.toml").write_text('contracts = "team-contracts"\n', encoding="utf-8")
    listed = _run([str(bin_dir / "apiconform"), "contracts", "check", "acme"], work, env)
    assert listed.returncode == 0 and listed.stdout.startswith("acme: ok"), listed.stdout + listed.stderr
    (work / "apiconform.toml").write_text('contracts = "missing"\n', encoding="utf-8")
    bad = _run([str(bin_dir / "apiconform"), "contracts", "list"], work, env)
    assert bad.returncode == 2 and "apiconform.toml: contracts" in bad.stderr and "missing" in bad.stderr, bad.stderr


def test_plain_pytest_runs_the_installed_suites(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, project, env = installed
    proc = _run([str(bin_dir / "python"), "-m", "pytest", "--pyargs", "apiconform.suites", "--vendor", "goodstack",
                 "--max-examples", "2", "-q", "-p", "no:cacheprovider"], project, env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "goodstack" not in proc.stderr
    team = _run([str(bin_dir / "python"), "-m", "pytest", "--pyargs", "apiconform.suites", "--contracts", "team-contracts",
                 "--vendor", "acme", "--max-examples", "2", "-q", "-p", "no:cacheprovider"], project, env)
    assert team.returncode == 0 and " passed" in team.stdout, team.stdout[-3000:] + team.stderr[-3000:]
