"""apiconform's pytest plugin: options, targets, parametrisation by operation, markers and the run record.

`pytest suites` / `pytest --pyargs apiconform.suites` work on their own (the `pytest11` entry point
registers this plugin); `apiconform run`
calls pytest with the same options and then reads the run record this plugin writes.
Each test reports one `CaseResult`; under pytest-xdist it travels to the controller through
`user_properties`, so parallel runs produce one record.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from apiconform.contracts import list_vendors
from apiconform.findings import CATEGORY_DESCRIPTIONS, CaseResult, Category

if TYPE_CHECKING:
    from apiconform.contracts import Operation
    from apiconform.engine import Discovery, Recorder, Session, Sessions, Target

_CASE_KEY = "apiconform_case"
_OBS_KEY = "apiconform_obs"

def pytest_addoption(parser: pytest.Parser) -> None:
    from apiconform._options import declared
    from apiconform.gate._options import RunOptions

    group = parser.getgroup("apiconform")
    for item in declared(RunOptions, "pytest"):  # the run parameters, declared once with the engine's options
        spec = item.spec
        shown = f" (default: {item.default})" if spec.show_default else ""
        kwargs: dict[str, Any] = {"dest": _dest(item.name), "help": spec.help + shown,
                                  "metavar": spec.metavar or ("{" + ",".join(spec.choices) + "}" if spec.choices else
                                                              item.flag.removeprefix("--").replace("-", "_").upper())}
        if spec.kind == "flag":
            kwargs.update(action="store_true", default=False)
        elif spec.kind in ("list", "targets"):
            kwargs.update(action="append", default=[])
        else:
            kwargs.update(type=spec.value_type, default=item.default)
            if spec.choices:
                kwargs["choices"] = spec.choices
        if spec.kind == "flag":
            del kwargs["metavar"]
        group.addoption(item.flag, **kwargs)
    group.addoption("--apiconform-record", action="store_true", default=False,
                    help="write run.json and the reports (to --reports-dir) at the end of the session")
    group.addoption("--traffic-dir", default=None, metavar="DIR",
                    help="apiconform_traffic: write each test's judged client traffic to DIR/<test>-<vendor>.har")


def _dest(name: str) -> str:
    """A run parameter's attribute on pytest's options (prefixed: other plugins have a `seed` too)."""
    return f"apiconform_{name}"


def run_options(config: pytest.Config) -> Any:
    """This pytest session's run options, from the options it was given (every other field keeps its default):
    the engine's options, the seed and the cases per operation all read from here."""
    from apiconform._options import declared, values_from
    from apiconform.errors import UsageError
    from apiconform.gate._options import RunOptions

    given = {item.name: config.getoption(_dest(item.name)) for item in declared(RunOptions, "pytest")}
    try:
        values = values_from(RunOptions, "pytest", given)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    # the invocation directory, like `apiconform run`'s preflight: the config belongs to the user's project, not
    # to the checkout the suites live in (--rootdir)
    return RunOptions(**values, config_dir=Path(str(config.invocation_params.dir)), ledger_dir=_ledger_dir(config))


def _use_contracts(config: pytest.Config) -> None:
    """`--contracts DIR` or the `contracts` config key, in the controller and in every xdist worker."""
    from apiconform.config import contracts_setting
    from apiconform.contracts import use_contracts
    from apiconform.errors import ApiconformError

    value, source = config.getoption("--contracts", default=None), "--contracts"
    try:
        if value is None:
            value, source = contracts_setting(Path(str(config.invocation_params.dir)))
        use_contracts(value, source)
    except ApiconformError as exc:
        if value is not None:
            raise pytest.UsageError(str(exc)) from None  # a bad config file is reported where it is used


@dataclass
class _State:
    """What this plugin keeps for one pytest session (in `config.stash`)."""

    started: float
    cases: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    empty: set[str] = field(default_factory=set)  # parametrised tests with nothing to run


_STATE = pytest.StashKey[_State]()
_LEDGER = pytest.StashKey["tempfile.TemporaryDirectory[str]"]()
_LEDGER_INPUT = "apiconform_ledger_dir"


def pytest_configure(config: pytest.Config) -> None:
    _use_contracts(config)
    _check_selection(config)
    for category in Category:
        config.addinivalue_line("markers", f"{category.marker}: checks {CATEGORY_DESCRIPTIONS[category]}")
        if category.marker_alias != category.marker:
            config.addinivalue_line("markers", f"{category.marker_alias}: same as {category.marker}")
    from apiconform.engine import SUITES

    for suite in SUITES:
        config.addinivalue_line("markers", f"suite_{suite}: the {suite} suite")
    config.stash[_STATE] = _State(started=time.time())
    if not hasattr(config, "workerinput") and _has_live_targets(config):
        # this controller owns the run's shared budget/rate ledger; xdist workers are handed it (pytest_configure_node)
        config.stash[_LEDGER] = tempfile.TemporaryDirectory(prefix="apiconform-run-")
    if not hasattr(config, "workerinput") and config.getoption("--target", default=None):
        _check_live_targets(config)


def _check_selection(config: pytest.Config) -> None:
    """Every vendor, target, drift, fault, operation and shard named on the command line exists: one usage
    error line before collection (as `apiconform run` says it), not one traceback per suite module."""
    from apiconform.engine import check_selection
    from apiconform.errors import ApiconformError

    try:
        o = run_options(config)
        check_selection(o.vendors, o.targets, o.drifts, o.faults, o.operations, o.shard)
    except ApiconformError as exc:
        raise pytest.UsageError(str(exc)) from None


def _check_live_targets(config: pytest.Config) -> None:
    """Every `--target` can be built (known vendor, URL, credentials in the environment) before any test is
    collected: one usage error up front instead of one failing test per operation."""
    from apiconform.config import load_config
    from apiconform.engine import target_from_config
    from apiconform.errors import ApiconformError

    known = list_vendors()
    try:
        settings = load_config(Path(str(config.invocation_params.dir)))
        for vendor, url in live_overrides(config).items():
            if vendor not in known:
                raise pytest.UsageError(f"--target names unknown vendor {vendor!r} (known vendors: {', '.join(known)})")
            o = run_options(config)
            target_from_config(vendor, settings, base_url=url, allow_writes=o.allow_writes,
                               max_requests=o.max_requests, rate=o.rate, writes=o.writes)
    except ApiconformError as exc:
        raise pytest.UsageError(str(exc)) from None


def _has_live_targets(config: pytest.Config) -> bool:
    from apiconform.config import load_config
    from apiconform.errors import ApiconformError

    if config.getoption("--target", default=None):
        return True
    try:
        return bool(load_config(Path(str(config.invocation_params.dir))).targets)
    except ApiconformError:
        return False


def pytest_unconfigure(config: pytest.Config) -> None:
    from apiconform.contracts import use_contracts

    use_contracts(None)
    ledger = config.stash.get(_LEDGER, None)
    if ledger is not None:
        ledger.cleanup()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: each worker is handed the run's ledger directory (its options, not the environment)."""
    node.workerinput[_LEDGER_INPUT] = _ledger_dir(node.config)


def _ledger_dir(config: pytest.Config) -> str | None:
    """The run's budget/rate ledger: the controller's own, or the one a pytest-xdist worker was handed."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return workerinput.get(_LEDGER_INPUT)  # type: ignore[no-any-return]
    ledger = config.stash.get(_LEDGER, None)
    return ledger.name if ledger is not None else None


# --- configuration -------------------------------------------------------------------------------------
def selected_vendors(config: pytest.Config) -> list[str]:
    from apiconform.errors import UsageError

    known = list_vendors()
    chosen = run_options(config).vendors or known
    for vendor in chosen:
        if vendor not in known:
            raise pytest.UsageError(str(UsageError(f"unknown vendor {vendor!r} (known vendors: {', '.join(known)})")))
    return chosen


def run_seed(config: pytest.Config) -> int:
    return int(run_options(config).seed)


def max_examples(config: pytest.Config) -> int:
    return int(run_options(config).examples)


# --- parametrisation -------------------------------------------------------------------------------------
def _shard(config: pytest.Config) -> tuple[int, int] | None:
    from apiconform.engine import parse_shard
    from apiconform.errors import UsageError

    try:
        return parse_shard(config.getoption("--shard"))
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise conformance tests (modules that declare a SUITE) with the engine's plan: the same work
    items, in the same order and shards, as `apiconform run` (one plan, one notion of "applies")."""
    from apiconform.engine import SUITES, plan

    if getattr(metafunc.module, "SUITE", None) not in SUITES:
        return

    config = metafunc.config
    name = metafunc.function.__name__
    only = set(run_options(config).operations) or None
    items = [i for i in plan(selected_vendors(config), operations=only, shard=_shard(config)) if i.test == name]
    fixture = "operation" if "operation" in metafunc.fixturenames else "resource"
    if fixture not in metafunc.fixturenames:
        return
    params = [(i.vendor, i.subject) for i in items]
    _note_empty(metafunc, params)
    metafunc.parametrize(fixture, params, ids=[f"{v}-{s}" for v, s in params], indirect=True)


def _note_empty(metafunc: pytest.Metafunc, params: list[Any]) -> None:
    """Remember a test with nothing to run (no operation selected, or none in this shard): pytest would
    collect it as one skipped `[NOTSET]` item, so a selection matching nothing would pass instead of exit 5."""
    if not params:
        metafunc.config.stash[_STATE].empty.add(metafunc.definition.nodeid)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Category markers (`pytest -m enum`) from the registered suite test, suite markers from its suite; empty
    parametrisations deselected."""
    from apiconform.engine import SUITES, TESTS

    empty = config.stash[_STATE].empty
    if empty:
        dropped = [item for item in items if item.nodeid.split("[", 1)[0] in empty]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item.nodeid.split("[", 1)[0] not in empty]
    for item in items:
        suite = getattr(item.module, "SUITE", None) if hasattr(item, "module") else None
        if suite in SUITES:
            item.add_marker(getattr(pytest.mark, f"suite_{suite}"))
            name = getattr(item, "originalname", item.name)
            tests = [t for t in TESTS if t.name == name] or [t for t in TESTS if t.suite == suite]
            categories = list(dict.fromkeys(c for t in tests for c in t.categories))
            if "-list_" not in item.nodeid and "pagination" not in item.name:  # only list operations paginate
                categories = [c for c in categories if c is not Category.PAGINATION]
            for category in categories:
                item.add_marker(getattr(pytest.mark, category.marker))
                if category.marker_alias != category.marker:
                    item.add_marker(getattr(pytest.mark, category.marker_alias))


# --- fixtures ------------------------------------------------------------------------------------------------
def engine_options(config: pytest.Config) -> Any:
    """The engine's options for this pytest session: one definition of targets, drifts, faults, budget and seed."""
    from dataclasses import replace

    return replace(run_options(config), vendors=selected_vendors(config))


def live_overrides(config: pytest.Config) -> dict[str, str | None]:
    """`--target VENDOR=URL` (URL) and `--target VENDOR` (None: its configured base_url)."""
    return dict(run_options(config).targets)


def reproduce_options(config: pytest.Config) -> list[str]:
    """The options that decide what a run sends and judges, as given: reproduce commands carry them all."""
    from apiconform._options import split_csv

    args: list[str] = []
    for option in ("--vendor", "--target", "--drift", "--fault", "--operation"):
        args += [f"{option}={value}" for value in split_csv(config.getoption(option) or [])]
    for option in ("--live", "--allow-writes"):
        if config.getoption(option):
            args.append(option)
    if config.getoption("--writes"):
        args.append(f"--writes={config.getoption('--writes')}")
    for option in ("--max-examples", "--max-requests", "--rate"):
        if config.getoption(option) is not None:
            args.append(f"{option}={config.getoption(option)}")
    args.append(f"--seed={run_seed(config)}")
    return args


def build_target(config: pytest.Config, vendor: str) -> Target:
    """The vendor's target: `--target VENDOR[=URL]` / `--live` configured target, else its embedded mock."""
    from apiconform.engine import Sessions

    return Sessions(engine_options(config)).build_target(vendor)


@pytest.fixture(scope="session")
def apiconform_sessions(request: pytest.FixtureRequest) -> Iterator[Sessions]:
    from apiconform.engine import Sessions

    sessions = Sessions(engine_options(request.config))
    yield sessions
    try:
        reports = sessions.cleanup()  # what the run created on live targets, deleted; the rest listed
    finally:
        sessions.close()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for report in reports:
        for entry in report.left_behind:
            line = f"apiconform: left behind on {entry.vendor} (remove by hand): {entry.operation} id={entry.id} {entry.url} ({entry.reason})"
            if reporter is not None:
                reporter.write_line(line, yellow=True)


@pytest.fixture
def operation(request: pytest.FixtureRequest, apiconform_sessions: Sessions) -> Iterator[tuple[Session, Discovery, Operation]]:
    """(session, discovery, Operation) for the parametrised vendor operation."""
    vendor, label = request.param
    session, discovery, owned = apiconform_sessions.for_item(vendor)
    yield session, discovery, session.target.contract.operations[label]
    if owned is not None:
        owned.close()


@pytest.fixture
def resource(request: pytest.FixtureRequest, apiconform_sessions: Sessions) -> Iterator[tuple[Session, Discovery, str]]:
    vendor, name = request.param
    session, discovery, owned = apiconform_sessions.for_item(vendor)
    yield session, discovery, name
    if owned is not None:
        owned.close()


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """A per-test seed derived from the run seed and the test id: reproducible and independent of order."""
    from apiconform.engine import item_seed

    # the test's name, `test_fn[vendor-subject]`, is the engine's WorkItem.key: same seed whoever runs it
    return item_seed(run_seed(request.config), request.node.name)


@pytest.fixture
def examples_per_operation(request: pytest.FixtureRequest) -> int:
    """Generated cases per operation; the negative suite uses half (its cases are costlier to generate
    and each kind of invalidity needs only a few to be shown)."""
    from apiconform.engine import suite_examples

    return suite_examples(str(getattr(request.module, "SUITE", "")), max_examples(request.config))


@pytest.fixture
def conform(request: pytest.FixtureRequest) -> Callable[[Recorder], None]:
    """Report a CaseResult: record it, label it for Allure, then pass, skip or fail the test."""

    def report(recorder: Recorder) -> None:
        from apiconform.report import root_cause
        from apiconform.runrecord import case_to_dict

        result: CaseResult = recorder.result()
        request.node.user_properties.append((_CASE_KEY, json.dumps(case_to_dict(result))))
        obs = {"coverage": recorder.record.coverage, "shapes": recorder.record.shapes,
               "notes": recorder.notes, "requests": recorder.requests}
        request.node.user_properties.append((_OBS_KEY, json.dumps(obs)))
        _allure(request, result, recorder)
        if result.skipped:
            pytest.skip(result.skipped)
        if result.findings:
            lines = [f"{len(result.findings)} finding(s) for {result.vendor} {result.operation} ({result.suite}):"]
            for f in result.findings[:20]:
                lines.append(f"  [{f.category.value}] {f.code} {f.check}: {f.message}")
                lines.append(f"      root cause: {root_cause(f)}")
                if f.curl:
                    lines.append(f"      reproduce: {f.curl}")
            lines.append(f"  rerun: {_pytest_command(request)}")
            pytest.fail("\n".join(lines), pytrace=False)

    return report


@pytest.fixture
def apiconform_traffic(request: pytest.FixtureRequest) -> Any:
    """Judge and record every exchange of the test's own httpx client: `transport = apiconform_traffic.transport(
    "VENDOR")`, then `httpx.Client(base_url=..., transport=transport)`. When the test ends, its findings (and
    requests the contract has no operation for) fail it; with `--traffic-dir DIR` the recording is written as
    DIR/<test>-<vendor>.har (redacted), for `apiconform fidelity`."""
    from apiconform.traffic import ClientTraffic

    folder = request.config.getoption("--traffic-dir", None)
    traffic = ClientTraffic(request.node.name, Path(folder) if folder else None)
    yield traffic
    traffic.save()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A test whose client traffic (`apiconform_traffic`) had findings fails, with them as its reason."""
    report = yield
    traffic = getattr(item, "funcargs", {}).get("apiconform_traffic")
    if call.when == "call" and report.passed and traffic is not None and traffic.failures():
        failures = traffic.failures()
        report.outcome = "failed"
        report.longrepr = f"{len(failures)} finding(s) in the client's traffic:\n  " + "\n  ".join(failures[:20])
    return report


def _allure(request: pytest.FixtureRequest, result: CaseResult, recorder: Recorder | None) -> None:
    """Allure labels: epic = vendor, feature = operation, story = category; repro material attached."""
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest is a dependency
        return
    allure.dynamic.epic(result.vendor)
    allure.dynamic.feature(result.operation)
    allure.dynamic.suite(result.suite)
    categories = sorted({f.category.value for f in result.findings} or {c.value for c in result.categories})
    for category in categories:
        allure.dynamic.story(category)
    severity = min((f.severity.value for f in result.findings), default="normal",
                   key=lambda s: ["blocker", "critical", "normal", "minor"].index(s))
    allure.dynamic.severity(allure.severity_level(severity))
    allure.dynamic.parameter("seed", run_seed(request.config))
    for finding in result.findings[:10]:
        allure.attach(json.dumps(finding.to_dict(), indent=2, default=str), name=f"{finding.category.value}: {finding.check}",
                      attachment_type=allure.attachment_type.JSON)
        if finding.curl:
            allure.attach(finding.curl, name="reproduce (curl)", attachment_type=allure.attachment_type.TEXT)
    if recorder is not None and recorder.sample is not None:
        allure.attach(json.dumps(recorder.sample, indent=2, default=str), name="request / response (redacted)",
                      attachment_type=allure.attachment_type.JSON)
    allure.attach(_pytest_command(request), name="reproduce (pytest)", attachment_type=allure.attachment_type.TEXT)


def _pytest_command(request: pytest.FixtureRequest) -> str:
    """The pytest command that reruns exactly this test: its file, node, and every option that shaped it."""
    import shlex

    from apiconform.engine import scrub_arg
    from apiconform.redact import Redactor

    scrub = Redactor(())
    node = request.node.nodeid.split("::", 1)
    path = Path(str(request.node.fspath))
    try:
        shown = str(path.relative_to(Path(str(request.config.invocation_params.dir))))
    except ValueError:
        shown = str(path)
    parts = ["pytest", f"{shown}::{node[1]}" if len(node) > 1 else shown]
    parts += [scrub_arg(scrub, a) for a in reproduce_options(request.config)]
    return " ".join(shlex.quote(p) for p in parts)


# --- collecting results (controller side) ------------------------------------------------------------------------
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.when == "setup" and report.skipped):
        return
    config = _CONFIG.get("config")
    if config is None:
        return
    for key, value in report.user_properties:
        if key == _CASE_KEY:
            config.stash[_STATE].cases.append(json.loads(str(value)))
        elif key == _OBS_KEY:
            config.stash[_STATE].observations.append(json.loads(str(value)))


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not config.getoption("--apiconform-record"):
        return
    from dataclasses import replace

    from apiconform.engine import build_record
    from apiconform.report import write_reports
    from apiconform.runrecord import case_from_dict

    state = config.stash[_STATE]
    options = replace(engine_options(config), argv=[str(a) for a in config.invocation_params.args])
    started = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(state.started))
    record = build_record(options, options.vendors, [case_from_dict(d) for d in state.cases], state.observations,
                          started, time.time() - state.started)
    reports_dir = Path(options.reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    record.write(reports_dir / "run.json")
    write_reports(record, reports_dir)



__all__ = ["build_target", "os"]
