"""The gate: validate inputs, check live targets up front, run the suites with pytest, decide the exit code.

`apiconform run` is a thin layer over `execute()`. Inputs are validated before anything runs, so a
typo is one line and exit 2; an unreachable target or refused credentials is one line and exit 3,
not hundreds of red tests.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from apiconform._defaults import RUN_DEFAULTS
from apiconform.contracts import list_vendors, load_contract
from apiconform.engine import SUITES, interruptible
from apiconform.errors import EXIT_USAGE, ApiconformError, ConfigError, ContractError, TargetUnavailable, UsageError
from apiconform.findings import Category
from apiconform.gate._options import RunOptions
from apiconform.gate._verdict import gating_categories, parse_fail_on
from apiconform.report import check_reports_dir, clear_previous_reports, reports_lock, writing_reports


@dataclass
class RunOutcome:
    exit_code: int
    record: Any = None
    gate: Any = None
    reports: list[Path] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def validate_options(options: RunOptions) -> list[str]:
    """Check every input before any request: unknown names, bad contracts, bad categories. Returns vendors."""
    from apiconform.config import check_overrides, check_url, load_config
    from apiconform.engine import check_selection, did_you_mean

    check_overrides(options.max_requests, options.rate)
    if not 1 <= options.workers <= RUN_DEFAULTS.max_workers:
        raise UsageError(f"--workers {options.workers}: between 1 and {RUN_DEFAULTS.max_workers} worker processes "
                         f"(about one per CPU core is fastest)")
    if not options.suites:
        raise UsageError(f"--suite: no suite named (known: {', '.join(SUITES)}; leave the option out to run all)")
    known = list_vendors()
    settings = load_config(Path.cwd())  # bad TOML, unknown keys, bad values or base_url: exit 2 before anything runs
    for vendor in settings.targets:
        if vendor not in known:
            raise UsageError(f"{settings.source}: targets.{vendor}: unknown vendor (known vendors: {', '.join(known)})")
    for suite in options.suites:
        if suite not in SUITES:
            raise UsageError(f"unknown suite {suite!r} ({did_you_mean(suite, SUITES)}known: {', '.join(SUITES)})")
    parse_fail_on(options.fail_on)
    vendors = check_selection(options.vendors, options.targets, options.drifts, options.faults, options.operations,
                              options.shard)
    if options.live and not settings.targets:
        raise UsageError("--live: no configured targets (add [tool.apiconform.targets.VENDOR] to pyproject.toml "
                         "or [targets.VENDOR] to apiconform.toml)")
    for vendor, url in options.targets.items():
        if url is not None:  # `--target VENDOR`: its configured base_url (checked when the config was read)
            check_url(url, f"--target {vendor}")
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
    from apiconform.contracts import contract_path
    from apiconform.contracts._stamp import file_stats

    try:
        folder = contract_path(vendor).resolve().parent
        stamp = file_stats(folder)
    except (ApiconformError, OSError):
        return check_contract(vendor)
    cached = _CHECKED.get(str(folder))
    if cached is None or cached[0] != stamp:
        cached = _CHECKED[str(folder)] = (stamp, _checked_on_disk(vendor, folder, stamp))
    return cached[1]


def check_contract(vendor: str) -> Any:
    """`contracts.check_contract`, the lint (openapi-spec-validator, referencing), imported when a contract is
    linted, not at every start."""
    from apiconform import contracts

    return contracts.check_contract(vendor)


def _checked_on_disk(vendor: str, folder: Path, stats: Any = None) -> Any:
    """A clean lint is a pure function of the folder's files, the lint's code and the linting libraries' versions, so it is
    remembered on disk (the case cache's directory) and a later run skips it (~0.8 s for Eduframe). Problems are
    never remembered: they are found again, so their message is always current. A bundled contract's shipped stamp
    is asked first: it needs one digest of the folder, where the remembered lint's key needs another of the folder
    and the lint's code (a fresh CI runner paid both before linting nothing). A team contract's committed stamp
    (`contracts check --stamp`) is taken for exactly the same key: a fresh CI runner skips its lint too."""
    import json

    from apiconform import _cache
    from apiconform.contracts import CheckResult, contract_path  # `_check` imports no validator: the lint does
    from apiconform.contracts._stamp import lint_key, shipped_clean, team_clean

    shipped = shipped_clean(folder, stats)  # a bundled contract, linted clean when the tool was built
    if shipped is not None:
        return CheckResult(str(contract_path(vendor)), shipped["operations"], shipped["examples"], shipped["errata"], ())

    try:
        key = lint_key(folder)  # the lint's own code and libraries, the folder's files: an edit or upgrade re-lints
    except OSError:
        return check_contract(vendor)
    stored = _cache.read("lint", key)
    if stored is not None:
        try:
            counts = json.loads(stored)
            return CheckResult(str(contract_path(vendor)), int(counts["operations"]), int(counts["examples"]),
                               int(counts["errata"]), ())
        except (ValueError, KeyError, TypeError):
            pass
    committed = team_clean(folder, key) if _cache.enabled() else None  # `contracts check --stamp`, committed
    if committed is not None:
        return CheckResult(str(contract_path(vendor)), committed["operations"], committed["examples"],
                           committed["errata"], ())
    result = check_contract(vendor)
    if result.ok:
        _cache.write("lint", key, json.dumps({"operations": result.operations, "examples": result.examples,
                                              "errata": result.errata}))
    return result


def preflight(vendor: str, base_url: str | None = None, operations: list[str] | None = None,
              allow_writes: bool = False, max_requests: int | None = None, rate: float | None = None,
              writes: str | None = None, ledger_dir: str | None = None) -> str | None:
    """Reachability and credentials of a live target, checked once before any test (exit 3 if not).

    Every request goes through the target's Session: inside the run's budget and rate (the command line's
    `max_requests` / `rate` when given, as for every later request), with the body size
    cap, bounded decompression and the request deadline of every other request.
    The probe is the target's configured `probe`, else a safe operation among those that will run whose
    path parameters are known (fixed in config, or the caller's identity captured at login). A 401, or a
    login the vendor refuses, is "credentials refused"; a 403 after a successful login only means this
    operation is forbidden to these credentials (the tests report it). Returns a note to show, if any."""
    from apiconform.auth import fixed_path_values
    from apiconform.config import load_config
    from apiconform.engine import BudgetExhausted, FailureKind, Session, target_from_config

    target = target_from_config(vendor, load_config(Path.cwd()), base_url=base_url, allow_writes=allow_writes,
                                max_requests=max_requests, rate=rate, writes=writes)
    target.ledger_dir = ledger_dir  # the run's ledger: the preflight's requests count against the run's budget
    shown = target.redactor().url(target.base_url)
    session = Session(target)
    try:
        any_read = next((op for op in target.contract if op.is_safe), None)
        if any_read is not None:
            reach = session.send(any_read, httpx.Request("GET", target.base_url), auth="none")
            if reach.response is None:
                reason = ":".join((reach.error or "no answer").split(":")[:2]).strip()
                raise TargetUnavailable(f"target {vendor} at {shown} is unreachable: {reason}")
        identities = session.identities()
        if session.login_error:
            raise TargetUnavailable(f"target {vendor}: authentication failed ({target.redactor().text(session.login_error)})")
        probe = choose_probe(target, operations or [], identities)
        if probe is None:  # nothing authenticated to probe: are the operations that will run answered at all?
            return _all_refused(session, target, operations or [])
        fixed = fixed_path_values(target.contract, probe, target.path_params, identities)
        if set(probe.path_params()) - set(fixed):
            raise UsageError(f"target {vendor}: probe {probe.label} needs path parameter(s) {', '.join(probe.path_params())}; "
                             f"set them in targets.{vendor}.path_params")
        exchange = session.send(probe, httpx.Request("GET", target.base_url + probe.fill_path(fixed)))
        refused = None
        if exchange.status is not None and (exchange.status in _REFUSALS[1:] or 300 <= exchange.status < 400):
            refused = _all_refused(session, target, operations or [])
    except BudgetExhausted:
        return None  # the budget is spent by the preflight itself: nothing more may be sent
    finally:
        session.close()
    if exchange.failure is FailureKind.AUTH and exchange.login_answer is None:
        # refused credentials stop the run; a login answer that drifted is judged as a finding instead
        raise TargetUnavailable(f"target {vendor}: authentication failed ({target.redactor().text(exchange.error or '')})")
    if exchange.status == 401 or (exchange.status == 403 and not target.logged_in):
        raise TargetUnavailable(
            f"target {vendor}: credentials refused ({exchange.status} on {probe.label}); check the configured environment variables"
        )
    if exchange.status == 403:
        return f"target {vendor}: login accepted, but {probe.label} answered 403 to these credentials (the tests will report it)"
    return refused


_REFUSALS = (401, 403, 404)


def _all_refused(session: Any, target: Any, operations: list[str], most: int = 3) -> str | None:
    """A warning when every probe (up to `most` safe operations without path parameters, among those that will
    run) answers 401/403/404 or a redirect: the base URL, the credentials or the security scheme are then
    almost surely wrong, and the run would only report refusals."""
    selected = [op for op in target.contract if op.is_safe and not op.path_params()
                and (not operations or op.operation_id in operations or op.label in operations)]
    selected.sort(key=lambda op: (not op.security, op.action != "list", op.label))  # authenticated lists first
    answers: list[str] = []
    for op in selected[:most]:
        exchange = session.send(op, httpx.Request("GET", target.base_url + op.path))
        status = exchange.status
        if status is None or not (status in _REFUSALS or 300 <= status < 400):
            return None
        where = exchange.response.headers.get("location", "") if exchange.response is not None else ""
        answers.append(f"{op.label} {status}" + (f" -> {target.redactor().url(where)}" if where else ""))
    if not answers:
        return None
    return (f"warning: target {target.vendor}: every probe was refused or redirected ({', '.join(answers)}): check the "
            f"base URL, the credentials and the contract's security scheme, or the run will report only refusals")


def choose_probe(target: Any, operations: list[str], identities: dict[str, str]) -> Any:
    """The preflight's operation: configured, else the simplest safe, authenticated operation that will run
    and whose path parameters are all known. None: nothing safe to probe (the login alone was checked)."""
    from apiconform.auth import fixed_path_values

    contract = target.contract
    if target.probe:
        return contract.operation(target.probe)
    selected = [op for op in contract if not operations or op.operation_id in operations or op.label in operations]
    candidates = []
    for op in selected:
        if not op.is_safe or not op.security:
            continue
        known = fixed_path_values(contract, op, target.path_params, identities)
        if all(name in known for name in op.path_params()):
            candidates.append((op.action != "list", len(op.path_params()), op.label, op))
    return min(candidates, key=lambda c: c[:3])[3] if candidates else None


@functools.lru_cache(maxsize=1)
def _url_scrubber() -> Any:
    """One secret-less redactor for URLs (built once: two reproduce lines per work item built one each, ~2 s of CPU
    for a 760-item run)."""
    from apiconform.redact import Redactor

    return Redactor(())


def _target_switches(options: RunOptions, targets: dict[str, str | None]) -> list[str]:
    """What is tested and how it is drifted: `--target` (URLs redacted), `--live`, `--drift`, `--fault`
    (the same spelling for `apiconform run` and the pytest plugin)."""
    scrub = _url_scrubber()
    parts = [f"--target={vendor}={scrub.url(url)}" if url else f"--target={vendor}" for vendor, url in targets.items()]
    if options.live:
        parts.append("--live")
    return parts + [f"--drift={d}" for d in options.drifts] + [f"--fault={f}" for f in options.faults]


def _budget_switches(options: RunOptions) -> list[str]:
    """How much is sent: `--max-examples`, `--allow-writes`, `--max-requests`, `--rate`."""
    parts = [f"--max-examples={options.max_examples}"] if options.max_examples is not None else []
    if options.writes:
        parts.append(f"--writes={options.writes}")
    elif options.allow_writes:
        parts.append("--allow-writes")
    if options.max_requests is not None:
        parts.append(f"--max-requests={options.max_requests}")
    if options.rate is not None:
        parts.append(f"--rate={options.rate}")
    parts += ["--partial"] if options.partial else []
    return parts


def reproduce_command(options: RunOptions, vendors: list[str], seed: int | None) -> str:
    """`apiconform run ...` with every option that decides what is sent and judged (never a secret: URLs redacted)."""
    import shlex

    from apiconform.contracts import team_contracts_args

    parts = ["apiconform", "run", *vendors, *team_contracts_args(options.contracts)]
    if list(options.suites) != list(SUITES):
        parts.append("--suite=" + ",".join(options.suites))
    parts += _target_switches(options, options.targets)
    parts += [f"--operation={o}" for o in options.operations]
    parts += _budget_switches(options)
    if options.shard:
        parts.append(f"--shard={options.shard}")
    if seed is not None:
        parts.append(f"--seed={seed}")
    parts += _verdict_switches(options)
    return " ".join(shlex.quote(p) for p in parts)


def _fail_on_text(values: list[str]) -> str:
    """`--fail-on`'s value in canonical spellings (categories, then codes)."""
    parsed = parse_fail_on(values)
    return ",".join(sorted(c.value if isinstance(c, Category) else c for c in parsed))


def _verdict_switches(options: RunOptions) -> list[str]:
    """What decides the verdict on the same findings: `--fail-on` and `--baseline` (as resolved, so a value
    that came from the configuration file is spelled out too)."""
    parts = ["--fail-on=" + _fail_on_text(options.fail_on)] if options.fail_on else []
    if options.baseline is not None:
        parts.append(f"--baseline={options.baseline}")
    return parts


def load_history(reports_dir: Path) -> dict[str, str]:
    """The earlier runs' test history (coverage.json's `history`: test key -> last run), for a rolling run."""
    import json

    path = reports_dir / "coverage.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the coverage history for --rolling ({exc})") from None
    history = data.get("history") if isinstance(data, dict) else None
    if history is None:
        return {}
    if not isinstance(history, dict):
        raise ConfigError(f"{path}: field 'history' must be an object (test key -> ISO time)")
    return {str(k): str(v) for k, v in history.items()}


def execute(options: RunOptions, progress: Any = None, announce: Any = None) -> RunOutcome:
    """Run the gate; never raises for findings (exit 1), raises ApiconformError for exit 2/3 problems.
    `progress` is called with every engine event, `announce` with each live target's budget plan line
    before the first request."""
    from apiconform import _cache
    from apiconform.contracts import team_contracts

    # the run's contracts folder, and --no-cache (the lint, the documents and the cases), for this run only
    with team_contracts(options.contracts), _cache.switched(options.cache):
        return _run_gate(options, progress, announce)


def _run_gate(options: RunOptions, progress: Any, announce: Any) -> RunOutcome:
    from apiconform.config import load_config
    from apiconform.engine import Engine
    from apiconform.gate._verdict import load_baseline

    vendors = validate_options(options)
    # every local input is checked before any request reaches a live target
    baseline = load_baseline(options.baseline, missing_ok=False) if options.baseline else None
    check_reports_dir(options.reports_dir)
    if options.events_file is not None:
        import os

        parent = options.events_file.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise UsageError(f"--events {options.events_file}: {parent} is not a writable directory")
    configured = load_config(Path.cwd()).targets
    notes: list[str] = []
    history = load_history(options.reports_dir) if options.rolling else {}
    engine = Engine(engine_options(options, vendors, history))  # the budget plan: refused here, before any request
    if not engine.items and not engine.cut:
        raise UsageError("no tests selected: check --vendor, --operation, --suite and --shard")
    for budget_plan in engine.plans.values():
        notes.append(budget_plan.describe())
        if announce is not None:
            announce(budget_plan.describe())
    with reports_lock(options.reports_dir), interruptible(forced_exit) as stop, _shared_ledger() as ledger:
        engine.options.ledger_dir = ledger
        for vendor in vendors:  # every live target: --target, or configured ones with --live (never implied)
            if vendor in options.targets or (options.live and vendor in configured):
                note = preflight(vendor, options.targets.get(vendor), options.operations, options.allow_writes,
                                 options.max_requests, options.rate, options.writes, ledger)
                if note:
                    notes.append(note)
        return _execute(options, engine, baseline, progress, notes, stop)


def forced_exit(signum: int) -> None:
    """A second SIGINT/SIGTERM: one line, then the process ends at once (`_stop.interruptible`)."""
    import os

    from apiconform.engine import signal_name

    os.write(2, f"apiconform: stopped at once by a second {signal_name(signum)}; reports not written\n".encode())


def _execute(options: RunOptions, engine: Any, baseline: Any, progress: Any, notes: list[str],
             stop: Any = None) -> RunOutcome:
    from apiconform.gate._verdict import evaluate
    from apiconform.report import write_reports

    clear_previous_reports(options.reports_dir)
    record, crashed, unwritten = run_engine(options, engine, progress)
    if stop is not None:
        stop.armed = False  # the run is over: a first signal now no longer cuts the reports short
    outcome = RunOutcome(exit_code=EXIT_USAGE, messages=notes)
    fail_on = parse_fail_on(options.fail_on) or None
    gate = evaluate(record, fail_on=fail_on, baseline=baseline, rolling=options.rolling)
    with writing_reports(options.reports_dir):
        outcome.reports = write_reports(record, options.reports_dir, waived=gate.waived_reasons,
                                        fail_on=gating_categories(fail_on))
    outcome.record, outcome.gate, outcome.exit_code = record, gate, gate.exit_code
    if unwritten:
        # every other report is written; the one that could not be is one line and exit 2, never a silent gap
        raise ConfigError(f"{unwritten[0]}; the run finished and the other reports are in {options.reports_dir}")
    if crashed and not record.interrupted:
        # an item that crashed judged nothing: never let it pass as "nothing tested" (its siblings' results are kept)
        key, reason = crashed[0]
        raise UsageError(f"{len(crashed)} test(s) crashed before judging the API, first {key}: {reason} "
                         f"(the other results are in {options.reports_dir / 'run.json'})")
    if options.allure and not record.interrupted:
        from apiconform.report import render_allure

        outcome.messages.append(render_allure(options.reports_dir))
    return outcome


@contextlib.contextmanager
def _shared_ledger() -> Iterator[str]:
    """One budget/rate ledger directory for the whole run (preflight, then every worker process), named in the
    run's options."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="apiconform-run-") as directory:
        yield directory


def engine_options(options: RunOptions, vendors: list[str], history: dict[str, str] | None = None) -> Any:
    """The engine's view of a gate run: the engine's fields of `options` as given, with the vendors resolved, the
    configuration read from the working directory and a rolling run's history."""
    import copy
    import dataclasses

    from apiconform.engine import EngineOptions

    values = {f.name: copy.deepcopy(getattr(options, f.name)) for f in dataclasses.fields(EngineOptions)}
    values.update(vendors=vendors, partial=options.partial or options.rolling, history=dict(history or {}),
                  config_dir=Path.cwd(), item_examples={}, reserve={})
    return EngineOptions(**values)


def run_engine(options: RunOptions, engine: Any,
               progress: Any = None) -> tuple[Any, list[tuple[str, str]], list[str]]:
    """Run the plan with the engine (no pytest). Every event goes to the progress line, then to the report
    consumers (the `--events` log; Allure results as cases finish); run.json is written once at the end."""
    from apiconform.engine import RunFinished, RunInterrupted, shielded
    from apiconform.report import AllureResults, EventLog

    lost: list[str] = []  # report consumers that failed to write, as one line each
    events = EventLog(options.events_file)
    allure = AllureResults(options.reports_dir / "allure-results", engine.options.run_seed,
                           lambda item: (item_reproduce_command(options, item), pytest_command(options, item)))
    consumers = [c for c in (progress, events, allure) if c is not None]
    names = {id(events): f"--events {options.events_file}", id(allure): f"--reports-dir {options.reports_dir}"}
    record: Any = None

    def consume(event: Any) -> None:
        nonlocal record
        for consumer in list(consumers):
            try:
                consumer(event)
            except OSError as exc:  # a full disk or a vanished directory: that report stops, the run and the rest go on
                if id(consumer) not in names:
                    raise
                consumers.remove(consumer)
                lost.append(f"{names[id(consumer)]}: cannot write ({exc.strerror or exc})")
        if isinstance(event, RunFinished):
            record = event.record

    stream = engine.events()
    try:
        for event in stream:
            with shielded():  # every consumer gets the event (the --events line, Allure, progress), then the stop
                consume(event)
    except RunInterrupted as stop:  # the signal came while this loop handled an event: the engine finishes the run
        for event in _resume(stream, stop):
            consume(event)
    try:
        events.close()
    except OSError as exc:
        lost.append(f"--events {options.events_file}: cannot write ({exc.strerror or exc})")
    record.context = run_context(options, record)
    record.history = dict(engine.options.history)
    for vendor, budget_plan in engine.plans.items():
        record.context[f"plan.{vendor}"] = budget_plan.describe()
    with writing_reports(options.reports_dir):
        record.write(options.reports_dir / "run.json")
        allure.finish(record.context)
    crashed = [(c.name, c.skipped.removeprefix("crashed: ")) for c in record.cases if c.skipped.startswith("crashed: ")]
    return record, crashed, list(dict.fromkeys(lost))


def _resume(stream: Any, stop: BaseException) -> Iterator[Any]:
    """The engine's remaining events once `stop` is thrown into its stream (the interrupted run's last cases, then
    RunFinished)."""
    try:
        yield stream.throw(stop)
    except StopIteration:
        return
    yield from stream


def item_reproduce_command(options: RunOptions, item: Any) -> str:
    """The `apiconform run` line that reproduces one work item exactly (its vendor, suite and operation)."""
    from dataclasses import replace

    one = replace(options, suites=[item.suite], targets={v: u for v, u in options.targets.items() if v == item.vendor},
                  operations=options.operations if item.spec.subject == "resource" else [item.subject])
    return reproduce_command(one, [item.vendor], options.seed)


def pytest_command(options: RunOptions, item: Any) -> str:
    """The plain-pytest equivalent of one work item (same seed, switches and test id)."""
    import shlex

    from apiconform.contracts import team_contracts_args

    # the checkout's suites/ folder, else the installed package's
    where = ["suites"] if Path("suites").is_dir() else ["--pyargs", "apiconform.suites"]
    parts = ["pytest", *where, *team_contracts_args(options.contracts), f"--vendor={item.vendor}",
             f"--seed={options.seed}"]
    parts += _target_switches(options, {v: u for v, u in options.targets.items() if v == item.vendor})
    parts += _budget_switches(options)
    return shlex.join([*parts, "-k", item.key])


def run_context(options: RunOptions, record: Any) -> dict[str, str]:
    """The run's context, for every report: what ran, against what, with which switches."""
    import platform

    from apiconform import __version__
    from apiconform._cache import dist_version

    def _version(name: str) -> str:
        return dist_version(name) or "not installed"

    return {
        "apiconform": __version__, "python": platform.python_version(), "schemathesis": _version("schemathesis"),
        "hypothesis": _version("hypothesis"), "seed": str(record.seed),
        "vendors": ",".join(record.vendors), "operations": ",".join(options.operations) or "all",
        "shard": options.shard or "none", "rate": str(options.rate or "default"),
        "targets": ", ".join(f"{v}={t}" for v, t in sorted(record.targets.items())),
        "suites": ",".join(options.suites), "drifts": ",".join(options.drifts) or "none",
        "faults": ",".join(options.faults) or "none", "max_examples": str(options.max_examples or "default"),
        "allow_writes": str(options.allow_writes).lower(), "max_requests": str(options.max_requests or "default"),
        "fail_on": _fail_on_text(options.fail_on) or "all",
        "baseline": str(options.baseline) if options.baseline is not None else "none",
        "reproduce": reproduce_command(options, record.vendors, record.seed),
    }




__all__ = [
    "RunOptions",
    "RunOutcome",
    "choose_probe",
    "execute",
    "load_contract",
    "preflight",
    "reproduce_command",
    "validate_options",
]
