"""Errors a user can act on. Each renders as one line and carries the process exit code."""

from __future__ import annotations

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "ApiconformError",
    "ConfigError",
    "ContractError",
    "TargetUnavailable",
    "UsageError",
]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 4  # SIGINT/SIGTERM: the run stopped early; its reports hold the cases that finished


class ApiconformError(Exception):
    """A problem the user can fix: printed as one line, never as a traceback."""

    exit_code: int = EXIT_USAGE


class UsageError(ApiconformError):
    """Unknown vendor, drift, fault or option value."""


class ContractError(ApiconformError):
    """A contract that cannot be read, parsed or resolved."""


class ConfigError(ApiconformError):
    """Invalid configuration or a missing credential variable."""


class TargetUnavailable(ApiconformError):
    """The target cannot be reached or rejects our credentials before any test ran."""

    exit_code = EXIT_UNREACHABLE
