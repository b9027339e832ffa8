"""`apiconform run`: the CI gate, with a progress line and a one-screen summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from apiconform._options import values_from
from apiconform.cli._options import run_options
from apiconform.engine import interruptible
from apiconform.errors import EXIT_INTERRUPTED
from apiconform.findings import Category
from apiconform.gate._options import RunOptions
from apiconform.gate._run import execute, forced_exit


@click.command("run")
@run_options(RunOptions)
def run(**given: Any) -> None:
    """Run the conformance gate (default: every vendor, every suite, embedded mocks) and write reports.

    Exit 0 conformant, 1 findings, 2 usage/contract/config error, 3 target unreachable or auth failed,
    4 interrupted (SIGINT/SIGTERM: the reports hold the cases that finished, marked interrupted).
    """
    from apiconform.config import load_config

    options = RunOptions(**values_from(RunOptions, "cli", given), argv=sys.argv[1:])
    settings = load_config(Path.cwd())  # the gate's keys: the command line wins over each
    if not options.fail_on:
        options.fail_on = list(settings.fail_on)
    if options.baseline is None:
        options.baseline = settings.baseline
    if options.baseline is None and Path("apiconform-baseline.yaml").is_file():
        options.baseline = Path("apiconform-baseline.yaml")
    show_progress = sys.stderr.isatty() if options.progress is None else options.progress
    with interruptible(forced_exit) as stop:  # armed from here: a signal while inputs are validated stops the run
        _gate(options, show_progress, stop, options.export_dir)


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
