"""Contracts: load, resolve, index operations and compile schemas once (pipeline stage 1)."""

from apiconform.contracts._check import CheckResult, Problem, check_contract
from apiconform.contracts._loader import (
    BUNDLED_DIR,
    contract_path,
    contract_roots,
    contracts_dir,
    list_vendors,
    load_contract,
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
    pointer,
)
from apiconform.contracts._walk import Slot, items_of, properties_of, record_id, set_record_id, slots

__all__ = [
    "ACTIONS",
    "ERROR_KINDS",
    "EXAMPLE_ERROR_EXTENSION",
    "CheckResult",
    "Contract",
    "MediaSpec",
    "Operation",
    "Problem",
    "ResponseSpec",
    "Slot",
    "check_contract",
    "contract_path",
    "BUNDLED_DIR",
    "contract_roots",
    "contracts_dir",
    "use_contracts",
    "vendor_contract",
    "declared_error_kinds",
    "items_of",
    "list_vendors",
    "load_contract",
    "pointer",
    "properties_of",
    "record_id",
    "set_record_id",
    "slots",
]
