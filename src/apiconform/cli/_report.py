"""`apiconform report`, `compare` and `baseline update`: commands over run records, no runner needed.

Registered by cli.py with `main.add_command(...)`. Errors are raised as ApiconformError and
turned into one line + exit code by the main group.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from apiconform.errors import UsageError
from apiconform.findings import categories_help
from apiconform.gate._verdict import (
    BASELINE_FILE,
    evaluate,
    gating_categories,
    load_baseline,
    parse_fail_on,
    write_baseline,
)
from apiconform.gate.compare import compare_runs
from apiconform.report import check_mergeable, find_allure, load_run, merge_records, render_allure, write_reports

__all__ = ["baseline", "compare", "find_allure", "render_allure", "report"]  # the Allure pair: re-exported from report

def _copy_allure_results(src: Path, dest: Path) -> int:
    """Copy a shard's allure-results (uuid-named files never collide); returns files copied."""
    if not src.is_dir() or src.resolve() == dest.resolve():
        return 0
    dest.mkdir(parents=True, exist_ok=True)
    n = 0
    for item in src.iterdir():
        if item.is_file():
            shutil.copy2(item, dest / item.name)
            n += 1
    return n


@click.command("report")
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="where run.json is read and reports are written")
@click.option("--merge", "merge_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="shard reports dirs to merge: `--merge reports/shard-*` (several after one --merge, or repeated); "
                   "the merged run.json replaces reports-dir's")
@click.argument("more_dirs", nargs=-1, type=click.Path(file_okay=False, path_type=Path), metavar="[DIR]...")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(BASELINE_FILE), show_default=True, help="waivers to mark (if the file exists)")
@click.option("--allure/--no-allure", default=True, show_default=True, help="also build the Allure HTML report")
@click.option("--gate", "as_gate", is_flag=True,
              help="exit with the gate's code (0 conformant, 1 findings), e.g. after merging CI shards")
@click.option("--fail-on", "fail_on", multiple=True, metavar="CATEGORY|CODE[,...]",
              help="only these categories or failure codes (AC602; `apiconform explain`) fail the gate "
                   "(as in `apiconform run`): " + categories_help())
def report(reports_dir: Path, merge_dirs: tuple[Path, ...], more_dirs: tuple[Path, ...], baseline_file: Path,
           allure: bool, as_gate: bool, fail_on: tuple[str, ...]) -> None:
    """Re-render junit.xml, matrix.{json,md,html} and coverage.json from run.json (merging shards).

    Exits 0 whatever the findings unless --gate is given: then 1 if any unwaived finding fails the gate.
    """

    gating = parse_fail_on(fail_on) or None
    results = reports_dir / "allure-results"
    if more_dirs and not merge_dirs:
        raise UsageError(f"report: {more_dirs[0]}: directories are only read with --merge (apiconform report --merge DIR...)")
    merge_dirs = tuple(dict.fromkeys((*merge_dirs, *more_dirs)))
    if merge_dirs:
        if len({d.resolve() for d in merge_dirs}) < len(merge_dirs):
            raise UsageError(f"report --merge: a directory is named twice ({', '.join(map(str, merge_dirs))})")
        runs = [(str(d), load_run(d)) for d in merge_dirs]
        check_mergeable(runs)
        record = merge_records(r for _, r in runs)
        copied = sum(_copy_allure_results(d / "allure-results", results) for d in merge_dirs)
        record.write(reports_dir)
        click.echo(f"merged {len(merge_dirs)} runs ({len(record.cases)} cases, {copied} allure files) into {reports_dir / 'run.json'}")
    else:
        record = load_run(reports_dir)
    baseline = load_baseline(baseline_file, missing_ok=True)
    gate = evaluate(record, fail_on=gating, baseline=baseline)
    for path in write_reports(record, reports_dir, waived=gate.waived_reasons, fail_on=gating_categories(gating)):
        click.echo(f"wrote {path}")
    click.echo("\n".join(gate.summary) if as_gate else gate.summary[0])
    if allure:
        click.echo(render_allure(reports_dir))
    if as_gate:
        sys.exit(gate.exit_code)


@click.command("compare")
@click.argument("run_a", type=click.Path(exists=True, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True)
@click.option("--accept-mismatch", is_flag=True,
              help="compare runs of different modes (read-only vs writes), suites or operations anyway (warned)")
def compare(run_a: Path, run_b: Path, fmt: str, accept_mismatch: bool = False) -> None:
    """Compare two runs (run.json files or reports dirs). Exit 1 if findings appeared, shapes drifted or an operation's
    statuses changed; exit 2 if the runs did not run the same plan (mode, suites, operations) unless
    --accept-mismatch. Different seeds are warned about (statuses are then not compared)."""
    result = compare_runs(load_run(run_a), load_run(run_b), a_label=str(run_a), b_label=str(run_b))
    refused = [m for m in result.mismatches if m.refuse]
    if refused and not accept_mismatch:
        raise UsageError(f"compare: {refused[0].describe()}; run both the same way, or pass --accept-mismatch")
    click.echo(result.render(fmt), nl=False)
    sys.exit(result.exit_code)


@click.group("baseline")
def baseline() -> None:
    """Manage apiconform-baseline.yaml: known findings accepted until an expiry date."""


@baseline.command("update")
@click.option("--reason", default="", help="why these findings are accepted (default: dated note)")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True, help="waivers expire after N days")
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True)
@click.option("--file", "baseline_file", type=click.Path(dir_okay=False, path_type=Path), default=Path(BASELINE_FILE),
              show_default=True)
def baseline_update(reason: str, days: int, reports_dir: Path, baseline_file: Path) -> None:
    """Write every finding of the last run as a waiver (existing waivers keep reason and expiry)."""
    from datetime import date

    record = load_run(reports_dir)
    reason = reason or f"known finding accepted by baseline update on {date.today().isoformat()}"
    path = write_baseline(record, baseline_file, reason=reason, days=days)
    n = len(load_baseline(path).waivers)
    click.echo(f"wrote {path}: {n} waivers")
