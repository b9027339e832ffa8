"""`apiconform run`'s options: the engine's (`engine.EngineOptions`) and the gate's own, each declared once
(`apiconform._options`); the click options of `apiconform run` and the pytest plugin's are derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from apiconform._options import option
from apiconform.engine import EngineOptions
from apiconform.findings import categories_help


@dataclass
class RunOptions(EngineOptions):
    """A gate run: what the engine runs, then what decides the verdict and where the reports go."""

    fail_on: list[str] = option(
        factory=list, kind="list", flag="--fail-on", metavar="CATEGORY|CODE[,...]", nonempty=True, surfaces=("cli",),
        help="only these categories or failure codes (AC602; `apiconform explain`) fail the gate (default: the "
             "`fail_on` config key, else all): " + categories_help())
    baseline: Path | None = option(
        None, value_type=Path, path="file", surfaces=("cli",),
        help="waiver file (default: the `baseline` config key, else apiconform-baseline.yaml if present)")
    reports_dir: Path = option(Path("reports"), value_type=Path, path="dir", surfaces=("cli", "pytest"),
                               show_default=True, help="where the run record and the reports go")
    rolling: bool = option(
        False, kind="flag", surfaces=("cli",),
        help="scheduled runs against a small quota: each run takes the tests least recently covered (coverage.json's "
             "history in --reports-dir accumulates); the ones cut are deferred, not a failure")
    allure: bool = option(True, kind="switch", show_default=True, surfaces=("cli",),
                          help="render the Allure HTML report if the CLI is installed")
    progress: bool | None = option(None, kind="switch", surfaces=("cli",),
                                   help="live progress line (default: on a terminal)")
    events_file: Path | None = option(
        None, value_type=Path, path="file", flag="--events", envvar="APICONFORM_EVENTS_FILE", surfaces=("cli",),
        help="write the event stream (one JSON line per finished case) to FILE")
    export_dir: Path | None = option(
        None, value_type=Path, path="dir", flag="--export-pytest", surfaces=("cli",),
        help="write one standalone pytest characterization test per failing case into DIR (it replays the request "
             "against the same target; fails until the answer conforms)")


__all__ = ["RunOptions"]
