"""The gate: validate inputs, check live targets up front, run the suites with pytest, decide the exit code.

`apiconform run` is a thin layer over `execute()`. Inputs are validated before anything runs, so a
typo is one line and exit 2; an unreachable target or refused credentials is one line and exit 3,
not hundreds of red tests.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx

from .contracts import check_contract, list_vendors, load_contract
from .errors import EXIT_USAGE, ApiconformError, ContractError, TargetUnavailable, UsageError
from .findings import Category

SUITE_FILES = {
    "examples": "test_examples.py",
    "properties": "test_properties.py",
    "stateful": "test_stateful.py",
    "negative": "test_negative.py",
}


@dataclass
class RunOptions:
    vendors: list[str] = field(default_factory=list)
    suites: list[str] = field(default_factory=lambda: list(SUITE_FILES))
    max_examples: int | None = None
    seed: int | None = None
    workers: int = 1
    targets: dict[str, str] = field(default_factory=dict)
    drifts: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    fail_on: list[str] = field(default_factory=list)
    baseline: Path | None = None
    reports_dir: Path = Path("reports")
    shard: str | None = None
    allow_writes: bool = False
    max_requests: int | None = None
    rate: float | None = None
    operations: list[str] = field(default_factory=list)
    allure: bool = True
    progress: bool = True
    pytest_args: list[str] = field(default_factory=list)


@dataclass
class RunOutcome:
    exit_code: int
    record: Any = None
    gate: Any = None
    pytest_exit: int = 0
    reports: list[Path] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def suites_dir() -> Path:
    """The suites shipped with apiconform (next to contracts/ in the checkout)."""
    here = Path.cwd() / "suites"
    if (here / "conftest.py").is_file():
        return here
    return Path(__file__).resolve().parents[2] / "suites"


def validate_options(options: RunOptions) -> list[str]:
    """Check every input before any request: unknown names, bad contracts, bad categories. Returns vendors."""
    from .mock.drifts import resolve_drifts
    from .mock.faults import wrap_faults

    from .config import load_config

    from ._settings import check_cli

    check_cli(options.max_requests, options.rate)
    known = list_vendors()
    vendors = options.vendors or known
    settings = load_config(Path.cwd())  # bad TOML, unknown keys, bad base_url: exit 2 before anything runs
    for vendor in settings.targets:
        if vendor not in known:
            raise UsageError(f"{settings.source}: targets.{vendor}: unknown vendor (known vendors: {', '.join(known)})")
    for vendor in vendors:
        if vendor not in known:
            raise UsageError(f"unknown vendor {vendor!r} (known vendors: {', '.join(known)})")
    for suite in options.suites:
        if suite not in SUITE_FILES:
            raise UsageError(f"unknown suite {suite!r} (known: {', '.join(SUITE_FILES)})")
    for category in options.fail_on:
        Category.parse(category)
    for vendor in options.targets:
        if vendor not in known:
            raise UsageError(f"--target names unknown vendor {vendor!r} (known vendors: {', '.join(known)})")
    from ._settings import check_url

    for vendor, url in options.targets.items():
        check_url(url, f"--target {vendor}")
    for vendor, spec in settings.targets.items():
        if "base_url" in spec:
            check_url(str(spec["base_url"]), f"{settings.source}: targets.{vendor}.base_url")
    resolve_drifts(_strip_vendor(options.drifts, known))
    wrap_faults(lambda *a: None, _strip_vendor(options.faults, known))
    if options.shard is not None:
        try:
            index, total = (int(x) for x in options.shard.split("/"))
            assert 1 <= index <= total
        except (ValueError, AssertionError):
            raise UsageError(f"--shard expects I/N with 1 <= I <= N, got {options.shard!r}") from None
    for vendor in vendors:
        result = _checked(vendor)
        if not result.ok:
            raise ContractError(f"contract {vendor} is invalid: {result.problems[0]} "
                                f"(run `apiconform contracts check {vendor}` for all {len(result.problems)})")
    return vendors


_CHECKED: dict[str, tuple[Any, Any]] = {}  # contract folder -> (file stamps, check result)


def _checked(vendor: str) -> Any:
    """`check_contract`, remembered per process while no file of the vendor's contract folder changes
    (repeated runs in one process - tests, scripts/determinism.py - skip the seconds-long lint)."""
    from .contracts import contract_path

    try:
        folder = contract_path(vendor).resolve().parent
        stamp = tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()))
    except (ApiconformError, OSError):
        return check_contract(vendor)
    cached = _CHECKED.get(str(folder))
    if cached is None or cached[0] != stamp:
        cached = _CHECKED[str(folder)] = (stamp, check_contract(vendor))
    return cached[1]


def _strip_vendor(values: list[str], vendors: list[str]) -> list[str]:
    out = []
    for item in (v.strip() for value in values for v in value.split(",")):
        head, _, rest = item.partition(":")
        out.append(rest if head in vendors else item)
    return [v for v in out if v]


def preflight(vendor: str, base_url: str | None = None) -> None:
    """Reachability and credentials of a live target, checked once before any test (exit 3 if not).

    Both requests go through the target's Session: inside the run's budget and rate, with the body size
    cap, bounded decompression and the request deadline of every other request."""
    from .config import load_config, target_from_config
    from .exchange import BudgetExhausted, Session

    target = target_from_config(vendor, load_config(Path.cwd()), base_url=base_url)
    shown = target.redactor().url(target.base_url)
    probe = next((op for op in target.contract if op.is_safe and op.security and not op.path_params()), None)
    any_read = probe or next((op for op in target.contract if op.is_safe), None)
    session = Session(target)
    try:
        if any_read is not None:
            reach = session.send(any_read, httpx.Request("GET", target.base_url), auth="none")
            if reach.response is None:
                reason = ":".join((reach.error or "no answer").split(":")[:2]).strip()
                raise TargetUnavailable(f"target {vendor} at {shown} is unreachable: {reason}")
        if probe is None:
            return
        exchange = session.send(probe, httpx.Request("GET", target.base_url + probe.path))
    except BudgetExhausted:
        return  # the budget is spent by the preflight itself: nothing more may be sent
    finally:
        session.close()
    if exchange.error and "AuthFailed" in exchange.error:
        raise TargetUnavailable(f"target {vendor}: authentication failed ({target.redactor().text(exchange.error)})")
    if exchange.status in (401, 403):
        raise TargetUnavailable(
            f"target {vendor}: credentials refused ({exchange.status} on {probe.label}); check the configured environment variables"
        )


def pytest_arguments(options: RunOptions, vendors: list[str]) -> list[str]:
    directory = suites_dir()
    args = [str(directory / SUITE_FILES[s]) for s in options.suites]
    args += ["--rootdir", str(directory.parent), "-p", "no:cacheprovider", "--assert=plain", "--apiconform-record",
             "--reports-dir", str(options.reports_dir), "--alluredir", str(options.reports_dir / "allure-results")]
    args += [f"--vendor={v}" for v in vendors]
    args += [f"--target={v}={url}" for v, url in options.targets.items()]
    args += [f"--drift={d}" for d in options.drifts] + [f"--fault={f}" for f in options.faults]
    args += [f"--operation={o}" for o in options.operations]
    if options.max_examples is not None:
        args.append(f"--max-examples={options.max_examples}")
    if options.seed is not None:
        args.append(f"--seed={options.seed}")
    if options.shard:
        args.append(f"--shard={options.shard}")
    if options.allow_writes:
        args.append("--allow-writes")
    if options.max_requests is not None:
        args.append(f"--max-requests={options.max_requests}")
    if options.rate is not None:
        args.append(f"--rate={options.rate}")
    if options.workers > 1:
        args += ["-p", "xdist", "-n", str(options.workers)]
    else:
        args += ["-p", "no:xdist"]
    return args + list(options.pytest_args)


def execute(options: RunOptions, plugins: list[Any] | None = None) -> RunOutcome:
    """Run the gate; never raises for findings (exit 1), raises ApiconformError for exit 2/3 problems."""
    import pytest

    from .gate import evaluate, load_baseline
    from .report import load_run, write_reports

    from .config import load_config

    from ._ledger import ENV
    from ._settings import check_reports_dir

    vendors = validate_options(options)
    # every local input is checked before any request reaches a live target
    baseline = load_baseline(options.baseline, missing_ok=False) if options.baseline else None
    check_reports_dir(options.reports_dir)
    configured = load_config(Path.cwd()).targets
    live = [v for v in vendors if v in options.targets or v in configured]
    with _shared_ledger(ENV):
        for vendor in live:  # every live target, from --target or from configuration
            preflight(vendor, options.targets.get(vendor))
        return _execute(options, vendors, baseline, plugins)


def _execute(options: RunOptions, vendors: list[str], baseline: Any, plugins: list[Any] | None) -> RunOutcome:
    import pytest

    from .gate import evaluate
    from .report import load_run, write_reports

    for stale in ("allure-results", "allure-report"):
        shutil.rmtree(options.reports_dir / stale, ignore_errors=True)
    (options.reports_dir / "run.json").unlink(missing_ok=True)
    crashes = _Crashes()
    code = int(pytest.main(pytest_arguments(options, vendors), plugins=[crashes, *(plugins or [])]))
    outcome = RunOutcome(exit_code=EXIT_USAGE, pytest_exit=code)
    if code in (2, 3, 4):  # interrupted, internal error, usage error
        raise UsageError(f"the test run stopped early (pytest exit {code}); see the output above")
    if code == 5:
        raise UsageError("no tests selected: check --vendor, --operation and --suite")
    record = load_run(options.reports_dir)
    if crashes.failed:
        # a test that failed without reporting a verdict judged nothing: never let it pass as "nothing tested"
        nodeid, reason = crashes.failed[0]
        raise UsageError(f"{len(crashes.failed)} test(s) crashed before judging the API, first {nodeid}: {reason}")
    fail_on = {Category.parse(c) for c in options.fail_on} or None
    gate = evaluate(record, fail_on=fail_on, baseline=baseline)
    outcome.reports = write_reports(record, options.reports_dir, waived=gate.waived_reasons, fail_on=fail_on)
    outcome.record, outcome.gate, outcome.exit_code = record, gate, gate.exit_code
    if options.allure:
        from ._cli_report import render_allure

        outcome.messages.append(render_allure(options.reports_dir))
    return outcome


@contextlib.contextmanager
def _shared_ledger(env: str) -> Iterator[None]:
    """One budget/rate ledger directory for the whole run (preflight, then every xdist worker)."""
    import os
    import tempfile

    previous = os.environ.get(env)
    with tempfile.TemporaryDirectory(prefix="apiconform-run-") as directory:
        os.environ[env] = directory
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(env, None)
            else:
                os.environ[env] = previous


class _Crashes:
    """Collects tests that failed or errored without reporting a CaseResult (a crash, not a finding)."""

    def __init__(self) -> None:
        self.failed: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: Any) -> None:
        from .pytest_plugin import _CASE_KEY

        if not report.failed or any(key == _CASE_KEY for key, _ in report.user_properties):
            return
        lines = [line.strip() for line in str(report.longreprtext or "").splitlines() if line.strip()]
        error = next((line[1:].strip() for line in lines if line.startswith("E ")), lines[-1] if lines else "failed")
        self.failed.append((report.nodeid, error))


class Progress:
    """A pytest plugin that replaces the dots with one live progress line per run (rich)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

        self.progress = RichProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[status]}"), TimeElapsedColumn(), transient=False)
        self.task: Any = None
        self.failed = 0
        self.skipped = 0
        self.started = time.perf_counter()

    def pytest_collection_finish(self, session: Any) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("conformance", total=len(session.items), status="")

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("conformance", total=len(ids), status="")

    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.task is None:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.failed += report.failed
            self.skipped += report.skipped
            self.progress.update(self.task, advance=1, status=f"{self.failed} failing, {self.skipped} skipped")

    def pytest_sessionfinish(self) -> None:
        if self.task is not None:
            self.progress.stop()


__all__ = ["Progress", "RunOptions", "RunOutcome", "SUITE_FILES", "execute", "load_contract", "preflight", "validate_options"]
