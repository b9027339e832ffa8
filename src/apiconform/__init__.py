"""apiconform: contract-testing conformance suite for third-party HTTP APIs.

The public surface is re-exported here; submodules prefixed with `_` are private.
"""

from .contracts import Contract, Operation, check_contract, list_vendors, load_contract
from .errors import ApiconformError, ConfigError, ContractError, TargetUnavailable, UsageError

__version__ = "0.1.0"

__all__ = [
    "ApiconformError",
    "ConfigError",
    "Contract",
    "ContractError",
    "Operation",
    "TargetUnavailable",
    "UsageError",
    "__version__",
    "check_contract",
    "list_vendors",
    "load_contract",
]
