"""The engine: plan the work of a run, run it without pytest, and stream what happened as events.

`Engine(options).events()` yields `RunStarted`, one `CaseFinished` per work item and `RunFinished`
with the run record. The CLI, the benchmark and the pytest plugin are consumers: pytest turns each
`WorkItem` into a test, the CLI runs the plan here (in worker processes for embedded mocks) and
feeds the events to its progress line and to the reporters.

Work items and per-item seeds are computed in one place (`plan`, `item_seed`), so a verdict is the
same whichever consumer runs it, in whatever order, shard or process.
"""

from __future__ import annotations

import functools
import os
import time
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apiconform._defaults import LIVE_DEFAULTS, RUN_DEFAULTS
from apiconform._lazy import lazy_attributes
from apiconform._options import CONTRACTS_HELP, option
from apiconform.contracts import list_vendors, load_contract
from apiconform.engine import _catalog  # noqa: F401  (registers the shipped suite tests)
from apiconform.engine._registry import SUITES, TESTS, ItemRun, SuiteTest, suite_test
from apiconform.errors import ApiconformError
from apiconform.findings import CaseResult

if TYPE_CHECKING:
    from apiconform.config import Settings
    from apiconform.contracts import Contract, Operation
    from apiconform.engine._discovery import Discovery
    from apiconform.engine._generate import valid_request
    from apiconform.engine._judge import judge
    from apiconform.engine._record import Recorder
    from apiconform.engine._replay import replay
    from apiconform.engine._selection import check_selection, did_you_mean
    from apiconform.engine._session import NOT_JSON, AuthMode, BudgetExhausted, Exchange, FailureKind, Session, WriteRefused
    from apiconform.engine._stateful import run_lifecycle
    from apiconform.engine._stop import RunInterrupted, interruptible, shielded, signal_name
    from apiconform.engine._suites import run_auth, run_examples, run_idempotency, run_negative, run_properties
    from apiconform.engine._targets import MOCK_BASE_URL, Safety, Target, http_target, mock_target, target_from_config
    from apiconform.engine._writes import WriteReport
    from apiconform.redact import Redactor
    from apiconform.runrecord import RunRecord

#: the suite runners, and what a suite test of one's own (`suite_test`) builds on; imported on first use, as they
#: pull in the generator
_LAZY = {
    **dict.fromkeys(("run_auth", "run_examples", "run_idempotency", "run_negative", "run_properties"), "._suites"),
    "run_lifecycle": "._stateful",
    "valid_request": "._generate",
    "Recorder": "._record",
    **dict.fromkeys(("AuthMode", "BudgetExhausted", "Exchange", "FailureKind", "NOT_JSON", "Session", "WriteRefused",), "._session"),
    **dict.fromkeys(("MOCK_BASE_URL", "Safety", "Target", "http_target", "mock_target", "target_from_config",), "._targets"),
    **dict.fromkeys(("Discovery",), "._discovery"),
    **dict.fromkeys(("judge",), "._judge"),
    **dict.fromkeys(("check_selection", "did_you_mean",), "._selection"),
    **dict.fromkeys(("RunInterrupted", "interruptible", "shielded", "signal_name",), "._stop"),
    **dict.fromkeys(("replay",), "._replay"),
}
__getattr__ = lazy_attributes(globals(), _LAZY, __name__)



@dataclass(frozen=True, order=True)
class WorkItem:
    """One unit of work: a suite test on one vendor operation (or resource lifecycle)."""

    vendor: str
    test: str
    subject: str  # operation label or resource name

    @property
    def spec(self) -> SuiteTest:
        """The registered suite test the item runs."""
        return TESTS.get(self.test)

    @property
    def suite(self) -> str:
        return self.spec.suite

    @property
    def key(self) -> str:
        """Stable identity (seeds and shards derive from it): independent of file paths and order."""
        return f"{self.test}[{self.vendor}-{self.subject}]"

    @property
    def case_name(self) -> str:
        """The name of the CaseResult the item produces (`properties[op]`, `auth[op]`, `lifecycle[resource]`)."""
        return f"{self.spec.case}[{self.subject}]"

    @property
    def history_key(self) -> str:
        """The item in coverage.json's history (`VENDOR:CASE_NAME`), read back by a rolling run."""
        return f"{self.vendor}:{self.case_name}"


def item_seed(run_seed: int, item_key: str) -> int:
    """A per-item seed derived from the run seed and the item: reproducible and independent of order."""
    return (run_seed + zlib.crc32(item_key.encode())) % (1 << 31)


def in_shard(key: str, shard: tuple[int, int] | None) -> bool:
    return shard is None or zlib.crc32(key.encode()) % shard[1] == shard[0] - 1


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    from apiconform.errors import UsageError

    if not spec:
        return None
    try:
        index, total = (int(x) for x in spec.split("/"))
        if not 1 <= index <= total:
            raise ValueError
    except ValueError:
        raise UsageError(f"--shard expects I/N with 1 <= I <= N, got {spec!r}") from None
    return index, total


def plan(vendors: list[str], suites: Sequence[str] = SUITES, operations: set[str] | None = None,
         shard: tuple[int, int] | None = None) -> list[WorkItem]:
    """Every work item of a run, in a stable order. Tests that cannot apply are not planned."""
    items: list[WorkItem] = []
    for test in TESTS:
        if test.suite not in suites:
            continue
        for vendor in vendors:
            contract = load_contract(vendor)
            if test.subject == "operation":
                subjects = [op.label for op in contract
                            if (not operations or op.operation_id in operations)
                            and (test.applies is None or test.applies(op))]
            else:  # lifecycles: resources whose create operation is selected
                subjects = sorted({op.resource for op in contract if op.resource and op.action == "create"
                                   and (not operations or op.operation_id in operations)})
            for subject in subjects:
                item = WorkItem(vendor, test.name, subject)
                if in_shard(f"{test.name}:{vendor}:{subject}", shard):
                    items.append(item)
    return items


# --- running one item ---------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one work item produced: its verdict and what it observed (for the run record)."""

    item: WorkItem
    case: CaseResult
    observations: dict[str, Any]
    sample: dict[str, Any] | None = None


def suite_examples(suite: str, max_examples: int) -> int:
    """The negative suite uses half (its cases are costlier to generate; each invalidity needs few)."""
    return max(3, max_examples // 2) if suite == "negative" else max_examples


def examples_for(test: str, max_examples: int) -> int:
    """Generated cases per operation for one suite test."""
    return suite_examples(TESTS.get(test).suite, max_examples)


def run_test(test: str, session: Session, discovery: Discovery, subject: str, seed: int, cases: int) -> Recorder:
    """Run the registered suite test `test` on one subject (an operation's label, a resource's name): what the
    engine and the pytest suites both call."""
    spec = TESTS.get(test)
    return spec.run(ItemRun(spec, session, discovery, subject, seed, cases))


def execute_item(item: WorkItem, session: Session, discovery: Discovery, run_seed: int, max_examples: int,
                 cases: int | None = None) -> Outcome:
    """Run one work item against a prepared session.
    `cases`: the generated cases a budget plan gives the item (default: its suite's share of `max_examples`)."""
    seed = item_seed(run_seed, item.key)
    n = examples_for(item.test, max_examples) if cases is None else cases
    recorder = run_test(item.test, session, discovery, item.subject, seed, n)
    observations = {"coverage": recorder.record.coverage, "shapes": recorder.record.shapes,
                    "notes": recorder.notes, "requests": recorder.requests}
    return Outcome(item, recorder.result(), observations, recorder.sample)


# --- events ---------------------------------------------------------------------------------------------------
@dataclass
class RunStarted:
    items: list[WorkItem]


@dataclass
class CaseFinished:
    outcome: Outcome
    done: int
    total: int


@dataclass
class RunFinished:
    record: RunRecord


Event = RunStarted | CaseFinished | RunFinished


@dataclass
class EngineOptions:
    """What the engine needs to know about a run. The fields with a `Spec` are the run parameters a user sets
    (on the surfaces the spec names); the others are filled by the consumers (argv, the configuration folder,
    the ledger directory) or by the budget plan."""

    vendors: list[str] = option(factory=list, kind="list", flag="--vendor", argument=True,
                                help="only these vendors (repeatable or comma-separated; default all)")
    suites: list[str] = option(factory=lambda: list(SUITES), kind="list", flag="--suite", nonempty=True,
                               surfaces=("cli", "api"),
                               help=f"suites to run, comma-separated (default all: {','.join(SUITES)})")
    operations: list[str] = option(factory=list, kind="list", flag="--operation", nonempty=True,
                                   help="only these operationIds (repeatable or comma-separated)")
    shard: str | None = option(None, metavar="I/N", surfaces=("cli", "pytest"),
                               help="run shard I of N (merge with `apiconform report --merge`)")
    max_examples: int | None = option(None, value_type=int, minimum=1,
                                      help=f"generated cases per operation (default {RUN_DEFAULTS.max_examples})")
    seed: int = option(RUN_DEFAULTS.seed, value_type=int, show_default=True,
                       help="generation seed; the same seed gives the same verdicts")
    workers: int = option(RUN_DEFAULTS.workers, value_type=int, show_default=True, surfaces=("cli", "api"),
                          help=f"parallel worker processes (1 to {RUN_DEFAULTS.max_workers})")
    # VENDOR -> URL (None: its configured base_url)
    targets: dict[str, str | None] = option(factory=dict, kind="targets", flag="--target", metavar="VENDOR[=URL]",
                                            help="run VENDOR against a live URL, or its configured base_url (repeatable)")
    live: bool = option(False, kind="flag",
                        help="run every vendor with a configured target against it (never implied by the config alone)")
    drifts: list[str] = option(factory=list, kind="list", flag="--drift", metavar="[VENDOR:]NAME",
                               help="switch on a mock drift (repeatable)")
    faults: list[str] = option(factory=list, kind="list", flag="--fault", metavar="[VENDOR:]NAME[:ARG]",
                               help="switch on a mock fault (repeatable)")
    allow_writes: bool = option(
        LIVE_DEFAULTS.allow_writes, kind="flag",
        help="let live targets run creates, updates, actions and deletes: only on records this run created (write "
             "policy `own`, unless the target's `writes`/`expendable` config says otherwise); everything created is "
             "deleted at the end, what could not be is listed")
    # the write policy ("own" / "sandbox"; also turns writes on), else the target's config
    writes: str | None = option(
        None, choices=("own", "sandbox"),
        help="turn writes on with this policy: `own` = only records this run created; `sandbox` = any record of the "
             "target (a throw-away sandbox). Default: the target's `writes` config key, else own")
    max_requests: int | None = option(
        None, value_type=int, minimum=1,
        help=f"request budget per live target (default: its config, else {LIVE_DEFAULTS.max_requests})")
    rate: float | None = option(
        None, value_type=float,
        help=f"requests per second per live target (default: its config, else {LIVE_DEFAULTS.rate:g})")
    partial: bool = option(
        False, kind="flag", surfaces=("cli",),
        help="when a live budget cannot give every operation × suite its first case, run the tests that fit and list "
             "the ones cut (the run is incomplete: exit 1) instead of refusing (exit 2)")
    # a team's contracts folder (VENDOR/openapi.yaml) in front of the bundled vendors; None: the caller's
    contracts: Path | None = option(None, value_type=Path, path="dir", metavar="DIR", help=CONTRACTS_HELP)
    cache: bool = option(True, kind="flag", flag="--no-cache", set_to=False, surfaces=("cli",),
                         help="generate every case, parse and lint every contract afresh (no on-disk caches)")
    config_dir: Path = field(default_factory=Path.cwd)
    ledger_dir: str | None = None  # the run's shared budget/rate ledger (set by the consumer that owns the run)
    argv: list[str] = field(default_factory=list)
    history: dict[str, str] = field(default_factory=dict)  # WorkItem.history_key -> when it last ran (rolling coverage)
    # set by the budget plan (`Engine`): generated cases per live item, and the first-case cost of each
    item_examples: dict[str, int] = field(default_factory=dict)
    reserve: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.writes is not None:  # a write policy turns writes on, on every surface
            self.allow_writes = True

    @property
    def run_seed(self) -> int:
        """The run's seed (the field's default when none was given)."""
        return int(self.seed)

    @property
    def examples(self) -> int:
        """Generated cases per operation: `max_examples`, else the default."""
        return RUN_DEFAULTS.max_examples if self.max_examples is None else int(self.max_examples)



def vendor_items(values: Iterable[str], vendors: Iterable[str] | None = None) -> list[tuple[str | None, str]]:
    """`--drift`/`--fault` values (repeated, comma-separated) as (vendor, name) pairs: `VENDOR:NAME` names one of
    `vendors` (default: every known vendor), a plain `NAME` (or `NAME:ARG`) is for every vendor (None).
    The one parser of `[VENDOR:]NAME`."""
    known = set(list_vendors() if vendors is None else vendors)
    pairs: list[tuple[str | None, str]] = []
    for item in (v.strip() for value in values for v in value.split(",") if v.strip()):
        head, _, rest = item.partition(":")
        pairs.append((head, rest) if head in known else (None, item))
    return pairs


def per_vendor(values: list[str], vendor: str) -> tuple[str, ...]:
    """`NAME` applies to every vendor, `VENDOR:NAME` to one."""
    return tuple(name for owner, name in vendor_items(values) if owner in (None, vendor))


class Sessions:
    """One Session + Discovery per vendor per process. A live target is shared by the whole process (one
    budget, one rate, one login); an embedded mock starts every item from its initial state."""

    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self._cache: dict[str, tuple[Session, Discovery]] = {}
        self._pristine: dict[str, tuple[bytes, Any]] = {}  # an embedded mock's initial state (MockContext.snapshot)

    @functools.cached_property
    def settings(self) -> Settings:
        """The project's configuration, read once per process (not once per target built)."""
        from apiconform.config import load_config

        return load_config(self.options.config_dir)

    def is_live(self, vendor: str) -> bool:
        return vendor in self.options.targets or (self.options.live and vendor in self.settings.targets)

    def build_target(self, vendor: str) -> Target:
        from apiconform.engine._targets import mock_target, target_from_config

        o = self.options
        settings = self.settings
        if self.is_live(vendor):
            from apiconform.engine._ledger import shard_share

            target = target_from_config(vendor, settings, base_url=o.targets.get(vendor), allow_writes=o.allow_writes,
                                        max_requests=o.max_requests, rate=o.rate, writes=o.writes)
            target.safety = shard_share(target.safety, parse_shard(o.shard))
            target.ledger_dir = o.ledger_dir
            return target
        return mock_target(vendor, drifts=per_vendor(o.drifts, vendor), faults=per_vendor(o.faults, vendor),
                           seed=o.run_seed)

    def get(self, vendor: str) -> tuple[Session, Discovery]:
        if vendor not in self._cache:
            from apiconform.engine._discovery import Discovery
            from apiconform.engine._session import Session

            target = self.build_target(vendor)
            if target.kind == "mock" and target.app is target.app.mock:
                self._pristine[vendor] = target.app.mock.ctx.snapshot()
            session = Session(target)
            self._cache[vendor] = (session, Discovery(session))
        return self._cache[vendor]

    def for_item(self, vendor: str) -> tuple[Session, Discovery, Session | None]:
        """(session, discovery, owned): `owned` is closed after the item."""
        from apiconform.engine._discovery import Discovery
        from apiconform.engine._session import Session

        session, discovery = self.get(vendor)
        if session.target.kind != "mock":
            return session, discovery, None
        if vendor in self._pristine:  # rewind the mock (cheap) ...
            session.target.app.mock.ctx.restore(self._pristine[vendor])
            fresh = Session(session.target)
        else:  # ... or, behind fault middleware (which may keep state of its own), build a new one
            fresh = Session(self.build_target(vendor))
        return fresh, Discovery(fresh), fresh

    def cleanup(self, seconds: float | None = None) -> list[WriteReport]:
        """Delete what this process's live sessions created (newest first, bounded in time) and return their write
        reports (`engine._writes.WriteReport`: created, deleted, refused, left behind). The runner calls it in a
        `finally`, so an interrupted run reaches it too; a second call finds nothing left to do."""
        reports = []
        for session, _ in self._cache.values():
            if session.target.kind == "mock":
                continue
            report = session.cleanup() if seconds is None else session.cleanup(seconds)
            if report is not None:
                reports.append(report)
        return reports

    def close(self) -> None:
        for session, _ in self._cache.values():
            session.close()


@dataclass
class WritesDone:
    """A worker's clean-up is over: the write reports of its live targets (sent after its last outcome)."""

    reports: list[WriteReport]


def run_items(options: EngineOptions, items: list[WorkItem], writes: list[WriteReport] | None = None) -> Iterator[Outcome]:
    """Run items one after another in this process; at the end (or when stopped) clean up what the run created
    on live targets, and add their write reports to `writes`."""
    from apiconform import _cache
    from apiconform.contracts import team_contracts

    # the run's contracts folder and --no-cache, in whichever process runs the items
    with team_contracts(options.contracts), _cache.switched(options.cache):
        yield from _run_items(options, items, writes)


def _run_items(options: EngineOptions, items: list[WorkItem], writes: list[Any] | None) -> Iterator[Outcome]:
    from apiconform.engine._stop import raise_pending

    sessions = Sessions(options)
    # the first cases still to run per vendor (kept back by the live plan), counted down as items run: summing the
    # rest of the list for every item was quadratic (~2 s of CPU for a 760-item run)
    later: dict[str, int] = {}
    for i in items:
        later[i.vendor] = later.get(i.vendor, 0) + options.reserve.get(i.key, 0)
    try:
        for item in items:
            raise_pending()  # a stop a finalizer swallowed (engine._stop._swallowed) is taken here at the latest
            later[item.vendor] -= options.reserve.get(item.key, 0)
            owned = None
            built = False
            try:
                session, discovery, owned = sessions.for_item(item.vendor)
                built = True
                if item.key in options.reserve:  # a live plan: keep the first cases of the tests still to run
                    session.reserve = later[item.vendor]
                outcome = execute_item(item, session, discovery, options.run_seed, options.examples,
                                       options.item_examples.get(item.key))
            except Exception as exc:  # a crash judged nothing: recorded as such, the other items still run
                if os.environ.get("APICONFORM_DEBUG") or (isinstance(exc, ApiconformError) and not built):
                    raise  # a target that cannot be built (configuration, credentials): one error, not a crash per item
                case = CaseResult(vendor=item.vendor, operation=item.subject, suite=item.suite, name=item.key,
                                  skipped=f"crashed: {type(exc).__name__}: {exc}")
                outcome = Outcome(item, case, {"coverage": {}, "shapes": {}, "notes": [], "requests": 0})
            finally:
                if owned is not None:
                    owned.close()
            yield outcome
    finally:
        import sys

        from apiconform.engine._stop import STOP_GRACE, shielded

        # stopped (a signal, the generator closed early): the clean-up must end within the worker's grace period
        stopping = sys.exc_info()[0] is not None
        with shielded():  # a first SIGINT/SIGTERM never cuts the sessions' closing (clean-up) short
            try:
                # what the run created on live targets, deleted; the rest listed
                reports = sessions.cleanup(STOP_GRACE * 0.6 if stopping else None)
                if writes is not None:
                    writes.extend(reports)
            finally:
                sessions.close()


def _run_unit(options: EngineOptions, items: list[WorkItem], emit: Callable[[Outcome | WritesDone], None]) -> None:
    """One unit in a worker process (`_stop.WorkerPool`): each outcome reaches the parent as soon as it exists
    (progress, the first finding and the Allure results stream instead of arriving a unit at a time). Interrupted,
    run_items' `finally` still runs first; what is emitted in a `finally` here still reaches the parent (the unit's
    write reports, after its clean-up)."""
    writes: list[WriteReport] = []
    try:
        for outcome in run_items(options, items, writes):
            emit(outcome)
    finally:
        emit(WritesDone(writes))


def chunks(items: list[WorkItem], workers: int, live: set[str]) -> list[list[WorkItem]]:
    """Fewer, larger work units: every live vendor's items in one unit (its budget, rate and login hold
    for the whole run), the embedded mocks' items dealt round-robin into a few units per worker."""
    units: list[list[WorkItem]] = [[i for i in items if i.vendor == v] for v in sorted(live)]
    units = [u for u in units if u]
    mocked = [i for i in items if i.vendor not in live]
    count = max(1, min(len(mocked), workers * 4))
    dealt: list[list[WorkItem]] = [mocked[k::count] for k in range(count)] if mocked else []
    return units + [d for d in dealt if d]


class Engine:
    """Plans a run and runs it; `events()` streams the progress, `run()` returns the record."""

    def __init__(self, options: EngineOptions) -> None:
        from apiconform.contracts import team_contracts

        self.options = options
        self.plans: dict[str, Any] = {}  # live vendor -> its BudgetPlan
        self.cut: list[WorkItem] = []  # items a partial plan did not run
        self.writes: list[Any] = []  # the live targets' write reports, filled as their clean-up ends
        with team_contracts(options.contracts):
            vendors = options.vendors or list_vendors()
            self.vendors = vendors
            self.items = plan(vendors, options.suites, set(options.operations) or None, parse_shard(options.shard))
            self._plan_budgets()

    def _plan_budgets(self) -> None:
        """Fit every live vendor's items into its budget before any request (engine._budget): fewer generated
        cases where the full plan does not fit, an error (or, with `partial`, a slice) where the first cases do not."""
        from apiconform.engine._budget import make_plan
        from apiconform.engine._ledger import shared_store

        o = self.options
        sessions = Sessions(o)
        shard = parse_shard(o.shard)
        for vendor in self.vendors:
            if not sessions.is_live(vendor):
                continue
            target = sessions.build_target(vendor)
            mine = [i for i in self.items if i.vendor == vendor]
            share = ""
            if shard is not None and shared_store() is not None:  # one budget for the whole run: plan all shards
                whole = plan([vendor], o.suites, set(o.operations) or None, None)
                share = f", shared by {shard[1]} shards through {shared_store()}"
            else:
                whole = mine
                if shard is not None:
                    share = f", this shard's 1/{shard[1]} share"
            budget_plan = make_plan(vendor, target.contract, whole, target.safety, o.examples, o.partial, o.history, share)
            keep = set(mine)
            budget_plan.run = [i for i in budget_plan.run if i in keep]
            budget_plan.cut = [i for i in budget_plan.cut if i in keep]
            self.plans[vendor] = budget_plan
            self.cut += budget_plan.cut
            for item in budget_plan.run:
                o.item_examples[item.key] = budget_plan.cases(item)
                o.reserve[item.key] = budget_plan.costs[item.key].first
        cut = set(self.cut)
        self.items = [i for i in self.items if i not in cut]

    def events(self) -> Iterator[Event]:
        """RunStarted, one CaseFinished per finished item, RunFinished. Interrupted (SIGINT/SIGTERM handled by
        `_stop.interruptible`, a KeyboardInterrupt, or `RunInterrupted` thrown into this generator at a yield), the
        run stops - its workers close their sessions - and RunFinished carries the record of every item that
        finished, marked interrupted."""
        from apiconform.engine._budget import CUT_REASON
        from apiconform.engine._stop import RunInterrupted, resume
        from apiconform.runrecord import now_iso

        started, clock = now_iso(), time.time()
        yield RunStarted(list(self.items) + list(self.cut))
        outcomes: list[Outcome] = []
        total = len(self.items) + len(self.cut)
        for item in self.cut:  # named in every report: a cut test is never silently missing
            case = CaseResult(vendor=item.vendor, operation=item.subject, suite=item.suite, name=item.case_name,
                              skipped=CUT_REASON)
            outcomes.append(Outcome(item, case, {"coverage": {}, "shapes": {}, "notes": [], "requests": 0}))
            yield CaseFinished(outcomes[-1], len(outcomes), total)
        interrupted = ""
        source = self._outcomes()
        try:
            try:
                for outcome in source:
                    if self._writes_done(outcome):
                        continue
                    outcomes.append(outcome)
                    yield CaseFinished(outcome, len(outcomes), total)
            except KeyboardInterrupt as stop:
                interrupted = stop.name if isinstance(stop, RunInterrupted) else "SIGINT"
                for outcome in resume(source, stop):  # finished while the workers stopped
                    if self._writes_done(outcome):
                        continue
                    outcomes.append(outcome)
                    yield CaseFinished(outcome, len(outcomes), total)
        finally:
            source.close()
        ordered = sorted(outcomes, key=lambda o: o.item)
        from apiconform.contracts import team_contracts

        with team_contracts(self.options.contracts):
            record = build_record(self.options, self.vendors, [o.case for o in ordered],
                                  [o.observations for o in ordered], started, time.time() - clock, self.writes)
        if interrupted:
            record.interrupted, record.planned = interrupted, total
        yield RunFinished(record)

    def _writes_done(self, message: object) -> bool:
        """A worker's write reports (sent after its clean-up) join the run's; True for such a message."""
        if isinstance(message, WritesDone):
            self.writes.extend(message.reports)
            return True
        return False

    def run(self) -> RunRecord:
        """Run everything; the run record."""
        record: RunRecord | None = None
        for event in self.events():
            if isinstance(event, RunFinished):
                record = event.record
        if record is None:
            raise RuntimeError("the engine's events ended without RunFinished")
        return record

    def _outcomes(self) -> Generator[Outcome, None, None]:
        workers = max(1, int(self.options.workers))
        if workers == 1 or len(self.items) < 2:
            yield from run_items(self.options, self.items, self.writes)
            return
        from apiconform.engine._stop import WorkerPool, resume

        sessions = Sessions(self.options)
        live = {v for v in self.vendors if sessions.is_live(v)}
        units = chunks(self.items, workers, live)
        pool = WorkerPool(functools.partial(_run_unit, self.options), units, workers).results()
        try:
            yield from pool
        except KeyboardInterrupt as stop:  # the workers stop; what they finish meanwhile still counts
            yield from resume(pool, stop)
            raise
        finally:
            pool.close()


def documented_enums(contract: Contract, op: Operation) -> dict[str, list[Any]]:
    """Enum values the contract documents in success bodies, keyed like the observed ones."""
    from apiconform.contracts import items_of, properties_of

    found: dict[str, list[Any]] = {}

    def walk(schema: Any, path: tuple[str, ...], status: str, depth: int) -> None:
        schema = contract.resolve(schema) or {}
        if depth > 8 or not isinstance(schema, dict):
            return
        if "enum" in schema:
            found[f"{status} " + "/".join(path)] = [v for v in schema["enum"] if v is not None]
        props, _ = properties_of(contract, schema)
        for key, sub in props.items():
            walk(sub, path + (key,), status, depth + 1)
        items = items_of(contract, schema)
        if items:
            walk(items, path, status, depth + 1)

    for status, response in op.responses.items():
        if not status.startswith("2"):
            continue
        for media in response.content.values():
            if media.schema_pointer:
                walk(contract.at(media.schema_pointer), (), status, 0)
    return found


def scrub_arg(redactor: Redactor, arg: str) -> str:
    """One command-line argument with any URL in it redacted (`--target=VENDOR=URL`, `VENDOR=URL`)."""
    import re

    match = re.search(r"https?://", arg)
    if match is None:
        return str(redactor.text(arg))
    return arg[: match.start()] + str(redactor.url(arg[match.start():]))


def build_record(options: EngineOptions, vendors: list[str], cases: Iterable[CaseResult],
                 observations: list[dict[str, Any]], started: str, duration: float,
                 writes: Iterable[WriteReport] = ()) -> RunRecord:
    """The run record of a run (the engine's and the pytest plugin's alike): cases, observations, documented
    operations, targets, command line (URLs redacted) and the live targets' write reports."""
    from apiconform.config import load_config
    from apiconform.redact import Redactor
    from apiconform.runrecord import RunRecord, merge_coverage, merge_shape_maps, now_iso

    record = RunRecord()
    record.started, record.finished, record.duration = started, now_iso(), round(duration, 3)
    record.seed = options.run_seed
    scrub = Redactor(())
    record.argv = [scrub_arg(scrub, str(a)) for a in options.argv]
    settings = load_config(options.config_dir)
    live = set(options.targets) | (set(settings.targets) if options.live else set())
    record.targets = {
        v: scrub.url(options.targets.get(v) or settings.target(v).base_url or load_contract(v).server_url or "")
        if v in live else "mock" for v in vendors
    }
    for case in cases:
        record.add_case(case)
    for report in writes:
        record.writes[report.vendor] = report.to_dict()
    record.vendors = sorted(set(record.vendors) | set(vendors))
    record.coverage = merge_coverage(*(o["coverage"] for o in observations))
    record.shapes = merge_shape_maps(*(o["shapes"] for o in observations))
    for vendor in vendors:
        contract = load_contract(vendor)
        for op in contract:
            record.document_operation(vendor, op.label, list(op.responses), documented_enums(contract, op),
                                      no_success=no_success(contract, op))
    return record


def no_success(contract: Contract, op: Operation) -> str:
    """Why the contract says a run never gets `op`'s documented success: declared forbidden to the configured
    credentials (`x-apiconform-forbidden`), or the auth flow's own login/refresh (the run logs in through it, but
    its test cases never carry the target's real secrets or tokens); "" otherwise."""
    from apiconform.auth import auth_config, select_scheme

    forbidden = op.definition.get("x-apiconform-forbidden")
    if forbidden:
        return f"the contract declares it forbidden to these credentials: {forbidden}"
    picked = select_scheme(contract)
    config = auth_config(picked[1]) if picked else {}
    if op.path in (config.get("login"), config.get("refresh")):
        return "the auth flow's own login/refresh: its test cases never send the target's real secrets or tokens"
    return ""


__all__ = [
    "MOCK_BASE_URL",
    "NOT_JSON",
    "SUITES",
    "TESTS",
    "AuthMode",
    "BudgetExhausted",
    "CaseFinished",
    "Discovery",
    "Engine",
    "EngineOptions",
    "Event",
    "Exchange",
    "FailureKind",
    "ItemRun",
    "Outcome",
    "Recorder",
    "RunFinished",
    "RunInterrupted",
    "RunStarted",
    "Safety",
    "Session",
    "Sessions",
    "SuiteTest",
    "Target",
    "WorkItem",
    "WriteRefused",
    "WritesDone",
    "build_record",
    "check_selection",
    "did_you_mean",
    "documented_enums",
    "execute_item",
    "http_target",
    "interruptible",
    "item_seed",
    "judge",
    "mock_target",
    "plan",
    "replay",
    "run_auth",
    "run_examples",
    "run_idempotency",
    "run_items",
    "run_lifecycle",
    "run_negative",
    "run_properties",
    "run_test",
    "shielded",
    "signal_name",
    "suite_test",
    "target_from_config",
    "valid_request",
]
