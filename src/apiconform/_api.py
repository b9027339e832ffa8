"""`apiconform.run()`: the Python API of a run. Its keywords are the run parameters the engine's options declare
for the ``api`` surface (`apiconform._options`); its signature is built from them, so `help(apiconform.run)` and
`inspect.signature` show every keyword with its default."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from apiconform._options import declared
from apiconform.engine import SUITES, Engine, EngineOptions

if TYPE_CHECKING:
    from apiconform.runrecord import RunRecord


def run(vendors: list[str] | None = None, **options: Any) -> RunRecord:
    """Run the conformance suites and return the run record (no reports written, no exit code decided:
    pass the record to `apiconform.evaluate` for the gate's verdict). Embedded mocks unless `targets`.

    The keywords are `EngineOptions`' run parameters (the same as `apiconform run`'s options, with the same
    defaults): `contracts` is a team's contracts folder (as `--contracts DIR`), its vendors join the bundled ones.
    A wrong name, option or configuration raises one `ApiconformError` (its message is one line) before
    anything is sent."""
    from apiconform.contracts import team_contracts
    from apiconform.engine import check_selection
    from apiconform.errors import UsageError

    known = [item.name for item in declared(EngineOptions, "api")]
    for name in options:
        if name not in known:
            raise UsageError(f"apiconform.run: unknown keyword {name!r} (known: {', '.join(known)})")
    given = EngineOptions(**{name: value for name, value in options.items() if value is not None})  # None: the default
    with team_contracts(given.contracts, "contracts="):
        chosen = check_selection(list(vendors or []), dict(given.targets), list(given.drifts), list(given.faults),
                                 list(given.operations))
        unknown = [s for s in given.suites if s not in SUITES]
        if unknown:
            raise UsageError(f"unknown suite {unknown[0]!r} (known: {', '.join(SUITES)})")
        given.vendors = chosen if vendors else []
        record: RunRecord = Engine(given).run()
    return record


def _signature() -> inspect.Signature:
    """`run(vendors=[], *, KEYWORD=DEFAULT...)`, from the declarations (vendors first)."""
    params = [inspect.Parameter(item.name, inspect.Parameter.POSITIONAL_OR_KEYWORD if item.name == "vendors"
                                else inspect.Parameter.KEYWORD_ONLY, default=item.default, annotation=item.annotation)
              for item in declared(EngineOptions, "api")]
    return inspect.Signature(params, return_annotation="RunRecord")


run.__signature__ = _signature()  # type: ignore[attr-defined]

__all__ = ["run"]
