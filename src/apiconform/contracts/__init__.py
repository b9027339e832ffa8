"""Contracts: load, resolve, index operations and compile schemas once (pipeline stage 1)."""

from typing import TYPE_CHECKING, Any

from apiconform.contracts._content import asserted as content_asserted
from apiconform.contracts._content import encode as content_encode
from apiconform.contracts._content import encoding_of as content_encoding_of
from apiconform.contracts._content import is_json_media as content_is_json
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
from apiconform.contracts._limits import loads_bounded
from apiconform.contracts._loader import (
    BUNDLED_DIR,
    CONTRACT_FILE,
    contract_path,
    contract_roots,
    contracts_dir,
    list_vendors,
    load_contract,
    read_document,
    team_contracts,
    team_contracts_args,
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
    format_checker,
    path_value,
)
from apiconform.contracts._pointer import assign, escape, pointer, resolve, split, walk
from apiconform.contracts._stamp import TEAM_STAMP, write_team_stamp
from apiconform.contracts._validate import (  # after the model: it builds on Contract and Operation
    JSON_MEDIA,
    Violation,
    WireRequest,
    coerce,
    content_encoded_examples,
    from_httpx,
    validate_request,
)
from apiconform.contracts._walk import (
    Slot,
    carries_requests,
    items_of,
    marks_write_only,
    properties_of,
    record_id,
    set_record_id,
    slots,
    without_write_only,
    write_only,
)

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
    "CONTRACT_FILE",
    "DEFAULT_ENVELOPE",
    "ERROR_KINDS",
    "EXAMPLE_ERROR_EXTENSION",
    "IDEMPOTENCY_EXTENSION",
    "JSON_MEDIA",
    "PAGINATION_EXTENSION",
    "PAGINATION_STYLES",
    "TEAM_STAMP",
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
    "Violation",
    "WireRequest",
    "assign",
    "carries_requests",
    "check_contract",
    "coerce",
    "content_asserted",
    "content_encode",
    "content_encoded_examples",
    "content_encoding_of",
    "content_is_json",
    "contract_path",
    "contract_roots",
    "contracts_dir",
    "declared_error_kinds",
    "echo_pairs",
    "escape",
    "fill_path",
    "format_checker",
    "from_httpx",
    "items_of",
    "list_vendors",
    "load_contract",
    "loads_bounded",
    "marks_write_only",
    "path_value",
    "pointer",
    "properties_of",
    "read_document",
    "record_id",
    "resolve",
    "set_record_id",
    "slots",
    "split",
    "team_contracts",
    "team_contracts_args",
    "use_contracts",
    "validate_request",
    "vendor_contract",
    "walk",
    "without_write_only",
    "write_only",
    "write_team_stamp",
]
