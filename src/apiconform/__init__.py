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
(the embedded vendor mocks), `engine` (generate, send, judge, check; no pytest), `runrecord` (the run
record), `report` (every writer), `gate` (verdict, waivers, compare, diff, the `apiconform run` pipeline), `cli`, and
`pytest` (the plugin: one consumer of the engine). Modules prefixed with `_` are private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apiconform._lazy import defer_httpx_cli, lazy_attributes, lazy_dir

__version__ = "0.1.0"

defer_httpx_cli()

_LAZY = {
    "Engine": "apiconform.engine",
    "EngineOptions": "apiconform.engine",
    "WorkItem": "apiconform.engine",
    "RunStarted": "apiconform.engine",
    "CaseFinished": "apiconform.engine",
    "RunFinished": "apiconform.engine",
    "RunRecord": "apiconform.runrecord",
    "load_run": "apiconform.runrecord",
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
    "run": "apiconform._api",
}

if TYPE_CHECKING:
    from apiconform._api import run
    from apiconform.contracts import Contract, Operation, check_contract, list_vendors, load_contract
    from apiconform.engine import CaseFinished, Engine, EngineOptions, RunFinished, RunStarted, WorkItem, replay
    from apiconform.errors import ApiconformError, ConfigError, ContractError, TargetUnavailable, UsageError
    from apiconform.findings import CaseResult, Category, Finding
    from apiconform.gate import evaluate
    from apiconform.runrecord import RunRecord, load_run


__getattr__ = lazy_attributes(globals(), _LAZY, __name__)
__dir__ = lazy_dir(globals(), _LAZY)


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
