"""apiconform: contract-testing conformance suite for third-party HTTP APIs.

The public Python API (imported lazily, so `apiconform --help` stays fast)::

    import apiconform

    record = apiconform.run(["eduframe"], drifts=["enum-value-changed"], max_examples=5)
    for finding in record.findings:
        print(finding.vendor, finding.operation, finding.category.value, finding.message)

    engine = apiconform.Engine(apiconform.EngineOptions(vendors=["goodstack"]))
    for event in engine.events():      # RunStarted, CaseFinished..., RunFinished(record)
        ...

Packages by pipeline stage: `contracts` (load, model, validate), `auth` (one module per flow), `mock`
(the embedded vendor mocks), `engine` (generate, send, judge, check; no pytest), `report` (the run record
and every writer), `gate` (verdict, waivers, compare, diff, the `apiconform run` pipeline), `cli`, and
`pytest` (the plugin: one consumer of the engine). Modules prefixed with `_` are private.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from apiconform._lazy import lazy_attributes, lazy_dir

__version__ = "0.1.0"

_LAZY = {
    "Engine": "apiconform.engine",
    "EngineOptions": "apiconform.engine",
    "WorkItem": "apiconform.engine",
    "RunStarted": "apiconform.engine",
    "CaseFinished": "apiconform.engine",
    "RunFinished": "apiconform.engine",
    "RunRecord": "apiconform.report",
    "load_run": "apiconform.report",
    "replay": "apiconform.engine._replay",
    "Finding": "apiconform.findings",
    "Category": "apiconform.findings",
    "CaseResult": "apiconform.findings",
    "Contract": "apiconform.contracts",
    "Operation": "apiconform.contracts",
    "check_contract": "apiconform.contracts",
    "list_vendors": "apiconform.contracts",
    "load_contract": "apiconform.contracts",
    "evaluate": "apiconform.gate",
    "ApiconformError": "apiconform.errors",
    "ConfigError": "apiconform.errors",
    "ContractError": "apiconform.errors",
    "TargetUnavailable": "apiconform.errors",
    "UsageError": "apiconform.errors",
}

if TYPE_CHECKING:
    from apiconform.contracts import Contract, Operation, check_contract, list_vendors, load_contract
    from apiconform.engine import CaseFinished, Engine, EngineOptions, RunFinished, RunStarted, WorkItem
    from apiconform.engine._replay import replay
    from apiconform.errors import ApiconformError, ConfigError, ContractError, TargetUnavailable, UsageError
    from apiconform.findings import CaseResult, Category, Finding
    from apiconform.gate import evaluate
    from apiconform.report import RunRecord, load_run


__getattr__ = lazy_attributes(globals(), _LAZY, __name__)
__dir__ = lazy_dir(globals(), _LAZY)


def run(
    vendors: list[str] | None = None,
    *,
    targets: dict[str, str | None] | None = None,
    live: bool = False,
    suites: list[str] | None = None,
    operations: list[str] | None = None,
    drifts: list[str] | None = None,
    faults: list[str] | None = None,
    max_examples: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    allow_writes: bool = False,
    max_requests: int | None = None,
    rate: float | None = None,
    contracts: str | os.PathLike[str] | None = None,
) -> RunRecord:
    """Run the conformance suites and return the run record (no reports written, no exit code decided:
    pass the record to `apiconform.evaluate` for the gate's verdict). Embedded mocks unless `targets`.

    `contracts` is a team's contracts folder (as `--contracts DIR`): its vendors join the bundled ones.
    A wrong name, option or configuration raises one `ApiconformError` (its message is one line) before
    anything is sent."""
    from apiconform.contracts._loader import _TEAM_DIR, use_contracts
    from apiconform.engine import SUITES, Engine, EngineOptions
    from apiconform.engine._selection import check_selection
    from apiconform.errors import UsageError

    previous = list(_TEAM_DIR)
    if contracts is not None:
        use_contracts(contracts, "contracts=")
    try:
        chosen = check_selection(list(vendors or []), dict(targets or {}), list(drifts or []), list(faults or []),
                                 list(operations or []))
        unknown = [s for s in suites or () if s not in SUITES]
        if unknown:
            raise UsageError(f"unknown suite {unknown[0]!r} (known: {', '.join(SUITES)})")
        options = EngineOptions(
            vendors=chosen if vendors else [], suites=list(suites or SUITES), operations=list(operations or []),
            targets=dict(targets or {}), live=live, drifts=list(drifts or []), faults=list(faults or []),
            max_examples=max_examples, seed=seed, allow_writes=allow_writes,
            max_requests=max_requests, rate=rate,
        )
        if workers is not None:
            options.workers = workers
        record: RunRecord = Engine(options).run()
    finally:
        _TEAM_DIR[:] = previous
    return record


__all__ = [
    "ApiconformError",
    "CaseFinished",
    "CaseResult",
    "Category",
    "ConfigError",
    "Contract",
    "ContractError",
    "Engine",
    "EngineOptions",
    "Finding",
    "Operation",
    "RunFinished",
    "RunRecord",
    "RunStarted",
    "TargetUnavailable",
    "UsageError",
    "WorkItem",
    "__version__",
    "check_contract",
    "evaluate",
    "list_vendors",
    "load_contract",
    "load_run",
    "replay",
    "run",
]
