"""Contracts: load, resolve, index operations and compile schemas once (pipeline stage 1)."""

from typing import TYPE_CHECKING, Any

from apiconform.contracts._extensions import (
    DEFAULT_ENVELOPE,
    IDEMPOTENCY_EXTENSION,
    PAGINATION_EXTENSION,
    PAGINATION_STYLES,
    Envelope,
    Idempotency,
    Pagination,
    PaginationStyle,
)
from apiconform.contracts._loader import (
    BUNDLED_DIR,
    contract_path,
    contract_roots,
    contracts_dir,
    list_vendors,
    load_contract,
    team_contracts,
    use_contracts,
    vendor_contract,
)
from apiconform.contracts._model import (
    ACTIONS,
    ERROR_KINDS,
    EXAMPLE_ERROR_EXTENSION,
    Contract,
    MediaSpec,
    Operation,
    ResponseSpec,
    declared_error_kinds,
    echo_pairs,
    fill_path,
    path_value,
)
from apiconform.contracts._pointer import pointer
from apiconform.contracts._walk import Slot, items_of, properties_of, record_id, set_record_id, slots

if TYPE_CHECKING:
    from apiconform.contracts._check import CheckResult, Problem, check_contract


def __getattr__(name: str) -> Any:
    """The lint (`check_contract`) pulls in openapi-spec-validator: imported only when used."""
    if name in ("CheckResult", "Problem", "check_contract"):
        from apiconform.contracts import _check

        return getattr(_check, name)
    raise AttributeError(f"module 'apiconform.contracts' has no attribute {name!r}")


__all__ = [
    "ACTIONS",
    "BUNDLED_DIR",
    "DEFAULT_ENVELOPE",
    "ERROR_KINDS",
    "EXAMPLE_ERROR_EXTENSION",
    "IDEMPOTENCY_EXTENSION",
    "PAGINATION_EXTENSION",
    "PAGINATION_STYLES",
    "CheckResult",
    "Contract",
    "Envelope",
    "Idempotency",
    "MediaSpec",
    "Operation",
    "Pagination",
    "PaginationStyle",
    "Problem",
    "ResponseSpec",
    "Slot",
    "check_contract",
    "contract_path",
    "contract_roots",
    "contracts_dir",
    "declared_error_kinds",
    "echo_pairs",
    "fill_path",
    "items_of",
    "list_vendors",
    "load_contract",
    "path_value",
    "pointer",
    "properties_of",
    "record_id",
    "set_record_id",
    "slots",
    "team_contracts",
    "use_contracts",
    "vendor_contract",
]
