"""The Allure HTML report: `allure generate` (the Allure 2 CLI) renders reports_dir/allure-results into
reports_dir/allure-report (one self-contained file), keeping the history for Allure's Trend: each run's new
history is taken out of the file it is embedded in and fed to the next run.

Used by `apiconform run` (gate) and `apiconform report` (CLI); it lives here, below both, so neither imports
the other."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

from apiconform.errors import ConfigError

ALLURE_LOCAL = Path(".tools/node_modules/.bin/allure")


def find_allure() -> str | None:
    """The Allure CLI: the project-local install from `make allure`, else one on PATH."""
    project = Path(__file__).resolve().parents[3]  # editable install: the checkout holding .tools/
    for candidate in (ALLURE_LOCAL, project / ALLURE_LOCAL):
        if candidate.is_file():
            return str(candidate.resolve())
    return shutil.which("allure")


def allure_install_hint() -> str:
    """How to install the Allure CLI from here: `make allure` in an apiconform checkout (it has the Makefile
    target), else npm, which an installed tool's user can run anywhere."""
    project = Path(__file__).resolve().parents[3]
    if (project / "Makefile").is_file() and "\nallure:" in (project / "Makefile").read_text(encoding="utf-8"):
        return "`make allure`"
    return "`npm install -g allure-commandline@2`"


def keep_allure_history(reports_dir: Path) -> None:
    """Copy allure-report/history into allure-results/history (what Allure reads to draw Trend and history)."""
    history = reports_dir / "allure-report" / "history"
    if history.is_dir():
        shutil.copytree(history, reports_dir / "allure-results" / "history", dirs_exist_ok=True)


_EMBEDDED_HISTORY = re.compile(r"d\('history/([\w.-]+\.json)',\s*'([A-Za-z0-9+/=]*)'\)")


def extract_history(report: Path) -> None:
    """A single-file report embeds this run's history (`d('history/NAME.json', 'BASE64')`: the trend with this run's
    point added) instead of writing report/history/: write those files out, where the next run's
    `keep_allure_history` takes them, so Trend grows by one point per run."""
    index = report / "index.html"
    if not index.is_file():
        return
    embedded = _EMBEDDED_HISTORY.findall(index.read_text(encoding="utf-8", errors="replace"))
    if embedded:
        (report / "history").mkdir(exist_ok=True)
    for name, data in embedded:
        (report / "history" / name).write_bytes(base64.b64decode(data))


def render_allure(reports_dir: Path) -> str:
    """Build reports_dir/allure-report from allure-results with the Allure CLI; one line saying what happened."""
    results = reports_dir / "allure-results"
    if not results.is_dir() or not any(results.iterdir()):
        return f"allure: no results in {results}; skipped"
    cli = find_allure()
    if cli is None:
        return f"allure: CLI not found; install it with {allure_install_hint()} (needs Java 17), then re-run `apiconform report`"
    out = reports_dir / "allure-report"
    keep_allure_history(reports_dir)  # `--clean` wipes the old report: its history first moves into the results
    # one self-contained index.html: it opens from disk (file://), where a multi-file report shows "Failed to fetch"
    proc = subprocess.run([cli, "generate", str(results), "-o", str(out), "--clean", "--single-file"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise ConfigError(f"allure generate failed (exit {proc.returncode}): {last}")
    extract_history(out)
    return f"wrote {out / 'index.html'} (one file: open it from disk)"
