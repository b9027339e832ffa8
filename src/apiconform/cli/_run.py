"""`apiconform run`: the CI gate, with a progress line and a one-screen summary."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from apiconform._defaults import LIVE_DEFAULTS, RUN_DEFAULTS
from apiconform.cli._contracts_opt import contracts_option
from apiconform.engine import SUITES
from apiconform.engine._stop import interruptible
from apiconform.errors import EXIT_INTERRUPTED
from apiconform.findings import Category, categories_help
from apiconform.gate._run import RunOptions, execute, forced_exit


def _csv(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@click.command("run")
@click.argument("vendors", nargs=-1)
@contracts_option
@click.option("--suite", "suites", multiple=True, help=f"suites to run, comma-separated (default all: {','.join(SUITES)})")
@click.option("--max-examples", type=click.IntRange(min=1), default=None, help=f"generated cases per operation (default {RUN_DEFAULTS.max_examples})")
@click.option("--seed", type=int, default=None, help="generation seed; the same seed gives the same verdicts")
@click.option("--workers", type=int, default=RUN_DEFAULTS.workers, show_default=True,
              help=f"parallel worker processes (1 to {RUN_DEFAULTS.max_workers})")
@click.option("--target", "targets", multiple=True, metavar="VENDOR[=URL]",
              help="run VENDOR against a live URL, or its configured base_url (repeatable)")
@click.option("--live", is_flag=True, help="run every vendor with a configured target against it")
@click.option("--drift", "drifts", multiple=True, metavar="[VENDOR:]NAME", help="switch on a mock drift (repeatable)")
@click.option("--fault", "faults", multiple=True, metavar="[VENDOR:]NAME[:ARG]", help="switch on a mock fault (repeatable)")
@click.option("--fail-on", "fail_on", multiple=True, metavar="CATEGORY|CODE[,...]",
              help="only these categories or failure codes (AC602; `apiconform explain`) fail the gate "
                   "(default: the `fail_on` config key, else all): " + categories_help())
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="waiver file (default: the `baseline` config key, else apiconform-baseline.yaml if present)")
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True)
@click.option("--shard", default=None, metavar="I/N", help="run shard I of N (merge with `apiconform report --merge`)")
@click.option("--operation", "operations", multiple=True, help="only these operationIds (repeatable)")
@click.option("--allow-writes", is_flag=True,
              help="let live targets run creates, updates, actions and deletes: only on records this run created "
                   "(write policy `own`, unless the target's `writes`/`expendable` config says otherwise); everything "
                   "created is deleted at the end, what could not be is listed")
@click.option("--writes", "writes", type=click.Choice(["own", "sandbox"]), default=None,
              help="turn writes on with this policy: `own` = only records this run created; `sandbox` = any record "
                   "of the target (a throw-away sandbox). Default: the target's `writes` config key, else own")
@click.option("--max-requests", type=click.IntRange(min=1), default=None,
              help=f"request budget per live target (default: its config, else {LIVE_DEFAULTS.max_requests})")
@click.option("--rate", type=float, default=None,
              help=f"requests per second per live target (default: its config, else {LIVE_DEFAULTS.rate:g})")
@click.option("--partial", is_flag=True,
              help="when a live budget cannot give every operation × suite its first case, run the tests that fit "
                   "and list the ones cut (the run is incomplete: exit 1) instead of refusing (exit 2)")
@click.option("--rolling", is_flag=True,
              help="scheduled runs against a small quota: each run takes the tests least recently covered "
                   "(coverage.json's history in --reports-dir accumulates); the ones cut are deferred, not a failure")
@click.option("--allure/--no-allure", default=True, show_default=True, help="render the Allure HTML report if the CLI is installed")
@click.option("--progress/--no-progress", default=None, help="live progress line (default: on a terminal)")
@click.option("--no-cache", "no_cache", is_flag=True, help="generate every case, parse and lint every contract afresh (no on-disk caches)")
@click.option("--export-pytest", "export_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="write one standalone pytest characterization test per failing case into DIR "
                   "(it replays the request against the same target; fails until the answer conforms)")
@click.option("--events", "events_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="APICONFORM_EVENTS_FILE", help="write the event stream (one JSON line per finished case) to FILE")
def run(vendors: tuple[str, ...], suites: tuple[str, ...], max_examples: int | None, seed: int | None, workers: int,
        targets: tuple[str, ...], drifts: tuple[str, ...], faults: tuple[str, ...], fail_on: tuple[str, ...],
        baseline: Path | None, reports_dir: Path, shard: str | None, operations: tuple[str, ...], allow_writes: bool,
        max_requests: int | None, rate: float | None, allure: bool, progress: bool | None, live: bool,
        no_cache: bool = False, events_file: Path | None = None, export_dir: Path | None = None,
        partial: bool = False, rolling: bool = False, writes: str | None = None) -> None:
    """Run the conformance gate (default: every vendor, every suite, embedded mocks) and write reports.

    Exit 0 conformant, 1 findings, 2 usage/contract/config error, 3 target unreachable or auth failed,
    4 interrupted (SIGINT/SIGTERM: the reports hold the cases that finished, marked interrupted).
    """
    from apiconform.config import load_config
    from apiconform.errors import UsageError

    if no_cache:  # inherited by worker processes
        os.environ["APICONFORM_CACHE"] = "off"
    target_map: dict[str, str | None] = {}
    for item in _csv(targets):
        vendor, sep, url = item.partition("=")
        if not vendor or (sep and not url.startswith(("http://", "https://"))):
            raise UsageError(f"--target expects VENDOR or VENDOR=https://..., got {item!r}")
        target_map[vendor] = url if sep else None
    settings = load_config(Path.cwd())  # the gate's keys: the command line wins over each
    if baseline is None:
        baseline = settings.baseline
    if baseline is None and Path("apiconform-baseline.yaml").is_file():
        baseline = Path("apiconform-baseline.yaml")
    for option, given in (("--suite", suites), ("--operation", operations), ("--fail-on", fail_on)):
        if given and not _csv(given):  # `--suite ''` is a mistake (an unset CI variable), never "all"
            raise UsageError(f"{option}: empty value {given[0]!r} (name at least one, or leave the option out)")
    show_progress = sys.stderr.isatty() if progress is None else progress
    options = RunOptions(
        vendors=list(vendors), suites=_csv(suites) or list(SUITES), max_examples=max_examples, seed=seed,
        workers=workers, targets=target_map, live=live, drifts=_csv(drifts), faults=list(faults), fail_on=_csv(fail_on) or settings.fail_on,
        baseline=baseline, reports_dir=reports_dir, shard=shard, allow_writes=allow_writes or writes is not None, writes=writes,
        max_requests=max_requests, rate=rate, operations=_csv(operations), allure=allure,
        argv=sys.argv[1:], events_file=events_file, partial=partial, rolling=rolling,
    )
    with interruptible(forced_exit) as stop:  # armed from here: a signal while inputs are validated stops the run
        _gate(options, show_progress, stop, export_dir)


def _gate(options: RunOptions, show_progress: bool, stop: Any, export_dir: Path | None = None) -> None:
    display = EventProgress() if show_progress else None
    try:
        outcome = execute(options, progress=display, announce=click.echo)
        stop.armed = False  # the summary prints: a first signal is remembered, a second exits at once
    except KeyboardInterrupt as stop:  # before any test ran (validation, preflight): nothing was judged
        click.echo(f"apiconform: interrupted by {getattr(stop, 'name', 'SIGINT')} before any test ran; "
                   f"nothing written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if display is not None:
            display.close()
    record = outcome.record
    if record.interrupted:  # one line: what finished is in the reports, marked interrupted
        click.echo(f"apiconform: interrupted by {record.interrupted}: {len(record.cases)} of {record.planned} cases "
                   f"finished, {len(outcome.gate.failing)} gating findings among them; reports in "
                   f"{options.reports_dir}/ (run marked interrupted); exit {EXIT_INTERRUPTED}", err=True)
        sys.exit(outcome.exit_code)
    _summary(outcome, options)
    if export_dir is not None and outcome.gate is not None:
        from apiconform.gate._export import export_pytest

        written, skipped = export_pytest(outcome.record, outcome.gate.failing, options, export_dir)
        note = f" ({skipped} multi-request or cut findings not exported)" if skipped else ""
        click.echo(f"exported {len(written)} characterization tests to {export_dir}/{note}: pytest {export_dir}")
    sys.exit(outcome.exit_code)


class EventProgress:
    """One live progress line, fed by the engine's events (rich)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[status]}"), TimeElapsedColumn(), transient=False)
        self.task: object = None
        self.failed = self.skipped = 0

    def __call__(self, event: object) -> None:
        from apiconform.engine import CaseFinished, RunStarted

        if isinstance(event, RunStarted):
            self.progress.start()
            self.task = self.progress.add_task("conformance", total=len(event.items), status="")
        elif isinstance(event, CaseFinished) and self.task is not None:
            self.failed += bool(event.outcome.case.findings)
            self.skipped += bool(event.outcome.case.skipped)
            self.progress.update(self.task, advance=1,  # type: ignore[arg-type]
                                 status=f"{self.failed} failing, {self.skipped} skipped")

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


_CATEGORY_WIDTH = max(len(c.value) for c in Category)


def _matrix_tables(record: Any, ran: list[Any], width: int) -> list[Any]:
    """The category x vendor grid, one row per category and one column per vendor (its target under the name),
    split into as many tables as the terminal needs: nothing shrinks to "sta…" at 80 columns."""
    from rich import box
    from rich.table import Table

    vendors = list(record.vendors)
    targets = record.targets
    column = max([len(v) for v in vendors] + [6]) + 3
    per_table = max(1, (width - _CATEGORY_WIDTH - 4) // column)
    tables = []
    for start in range(0, len(vendors), per_table):
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("category", no_wrap=True)
        chunk = vendors[start:start + per_table]
        for vendor in chunk:
            where = targets.get(vendor, "mock")
            table.add_column(f"{vendor}\n{'mock' if where == 'mock' else 'live'}", justify="center", no_wrap=True)
        for category in Category:
            row = [category.value]
            for vendor in chunk:
                vcases = [c for c in ran if c.vendor == vendor]
                covered = sum(1 for c in vcases if category in c.categories)
                failed = sum(1 for c in vcases for f in c.findings if f.category is category)
                row.append(f"[red]{failed} x[/red]" if failed else (f"[green]{covered} ok[/green]" if covered else "[dim]-[/dim]"))
            table.add_row(*row)
        tables.append(table)
    return tables


def _summary(outcome: object, options: RunOptions) -> None:
    from rich.console import Console
    from rich.markup import escape

    record, gate = outcome.record, outcome.gate  # type: ignore[attr-defined]
    console = Console(stderr=False, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = max(console.width, 180)  # CI logs: one table row per vendor, no wrapping
    cases = record.cases
    ran = [c for c in cases if not c.skipped]
    requests = sum(c.requests for c in cases)
    console.print(f"apiconform - {len(ran)} cases run, {len(cases) - len(ran)} skipped, {requests} requests, "
                  f"{record.duration:.0f} s, seed {record.seed}", markup=False, highlight=False)
    for table in _matrix_tables(record, ran, console.width):
        console.print(table)
    from apiconform.report import group_findings

    groups = group_findings(gate.failing)  # one line per root cause, with one reproducible example
    for group in groups[:15]:
        finding = group.findings[0]
        head = f"{finding.vendor} {finding.operation} [{finding.category.value}] {finding.code} {finding.message}"
        if len(group.findings) > 1:
            head = (f"{group.vendor} [{group.category.value}] {group.code} {group.title} "
                    f"(e.g. {finding.operation}: {finding.message})")
        console.print(f"[red]x[/red] {escape(head)}")
        for line in (finding.curl or "").splitlines():  # the standalone mock line, then the curl
            console.print(f"    [dim]{escape(line)}[/dim]")
    if len(groups) > 15:
        console.print(f"... and {len(groups) - 15} more root causes (see {options.reports_dir / 'matrix.md'})")
    skipped_reasons: dict[str, list[str]] = {}  # reason kind -> full reasons (the first says why and what to do)
    for case in cases:
        if case.skipped:
            skipped_reasons.setdefault(case.skipped.split(":")[0], []).append(case.skipped)
    for _kind, reasons in sorted(skipped_reasons.items(), key=lambda kv: -len(kv[1]))[:6]:
        console.print(f"skipped {len(reasons)}: {reasons[0]}", style="dim", markup=False)  # "[...]" is not markup
    from apiconform.report import build_coverage

    for warning in build_coverage(record)["warnings"]:  # e.g. documented responses never observed
        console.print(f"coverage: {warning}", style="yellow", markup=False, highlight=False)
    for line in gate.summary:
        if line.startswith(("  FAIL ", "  ... ")) and groups:
            continue  # each root cause is already printed above, with its curl: never twice
        console.print(line, markup=False, highlight=False)  # "[enum]" is a category, not rich markup
    _writes_summary(console, record)
    for message in outcome.messages:  # type: ignore[attr-defined]
        console.print(f"[dim]{message}[/dim]")
    console.print(f"reports: {options.reports_dir}/ (run.json, junit.xml, matrix.md, matrix.html, coverage.json, allure-results/)")
    from apiconform.gate._run import reproduce_command

    console.print(f"reproduce: {reproduce_command(options, list(options.vendors), record.seed)}", markup=False)


def _writes_summary(console: object, record: object) -> None:
    """What the run wrote on each live target, and every record it created and could not delete (to remove by hand)."""
    for vendor, report in sorted(record.writes.items()):  # type: ignore[attr-defined]
        refused = report.get("refused_requests", 0)
        if not (report.get("created") or refused or report.get("left_behind")):
            continue  # a read-only run, or writes that created nothing
        line = (f"writes on {vendor} (policy {report.get('policy')}): {report.get('created', 0)} records created, "
                f"{report.get('deleted', 0)} deleted" + (f", {refused} writes refused (records this run did not create)"
                                                         if refused else ""))
        console.print(line, markup=False, highlight=False)  # type: ignore[attr-defined]
    left = record.left_behind  # type: ignore[attr-defined]
    if left:
        console.print(f"LEFT BEHIND: {len(left)} record(s) this run created could not be deleted; "  # type: ignore[attr-defined]
                      "remove them by hand (also in run.json, writes.*.left_behind):", style="bold yellow", markup=False)
        for entry in left:
            console.print(f"  {entry['vendor']} {entry['operation']} id={entry['id']} {entry['url']} ({entry['reason']})",  # type: ignore[attr-defined]
                          markup=False, highlight=False)
