"""Validation of every numeric and boolean safety setting, the same for the CLI and the configuration.

A live vendor's protection must never depend on a typo: `allow_writes = "false"` (a string) is an error,
not "true"; `--rate nan` or `-5` is an error, not "no pacing"; `max_requests = 0.4` is an error, not 0.
"""

from __future__ import annotations

import math
import os
from typing import Any

from apiconform.errors import ConfigError

#: name -> (kind, minimum, maximum, unit/explanation)
LIMITS: dict[str, tuple[str, float, float, str]] = {
    "max_requests": ("int", 1, 1_000_000, "requests"),
    "rate": ("number", 0.01, 10_000, "requests per second"),
    "connect_timeout": ("number", 0.01, 600, "seconds"),
    "read_timeout": ("number", 0.01, 600, "seconds"),
    "request_deadline": ("number", 0.01, 3600, "seconds"),
    "max_retry_after": ("number", 0, 600, "seconds"),
    "max_body_mb": ("number", 0.0625, 1024, "MiB (at least 64 KiB, so a normal answer fits)"),
}
BOOLEANS = ("allow_writes",)


def check_setting(name: str, value: Any, where: str) -> Any:
    """The value if it is valid for `name`, else a ConfigError naming `where` (file + key, or CLI option)."""
    if name in BOOLEANS:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false (a boolean, not {type(value).__name__}), got {value!r}")
        return value
    kind, low, high, unit = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: expected a {'whole ' if kind == 'int' else ''}number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    if kind == "int" and (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{where}: expected a whole number of {unit}, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{where}: {value!r} is out of range ({low:g} to {high:g} {unit})")
    return int(value) if kind == "int" else float(value)


def check_target_spec(spec: dict[str, Any], where: str) -> None:
    """Every numeric/boolean key of one `[targets.VENDOR]` table."""
    for name in (*LIMITS, *BOOLEANS):
        if name in spec:
            check_setting(name, spec[name], f"{where}.{name}")
    for name in ("allowed_writes", "redact"):
        if name in spec and (not isinstance(spec[name], list) or not all(isinstance(v, str) for v in spec[name])):
            raise ConfigError(f"{where}.{name}: expected a list of strings, got {spec[name]!r}")


def check_cli(max_requests: Any = None, rate: Any = None) -> None:
    """The command-line overrides (`--max-requests`, `--rate`), with the same rules as the configuration."""
    if max_requests is not None:
        check_setting("max_requests", max_requests, "--max-requests")
    if rate is not None:
        check_setting("rate", rate, "--rate")


def check_url(url: str, where: str) -> str:
    """A well-formed absolute http(s) URL with a host, else one ConfigError line (never printing credentials)."""
    import httpx

    from apiconform.redact import Redactor

    shown = Redactor(()).url(url) if "://" in url else url
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: malformed URL {shown!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"{where}: expected an http(s) URL with a host, got {shown!r}")
    return url


def check_reports_dir(path: os.PathLike[str] | str) -> None:
    """The reports directory exists (or can be created) and is writable - checked before any request."""
    import tempfile
    from pathlib import Path

    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".apiconform-write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"--reports-dir {directory}: not writable ({exc.strerror or exc})") from None
