"""What a run selects, checked before anything is generated or sent: vendors, targets, drifts, faults, operations
and the shard. One implementation for every consumer (`apiconform run`, the pytest plugin, `apiconform.run()`),
so a typo is one `UsageError` line wherever it was typed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from apiconform.contracts import list_vendors
from apiconform.errors import ApiconformError, UsageError

__all__ = ["check_operations", "check_selection", "did_you_mean", "quick_operation_ids", "strip_vendor"]


def did_you_mean(typed: str, known: Iterable[str]) -> str:
    """"did you mean X? " for a near miss (difflib), else ""."""
    import difflib

    close = difflib.get_close_matches(typed, list(known), n=3, cutoff=0.6)
    return f"did you mean {', '.join(close)}? " if close else ""


_OPERATION_ID = re.compile(r"^\s*operationId:\s*['\"]?([^'\"\s#]+)", re.M)


def quick_operation_ids(vendor: str) -> set[str]:
    """The operationIds of a vendor's contract read off its text (milliseconds; no YAML parse, no lint),
    so an `--operation` typo fails before anything is loaded or generated."""
    from apiconform.contracts import contract_path

    try:
        return set(_OPERATION_ID.findall(contract_path(vendor).read_text(encoding="utf-8")))
    except (ApiconformError, OSError, UnicodeDecodeError):
        return set()


def check_operations(operations: list[str], vendors: list[str]) -> None:
    """Every `--operation` names an operationId of one of the selected vendors (exit 2 with close matches)."""
    if not operations:
        return
    ids = {vendor: quick_operation_ids(vendor) for vendor in vendors}
    if not all(ids.values()):
        return  # a contract whose operations cannot be read off its text: the plan decides
    every = sorted(set().union(*ids.values()))
    for operation in operations:
        if operation in every or re.match(r"^[A-Z]+ /", operation):
            continue
        shown = ", ".join(vendors) if len(vendors) <= 3 else f"{len(vendors)} vendors"
        listing = ", ".join(every[:8]) + (f", ... ({len(every)} in all)" if len(every) > 8 else "")
        raise UsageError(f"--operation {operation!r}: no such operationId in {shown} "
                         f"({did_you_mean(operation, every)}known: {listing})")


def strip_vendor(values: list[str], vendors: list[str]) -> list[str]:
    """`VENDOR:NAME` -> `NAME` (the name alone is what the drift and fault registries know)."""
    from apiconform.engine import vendor_items

    return [name for _, name in vendor_items(values, vendors) if name]


def check_selection(vendors: list[str], targets: Iterable[str] = (), drifts: list[str] | None = None,
                    faults: list[str] | None = None, operations: list[str] | None = None,
                    shard: str | None = None) -> list[str]:
    """Every name a run was given exists; returns the vendors it selects (all when none are named). The mock's
    registries are imported only to check drift and fault names (a live run names none: no mock import)."""
    known = list_vendors()
    for vendor in vendors:
        if vendor not in known:
            raise UsageError(f"unknown vendor {vendor!r} ({did_you_mean(vendor, known)}known vendors: {', '.join(known)})")
    for vendor in targets:
        if vendor not in known:
            raise UsageError(f"--target names unknown vendor {vendor!r} ({did_you_mean(vendor, known)}"
                             f"known vendors: {', '.join(known)})")
    selected = list(vendors) or known
    check_operations(list(operations or []), selected)
    if drifts:
        from apiconform.mock.drifts import resolve_drifts

        resolve_drifts(strip_vendor(list(drifts), known))
    if faults:
        from apiconform.mock.faults import wrap_faults

        async def _nothing(scope: dict[str, Any], receive: Any, send: Any) -> None:
            return None

        wrap_faults(_nothing, strip_vendor(list(faults), known))
    if shard is not None:
        from apiconform.engine import parse_shard

        parse_shard(shard)
    return selected
